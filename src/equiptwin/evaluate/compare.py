"""``equiptwin evaluate``: compare maintenance policies on simulated worlds.

For each world (a simulated fleet directory): read it (:mod:`~equiptwin.evaluate.world`),
make or read its backtest (:mod:`~equiptwin.evaluate.advice`), and replay its department
over the backtest period once per policy (:mod:`~equiptwin.evaluate.operations`). The
metrics of every run, their means with 95% intervals over the worlds (seeds), and the
issue's goal are written to ``operations.json``, ``operations_runs.csv`` and
``operations_summary.csv``, with plots (PNG).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from equiptwin.config import PipelineConfig
from equiptwin.errors import ConfigError
from equiptwin.evaluate.advice import ensure_backtest, read_advice
from equiptwin.evaluate.metrics import HEADLINE, reductions, run_metrics, summarise
from equiptwin.evaluate.operations import simulate_department
from equiptwin.evaluate.plots import plot_summary
from equiptwin.evaluate.policies import failure_age_quantiles, policies_for, ticket_policies
from equiptwin.evaluate.world import World, read_world

BASELINE = "run-to-failure"
GOAL_REDUCTION = 0.7
REPLAY: tuple[str, ...] = (
    "failures",
    "planned_replacements",
    "site_services",
    "spare_lives",
    "beyond_world_days",
)
"""How a policy ran the worlds, printed beside the headline table."""


@dataclass(frozen=True)
class Evaluation:
    """The comparison of every policy over every world.

    Parameters
    ----------
    runs : pandas.DataFrame
        One row per world and policy with every metric of
        :func:`~equiptwin.evaluate.metrics.run_metrics`.
    summary : pandas.DataFrame
        Mean and 95% interval per policy and metric.
    goal : dict
        The issue's goal, each part with its measured value and whether it is met.
    files : tuple of Path
        What was written.
    """

    runs: pd.DataFrame
    summary: pd.DataFrame
    goal: dict[str, Any]
    files: tuple[Path, ...]

    def table(self) -> str:
        """Return the headline metrics as a text table: ``mean [low, high]`` per policy."""
        rows = self.summary[self.summary["metric"].isin(HEADLINE)]
        cells = rows.assign(
            cell=[
                f"{m:,.1f} [{lo:,.1f}, {hi:,.1f}]"
                for m, lo, hi in zip(rows["mean"], rows["ci_low"], rows["ci_high"], strict=True)
            ]
        )
        table = cells.pivot(index="policy", columns="metric", values="cell")
        order = list(dict.fromkeys(self.summary["policy"]))
        return table.loc[order, list(HEADLINE)].to_string()

    def replay_table(self) -> str:
        """Return how each policy ran the worlds, as means per world.

        Failures, planned replacements, site services, spare lives and days past the world
        (see :mod:`~equiptwin.evaluate.operations`).
        """
        rows = self.summary[self.summary["metric"].isin(REPLAY)]
        table = rows.pivot(index="policy", columns="metric", values="mean")
        order = list(dict.fromkeys(self.summary["policy"]))
        return table.loc[order, list(REPLAY)].round(1).to_string()


def goal_check(runs: pd.DataFrame) -> dict[str, Any]:
    """Return the issue's goal, part by part, measured on the pooled worlds.

    equiptwin cuts unplanned downtime and short-notice cancellations by at least 70%
    against run-to-failure, beats the threshold alarms on both, and discards less life
    than fixed-interval replacement.
    """
    cut = reductions(runs, BASELINE, ["unplanned_downtime_h", "cancelled_short_notice"])
    mean = runs.groupby("policy", sort=False)[
        ["unplanned_downtime_h", "cancelled_short_notice", "discarded_life_days"]
    ].mean()
    ours, alarms = mean.loc["equiptwin"], mean.loc["threshold alarms"]
    fixed = mean.loc["fixed interval"]
    ours_cut = cut.to_dict(orient="index")["equiptwin"]
    parts = {
        "downtime_cut_vs_run_to_failure": float(ours_cut["unplanned_downtime_h"]),
        "cancellations_cut_vs_run_to_failure": float(ours_cut["cancelled_short_notice"]),
    }
    met = {
        "downtime_cut_at_least_70pct": parts["downtime_cut_vs_run_to_failure"] >= GOAL_REDUCTION,
        "cancellations_cut_at_least_70pct": parts["cancellations_cut_vs_run_to_failure"]
        >= GOAL_REDUCTION,
        "beats_threshold_on_downtime": bool(
            ours["unplanned_downtime_h"] < alarms["unplanned_downtime_h"]
        ),
        "beats_threshold_on_cancellations": bool(
            ours["cancelled_short_notice"] < alarms["cancelled_short_notice"]
        ),
        "discards_less_than_fixed_interval": bool(
            ours["discarded_life_days"] < fixed["discarded_life_days"]
        ),
    }
    return {**parts, **met, "met": all(met.values())}


def _compare_world(
    job: tuple[Path, World],
    *,
    config: PipelineConfig,
    now: Callable[[], dt.datetime],
    backtests_dir: Path,
    interval: Mapping[str, float],
    progress: bool,
    period_days: int | None,
) -> list[dict[str, Any]]:
    """Make or read one world's backtest and replay its department under every policy."""
    path, world = job
    folder = ensure_backtest(path, backtests_dir / world.name, config, now, progress=progress)
    advice = read_advice(world, folder)
    days = (advice.end - advice.start).days
    if period_days is not None:
        if period_days > days:
            raise ConfigError(
                f"world {world.name}: the evaluated period of {period_days} days is longer "
                f"than its backtest ({advice.start} to {advice.end}, {days} days); "
                "simulate a longer world or evaluate fewer days."
            )
        days = period_days
    rows = []
    for policy in policies_for(advice, interval, ticket_policies(world, config)):
        outcome = simulate_department(world, policy, config, start=advice.start, days=days)
        rows.append({"world": world.name, "policy": policy.name, **run_metrics(outcome, config)})
    return rows


