"""X12 835 import: every sample is read or refused precisely; claims balance to the cent."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest
import pyx12.errh_json
import pyx12.error_handler
import pyx12.errors
import pyx12.params
import pyx12.x12context
import pyx12.x12file

from tests.conftest import build_ledger, make_frames
from writeoff_analytics import queries
from writeoff_analytics.errors import ImportError835, LedgerError
from writeoff_analytics.ledger import snapshot
from writeoff_analytics.ledger.schema import TRANSACTIONS
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.sources.x12_835 import (
    ERROR,
    Position,
    Remittance,
    import_835,
    parse_835,
)
from writeoff_analytics.sources.x12_835.posting import claim_postings
from writeoff_analytics.sources.x12_835.segments import read_segments

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

DATA = Path(__file__).parent / "data" / "x12"
INTELIGENZ = DATA / "Inteligenz__X12Parser__Example1.txt"
MANAGED = DATA / "LinuxForHealth__x12__managed-care.835"
PART_A = DATA / "LinuxForHealth__x12__medicare-part-a.835"
SECONDARY = DATA / "LinuxForHealth__x12__secondary-payment.835"
MULT = DATA / "azoner__pyx12__835_mult_loops.txt"
EMEDNY = DATA / "keironstoddart__edi-835-parser__emedny_sample.txt"
CLAIM_FILES = sorted(DATA.glob("*.837"))  # 837 claim files: refused (test_x12_835_reading.py)
SAMPLES = sorted(p for p in DATA.iterdir() if p not in CLAIM_FILES)
D = Decimal


# ----------------------------------------------------------------------------- helpers


def _835(
    body: Sequence[str], *, trace: str = "EFT100", paid: str = "0", date: str = "20260302"
) -> str:
    """A small 5010 835 around the given claim segments (without terminators)."""
    head = [
        "ST*835*0001",
        f"BPR*I*{paid}*C*ACH*CCP*01*111*DA*22*1234567890**01*111*DA*33*{date}",
        f"TRN*1*{trace}*1234567890",
        f"DTM*405*{date}",
        "N1*PR*TEST MEDICARE*XV*P-MCR",
        "N1*PE*TEST CLINIC*XX*1999999999",
        "LX*1",
    ]
    st = [*head, *body]
    st.append(f"SE*{len(st) + 1}*0001")
    segments = [
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
        "*260302*1200*^*00501*000000001*0*P*:",
        "GS*HP*SENDER*RECEIVER*20260302*1200*1*X*005010X221A1",
        *st,
        "GE*1*1",
        "IEA*1*000000001",
    ]
    return "~\n".join(segments) + "~\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="ascii")
    return path


def _ledger_for(rem: Remittance, payer_name: str = "Sample payer") -> Ledger:
    """A ledger whose encounters and charges are built from the sample's CLP01, SVC and DTM."""
    encounters: dict[str, dict[str, str]] = {}
    charges: list[dict[str, str]] = []
    for claim in rem.claims:
        dates = [ln.service_date for ln in claim.lines if ln.service_date] or [claim.statement_date]
        dos = dates[0].isoformat() if dates[0] else "2000-01-01"
        encounters.setdefault(
            claim.patient_control_number,
            {
                "encounter_id": claim.patient_control_number,
                "patient_id": "PT-" + claim.patient_control_number,
                "date_of_service": dos,
            },
        )
        units = [(ln.control_number, ln.procedure_code, abs(ln.charge)) for ln in claim.lines]
        if not claim.lines:
            units = [(None, "CLAIM", abs(claim.charge))]
        for cn, code, amount in units:
            charges.append(
                {
                    "charge_id": cn or f"CH{len(charges) + 1:03d}",
                    "encounter_id": claim.patient_control_number,
                    "procedure_code": code,
                    "charge_amount": str(amount),
                    "billed_payer_id": "P-1",
                    "posted_date": dos,
                }
            )
    return build_ledger(
        payers=[
            {
                "payer_id": "P-1",
                "payer_name": payer_name,
                "financial_class": "COMMERCIAL",
                "balance_bill_patient": "true",
            }
        ],
        patients=[{"patient_id": e["patient_id"]} for e in encounters.values()],
        encounters=list(encounters.values()),
        charges=charges,
    )


def _transactions(ledger: Ledger) -> pl.DataFrame:
    with ledger.connect() as con:
        return queries.frame(con, "select_snapshot_transactions")


def _balances(ledger: Ledger) -> dict[str, tuple[Decimal, Decimal, bool]]:
    return {
        r["charge_id"]: (r["insurance_balance"], r["patient_balance"], r["not_responsible"])
        for r in ledger.balances().iter_rows(named=True)
    }


def _import_log_count(ledger: Ledger) -> int:
    with ledger.connect() as con:
        return int(con.execute("SELECT count(*) FROM import_log").fetchall()[0][0])


@dataclass(frozen=True)
class Pyx12Reading:
    """What pyx12, read independently of our reader, finds in a file."""

    segment_ids: list[str]  # every segment, in order (pyx12's raw reader)
    claims: int | None  # CLP placed in loop 2100 (None: its loop-aware reader refused)
    lines: int | None  # SVC placed in loop 2110
    findings: list[tuple[int | None, str]]  # (segment number, message) of its 5010 validation


