"""Backtest: replay past days with only the data each day had, for every model at once.

Features are built once for the whole period (each row uses data before its own day
only). Every ``backtest.retrain_days`` a fresh copy of each model is trained on the
landmark rows before the cut, with targets censored at the cut, and forecasts the days up
to the next cut. The forecasts are then scored against what happened by the end of the
period: concordance, integrated Brier score, time-dependent AUC, calibration, and the
alert metrics of :mod:`equiptwin.evaluate.alerts` with the ticket policy's own rule, per
system with its ``[policy_overrides]`` (:meth:`~equiptwin.planning.policy.Policy.opens`),
and every model against equiptwin's at the same false-alert rate and at the same recall
(:mod:`equiptwin.evaluate.operating`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import sqlalchemy as sa
from tqdm import tqdm

from equiptwin.config import PipelineConfig
from equiptwin.evaluate.alerts import (
    alert_outcomes,
    describe_policies,
    paired_leads,
    ticket_alerts,
)
from equiptwin.evaluate.operating import (
    MATCHED_COLUMNS,
    fleet_point,
    matched_comparison,
    operating_points,
)
from equiptwin.evaluate.truth import sudden_failures, with_precursors
from equiptwin.features.frame import data_range, read_lives, store_features
from equiptwin.planning.policy import Policy, policies_by_system
from equiptwin.survival.base import SurvivalEstimator
from equiptwin.survival.baselines import CoxPH, KaplanMeier, Limit, ThresholdRule, TwinCurve
from equiptwin.survival.calibrate import CalibratedEstimator
from equiptwin.survival.curves import SurvivalCurves
from equiptwin.survival.gbm import XGBAFT, XGBCox
from equiptwin.survival.metrics import (
    calibration_error,
    calibration_table,
    concordance,
    integrated_brier,
    time_dependent_auc,
)
from equiptwin.survival.training import (
    TIME_COLUMN,
    LandmarkData,
    corrected_estimator,
    default_model,
    feature_columns,
    landmark_data,
)

if TYPE_CHECKING:
    from equiptwin.dist.engine import ComputeEngine

EQUIPTWIN = "equiptwin (twin's curve scaled by boosted Cox on its hazard index)"
TWIN_ALONE = "twin alone (no learning)"

VENDOR_LIMITS: tuple[Limit, ...] = (
    Limit("ev_2301_sum_7d", above=7.0),
    Limit("ev_2302_sum_7d", above=0.0),
    Limit("ev_2310_sum_7d", above=0.0),
    Limit("ev_2321_sum_7d", above=0.0),
    Limit("ev_2330_sum_7d", above=2.0),
    Limit("ev_7110_sum_7d", above=0.0),
    Limit("ev_7140_sum_7d", above=0.0),
    Limit("he_level_pct_trend", below=-2.0),
)
"""Fixed limits in the manner of vendor remote monitoring: any arc-abort, filament,
coast-down or cold-head alarm in the last week, more than one arc a day, repeated housing
temperature alarms, or a helium level down 2 points in three weeks."""

ModelFactory = Callable[[Sequence[int], Sequence[str]], SurvivalEstimator]


def _calibrated(estimator: SurvivalEstimator, horizons: Sequence[int]) -> SurvivalEstimator:
    return CalibratedEstimator(
        estimator=estimator, horizons_days=tuple(horizons), time_column=TIME_COLUMN
    )


def _without_twin(features: Sequence[str]) -> list[str]:
    return [c for c in features if not c.startswith("twin_")]


MODELS: Mapping[str, ModelFactory] = {
    EQUIPTWIN: lambda h, _f: default_model(h),
    TWIN_ALONE: lambda _h, _f: TwinCurve(),
    "xgboost Cox from the twin, trees on every signal": lambda h, f: _calibrated(
        corrected_estimator(f), h
    ),
    "xgboost AFT with twin features": lambda h, f: _calibrated(
        XGBAFT(features=list(f), distribution="logistic", scale=0.8, max_depth=3), h
    ),
    "xgboost Cox without twin": lambda h, f: _calibrated(XGBCox(features=_without_twin(f)), h),
    "Cox PH": lambda h, f: _calibrated(CoxPH(features=list(f), alpha=1.0), h),
    "Kaplan-Meier": lambda h, _f: _calibrated(KaplanMeier(groups=("modality", "component")), h),
    "threshold rule": lambda h, _f: _calibrated(ThresholdRule(limits=VENDOR_LIMITS), h),
}
"""Every model the backtest compares, by name: equiptwin's, the twin on its own (what
the learning adds), boosted models without the twin's prior, and the baselines."""


