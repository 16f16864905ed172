"""Forecast quality, held out: backtest equiptwin and every baseline on a fresh fleet.

A fleet is simulated with a seed never used in development or training (the sample
fleet is seed 1; tests use 314), ingested into a fresh SQLite store, and replayed: every
``backtest.retrain_days`` each model is retrained on data before the cut only and
forecasts the days up to the next cut. Scores and alert metrics are computed on those
out-of-time forecasts only. Recall over failures with precursors uses the simulator's
truth, which ingest never reads.

Beside the models, a reference that no deployed model can be: a ranker that knows each
part's true wear (the simulator's ``health`` on the day before each forecast) and ranks
by it. Its concordance on the same rows says how far knowing the wear alone goes on the
fleet (it does not know how fast each part will wear from there, nor which part fails
suddenly).

Every other model is also compared with equiptwin like for like: at the ticket threshold
that, with hindsight, alerts the most failures without more false alerts than
equiptwin's, and at the one that reaches equiptwin's recall with the fewest
(:mod:`equiptwin.evaluate.operating`; JSON keys ``matched_to_equiptwin`` and
``operating_points``).

Run: ``python benchmarks/bench_forecast.py [--systems 30] [--days 365] [--seed 4242]
[--out FILE] [--keep DIR]``. Writes ``benchmarks/results/forecast.json`` by default.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from equiptwin.clock import utc_now
from equiptwin.config import load_pipeline
from equiptwin.evaluate.backtest import EQUIPTWIN, run_backtest
from equiptwin.evaluate.truth import read_truth_lives, sudden_failures, with_precursors
from equiptwin.features.frame import data_range, read_lives
from equiptwin.ingest.run import ingest
from equiptwin.sim.fleet import simulate_fleet
from equiptwin.sim.spec import FleetSpec, parse_mix
from equiptwin.store import db
from equiptwin.survival.metrics import concordance
from equiptwin.survival.target import landmark_target

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "forecast.json"


def true_wear_concordance(
    forecasts: pd.DataFrame, lives: pd.DataFrame, truth_dir: Path, end: dt.date
) -> dict[str, float]:
    """Return the concordance of ranking equiptwin's forecast rows by the true wear.

    Parameters
    ----------
    forecasts : pandas.DataFrame
        The backtest's forecasts (equiptwin's rows are the ones ranked).
    lives : pandas.DataFrame
        The store's lives with ``has_precursor`` from the truth.
    truth_dir : Path
        The fleet's ``_truth`` folder (``daily_state.parquet``).
    end : datetime.date
        First day after the backtest.

    Returns
    -------
    dict
        ``concordance`` and ``concordance_precursor`` (sudden failures read as censored),
        as in the backtest's scores.
    """
    rows, y = landmark_target(
        lives[["life_id", "installed_on", "ended_on", "end_reason"]], data_end=end
    )
    ours = forecasts.loc[forecasts["model"] == EQUIPTWIN, ["life_id", "system_id", "as_of"]]
    ours = ours.assign(as_of=pd.to_datetime(ours["as_of"]))
    keyed = rows.reset_index(names="row").merge(ours, on=["life_id", "as_of"])
    state = pd.read_parquet(
        truth_dir / "daily_state.parquet", columns=["system_id", "date", "health"]
    )
    state = state.assign(as_of=pd.to_datetime(state["date"]) + pd.Timedelta(days=1))
    keyed = keyed.merge(
        state[["system_id", "as_of", "health"]], on=["system_id", "as_of"], how="left"
    )
    # a day without a row (the system was down) keeps the life's last known health
    health = keyed.sort_values(["life_id", "as_of"]).groupby("life_id")["health"].ffill()
    risk = -health.reindex(keyed.index).fillna(1.0).to_numpy()
    target = y[keyed["row"].to_numpy()]
    sudden = sudden_failures(lives)
    return {
        "concordance": concordance(target, risk),
        "concordance_precursor": concordance(
            target.as_censored(keyed["life_id"].isin(sudden).to_numpy()), risk
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--systems", type=int, default=30)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--train-days", type=int, default=150)
    parser.add_argument("--out", type=Path, default=RESULT, help="the JSON result file")
    parser.add_argument(
        "--keep", type=Path, help="keep the fleet, store and backtest here (default: deleted)"
    )
    args = parser.parse_args()
    config = load_pipeline(ROOT / "pipelines" / "sample.toml")
    config = dataclasses.replace(
        config, values={**config.values, "backtest.min_train_days": args.train_days}
    )
    timings: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        tmp = args.keep or stack.enter_context(tempfile.TemporaryDirectory())
        fleet = Path(tmp) / "fleet"
        spec = FleetSpec(
            n_systems=args.systems,
            days=args.days,
            seed=args.seed,
            start=dt.date(2025, 1, 1),
            mix=parse_mix("CT=0.45,XR=0.3,MR=0.25"),
            volume="reduced",
            booking_days=30,
            wear_scale=float(config["twin.wear_scale"]),
        )
        t = time.perf_counter()
        simulate_fleet(fleet, spec, workers=2, force=False)
        timings["simulate_s"] = time.perf_counter() - t
        engine = db.open_store(f"sqlite:///{Path(tmp) / 'store.sqlite'}")
        t = time.perf_counter()
        ingest(engine, fleet, config, utc_now)
        timings["ingest_s"] = time.perf_counter() - t
        first, last = data_range(engine)
        start = first + dt.timedelta(days=args.train_days)
        t = time.perf_counter()
        truth = read_truth_lives(fleet / "_truth" / "lives.csv")
        result = run_backtest(
            engine,
            config,
            start=start,
            end=last + dt.timedelta(days=1),
            out_dir=Path(tmp) / "backtest",
            truth_lives=truth,
            progress=True,
        )
        timings["backtest_s"] = time.perf_counter() - t
        oracle = true_wear_concordance(
            result.forecasts,
            with_precursors(read_lives(engine), truth),
            fleet / "_truth",
            last + dt.timedelta(days=1),
        )
    overall = result.alerts[result.alerts["modality"] == "all"]
    print(result.scores.round(3).to_string(index=False))
    print(overall.round(3).to_string(index=False))
    print(
        "ranked by the true wear (simulator's health):", {k: round(v, 3) for k, v in oracle.items()}
    )
    print("every other model at equiptwin's false-alert rate, then at its recall:")
    print(result.matched.round(3).to_string(index=False))
    print({k: round(v, 1) for k, v in timings.items()})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "fleet": {
                    "systems": args.systems,
                    "days": args.days,
                    "seed": args.seed,
                    "wear_scale": spec.wear_scale,
                    "volume": "reduced",
                },
                "backtest": {"from": start.isoformat(), "to": last.isoformat()},
                "alert_rule": f"P(fail within {config['policy.horizon_days']} d) >= "
                f"{config['policy.p_open']}",
                "scores": result.scores.to_dict(orient="records"),
                "true_wear_ranker": oracle,
                "alerts": result.alerts.to_dict(orient="records"),
                "matched_to_equiptwin": result.matched.to_dict(orient="records"),
                "operating_points": result.operating_points.to_dict(orient="records"),
                "seconds": timings,
                "load_average_1_5_15": os.getloadavg(),
            },
            indent=2,
            default=str,
        ),
        encoding="utf-8",
    )
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