def _pyx12(path: Path) -> Pyx12Reading | None:
    """Read ``path`` with pyx12 alone (None: it cannot open the file at all)."""
    logger = logging.getLogger("pyx12")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    # as the runtime cross-check did: pyx12 refuses a byte-order mark, so it is removed
    text = path.read_bytes().decode("latin-1").removeprefix("\u00ef\u00bb\u00bf")
    try:
        try:
            ids = [seg.get_seg_id() for seg in pyx12.x12file.X12Reader(io.StringIO(text))]
        except pyx12.errors.X12Error:
            return None
        errh = pyx12.error_handler.err_handler()
        claims = lines = 0
        try:
            reader = pyx12.x12context.X12ContextReader(
                pyx12.params.params(), errh, io.StringIO(text)
            )
            with reader:
                for node in reader.iter_segments():
                    claims += node.cur_path.endswith("/2100/CLP")
                    lines += node.cur_path.endswith("/2110/SVC")
        except pyx12.errors.EngineError:
            return Pyx12Reading(ids, None, None, [])
        out = io.StringIO()
        errh.accept(pyx12.errh_json.errh_json_visitor(out, None))
        findings = [
            (seg.get("cur_line"), str(e["err_str"]))
            for isa in json.loads(out.getvalue()).get("interchanges") or ()
            for gs in isa.get("groups") or ()
            for st in gs.get("transactions") or ()
            for seg in st.get("segments") or ()
            for e in seg.get("errors") or ()
        ]
        return Pyx12Reading(ids, claims, lines, findings)
    finally:
        logger.setLevel(level)
        logger.propagate = propagate


# ----------------------------------------------------------------------------- reading


# file -> (claims read, lines read, pyx12 claims, pyx12 lines, errors as (segment, byte, text))
EXPECTED: Mapping[
    str, tuple[int, int, int | None, int | None, list[tuple[int | None, int | None, str]]]
] = {
    INTELIGENZ.name: (
        9,
        9,
        None,
        None,
        [
            (98, 3834, "claim cannot be read: CLP has 2 elements ('090909*22')"),
        ],
    ),
    MANAGED.name: (2, 2, 2, 2, []),
    PART_A.name: (2, 0, 2, 0, []),
    SECONDARY.name: (2, 2, 2, 0, []),
    MULT.name: (1, 3, 1, 3, []),
    EMEDNY.name: (3, 10, 3, 10, []),
}


