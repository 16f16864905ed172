"""Operating points: every model's alerts as the ticket threshold moves, and like-for-like.

The alert metrics of one ticket rule (:mod:`equiptwin.evaluate.alerts`) compare models
at one threshold each. A model alerts more failures, and earlier, by alerting more
often: a long lead time bought with many false alerts is not a better forecast. Here
each model's ticket rule is replayed with ``p_open`` moved over a grid (the rest of each
system's policy as configured) and every other model is compared with a reference model
at its own configured rule. Each model is replayed with the failure-window part of the
rule on (as configured) and off (tickets from the probability alone), so that a model
whose windows alone raise many alerts is not held to them. The comparison is made twice:

* **at the same false-alert rate**: the other model's threshold that alerts the most
  failures (then the longest median warning) with no more false alerts per system-year
  than the reference. The reference is better when it alerts at least as many failures
  with at least as long a median warning, one of them strictly; and whenever the other
  model never gets down to the reference's false-alert rate at any threshold (it can
  only match it by not alerting at all, as a ROC curve starts at no alerts).
* **at the same recall**: the other model's threshold that reaches the reference's
  recall with the fewest false alerts. The reference is better when it needs fewer
  false alerts; and whenever the other model never reaches the reference's recall.

Each other model's threshold is chosen with hindsight, on the very outcomes it is scored
on: every benefit of the doubt goes to the models compared with the reference. Recall
counts failures that showed precursors when the lives say which did
(``has_precursor``), all eligible failures otherwise.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from equiptwin.evaluate.alerts import AlertRules, alert_outcomes, ticket_alerts
from equiptwin.planning.policy import Policy

P_OPEN_GRID: tuple[float, ...] = (
    0.01,
    0.02,
    0.03,
    0.05,
    0.075,
    0.1,
    0.15,
    0.2,
    0.25,
    0.3,
    0.4,
    0.5,
    0.6,
    0.7,
    0.8,
    0.9,
    0.95,
    1.0,
)
"""Ticket thresholds ``p_open`` each model is replayed at."""

POINT_COLUMNS: tuple[str, ...] = (
    "model",
    "p_open",
    "window_rule",
    "n_failures",
    "n_alerted",
    "recall",
    "median_lead_days",
    "median_warning_days",
    "false_alerts_per_system_year",
)
MATCHED_COLUMNS: tuple[str, ...] = (
    "model",
    "matched_on",
    "matched",
    *POINT_COLUMNS[1:],
    "reference_better",
)
_TOL = 1e-9
FA = "false_alerts_per_system_year"


def _at(policies: Mapping[str, Policy], p_open: float) -> dict[str, Policy]:
    """Return the policies with ``p_open`` moved (higher thresholds raised to meet it)."""
    return {
        system: dataclasses.replace(
            policy,
            p_open=p_open,
            p_high=max(p_open, policy.p_high),
            p_critical=max(p_open, policy.p_critical),
        )
        for system, policy in policies.items()
    }


def fleet_point(table: pd.DataFrame) -> dict[str, float]:
    """Return an alert table's fleet-wide (last, ``all``) row as :data:`POINT_COLUMNS`."""
    row = table.iloc[-1]
    precursor = "n_failures_precursor" in table.columns
    n_failures = row["n_failures_precursor"] if precursor else row["n_failures"]
    n_alerted = row["n_alerted_precursor"] if precursor else row["n_alerted"]
    return {
        "n_failures": int(n_failures),
        "n_alerted": int(n_alerted),
        "recall": n_alerted / n_failures if n_failures else np.nan,
        "median_lead_days": float(row["median_lead_days"]),
        "median_warning_days": float(row["median_warning_days"]),
        "false_alerts_per_system_year": float(row["false_alerts_per_system_year"]),
    }