@dataclass(frozen=True)
class BacktestResult:
    """Forecasts of every model over the period, and their scores.

    Parameters
    ----------
    forecasts : pandas.DataFrame
        One row per model, life and day: ``model``, ``life_id``, ``system_id``,
        ``component``, ``modality``, ``as_of``, ``p_fail_<h>d``, ``window_start_days``,
        ``window_end_days``, ``median_days_left``, ``risk``, ``alert``.
    scores : pandas.DataFrame
        One row per model: concordance, integrated Brier, mean td-AUC, calibration error
        (and the comparisons :func:`score` adds).
    alerts : pandas.DataFrame
        Alert metrics per model and group (modality, component, and ``all``).
    operating_points : pandas.DataFrame
        Every model's fleet-wide alert metrics as the ticket threshold ``p_open`` moves
        (:func:`~equiptwin.evaluate.operating.operating_points`).
    matched : pandas.DataFrame
        Every other model against equiptwin's at its false-alert rate and at its recall
        (:func:`~equiptwin.evaluate.operating.matched_comparison`; empty without
        equiptwin's model).
    """

    forecasts: pd.DataFrame
    scores: pd.DataFrame
    alerts: pd.DataFrame
    operating_points: pd.DataFrame
    matched: pd.DataFrame


def _with_groups(data: LandmarkData) -> pd.DataFrame:
    X = data.X.copy()
    X["modality"] = data.rows["modality"].to_numpy()
    X["component"] = data.rows["component"].to_numpy()
    return X


def forecast_rows(
    name: str,
    model: SurvivalEstimator,
    test: LandmarkData,
    horizons: Sequence[int],
    coverage: float,
) -> pd.DataFrame:
    """Forecast the landmark rows ``test`` with a fitted ``model`` named ``name``.

    Returns
    -------
    pandas.DataFrame
        The rows of :attr:`BacktestResult.forecasts` (without ``alert``), for :func:`score`.
    """
    X = _with_groups(test)
    grid = np.arange(1.0, float(max(horizons)) + 1.0)
    curves = model.predict_survival(X, grid)
    start, end = curves.failure_window(coverage)
    out = test.rows.reset_index(drop=True).assign(model=name)
    for h in horizons:
        out[f"p_fail_{h}d"] = curves.p_fail(float(h))
    out["window_start_days"] = start
    out["window_end_days"] = end
    out["median_days_left"] = curves.median_days_left()
    out["risk"] = model.predict_risk(X)
    return out


def replay(
    features: pd.DataFrame,
    lives: pd.DataFrame,
    *,
    start: dt.date,
    end: dt.date,
    horizons_days: Sequence[int],
    window_coverage: float,
    retrain_days: int,
    models: Sequence[str] = tuple(MODELS),
    progress: bool = False,
) -> pd.DataFrame:
    """Forecast every day in ``[start, end)`` with models retrained at each cut.

    Parameters
    ----------
    features : pandas.DataFrame
        Feature rows covering the history before ``start`` and the period.
    lives : pandas.DataFrame
        The component lives (``life_id``, ``installed_on``, ``ended_on``, ``end_reason``).
    start, end : datetime.date
        The replayed days.
    horizons_days : sequence of int
        Forecast horizons.
    window_coverage : float
        Coverage of the failure window.
    retrain_days : int
        Days between cuts.
    models : sequence of str
        Names from :data:`MODELS`.
    progress : bool
        Progress bar over cuts.

    Returns
    -------
    pandas.DataFrame
        The ``forecasts`` table of :class:`BacktestResult` (without ``alert``).
    """
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ValueError(f"unknown backtest model(s) {unknown}; choose from {list(MODELS)}")
    days = pd.to_datetime(features["day"])
    columns = feature_columns(features)
    cuts = pd.date_range(start, end, freq=f"{retrain_days}D", inclusive="left")
    parts = []
    for cut in tqdm(cuts, desc="backtest", unit="cut", disable=not progress):
        until = min(cut + pd.Timedelta(days=retrain_days), pd.Timestamp(end))
        train = landmark_data(features[days < cut], lives, data_end=cut.date())
        test = landmark_data(features[(days >= cut) & (days < until)], lives, data_end=until.date())
        if not len(test.rows):
            continue
        for name in models:
            model = MODELS[name](horizons_days, columns).fit(_with_groups(train), train.y)
            parts.append(forecast_rows(name, model, test, horizons_days, window_coverage))
    return pd.concat(parts, ignore_index=True)


