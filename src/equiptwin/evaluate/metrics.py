"""What a policy bought: metrics of one run, and their means with 95% intervals over seeds.

Per run (one world, one policy; :func:`run_metrics`):

* ``unplanned_downtime_h``: hours systems were down after failures, until repaired;
* ``failures``, ``planned_replacements`` (by the policy), ``site_services`` (the world's
  own preventive replacements, the same in every run);
* ``cancelled_<priority>`` and ``cancelled_short_notice``: exams cancelled at short notice;
* ``rebooked`` and ``mean_extra_wait_h``: exams moved by planned maintenance, and how many
  hours later they were done on average;
* ``cancelled_no_room``: displaced exams with no room to rebook them;
* ``discarded_life_days``: remaining component life thrown away at planned replacements
  (from the truth; a lower bound for lives the world never saw fail);
* ``spare_lives``: lives of other systems installed when the world's own next life could
  not cover the rest of the period, and ``beyond_world_days``: component-days still run
  past what the world saw, which cannot fail in the replay (see
  :mod:`~equiptwin.evaluate.operations`): read failures and downtime beside them;
* costs, in currency units: ``cost_parts`` (a part per replacement),
  ``cost_labour`` (engineer hours), ``cost_downtime`` (unplanned downtime at
  ``cost.downtime_per_day_<modality>`` / 24 per hour), ``cost_emergency``
  (``cost.emergency_premium`` per failure), ``cost_rebooking`` (``cost.displaced_exam``
  per weighted rebooked exam), ``cost_cancellations`` (``operations.cancelled_exam`` per
  weighted cancelled exam), and ``total_cost``, their sum.

Over seeds (:func:`summarise`): the mean and a 95% Student-t confidence interval of the
mean, per policy and metric.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from equiptwin.config import PipelineConfig
from equiptwin.evaluate.operations import SITE_SERVICE, Outcome
from equiptwin.planning.bookings import EXAM_PRIORITIES
from equiptwin.planning.slots import CostModel

COST_PARTS: tuple[str, ...] = (
    "cost_parts",
    "cost_labour",
    "cost_downtime",
    "cost_emergency",
    "cost_rebooking",
    "cost_cancellations",
)
HEADLINE: tuple[str, ...] = (
    "unplanned_downtime_h",
    "cancelled_short_notice",
    "rebooked",
    "mean_extra_wait_h",
    "discarded_life_days",
    "total_cost",
)
"""The metrics of the printed table and the plots, in order."""


def run_metrics(outcome: Outcome, config: PipelineConfig) -> dict[str, float]:
    """Return the metrics of one run (see the module docstring).

    Parameters
    ----------
    outcome : Outcome
        One department run.
    config : PipelineConfig
        ``cost.*``, ``operations.*`` and ``maintenance.*`` settings.

    Returns
    -------
    dict of str to float
    """
    costs = CostModel.from_config(config)
    jobs, exams = outcome.jobs, outcome.exams
    failed = jobs[jobs["kind"] == "failure"]
    planned = jobs[jobs["kind"] == "planned"]
    weight = exams["priority"].map(costs.priority_weights).astype(float)
    short = exams["outcome"] == "cancelled_short_notice"
    moved = exams["outcome"] == "rebooked"
    no_room = exams["outcome"] == "cancelled_no_room"
    per_hour = failed["modality"].map(costs.downtime_per_day).astype(float) / 24.0
    part_cost = jobs["component"].map(lambda c: config[f"operations.part_cost_{c}"])
    hours = jobs["component"].map(lambda c: config[f"maintenance.job_hours_{c}"])
    out: dict[str, float] = {
        "unplanned_downtime_h": float(failed["downtime_h"].sum()),
        "planned_downtime_h": float(jobs.loc[jobs["kind"] != "failure", "downtime_h"].sum()),
        "failures": float(len(failed)),
        "planned_replacements": float(len(planned)),
        "site_services": float((jobs["kind"] == SITE_SERVICE).sum()),
        "exams": float(len(exams)),
        "done": float((exams["outcome"] == "done").sum()),
        "cancelled_short_notice": float(short.sum()),
    }
    for priority in EXAM_PRIORITIES:
        out[f"cancelled_{priority}"] = float((short & (exams["priority"] == priority)).sum())
    out["rebooked"] = float(moved.sum())
    waits = exams.loc[moved, "extra_wait_h"]
    out["mean_extra_wait_h"] = float(waits.mean()) if len(waits) else 0.0
    out["cancelled_no_room"] = float(no_room.sum())
    out["discarded_life_days"] = float(planned["discarded_days"].sum())
    out["beyond_world_days"] = outcome.beyond_world_days
    out["spare_lives"] = float(outcome.spare_lives)
    out["cost_parts"] = float(part_cost.sum())
    out["cost_labour"] = float(hours.sum()) * float(config["operations.engineer_hour"])
    out["cost_downtime"] = float((failed["downtime_h"] * per_hour).sum())
    out["cost_emergency"] = costs.emergency_premium * len(failed)
    out["cost_rebooking"] = costs.displaced_exam * float(weight[moved].sum())
    out["cost_cancellations"] = float(config["operations.cancelled_exam"]) * float(
        weight[short | no_room].sum()
    )
    out["total_cost"] = float(sum(out[k] for k in COST_PARTS))
    return out


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Return the mean and the Student-t confidence interval of the mean.

    With fewer than two values, or no spread, the interval is the mean itself.
    """
    x = np.asarray(values, dtype=np.float64)
    mean = float(x.mean())
    if len(x) < 2 or float(x.std(ddof=1)) == 0.0:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return mean, mean - half, mean + half


def summarise(per_run: pd.DataFrame) -> pd.DataFrame:
    """Return the mean and 95% interval of every metric per policy.

    Parameters
    ----------
    per_run : pandas.DataFrame
        One row per world and policy: ``world``, ``policy`` and metric columns.

    Returns
    -------
    pandas.DataFrame
        One row per policy and metric: ``policy``, ``metric``, ``mean``, ``ci_low``,
        ``ci_high``, ``seeds``; policies in their first-seen order.
    """
    metrics = [c for c in per_run.columns if c not in ("world", "policy")]
    rows = []
    for policy, runs in per_run.groupby("policy", sort=False):
        for metric in metrics:
            mean, low, high = mean_ci(runs[metric].tolist())
            rows.append((policy, metric, mean, low, high, len(runs)))
    return pd.DataFrame(rows, columns=["policy", "metric", "mean", "ci_low", "ci_high", "seeds"])


def reductions(per_run: pd.DataFrame, baseline: str, metrics: Sequence[str]) -> pd.DataFrame:
    """Return each policy's reduction of ``metrics`` against ``baseline``, over all worlds.

    The reduction is ``1 - sum(policy) / sum(baseline)`` over the worlds (pooled, so a
    world without failures does not divide by zero).
    """
    totals = per_run.groupby("policy", sort=False)[list(metrics)].sum()
    base = totals.loc[baseline].replace(0.0, np.nan)
    return 1.0 - totals.div(base, axis=1)
