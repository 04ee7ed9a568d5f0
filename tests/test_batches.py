from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from tests.batch_support import AS_OF, CRITERIA, EXPECTED, EXPECTED_TOTAL, find, make_store
from writeoff_analytics.errors import BatchError
from writeoff_analytics.reasons import Reason
from writeoff_analytics.writeoffs.batches import Batch


@pytest.fixture(scope="module")
def candidates():
    return find(make_store())


@pytest.fixture
def batch(candidates):
    return Batch.from_candidates(candidates, reason=Reason.NO_BALANCE_BILLING, adjustment_code="ADJ-7")


def _amounts(batch: Batch) -> dict[str, Decimal]:
    return dict(batch.lines.select("charge_id", "writeoff_amount").iter_rows())


def test_batch_starts_with_every_candidate_line_at_its_balance(batch, candidates):
    assert _amounts(batch) == EXPECTED
    assert batch.total == EXPECTED_TOTAL == candidates.total
    assert isinstance(batch.total, Decimal)
    assert (batch.line_count, batch.group_count) == (4, 3)
    assert batch.groups.get_column("group_key").to_list() == ["E1", "E2", "E3"]
    assert batch.criteria == CRITERIA and batch.as_of == AS_OF
    assert batch.reason is Reason.NO_BALANCE_BILLING
    assert batch.reason_text == Reason.NO_BALANCE_BILLING.text
    assert batch.adjustment_code == "ADJ-7"
    assert batch.balance_type.value == "PATIENT"


def test_groups_and_lines_are_deselected_and_selected_on_copies(batch):
    fewer = batch.exclude_groups(["E1"])
    assert set(_amounts(fewer)) == {"C3", "C4"}
    assert fewer.total == Decimal("625.50")
    assert (fewer.line_count, fewer.group_count) == (2, 2)
    assert batch.total == EXPECTED_TOTAL  # the original is untouched
    back = fewer.include_groups(["E1"])
    assert _amounts(back) == EXPECTED
    assert back.batch_key == batch.batch_key and back == batch
    one_less = batch.exclude_lines(["C2"])
    assert set(_amounts(one_less)) == {"C1", "C3", "C4"}
    assert one_less.total == Decimal("665.50")
    assert one_less.include_lines(["C2"]) == batch


def test_unknown_groups_and_lines_are_refused(batch):
    with pytest.raises(BatchError, match="unknown group key.*E9"):
        batch.exclude_groups(["E9"])
    with pytest.raises(BatchError, match="unknown charge id.*C5") as info:
        batch.exclude_lines(["C5"])
    assert info.value.charge_ids == ("C5",)


def test_an_amount_can_be_lowered_from_a_cent_to_the_balance(batch):
    lowered = batch.with_amount("C4", Decimal("100.00"))
    assert _amounts(lowered)["C4"] == Decimal("100.00")
    assert lowered.total == Decimal("177.84")
    assert lowered.with_amount("C4", "0.01").total == Decimal("77.85")
    assert lowered.with_amount("C4", Decimal("600.00")) == batch  # back to the balance
    for bad in ("0.00", "600.01", "-1.00", "1.005"):
        with pytest.raises(BatchError, match="C4") as info:
            batch.with_amount("C4", bad)
        assert info.value.charge_ids == ("C4",)
    with pytest.raises(BatchError, match="must not be a float"):
        batch.with_amount("C4", 1.5)  # type: ignore[arg-type]
    with pytest.raises(BatchError, match="deselected"):
        batch.exclude_lines(["C4"]).with_amount("C4", "1.00")


def test_reasons_custom_text_and_hardship_reference(candidates):
    with pytest.raises(BatchError, match="CUSTOM needs its own text"):
        Batch.from_candidates(candidates, reason="CUSTOM")
    custom = Batch.from_candidates(candidates, reason="custom", reason_text=" Board decision 12 ")
    assert custom.reason is Reason.CUSTOM and custom.reason_text == "Board decision 12"
    with pytest.raises(BatchError, match="FINANCIAL_HARDSHIP needs the reference"):
        Batch.from_candidates(candidates, reason=Reason.FINANCIAL_HARDSHIP)
    hardship = Batch.from_candidates(
        candidates, reason="FINANCIAL_HARDSHIP", determination_reference="HD-2026-17"
    )
    assert hardship.determination_reference == "HD-2026-17"
    with pytest.raises(BatchError, match="unknown reason 'NICE'.*NO_BALANCE_BILLING"):
        Batch.from_candidates(candidates, reason="NICE")
    every = {r.value for r in Reason}
    assert {"NO_BALANCE_BILLING", "SMALL_BALANCE", "BAD_DEBT", "DECEASED", "FINANCIAL_HARDSHIP",
            "TIMELY_FILING", "ADMINISTRATIVE", "CUSTOM"} <= every


