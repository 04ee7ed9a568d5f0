"""Every command, every kind of bad argument: one line on stderr, exit status 1, nothing created.

The table runs each command of ``writeoff --help`` with each mistake that applies to it: a
folder given as a file, a missing file or store, a folder that cannot be written (a path
under a regular file: the tests run as root, so permissions would not stop a write), a bad
date, an unknown receipt, a wrong suffix, and plain usage mistakes. Each case runs in
process (fast); a few run as real processes to prove the exit status.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import writeoff_analytics
from tests.batch_support import AS_OF, find, make_store
from writeoff_analytics.cli import build_parser, main
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.permissions import Config
from writeoff_analytics.writeoffs.receipts import commit_batch

DATA = Path(__file__).parent / "data"
SRC = str(Path(writeoff_analytics.__file__).resolve().parents[1])
COMMANDS = (
    "demo", "demo-data", "load", "import-835", "import-synthea", "candidates", "commit",
    "history", "reverse", "report", "spark-candidates", "quarantine", "verify",
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A work folder: a loaded store with receipt WO-000001, a regular file, a folder, a criteria file."""
    folder = tmp_path_factory.mktemp("template")
    ledger = make_store(folder / "s.duckdb")
    batch = Batch.from_candidates(find(ledger), reason="NO_BALANCE_BILLING").exclude_groups(["E2", "E3"])
    commit_batch(ledger, batch, user="ana", receipts_dir=folder / "receipts", config=Config.open_to("ana"))
    (folder / "file").write_text("a regular file\n", encoding="utf-8")
    (folder / "dir").mkdir()
    (folder / "dir.toml").mkdir()  # a folder with a criteria file's name
    (folder / "c.toml").write_text('balance_type = "PATIENT"\nwrite_off_by = "ENCOUNTER"\n', encoding="utf-8")
    (folder / "c.yaml").write_text("balance_type: PATIENT\n", encoding="utf-8")
    (folder / "full").mkdir()
    (folder / "full" / "keep.txt").write_text("someone's file\n", encoding="utf-8")
    return folder