def operating_points(
    forecasts: pd.DataFrame,
    lives: pd.DataFrame,
    policies: Mapping[str, Policy],
    *,
    data_end: dt.date,
    p_open_grid: Sequence[float] = P_OPEN_GRID,
    rules: AlertRules | None = None,
) -> pd.DataFrame:
    """Return each model's fleet-wide alert metrics at every threshold, window rule on/off.

    Parameters
    ----------
    forecasts : DataFrame
        ``model``, ``life_id``, ``system_id``, ``as_of``, ``window_start_days`` and the
        ``p_fail_<h>d`` of every policy's horizon (the backtest's forecasts).
    lives : DataFrame
        As for :func:`~equiptwin.evaluate.alerts.alert_outcomes`.
    policies : Mapping of str to Policy
        Each system's ticket policy; only ``p_open`` is moved, and the failure-window
        rule switched off.
    data_end : datetime.date
        First day without data.
    p_open_grid : sequence of float
        The thresholds.
    rules : AlertRules, optional
        Lead-time window and false-alert horizon.

    Returns
    -------
    DataFrame
        :data:`POINT_COLUMNS`, one row per model, threshold and ``window_rule``.
    """
    moved = [(p, _at(policies, p)) for p in p_open_grid]
    rows = []
    for model, frame in forecasts.groupby("model", sort=False):
        # without failure windows the window part of the rule never opens a ticket
        for window_rule, seen in ((True, frame), (False, frame.assign(window_start_days=np.nan))):
            for p_open, at in moved:
                alerts = seen[["life_id", "as_of"]].assign(alert=ticket_alerts(seen, at))
                table, _ = alert_outcomes(alerts, lives, data_end=data_end, by=(), rules=rules)
                rows.append(
                    {
                        "model": model,
                        "p_open": p_open,
                        "window_rule": window_rule,
                        **fleet_point(table),
                    }
                )
    return pd.DataFrame(rows, columns=POINT_COLUMNS)


def _best(
    own: pd.DataFrame,
    ok: pd.Series,
    order: Sequence[tuple[str, bool]],
    fallback: Sequence[tuple[str, bool]],
) -> tuple[pd.Series, bool]:
    """Return the best row of ``own[ok]`` by ``order``, and whether any row was ok.

    ``order`` and ``fallback`` are (column, ascending) pairs; ``fallback`` ranks all rows
    when none is ok.
    """
    matched = bool(ok.any())
    pool, keys = (own[ok], order) if matched else (own, fallback)
    ranked = pool.sort_values(
        [c for c, _ in keys], ascending=[a for _, a in keys], kind="stable", na_position="last"
    )
    return ranked.iloc[0], matched


def matched_comparison(
    points: pd.DataFrame, reference: str, at: Mapping[str, float]
) -> pd.DataFrame:
    """Compare every other model with ``reference`` at its false-alert rate and recall.

    Parameters
    ----------
    points : DataFrame
        From :func:`operating_points`.
    reference : str
        The model compared with (its rows in ``points`` are skipped).
    at : Mapping of str to float
        The reference's ``recall``, ``median_warning_days`` and
        ``false_alerts_per_system_year`` at its configured rule
        (:func:`fleet_point` of its alert table).

    Returns
    -------
    DataFrame
        :data:`MATCHED_COLUMNS`: two rows per other model, ``matched_on`` ``"false
        alerts"`` and ``"recall"``; ``matched`` is false where no threshold of the grid
        matched (the row is then the nearest: fewest false alerts, or highest recall),
        ``reference_better`` as in the module docstring.
    """
    fa, recall, warning = (
        at["false_alerts_per_system_year"],
        at["recall"],
        at["median_warning_days"],
    )
    rows = []
    for _, own in points[points["model"] != reference].groupby("model", sort=False):
        row, matched = _best(
            own,
            own["false_alerts_per_system_year"] <= fa + _TOL,
            [("recall", False), ("median_warning_days", False), (FA, True)],
            [(FA, True), ("recall", False)],
        )
        no_worse = recall >= row["recall"] - _TOL and warning >= row["median_warning_days"]
        strictly = recall > row["recall"] + _TOL or warning > row["median_warning_days"]
        rows.append(
            {
                **row.to_dict(),
                "matched_on": "false alerts",
                "matched": matched,
                "reference_better": not matched or (no_worse and strictly),
            }
        )
        row, matched = _best(
            own,
            own["recall"] >= recall - _TOL,
            [(FA, True), ("median_warning_days", False)],
            [("recall", False), (FA, True)],
        )
        rows.append(
            {
                **row.to_dict(),
                "matched_on": "recall",
                "matched": matched,
                "reference_better": not matched or fa < row[FA],
            }
        )
    return pd.DataFrame(rows, columns=MATCHED_COLUMNS)