def test_batch_key_is_stable_and_follows_what_would_be_written(batch, candidates):
    again = Batch.from_candidates(candidates, reason="NO_BALANCE_BILLING", adjustment_code="ADJ-7")
    assert again.batch_key == batch.batch_key
    assert len(batch.batch_key) == 64
    changed = {
        batch.with_amount("C1", "1.00").batch_key,
        batch.exclude_groups(["E2"]).batch_key,
        dataclasses.replace(batch, note="n").batch_key,
        Batch.from_candidates(candidates, reason="BAD_DEBT", adjustment_code="ADJ-7").batch_key,
        dataclasses.replace(batch, generation=batch.generation + 1).batch_key,
    }
    assert batch.batch_key not in changed and len(changed) == 5


def test_batch_is_frozen(batch):
    with pytest.raises(dataclasses.FrozenInstanceError):
        batch.note = "x"  # type: ignore[misc]


def test_reason_and_details_change_on_a_copy_checked_as_when_built(batch):
    lowered = batch.exclude_groups(["E2"]).with_amount("C4", "100.00")
    custom = lowered.with_details(reason="custom", reason_text=" Board decision 12 ", note=" n ")
    assert custom.reason is Reason.CUSTOM and custom.reason_text == "Board decision 12"
    assert custom.note == "n" and custom.adjustment_code is None  # every detail replaced
    assert custom.lines.equals(lowered.lines) and custom.total == Decimal("152.34")
    assert lowered.reason is Reason.NO_BALANCE_BILLING and lowered.adjustment_code == "ADJ-7"
    assert custom != lowered  # the reason is part of what would be written
    with pytest.raises(BatchError, match="CUSTOM needs its own text"):
        batch.with_details(reason="CUSTOM", reason_text="  ")
    with pytest.raises(BatchError, match="FINANCIAL_HARDSHIP needs the reference"):
        batch.with_details(reason=Reason.FINANCIAL_HARDSHIP)
    with pytest.raises(BatchError, match="unknown reason 'NICE'"):
        batch.with_details(reason="NICE")
    same = batch.with_details(reason="NO_BALANCE_BILLING", adjustment_code="ADJ-7")
    assert same == batch and same is not batch


def test_full_balances_undo_every_lowered_amount_and_keep_the_selection(batch):
    lowered = batch.exclude_lines(["C2"]).with_amount("C4", "1.00").with_amount("C1", "2.00")
    full = lowered.with_full_balances()
    assert full.amounts == {} and full.excluded == frozenset({"C2"})
    assert full.total == EXPECTED_TOTAL - Decimal("12.34")
    assert lowered.total == Decimal("28.50")  # the original is untouched


def test_what_a_screen_reads_groups_out_line_amounts_and_group_totals(batch):
    assert batch.excluded_groups == frozenset()
    fewer = batch.exclude_groups(["E2"]).exclude_lines(["C1"]).with_amount("C2", "2.00")
    assert fewer.excluded_groups == frozenset({"E2"})  # E1 keeps C2: still ticked
    assert fewer.exclude_lines(["C2"]).excluded_groups == frozenset({"E1", "E2"})
    totals = fewer.group_totals(["E1", "E2", "E3"])
    assert totals == {"E1": Decimal("2.00"), "E3": Decimal("600.00")}
    assert all(isinstance(v, Decimal) for v in totals.values())
    assert fewer.group_totals([]) == {}
    assert fewer.amount_of("C2") == Decimal("2.00") and fewer.amount_of("C4") == Decimal("600.00")
    assert fewer.amount_of("C1") is None and fewer.amount_of("C3") is None
    with pytest.raises(BatchError, match="unknown charge id.*C5"):
        fewer.amount_of("C5")


def test_a_batch_reads_back_as_the_candidates_it_would_write_off(batch, candidates):
    fewer = batch.exclude_groups(["E1"]).with_amount("C4", "100.00")
    chosen = fewer.to_candidates()
    assert (chosen.criteria, chosen.as_of, chosen.generation) == (
        candidates.criteria, candidates.as_of, candidates.generation)
    assert dict(chosen.lines.select("charge_id", "writeoff_amount").iter_rows()) == {
        "C3": Decimal("25.50"), "C4": Decimal("100.00")}
    assert chosen.groups.get_column("group_key").to_list() == ["E2", "E3"]
    assert chosen.total == fewer.total == Decimal("125.50")
    assert chosen.lines.schema == candidates.lines.schema