@pytest.fixture
def work(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the template as the current folder (./writeoff.toml, data/ are looked for here)."""
    folder = tmp_path / "work"
    shutil.copytree(template, folder)
    monkeypatch.chdir(folder)
    return folder


def tree(folder: Path) -> set[str]:
    """Every file and folder under ``folder`` (what a failed command must leave as it was)."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


EXTRACT = str(DATA / "small")
STORE = ("--db", "s.duckdb")
CANDIDATES = ("candidates", *STORE, "--preset", "bad-debt")
COMMIT = ("commit", *STORE, "--preset", "no-balance-billing", "--reason", "NO_BALANCE_BILLING")
REPORT = ("report", *STORE, "--preset", "small-balance")
REVERSE = ("reverse", *STORE, "--reason", "oops")

#: (command line, a part of the one error line). Grouped by the kind of mistake.
CASES: list[tuple[tuple[str, ...], str]] = [
    # a folder given where a file goes
    (("load", EXTRACT, "--db", "dir"), "argument --db: dir is a folder, not a ledger store"),
    (("import-835", str(DATA / "x12" / "LinuxForHealth__x12__managed-care.835"), "--db", "dir"), "dir is a folder"),
    (("import-synthea", str(DATA / "synthea"), "--db", "dir"), "dir is a folder"),
    (("candidates", "--db", "dir", "--preset", "bad-debt"), "dir is a folder"),
    (("commit", "--db", "dir", "--preset", "bad-debt", "--reason", "BAD_DEBT"), "dir is a folder"),
    (("history", "--db", "dir"), "dir is a folder"),
    (("reverse", "--db", "dir", "--receipt", "1", "--reason", "x"), "dir is a folder"),
    (("report", "--db", "dir", "--receipt", "1", "--output", "r.pdf"), "dir is a folder"),
    (("verify", "--db", "dir"), "dir is a folder"),
    (("load", EXTRACT, *STORE, "--rejects", "dir"), "argument --rejects: dir is a folder; give a file name"),
    ((*CANDIDATES, "--format", "csv", "--output", "dir"), "argument --output: dir is a folder"),
    ((*REPORT, "--output", "dir"), "argument --output/-o: dir is a folder"),
    (("candidates", *STORE, "--criteria", "dir.toml"), "criteria file dir.toml: is a folder"),
    (("demo-data", "--out", "file"), "argument --out: file is a file; give a folder"),
    (("demo", "--out", "file"), "argument --out: file is a file; give a folder"),
    # a file or store that is not there (and must not be created)
    (("load", "no-such-extract", *STORE), "no extract at no-such-extract"),
    (("load", EXTRACT, *STORE, "--mapping", "no-such.toml"), "no-such.toml"),
    (("import-835", "no-such.835", *STORE), "no 835 file at no-such.835"),
    (("import-835", str(DATA / "x12" / "LinuxForHealth__x12__managed-care.835"), "--db", "new.duckdb"), "no ledger at new.duckdb"),
    (("import-synthea", "no-such-folder", *STORE), "no Synthea export folder at no-such-folder"),
    (("candidates", "--db", "new.duckdb", "--preset", "bad-debt"), "no ledger at new.duckdb"),
    (("candidates", "--db", "typo/x.duckdb", "--preset", "bad-debt"), "no ledger at typo/x.duckdb"),
    (("candidates", *STORE, "--criteria", "no-such.toml"), "criteria file no-such.toml: cannot be read"),
    (("candidates", *STORE, "--criteria", "no-such.json"), "criteria file no-such.json: cannot be read"),
    (("candidates", *STORE, "--preset", "mine", "--presets", "no-such.toml"), "presets file no-such.toml"),
    (("commit", "--db", "new.duckdb", "--preset", "bad-debt", "--reason", "BAD_DEBT"), "no ledger at new.duckdb"),
    (("commit", *STORE, "--criteria", "no-such.json", "--reason", "BAD_DEBT"), "criteria file no-such.json"),
    ((*COMMIT, "--config", "no-such.toml"), "config file no-such.toml: cannot be read"),
    (("history", "--db", "typo/x.duckdb"), "no ledger at typo/x.duckdb"),
    (("history", "--db", "file"), "argument --db: file is not a ledger store (not a DuckDB file)"),
    (("quarantine", "--db", "typo/x.duckdb"), "no ledger at typo/x.duckdb"),
    (("quarantine", "--db", "dir"), "dir is a folder"),
    (("quarantine", *STORE, "--format", "xml"), "argument --format: invalid choice: 'xml'"),
    (("load", EXTRACT, "--db", "file"), "argument --db: file is not a ledger store (not a DuckDB file)"),
    (("history", *STORE, "--config", "no-such.toml"), "config file no-such.toml"),
    (("reverse", "--db", "new.duckdb", "--receipt", "1", "--reason", "x"), "no ledger at new.duckdb"),
    (("report", "--db", "new.duckdb", "--receipt", "1", "--output", "r.pdf"), "no ledger at new.duckdb"),
    (("verify", "--db", "new.duckdb"), "no ledger at new.duckdb"),
    (("report", *STORE, "--criteria", "no-such.toml", "--output", "r.csv"), "criteria file no-such.toml"),
    (("demo", "--extract", "no-such-extract", "--out", "demo-run"), "no demo extract at no-such-extract"),
    (("spark-candidates", "--preset", "bad-debt", "--extract", "no-such-extract"), "no-such-extract"),
    # a folder that cannot be written (under a regular file)
    (("load", EXTRACT, "--db", "file/s.duckdb"), "cannot use file/s.duckdb: file is a file, not a folder"),
    (("load", EXTRACT, *STORE, "--rejects", "file/r.csv"), "cannot write file/r.csv: file is a file"),
    (("import-synthea", str(DATA / "synthea"), "--db", "file/s.duckdb"), "file is a file, not a folder"),
    ((*CANDIDATES, "--format", "csv", "--output", "file/o.csv"), "cannot write file/o.csv"),
    ((*COMMIT, "--receipts-dir", "file/receipts"), "cannot write file/receipts"),
    ((*REVERSE, "--receipt", "1", "--receipts-dir", "file/receipts"), "cannot write file/receipts"),
    ((*REPORT, "--output", "file/r.pdf"), "cannot write file/r.pdf: file is a file"),
    (("demo-data", "--out", "file/extract"), "cannot write file/extract"),
    (("demo", "--out", "file/run"), "cannot write file/run"),
    # a bad date: the same line in every command
    (("demo", "--as-of", "2026-13-01"), "argument --as-of: '2026-13-01' is not a date; write YYYY-MM-DD"),
    (("demo-data", "--out", "x", "--end-date", "11/01/2026"), "argument --end-date: '11/01/2026' is not a date; write YYYY-MM-DD"),
    ((*CANDIDATES, "--as-of", "11/01/2026"), "argument --as-of: '11/01/2026' is not a date; write YYYY-MM-DD"),
    ((*COMMIT, "--as-of", "11/01/2026"), "argument --as-of: '11/01/2026' is not a date; write YYYY-MM-DD"),
    (("history", *STORE, "--from", "yesterday"), "argument --from: 'yesterday' is not a date; write YYYY-MM-DD"),
    (("history", *STORE, "--to", "2026-02-30"), "argument --to: '2026-02-30' is not a date; write YYYY-MM-DD"),
    (("history", *STORE, "--to", "20261101"), "argument --to: '20261101' is not a date; write YYYY-MM-DD"),
    ((*REPORT, "--output", "r.pdf", "--as-of", "11/01/2026"), "argument --as-of: '11/01/2026' is not a date"),
    (("report", *STORE, "--history", "--from", "x", "--to", "2026-11-01", "--output", "h.html"),
     "argument --from: 'x' is not a date; write YYYY-MM-DD"),
    (("spark-candidates", "--preset", "bad-debt", "--extract", "x", "--as-of", "11/01/2026"),
     "argument --as-of: '11/01/2026' is not a date; write YYYY-MM-DD"),
    # an unknown receipt, or text that is no receipt number
    (("history", *STORE, "--receipt", "WO-000404"), "unknown receipt 'WO-000404'"),
    (("history", *STORE, "--receipt", "404"), "unknown receipt 'WO-000404'"),
    (("history", *STORE, "--receipt", "last"), "argument --receipt: 'last' is not a receipt number; write WO-000001 (or 1)"),
    ((*REVERSE, "--receipt", "wo-404"), "unknown receipt 'WO-000404'"),
    ((*REVERSE, "--receipt", "WO-1x"), "argument --receipt: 'WO-1x' is not a receipt number"),
    ((*REVERSE, "--receipt", "\u0661"), "is not a receipt number"),  # an Arabic-Indic one: ASCII digits only
    (("report", *STORE, "--receipt", "404", "--output", "r.pdf"), "WO-000404"),
    (("report", *STORE, "--receipt", "#1", "--output", "r.pdf"), "argument --receipt: '#1' is not a receipt number"),
    # a wrong suffix
    (("candidates", *STORE, "--criteria", "c.yaml"), "criteria file c.yaml: must end in .toml or .json (not .yaml)"),
    (("commit", *STORE, "--criteria", "c.yaml", "--reason", "BAD_DEBT"), "must end in .toml or .json"),
    (("report", *STORE, "--criteria", "c.yaml", "--output", "r.csv"), "must end in .toml or .json"),
    ((*REPORT, "--format", "pdf", "--output", "x.xlsx"),
     "--format pdf writes a .pdf file but --output x.xlsx ends in .xlsx; name it x.pdf or drop --format"),
    ((*REPORT, "--output", "x.doc"), "cannot tell the format of x.doc from its suffix"),
    ((*REPORT, "--output", "report"), "cannot tell the format of report from its suffix"),
    (("load", "c.toml", *STORE), "c.toml"),
    ((*CANDIDATES, "--format", "parquet", "--output", "o.csv"), "--format parquet does not match --output o.csv (.csv)"),
    # usage mistakes and refused values
    ((), "writeoff: error: the following arguments are required: COMMAND"),
    (("nonsense",), "writeoff: error: argument COMMAND: invalid choice: 'nonsense'"),
    (("load",), "writeoff load: error: the following arguments are required: EXTRACT"),
    (("history", "--colour"), "unrecognized arguments: --colour"),
    (("commit", *STORE, "--preset", "bad-debt"), "the following arguments are required: --reason"),
    ((*COMMIT[:-1], "NO_SUCH_REASON"), "unknown reason 'NO_SUCH_REASON'"),
    ((*CANDIDATES, "--format", "pdf"), "argument --format: invalid choice: 'pdf'"),
    (("report", *STORE, "--preset", "small-balance", "--receipt", "1", "--output", "r.pdf"),
     "argument --receipt: not allowed with argument --preset"),
    (("report", *STORE, "--history", "--from", "2026-11-01", "--output", "h.html"), "--history needs --from DATE and --to DATE"),
    (("demo-data", "--out", "full"), "full is not empty; pass --force to write into it"),
    (("demo-data", "--out", "x", "--patients", "0"), "patients must be at least 1 (got 0)"),
    (("spark-candidates", "--preset", "bad-debt", "--extract", "x", "--format", "csv"),
     "unrecognized arguments: --format csv"),
]


def _case_id(case: tuple[tuple[str, ...], str]) -> str:
    return " ".join(case[0])[:80] or "(no command)"


@pytest.mark.parametrize(("argv", "message"), CASES, ids=[_case_id(c) for c in CASES])
def test_a_mistake_is_one_line_exit_1_and_creates_nothing(
    work: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    before = tree(work)
    status = main(list(argv))
    err = capsys.readouterr().err
    assert status == 1, err
    assert len(err.splitlines()) == 1 and err.endswith("\n"), err
    assert err.startswith("writeoff")
    assert ": error: " in err
    assert "Traceback" not in err
    assert message in err
    assert tree(work) == before  # no file or folder made, none removed


def test_every_command_is_in_the_table() -> None:
    parser = build_parser()
    listed = next(a for a in parser._actions if a.dest == "command").choices
    assert listed is not None
    assert tuple(listed) == COMMANDS
    tried = {argv[0] for argv, _ in CASES if argv}
    assert tried == {*COMMANDS, "nonsense"}


def test_every_option_has_help_text() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert commands is not None
    for name, sub in commands.items():
        for action in sub._actions:
            assert action.help, f"writeoff {name} {action.option_strings or action.dest} has no help"


def _run(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "writeoff_analytics.cli", *argv],
        cwd=cwd, capture_output=True, text=True, timeout=120, env=env, check=False,
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("history", "--db", "typo/x.duckdb"), "no ledger at typo/x.duckdb"),
        (("load", EXTRACT, "--db", "dir"), "dir is a folder"),
        (("candidates", *STORE, "--preset", "bad-debt", "--as-of", "11/01/2026"), "is not a date"),
        ((*REPORT, "--format", "pdf", "--output", "x.xlsx"), "--format pdf writes a .pdf file"),
    ],
    ids=["read-only store", "folder as store", "bad date", "format mismatch"],
)
def test_the_real_exit_status_is_1(work: Path, argv: tuple[str, ...], message: str) -> None:
    before = tree(work)
    done = _run(work, *argv)
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1 and message in done.stderr
    assert "Traceback" not in done.stderr and "usage:" not in done.stderr
    assert tree(work) == before


