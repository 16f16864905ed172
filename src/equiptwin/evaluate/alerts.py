"""Alert metrics: were failures flagged early enough, and did alerts cry wolf.

Input is one forecast row per life and ``as_of`` day with a boolean ``alert`` (for
example the ticket policy's rule, see :func:`ticket_alerts`), and
the lives' true outcomes. Definitions (:class:`AlertRules` holds the numbers):

* An **alert episode** is a run of consecutive forecast rows of one life with the alert
  on; it starts on its first row. A run kept on longer than ``false_after_days`` counts
  as a new episode every ``false_after_days`` (a standing alert is raised again), so an
  alert that is simply always on cannot pass as a single alert.
* A failure is **eligible** when its life has a forecast in the *alert window*
  ``[failure - max_lead_days, failure - min_lead_days]`` (default 20 and 3 days), and
  **alerted** when one of those forecasts has the alert on. Its **lead time** is the
  failure date minus the start of the episode holding the first such alert (an alert
  raised earlier and kept on counts from when it was raised).
* A failure's **warning** is its lead time when alerted and 0 days when missed; the
  median warning over eligible failures compares models that alert different numbers of
  failures (a model that alerts one failure early has a long median lead time but a
  short median warning).
* An episode is a **false alert** when its life is seen working ``false_after_days``
  (default 30) after the episode starts: it did not fail within that time. An episode
  whose life is censored sooner (preventive replacement, end of data) is
  **unresolved**: whether it would have failed is unknown, so it counts as neither.
* **System-years** are the days from each life's first forecast to its last, summed
  and divided by 365.25 (one tracked component per system).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from equiptwin.planning.policy import Policy

FORECAST_COLUMNS: tuple[str, ...] = ("life_id", "as_of", "alert")
LIVES_COLUMNS: tuple[str, ...] = ("life_id", "ended_on", "end_reason")
_DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class AlertRules:
    """The numbers behind the alert metrics (see the module docstring).

    Parameters
    ----------
    min_lead_days : int, default 3
        Latest useful alert, in days before the failure.
    max_lead_days : int, default 20
        Earliest alert that still counts as a warning for that failure.
    false_after_days : int, default 30
        An episode not followed by a failure within this many days is false.
    """

    min_lead_days: int = 3
    max_lead_days: int = 20
    false_after_days: int = 30

    def __post_init__(self) -> None:
        if not 0 <= self.min_lead_days <= self.max_lead_days <= self.false_after_days:
            raise ValueError(
                "AlertRules needs 0 <= min_lead_days <= max_lead_days <= false_after_days, "
                f"but found {self.min_lead_days}, {self.max_lead_days}, "
                f"{self.false_after_days}."
            )


def ticket_alerts(forecasts: pd.DataFrame, policies: Mapping[str, Policy]) -> pd.Series:
    """Return whether each forecast row opens a ticket under its system's policy.

    The rule of :meth:`~equiptwin.planning.policy.Policy.opens`, with each system's
    ``[policy_overrides]`` applied, as the daily job applies it.

    Parameters
    ----------
    forecasts : DataFrame
        ``system_id``, ``window_start_days`` (NaN without a window) and the column
        ``p_fail_<h>d`` of every policy's horizon ``h``.
    policies : Mapping of str to Policy
        Each system's ticket policy (:func:`~equiptwin.planning.policy.policies_by_system`).

    Raises
    ------
    ValueError
        When a system has no policy or a policy's horizon was not forecast.
    """
    missing = sorted(set(forecasts["system_id"]) - set(policies))
    if missing:
        raise ValueError(f"no ticket policy for system(s) {missing[:5]}.")
    # one pass per distinct policy (a fleet has a few), not per system
    codes, distinct = pd.factorize(forecasts["system_id"].map(policies))
    alert = np.zeros(len(forecasts), dtype=bool)
    for k, policy in enumerate(distinct):
        column = f"p_fail_{policy.horizon_days}d"
        if column not in forecasts.columns:
            raise ValueError(
                f"`forecasts` has no column {column!r} for a ticket policy with "
                f"`horizon_days` {policy.horizon_days}; forecast that horizon first."
            )
        rows = codes == k
        chosen = forecasts.loc[rows]
        alert[rows] = policy.opens(chosen[column], chosen["window_start_days"])
    return pd.Series(alert, index=forecasts.index, name="alert")


def describe_policies(policies: Mapping[str, Policy]) -> str:
    """Return the ticket rules in words, one per distinct rule with its systems' count."""
    rules: dict[tuple[int, float, int], int] = {}
    for policy in policies.values():
        key = (policy.horizon_days, policy.p_open, policy.window_days_high)
        rules[key] = rules.get(key, 0) + 1
    return "; ".join(
        f"P(fail within {h} d) >= {p} or failure window within {w} d ({n} systems)"
        for (h, p, w), n in sorted(rules.items())
    )


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"`{name}` lacks the column(s) {missing}; it needs {list(columns)}.")


