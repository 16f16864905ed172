"""Ingest throughput: event lines per second end to end, beside the raw read speed.

Uses a fleet written by the simulator (``equiptwin simulate``; 50 systems x 365 days,
seed 7, default volume, unless ``--fleet`` names an existing one), then measures in the
same run:

- raw read: read and gunzip every event file and count its newlines (the floor any
  parser must stand on; the ratio end-to-end / raw read travels between machines);
- first ingest (fresh store): wall time, event lines/s, CPU seconds of the ingest and its
  workers per million event lines (less sensitive to other jobs), peak RSS of the
  largest process;
- second ingest over the unchanged files (target: < 2% of the first);
- the storage decision: the same 200,000 archived events written as Parquet and
  inserted into an SQLite table (rows/s and bytes).

Writes ``benchmarks/results/ingest.json``. The machine has 2 cores shared with other
jobs, so every figure is noisy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from equiptwin.store.archive import open_archive

RESULTS = Path(__file__).with_name("results") / "ingest.json"
SRC = Path(__file__).resolve().parents[1] / "src"


def simulate(out: Path, systems: int, days: int, seed: int) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "equiptwin",
            "simulate",
            str(out),
            "--systems",
            str(systems),
            "--days",
            str(days),
            "--seed",
            str(seed),
            "--workers",
            "2",
        ],
        check=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )


def raw_read(fleet: Path) -> tuple[float, int, int]:
    """Seconds to read (and gunzip) every event file and count lines; lines; bytes."""
    started = time.perf_counter()
    lines = size = 0
    for path in sorted((fleet / "events").rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = zlib.decompressobj(wbits=31).decompress(data)
        lines += data.count(b"\n")
        size += len(data)
    return time.perf_counter() - started, lines, size


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_ingest(fleet: Path, db: Path) -> tuple[float, float, dict[str, object]]:
    """Run ``equiptwin ingest`` in a fresh process.

    Returns wall seconds, CPU seconds (the process and its workers: less sensitive to
    other jobs on the machine than wall time) and the summary.
    """
    code = (
        "import json,sys;from pathlib import Path;"
        "from equiptwin.store.db import open_store;from equiptwin.config import defaults;"
        "from equiptwin.clock import utc_now;from equiptwin.ingest.run import ingest;"
        f"s=ingest(open_store({str(db)!r}),Path({str(fleet)!r}),defaults(),utc_now);"
        "print(json.dumps(s.to_json()))"
    )
    started, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(SRC), "EQUIPTWIN_SITE_SECRET": "bench"},
    )
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    return time.perf_counter() - started, _children_cpu() - cpu, summary


def storage_choice(db: Path, rows: int) -> dict[str, float]:
    """Write the same archived events as Parquet and as SQLite rows; rates and sizes."""
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:  # the first system's events (sorted by system, time)
        first = conn.execute(
            sa.text("SELECT min(system_id) FROM archive_parts WHERE dataset = 'events'")
        ).scalar_one()
    events = open_archive(engine, "archive").read_events([first])
    table = pa.Table.from_pandas(events.head(rows), preserve_index=False)
    work = Path(tempfile.mkdtemp(prefix="bench_store_"))
    try:
        started = time.perf_counter()
        pq.write_table(table, work / "e.parquet", compression="zstd")
        parquet_s = time.perf_counter() - started
        conn = sqlite3.connect(work / "e.sqlite")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE events (system_id TEXT, ts TEXT, code INTEGER, severity TEXT, "
            "subsystem TEXT, message TEXT, params TEXT, detail TEXT)"
        )
        conn.execute("CREATE INDEX ix ON events (system_id, ts)")
        started = time.perf_counter()
        records = table.to_pylist()
        conn.executemany(
            "INSERT INTO events VALUES (?,?,?,?,?,?,?,?)",
            [
                (
                    r["system_id"],
                    r["ts"].isoformat(),
                    r["code"],
                    r["severity"],
                    r["subsystem"],
                    r["message"],
                    r["params"],
                    r["detail"],
                )
                for r in records
            ],
        )
        conn.commit()
        sqlite_s = time.perf_counter() - started
        conn.close()
        return {
            "rows": table.num_rows,
            "parquet_rows_per_s": round(table.num_rows / parquet_s),
            "sqlite_rows_per_s": round(table.num_rows / sqlite_s),
            "parquet_bytes": (work / "e.parquet").stat().st_size,
            "sqlite_bytes": sum(p.stat().st_size for p in work.glob("e.sqlite*")),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _simulation(fleet: Path) -> object:
    """The simulator's record of how the fleet was made (``SIMULATION.json``), if any."""
    path = fleet / "SIMULATION.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fleet", type=Path, help="An existing fleet folder (else simulate).")
    parser.add_argument("--systems", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    try:
        fleet = args.fleet
        if fleet is None:
            fleet = work / "fleet"
            simulate(fleet, args.systems, args.days, args.seed)
        load_before = os.getloadavg()
        raw_s, event_lines, raw_bytes = raw_read(fleet)
        db = work / "store" / "equiptwin.sqlite"
        first_wall, first_cpu, first = run_ingest(fleet, db)
        peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        second_wall, _, second = run_ingest(fleet, db)
        first_s = float(first["seconds"])  # type: ignore[arg-type]
        e2e = event_lines / first_s
        raw = event_lines / raw_s
        result = {
            "benchmark": "ingest",
            "fleet": {
                "source": "simulated" if args.fleet is None else str(args.fleet),
                "simulation": _simulation(fleet),
                "systems": args.systems,
                "days": args.days,
                "seed": args.seed,
                "event_lines": event_lines,
                "event_bytes_uncompressed": raw_bytes,
                "files": first["files"],
            },
            "raw_read": {"seconds": round(raw_s, 2), "event_lines_per_s": round(raw)},
            "first_run": {
                "seconds": first_s,
                "wall_seconds_with_startup": round(first_wall, 2),
                "event_lines_per_s": round(e2e),
                "cpu_seconds_all_processes": round(first_cpu, 1),
                "cpu_seconds_per_million_event_lines": round(first_cpu / event_lines * 1e6, 2),
                "all_lines": first["lines"],
                "rows": first["rows"],
                "quarantined": first["quarantined"],
                "peak_rss_mb_largest_process": round(peak_rss_mb, 1),
            },
            "second_run": {
                "seconds": second["seconds"],
                "wall_seconds_with_startup": round(second_wall, 2),
                "fraction_of_first": round(float(second["seconds"]) / first_s, 4),  # type: ignore[arg-type]
            },
            "ratio_end_to_end_over_raw_read": round(e2e / raw, 4),
            "targets": {
                "event_lines_per_s": 300_000,
                "peak_rss_mb": 1024,
                "second_run_fraction": 0.02,
            },
            "storage_choice": storage_choice(db, 200_000),
            "load_average_1_5_15min": {
                "before": [round(x, 2) for x in load_before],
                "after": [round(x, 2) for x in os.getloadavg()],
            },
            "machine": f"{platform.machine()}, CPython {platform.python_version()}, "
            f"{os.cpu_count()} cores shared with other jobs (noisy)",
            "date": dt.date.today().isoformat(),
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