def evaluate_worlds(
    world_dirs: Sequence[Path],
    out_dir: Path,
    config: PipelineConfig,
    now: Callable[[], dt.datetime],
    *,
    backtests_dir: Path | None = None,
    workers: int = 1,
    progress: bool = False,
    period_days: int | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> Evaluation:
    """Compare the policies on every world and write the results to ``out_dir``.

    Parameters
    ----------
    world_dirs : sequence of Path
        Simulated fleet directories (one per seed), with distinct names.
    out_dir : Path
        Folder for ``operations.json``, ``operations_runs.csv``,
        ``operations_summary.csv`` and ``operations.png``.
    config : PipelineConfig
        Pipeline settings (``twin.wear_scale`` must match the worlds' for a backtest).
    now : callable
        The clock (ingest's bookkeeping when a backtest is made).
    backtests_dir : Path, optional
        Where each world's backtest is, as ``<backtests_dir>/<world name>/``; missing
        ones are made there. Default: ``out_dir / "backtests"``.
    workers : int
        Processes that replay worlds (and make their backtests) in parallel; the result
        is the same for any number.
    progress : bool
        Progress bars while backtests are made.
    period_days : int, optional
        Days replayed from the start of each backtest; the whole backtest when omitted.
        A world simulated (and backtested) beyond the period keeps lives with known
        failures for runs that replace early and so outrun the period's own lives (see
        :attr:`~equiptwin.evaluate.operations.Outcome.beyond_world_days`).
    log : callable
        Receives one line per step.

    Returns
    -------
    Evaluation
    """
    if workers < 1:
        raise ConfigError(f"`workers` must be at least 1, but found {workers}.")
    names = [p.name for p in world_dirs]
    if not names or len(set(names)) != len(names):
        raise ConfigError(f"evaluate needs worlds with distinct folder names, but found {names}.")
    backtests_dir = backtests_dir or out_dir / "backtests"
    worlds = [read_world(p) for p in world_dirs]
    interval = failure_age_quantiles(worlds, float(config["operations.fixed_interval_quantile"]))
    task = partial(
        _compare_world,
        config=config,
        now=now,
        backtests_dir=backtests_dir,
        interval=interval,
        progress=progress and workers == 1,
        period_days=period_days,
    )
    jobs = list(zip(world_dirs, worlds, strict=True))
    if workers == 1 or len(jobs) == 1:
        parts = [task(job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            parts = list(pool.map(task, jobs))
    for name, rows in zip(names, parts, strict=True):
        log(f"{name}: {len(rows)} policies replayed")
    runs = pd.DataFrame([row for rows in parts for row in rows])
    summary = summarise(runs)
    goal = goal_check(runs)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = (
        out_dir / "operations.json",
        out_dir / "operations_runs.csv",
        out_dir / "operations_summary.csv",
        out_dir / "operations.png",
    )
    report = {
        "worlds": names,
        "fixed_interval_days": interval,
        "goal": goal,
        "summary": summary.to_dict(orient="records"),
        "runs": runs.to_dict(orient="records"),
    }
    files[0].write_text(json.dumps(report, indent=2), encoding="utf-8")
    runs.to_csv(files[1], index=False)
    summary.to_csv(files[2], index=False)
    plot_summary(summary, files[3])
    return Evaluation(runs, summary, goal, files)