def _days(delta: pd.Series) -> np.ndarray:
    """Return a timedelta Series as float days (NaN where missing)."""
    return np.asarray(delta.to_numpy("timedelta64[s]") / _DAY, dtype=np.float64)


def _episodes(rows: pd.DataFrame, length_days: int) -> pd.DataFrame:
    """Return ``rows`` (sorted by life and day) with alert episode numbers and starts.

    Runs of alert rows are cut into episodes of at most ``length_days`` days.
    """
    alert = rows["alert"].to_numpy(dtype=bool)
    same_life = rows["life_id"].eq(rows["life_id"].shift()).to_numpy()
    prev_alert = np.concatenate([[False], alert[:-1]]) & same_life
    run = np.where(alert, np.cumsum(alert & ~prev_alert), 0)
    out = rows.assign(run=run)
    run_start = out.loc[alert].groupby("run")["as_of"].transform("min")
    segment = (_days(out.loc[alert, "as_of"] - run_start) // length_days).astype(np.int64)
    out.loc[alert, "episode_start"] = run_start + pd.to_timedelta(segment * length_days, "D")
    out["episode"] = 0
    out.loc[alert, "episode"] = (
        out.loc[alert].groupby(["run", "episode_start"], sort=False).ngroup() + 1
    )
    return out


def _alert_rows(
    forecasts: pd.DataFrame, life: pd.DataFrame, data_end: dt.date, rules: AlertRules
) -> pd.DataFrame:
    """Return the forecast rows each life was seen on, with outcomes and alert episodes."""
    unknown = ~forecasts["life_id"].isin(life.index)
    if unknown.any():
        raise ValueError(
            f"`forecasts` names life {forecasts.loc[unknown, 'life_id'].iloc[0]!r}, which is "
            "not in `lives`; pass the lives table the forecasts were made for."
        )
    ended = pd.to_datetime(life["ended_on"]).to_numpy("datetime64[D]")
    stop = np.datetime64(data_end, "D")
    # A failure on or after data_end is not in the data yet (as in landmark_target).
    failed = (life["end_reason"] == "failure").to_numpy() & ~np.isnat(ended) & (ended < stop)
    seen_until = np.where(np.isnat(ended), stop, np.minimum(ended, stop))

    rows = forecasts.loc[:, list(FORECAST_COLUMNS)].copy()
    rows["as_of"] = pd.to_datetime(rows["as_of"]).to_numpy("datetime64[D]")
    rows["alert"] = rows["alert"].astype(bool)
    pos = life.index.get_indexer(pd.Index(rows["life_id"]))
    rows["fail_on"] = np.where(failed[pos], ended[pos], np.datetime64("NaT"))
    rows["seen_until"] = seen_until[pos]
    rows = rows[rows["as_of"] < rows["seen_until"]]
    return _episodes(rows.sort_values(["life_id", "as_of"], kind="stable"), rules.false_after_days)


def _failures(rows: pd.DataFrame, rules: AlertRules) -> pd.DataFrame:
    """Return the eligible failures by life: ``fail_on``, ``alerted``, ``lead_days``."""
    lead = _days(rows["fail_on"] - rows["as_of"])
    in_window = (lead >= rules.min_lead_days) & (lead <= rules.max_lead_days)
    per_life = rows.assign(in_window=in_window, hit=in_window & rows["alert"].to_numpy())
    failures = (
        per_life[per_life["in_window"]]
        .groupby("life_id")
        .agg(fail_on=("fail_on", "first"), alerted=("hit", "any"))
    )
    first_hit = per_life[per_life["hit"]].groupby("life_id")["episode_start"].min()
    failures["lead_days"] = _days(failures["fail_on"] - first_hit.reindex(failures.index))
    return failures


PAIRED_COLUMNS: tuple[str, ...] = (
    "model",
    "both_alerted",
    "median_lead_days",
    "reference_median_lead_days",
    "model_earlier",
    "reference_earlier",
)


def paired_leads(leads: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Compare lead times on the failures both a model and ``reference`` alerted.

    A median lead time over the failures a model alerted favours a model that alerts
    few of them early; on the failures both alerted, the two are compared like for like.

    Parameters
    ----------
    leads : DataFrame
        ``model``, ``life_id``, ``lead_days`` (NaN when missed), as the failures of
        :func:`alert_outcomes` per model.
    reference : str
        The model every other one is compared with.

    Returns
    -------
    DataFrame
        One row per other model: ``both_alerted`` (failures), ``median_lead_days`` of the
        model and ``reference_median_lead_days`` over them, and ``reference_earlier``,
        ``model_earlier`` (failures where one alerted strictly before the other).
    """
    wide = leads.pivot(index="life_id", columns="model", values="lead_days")
    if reference not in wide.columns:
        raise ValueError(f"`leads` has no rows of the reference model {reference!r}.")
    rows = []
    for model in (m for m in wide.columns if m != reference):
        both = wide[[model, reference]].dropna()
        rows.append(
            {
                "model": model,
                "both_alerted": len(both),
                "median_lead_days": float(both[model].median()) if len(both) else np.nan,
                "reference_median_lead_days": float(both[reference].median())
                if len(both)
                else np.nan,
                "model_earlier": int((both[model] > both[reference]).sum()),
                "reference_earlier": int((both[reference] > both[model]).sum()),
            }
        )
    return pd.DataFrame(rows, columns=PAIRED_COLUMNS)


def alert_metrics(
    forecasts: pd.DataFrame,
    lives: pd.DataFrame,
    *,
    data_end: dt.date,
    by: Sequence[str] = ("modality", "component"),
    rules: AlertRules | None = None,
) -> pd.DataFrame:
    """Return recall, lead time and false alerts per group and over all lives.

    The table of :func:`alert_outcomes`; see there.
    """
    return alert_outcomes(forecasts, lives, data_end=data_end, by=by, rules=rules)[0]


def alert_outcomes(
    forecasts: pd.DataFrame,
    lives: pd.DataFrame,
    *,
    data_end: dt.date,
    by: Sequence[str] = ("modality", "component"),
    rules: AlertRules | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the alert metrics per group and the failures they summarise.

    Parameters
    ----------
    forecasts : DataFrame
        ``life_id``, ``as_of`` (date), ``alert`` (bool): one row per life and day.
    lives : DataFrame
        ``life_id``, ``ended_on`` (date or missing), ``end_reason`` (``"failure"``,
        ``"preventive"`` or missing) and the ``by`` columns; optionally
        ``has_precursor`` (bool) for recall over failures that showed precursors.
    data_end : datetime.date
        First day without data (lives still running are censored there).
    by : sequence of str, default ("modality", "component")
        Columns of ``lives`` to group by; a last row ``"all"`` covers every life.
    rules : AlertRules, optional
        Lead-time window and false-alert horizon; the defaults when omitted.

    Returns
    -------
    table : DataFrame
        One row per group: ``n_failures`` (eligible), ``n_alerted``, ``recall``,
        ``median_lead_days``, ``median_warning_days``, ``false_alerts``, ``unresolved_alerts``,
        ``system_years``, ``false_alerts_per_system_year`` and, with ``has_precursor``,
        ``n_failures_precursor``, ``recall_precursor``.
    failures : DataFrame
        Each eligible failure, indexed by ``life_id``: ``fail_on``, ``alerted`` (bool) and
        ``lead_days`` (NaN when missed).
    """
    rules = rules or AlertRules()
    _require(forecasts, FORECAST_COLUMNS, "forecasts")
    _require(lives, [*LIVES_COLUMNS, *by], "lives")
    life = lives.set_index("life_id")
    rows = _alert_rows(forecasts, life, data_end, rules)
    failures = _failures(rows, rules)

    starts = (
        rows[rows["alert"]]
        .groupby("episode")
        .agg(
            life_id=("life_id", "first"),
            start=("episode_start", "first"),
            fail_on=("fail_on", "first"),
            seen_until=("seen_until", "first"),
        )
    )
    horizon = starts["start"] + np.timedelta64(rules.false_after_days, "D")
    true_alert = starts["fail_on"].notna() & (starts["fail_on"] <= horizon)
    starts["false"] = ~true_alert & (starts["seen_until"] > horizon)
    starts["unresolved"] = ~true_alert & ~starts["false"]

    span = rows.groupby("life_id")["as_of"].agg(["min", "max"])
    years = pd.Series((_days(span["max"] - span["min"]) + 1.0) / 365.25, index=span.index)
    return _summarise(life, failures, starts, years, list(by)), failures


def _summarise(
    life: pd.DataFrame,
    failures: pd.DataFrame,
    starts: pd.DataFrame,
    years: pd.Series,
    by: list[str],
) -> pd.DataFrame:
    index = life.index
    alerted = failures["alerted"].reindex(index, fill_value=False).astype(bool)
    per_life = (
        life[by]
        .astype(str)
        .assign(
            eligible=index.isin(failures.index),
            alerted=alerted,
            lead_days=failures["lead_days"].where(failures["alerted"]).reindex(index),
            warning_days=failures["lead_days"].where(failures["alerted"], 0.0).reindex(index),
            false_alerts=starts.groupby("life_id")["false"].sum().reindex(index, fill_value=0),
            unresolved_alerts=starts.groupby("life_id")["unresolved"]
            .sum()
            .reindex(index, fill_value=0),
            system_years=years.reindex(index, fill_value=0.0),
        )
    )
    aggregations = {
        "n_failures": ("eligible", "sum"),
        "n_alerted": ("alerted", "sum"),
        "median_lead_days": ("lead_days", "median"),
        "median_warning_days": ("warning_days", "median"),
        "false_alerts": ("false_alerts", "sum"),
        "unresolved_alerts": ("unresolved_alerts", "sum"),
        "system_years": ("system_years", "sum"),
    }
    if "has_precursor" in life.columns:
        shows = life["has_precursor"].fillna(False).astype(bool)
        per_life = per_life.assign(
            precursor_failure=per_life["eligible"] & shows,
            precursor_alerted=alerted & shows,
        )
        aggregations["n_failures_precursor"] = ("precursor_failure", "sum")
        aggregations["n_alerted_precursor"] = ("precursor_alerted", "sum")
    keys = by or ["group"]
    parts = [per_life.groupby(by, as_index=False).agg(**aggregations)] if by else []
    whole = per_life.assign(**dict.fromkeys(keys, "all"))
    parts.append(whole.groupby(keys, as_index=False).agg(**aggregations))
    table = pd.concat(parts, ignore_index=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["recall"] = table["n_alerted"] / table["n_failures"].where(table["n_failures"] > 0)
        table["false_alerts_per_system_year"] = table["false_alerts"] / table["system_years"].where(
            table["system_years"] > 0
        )
        if "n_failures_precursor" in table.columns:
            table["recall_precursor"] = table["n_alerted_precursor"] / table[
                "n_failures_precursor"
            ].where(table["n_failures_precursor"] > 0)
    return table