def test_history_on_a_new_path_creates_neither_folder_nor_store(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--db", "typo/x.duckdb"]) == 1
    assert not (work / "typo").exists()
    assert main(["history", *STORE]) == 0
    assert "no config file" not in capsys.readouterr().err  # reading history is not a permission notice


# --- receipt numbers: the same three spellings in every command ------------------------------


@pytest.mark.parametrize("spelling", ["WO-000001", "wo-000001", "1"])
def test_history_and_report_accept_every_spelling(
    work: Path, capsys: pytest.CaptureFixture[str], spelling: str
) -> None:
    assert main(["history", *STORE, "--receipt", spelling]) == 0
    assert capsys.readouterr().out.startswith("Receipt WO-000001 ")
    assert main(["history", *STORE, "--receipt", spelling, "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("line_no,")
    out = work / "r.csv"
    assert main(["report", *STORE, "--receipt", spelling, "--output", str(out)]) == 0
    assert "receipt WO-000001: 2 lines, written off $52.34 -> " in capsys.readouterr().out
    assert out.is_file()


@pytest.mark.parametrize("spelling", ["WO-000001", "wo-000001", "1"])
def test_reverse_accepts_every_spelling(work: Path, capsys: pytest.CaptureFixture[str], spelling: str) -> None:
    assert main([*REVERSE, "--receipt", spelling, "--charge-id", "C2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Reversed 1 line(s) of WO-000001: $12.34 written back"
    assert out[-1] == "WO-000002"


def test_receipt_numbers_are_one_function_in_the_library(work: Path) -> None:
    from writeoff_analytics.writeoffs.history import search_receipts, show_receipt
    from writeoff_analytics.writeoffs.receipts import get_receipt

    ledger = Ledger.open_existing(work / "s.duckdb")
    config = Config.open_to("ana")
    assert get_receipt(ledger, "wo-000001").receipt_no == "WO-000001"
    assert show_receipt(ledger, "1", user="ana", config=config).receipt.receipt_no == "WO-000001"
    found = search_receipts(ledger, user="ana", config=config, receipt_no="wo-1")
    assert found.get_column("receipt_no").to_list() == ["WO-000001"]


# --- what the commands print ---------------------------------------------------------------


def test_commit_says_written_off_in_dollars_and_the_notice_once(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*COMMIT, "--as-of", AS_OF.isoformat(), "--exclude", "E3"]) == 0  # the login name acts
    captured = capsys.readouterr()
    assert "Written off $25.50 in 1 line(s)" in captured.out
    assert captured.out.splitlines()[-1] == "WO-000002"
    notes = [line for line in captured.err.splitlines() if "no config file" in line]
    assert len(notes) == 1
    assert "create writeoff.toml" in notes[0] and "[users.NAME]" in notes[0] and "permissions = [" in notes[0]


def test_reasons_are_accepted_either_way(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*COMMIT[:-1], "no-balance-billing", "--as-of", AS_OF.isoformat()]) == 0
    assert "reason NO_BALANCE_BILLING" in capsys.readouterr().out


def test_the_candidates_table_says_what_it_did_not_show(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from writeoff_analytics.cli import cmd_candidates

    criteria = ("--criteria", "c.toml", "--as-of", AS_OF.isoformat())
    assert main(["candidates", *STORE, *criteria, "--format", "csv"]) == 0
    lines = len(capsys.readouterr().out.splitlines()) - 1
    assert lines == 3  # the store's open patient lines: E2's, E3's and the commercial patient's
    old, cmd_candidates.TABLE_ROWS = cmd_candidates.TABLE_ROWS, 1
    try:
        assert main(["candidates", *STORE, *criteria]) == 0
    finally:
        cmd_candidates.TABLE_ROWS = old
    out = capsys.readouterr().out
    assert "First 1 of 3 lines:" in out
    assert out.splitlines()[-1] == "2 more lines not shown; to get them all, use --format csv (or json, or parquet with --output FILE)."


def test_candidates_take_the_format_from_the_suffix(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import polars as pl

    assert main(["candidates", *STORE, "--criteria", "c.toml", "--as-of", AS_OF.isoformat(), "--output", "o.parquet"]) == 0
    assert pl.read_parquet(work / "o.parquet").height == 3
    assert "3 lines written to o.parquet" in capsys.readouterr().err


def test_report_takes_the_format_from_the_suffix(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*REPORT, "--as-of", AS_OF.isoformat(), "--output", "c.CSV"]) == 0
    assert (work / "c.CSV").read_text(encoding="utf-8").startswith("charge_id,")
    assert main([*REPORT, "--as-of", AS_OF.isoformat(), "--format", "html", "--output", "c.htm"]) == 0
    assert "<html" in (work / "c.htm").read_text(encoding="utf-8").lower()


def test_demo_data_writes_into_a_full_folder_only_with_force(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo-data", "--out", "full", "--patients", "3", "--force"]) == 0
    assert (work / "full" / "keep.txt").is_file() and (work / "full" / "charges.csv").is_file()
    assert "total charges" in capsys.readouterr().out


# --- criteria files: one reader, so one command accepts what another does -------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("top.toml", 'balance_type = "PATIENT"\nwrite_off_by = "ENCOUNTER"\nresponsibility = "NOT_RESPONSIBLE"\n'),
        ("table.toml", '[criteria]\nbalance_type = "PATIENT"\nwrite_off_by = "ENCOUNTER"\nresponsibility = "NOT_RESPONSIBLE"\n'),
        ("top.json", '{"balance_type": "PATIENT", "write_off_by": "ENCOUNTER", "responsibility": "NOT_RESPONSIBLE"}'),
        ("table.json", '{"criteria": {"balance_type": "PATIENT", "write_off_by": "ENCOUNTER", '
                       '"responsibility": "NOT_RESPONSIBLE"}}'),
    ],
)
def test_candidates_report_and_commit_read_a_criteria_file_alike(
    work: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    (work / name).write_text(text, encoding="utf-8")
    when = ("--as-of", AS_OF.isoformat())
    assert main(["candidates", *STORE, "--criteria", name, *when, "--format", "csv"]) == 0
    assert [r.split(",")[0] for r in capsys.readouterr().out.splitlines()[1:]] == ["C3", "C4"]
    assert main(["report", *STORE, "--criteria", name, *when, "--output", "c.csv"]) == 0
    assert "2 lines, total $625.50" in capsys.readouterr().out
    assert main(["commit", *STORE, "--criteria", name, *when, "--reason", "BAD_DEBT", "--exclude", "E3"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "WO-000002"
