"""The forecast stage: feature rows in, :class:`~equiptwin.forecast.FailureForecast` out.

The typed values live in :mod:`equiptwin.forecast` (imported by planning and outputs);
this module makes them from a stored model and writes ``forecasts.csv`` (formats.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import sqlalchemy as sa

from equiptwin.config import PipelineConfig
from equiptwin.errors import ModelCompatibilityError
from equiptwin.features.frame import store_features
from equiptwin.forecast import FailureForecast
from equiptwin.store.artifacts import list_versions, load_model
from equiptwin.store.schema import Forecast, Ticket
from equiptwin.survival.base import SurvivalEstimator
from equiptwin.survival.curves import SurvivalCurves
from equiptwin.survival.explain import explain
from equiptwin.survival.training import TIME_COLUMN, feature_columns, model_input

if TYPE_CHECKING:
    from equiptwin.dist.engine import ComputeEngine

FORECAST_CSV_COLUMNS: tuple[str, ...] = (
    "as_of",
    "system_id",
    "component",
    "life_id",
    "p_fail_7d",
    "p_fail_14d",
    "p_fail_30d",
    "window_start",
    "window_end",
    "median_days_left",
    "alert",
    "model_version",
    "drivers",
)


def predict_forecasts(
    model: SurvivalEstimator,
    model_version: str,
    features: pd.DataFrame,
    *,
    horizons_days: Sequence[int],
    window_coverage: float,
    top_drivers: int = 3,
) -> list[FailureForecast]:
    """Turn feature rows into forecasts: calibrated probabilities, window and drivers.

    Parameters
    ----------
    model : SurvivalEstimator
        A fitted model (from the registry).
    model_version : str
        Its registry version, recorded on each forecast.
    features : pandas.DataFrame
        Feature rows (``life_id``, ``system_id``, ``component``, ``day``, features); the
        row's ``day`` is the forecast's ``as_of``.
    horizons_days : sequence of int
        Horizons of the probabilities, strictly increasing.
    window_coverage : float
        Probability mass of the failure window.
    top_drivers : int
        Drivers kept per forecast.

    Returns
    -------
    list of FailureForecast
        One per row, in row order.
    """
    horizons = tuple(int(h) for h in horizons_days)
    if features.empty:
        return []
    # Every feature, not only the model's: a driver is said through others (the twin's
    # hazard index through its health and probabilities).
    wanted = [c for c in model.feature_names_ if c != TIME_COLUMN]
    X = model_input(features, [*wanted, *(c for c in feature_columns(features) if c not in wanted)])
    curves = predict_curves(model, features, horizons[-1])
    p_fail = np.column_stack([curves.p_fail(h) for h in horizons])
    p_fail = np.maximum.accumulate(np.clip(p_fail, 0.0, 1.0), axis=1)
    start, end = curves.failure_window(window_coverage)
    median = curves.median_days_left()
    drivers = explain(model, X, top_k=top_drivers)
    out = []
    for i, row in enumerate(features.to_dict("records")):
        as_of = pd.Timestamp(row["day"]).date()
        out.append(
            FailureForecast(
                as_of=as_of,
                system_id=str(row["system_id"]),
                component=str(row["component"]),
                life_id=str(row["life_id"]),
                horizons_days=horizons,
                p_fail=tuple(float(p) for p in p_fail[i]),
                window_start=_after(as_of, start[i]),
                window_end=_after(as_of, end[i]),
                window_coverage=window_coverage,
                median_days_left=None if np.isnan(median[i]) else float(median[i]),
                drivers=drivers[i],
                model_version=model_version,
            )
        )
    return out


def predict_curves(
    model: SurvivalEstimator, features: pd.DataFrame, max_horizon_days: int
) -> SurvivalCurves:
    """Return the survival curves behind :func:`predict_forecasts`, one per feature row.

    Parameters
    ----------
    model : SurvivalEstimator
        A fitted model (from the registry).
    features : pandas.DataFrame
        Feature rows, as for :func:`predict_forecasts`.
    max_horizon_days : int
        The longest horizon; the grid is every day up to it.

    Returns
    -------
    SurvivalCurves
    """
    X = model_input(features, [c for c in model.feature_names_ if c != TIME_COLUMN])
    return model.predict_survival(X, np.arange(1, max_horizon_days + 1, dtype=np.float64))


def _after(as_of: dt.date, days: float) -> dt.date | None:
    return None if np.isnan(days) else as_of + dt.timedelta(days=int(np.floor(days)))


def forecasts_frame(forecasts: Sequence[FailureForecast], alert_lives: set[str]) -> pd.DataFrame:
    """Return forecasts as the rows of ``forecasts.csv`` (formats.md).

    Parameters
    ----------
    forecasts : sequence of FailureForecast
        The forecasts, with horizons 7, 14 and 30 days among their horizons.
    alert_lives : set of str
        Lives whose maintenance ticket the forecast opened or kept open (``alert = 1``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FORECAST_CSV_COLUMNS`; drivers joined with ``"; "``.
    """
    rows = [
        {
            "as_of": f.as_of.isoformat(),
            "system_id": f.system_id,
            "component": f.component,
            "life_id": f.life_id,
            "p_fail_7d": round(f.p_within(7), 4),
            "p_fail_14d": round(f.p_within(14), 4),
            "p_fail_30d": round(f.p_within(30), 4),
            "window_start": f.window_start.isoformat() if f.window_start else "",
            "window_end": f.window_end.isoformat() if f.window_end else "",
            "median_days_left": "" if f.median_days_left is None else round(f.median_days_left, 1),
            "alert": int(f.life_id in alert_lives),
            "model_version": f.model_version,
            "drivers": "; ".join(d.text for d in f.drivers),
        }
        for f in forecasts
    ]
    return pd.DataFrame(rows, columns=list(FORECAST_CSV_COLUMNS))


@dataclass(frozen=True)
class ForecastRun:
    """What one forecast day produced.

    Parameters
    ----------
    as_of : datetime.date
        The forecast day.
    model_version : str
        The model that made the forecasts.
    forecasts : tuple of FailureForecast
        One per component life in service on ``as_of``.
    """

    as_of: dt.date
    model_version: str
    forecasts: tuple[FailureForecast, ...]


def latest_model(models_dir: Path) -> Path:
    """Return the newest version folder of the registry (by creation time).

    Raises
    ------
    ModelCompatibilityError
        When the registry holds no model.
    """
    cards = list_versions(models_dir)
    if not cards:
        raise ModelCompatibilityError(
            f"no model in {models_dir}; train one with `equiptwin train` or point "
            "`models.dir` at a registry."
        )
    newest = max(cards, key=lambda card: (card.created_at, card.model_version))
    return models_dir / newest.model_version


def run_forecast(
    engine: sa.Engine,
    config: PipelineConfig,
    as_of: dt.date,
    *,
    model_dir: Path | None = None,
    progress: bool = False,
    compute: ComputeEngine | None = None,
) -> ForecastRun:
    """Forecast every component life in service on ``as_of`` and store the forecasts.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store (data before ``as_of`` is used, nothing later).
    config : PipelineConfig
        Settings (``forecast.*``, ``twin.*``, ``models.dir``).
    as_of : datetime.date
        The forecast day.
    model_dir : Path, optional
        A version folder; the newest in ``models.dir`` when omitted.
    progress : bool
        Progress bar while the twins run.
    compute : ComputeEngine, optional
        Builds the day's features (partitioned by system on Dask); in this process when
        omitted.

    Returns
    -------
    ForecastRun
    """
    folder = model_dir or latest_model(Path(str(config["models.dir"])))
    features = store_features(
        engine, config, as_of, as_of + dt.timedelta(days=1), progress=progress, compute=compute
    )
    model, card = load_model(folder, available_features=feature_columns(features))
    forecasts = predict_forecasts(
        model,
        card.model_version,
        features,
        horizons_days=config["forecast.horizons_days"],
        window_coverage=float(config["forecast.window_coverage"]),
    )
    store_forecasts(engine, forecasts)
    return ForecastRun(as_of, card.model_version, tuple(forecasts))


def store_forecasts(engine: sa.Engine, forecasts: Sequence[FailureForecast]) -> None:
    """Write forecasts to the ``forecasts`` table, replacing a re-run of the same day."""
    rows = [
        {
            "as_of": f.as_of,
            "life_id": f.life_id,
            "model_version": f.model_version,
            "system_id": f.system_id,
            "component": f.component,
            "p_fail_7d": f.p_within(7),
            "p_fail_14d": f.p_within(14),
            "p_fail_30d": f.p_within(30),
            "window_start": f.window_start,
            "window_end": f.window_end,
            "median_days_left": f.median_days_left,
            "alert": False,
            "drivers": {
                "drivers": [[d.feature, d.contribution, d.text, list(d.signals)] for d in f.drivers]
            },
        }
        for f in forecasts
    ]
    runs: dict[tuple[dt.date, str], list[str]] = {}
    for f in forecasts:
        runs.setdefault((f.as_of, f.model_version), []).append(f.life_id)
    with engine.begin() as conn:
        for (as_of, version), life_ids in runs.items():
            conn.execute(
                sa.delete(Forecast).where(
                    Forecast.as_of == as_of,
                    Forecast.model_version == version,
                    Forecast.life_id.in_(life_ids),
                )
            )
        if rows:
            conn.execute(sa.insert(Forecast), rows)


def mark_alerts(engine: sa.Engine, as_of: dt.date, alert_lives: set[str]) -> None:
    """Set ``alert`` on the day's stored forecasts whose life has an open ticket."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(Forecast)
            .where(Forecast.as_of == as_of)
            .values(alert=Forecast.life_id.in_(sorted(alert_lives)))
        )


def open_ticket_lives(engine: sa.Engine) -> set[str]:
    """Return the component lives that have an open maintenance ticket."""
    with engine.connect() as conn:
        query = sa.select(Ticket.life_id).where(Ticket.status == "open")
        return set(conn.execute(query).scalars())


def write_forecasts_csv(
    engine: sa.Engine, forecasts: Sequence[FailureForecast], path: Path
) -> Path:
    """Write ``forecasts.csv`` (formats.md); ``alert`` marks lives with an open ticket.

    The stored forecasts of the same day get the same ``alert`` flags.
    """
    alert_lives = open_ticket_lives(engine)
    for as_of in sorted({f.as_of for f in forecasts}):
        mark_alerts(engine, as_of, alert_lives)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    forecasts_frame(forecasts, alert_lives).to_csv(tmp, index=False)
    tmp.replace(path)
    return path
