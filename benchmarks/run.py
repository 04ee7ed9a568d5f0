"""Run every benchmark of issue 7 and write ``benchmarks/RESULTS.md`` (measure, never assert).

    python benchmarks/run.py --transactions 10000000
    python benchmarks/run.py --sizes 1000000,3000000,10000000 --repeat 5
    python benchmarks/run.py --quick            # a tiny run that only checks the script works

For each size N it generates a demo extract of about N transactions (CSV and Parquet, kept in
``--workdir`` and reused), then measures, each against a baseline in the same run:

1. loads (CSV, Parquet) with ``load_extract`` into a fresh file store, each in a child
   process (seconds inside the call, and the child's peak RSS from ``os.wait4``), beside
   ``baselines.bare_duckdb_load`` (also in a child);
2. candidates of the six presets on both engines (median of ``--repeat`` runs after one
   warm-up), beside the one-query DuckDB baseline (run on the store's raw tables) and the
   pandas baseline (in a child process; reading timed apart);
3. commit of a 100,000-line batch (receipt files included) and its reversal;
4. the widget's criterion change -> totals (``MassWriteOff.timed_change``);
and, once per run, Spark beside DuckDB (``bench_spark.run``, in a child with a 10-minute
limit) and the 20,000-line candidate PDF (``bench_report``). A missed target is profiled
(cProfile) and the profile goes into the results.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import datetime as dt
import io
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _p in (ROOT / "src", ROOT):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

PRESETS = ("no-balance-billing", "small-balance", "bad-debt", "deceased", "hardship", "timely-filing")
ENGINES = ("duckdb", "polars")
BATCH_LINES = 100_000
PDF_LINES = 20_000
SPARK_SIZES = (1_000_000, 10_000_000)
SPARK_TIMEOUT = 600
GB = 1024**3

# Targets (issue 7).
LOAD_CSV_RATIO = 3.0
LOAD_CSV_SECONDS = 20.0
LOAD_PARQUET_SECONDS = 10.0
LOAD_RSS_BYTES = 4 * GB
PRESET_SECONDS = 0.3
PANDAS_SPEEDUP = 20.0
COMMIT_SECONDS = 5.0
WIDGET_SECONDS = 0.5


# -- child processes ----------------------------------------------------------------------


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(ROOT / "src"), str(ROOT)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def run_child(kind: str, spec: dict[str, Any], *, timeout: float | None = None) -> dict[str, Any]:
    """Run ``kind`` in a fresh Python process; return its JSON answer plus ``peak_rss`` (bytes).

    The peak RSS is the child's own ``VmHWM`` (its memory since it started), read by the
    child as it ends; ``os.wait4``'s ``ru_maxrss`` (kept as a fallback) would also count the
    size of this process when it forked the child, which late in a run is gigabytes.
    On failure or timeout the answer holds ``error``.
    """
    with tempfile.TemporaryDirectory(prefix="bench_child_") as tmp:
        out = Path(tmp) / "out.json"
        log = Path(tmp) / "log.txt"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, json.dumps(spec), str(out)]
        start = time.perf_counter()
        with log.open("w") as log_file:
            proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, env=_child_env(),
                                    start_new_session=True)
            status, rusage = _wait(proc, timeout)
        wall = time.perf_counter() - start
        proc.returncode = status
        answer: dict[str, Any] = json.loads(out.read_text()) if out.is_file() else {}
        own = answer.pop("own_peak_rss", None)
        answer["peak_rss"] = own if own else (rusage.ru_maxrss * 1024 if rusage is not None else None)
        answer["wall_seconds"] = wall
        if status is None:
            answer["error"] = f"stopped after {timeout:.0f} s (time limit)"
        elif status != 0 and "error" not in answer:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            answer["error"] = f"exit status {status}: " + " | ".join(tail)
        return answer


def _wait(proc: subprocess.Popen[bytes], timeout: float | None) -> tuple[int | None, Any]:
    """Wait for the child (killing its process group on timeout); return status and rusage."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            return os.waitstatus_to_exitcode(status), rusage
        if deadline is not None and time.monotonic() > deadline:
            os.killpg(proc.pid, 9)
            os.wait4(proc.pid, 0)
            return None, None
        time.sleep(0.05)


def _child_main(kind: str, spec: dict[str, Any], out: Path) -> None:
    try:
        answer = CHILDREN[kind](spec)
    except Exception as exc:
        answer = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
    answer["own_peak_rss"] = own_peak_rss()
    out.write_text(json.dumps(answer, default=str))


