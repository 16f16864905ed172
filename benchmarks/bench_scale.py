"""Fleet scale: wall time and peak memory of ingest + features + train + forecast.

For each fleet size (default 10, 100 and 1,000 systems, one month each, written by
``equiptwin simulate --volume reduced``), runs the CLI stages in fresh processes on a
fresh SQLite store, once with ``--engine local`` and once with ``--engine dask`` (a
``LocalCluster`` of 2 worker processes started by each command):

    equiptwin ingest FLEET; equiptwin train; equiptwin forecast

``train`` builds the feature frame over the whole month and fits the model (held-out
metrics included); ``forecast`` builds the forecast day's features (each life's twin
runs over its history) and predicts. Per stage: wall time, and peak memory of the whole
process tree (the CLI and every child, Dask nanny and worker processes included),
sampled with psutil every 0.1 s. Each Dask command starts and stops its own
``LocalCluster``; that overhead is measured alone too (``engine_start_stop``), and
``ingest_run_s`` is ingest's own timing without it. The cost exponent is the slope of log(total wall
time) against log(systems), per engine; linear growth is 1.

The twin runs with fewer particles and samples than the default (``--particles``,
``--samples``) so that 1,000 systems fit in an hour, and components age 40 times
faster than published lifetimes (``--wear-scale``) so that a month holds failures to
train on. The machine has 2 cores shared with other jobs: the load average before and
after every run is in the JSON; read every figure as noisy.

Writes ``benchmarks/results/scale.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

RESULTS = Path(__file__).with_name("results") / "scale.json"
SRC = Path(__file__).resolve().parents[1] / "src"
ENGINES = ("local", "dask")
STAGES = ("ingest", "train", "forecast")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    return env


def simulate(out: Path, systems: int, days: int, seed: int, wear_scale: float) -> None:
    """Write the fleet once; an earlier simulation with the same arguments is reused."""
    if (out / "SIMULATION.json").exists():
        return
    subprocess.run(
        [
            sys.executable,
            "-m",
            "equiptwin",
            "simulate",
            str(out),
            *("--systems", str(systems), "--days", str(days), "--seed", str(seed)),
            *("--start", "2026-01-01", "--volume", "reduced", "--booking-days", "7"),
            *("--wear-scale", str(wear_scale), "--workers", "2", "--force"),
        ],
        check=True,
        env=_env(),
    )


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def measure(command: list[str], log: Path) -> dict[str, Any]:
    """Run ``command``; return wall seconds, peak tree RSS (MB), exit code, load average."""
    load_before = os.getloadavg()
    started = time.perf_counter()
    with log.open("w") as out:
        popen = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=_env())
        proc = psutil.Process(popen.pid)
        peak = 0
        while popen.poll() is None:
            peak = max(peak, _tree_rss(proc))
            time.sleep(0.1)
    return {
        "wall_s": round(time.perf_counter() - started, 2),
        "peak_rss_mb": round(peak / 1e6, 1),
        "returncode": popen.returncode,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }


def run_engine(fleet: Path, work: Path, engine: str, pipeline: Path) -> dict[str, Any]:
    """Run the stages on a fresh store with one engine."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    base = [
        sys.executable,
        "-m",
        "equiptwin",
        "--db",
        f"sqlite:///{work / 'store.sqlite'}",
        "--pipeline",
        str(pipeline),
        "--engine",
        engine,
    ]
    startup = (
        "from equiptwin.config import load_pipeline; from equiptwin.dist.engine import "
        f"open_engine; open_engine({engine!r}, load_pipeline({str(pipeline)!r})).close()"
    )
    commands = {
        "engine_start_stop": [sys.executable, "-c", startup],
        "ingest": [*base, "ingest", str(fleet), "--no-progress"],
        "train": [*base, "train", "--version", "bench", "--no-progress"],
        "forecast": [*base, "forecast", "--out", str(work / "out"), "--no-progress"],
    }
    stages: dict[str, Any] = {}
    overhead = measure(commands["engine_start_stop"], work / "engine.log")
    print(f"  {engine:<6} engine start and stop: {overhead}", flush=True)
    for stage in STAGES:
        stages[stage] = measure(commands[stage], work / f"{stage}.log")
        print(f"  {engine:<6} {stage:<9} {stages[stage]}", flush=True)
        if stages[stage]["returncode"] != 0:
            break
    ok = all(s["returncode"] == 0 for s in stages.values()) and len(stages) == len(STAGES)
    ingest_log = (work / "ingest.log").read_text(encoding="utf-8")
    inside = re.search(r"ingest run \d+: ([\d.]+) s", ingest_log)
    return {
        "engine_start_stop": overhead,
        "ingest_run_s": float(inside.group(1)) if inside else None,
        "stages": stages,
        "ok": ok,
        "total_wall_s": round(sum(s["wall_s"] for s in stages.values()), 2),
        "peak_rss_mb": max(s["peak_rss_mb"] for s in stages.values()),
    }