def test_the_samples_are_all_covered():
    assert sorted(p.name for p in SAMPLES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_is_read_with_precise_problems(path: Path):
    rem = parse_835(path)
    claims, lines, pyx_claims, pyx_lines, errors = EXPECTED[path.name]
    assert (len(rem.claims), rem.line_count) == (claims, lines)
    pyx = _pyx12(path)
    assert pyx is not None
    assert (pyx.claims, pyx.lines) == (pyx_claims, pyx_lines)
    if pyx.claims is not None and pyx.lines is not None:  # pyx12 drops, never invents
        assert pyx.claims <= len(rem.claims) and pyx.lines <= rem.line_count
    got = [
        (
            p.position.segment if p.position else None,
            p.position.offset if p.position else None,
            p.reason,
        )
        for p in rem.errors
    ]
    assert len(got) == len(errors)
    for (seg, off, reason), (want_seg, want_off, want) in zip(got, errors, strict=True):
        assert (seg, off) == (want_seg, want_off)
        assert reason.startswith(want)
    for p in rem.problems:
        assert p.file == str(path)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_well_formed_claims_balance_to_the_cent(path: Path):
    rem = parse_835(path)
    for claim in rem.claims:
        assert not claim.errors, claim.errors
        assert isinstance(claim.paid, Decimal)
        # the file's own arithmetic: CLP03 - CLP04 = every CAS; lines pay CLP04
        assert claim.charge - claim.paid == claim.adjustment_total
        if claim.lines:
            assert claim.lines_paid - claim.claim_adjustment_total == claim.paid
            for ln in claim.lines:
                assert ln.charge - ln.paid == ln.adjustment_total
        # what we post: payments are -CLP04, the rest of the insurance side is -(CLP03 - CLP04)
        posts = claim_postings(claim)
        paid = -sum((p.amount for p in posts if p.type == "INSURANCE_PAYMENT"), D(0))
        adjusted = -sum(
            (p.amount for p in posts if p.type != "INSURANCE_PAYMENT" and p.bucket == "INSURANCE"),
            D(0),
        )
        to_patient = sum((p.amount for p in posts if p.bucket == "PATIENT"), D(0))
        assert paid == claim.paid
        assert adjusted == claim.charge - claim.paid
        assert to_patient == sum(
            (
                a.amount
                for a in claim.adjustments + tuple(x for ln in claim.lines for x in ln.adjustments)
                if a.group == "PR"
            ),
            D(0),
        )


def test_sample_details_are_read_exactly():
    managed = parse_835(MANAGED)
    c = managed.claims[0]
    assert (c.patient_control_number, c.charge, c.paid, c.patient_responsibility) == (
        "5554555444",
        D("800.00"),
        D("450.00"),
        D("300.00"),
    )
    assert [(a.group, a.reason, a.amount) for a in c.adjustments] == [("CO", "A2", D("50.00"))]
    assert [(a.group, a.reason, a.amount) for a in c.lines[0].adjustments] == [
        ("PR", "1", D("300.00"))
    ]
    assert managed.payments[0].trace_number == "7170066655"
    assert managed.payments[0].payment_date is None  # BPR16 20002316 is not a date
    assert str(managed.payments[0].posted_date) == "2002-03-14"

    inteligenz = parse_835(INTELIGENZ)
    reversal = next(c for c in inteligenz.claims if c.patient_control_number == "090909")
    assert reversal.is_reversal and reversal.paid == D("-86.76")
    assert reversal.lines[0].remark_codes == ("MA92",)
    assert reversal.lines[0].control_number == "090909"
    assert [(p.reason, p.reference, p.amount) for p in inteligenz.provider_adjustments] == [
        ("CV", "9876514", D("-1.27"))
    ]
    assert inteligenz.separators.segment == "~"

    secondary = parse_835(SECONDARY)
    line = secondary.claims[1].lines[1]
    assert (line.qualifier, line.procedure_code, line.modifiers) == ("HC", "66543", ("26",))
    assert [(a.group, a.reason, a.amount) for a in line.adjustments] == [
        ("PR", "1", D("150.00")),
        ("PR", "2", D("70.00")),
        ("CO", "42", D("85.00")),
    ]
    warnings = [str(p) for p in secondary.problems]
    assert any(
        "segment 29 (byte 846), SVC: warning: claim 0001000053: SVC01 'HC>12345>26' does "
        "not use the ISA16 component separator ':'" in w
        for w in warnings
    )
    # pyx12 places 2 claims and 0 service lines where our reader finds 2 claims and 2 lines:
    # it cannot place the SVC at segment 29 that our reader reads and warns about above
    pyx = _pyx12(SECONDARY)
    assert pyx is not None
    assert (pyx.claims, pyx.lines) == (2, 0)
    assert (len(secondary.claims), secondary.line_count) == (2, 2)
    assert (
        29,
        "Segment SVC*HC>12345>26 not found.  Started at "
        "/ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000/2100/DTM[232]",
    ) in pyx.findings
    assert not any("pyx12" in w for w in warnings)  # one reader at run time


def test_separators_are_read_from_the_isa(tmp_path):
    text = MANAGED.read_text(encoding="ascii")
    # element * -> |, component : -> }, segment ~\n -> ! with CRLF and indentation
    moved = text.replace("*", "|").replace(":", "}").replace("~\n", "!\r\n   ").replace("~", "!")
    path = tmp_path / "moved.835"
    path.write_bytes(("\ufeff" + moved).encode("utf-8"))
    a, b = parse_835(MANAGED), parse_835(path)
    assert b.separators.element == "|" and b.separators.component == "}"
    assert b.separators.segment == "!"
    assert not b.errors
    assert (
        [c.lines[0].procedure_code for c in a.claims]
        == [c.lines[0].procedure_code for c in b.claims]
        == ["99211", "93555"]
    )
    assert [(c.patient_control_number, c.charge, c.paid, c.adjustment_total) for c in b.claims] == [
        ("5554555444", D("800.00"), D("450.00"), D("350.00")),
        ("8765432112", D("1200.00"), D("495.00"), D("705.00")),
    ]


def test_a_truncated_file_keeps_what_it_can_read(tmp_path):
    data = EMEDNY.read_bytes()
    cut = data.index(b"CAS*CO*251*20") + len(b"CAS*CO*2")  # inside the last claim's last CAS
    path = tmp_path / "cut.txt"
    path.write_bytes(data[:cut])
    rem = parse_835(path)
    assert len(rem.claims) == 3
    last = rem.claims[2]
    assert last.errors  # not posted: it may be incomplete
    assert not rem.claims[0].errors and not rem.claims[1].errors
    reasons = [str(p) for p in rem.errors]
    assert any(
        "the file ends inside this segment ('CAS*CO*2') without the segment terminator '~'" in r
        for r in reasons
    )
    assert any("ends inside transaction set '1740' (no SE)" in r for r in reasons)
    assert any("no IEA segment" in r for r in reasons)
    # pyx12 drops the cut segment and says nothing of the missing SE, GE and IEA
    pyx = _pyx12(path)
    assert pyx is not None
    assert (pyx.segment_ids[-1], pyx.claims, pyx.findings) == ("DTM", 3, [])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (
            b"hello, world",
            "not an X12 interchange: it must begin with an ISA segment, found 'hello, world'",
        ),
        (b"ISA*00*  *00", "the ISA segment at byte 0 is cut short"),
    ],
)
def test_unreadable_files_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.835"
    path.write_bytes(content)
    with pytest.raises(ImportError835, match=message):
        parse_835(path)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ImportError835, match="cannot read the file"):
        parse_835(tmp_path / "nope.835")


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_pyx12_reads_the_same_segments_in_the_same_places(path: Path):
    # an independent reader: its segment numbers (cur_line) are ours, segment for segment
    pyx = _pyx12(path)
    assert pyx is not None
    _, segments, problems = read_segments(path.read_bytes(), str(path))
    assert not problems
    assert [i.strip() for i in pyx.segment_ids] == [s.id for s in segments]
    by_number = {s.position.segment: s.id for s in segments}
    for line, message in pyx.findings:
        if line is not None and message.startswith("Segment ") and " not found" in message:
            assert message.split()[1].startswith(by_number[line]), (line, message)


