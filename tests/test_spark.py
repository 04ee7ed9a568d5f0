"""The Spark engine: the same query files, keyed by practice, give DuckDB's results practice by practice."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tests.conftest import DEMO_DIR, EXAMPLE_TABLES, Rows, build_ledger, make_frames
from writeoff_analytics import queries
from writeoff_analytics.candidates import Candidates, find_candidates
from writeoff_analytics.criteria.model import Criteria
from writeoff_analytics.criteria.presets import criteria_from_preset, load_presets
from writeoff_analytics.engines.spark_sql import add_practice_key, spark_query
from writeoff_analytics.errors import CriteriaError, LedgerError, LedgerFormatError, QueryError
from writeoff_analytics.ledger.snapshot import replace_snapshot
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.spark.read import PRACTICE

# ---------------------------------------------------------------------------------------------
# The AST transformation (no Spark needed)


def _keyed(sql: str) -> str:
    return add_practice_key(sqlglot.parse_one(sql, read="spark")).sql("spark")


def test_join_group_and_select_list_get_the_practice() -> None:
    out = _keyed(
        "SELECT c.id, SUM(t.x) AS s FROM charges AS c JOIN tx AS t ON t.cid = c.id GROUP BY c.id"
    )
    assert out == (
        "SELECT c.id, SUM(t.x) AS s, c.practice_id AS practice_id FROM charges AS c "
        "JOIN tx AS t ON t.practice_id = c.practice_id AND (t.cid = c.id) "
        "GROUP BY c.practice_id, c.id"
    )


def test_window_partition_and_global_aggregate_get_the_practice() -> None:
    assert _keyed("SELECT id, SUM(x) OVER (PARTITION BY g ORDER BY id) AS r FROM t") == (
        "SELECT id, SUM(x) OVER (PARTITION BY t.practice_id, g ORDER BY id) AS r, "
        "t.practice_id AS practice_id FROM t"
    )
    assert _keyed("SELECT COUNT(*) AS n FROM t") == (
        "SELECT COUNT(*) AS n, t.practice_id AS practice_id FROM t GROUP BY t.practice_id"
    )


def test_exists_and_in_subqueries_are_correlated_on_the_practice() -> None:
    assert _keyed("SELECT a FROM t WHERE NOT EXISTS(SELECT 1 FROM u WHERE u.x = t.x)") == (
        "SELECT a, t.practice_id AS practice_id FROM t WHERE NOT EXISTS(SELECT 1 FROM u "
        "WHERE (u.x = t.x) AND u.practice_id = t.practice_id)"
    )
    assert _keyed("SELECT a FROM t WHERE a IN (SELECT b FROM v)") == (
        "SELECT a, t.practice_id AS practice_id FROM t WHERE (t.practice_id, a) IN "
        "(SELECT v.practice_id AS practice_id, b FROM v)"
    )


def test_stars_union_using_and_outer_order() -> None:
    assert _keyed("SELECT l.*, p.n FROM l JOIN p USING (k) ORDER BY l.k") == (
        "SELECT l.*, p.n FROM l JOIN p USING (k, practice_id)"
    )
    assert _keyed("SELECT a FROM t UNION ALL SELECT b FROM u") == (
        "SELECT a, t.practice_id AS practice_id FROM t "
        "UNION ALL SELECT b, u.practice_id AS practice_id FROM u"
    )


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("SELECT a, (SELECT MAX(b) FROM u) AS m FROM t", "scalar subquery"),
        ("SELECT a FROM t CROSS JOIN u", "no ON/USING"),
        ("SELECT a, COUNT(*) AS n FROM t GROUP BY 1", "by position"),
    ],
)
def test_constructs_that_cannot_be_keyed_are_refused(sql: str, words: str) -> None:
    with pytest.raises(QueryError, match=words):
        _keyed(sql)


def test_derive_balances_file_transpiles_with_every_join_keyed() -> None:
    query = spark_query("derive_charge_balances")
    tree = sqlglot.parse_one(query.sql, read="spark")
    joins = list(tree.find_all(sqlglot.exp.Join))
    duckdb_tree = sqlglot.parse_one(queries.load("derive_charge_balances").sql, read="duckdb")
    assert len(joins) == len(list(duckdb_tree.find_all(sqlglot.exp.Join))) >= 10
    for join in joins:
        on = join.args["on"]
        first = on.this if isinstance(on, sqlglot.exp.And) else on
        assert isinstance(first, sqlglot.exp.EQ)
        assert {first.this.name, first.expression.name} == {PRACTICE}
    for group in tree.find_all(sqlglot.exp.Group):
        assert group.expressions[0].name == PRACTICE
    assert "ORDER BY" not in query.sql
    assert query.tables == (
        "charges", "coverages", "encounters", "patients", "payers", "quarantined_charges",
        "transactions", "writeoff_lines",
    )


def test_renamed_tables_keep_their_names_as_aliases() -> None:
    query = spark_query("derive_charge_balances", (("payers", "wo_x_payers"),))
    assert "wo_x_payers AS bp" in query.sql
    assert "wo_x_payers AS p" in query.sql
    assert " payers " not in query.sql


# ---------------------------------------------------------------------------------------------
# Spark: one session for the whole run

#: Tiny data: one shuffle partition and interpreted expressions (no Java code generated and
#: compiled per query) cut Spark's fixed cost per query; the results depend on neither.
_TEST_CONF = {
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "2",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.sql.adaptive.enabled": "false",
}


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from writeoff_analytics.spark.session import build_session

    session = build_session("local[2]", app_name="writeoff_tests", conf=_TEST_CONF)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def demo_practices() -> dict[str, dict[str, pl.DataFrame]]:
    """data/demo split into 3 practices (families kept together), typed as the store types them."""
    from writeoff_analytics.demo.split import split_frames
    from writeoff_analytics.ledger.schema import TABLES
    from writeoff_analytics.ledger.snapshot import conform

    typed = {}
    for t in TABLES:
        frame = pl.read_csv(DEMO_DIR / f"{t.name}.csv", infer_schema=False)
        for column in t.columns:
            if column.name not in frame.columns:
                continue
            text = pl.col(column.name)
            if column.type.value == "bool":
                frame = frame.with_columns(
                    pl.when(text.is_null()).then(None)
                    .otherwise(text.str.to_lowercase().is_in(["true", "t", "1", "y"]))
                    .alias(column.name)
                )
            elif column.type.value == "date":
                frame = frame.with_columns(text.str.to_date("%Y-%m-%d"))
        typed[t.name] = conform(t, frame)
    return split_frames(typed, 3)


@pytest.fixture(scope="session")
def demo_extract(demo_practices: dict[str, dict[str, pl.DataFrame]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    from writeoff_analytics.demo.split import write_practices

    return write_practices(demo_practices, tmp_path_factory.mktemp("demo_practices"))


def write_extract(root: Path, practices: Mapping[str, Mapping[str, Rows]], *, parquet: tuple[str, ...] = ()) -> None:
    """Write one ordinary extract per practice under ``root/practice=<id>/`` (CSV, or Parquet for some tables)."""
    for practice, tables in practices.items():
        folder = root / f"practice={practice}"
        folder.mkdir(parents=True)
        for name, frame in make_frames(**tables).items():
            if name in parquet:
                frame.write_parquet(folder / f"{name}.parquet")
            else:
                frame.write_csv(folder / f"{name}.csv")


# Random ledgers: small id pools, so the same ids (P1, PT1, E1, C1, T1) mean different
# things in different practices.
_DAY0 = dt.date(2025, 1, 1)
_CLASSES = ["MEDICARE", "MEDICAID", "COMMERCIAL", "OTHER", "MEDICAID_MANAGED_CARE"]
_TYPES = ["INSURANCE_PAYMENT", "INSURANCE_ADJUSTMENT", "TRANSFER", "PATIENT_PAYMENT", "PATIENT_ADJUSTMENT", "REFUND"]


def _day(n: int) -> str:
    return (_DAY0 + dt.timedelta(days=n)).isoformat()


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


@st.composite
def practice_ledgers(draw: st.DrawFn) -> dict[str, Rows]:
    n_payers = draw(st.integers(1, 3))
    payer_ids = [f"P{i}" for i in range(1, n_payers + 1)]
    payers = [
        {"payer_id": p, "payer_name": f"Payer {p}", "financial_class": draw(st.sampled_from(_CLASSES)),
         "balance_bill_patient": draw(st.sampled_from(["true", "false", "true"]))}
        for p in payer_ids
    ]
    n_patients = draw(st.integers(1, 3))
    patient_ids = [f"PT{i}" for i in range(1, n_patients + 1)]
    patients = [
        {"patient_id": p, "guarantor_id": draw(st.sampled_from([None, *patient_ids])),
         "deceased_date": draw(st.sampled_from([None, None, _day(30)])),
         "financial_hardship": draw(st.sampled_from([None, "true", "false"]))}
        for p in patient_ids
    ]
    coverages = []
    for _ in range(draw(st.integers(0, 4))):
        start = draw(st.integers(0, 300))
        coverages.append({
            "patient_id": draw(st.sampled_from(patient_ids)), "payer_id": draw(st.sampled_from(payer_ids)),
            "priority": str(draw(st.integers(1, 3))), "effective_from": _day(start),
            "effective_to": draw(st.sampled_from([None, _day(start + 200)])),
            "qmb": draw(st.sampled_from([None, "false", "true", None])),
            "patient_responsible": draw(st.sampled_from([None, "true", "false", None])),
        })
    encounter_ids = [f"E{i}" for i in range(1, draw(st.integers(1, 4)) + 1)]
    encounters = [
        {"encounter_id": e, "patient_id": draw(st.sampled_from(patient_ids)),
         "date_of_service": _day(draw(st.integers(0, 500))),
         "provider_id": draw(st.sampled_from([None, "DR1", "DR2"])),
         "location_id": draw(st.sampled_from([None, "L1"]))}
        for e in encounter_ids
    ]
    charge_ids = [f"C{i}" for i in range(1, draw(st.integers(1, 6)) + 1)]
    charges = [
        {"charge_id": c, "encounter_id": draw(st.sampled_from(encounter_ids)),
         "procedure_code": draw(st.sampled_from(["99213", "99214", "80053"])),
         "units": draw(st.sampled_from([None, "1", "2"])),
         "charge_amount": _money(draw(st.integers(0, 50000))),
         "billed_payer_id": draw(st.sampled_from([None, *payer_ids])),
         "posted_date": _day(draw(st.integers(0, 500)))}
        for c in charge_ids
    ]
    transactions = []
    for i in range(1, draw(st.integers(0, 12)) + 1):
        kind = draw(st.sampled_from(_TYPES))
        bucket = "PATIENT" if kind.startswith("PATIENT") else draw(st.sampled_from(["INSURANCE", "PATIENT"]))
        transactions.append({
            "transaction_id": f"T{i}", "charge_id": draw(st.sampled_from(charge_ids)),
            "posted_date": _day(draw(st.integers(0, 700))), "type": kind, "responsibility": bucket,
            "payer_id": draw(st.sampled_from([None, *payer_ids])) if bucket == "INSURANCE" else None,
            "amount": _money(draw(st.integers(-30000, 30000))),
            "reference": draw(st.sampled_from([None, "EFT1", "X1"])),
        })
    return {"payers": payers, "patients": patients, "coverages": coverages, "encounters": encounters,
            "charges": charges, "transactions": transactions}


@st.composite
def random_criteria(draw: st.DrawFn) -> Criteria:
    """Valid criteria; payer P1 exists in every random practice, so no practice refuses them."""
    balance_type = draw(st.sampled_from(["PATIENT", "INSURANCE"]))
    if balance_type == "PATIENT":
        by = draw(st.sampled_from(["GUARANTOR", "PATIENT", "ENCOUNTER", "PROCEDURE_LINE"]))
        extra: dict[str, Any] = {"responsibility": draw(st.sampled_from([
            None, "AFTER_INSURANCE", "SELF_PAY", "NOT_RESPONSIBLE", "AFTER_INSURANCE_PATIENT_RESPONSIBLE"]))}
    else:
        by = draw(st.sampled_from(["ENCOUNTER", "PROCEDURE_LINE"]))
        extra = {"role": draw(st.sampled_from(["ALL", "ALL", "PRIMARY", "SECONDARY", "TERTIARY"]))}
    maybe = lambda strat: draw(st.one_of(st.none(), st.none(), st.none(), strat))  # noqa: E731  (a filter is set 1 time in 4)
    lo_age = maybe(st.integers(0, 400))
    lo_bal = maybe(st.integers(0, 20000))
    lo_dos = maybe(st.integers(0, 500))
    return Criteria(
        balance_type, by, **extra,
        financial_classes=maybe(st.sets(st.sampled_from([*_CLASSES, "SELF_PAY"]), min_size=1, max_size=3)),
        payer_ids=maybe(st.just({"P1"})),
        dos_from=None if lo_dos is None else _day(lo_dos),
        dos_to=maybe(st.integers(lo_dos or 0, 600).map(_day)),
        min_age_days=lo_age,
        max_age_days=maybe(st.integers(lo_age or 0, 900)),
        min_days_since_patient_payment=maybe(st.integers(0, 300)),
        min_balance=None if lo_bal is None else _money(lo_bal),
        max_balance=maybe(st.integers(lo_bal or 0, 60000).map(_money)),
        patient_ids=maybe(st.sets(st.sampled_from(["PT1", "PT2", "PT3"]), min_size=1)),
        encounter_ids=maybe(st.sets(st.sampled_from(["E1", "E2", "E3"]), min_size=1)),
        provider_ids=maybe(st.just({"DR1"})),
        location_ids=maybe(st.just({"L1"})),
        procedure_codes=maybe(st.sets(st.sampled_from(["99213", "80053"]), min_size=1)),
        deceased=draw(st.sampled_from([None, None, True])),
        financial_hardship=draw(st.sampled_from([None, None, True])),
        as_of=dt.date(2026, 6, 1),
    )


multi_practice = st.dictionaries(
    st.sampled_from(["001", "007", "B", "north", "x-5"]), practice_ledgers(), min_size=2, max_size=4
)


def spark_frame(df: Any) -> pl.DataFrame:
    from writeoff_analytics.engines.spark_sql import to_polars

    return to_polars(df)


def _balances_by_practice(spark: Any, root: Path) -> dict[str, pl.DataFrame]:
    from writeoff_analytics.engines.spark_sql import derive_balances
    from writeoff_analytics.spark.read import read_extract

    extract = read_extract(spark, root)
    frame = spark_frame(derive_balances(spark, extract.tables))
    return {
        p: part.drop(PRACTICE).sort("charge_id")
        for (p,), part in frame.partition_by(PRACTICE, as_dict=True).items()
    }


@pytest.mark.spark
def test_example_ledger_balances_in_two_practices_match_duckdb(spark: Any, tmp_path: Path) -> None:
    write_extract(tmp_path, {"007": EXAMPLE_TABLES, "B": EXAMPLE_TABLES}, parquet=("charges",))
    got = _balances_by_practice(spark, tmp_path)
    expected = build_ledger(**EXAMPLE_TABLES).balances()
    assert sorted(got) == ["007", "B"]  # "007" stays text
    for practice in got:
        assert_frame_equal(got[practice].select(expected.columns), expected)
    row = got["B"].row(0, named=True)
    assert str(row["patient_balance"]) == "40.00"
    assert row["not_responsible"] is True


def _duckdb_candidates(ledger: Ledger, criteria: Criteria) -> Candidates:
    return find_candidates(ledger, criteria, engine="duckdb")


def assert_same_candidates(got: Candidates, expected: Candidates) -> None:
    assert_frame_equal(got.lines, expected.lines)
    assert_frame_equal(got.groups, expected.groups)
    assert got.total == expected.total
    assert got.as_of == expected.as_of


@pytest.mark.spark
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(practices=multi_practice, criteria=random_criteria())
def test_random_ledgers_and_criteria_match_duckdb_practice_by_practice(
    spark: Any, practices: dict[str, dict[str, Rows]], criteria: Criteria
) -> None:
    from writeoff_analytics.engines.spark_practices import find_candidates_spark

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_extract(root, practices, parquet=("transactions",) if len(practices) == 3 else ())
        found = find_candidates_spark(spark, root, criteria)
    assert sorted(found) == sorted(practices)
    for practice, tables in practices.items():
        assert_same_candidates(found[practice], _duckdb_candidates(build_ledger(**tables), criteria))


@pytest.mark.spark
def test_demo_split_into_practices_balances_and_every_preset_match_duckdb(
    spark: Any, demo_practices: dict[str, dict[str, pl.DataFrame]], demo_extract: Path
) -> None:
    from writeoff_analytics.engines.spark_practices import find_candidates_spark
    from writeoff_analytics.engines.spark_sql import derive_balances
    from writeoff_analytics.spark.read import read_extract

    ledgers = {}
    for practice, frames in demo_practices.items():
        ledgers[practice] = Ledger(":memory:")
        replace_snapshot(ledgers[practice], frames, source="test")
    extract = read_extract(spark, demo_extract)
    balances = derive_balances(spark, extract.tables).cache()
    names = sorted(load_presets())
    assert len(names) >= 6
    try:
        got = spark_frame(balances)
        assert sorted(got.get_column(PRACTICE).unique()) == ["P1", "P2", "P3"]
        for practice, ledger in ledgers.items():
            expected = ledger.balances()
            assert expected.height > 1000
            mine = got.filter(pl.col(PRACTICE) == practice).sort("charge_id")
            assert_frame_equal(mine.select(expected.columns), expected)
        for name in names:
            criteria = criteria_from_preset(name, as_of=dt.date(2026, 11, 1))
            found = find_candidates_spark(spark, extract, criteria, balances=balances)
            assert sorted(found) == ["P1", "P2", "P3"]
            for practice, ledger in ledgers.items():
                expected = _duckdb_candidates(ledger, criteria)
                assert_same_candidates(found[practice], expected)
            assert sum(c.line_count for c in found.values()) > 0, name
    finally:
        balances.unpersist()


@pytest.mark.spark
def test_one_practice_is_searched_alone(spark: Any, tmp_path: Path) -> None:
    from writeoff_analytics.engines.spark_practices import find_candidates_spark

    other = {**EXAMPLE_TABLES, "transactions": []}  # same ids, nothing paid: insurance still owes 200.00
    write_extract(tmp_path, {"A": EXAMPLE_TABLES, "B": other})
    criteria = criteria_from_preset("no-balance-billing", as_of=dt.date(2026, 11, 1))
    found = find_candidates_spark(spark, tmp_path, criteria, practice_ids=["A"])
    assert list(found) == ["A"]
    assert found["A"].lines.get_column("charge_id").to_list() == ["C1"]
    assert found["A"].total == Decimal("40.00")
    both = find_candidates_spark(spark, tmp_path, criteria)
    assert both["B"].line_count == 0 and both["B"].lines.schema == found["A"].lines.schema
    insurance = find_candidates_spark(spark, tmp_path, Criteria("INSURANCE", "PROCEDURE_LINE", as_of="2026-11-01"))
    assert {p: str(c.total) for p, c in insurance.items()} == {"A": "0.00", "B": "200.00"}
    with pytest.raises(CriteriaError, match="unknown payer id P-NONE"):
        find_candidates_spark(spark, tmp_path, criteria.replace(payer_ids=["P-NONE"]))


# ---------------------------------------------------------------------------------------------
# Reading


@pytest.mark.spark
def test_read_refuses_a_folder_without_practices_and_a_missing_table(spark: Any, tmp_path: Path) -> None:
    from writeoff_analytics.spark.read import read_extract

    with pytest.raises(LedgerError, match="no practice=<id>/ folders"):
        read_extract(spark, tmp_path)
    write_extract(tmp_path, {"A": EXAMPLE_TABLES})
    (tmp_path / "practice=A" / "coverages.csv").unlink()
    with pytest.raises(LedgerError, match="practice A: .* has no coverages.csv or coverages.parquet"):
        read_extract(spark, tmp_path)
    with pytest.raises(LedgerError, match="no folder for practice"):
        read_extract(spark, tmp_path, practice_ids=["Z"])


@pytest.mark.spark
def test_read_refuses_float_money_in_parquet(spark: Any, tmp_path: Path) -> None:
    from writeoff_analytics.spark.read import read_extract

    write_extract(tmp_path, {"A": EXAMPLE_TABLES}, parquet=("charges",))
    path = tmp_path / "practice=A" / "charges.parquet"
    pl.read_parquet(path).with_columns(pl.col("charge_amount").cast(pl.Float64)).write_parquet(path)
    with pytest.raises(LedgerFormatError, match="money is stored as a float"):
        read_extract(spark, tmp_path)


@pytest.mark.spark
def test_read_types_are_declared_not_inferred(spark: Any, tmp_path: Path) -> None:
    from writeoff_analytics.spark.read import read_extract

    write_extract(tmp_path, {"A": EXAMPLE_TABLES, "B": EXAMPLE_TABLES})
    extract = read_extract(spark, tmp_path, practice_ids=["B"])
    patients = spark_frame(extract.tables["patients"])
    assert patients.get_column("patient_id").to_list() == ["0004567"]  # leading zeros kept
    assert patients.get_column(PRACTICE).to_list() == ["B"]
    charges = spark_frame(extract.tables["charges"])
    assert charges.schema["charge_amount"] == pl.Decimal(18, 2)
    assert charges.schema["posted_date"] == pl.Date()


# ---------------------------------------------------------------------------------------------
# Command line


def test_cli_refuses_a_folder_without_practices_before_starting_spark(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "writeoff_analytics.cli", "spark-candidates", "--preset", "bad-debt",
         "--extract", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"writeoff spark-candidates: error: {tmp_path}: no practice=<id>/ folders; a multi-practice "
        "extract holds one ordinary extract per practice (LEDGER_FORMAT.md, 'Many practices')"
    ]


@pytest.mark.spark
def test_cli_lists_each_practice(spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from writeoff_analytics.cli import main

    write_extract(tmp_path, {"A": EXAMPLE_TABLES, "B": {**EXAMPLE_TABLES, "transactions": []}})
    status = main(["spark-candidates", "--preset", "no-balance-billing", "--as-of", "2026-11-01",
                   "--extract", str(tmp_path), "--spark-master", "local[2]"])
    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert out[1:] == [
        "practice               groups    lines            total",
        "A                           1        1           $40.00",
        "B                           0        0            $0.00",
        "all practices                        1           $40.00",
    ]


def test_candidates_extract_needs_engine_spark(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from writeoff_analytics.cli import main

    status = main(["candidates", "--preset", "bad-debt", "--extract", str(tmp_path)])
    assert status == 1
    assert "--extract reads a multi-practice extract on Spark; add --engine spark." in capsys.readouterr().err


@pytest.mark.spark
def test_candidates_engine_spark_extract_lists_each_practice(
    spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from writeoff_analytics.cli import main

    write_extract(tmp_path, {"A": EXAMPLE_TABLES, "B": {**EXAMPLE_TABLES, "transactions": []}})
    status = main(["candidates", "--engine", "spark", "--preset", "no-balance-billing", "--as-of", "2026-11-01",
                   "--extract", str(tmp_path), "--spark-master", "local[2]"])
    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert out[-1] == "all practices                        1           $40.00"


@pytest.mark.spark
def test_find_candidates_engine_spark_on_a_store_matches_duckdb(
    spark: Any, demo_practices: dict[str, dict[str, pl.DataFrame]]
) -> None:
    ledger = Ledger(":memory:")
    replace_snapshot(ledger, demo_practices["P1"], source="test")
    criteria = criteria_from_preset("bad-debt", as_of=dt.date(2026, 11, 1))
    got = find_candidates(ledger, criteria, engine="spark")
    expected = find_candidates(ledger, criteria, engine="duckdb")
    assert got.line_count > 0
    assert got.generation == expected.generation
    assert_same_candidates(got, expected)


# ---------------------------------------------------------------------------------------------
# A zip of a multi-practice extract


def _zip_folder(folder: Path, target: Path, *, prefix: str = "", extra: Mapping[str, bytes] | None = None) -> Path:
    """Zip every file under ``folder`` as ``prefix<relative path>``, plus ``extra`` members."""
    import zipfile

    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return target


@pytest.mark.spark
def test_a_zip_is_searched_like_its_folder_and_its_unpacked_copy_removed(
    spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from writeoff_analytics.cli import main
    from writeoff_analytics.engines.spark_practices import find_candidates_spark

    folder = tmp_path / "folder"
    write_extract(folder, {"A": EXAMPLE_TABLES, "B": {**EXAMPLE_TABLES, "transactions": []}}, parquet=("charges",))
    zipped = _zip_folder(folder, tmp_path / "billing.zip", prefix="billing/",
                         extra={"billing/README.txt": b"not a table", "__MACOSX/billing/._x": b""})
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    criteria = criteria_from_preset("no-balance-billing", as_of=dt.date(2026, 11, 1))
    found = find_candidates_spark(spark, zipped, criteria)
    assert {p: str(c.total) for p, c in found.items()} == {"A": "40.00", "B": "0.00"}
    assert_same_candidates(found["A"], _duckdb_candidates(build_ledger(**EXAMPLE_TABLES), criteria))
    status = main(["candidates", "--engine", "spark", "--preset", "no-balance-billing", "--as-of", "2026-11-01",
                   "--extract", str(zipped)])
    assert status == 0
    assert capsys.readouterr().out.splitlines()[-1] == "all practices                        1           $40.00"
    assert list(scratch.iterdir()) == []  # the unpacked copies are gone


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ({"../practice=A/charges.csv": b"x"}, "climbs out of the extract"),
        ({"/tmp/practice=A/charges.csv": b"x"}, "absolute path"),
        ({"C:/practice=A/charges.csv": b"x"}, "absolute path"),
        ({"charges.csv": b"x", "practice=A/notes.txt": b"x"}, "no practice=<id>/ folder with a table file"),
        ({"a/practice=A/charges.csv": b"x", "b/practice=B/charges.csv": b"x"}, "under different folders"),
        ({"practice=/charges.csv": b"x"}, "names no practice"),
    ],
)
def test_a_bad_zip_is_refused_naming_the_file(tmp_path: Path, members: dict[str, bytes], reason: str) -> None:
    import zipfile

    from writeoff_analytics.spark.read import opened_extract

    target = tmp_path / "bad.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(LedgerFormatError, match=reason) as caught, opened_extract(target):
        pass
    assert caught.value.file == str(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.zip"]  # nothing written beside it


def test_a_zip_member_that_is_a_link_is_refused(tmp_path: Path) -> None:
    import stat
    import zipfile

    from writeoff_analytics.spark.read import opened_extract

    target = tmp_path / "link.zip"
    link = zipfile.ZipInfo("practice=A/charges.csv")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(LedgerFormatError, match="is a link") as caught, opened_extract(target):
        pass
    assert caught.value.file == str(target)

def test_a_zip_that_would_fill_the_disk_is_refused_before_unpacking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil
    import zipfile

    from writeoff_analytics.spark import read

    target = tmp_path / "big.zip"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("practice=A/charges.csv", b"0" * 100_000)  # 100 kB unpacked
    made: list[str] = []
    real_mkdtemp = read.tempfile.mkdtemp

    def mkdtemp(*args: object, **kwargs: object) -> str:
        made.append(real_mkdtemp(*args, **kwargs))  # type: ignore[arg-type]
        return made[-1]

    monkeypatch.setattr(read.tempfile, "mkdtemp", mkdtemp)
    from writeoff_analytics.ledger import archive as zip_archive

    monkeypatch.setattr(zip_archive.shutil, "disk_usage", lambda _p: shutil._ntuple_diskusage(1, 1, 50_000))  # type: ignore[attr-defined]
    with pytest.raises(LedgerFormatError, match=r"unpacks to 97.7 KiB but .* has 48.8 KiB free") as caught, \
            read.opened_extract(target):
        pass
    assert caught.value.file == str(target)
    assert made and not Path(made[0]).exists()  # nothing left behind


def test_a_file_that_is_not_a_zip_and_a_zip_for_a_cluster_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from writeoff_analytics.cli import main
    from writeoff_analytics.spark.read import opened_extract

    fake = tmp_path / "extract.zip"
    fake.write_text("practice=A,charges\n")
    with pytest.raises(LedgerFormatError, match="cannot be read as a zip") as caught, opened_extract(fake):
        pass
    assert caught.value.file == str(fake)
    status = main(["spark-candidates", "--preset", "bad-debt", "--extract", str(fake),
                   "--spark-master", "spark://head:7077"])
    assert status == 1
    assert "executors of spark://head:7077 cannot read" in capsys.readouterr().err


def test_driver_memory_must_be_a_size() -> None:
    from writeoff_analytics.errors import ConfigError
    from writeoff_analytics.spark.session import build_session

    with pytest.raises(ConfigError, match="'lots' is not a size"):
        build_session("local[2]", driver_memory="lots")


# ---------------------------------------------------------------------------------------------
# Commits stay per practice


@pytest.mark.spark
def test_spark_candidates_of_a_practice_commit_into_its_own_store_only(spark: Any, tmp_path: Path) -> None:
    from writeoff_analytics.engines.spark_practices import find_candidates_spark
    from writeoff_analytics.errors import BatchError
    from writeoff_analytics.reporting import report_receipt
    from writeoff_analytics.spark.practice import commit_practice_batch, load_practice
    from writeoff_analytics.writeoffs.batches import Batch
    from writeoff_analytics.writeoffs.permissions import Config
    from writeoff_analytics.writeoffs.receipts import receipt_lines

    # Same ids everywhere (C1, E1, 0004567); B's patient owes 30.00, C's nothing was paid.
    b_rows = [dict(t) for t in EXAMPLE_TABLES["transactions"]]
    b_rows[1]["amount"], b_rows[2]["amount"], b_rows[3]["amount"] = "-50.00", "-30.00", "30.00"
    extract = tmp_path / "extract"
    write_extract(extract, {"A": EXAMPLE_TABLES, "B": {**EXAMPLE_TABLES, "transactions": b_rows},
                            "C": {**EXAMPLE_TABLES, "transactions": []}})
    zipped = _zip_folder(extract, tmp_path / "extract.zip")
    criteria = criteria_from_preset("no-balance-billing", as_of=dt.date(2026, 11, 1))
    found = find_candidates_spark(spark, extract, criteria)
    assert {p: str(c.total) for p, c in found.items()} == {"A": "40.00", "B": "30.00", "C": "0.00"}

    config = Config.open_to("ana")
    stores = {p: Ledger(tmp_path / p / "ledger.duckdb") for p in ("A", "B")}
    load_practice(stores["A"], extract, "A")
    load_practice(stores["B"], zipped, "B")  # the zip and its folder are the same files
    before_b = stores["B"].balances()

    def commit(practice: str, store: str, batch: Batch) -> Any:
        return commit_practice_batch(stores[store], batch, extract=extract, practice_id=practice, user="ana",
                                     receipts_dir=tmp_path / store / "receipts", config=config)

    batch_a = Batch.from_candidates(found["A"], reason="NO_BALANCE_BILLING")
    with pytest.raises(BatchError, match="was not loaded from practice A's folder"):
        commit("A", "B", batch_a)  # A's lines into B's store, where C1 is another charge
    receipt = commit("A", "A", batch_a)
    assert (receipt.receipt_no, receipt.total, receipt.line_count) == ("WO-000001", Decimal("40.00"), 1)
    assert receipt_lines(stores["A"], "WO-000001").get_column("charge_id").to_list() == ["C1"]
    assert "WO-000001" in report_receipt(stores["A"], "WO-000001").to_html_string()
    assert stores["A"].balances().row(0, named=True)["patient_balance"] == Decimal("0.00")
    assert_frame_equal(stores["B"].balances(), before_b)  # B untouched, no receipt files
    assert not (tmp_path / "B" / "receipts").exists()

    receipt_b = commit("B", "B", Batch.from_candidates(found["B"], reason="NO_BALANCE_BILLING"))
    assert (receipt_b.receipt_no, receipt_b.total) == ("WO-000001", Decimal("30.00"))  # B's own numbering

    # The extract does not know A's commit: searched again it offers C1 at 40.00, and the
    # commit's re-check against store A (balance now 0.00) refuses it.
    again = find_candidates_spark(spark, zipped, criteria, practice_ids=["A"])
    with pytest.raises(BatchError, match="changed since the batch was built") as caught:
        commit("A", "A", Batch.from_candidates(again["A"], reason="NO_BALANCE_BILLING", note="second look"))
    assert caught.value.charge_ids == ("C1",)
