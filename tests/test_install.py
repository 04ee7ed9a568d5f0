"""`pip install .` without extras: every non-Spark command runs; Spark is refused, naming the extra.

A fresh venv is built in a temporary folder with uv (installed for the system ``python3``
by scripts/setup.sh; its cache is warm after setup), and a copy of the checkout's build
inputs is installed into it with ``--constraint requirements.lock``: only what the core
needs is installed, each at its locked version. The commands then run from that venv's
``writeoff`` script, in a temporary folder, without ``PYTHONPATH``; where a command's
output does not depend on the clock, the checkout's CLI runs the same arguments in a twin
folder and must print the same. Nothing is written into the checkout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_dependencies import MODULES, PINS, is_spark_only, normalize
from writeoff_analytics.demo import generate_demo

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements.lock"
DEMO = REPO / "data" / "demo"
X12_SAMPLE = REPO / "tests" / "data" / "x12" / "LinuxForHealth__x12__managed-care.835"
SYNTHEA_SAMPLE = REPO / "tests" / "data" / "synthea"
SPARK_ERROR = (
    "error: the Spark engine needs the optional extra: pip install 'writeoff_analytics[spark]' "
    "(not installed here: pyspark, sqlglot)"
)
#: A ledger extract whose encounters and charges are the claims of X12_SAMPLE.
X12_EXTRACT = {
    "payers": "payer_id,payer_name,financial_class,balance_bill_patient\n"
    "P-RL,Rushmore Life,COMMERCIAL,true\n",
    "patients": "patient_id,guarantor_id,last_name,first_name,date_of_birth,deceased_date,"
    "financial_hardship\nPT1,,,,,,\nPT2,,,,,,\n",
    "coverages": "patient_id,payer_id,priority,effective_from,effective_to,member_id,qmb,"
    "patient_responsible\n",
    "encounters": "encounter_id,patient_id,date_of_service,provider_id,location_id\n"
    "5554555444,PT1,2002-03-01,,\n8765432112,PT2,2002-03-10,,\n",
    "charges": "charge_id,encounter_id,procedure_code,units,charge_amount,billed_payer_id,"
    "posted_date\nC1,5554555444,99211,1,800.00,P-RL,2002-03-04\n"
    "C2,8765432112,93555,1,1200.00,P-RL,2002-03-12\n",
    "transactions": "transaction_id,charge_id,posted_date,type,responsibility,payer_id,amount,"
    "group_code,reason_code,reference\n",
}


@dataclass(frozen=True)
class Installed:
    """The fresh venv and two empty work folders (one for it, a twin for the checkout)."""

    venv: Path
    work: Path
    twin: Path
    seconds: float

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def writeoff(self) -> Path:
        return self.venv / "bin" / "writeoff"


def _env() -> dict[str, str]:
    """This environment without what would point Python at the checkout or the dev venv."""
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _run(cmd: Sequence[str | Path], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env if env is not None else _env(),
        capture_output=True, text=True, timeout=600, check=False,
    )


def _ok(cmd: Sequence[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = _run(cmd, cwd)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _uv() -> list[str]:
    python3 = shutil.which("python3")
    if python3 is None or _run([python3, "-m", "uv", "--version"], Path.cwd()).returncode != 0:
        pytest.fail("uv is not installed for python3; scripts/setup.sh installs it (pip install uv)")
    return [python3, "-m", "uv"]


def _build_inputs() -> list[str]:
    """What the wheel is built from, as pyproject.toml names it (plus any licence file)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    names = {"pyproject.toml", project["project"]["readme"]}
    names |= {p.split("/")[0] for p in wheel["packages"]}
    names |= {p.split("/")[0] for p in wheel.get("force-include", {})}
    names |= {p.name for p in REPO.glob("LICEN[CS]E*")}
    return sorted(names)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the build inputs: whatever a build backend writes beside its sources
    (build/, *.egg-info) never lands in the checkout."""
    source = tmp_path_factory.mktemp("source")
    for name in _build_inputs():
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, source / name)
    return source


def _install(root: Path, requirement: str, what: str) -> Installed:
    """A fresh venv in ``root`` with ``requirement`` installed at the locked versions."""
    venv = root / "venv"
    uv = _uv()
    started = time.perf_counter()
    _ok([*uv, "venv", "-q", venv, "-p", sys.executable], root)
    _ok([*uv, "pip", "install", "-q", "--python", venv / "bin" / "python", "--constraint", LOCK, requirement], root)
    seconds = time.perf_counter() - started
    print(f"\nfresh venv + install of {what}: {seconds:.1f} s")
    (root / "work").mkdir()
    (root / "twin").mkdir()
    return Installed(venv, root / "work", root / "twin", seconds)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, source: Path) -> Installed:
    return _install(tmp_path_factory.mktemp("install"), str(source), ". without extras")


def _both(installed: Installed, *args: str | Path) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """Run ``writeoff ARGS`` from the venv in ``work`` and from the checkout in ``twin``."""
    mine = _run([installed.writeoff, *args], installed.work)
    theirs = _run([sys.executable, "-m", "writeoff_analytics.cli", *args], installed.twin, env=dict(os.environ))
    return mine, theirs


def _same(installed: Installed, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run in both places; both succeed and print the same (paths are relative)."""
    mine, theirs = _both(installed, *args)
    assert mine.returncode == 0, mine.stderr
    assert "Traceback" not in mine.stderr
    assert (mine.returncode, mine.stdout, mine.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)
    return mine