def test_an_empty_segment_is_skipped_not_the_end_of_the_file(tmp_path):
    text = MANAGED.read_text(encoding="ascii")
    doubled = text.replace("~", "~~", 12).replace("~~", "~", 11)  # one ~~ after segment 12
    path = _write(tmp_path, "doubled.835", doubled)
    a, b = parse_835(MANAGED), parse_835(path)
    assert b.problems == tuple(dataclasses.replace(p, file=str(path)) for p in a.problems)
    # the same claims, at the same segment numbers, one byte further on (the extra ~)
    assert len(b.claims) == len(a.claims) == 2
    for x, y in zip(a.claims, b.claims, strict=True):
        assert y.position == Position(x.position.segment, x.position.offset + 1)
        assert dataclasses.replace(y, position=x.position, adjustments=x.adjustments) == (
            dataclasses.replace(x, lines=y.lines)
        )
        assert [(ln.procedure_code, ln.paid, ln.position.segment) for ln in y.lines] == [
            (ln.procedure_code, ln.paid, ln.position.segment) for ln in x.lines
        ]
        assert [(j.group, j.reason, j.amount) for j in y.adjustments] == [
            (j.group, j.reason, j.amount) for j in x.adjustments
        ]
    pyx = _pyx12(path)  # pyx12 stops reading there, silently: one reason it is not ours
    assert pyx is not None and len(pyx.segment_ids) == 12


