"""What predictive maintenance buys, held out: the operations twin on fresh worlds.

Worlds are simulated with seeds never used in development (9101..9105 by default: the
sample fleet is seed 1, tests use 11, 12 and 314, the forecast benchmark 4242); each is
ingested and backtested (models retrained every ``backtest.retrain_days`` on earlier data
only) unless its backtest is kept from an earlier run, and its department is replayed
over the first year of the backtest under every policy. Worlds run ``--buffer-days``
beyond that year (simulated and backtested), so that a policy that replaces early meets
lives with known failures instead of running past what the world saw.

With ``--p-open`` the department is also replayed with equiptwin's ticket rule at other
thresholds (``policy.p_open``; the first is the headline): how downtime, cancellations,
replacements, discarded life and cost trade off as tickets open earlier
(``equiptwin_frontier`` in the JSON).

Run: ``python benchmarks/bench_operations.py [--seeds 9101 9102 ...] [--work DIR]
[--workers N] [--p-open 0.2 0.1 ...]``. Worlds and backtests are kept in ``--work``
(delete the backtests to evaluate a newer model). Writes ``benchmarks/results/operations.json`` and
``benchmarks/results/operations.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import shutil
import time
from pathlib import Path

import pandas as pd

from equiptwin.clock import utc_now
from equiptwin.config import load_pipeline
from equiptwin.evaluate.compare import evaluate_worlds
from equiptwin.sim.fleet import SIMULATION_FILE, simulate_fleet
from equiptwin.sim.spec import FleetSpec, parse_mix

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def per_known_exposure(runs: pd.DataFrame, component_days: float) -> pd.DataFrame:
    """Per policy: failures, downtime and cancellations per 1,000 component-days the
    worlds saw, and their cut against run-to-failure.

    A run that replaces components early starts the worlds' later lives earlier and
    reaches the end of what a world saw before the period ends; that time cannot fail
    in the replay (``beyond_world_days``). Rates over the known time only put the
    policies on the same footing.
    """
    totals = runs.groupby("policy")[
        ["failures", "unplanned_downtime_h", "cancelled_short_notice", "beyond_world_days"]
    ].sum()
    known = component_days * runs["world"].nunique() - totals["beyond_world_days"]
    out = pd.DataFrame({"known_component_days": known})
    for metric in ("failures", "unplanned_downtime_h", "cancelled_short_notice"):
        rate = 1000.0 * totals[metric] / known
        out[f"{metric}_per_1000_days"] = rate
        out[f"{metric}_cut"] = 1.0 - rate / rate["run-to-failure"]
    return out


FRONTIER_METRICS: tuple[str, ...] = (
    "unplanned_downtime_h",
    "cancelled_short_notice",
    "failures",
    "planned_replacements",
    "discarded_life_days",
    "total_cost",
)


def frontier_row(runs: pd.DataFrame, policy: str) -> dict[str, float]:
    """Return the mean over worlds of the frontier metrics of one policy's runs."""
    means = runs[runs["policy"] == policy][list(FRONTIER_METRICS)].mean()
    return {k: float(v) for k, v in means.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[9101, 9102, 9103, 9104, 9105])
    parser.add_argument("--systems", type=int, default=8)
    parser.add_argument("--train-days", type=int, default=150)
    parser.add_argument("--eval-days", type=int, default=365)
    parser.add_argument(
        "--buffer-days",
        type=int,
        default=365,
        help="days simulated and backtested after the evaluated year, so that policies "
        "which replace early meet lives with known failures",
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/equiptwin-bench-operations"))
    parser.add_argument("--workers", type=int, default=1, help="worlds replayed in parallel")
    parser.add_argument(
        "--p-open",
        type=float,
        nargs="+",
        default=None,
        help="equiptwin ticket thresholds to replay (the first is the headline; default: "
        "the pipeline's policy.p_open only)",
    )
    args = parser.parse_args()
    config = load_pipeline(ROOT / "pipelines" / "sample.toml")
    config = dataclasses.replace(
        config, values={**config.values, "backtest.min_train_days": args.train_days}
    )
    fleet = {
        "systems": args.systems,
        "days": args.train_days + args.eval_days + args.buffer_days,
        "mix": "CT=0.45,XR=0.3,MR=0.25",
        "volume": "reduced",
        "wear_scale": float(config["twin.wear_scale"]),
    }
    timings: dict[str, float] = {}
    worlds = []
    t = time.perf_counter()
    for seed in args.seeds:
        world = args.work / "worlds" / f"seed-{seed}"
        if not (world / SIMULATION_FILE).exists():
            spec = FleetSpec(
                n_systems=args.systems,
                days=int(fleet["days"]),
                seed=seed,
                start=dt.date(2025, 1, 1),
                mix=parse_mix(str(fleet["mix"])),
                volume="reduced",
                booking_days=30,
                wear_scale=float(fleet["wear_scale"]),
            )
            simulate_fleet(world, spec, workers=1, force=True)
        worlds.append(world)
    timings["simulate_s"] = time.perf_counter() - t
    t = time.perf_counter()
    backtests = args.work / "backtests"
    thresholds = args.p_open or [float(config["policy.p_open"])]
    results = []
    for p_open in thresholds:
        at = dataclasses.replace(config, values={**config.values, "policy.p_open": p_open})
        results.append(
            evaluate_worlds(
                worlds,
                args.work / f"evaluate-p{p_open}",
                at,
                utc_now,
                backtests_dir=backtests,
                workers=args.workers,
                period_days=args.eval_days,
                log=print,
            )
        )
    timings["backtest_and_evaluate_s"] = time.perf_counter() - t
    result = results[0]
    frontier = [
        {"p_open": p, **frontier_row(r.runs, "equiptwin")}
        for p, r in zip(thresholds, results, strict=True)
    ]
    frontier.append({"p_open": None, **frontier_row(result.runs, "threshold alarms")})
    print(pd.DataFrame(frontier).round(3).to_string(index=False))
    table = result.table()
    print(table)
    print(json.dumps(result.goal, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(result.files[3], RESULTS / "operations.png")
    report = {
        "seeds": args.seeds,
        "fleet": fleet,
        "period_days": args.eval_days,
        "buffer_days": args.buffer_days,
        "train_days": args.train_days,
        "load_average_1_5_15": list(os.getloadavg()),
        "note": "timings depend on the machine's load (load_average_1_5_15)",
        "seconds": timings,
        "table": table.splitlines(),
        "goal": result.goal,
        "p_open": thresholds[0],
        "equiptwin_frontier": frontier,
        "note_frontier": "equiptwin at each ticket threshold (p_open), the last row the "
        "threshold alarms; means per world-year",
        "summary": result.summary.to_dict(orient="records"),
        "runs": result.runs.to_dict(orient="records"),
        "per_known_exposure": per_known_exposure(
            result.runs, float(args.eval_days * args.systems)
        ).to_dict(orient="index"),
    }
    path = RESULTS / "operations.json"
    path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"written {path}")


if __name__ == "__main__":
    main()