def score(
    forecasts: pd.DataFrame,
    features: pd.DataFrame,
    lives: pd.DataFrame,
    *,
    start: dt.date,
    end: dt.date,
    horizons_days: Sequence[int],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score replayed forecasts against what happened by ``end``.

    Parameters
    ----------
    forecasts : pandas.DataFrame
        From :func:`replay`, with ``alert``: the ticket policy's rule
        (:func:`~equiptwin.evaluate.alerts.ticket_alerts` under :func:`system_policies`).
    features : pandas.DataFrame
        The same feature rows (for the training-period outcomes the IPCW metrics need).
    lives : pandas.DataFrame
        Component lives with ``modality`` and ``component``; with ``has_precursor``
        (simulated truth) the alert table also reports recall over failures that showed
        precursors, and the scores ``concordance_precursor``: Harrell's concordance with
        failures that showed none (sudden, which no forecast can rank) read as censored
        at their failure. When equiptwin's model is among the forecasts, every other
        model's scores compare lead times with it on the failures both alerted
        (:func:`~equiptwin.evaluate.alerts.paired_leads`).
    start, end : datetime.date
        The replayed period.
    horizons_days : sequence of int
        Forecast horizons.

    Returns
    -------
    scores, alerts : pandas.DataFrame
        As in :class:`BacktestResult`.
    """
    days = pd.to_datetime(features["day"])
    period = features[(days >= pd.Timestamp(start)) & (days < pd.Timestamp(end))]
    truth = landmark_data(period, lives, data_end=end)
    before = landmark_data(features[days < pd.Timestamp(start)], lives, data_end=start)
    key = truth.rows[["life_id", "as_of"]].reset_index(names="row")
    grid = np.asarray(horizons_days, dtype=np.float64)
    sudden = sudden_failures(lives) if "has_precursor" in lives.columns else None
    score_rows = []
    alert_tables = []
    leads = []
    for name, rows in forecasts.groupby("model", sort=False):
        joined = key.merge(rows, on=["life_id", "as_of"], how="inner")
        y = truth.y[joined["row"].to_numpy()]
        survival = 1.0 - joined[[f"p_fail_{h}d" for h in horizons_days]].to_numpy()
        curves = SurvivalCurves(grid, np.minimum.accumulate(survival, axis=1))
        auc = time_dependent_auc(before.y, y, curves)
        risk = joined["risk"].to_numpy()
        row = {
            "model": name,
            "concordance": concordance(y, risk),
            "integrated_brier": integrated_brier(before.y, y, curves),
            "td_auc_mean": auc.mean_auc,
            "calibration_error": calibration_error(calibration_table(y, curves)),
            "rows": len(joined),
        }
        if sudden is not None:
            row["concordance_precursor"] = concordance(
                y.as_censored(joined["life_id"].isin(sudden).to_numpy()), risk
            )
        score_rows.append(row)
        table, failures = alert_outcomes(rows[["life_id", "as_of", "alert"]], lives, data_end=end)
        alert_tables.append(table.assign(model=name))
        leads.append(failures.assign(model=name))
    scores = pd.DataFrame(score_rows)
    if EQUIPTWIN in set(scores["model"]):
        paired = paired_leads(pd.concat(leads).reset_index(), EQUIPTWIN)
        scores = scores.merge(paired, on="model", how="left")
    return scores, pd.concat(alert_tables, ignore_index=True)


def system_policies(lives: pd.DataFrame, config: PipelineConfig) -> dict[str, Policy]:
    """Return the ticket policy of every system in ``lives`` (by its site and modality).

    ``policy.*`` with the pipeline's ``[policy_overrides]``, as the daily job applies them;
    :func:`~equiptwin.evaluate.alerts.ticket_alerts` turns forecasts into alerts with them.
    """
    systems = lives[["system_id", "site", "modality"]].drop_duplicates()
    return policies_by_system(config, systems.itertuples(index=False, name=None))


def formats_csv(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Return equiptwin's replayed forecasts as the rows of ``forecasts.csv`` (formats.md).

    ``alert`` is the ticket policy's rule (:func:`system_policies`); ``model_version`` names
    the backtest cut model (``backtest``).
    """
    rows = forecasts[forecasts["model"] == EQUIPTWIN]
    as_of = pd.to_datetime(rows["as_of"])

    def when(days: pd.Series) -> pd.Series:
        dates: pd.Series = as_of + pd.to_timedelta(np.floor(days), unit="D")
        text: pd.Series = dates.dt.strftime("%Y-%m-%d")
        return text

    out = pd.DataFrame(
        {
            "as_of": as_of.dt.strftime("%Y-%m-%d"),
            "system_id": rows["system_id"],
            "component": rows["component"],
            "life_id": rows["life_id"],
            "p_fail_7d": rows["p_fail_7d"].round(4),
            "p_fail_14d": rows["p_fail_14d"].round(4),
            "p_fail_30d": rows["p_fail_30d"].round(4),
            "window_start": when(rows["window_start_days"]),
            "window_end": when(rows["window_end_days"]),
            "median_days_left": rows["median_days_left"].round(1),
            "alert": rows["alert"].astype(int),
            "model_version": "backtest",
        }
    )
    return out.reset_index(drop=True)


def vendor_alarms_csv(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Return the vendor-style alarm level per life and day (``vendor_alarms.csv``).

    ``limits_exceeded`` counts the :data:`VENDOR_LIMITS` a day's features break (the
    threshold rule's risk); an alarm is on when it is 1 or more.
    """
    rows = forecasts[forecasts["model"] == "threshold rule"]
    out = pd.DataFrame(
        {
            "as_of": pd.to_datetime(rows["as_of"]).dt.strftime("%Y-%m-%d"),
            "system_id": rows["system_id"],
            "component": rows["component"],
            "life_id": rows["life_id"],
            "limits_exceeded": rows["risk"].round().astype(int),
        }
    )
    return out.reset_index(drop=True)


def run_backtest(
    engine: sa.Engine,
    config: PipelineConfig,
    *,
    start: dt.date,
    end: dt.date,
    out_dir: Path,
    truth_lives: pd.DataFrame | None = None,
    models: Sequence[str] = tuple(MODELS),
    progress: bool = False,
    compute: ComputeEngine | None = None,
) -> BacktestResult:
    """Backtest every model over ``[start, end)`` on the store and write the results.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    config : PipelineConfig
        Settings (``backtest.*``, ``forecast.*``, ``policy.*``, ``twin.*``).
    start, end : datetime.date
        The replayed days; ``start`` needs ``backtest.min_train_days`` of history.
    out_dir : Path
        Folder for ``forecasts.csv``, ``vendor_alarms.csv``, ``scores.csv``,
        ``alerts.csv``, ``operating_points.csv``, ``matched.csv`` and
        ``evaluation.json``.
    truth_lives : pandas.DataFrame, optional
        Simulated truth (:func:`~equiptwin.evaluate.truth.read_truth_lives`) to report
        recall over failures that showed precursors.
    models : sequence of str
        Names from :data:`MODELS` (default: all); ``forecasts.csv`` needs equiptwin's
        and ``vendor_alarms.csv`` the threshold rule.
    progress : bool
        Progress bars.
    compute : ComputeEngine, optional
        Builds the features and boosts the models (Dask: partitioned by system and
        ``xgboost.dask``); in this process when omitted.

    Returns
    -------
    BacktestResult
    """
    first, last = data_range(engine)
    end = min(end, last + dt.timedelta(days=1))
    need = first + dt.timedelta(days=int(config["backtest.min_train_days"]))
    if start < need or end <= start:
        raise ValueError(
            f"a backtest from {start} to {end} needs {config['backtest.min_train_days']} days "
            f"of history before it and data after it; the store covers {first} .. {last}, so "
            f"start on or after {need}."
        )
    horizons = list(config["forecast.horizons_days"])
    features = store_features(engine, config, first, end, progress=progress, compute=compute)
    lives = read_lives(engine)
    if truth_lives is not None:
        lives = with_precursors(lives, truth_lives)
    with nullcontext() if compute is None else compute.boosting():
        forecasts = replay(
            features,
            lives,
            start=start,
            end=end,
            horizons_days=horizons,
            window_coverage=float(config["forecast.window_coverage"]),
            retrain_days=int(config["backtest.retrain_days"]),
            models=models,
            progress=progress,
        )
    policies = system_policies(lives, config)
    forecasts = forecasts.assign(alert=ticket_alerts(forecasts, policies).to_numpy())
    scores, alerts = score(forecasts, features, lives, start=start, end=end, horizons_days=horizons)
    points = operating_points(forecasts, lives, policies, data_end=end)
    ours = alerts[alerts["model"] == EQUIPTWIN]
    matched = (
        matched_comparison(points, EQUIPTWIN, fleet_point(ours))
        if len(ours)
        else pd.DataFrame(columns=MATCHED_COLUMNS)
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    formats_csv(forecasts).to_csv(out_dir / "forecasts.csv", index=False)
    vendor_alarms_csv(forecasts).to_csv(out_dir / "vendor_alarms.csv", index=False)
    scores.to_csv(out_dir / "scores.csv", index=False)
    alerts.to_csv(out_dir / "alerts.csv", index=False)
    points.to_csv(out_dir / "operating_points.csv", index=False)
    matched.to_csv(out_dir / "matched.csv", index=False)
    evaluation = {
        "period": [start.isoformat(), end.isoformat()],
        "alert_rule": describe_policies(policies),
        "scores": scores.to_dict(orient="records"),
        "alerts": alerts.to_dict(orient="records"),
        "matched_to_equiptwin": matched.to_dict(orient="records"),
    }
    (out_dir / "evaluation.json").write_text(
        json.dumps(evaluation, indent=2, default=str), encoding="utf-8"
    )
    return BacktestResult(forecasts, scores, alerts, points, matched)