def own_peak_rss() -> int | None:
    """This process's peak resident memory since it started (``VmHWM``), in bytes; Linux only."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _child_load(spec: dict[str, Any]) -> dict[str, Any]:
    from writeoff_analytics import Ledger, load_extract

    db = Path(spec["db"])
    ledger = Ledger(db)
    profile = cProfile.Profile() if spec.get("profile") else None
    start = time.perf_counter()
    if profile:
        profile.enable()
    report = load_extract(ledger, spec["extract"])
    if profile:
        profile.disable()
    seconds = time.perf_counter() - start
    answer = {"seconds": seconds, "rows": dict(report.row_counts), "rejected": report.rejected_rows}
    if profile:
        answer["profile"] = _profile_text(profile)
    return answer


def _child_bare(spec: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.baselines import bare_duckdb_load

    start = time.perf_counter()
    rows = bare_duckdb_load(Path(spec["extract"]), Path(spec["db"]), spec["fmt"])
    return {"seconds": time.perf_counter() - start, "rows": rows}


def _child_pandas(spec: dict[str, Any]) -> dict[str, Any]:
    import polars as pl

    from benchmarks.baselines import pandas_candidates, read_pandas

    as_of = dt.date.fromisoformat(spec["as_of"])
    start = time.perf_counter()
    frames = read_pandas(Path(spec["extract"]))
    answer: dict[str, Any] = {"read_seconds": time.perf_counter() - start, "presets": {}}
    for preset in spec["presets"]:
        times, found = [], None
        for _ in range(spec["repeat"]):
            t0 = time.perf_counter()
            found = pandas_candidates(frames, preset, as_of)
            times.append(time.perf_counter() - t0)
        assert found is not None
        ids = pl.Series("charge_id", found["charge_id"].astype(str).tolist(), dtype=pl.String)
        ids.to_frame().write_parquet(Path(spec["out_dir"]) / f"pandas_{preset}.parquet")
        answer["presets"][preset] = {"seconds": statistics.median(times), "lines": len(found),
                                     "total": round(float(found["balance"].sum()), 2)}
    return answer


def _child_spark(spec: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.bench_spark import error_text, run

    try:
        return run(spec["transactions"], master=spec.get("master", "local[2]"),
                   practices=spec.get("practices", 10))
    except Exception as exc:  # the Java cause, not only the Py4J call that carried it
        return {"error": error_text(exc)}


def _child_pdf(spec: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.bench_report import bench_candidate_pdf

    t = bench_candidate_pdf(spec["lines"], Path(spec["out"]))
    return {"lines": t.lines, "seconds_build": t.seconds_build, "seconds_pdf": t.seconds_pdf,
            "pages": t.pages}


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "load": _child_load,
    "bare": _child_bare,
    "pandas": _child_pandas,
    "spark": _child_spark,
    "pdf": _child_pdf,
}


# -- helpers ------------------------------------------------------------------------------


def _profile_text(profile: cProfile.Profile, top: int = 12) -> str:
    buf = io.StringIO()
    stats = pstats.Stats(profile, stream=buf)
    stats.sort_stats("cumulative").print_stats(top)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    return "\n".join(ln.replace(str(ROOT) + "/", "").replace(sys.prefix, "<venv>") for ln in lines[start:])


def _profiled(fn: Callable[[], Any]) -> str:
    profile = cProfile.Profile()
    profile.enable()
    fn()
    profile.disable()
    return _profile_text(profile)


def _median_time(fn: Callable[[], Any], repeat: int, *, warmup: bool = True) -> tuple[float, Any]:
    value = fn() if warmup else None
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _extract(workdir: Path, transactions: int, fmt: str) -> tuple[Path, dict[str, int]]:
    """The demo extract of about ``transactions`` transactions in ``fmt`` (made once, reused)."""
    from writeoff_analytics.demo import generate_demo

    folder = workdir / f"extract_{transactions}_{fmt}"
    done = folder / "rows.json"
    if done.is_file():
        return folder, json.loads(done.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    start = time.perf_counter()
    summary = generate_demo(folder, transactions=transactions, fmt=fmt)
    _log(f"  generated {fmt} extract in {time.perf_counter() - start:.1f} s: {dict(summary.row_counts)}")
    rows = dict(summary.row_counts)
    done.write_text(json.dumps(rows))
    return folder, rows


def _fresh(path: Path) -> Path:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
    return path


# -- one size -----------------------------------------------------------------------------


@dataclasses.dataclass
class Row:
    """One figure of the results table."""

    size: int
    figure: str
    ours: float | None
    unit: str  # "s" or "GB"
    baseline_name: str = ""
    baseline: float | None = None
    target: str = ""
    met: bool | None = None
    miss: str = ""
    note: str = ""


def bench_size(n: int, args: argparse.Namespace, workdir: Path, *, profile: bool) -> tuple[list[Row], dict[str, Any]]:
    """Every figure at one size; misses are profiled when ``profile``."""
    from writeoff_analytics import (
        Batch,
        Config,
        Criteria,
        Ledger,
        commit_batch,
        criteria_from_preset,
        find_candidates,
        reverse_receipt,
    )
    from writeoff_analytics.demo import DEFAULT_END_DATE
    from writeoff_analytics.engines import query_params
    from writeoff_analytics.queries import load as load_query

    rows: list[Row] = []
    info: dict[str, Any] = {"profiles": {}, "counts": [], "load_before": os.getloadavg()}
    as_of = DEFAULT_END_DATE
    _log(f"size {n:,}: extracts")
    csv_dir, counts = _extract(workdir, n, "csv")
    pq_dir, _ = _extract(workdir, n, "parquet")
    info["rows"] = counts
    dbs = workdir / f"stores_{n}"
    dbs.mkdir(parents=True, exist_ok=True)

    # 1. loads --------------------------------------------------------------------------
    loads: dict[str, dict[str, Any]] = {}
    for fmt, folder in (("csv", csv_dir), ("parquet", pq_dir)):
        _log(f"size {n:,}: bare DuckDB load ({fmt})")
        loads[f"bare_{fmt}"] = run_child("bare", {"extract": str(folder), "fmt": fmt,
                                                  "db": str(_fresh(dbs / f"bare_{fmt}.duckdb"))})
        _log(f"size {n:,}: load_extract ({fmt})")
        loads[fmt] = run_child("load", {"extract": str(folder), "db": str(_fresh(dbs / f"ledger_{fmt}.duckdb"))})
        for key in (fmt, f"bare_{fmt}"):
            if "error" in loads[key]:
                _log(f"  {key} failed: {loads[key]['error']}")
        _log(f"  ours {loads[fmt].get('seconds')}, bare {loads[f'bare_{fmt}'].get('seconds')}")
    for fmt in ("csv", "parquet"):
        ours, bare = loads[fmt], loads[f"bare_{fmt}"]
        sec, base = ours.get("seconds"), bare.get("seconds")
        if fmt == "csv":
            target = f"<= {LOAD_CSV_RATIO:g}x baseline and < {LOAD_CSV_SECONDS:g} s"
            met = None if sec is None or base is None else (sec <= LOAD_CSV_RATIO * base and sec < LOAD_CSV_SECONDS)
            miss = _miss([(sec, LOAD_CSV_RATIO * base if base else None, f"{LOAD_CSV_RATIO:g}x baseline"),
                          (sec, LOAD_CSV_SECONDS, f"{LOAD_CSV_SECONDS:g} s")])
        else:
            target = f"< {LOAD_PARQUET_SECONDS:g} s"
            met = None if sec is None else sec < LOAD_PARQUET_SECONDS
            miss = _miss([(sec, LOAD_PARQUET_SECONDS, f"{LOAD_PARQUET_SECONDS:g} s")])
        note = ours.get("error", "") or bare.get("error", "")
        if ours.get("rejected"):
            note += f"{ours['rejected']} rows rejected"
        rows.append(Row(n, f"load {fmt.upper()} (validate + derive)", sec, "s", f"bare DuckDB read_{fmt}",
                        base, target, met, miss, note))
        rss, base_rss = ours.get("peak_rss"), bare.get("peak_rss")
        rows.append(Row(n, f"load {fmt.upper()} peak RSS", rss / GB if rss else None, "GB",
                        f"bare DuckDB read_{fmt}", base_rss / GB if base_rss else None,
                        f"< {LOAD_RSS_BYTES // GB} GB", None if rss is None else rss < LOAD_RSS_BYTES,
                        _miss([(rss / GB if rss else None, LOAD_RSS_BYTES / GB, "4 GB")], unit="GB")))
        if not met and sec is not None and profile:
            _log(f"size {n:,}: profiling the {fmt} load (missed)")
            prof = run_child("load", {"extract": str(csv_dir if fmt == "csv" else pq_dir),
                                      "db": str(_fresh(dbs / "ledger_profile.duckdb")), "profile": True})
            info["profiles"][f"load {fmt.upper()} at {n:,}"] = prof.get("profile", prof.get("error", ""))
            _fresh(dbs / "ledger_profile.duckdb")

    # 2. candidates ---------------------------------------------------------------------
    ledger = Ledger(dbs / "ledger_parquet.duckdb")
    info["charges"] = ledger.balances().height
    _log(f"size {n:,}: pandas baseline (child)")
    pandas = run_child("pandas", {"extract": str(csv_dir), "presets": list(PRESETS), "as_of": as_of.isoformat(),
                                  "repeat": args.pandas_repeat, "out_dir": str(dbs)})
    if "error" in pandas:
        _log(f"  pandas failed: {pandas['error']}")
    info["pandas_read"] = pandas.get("read_seconds")
    info["pandas_rss"] = pandas.get("peak_rss")
    derive_sql = load_query("derive_charge_balances").sql
    cand_sql = load_query("select_candidate_lines").sql
    from benchmarks.baselines import one_query_sql

    one_sql = one_query_sql(derive_sql, cand_sql)
    import polars as pl

    misses: list[tuple[float, str, str, Any, dict[str, Any]]] = []
    for preset in PRESETS:
        _log(f"size {n:,}: candidates {preset}")
        crit = criteria_from_preset(preset, as_of=as_of)
        found: dict[str, Any] = {}
        med: dict[str, float] = {}
        for engine in ENGINES:
            med[engine], found[engine] = _median_time(
                lambda e=engine, c=crit: find_candidates(ledger, c, engine=e), args.repeat)
        params = query_params.sql_params(crit, as_of)

        def one_query(p: dict[str, Any] = params) -> Any:
            with ledger.connect() as con:
                return con.sql(one_sql, params=p).pl()

        one_med, one_found = _median_time(one_query, args.repeat, warmup=False)
        ours_ids = set(found["duckdb"].lines.get_column("charge_id").to_list())
        pd_res = pandas.get("presets", {}).get(preset, {})
        pd_file = dbs / f"pandas_{preset}.parquet"
        pd_ids = set(pl.read_parquet(pd_file).get_column("charge_id").to_list()) if pd_file.is_file() else None
        one_ids = set(one_found.get_column("charge_id").to_list())
        count = {
            "preset": preset, "duckdb": found["duckdb"].line_count, "polars": found["polars"].line_count,
            "same_frames": found["duckdb"].lines.equals(found["polars"].lines),
            "total": str(found["duckdb"].total),
            "one_query": len(one_found), "one_query_same": one_ids == ours_ids,
            "pandas": pd_res.get("lines"), "pandas_total": pd_res.get("total"),
            "pandas_only": len(pd_ids - ours_ids) if pd_ids is not None else None,
            "ours_only": len(ours_ids - pd_ids) if pd_ids is not None else None,
        }
        info["counts"].append(count)
        pd_sec = pd_res.get("seconds")
        for engine in ENGINES:
            sec = med[engine]
            fast = sec < PRESET_SECONDS
            beats_one = sec < one_med
            beats_pd = None if pd_sec is None else pd_sec / sec >= PANDAS_SPEEDUP
            rows.append(Row(n, f"candidates {preset} ({engine})", sec, "s", "one-query DuckDB", one_med,
                            f"< {PRESET_SECONDS:g} s; faster than one-query", fast and beats_one,
                            _miss([(sec, PRESET_SECONDS, f"{PRESET_SECONDS:g} s"),
                                   (sec, one_med, "one-query")])))
            rows.append(Row(n, f"candidates {preset} ({engine})", sec, "s", "pandas", pd_sec,
                            f">= {PANDAS_SPEEDUP:g}x faster than pandas", beats_pd,
                            "" if beats_pd is not False else
                            f"{pd_sec / sec:.1f}x faster, short of {PANDAS_SPEEDUP:g}x"))
            if not (fast and beats_one):
                misses.append((sec, engine, preset, crit, params))
    for engine in ENGINES:
        worst = max((m for m in misses if m[1] == engine), default=None, key=lambda m: m[0])
        if not profile or worst is None:
            continue
        _, _, preset, crit, params = worst
        key = f"candidates {preset} ({engine}) at {n:,} (the slowest miss of this engine)"
        info["profiles"][key] = _profiled(lambda e=engine, c=crit: find_candidates(ledger, c, engine=e))
        if engine == "duckdb":
            with ledger.connect() as con:
                plan = con.execute("EXPLAIN ANALYZE " + cand_sql_body(cand_sql), params).fetchall()
            info["profiles"][f"candidates {preset} (duckdb) at {n:,}: EXPLAIN ANALYZE summary"] = _summary(plan[0][1])

    # 3. commit and reversal ------------------------------------------------------------
    _log(f"size {n:,}: commit and reversal")
    user = "bench"
    config = Config.open_to(user)
    receipts = workdir / f"receipts_{n}"
    shutil.rmtree(receipts, ignore_errors=True)
    crit = Criteria("PATIENT", "PROCEDURE_LINE", as_of=as_of)
    cands = find_candidates(ledger, crit)
    ids = cands.lines.get_column("charge_id").to_list()
    if len(ids) < BATCH_LINES:
        crit = Criteria("INSURANCE", "PROCEDURE_LINE", role="ALL", as_of=as_of)
        more = find_candidates(ledger, crit)
        if more.line_count > len(ids):
            cands, ids = more, more.lines.get_column("charge_id").to_list()
    batch = Batch.from_candidates(cands, reason="ADMINISTRATIVE").exclude_lines(ids[BATCH_LINES:])
    start = time.perf_counter()
    receipt = commit_batch(ledger, batch, user=user, receipts_dir=receipts, config=config)
    commit_sec = time.perf_counter() - start
    start = time.perf_counter()
    reverse_receipt(ledger, receipt.receipt_no, reason="benchmark", user=user, receipts_dir=receipts, config=config)
    reverse_sec = time.perf_counter() - start
    note = f"{batch.line_count:,} {crit.balance_type.value} lines, {crit.write_off_by.value}"
    if batch.line_count < BATCH_LINES:
        note += f" (only {batch.line_count:,} candidate lines at this size)"
    for name, sec in (("commit 100k-line batch (+ receipt files)", commit_sec), ("reverse that batch", reverse_sec)):
        rows.append(Row(n, name, sec, "s", target=f"< {COMMIT_SECONDS:g} s", met=sec < COMMIT_SECONDS,
                        miss=_miss([(sec, COMMIT_SECONDS, f"{COMMIT_SECONDS:g} s")]), note=note))
    if profile and (commit_sec >= COMMIT_SECONDS or reverse_sec >= COMMIT_SECONDS):
        batch2 = Batch.from_candidates(find_candidates(ledger, crit), reason="ADMINISTRATIVE", note="profile")
        batch2 = batch2.exclude_lines(batch2.candidate_lines.get_column("charge_id").to_list()[BATCH_LINES:])
        holder: dict[str, Any] = {}

        def _commit() -> None:
            holder["r"] = commit_batch(ledger, batch2, user=user, receipts_dir=receipts, config=config)

        def _reverse() -> None:
            reverse_receipt(ledger, holder["r"].receipt_no, reason="profile", user=user,
                            receipts_dir=receipts, config=config)

        if commit_sec >= COMMIT_SECONDS:
            info["profiles"][f"commit at {n:,}"] = _profiled(_commit)
        else:
            _commit()
        if reverse_sec >= COMMIT_SECONDS:
            info["profiles"][f"reverse at {n:,}"] = _profiled(_reverse)
        else:
            _reverse()

    # 4. widget -------------------------------------------------------------------------
    _log(f"size {n:,}: widget refresh")
    from writeoff_analytics.widgets import MassWriteOff

    screen = MassWriteOff(ledger, user=user, as_of=as_of, receipts_dir=receipts, reports_dir=workdir / "reports",
                          config=config)
    screen.apply_preset("bad-debt")
    ages = [str(a) for a in (150, 160, 170, 190, 200, 210, 220, 230, 240, 250, 260, 270)]
    times = [screen.timed_change("min_age_days", ages[i % len(ages)]) for i in range(max(args.repeat, 3))]
    widget_sec = statistics.median(times)
    rows.append(Row(n, "widget: criterion change -> totals", widget_sec, "s",
                    target=f"< {WIDGET_SECONDS:g} s", met=widget_sec < WIDGET_SECONDS,
                    miss=_miss([(widget_sec, WIDGET_SECONDS, f"{WIDGET_SECONDS:g} s")]),
                    note=f"bad-debt preset, min_age_days changed; median of {len(times)}"))
    if profile and widget_sec >= WIDGET_SECONDS:
        info["profiles"][f"widget at {n:,}"] = _profiled(lambda: screen.timed_change("min_age_days", "185"))
    screen.close()
    info["load_after"] = os.getloadavg()
    return rows, info


def _summary(plan: str) -> str:
    """The summary box of DuckDB's EXPLAIN ANALYZE text (the whole tree is too wide to read)."""
    lines = plan.splitlines()
    end = next((i for i, ln in enumerate(lines) if ln.startswith("╰")), 4)
    return "\n".join(lines[: end + 1])