def test_an_import_reads_each_file_once_and_never_with_pyx12(tmp_path):
    # one reader at run time: a fresh interpreter imports the MANAGED sample and reports
    # how often the file was opened and whether pyx12 was loaded
    rem = parse_835(MANAGED)
    db = tmp_path / "ledger.duckdb"
    with _ledger_for(rem).connect() as con:
        frames = {
            t: queries.frame(con, f"select_snapshot_{t}")
            for t in ("payers", "patients", "coverages", "encounters", "charges", "transactions")
        }
    snapshot.replace_snapshot(Ledger(db), frames, source="test")
    script = f"""
import builtins, io, pathlib, sys
target = pathlib.Path({str(MANAGED)!r}).resolve()
opened = []
real_open = io.open
def counting_open(file, *args, **kwargs):
    if not isinstance(file, int) and pathlib.Path(file).resolve() == target:
        opened.append(file)
    return real_open(file, *args, **kwargs)
builtins.open = io.open = counting_open
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.sources.x12_835 import import_835
report = import_835(Ledger({str(db)!r}), [target])
print(len(opened), "pyx12" in sys.modules, report.transactions_added)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["1", "False", "9"]


@pytest.mark.parametrize(
    ("segments", "place", "reason"),
    [
        (
            ["CLP*E1*1*100.00*80,00**MB*PCN1", "SVC*HC:99213*100.00*80.00", "CAS*CO*45*20.00"],
            (10, "CLP"),
            "claim cannot be read: CLP has 7 elements ('E1*1*100.00*80,00')",
        ),
        (
            ["CLP*E1*1*100.00*80.00**MB*PCN1", "SVC*HC:99213*100.00*8O.00", "CAS*CO*45*20.00"],
            (11, "SVC"),
            "service line cannot be read: SVC01 'HC:99213', SVC02 '100.00', SVC03 '8O.00'",
        ),
        (
            ["CLP*E1*1*100.00*80.00**MB*PCN1", "SVC*HC:99213*100.00*80.00", "CAS*CO*45*2E1"],
            (12, "CAS"),
            "CAS02/CAS03 reason '45' amount '2E1' cannot be read",
        ),
    ],
    ids=["CLP04", "SVC03", "CAS03"],
)
def test_an_unreadable_amount_refuses_its_claim(tmp_path, segments, place, reason):
    ledger = build_ledger(
        payers=[
            {
                "payer_id": "P-MCR",
                "payer_name": "Test Medicare",
                "financial_class": "MEDICARE",
                "balance_bill_patient": "true",
            }
        ],
        patients=[{"patient_id": "PT1"}],
        encounters=[{"encounter_id": "E1", "patient_id": "PT1", "date_of_service": "2026-02-27"}],
        charges=[
            {
                "charge_id": "C1",
                "encounter_id": "E1",
                "procedure_code": "99213",
                "charge_amount": "100.00",
                "billed_payer_id": "P-MCR",
                "posted_date": "2026-02-27",
            }
        ],
    )
    path = _write(tmp_path, "amount.835", _835(segments, paid="80.00"))
    rem = parse_835(path)
    assert [c.patient_control_number for c in rem.claims if not c.errors] == []
    error = rem.errors[0]  # then, for a line or CAS, the claim's own imbalance
    assert {e.claim for e in rem.errors} == {"E1"}
    assert (error.position.segment if error.position else None, error.segment_id) == place
    assert error.reason.startswith(reason)
    report = import_835(ledger, [path])
    assert (report.files[0].matched, report.transactions_added) == (0, 0)
    assert _balances(ledger) == {"C1": (D("100.00"), D("0.00"), False)}


# ----------------------------------------------------------------------------- importing


def test_import_posts_payments_adjustments_and_patient_transfers():
    ledger = build_ledger(
        payers=[
            {
                "payer_id": "P-RL",
                "payer_name": "Rushmore Life",
                "financial_class": "COMMERCIAL",
                "balance_bill_patient": "true",
            }
        ],
        patients=[{"patient_id": "PT1"}, {"patient_id": "PT2"}],
        encounters=[
            {"encounter_id": "5554555444", "patient_id": "PT1", "date_of_service": "2002-03-01"},
            {"encounter_id": "8765432112", "patient_id": "PT2", "date_of_service": "2002-03-10"},
        ],
        charges=[
            {
                "charge_id": "C1",
                "encounter_id": "5554555444",
                "procedure_code": "99211",
                "charge_amount": "800.00",
                "billed_payer_id": "P-RL",
                "posted_date": "2002-03-04",
            },
            {
                "charge_id": "C2",
                "encounter_id": "8765432112",
                "procedure_code": "93555",
                "charge_amount": "1200.00",
                "billed_payer_id": "P-RL",
                "posted_date": "2002-03-12",
            },
        ],
    )
    report = import_835(ledger, [MANAGED])
    f = report.files[0]
    assert (f.claims, f.lines, f.matched, f.posted_rows) == (2, 2, 2, 9)
    assert (f.paid_total, f.adjustments_total) == (D("945.00"), D("1055.00"))
    assert (f.posted_paid_total, f.posted_adjustments_total) == (D("945.00"), D("1055.00"))
    assert report.transactions_added == 9 and report.import_report is not None
    rows = _transactions(ledger).filter(pl.col("charge_id") == "C1").sort("transaction_id")
    assert rows.select(
        "transaction_id",
        "type",
        "responsibility",
        "payer_id",
        "amount",
        "group_code",
        "reason_code",
        "reference",
    ).rows() == [
        (
            "835:7170066655:5554555444:1",
            "INSURANCE_PAYMENT",
            "INSURANCE",
            "P-RL",
            D("-450.00"),
            None,
            None,
            "7170066655",
        ),
        (
            "835:7170066655:5554555444:2",
            "TRANSFER",
            "INSURANCE",
            "P-RL",
            D("-300.00"),
            "PR",
            "1",
            "7170066655",
        ),
        (
            "835:7170066655:5554555444:3",
            "TRANSFER",
            "PATIENT",
            None,
            D("300.00"),
            "PR",
            "1",
            "7170066655",
        ),
        (
            "835:7170066655:5554555444:4",
            "INSURANCE_ADJUSTMENT",
            "INSURANCE",
            "P-RL",
            D("-50.00"),
            "CO",
            "A2",
            "7170066655",
        ),
    ]
    assert _balances(ledger) == {
        "C1": (D("0.00"), D("300.00"), False),
        "C2": (D("0.00"), D("600.00"), False),
    }


def test_import_of_a_sample_on_a_ledger_built_from_it():
    rem = parse_835(INTELIGENZ)
    ledger = _ledger_for(rem)
    report = import_835(ledger, [INTELIGENZ], payer_id="P-1")
    f = report.files[0]
    # the predetermination (777777, CLP02 25) posts nothing and the reversals (123456,
    # 090909) have no original in this ledger: refused, never posted (X12_835_POSTING.md)
    assert (f.claims, f.lines, f.matched) == (9, 9, 6)
    assert f.paid_total == D("5.75")
    assert f.posted_paid_total == D("135.09") == D("56.52") + D("18.88") + D("59.69")
    assert [p.amount for p in f.provider_adjustments] == [D("-1.27")]
    balances = _balances(ledger)
    assert balances["444444"] == (D("0.00"), D("0.00"), False)
    assert balances["333333"] == (D("0.00"), D("14.92"), False)  # PR-2 coinsurance
    assert balances["777777"] == (D("136.90"), D("0.00"), False)  # untouched
    assert balances["123456"] == (D("42.58"), D("0.00"), False)  # untouched
    outcomes = [(o.claim, o.status, o.outcome.value, o.segment) for o in f.outcomes]
    assert outcomes == [
        ("444444", "1", "posted", 15),
        ("999999", "4", "posted", 23),
        ("888888", "4", "posted", 32),
        ("111111", "2", "posted", 40),
        ("121212", "4", "posted", 49),
        ("333333", "1", "posted", 58),
        ("777777", "25", "reported", 67),
        ("123456", "22", "refused", 76),
        ("090909", "22", "refused", 85),
        ("090909", None, "refused", 98),
    ]
    assert [str(p) for p in f.errors] == [
        # the truncated claim is reported with its place, never posted
        f"{INTELIGENZ}, segment 98 (byte 3834), CLP: error: claim 090909: claim cannot be read: "
        "CLP has 2 elements ('090909*22'); CLP01 patient control number, CLP02 status, CLP03 "
        "charge and CLP04 paid are required; the claim and its segments are not read",
        f"{INTELIGENZ}, segment 76 (byte 2993), CLP: error: claim 123456: reversal (CLP02 22) of "
        "no posted payment: no earlier payment of payer claim control number (CLP07) "
        "'0000000657575757', nor of claim '123456' (CLP01) paid 42.58 from payer 'P-1' is in "
        "the ledger; not posted (import the original remittance first)",
        f"{INTELIGENZ}, segment 85 (byte 3363), CLP: error: claim 090909: reversal (CLP02 22) of "
        "no posted payment: no earlier payment of payer claim control number (CLP07) "
        "'0000000648484848', nor of claim '090909' (CLP01) paid 86.76 from payer 'P-1' is in "
        "the ledger; not posted (import the original remittance first)",
    ]


def test_claims_without_lines_post_to_the_encounters_single_charge_and_plb_is_not_spread():
    rem = parse_835(PART_A)
    ledger = _ledger_for(rem, payer_name="Insurance Company of Timbuktu")
    report = import_835(ledger, [PART_A])
    f = report.files[0]
    assert f.matched == 2
    assert f.posted_paid_total == D("149998.73")
    plb = f.provider_adjustments
    assert [(p.provider_id, p.reason, p.reference, p.amount, p.position.segment) for p in plb] == [
        ("6543210903", "CV", "CP", D("-1.27"), 29)
    ]
    tx = _transactions(ledger)
    assert tx["amount"].abs().is_in([D("1.27")]).sum() == 0  # the PLB is reported, not posted
    assert set(tx["payer_id"].drop_nulls()) == {"P-1"}  # payer found by name (N1*PR)
    assert {k: v[:2] for k, v in _balances(ledger).items()} == {
        "CH001": (D("0.00"), D("0.00")),
        "CH002": (D("0.00"), D("0.00")),
    }


def test_reversal_undoes_what_it_reverses(tmp_path):
    ledger = build_ledger(
        payers=[
            {
                "payer_id": "P-MCR",
                "payer_name": "Medicare",
                "financial_class": "MEDICARE",
                "balance_bill_patient": "true",
            }
        ],
        patients=[{"patient_id": "PT1"}],
        encounters=[{"encounter_id": "E1", "patient_id": "PT1", "date_of_service": "2026-02-27"}],
        charges=[
            {
                "charge_id": "C1",
                "encounter_id": "E1",
                "procedure_code": "99213",
                "charge_amount": "200.00",
                "billed_payer_id": "P-MCR",
                "posted_date": "2026-02-27",
            }
        ],
    )
    before = _balances(ledger)
    original = _write(
        tmp_path,
        "orig.835",
        _835(
            [
                "CLP*E1*1*200.00*120.00*40.00*MB*PCN1",
                "SVC*HC:99213*200.00*120.00",
                "DTM*472*20260227",
                "CAS*CO*45*40.00",
                "CAS*PR*2*40.00",
                "REF*6R*C1",
            ],
            trace="EFT881",
            paid="120.00",
        ),
    )
    reversal = _write(
        tmp_path,
        "rev.835",
        _835(
            [
                "CLP*E1*22*-200.00*-120.00*-40.00*MB*PCN1",
                "SVC*HC:99213*-200.00*-120.00",
                "DTM*472*20260227",
                "CAS*CO*45*-40.00",
                "CAS*PR*2*-40.00",
                "REF*6R*C1",
            ],
            trace="EFT990",
            paid="-120.00",
            date="20260310",
        ),
    )
    import_835(ledger, [original])
    assert _balances(ledger)["C1"] == (D("0.00"), D("40.00"), False)
    report = import_835(ledger, [reversal])
    assert report.files[0].matched == 1 and not report.files[0].errors
    assert _balances(ledger) == before == {"C1": (D("200.00"), D("0.00"), False)}
    rev = _transactions(ledger).filter(pl.col("reference") == "EFT990").sort("transaction_id")
    assert rev["amount"].to_list() == [D("120.00"), D("40.00"), D("40.00"), D("-40.00")]


@pytest.mark.parametrize(
    ("line_segments", "not_responsible"),
    [
        (["CAS*PR*2*20.00", "LQ*HE*N781"], True),
        (["CAS*PR*2*20.00", "LQ*HE*M86", "LQ*HE*N783"], True),
        (["CAS*PR*2*20.00", "LQ*HE*M86"], False),
    ],
)
def test_qmb_remarks_mark_the_patient_not_responsible(tmp_path, line_segments, not_responsible):
    ledger = build_ledger(
        payers=[
            {
                "payer_id": "P-MCR",
                "payer_name": "Test Medicare",
                "financial_class": "MEDICARE",
                "balance_bill_patient": "true",
            }
        ],
        patients=[{"patient_id": "PT1"}],
        encounters=[{"encounter_id": "E7", "patient_id": "PT1", "date_of_service": "2026-01-05"}],
        charges=[
            {
                "charge_id": "C7",
                "encounter_id": "E7",
                "procedure_code": "99214",
                "charge_amount": "150.00",
                "billed_payer_id": "P-MCR",
                "posted_date": "2026-01-05",
            },
            {
                "charge_id": "C8",
                "encounter_id": "E7",
                "procedure_code": "36415",
                "charge_amount": "10.00",
                "billed_payer_id": "P-MCR",
                "posted_date": "2026-01-05",
            },
        ],
    )
    path = _write(
        tmp_path,
        "qmb.835",
        _835(
            [
                "CLP*E7*1*160.00*110.00*20.00*MB*PCN7",
                "SVC*HC:99214*150.00*100.00",
                "DTM*472*20260105",
                "CAS*CO*45*30.00",
                *line_segments,
                "SVC*HC:36415*10.00*10.00",
                "DTM*472*20260105",
            ],
            paid="110.00",
        ),
    )
    report = import_835(ledger, [path])
    assert report.files[0].matched == 1
    assert _balances(ledger) == {
        "C7": (D("0.00"), D("20.00"), not_responsible),
        "C8": (D("0.00"), D("0.00"), False),
    }
    # the criteria engine's view: a patient balance the patient may not be billed for
    found = ledger.balances().filter(
        (pl.col("patient_balance") > 0)
        & (pl.col("insurance_balance") == 0)
        & pl.col("not_responsible")
    )
    assert found["charge_id"].to_list() == (["C7"] if not_responsible else [])
    remarks = _transactions(ledger).filter(pl.col("charge_id") == "C7")["remark_codes"].unique()
    assert remarks.len() == 1


def test_oa_209_marks_the_patient_not_responsible(tmp_path):
    ledger = build_ledger(
        payers=[
            {
                "payer_id": "P-MCR",
                "payer_name": "Test Medicare",
                "financial_class": "MEDICARE",
                "balance_bill_patient": "true",
            }
        ],
        patients=[{"patient_id": "PT1"}],
        encounters=[{"encounter_id": "E9", "patient_id": "PT1", "date_of_service": "2026-01-05"}],
        charges=[
            {
                "charge_id": "C9",
                "encounter_id": "E9",
                "procedure_code": "99214",
                "charge_amount": "150.00",
                "billed_payer_id": "P-MCR",
                "posted_date": "2026-01-05",
            }
        ],
    )
    path = _write(
        tmp_path,
        "oa209.835",
        _835(
            [
                "CLP*E9*1*150.00*100.00**MB*PCN9",
                "SVC*HC:99214*150.00*100.00",
                "DTM*472*20260105",
                "CAS*CO*45*30.00",
                "CAS*OA*209*20.00",
            ],
            paid="100.00",
        ),
    )
    import_835(ledger, [path])
    assert _balances(ledger) == {"C9": (D("0.00"), D("0.00"), True)}


def test_unmatched_claims_are_reported_with_their_place_and_nothing_is_posted():
    ledger = build_ledger(
        payers=[
            {
                "payer_id": "P-1",
                "payer_name": "X",
                "financial_class": "MEDICAID",
                "balance_bill_patient": "false",
            }
        ],
        patients=[{"patient_id": "PT1"}],
        encounters=[
            {"encounter_id": "OTHER", "patient_id": "PT1", "date_of_service": "2010-01-01"}
        ],
        charges=[
            {
                "charge_id": "C1",
                "encounter_id": "OTHER",
                "procedure_code": "V2020",
                "charge_amount": "6.00",
                "billed_payer_id": "P-1",
                "posted_date": "2010-01-01",
            }
        ],
    )
    imports = _import_log_count(ledger)
    report = import_835(ledger, [EMEDNY])
    f = report.files[0]
    assert (f.claims, f.matched, report.transactions_added) == (3, 0, 0)
    assert report.import_report is None and _import_log_count(ledger) == imports
    assert [(p.position.segment, p.position.offset, p.claim) for p in f.errors] == [
        (15, 534, "PATIENT ACCOUNT NUMBER"),
        (34, 982, "PATIENT ACCOUNT NUMBER"),
        (46, 1301, "PATIENT ACCOUNT NUMBER"),
    ]
    assert f.errors[0].reason == (
        "unmatched claim, not posted: no encounter 'PATIENT ACCOUNT NUMBER' in the ledger "
        "(CLP01 is matched to encounter_id)"
    )


def test_lines_are_matched_by_code_and_date_and_a_wrong_date_is_reported():
    rem = parse_835(EMEDNY)
    ledger = _ledger_for(rem)
    report = import_835(ledger, [EMEDNY])
    f = report.files[0]
    assert f.matched == 2  # the third claim has a line dated 2013-09-17 on a 2010-01-01 visit
    (err,) = f.errors
    assert err.position is not None and err.position.segment == 46
    assert "service date 2013-09-17 is not the date of service 2010-01-01" in err.reason
    assert f.posted_paid_total == D("34.25")


def test_the_same_file_twice_does_not_double_post():
    rem = parse_835(MANAGED)
    ledger = _ledger_for(rem)
    first = import_835(ledger, [MANAGED])
    after_first = _transactions(ledger)
    second = import_835(ledger, [MANAGED, MANAGED])
    assert first.transactions_added == 9 and second.transactions_added == 0
    assert _transactions(ledger).equals(after_first)
    skipped = [p for f in second.files for p in f.problems if "already imported" in p.reason]
    assert [p.claim for p in skipped] == ["5554555444", "8765432112"] * 2
    assert skipped[0].reason == (
        "already imported (transaction 835:7170066655:5554555444:1 exists); skipped, "
        "not posted twice"
    )


def test_a_claim_spanning_several_dates_does_not_match_a_one_day_encounter():
    rem = parse_835(MULT)
    ledger = _ledger_for(rem)
    report = import_835(ledger, [MULT])
    assert report.transactions_added == 0
    assert [p.reason for p in report.files[0].errors] == [
        "unmatched claim, not posted: line segment 23 (byte 630) T1005: service date 2003-10-30 "
        "is not the date of service 2003-11-29 of encounter '2005555A'",
        "unmatched claim, not posted: line segment 28 (byte 720) T1005: service date 2003-10-31 "
        "is not the date of service 2003-11-29 of encounter '2005555A'",
    ]


def test_a_failed_import_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    rem = parse_835(MANAGED)
    ledger = _ledger_for(rem)
    ledger_file = Ledger(tmp_path / "s.duckdb")
    with ledger.connect() as con:
        frames = {
            t: queries.frame(con, f"select_snapshot_{t}")
            for t in ("payers", "patients", "coverages", "encounters", "charges", "transactions")
        }
    snapshot.replace_snapshot(ledger_file, frames, source="test")
    before = (_transactions(ledger_file), ledger_file.balances(), _import_log_count(ledger_file))
    real_run = queries.run

    def failing_run(con: Any, name: str, /, **params: Any) -> list[tuple[Any, ...]]:
        if name == "derive_charge_balances":
            raise LedgerError("boom")
        return real_run(con, name, **params)

    monkeypatch.setattr(snapshot.queries, "run", failing_run)
    with pytest.raises(LedgerError, match="boom"):
        import_835(ledger_file, [MANAGED])
    monkeypatch.undo()
    after = (_transactions(ledger_file), ledger_file.balances(), _import_log_count(ledger_file))
    assert after[0].equals(before[0]) and after[1].equals(before[1]) and after[2] == before[2]


def test_an_unknown_payer_id_is_refused():
    ledger = _ledger_for(parse_835(MULT))
    with pytest.raises(LedgerError, match="payer_id 'NOPE' is not a payer of the loaded ledger"):
        import_835(ledger, [MULT], payer_id="NOPE")


def test_conform_adds_remark_codes_as_null_when_an_extract_lacks_it():
    frames = make_frames()
    old_style = frames["transactions"].drop("remark_codes")
    conformed = snapshot.conform(TRANSACTIONS, old_style)
    assert conformed.columns[-1] == "remark_codes"
    assert conformed.schema["remark_codes"] == pl.String


def test_cli_import_835(tmp_path):
    rem = parse_835(MANAGED)
    memory = _ledger_for(rem, payer_name="Rushmore Life")
    db = tmp_path / "ledger.duckdb"
    with memory.connect() as con:
        frames = {
            t: queries.frame(con, f"select_snapshot_{t}")
            for t in ("payers", "patients", "coverages", "encounters", "charges", "transactions")
        }
    snapshot.replace_snapshot(Ledger(db), frames, source="test")
    bad = tmp_path / "bad.835"
    bad.write_bytes(b"not x12")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "writeoff_analytics.cli",
            "import-835",
            str(MANAGED),
            str(bad),
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    # posted, but a file was refused: a partial import (docs/spec/X12_835_POSTING.md)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr == (
        "writeoff import-835: partial: 9 transactions posted, 0 claim(s) refused or unmatched, "
        "1 file(s) refused\n"
    )
    out = done.stdout
    assert (
        f"{MANAGED}: claims 2, lines 2, matched 2, paid $945.00 (posted $945.00), "
        "adjustments $1,055.00 (posted $1,055.00), PLB 0, problems 0 errors / 1 warnings" in out
    )
    assert (
        f"  {MANAGED}, segment 4 (byte 176), BPR: warning: BPR16 payment date '20002316' is not "
        "a valid date; DTM*405 is used instead\n" in out
    )
    assert f"{bad}: refused: {bad}: not an X12 interchange" in out
    assert "9 transactions added" in out


def test_problems_are_errors_or_warnings():
    for path in SAMPLES:
        for p in parse_835(path).problems:
            assert p.severity in (ERROR, "warning")


def test_unreadable_segments_and_bad_amounts_are_reported_with_their_place(tmp_path):
    path = _write(
        tmp_path,
        "bad.835",
        _835(
            [
                "CLP*E1*1*100.00*80.00**MB*PCN1",
                "SVC*HC:99213*100.00*80.00",
                "DTM*472*20260227",
                "12#*garbage",
                "CAS*CO*45*20.005",
                "CLP*E2*1*50.00*50.00**MB*PCN2",
                "SVC*HC:99212*50.00*50.00",
            ],
            paid="130.00",
        ),
    )
    rem = parse_835(path)
    errors = [
        (p.position.segment if p.position else None, p.segment_id, p.claim, p.reason)
        for p in rem.errors
    ]
    assert errors[0] == (
        13,
        None,
        None,
        "unreadable segment '12#*garbage': '12#' is not a segment id",
    )
    assert errors[1][:3] == (14, "CAS", "E1")
    assert "reason '45' amount '20.005' cannot be read" in errors[1][3]
    assert [c.patient_control_number for c in rem.claims if not c.errors] == ["E2"]
    assert rem.claims[0].errors  # E1 is refused, not guessed


def test_a_reversal_with_unsigned_amounts_is_negated(tmp_path):
    ledger = build_ledger(
        payers=[
            {
                "payer_id": "P-MCR",
                "payer_name": "Test Medicare",
                "financial_class": "MEDICARE",
                "balance_bill_patient": "true",
            }
        ],
        patients=[{"patient_id": "PT1"}],
        encounters=[{"encounter_id": "E1", "patient_id": "PT1", "date_of_service": "2026-02-27"}],
        charges=[
            {
                "charge_id": "C1",
                "encounter_id": "E1",
                "procedure_code": "99213",
                "charge_amount": "100.00",
                "billed_payer_id": "P-MCR",
                "posted_date": "2026-02-27",
            }
        ],
    )
    claim = ["SVC*HC:99213*100.00*70.00", "DTM*472*20260227", "CAS*CO*45*30.00"]
    original = _write(
        tmp_path, "o.835", _835(["CLP*E1*1*100.00*70.00**MB*P1", *claim], trace="T1", paid="70.00")
    )
    reversal = _write(
        tmp_path, "r.835", _835(["CLP*E1*22*100.00*70.00**MB*P1", *claim], trace="T2", paid="70.00")
    )
    import_835(ledger, [original])
    assert _balances(ledger)["C1"] == (D("0.00"), D("0.00"), False)
    report = import_835(ledger, [reversal])
    assert _balances(ledger)["C1"] == (D("100.00"), D("0.00"), False)
    assert [p.reason for p in report.files[0].problems] == [
        "reversal (CLP02 22) with positive amounts; posted negated so that it undoes the "
        "payment it reverses"
    ]
