"""The Criteria value: coercion, refusals that say what to change, presets files."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from writeoff_analytics import Criteria, CriteriaError, get_preset, load_presets
from writeoff_analytics.criteria.presets import criteria_from_preset
from writeoff_analytics.reasons import Reason


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"balance_type": "INSURANCE", "write_off_by": "ENCOUNTER", "responsibility": "SELF_PAY"},
         "responsibility", "responsibility SELF_PAY applies to PATIENT balances only; clear it"),
        ({"balance_type": "PATIENT", "write_off_by": "ENCOUNTER", "role": "PRIMARY"},
         "role", "role PRIMARY applies to INSURANCE balances only"),
        ({"balance_type": "INSURANCE", "write_off_by": "GUARANTOR"},
         "write_off_by", "write_off_by GUARANTOR does not apply to INSURANCE balances; use ENCOUNTER or PROCEDURE_LINE"),
        ({"balance_type": "INSURANCE", "write_off_by": "PATIENT"}, "write_off_by", "write_off_by PATIENT does not apply"),
        ({"balance_type": "PATIENT", "write_off_by": "PATIENT", "dos_from": "2026-05-01", "dos_to": "2026-04-01"},
         "dos_from", "dos_from 2026-05-01 is after dos_to 2026-04-01; swap or clear one"),
        ({"balance_type": "PATIENT", "write_off_by": "PATIENT", "min_age_days": 90, "max_age_days": 30},
         "min_age_days", "min_age_days 90 is more than max_age_days 30"),
        ({"balance_type": "PATIENT", "write_off_by": "PATIENT", "min_balance": "10", "max_balance": "5"},
         "min_balance", "min_balance 10.00 is more than max_balance 5.00"),
        ({"balance_type": "PATIENT", "write_off_by": "PATIENT", "min_balance": "-1.00"},
         "min_balance", "min_balance -1.00 is negative"),
        ({"balance_type": "PATIENT", "write_off_by": "PATIENT", "min_age_days": -3}, "min_age_days", "negative"),
        ({"balance_type": "PATIENT", "write_off_by": "PATIENT", "max_balance": 10.5}, "max_balance", "not the float"),
        ({"balance_type": "PATIENT", "write_off_by": "PATIENT", "max_balance": "10.005"}, "max_balance", "3 decimals"),
        ({"balance_type": "PATIENT", "write_off_by": "PATIENT", "financial_classes": ["MEDICAID", "GOLD"]},
         "financial_classes", "unknown financial class GOLD; known: AUTO, COMMERCIAL"),
        ({"balance_type": "PATIENT", "write_off_by": "HOUSEHOLD"}, "write_off_by", "unknown write off by HOUSEHOLD"),
        ({"balance_type": "BOTH", "write_off_by": "PATIENT"}, "balance_type", "unknown balance type BOTH"),
        ({"balance_type": "PATIENT", "write_off_by": "PATIENT", "dos_from": "05/01/2026"}, "dos_from", "write YYYY-MM-DD"),
    ],
)
def test_contradictions_are_refused_with_what_to_change(kwargs, field, message):
    with pytest.raises(CriteriaError) as info:
        Criteria(**kwargs)
    assert message in str(info.value)
    assert str(info.value).startswith("Criteria refused: ")
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


def test_text_is_coerced_to_exact_types():
    c = Criteria("patient", "procedure-line", responsibility="not responsible", payer_ids=("B", "A", "", "A"),
                 min_balance="1", dos_from="2026-01-01", min_age_days="30", deceased="true", financial_hardship=False)
    assert c.write_off_by.value == "PROCEDURE_LINE"
    assert c.payer_ids == frozenset({"A", "B"})
    assert c.min_balance == Decimal("1.00") and isinstance(c.min_balance, Decimal)
    assert c.dos_from == dt.date(2026, 1, 1)
    assert c.min_age_days == 30
    assert c.deceased is True and c.financial_hardship is None
    assert Criteria("PATIENT", "PATIENT", payer_ids=[]).payer_ids is None  # empty = unset


def test_round_trip_through_dict_and_replace_checks_again():
    c = criteria_from_preset("bad-debt", as_of="2026-11-01", payer_ids=["MCD01"])
    assert Criteria.from_dict(c.to_dict()) == c
    with pytest.raises(CriteriaError, match="min_age_days 180 is more than max_age_days 10"):
        c.replace(max_age_days=10)
    with pytest.raises(CriteriaError, match="unknown field"):
        Criteria.from_dict({"balance_type": "PATIENT", "write_off_by": "PATIENT", "colour": "red"})
    with pytest.raises(CriteriaError, match="write_off_by is required"):
        Criteria.from_dict({"balance_type": "PATIENT"})


def test_presets_match_criteria_md():
    presets = load_presets()
    assert presets["no-balance-billing"].criteria == Criteria("PATIENT", "ENCOUNTER", responsibility="NOT_RESPONSIBLE")
    assert presets["small-balance"].criteria == Criteria("PATIENT", "PATIENT", max_balance="10.00", min_age_days=90)
    assert presets["bad-debt"].criteria == Criteria("PATIENT", "ENCOUNTER", min_age_days=180, min_days_since_patient_payment=90)
    assert presets["deceased"].criteria == Criteria("PATIENT", "PATIENT", deceased=True)
    assert presets["hardship"].criteria == Criteria("PATIENT", "PATIENT", financial_hardship=True)
    assert presets["timely-filing"].criteria == Criteria("INSURANCE", "PROCEDURE_LINE", role="ALL", min_age_days=365)
    assert presets["hardship"].reason is Reason.FINANCIAL_HARDSHIP
    assert presets["hardship"].reason.needs_determination_reference
    assert presets["no-balance-billing"].reason.text.startswith("Patient not responsible: payer prohibits balance billing")


def test_users_add_presets_in_a_file_of_the_same_shape(tmp_path, monkeypatch):
    f = tmp_path / "mine.toml"
    f.write_text('[mcd-small]\nreason = "ADMINISTRATIVE"\n[mcd-small.criteria]\nbalance_type = "PATIENT"\n'
                 'write_off_by = "ENCOUNTER"\nfinancial_classes = ["MEDICAID"]\nmax_balance = "25.00"\n', encoding="utf-8")
    assert get_preset("mcd-small", f).criteria.max_balance == Decimal("25.00")
    monkeypatch.setenv("WRITEOFF_PRESETS", str(f))
    assert "mcd-small" in load_presets()
    with pytest.raises(CriteriaError, match=r"unknown preset nope; known: bad-debt, deceased, hardship, mcd-small"):
        get_preset("nope")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[small-balance]\n[small-balance.criteria]\nbalance_type = "PATIENT"\nwrite_off_by = "PATIENT"\n', "is a shipped preset"),
        ("[x]\nreason = 'SMALL_BALANCE'\n", "needs a [x.criteria] table"),
        ('[x]\n[x.criteria]\nbalance_type = "INSURANCE"\nwrite_off_by = "PATIENT"\n', "preset 'x': write_off_by PATIENT does not apply"),
        ('[x]\n[x.criteria]\nbalance_type = "PATIENT"\nwrite_off_by = "PATIENT"\nas_of = "2026-01-01"\n', "sets as_of"),
        ("[x\n", "not valid TOML"),
    ],
)
def test_bad_user_presets_are_refused(tmp_path, text, message):
    f = tmp_path / "bad.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(CriteriaError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_presets(f)


def test_describe_reads_as_words():
    text = criteria_from_preset("bad-debt", as_of="2026-11-01").describe()
    assert text == ("Patient balances, written off by encounter; at least 180 days old; "
                    "no patient payment in the last 90 days; as of 2026-11-01")