def cand_sql_body(sql: str) -> str:
    """The candidate query without its header comments (for EXPLAIN ANALYZE)."""
    return "\n".join(ln for ln in sql.splitlines() if not ln.startswith("--"))


def _miss(checks: list[tuple[float | None, float | None, str]], unit: str = "s") -> str:
    out = []
    for value, limit, name in checks:
        if value is None or limit is None or value < limit:
            continue
        over = value - limit
        out.append(f"over {name} by {over:.2f} {unit} ({value / limit:.1f}x)" if limit else f"over {name}")
    return "; ".join(out)


# -- once per run -------------------------------------------------------------------------


def bench_spark(sizes: list[int], results: list[dict[str, Any]], done: Callable[[], None]) -> None:
    """Spark beside DuckDB (child processes, 10-minute limit each); ``done()`` after each size."""
    for n in sizes:
        _log(f"spark at {n:,}")
        answer = run_child("spark", {"transactions": n}, timeout=SPARK_TIMEOUT)
        if "error" in answer:
            _log(f"  spark failed: {answer['error']}")
        answer["size"] = n
        results.append(answer)
        done()


#: Figures measured apart from this script (practices scaling, machine, load): included as they are.
SPARK_NOTES = Path(__file__).resolve().parent / "SPARK_NOTES.md"