def write_pipeline(path: Path, work: Path, args: argparse.Namespace) -> None:
    path.write_text(
        f"""[site]
name = "bench"
[twin]
wear_scale = {args.wear_scale}
particles = {args.particles}
samples = {args.samples}
[models]
dir = "{work / "models"}"
[dask]
workers = {args.dask_workers}
""",
        encoding="utf-8",
    )


def exponent(sizes: list[int], seconds: list[float]) -> float | None:
    """Slope of log(seconds) on log(systems): 1 is linear growth."""
    if len(sizes) < 2:
        return None
    slope = np.polyfit(np.log(sizes), np.log(seconds), 1)[0]
    return round(float(slope), 3)


def cost_exponents(runs: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Per engine: the exponent over every size, per stage, and between the largest two.

    Fixed start-up costs (interpreter, imports, a Dask cluster) weigh on the smallest
    fleets, so the slope between the two largest sizes (``largest_two``) is the one that
    says how the cost grows from there on.
    """
    exponents: dict[str, dict[str, float | None]] = {}
    for engine in ENGINES:
        done = [r for r in runs if r["engine"] == engine and r["ok"]]
        sizes = [r["systems"] for r in done]
        totals = [r["total_wall_s"] for r in done]
        exponents[engine] = {
            "total_wall_s": exponent(sizes, totals),
            "largest_two": exponent(sizes[-2:], totals[-2:]),
            **{
                stage: exponent(sizes, [r["stages"][stage]["wall_s"] for r in done])
                for stage in STAGES
            },
        }
    return exponents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000", help="Fleet sizes, comma separated.")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--wear-scale", type=float, default=40.0)
    parser.add_argument("--particles", type=int, default=100)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--dask-workers", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/equiptwin-bench-scale"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    args.work.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, Any]] = []
    for n in sizes:
        fleet = args.work / f"fleet-{n}x{args.days}-s{args.seed}-w{args.wear_scale:g}"
        started = time.perf_counter()
        simulate(fleet, n, args.days, args.seed, args.wear_scale)
        print(f"{n} systems: fleet {fleet} ({time.perf_counter() - started:.0f} s)", flush=True)
        sim = json.loads((fleet / "SIMULATION.json").read_text())
        for engine in ENGINES:
            work = args.work / f"run-{n}-{engine}"
            pipeline = args.work / f"pipeline-{n}-{engine}.toml"
            write_pipeline(pipeline, work, args)
            result = run_engine(fleet, work, engine, pipeline)
            runs.append({"systems": n, "engine": engine, "simulation": sim, **result})
    exponents = cost_exponents(runs)
    result = {
        "benchmark": "bench_scale",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
            "note": "2 cores, possibly shared with other jobs; see loadavg per stage",
        },
        "settings": {
            "days": args.days,
            "seed": args.seed,
            "volume": "reduced",
            "wear_scale": args.wear_scale,
            "twin_particles": args.particles,
            "twin_samples": args.samples,
            "dask": f"LocalCluster, {args.dask_workers} worker processes x 1 thread, "
            "started by each command (startup included)",
            "store": "SQLite file per run",
        },
        "runs": runs,
        "cost_exponent": exponents,
        "sizes_requested": sizes,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"cost_exponent": exponents}, indent=2))
    for r in runs:
        print(
            f"{r['systems']:>5} {r['engine']:<6} total {r['total_wall_s']:>8.1f} s  "
            f"peak {r['peak_rss_mb']:>7.1f} MB  "
            + "  ".join(f"{s} {v['wall_s']:.1f}s" for s, v in r["stages"].items())
        )


if __name__ == "__main__":
    main()