def _installed_versions(installed: Installed) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    done = _ok([installed.python, "-c", code], installed.work)
    return {normalize(k): v for k, v in json.loads(done.stdout).items()}


# --- the venv -------------------------------------------------------------------------------


def test_only_the_core_is_installed_at_the_locked_versions(installed: Installed) -> None:
    versions = _installed_versions(installed)
    assert versions.pop("writeoff-analytics") == tomllib.loads(
        (REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert not {"pyspark", "py4j", "sqlglot"} & versions.keys()
    assert {"duckdb", "polars", "numpy", "pydyf", "weasyprint"} <= versions.keys()
    assert {name: (v, PINS.get(name)) for name, v in versions.items() if PINS.get(name) != v} == {}
    where = _ok([installed.python, "-c", "import writeoff_analytics as w; print(w.__file__)"], installed.work)
    assert Path(where.stdout.strip()).is_relative_to(installed.venv)  # the wheel, not the checkout


def test_every_core_module_imports(installed: Installed) -> None:
    # every module the package has, but the Spark ones and `python -m` entry points
    core = sorted(m for m in MODULES if not is_spark_only(m) and not m.endswith(".__main__"))
    code = f"import importlib\nfor m in {core!r}:\n    importlib.import_module(m)\nprint(len({core!r}))"
    done = _ok([installed.python, "-W", "error", "-c", code], installed.work)
    assert int(done.stdout) == len(core) > 40


# --- every non-Spark command --------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_run(installed: Installed) -> Path:
    """``writeoff demo`` from the venv: load, find, commit, reports (PDF too)."""
    done = _ok([installed.writeoff, "demo", "--extract", DEMO, "--out", "demo-run"], installed.work)
    assert done.stdout.splitlines()[-1] == "WO-000001"
    return installed.work / "demo-run"


def test_demo(demo_run: Path) -> None:
    assert {p.name for p in (demo_run / "receipts").iterdir()} >= {"WO-000001.csv", "WO-000001.json"}
    reports = demo_run / "reports"
    assert (reports / "no-balance-billing-candidates.csv").stat().st_size > 0
    assert (reports / "no-balance-billing-candidates.pdf").read_bytes().startswith(b"%PDF")
    assert (reports / "WO-000001.pdf").read_bytes().startswith(b"%PDF")


def test_demo_data(installed: Installed) -> None:
    _ok([installed.writeoff, "demo-data", "--out", "demo-data", "--patients", "40", "--seed", "3"], installed.work)
    expected = installed.twin / "demo-data"
    generate_demo(expected, patients=40, seed=3)
    made = installed.work / "demo-data"
    assert sorted(p.name for p in made.iterdir()) == sorted(p.name for p in expected.iterdir())
    assert all((made / p.name).read_bytes() == p.read_bytes() for p in expected.iterdir())


def test_read_commands_on_the_demo_store(installed: Installed, demo_run: Path) -> None:
    db = demo_run / "ledger.duckdb"
    # the checkout reads the venv's store too: the same answers, byte for byte
    for fmt in ("table", "csv"):
        found = _same(installed, "candidates", "--db", db, "--preset", "small-balance",
                      "--as-of", "2026-11-01", "--format", fmt)
        assert found.stdout.count("\n") > (100 if fmt == "csv" else 20)  # the table shows a few
    history = _ok([installed.writeoff, "history", "--db", db, "--format", "csv"], installed.work)
    assert history.stdout.splitlines()[1].startswith("WO-000001,")
    one = _ok([installed.writeoff, "history", "--db", db, "--receipt", "WO-000001", "--format", "json"],
              installed.work)
    assert len(json.loads(one.stdout)["lines"]) == 216


@pytest.mark.parametrize("fmt", ["csv", "pdf"])
def test_report(installed: Installed, demo_run: Path, fmt: str) -> None:
    db = demo_run / "ledger.duckdb"
    preset = "bad-debt" if fmt == "csv" else "deceased"  # a PDF of 2,700 lines takes a while
    _same(installed, "report", "--db", db, "--preset", preset, "--as-of", "2026-11-01",
          "--format", fmt, "--output", f"{preset}.{fmt}")
    mine = (installed.work / f"{preset}.{fmt}").read_bytes()
    if fmt == "csv":
        assert mine == (installed.twin / f"{preset}.csv").read_bytes()
        assert mine.count(b"\n") > 1000
    else:
        assert mine.startswith(b"%PDF")
    _ok([installed.writeoff, "report", "--db", db, "--receipt", "WO-000001", "--format", fmt,
         "--output", f"receipt.{fmt}"], installed.work)
    assert (installed.work / f"receipt.{fmt}").stat().st_size > 0


def test_commit_and_reverse(installed: Installed, demo_run: Path) -> None:
    db = demo_run / "ledger.duckdb"
    receipts = installed.work / "receipts"
    commit = _ok([installed.writeoff, "commit", "--db", db, "--preset", "small-balance", "--as-of",
                  "2026-11-01", "--reason", "SMALL_BALANCE", "--receipts-dir", receipts], installed.work)
    number = commit.stdout.splitlines()[-1]
    assert re.fullmatch(r"WO-\d{6}", number) and number != "WO-000001"
    reverse = _ok([installed.writeoff, "reverse", "--db", db, "--receipt", number, "--reason",
                   "test of the installed package", "--receipts-dir", receipts], installed.work)
    assert reverse.stdout.splitlines()[-1] > number
    assert {p.suffix for p in receipts.iterdir()} == {".csv", ".json"}


def test_load_and_import_835(installed: Installed) -> None:
    for folder in (installed.work, installed.twin):
        (folder / "x12-extract").mkdir()
        for table, text in X12_EXTRACT.items():
            (folder / "x12-extract" / f"{table}.csv").write_text(text, encoding="utf-8")
    _same(installed, "load", "x12-extract", "--db", "x12.duckdb")
    posted = _same(installed, "import-835", X12_SAMPLE, "--db", "x12.duckdb")
    assert "claims 2, lines 2, matched 2" in posted.stdout


def test_import_synthea(installed: Installed) -> None:
    done = _same(installed, "import-synthea", SYNTHEA_SAMPLE, "--db", "synthea.duckdb")
    assert "charges 163" in done.stdout


# --- Spark: refused, naming the extra -----------------------------------------------------


def test_spark_is_refused_in_one_line_naming_the_extra(installed: Installed, demo_run: Path) -> None:
    db = demo_run / "ledger.duckdb"
    practices = installed.work / "practices" / "practice=P1"
    practices.mkdir(parents=True)
    for command, args in [
        ("candidates", ["--engine", "spark", "--db", db, "--preset", "bad-debt"]),
        ("candidates", ["--engine", "spark", "--extract", practices.parent, "--preset", "bad-debt"]),
        ("spark-candidates", ["--extract", practices.parent, "--preset", "bad-debt"]),
    ]:
        done = _run([installed.writeoff, command, *args], installed.work)
        assert done.returncode == 1, done.stdout
        assert done.stderr.splitlines() == [f"writeoff {command}: {SPARK_ERROR}"]
    code = (
        "from writeoff_analytics.errors import ConfigError\n"
        "from writeoff_analytics.spark.session import build_session\n"
        "try:\n    build_session()\nexcept ConfigError as exc:\n    print(exc)\n"
    )
    api = _ok([installed.python, "-c", code], installed.work)
    assert api.stdout == SPARK_ERROR.removeprefix("error: ") + "\n"


# --- the [spark] extra adds Spark -----------------------------------------------------------


@pytest.mark.spark
def test_the_spark_extra_adds_spark(tmp_path_factory: pytest.TempPathFactory, source: Path) -> None:
    spark = _install(tmp_path_factory.mktemp("install-spark"), f"{source}[spark]", ".[spark]")
    versions = _installed_versions(spark)
    assert {name: versions.get(name) for name in ("pyspark", "sqlglot", "py4j")} == {
        name: PINS[name] for name in ("pyspark", "sqlglot", "py4j")
    }
    _ok([spark.writeoff, "load", DEMO, "--db", "demo.duckdb"], spark.work)
    found = {
        engine: _ok([spark.writeoff, "candidates", "--db", "demo.duckdb", "--preset", "deceased",
                     "--as-of", "2026-11-01", "--format", "csv", "--engine", engine], spark.work).stdout
        for engine in ("duckdb", "spark")
    }
    assert found["spark"] == found["duckdb"]
    assert found["duckdb"].count("\n") > 50