def _spark_section(args: argparse.Namespace, spark: list[dict[str, Any]] | None) -> list[str]:
    """The Spark part of RESULTS.md: the table, where each engine wins and why, and SPARK_NOTES.md."""
    out = ["## Spark (local[2]) beside DuckDB", ""]
    if args.skip_spark:
        out += ["Skipped (`--skip-spark`).", ""]
    elif spark is None:
        out += ["Not run yet (this file was written while the run was still going).", ""]
    else:
        out += ["`benchmarks/bench_spark.run(N)`: demo frames loaded into a DuckDB file store (load+derive, then"
                " the preset on the derived balances), and split into 10 practices written as a Parquet"
                " multi-practice extract; the frames are then let go and Spark starts (driver heap"
                " `LOCAL_DRIVER_MEMORY`) and reads the extract from disk. Spark preset = read + derive +"
                " preset, collected into one `Candidates` per practice. Preset bad-debt."
                f" Each size in a child process, limit {SPARK_TIMEOUT // 60} min.", "",
                "| Transactions | DuckDB load+derive | DuckDB preset | Spark session | Spark read+derive+count | Spark preset"
                " | Lines DuckDB / Spark | Totals equal | Python peak RSS before Spark | Spark JVM peak RSS"
                " | Load avg start / end | Note |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for s in spark:
            # The child's own peak while it still held the frames and the DuckDB store; the
            # whole child's wait4 peak would also count the JVM it started.
            rss, jvm = s.get("python_peak_rss_before_spark"), s.get("jvm_peak_rss")
            totals = (s.get("duckdb_total"), s.get("spark_total"))
            same = "n/a" if None in totals else ("yes" if totals[0] == totals[1] else "**no**")
            out.append(f"| {s['size']:,} ({_n(s.get('transactions'))}) | {_fmt(s.get('duckdb_load_derive'), 's')} | "
                       f"{_fmt(s.get('duckdb_preset'), 's')} | {_fmt(s.get('spark_session'), 's')} | "
                       f"{_fmt(s.get('spark_derive'), 's')} | {_fmt(s.get('spark_preset'), 's')} | "
                       f"{_n(s.get('duckdb_lines'))} / {_n(s.get('spark_lines'))} | {same} | "
                       f"{_fmt(rss / GB if rss else None, 'GB')} | {_fmt(jvm / GB if jvm else None, 'GB')} | "
                       f"{_loadavg(s.get('load_start'))} / {_loadavg(s.get('load_end'))} | {s.get('error', '')} |")
        out += ["", *_spark_wins(spark)]
    if SPARK_NOTES.is_file():
        body = SPARK_NOTES.read_text().split("\n", 1)[1].strip()  # without its title
        out += ["### Measured apart (benchmarks/SPARK_NOTES.md)", "", body, ""]
    return out


def _spark_wins(spark: list[dict[str, Any]]) -> list[str]:
    """Where each engine wins on one machine, from this run's figures, and why Spark still scales out."""
    out = ["### Where each wins on one machine", ""]
    done = [s for s in spark if s.get("spark_preset") and s.get("duckdb_preset")]
    for s in done:
        total = s["spark_session"] + s["spark_preset"]
        out.append(f"- Measured, {s['size']:,} transactions: DuckDB found the {_n(s.get('duckdb_lines'))} lines in "
                   f"{_fmt(s['duckdb_preset'], 's')} (balances derived once, at load: "
                   f"{_fmt(s['duckdb_load_derive'], 's')}); Spark took {_fmt(s['spark_preset'], 's')} to read, derive "
                   f"and search, plus {_fmt(s['spark_session'], 's')} to start: {total / s['duckdb_preset']:.0f}x the "
                   f"DuckDB search, {total / (s['duckdb_preset'] + s['duckdb_load_derive']):.1f}x load+search.")
    if len(done) >= 2:
        lo, hi = done[0], done[-1]
        rows = hi["transactions"] / lo["transactions"]
        out.append(f"- Measured growth from {lo['size']:,} to {hi['size']:,} ({rows:.1f}x the rows): Spark preset "
                   f"{hi['spark_preset'] / lo['spark_preset']:.1f}x, DuckDB preset "
                   f"{hi['duckdb_preset'] / lo['duckdb_preset']:.1f}x, DuckDB load+derive "
                   f"{hi['duckdb_load_derive'] / lo['duckdb_load_derive']:.1f}x. (Where Spark grew less than the"
                   " rows, its fixed cost per query (planning, scheduling stages, starting tasks) weighs more at the"
                   " smaller size.)")
    out += [
        "- **Why DuckDB wins on one machine** (reasoning, consistent with the figures above): it runs inside the"
        " Python process, with no JVM to start (the Spark session column) and no Python-JVM hop for results;"
        " its joins and aggregates work on columnar vectors in shared memory, where Spark cuts every join and"
        " group into a shuffle (hash-partition, write blocks, read them back) even on one machine; and its"
        " store already holds the derived balances, so a search is one query over them, where every Spark"
        " search here reads the extract and derives the balances again.",
        "- **Why Spark is still the path past one machine** (reasoning; docs/SPARK.md): every key, join and"
        " group carries `practice_id`, so the work partitions by practice and no step needs two practices'"
        " rows together; practices are independent and spread over executors, each reading only its"
        " folders. The work (rows read, shuffled, aggregated) grows linearly in rows, and adding practices"
        " adds independent work that more executors absorb (see the practices figures below). DuckDB is"
        " bounded by one machine's"
        " memory and disk, and its single store holds one practice's ids (ids collide across practices):"
        " hundreds of practices are hundreds of stores sharing one machine's cores, memory and disk.",
        "",
    ]
    return out


def bench_pdf(lines: int, workdir: Path) -> dict[str, Any]:
    """The N-line candidate PDF (child process)."""
    _log(f"candidate PDF, {lines:,} lines")
    return run_child("pdf", {"lines": lines, "out": str(workdir / "candidates.pdf")}, timeout=SPARK_TIMEOUT)


# -- the results file ---------------------------------------------------------------------


def machine() -> dict[str, str]:
    """CPU, cores, RAM, OS, Python and package versions, date."""
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        kb = int(next(ln for ln in Path("/proc/meminfo").read_text().splitlines()
                      if ln.startswith("MemTotal")).split()[1])
        ram = f"{kb / 1024 / 1024:.1f} GB"
    except (OSError, StopIteration):
        pass
    pkgs = []
    for name in ("writeoff_analytics", "duckdb", "polars", "pyarrow", "pandas", "numpy", "ipywidgets",
                 "great_tables", "pyspark", "sqlglot"):
        try:
            pkgs.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pkgs.append(f"{name} (not installed)")
    os_name = platform.platform()
    try:
        pretty = next(ln for ln in Path("/etc/os-release").read_text().splitlines() if ln.startswith("PRETTY_NAME"))
        os_name = pretty.split("=", 1)[1].strip('"') + f" ({platform.release()})"
    except (OSError, StopIteration):
        pass
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "cores": str(os.cpu_count()), "ram": ram, "os": os_name,
        "python": platform.python_version(), "packages": ", ".join(pkgs),
    }


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "GB":
        return f"{value:.2f} GB"
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def _ratio(ours: float | None, base: float | None) -> str:
    if ours is None or base is None or ours <= 0 or base <= 0:
        return ""
    return f"{base / ours:.1f}x faster" if ours <= base else f"{ours / base:.2f}x baseline"


