"""The detail of each at-risk component: its survival curve and its recent history.

Neither is in the ``forecasts`` table, so both are recomputed for the at-risk components
only, with data before ``as_of``:

- the **survival curve** on every day up to the longest horizon: the stored forecast's
  model is loaded from the registry and run on that day's features (the same numbers as
  the stored forecast); when the model is no longer in the registry, the curve is drawn
  through the stored 7/14/30-day probabilities instead (and the report says so);
- the **indicator and event trends** over ``report.trend_days``: the systems' daily
  aggregates (:func:`equiptwin.features.frame.system_daily`) and their work orders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from equiptwin.config import PipelineConfig
from equiptwin.errors import ModelCompatibilityError
from equiptwin.features.frame import store_features, system_daily
from equiptwin.forecast import FailureForecast
from equiptwin.forecasting import predict_curves
from equiptwin.outputs.report_data import FleetRow
from equiptwin.store.archive import open_archive
from equiptwin.store.artifacts import CARD_FILE, load_model
from equiptwin.store.schema import ServiceRecord
from equiptwin.survival.curves import SurvivalCurves


@dataclass(frozen=True)
class AtRisk:
    """The detail of one at-risk component.

    Parameters
    ----------
    row : FleetRow
        Its overview row.
    curve : SurvivalCurves
        One row: P(still working h days after ``as_of``).
    curve_recomputed : bool
        ``True`` when the curve comes from the model on every day of the grid; ``False``
        when it is drawn through the stored horizon probabilities.
    daily : pandas.DataFrame
        The system's daily aggregates over the trend period, indexed by day.
    service : tuple of dict
        The system's work orders opened in the trend period (``opened_at``, ``kind``,
        ``action``, ``work_order``).
    """

    row: FleetRow
    curve: SurvivalCurves
    curve_recomputed: bool
    daily: pd.DataFrame
    service: tuple[dict[str, Any], ...]


def stored_points_curve(forecast: FailureForecast) -> SurvivalCurves:
    """Return the curve through a forecast's horizon probabilities (linear in between)."""
    survival = 1.0 - np.asarray(forecast.p_fail, dtype=np.float64)
    return SurvivalCurves(
        np.asarray(forecast.horizons_days, dtype=np.float64),
        np.minimum.accumulate(survival)[None, :],
    )


def recomputed_curves(
    engine: sa.Engine, config: PipelineConfig, as_of: dt.date, forecasts: Sequence[FailureForecast]
) -> dict[str, SurvivalCurves]:
    """Recompute the survival curves of some forecasts with their own model and data.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store (data before ``as_of`` only is read).
    config : PipelineConfig
        ``models.dir``, ``store.archive_dir`` and ``twin.*`` (as the forecast used).
    as_of : datetime.date
        The forecast day.
    forecasts : sequence of FailureForecast
        The forecasts whose curves are wanted.

    Returns
    -------
    dict of str to SurvivalCurves
        One-row curves by ``life_id``, on every day up to the longest horizon; lives whose
        model is not in the registry (or cannot be loaded) are left out.
    """
    models_dir = Path(str(config["models.dir"]))
    by_model: dict[str, list[FailureForecast]] = {}
    for f in forecasts:
        if (models_dir / f.model_version / CARD_FILE).exists():
            by_model.setdefault(f.model_version, []).append(f)
    if not by_model:
        return {}
    wanted = [f.life_id for group in by_model.values() for f in group]
    features = store_features(engine, config, as_of, as_of + dt.timedelta(days=1), life_ids=wanted)
    out: dict[str, SurvivalCurves] = {}
    for version, group in by_model.items():
        try:
            model, card = load_model(models_dir / version)
        except ModelCompatibilityError:
            continue
        # A few lives lack the twin columns of the other component (NaN in the fleet's
        # frame, and NaN here as model input); any other missing feature is a mismatch.
        if [c for c in card.features if c not in features and not c.startswith("twin_")]:
            continue
        rows = features[features["life_id"].isin([f.life_id for f in group])].reset_index(drop=True)
        horizon = max(max(f.horizons_days) for f in group)
        curves = predict_curves(model, rows, horizon)
        for i, life_id in enumerate(rows["life_id"]):
            out[str(life_id)] = SurvivalCurves(curves.horizons_days, curves.survival[i : i + 1])
    return out


def _service(
    engine: sa.Engine, system_ids: Sequence[str], first: dt.date, as_of: dt.date
) -> pd.DataFrame:
    query = (
        sa.select(
            ServiceRecord.system_id,
            ServiceRecord.opened_at,
            ServiceRecord.kind,
            ServiceRecord.action,
            ServiceRecord.work_order,
        )
        .where(
            ServiceRecord.system_id.in_(list(system_ids)),
            ServiceRecord.opened_at >= dt.datetime.combine(first, dt.time()),
            ServiceRecord.opened_at < dt.datetime.combine(as_of, dt.time()),
        )
        .order_by(ServiceRecord.opened_at)
    )
    with engine.connect() as conn:
        return pd.DataFrame(
            conn.execute(query).mappings().all(),
            columns=["system_id", "opened_at", "kind", "action", "work_order"],
        )


def at_risk_details(
    engine: sa.Engine, config: PipelineConfig, rows: Sequence[FleetRow]
) -> list[AtRisk]:
    """Return the detail of the at-risk rows, at most ``report.max_at_risk``, in order.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    config : PipelineConfig
        ``report.*``, ``models.dir``, ``store.archive_dir``, ``twin.*``.
    rows : sequence of FleetRow
        The fleet overview, highest risk first.

    Returns
    -------
    list of AtRisk
    """
    picked = [r for r in rows if r.at_risk][: int(config["report.max_at_risk"])]
    if not picked:
        return []
    as_of = picked[0].forecast.as_of
    first = as_of - dt.timedelta(days=int(config["report.trend_days"]))
    curves = recomputed_curves(engine, config, as_of, [r.forecast for r in picked])
    archive = open_archive(engine, str(config["store.archive_dir"]))
    daily = system_daily(engine, archive, first, as_of)
    systems = [r.forecast.system_id for r in picked]
    service = _service(engine, systems, first, as_of)
    days = pd.date_range(first, as_of, freq="D", inclusive="left", name="day")
    out = []
    for r in picked:
        system_id = r.forecast.system_id
        own = (
            daily.xs(system_id, level="system_id")
            if system_id in daily.index.get_level_values("system_id")
            else pd.DataFrame(index=days[:0])
        )
        curve = curves.get(r.forecast.life_id)
        records = service[service["system_id"] == system_id].drop(columns="system_id")
        out.append(
            AtRisk(
                row=r,
                curve=curve if curve is not None else stored_points_curve(r.forecast),
                curve_recomputed=curve is not None,
                daily=pd.DataFrame(own).reindex(days),
                service=tuple(
                    {str(k): v for k, v in record.items()} for record in records.to_dict("records")
                ),
            )
        )
    return out