def _met(met: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "n/a"}[met]


def render(args: argparse.Namespace, command: str, mach: dict[str, str], all_rows: list[Row],
           infos: dict[int, dict[str, Any]], spark: list[dict[str, Any]] | None,
           pdf: dict[str, Any] | None, seconds: float) -> str:
    """The text of RESULTS.md."""
    out = ["# Benchmark results", "",
           f"Written by `benchmarks/run.py`; command: `{command}` (took {seconds / 60:.1f} min).", "",
           "## Machine", "",
           f"- Date: {mach['date']}", f"- CPU: {mach['cpu']}, {mach['cores']} cores", f"- RAM: {mach['ram']}",
           f"- OS: {mach['os']}", f"- Python {mach['python']}", f"- Packages: {mach['packages']}", "",
           "## How it was measured", "",
           "- Extracts: `generate_demo(transactions=N)` (seed 7), CSV and Parquet of the same rows.",
           "- Loads: `load_extract` into a fresh file store (read, full validation, derived balances),",
           "  each in its own child process; seconds inside the call, peak RSS of that child (`os.wait4`).",
           "  Baseline: `baselines.bare_duckdb_load` (typed `read_csv`/`read_parquet`, no checks), also in a child.",
           f"- Candidates: `find_candidates` on the store loaded from Parquet, median of {args.repeat} runs after"
           " one warm-up, per engine.",
           "  Baselines: `baselines.one_query_sql` (derive inlined as a CTE; run on the store's raw tables,"
           " same median), and",
           f"  `baselines.pandas_candidates` on frames from `read_pandas` (median of {args.pandas_repeat};"
           " reading timed apart; child process).",
           "- Commit/reverse: `commit_batch` of 100,000 lines (receipt CSV + JSON written) and"
           " `reverse_receipt` of it.",
           "- Widget: `MassWriteOff.timed_change('min_age_days', ...)` after the bad-debt preset (the",
           "  field's observer: criteria, search, totals, breakdown, grid), on the screen's default engine",
           "  (`polars`: the balances are read into the kernel once, by the preset's search).",
           "- `vs baseline`: `Nx faster` = baseline time / ours; `Nx baseline` = ours / baseline time.", ""]
    for n in sorted(infos):
        info = infos[n]
        rows = info.get("rows", {})
        out += [f"## {n:,} transactions asked", "",
                "Extract rows: " + ", ".join(f"{k} {v:,}" for k, v in rows.items())
                + f"; derived charge balances {info.get('charges', 0):,}.",
                "Machine load average (1, 5, 15 min) when this size started: "
                + _loadavg(info.get("load_before")) + "; when it ended: " + _loadavg(info.get("load_after"))
                + f" ({mach['cores']} cores; above that, other work shared the CPUs).", "",
                "| Figure | Ours | Baseline | Baseline value | vs baseline | Target | Met | Miss / note |",
                "|---|---|---|---|---|---|---|---|"]
        for r in (r for r in all_rows if r.size == n):
            note = "; ".join(x for x in (r.miss, r.note) if x)
            out.append(f"| {r.figure} | {_fmt(r.ours, r.unit)} | {r.baseline_name} | {_fmt(r.baseline, r.unit) if r.baseline_name else ''} "
                       f"| {_ratio(r.ours, r.baseline) if r.unit == 's' else ''} | {r.target} | {_met(r.met)} | {note} |")
        pr, prss = info.get("pandas_read"), info.get("pandas_rss")
        out += ["", f"pandas baseline: reading the CSV extract took {_fmt(pr, 's')} (not in the per-preset times);"
                f" its child peaked at {_fmt(prss / GB if prss else None, 'GB')} RSS.", "",
                "Line counts (ours = DuckDB engine; Polars frames compared with `DataFrame.equals`):", "",
                "| Preset | Ours | Total | Polars same | One-query | Same ids | pandas | pandas total (float) | only pandas | only ours |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for c in info.get("counts", []):
            out.append(f"| {c['preset']} | {c['duckdb']:,} | {c['total']} | {'yes' if c['same_frames'] else '**no**'} "
                       f"| {c['one_query']:,} | {'yes' if c['one_query_same'] else '**no**'} | {_n(c['pandas'])} "
                       f"| {c['pandas_total'] if c['pandas_total'] is not None else 'n/a'} | {_n(c['pandas_only'])} | {_n(c['ours_only'])} |")
        out.append("")
    if len(infos) > 1:
        out += ["## Scaling", "", "| Figure | " + " | ".join(f"{n:,}" for n in sorted(infos)) + " |",
                "|---|" + "---|" * len(infos)]
        figures: dict[str, dict[int, str]] = {}
        for r in all_rows:
            if r.baseline_name == "pandas":
                continue
            figures.setdefault(r.figure, {})[r.size] = _fmt(r.ours, r.unit)
            if r.baseline_name and r.baseline is not None and r.figure.startswith("load"):
                figures.setdefault(f"baseline: {r.baseline_name}" + (" RSS" if r.unit == "GB" else ""), {})[r.size] = \
                    _fmt(r.baseline, r.unit)
        for r in all_rows:
            if r.baseline_name == "one-query DuckDB" and r.figure.endswith("(duckdb)"):
                figures.setdefault(f"baseline one-query: {r.figure.split(' ')[1]}", {})[r.size] = _fmt(r.baseline, "s")
            if r.baseline_name == "pandas" and r.figure.endswith("(duckdb)"):
                figures.setdefault(f"baseline pandas: {r.figure.split(' ')[1]}", {})[r.size] = _fmt(r.baseline, "s")
        for name, by_size in figures.items():
            out.append(f"| {name} | " + " | ".join(by_size.get(n, "") for n in sorted(infos)) + " |")
        out.append("")
    out += _spark_section(args, spark)
    out += ["## Candidate PDF", ""]
    if args.skip_pdf:
        out += ["Skipped (`--skip-pdf`).", ""]
    elif pdf is None:
        out += ["Not run yet (this file was written while the run was still going).", ""]
    elif "error" in pdf:
        out += [f"Failed: {pdf['error']}", ""]
    else:
        total = pdf["seconds_build"] + pdf["seconds_pdf"]
        out += ["| Lines | Build report | Write PDF | Total | Pages | Target | Met |", "|---|---|---|---|---|---|---|",
                f"| {pdf['lines']:,} | {_fmt(pdf['seconds_build'], 's')} | {_fmt(pdf['seconds_pdf'], 's')} | "
                f"{_fmt(total, 's')} | {pdf['pages']} | < 60 s | {_met(total < 60)} |", ""]
    missed = [r for r in all_rows if r.met is False]
    out += ["## Targets missed", ""]
    if not missed:
        out += ["None.", ""]
    for r in missed:
        out.append(f"- {r.size:,}: {r.figure} vs {r.baseline_name or 'target'}: {_fmt(r.ours, r.unit)}; "
                   f"target {r.target}; {r.miss}")
    profiles = {k: v for info in infos.values() for k, v in info.get("profiles", {}).items()}
    if profiles:
        out += ["", "## Profiles of the misses (cProfile, cumulative; one run each)", ""]
        for name, text in profiles.items():
            out += [f"### {name}", "", "```", text.strip(), "```", ""]
    return "\n".join(out).rstrip() + "\n"


def _loadavg(value: Any) -> str:
    return "n/a" if not value else ", ".join(f"{v:.1f}" for v in value)


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else ("n/a" if value is None else str(value))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        _child_main(argv[1], json.loads(argv[2]), Path(argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, help="one size (default 10,000,000)")
    parser.add_argument("--sizes", help="comma-separated sizes, e.g. 1000000,3000000,10000000")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per candidate search (median)")
    parser.add_argument("--pandas-repeat", type=int, default=1, help="timed runs per pandas preset")
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "work")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--skip-pdf", action="store_true")
    parser.add_argument("--no-profile", dest="profile", action="store_false", help="do not profile misses")
    parser.add_argument("--quick", action="store_true", help="a tiny run: 3,000 transactions, no Spark, no PDF, no profiles")
    args = parser.parse_args(argv)
    if args.quick:
        sizes, args.repeat, args.skip_spark, args.profile = [3000], 1, True, False
        args.skip_pdf, pdf_lines = True, 200
    else:
        sizes = ([int(s) for s in args.sizes.split(",")] if args.sizes
                 else [args.transactions or 10_000_000])
        pdf_lines = PDF_LINES
    command = "python benchmarks/run.py " + " ".join(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    mach = machine()
    all_rows: list[Row] = []
    infos: dict[int, dict[str, Any]] = {}

    def write(spark: list[dict[str, Any]] | None, pdf: dict[str, Any] | None) -> None:
        text = render(args, command.strip(), mach, all_rows, infos, spark, pdf, time.perf_counter() - started)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.output.with_name(args.output.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(args.output)

    for n in sizes:
        rows, info = bench_size(n, args, args.workdir, profile=args.profile and n == max(sizes))
        all_rows += rows
        infos[n] = info
        write(None, None)  # keep partial results if a later step fails
    pdf = None if args.skip_pdf else bench_pdf(pdf_lines, args.workdir)
    spark: list[dict[str, Any]] | None = None
    write(spark, pdf)
    if not args.skip_spark:
        spark = []
        spark_sizes = [s for s in SPARK_SIZES if s in sizes] or [min(sizes)]
        bench_spark(spark_sizes, spark, lambda: write(spark, pdf))
    write(spark, pdf)
    _log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
