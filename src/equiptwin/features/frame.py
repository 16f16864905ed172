"""The feature frame: one row per component life per day, as-of correct.

``build_features(engine, archive, start, end)`` reads the store and the archive and
returns, for every life alive on a day in ``[start, end)``, a row whose values use only
data from before that day (UTC days). Columns:

- identity: ``life_id``, ``system_id``, ``component``, ``modality``, ``site``, ``day``;
- ``age_days`` since the life's installation;
- usage: ``exams``, ``scan_s``, ``energy_j`` summed over 1/7/28 days and cumulated since
  the life's first day of data (``cum_energy_j``, ``cum_scan_s``);
- event counts by code over 1/7/28 days (``ev_2301_sum_7d``);
- indicator level, level three weeks earlier, and trend (``filament_a_level``,
  ``oil_resid_c_trend``, ``coastdown_s_level``, ``stage2_k_trend``,
  ``he_level_pct_trend`` ...), with ``days_since_data``.

- the twin's state and forward window (``twin_*``, :mod:`equiptwin.features.twin_state`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
import sqlalchemy as sa

from equiptwin.config import PipelineConfig
from equiptwin.errors import StoreError
from equiptwin.features.daily import coldhead_daily, xray_daily
from equiptwin.features.events import event_code_panel
from equiptwin.features.twin_state import TwinSettings, twin_features
from equiptwin.features.windows import level_and_trend, window_sums
from equiptwin.store.archive import Archive, open_archive
from equiptwin.store.schema import (
    Appointment,
    ComponentLife,
    EventCountDaily,
    ServiceRecord,
    System,
)
from equiptwin.twin.coldhead import ColdheadModel
from equiptwin.twin.registry import tube_model

if TYPE_CHECKING:
    from equiptwin.dist.engine import ComputeEngine

ID_COLUMNS: tuple[str, ...] = ("life_id", "system_id", "component", "modality", "site", "day")
USAGE_COLUMNS: tuple[str, ...] = ("exams", "scan_s", "energy_j", "scan_h")
INDICATOR_COLUMNS: tuple[str, ...] = (
    "filament_a",
    "oil_c",
    "oil_resid_c",
    "coastdown_s",
    "mean_ma",
    "stage2_k",
    "he_level_pct",
    "he_pressure_psi",
    "boil_off_l_per_day",
    "exposure_stretch",
)
CUMULATIVE_COLUMNS: tuple[str, ...] = ("energy_j", "scan_s", "exams")
SelectT = TypeVar("SelectT", bound=sa.Select[*tuple[Any, ...]])


def read_lives(engine: sa.Engine, system_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Return every component life with its system's modality and site.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    system_ids : sequence of str, optional
        Only these systems' lives; all when omitted.

    Returns
    -------
    pandas.DataFrame
        ``life_id``, ``system_id``, ``component``, ``modality``, ``site``,
        ``installed_on``, ``ended_on`` (NaT while alive), ``end_reason``.
    """
    query = sa.select(
        ComponentLife.life_id,
        ComponentLife.system_id,
        ComponentLife.component,
        System.modality,
        System.site,
        ComponentLife.installed_on,
        ComponentLife.ended_on,
        ComponentLife.end_reason,
    ).join(System, System.system_id == ComponentLife.system_id)
    query = _of_systems(query, ComponentLife.system_id, system_ids)
    with engine.connect() as conn:
        lives = pd.DataFrame(conn.execute(query.order_by(ComponentLife.life_id)).mappings().all())
    if lives.empty:
        return pd.DataFrame(columns=[*ID_COLUMNS[:5], "installed_on", "ended_on", "end_reason"])
    for column in ("installed_on", "ended_on"):
        lives[column] = pd.to_datetime(lives[column])
    return lives


def _of_systems(query: SelectT, column: Any, system_ids: Sequence[str] | None) -> SelectT:
    return query if system_ids is None else query.where(column.in_(list(system_ids)))


def _read_sql(engine: sa.Engine, query: sa.Executable) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).mappings().all())


def _event_counts(
    engine: sa.Engine, first: dt.date, end: dt.date, system_ids: Sequence[str] | None
) -> pd.DataFrame:
    query = sa.select(
        EventCountDaily.system_id, EventCountDaily.day, EventCountDaily.code, EventCountDaily.n
    ).where(EventCountDaily.day >= first, EventCountDaily.day < end)
    counts = _read_sql(engine, _of_systems(query, EventCountDaily.system_id, system_ids))
    if counts.empty:
        return pd.DataFrame({"system_id": [], "day": pd.to_datetime([]), "code": [], "n": []})
    counts["day"] = pd.to_datetime(counts["day"])
    return counts


def _modalities(engine: sa.Engine, system_ids: Sequence[str] | None) -> dict[str, str]:
    query = sa.select(System.system_id, System.modality)
    with engine.connect() as conn:
        return dict(conn.execute(_of_systems(query, System.system_id, system_ids)).tuples().all())


def _booked_scan_h(
    engine: sa.Engine, first: dt.date, end: dt.date, system_ids: Sequence[str] | None
) -> pd.Series:
    query = sa.select(Appointment.system_id, Appointment.start, Appointment.duration_min).where(
        Appointment.modality == "MR",
        Appointment.start >= dt.datetime.combine(first, dt.time()),
        Appointment.start < dt.datetime.combine(end, dt.time()),
    )
    booked = _read_sql(engine, _of_systems(query, Appointment.system_id, system_ids))
    if booked.empty:
        return pd.Series(
            dtype=float, index=pd.MultiIndex.from_tuples([], names=["system_id", "day"])
        )
    booked["day"] = pd.to_datetime(booked["start"]).dt.normalize()
    hours: pd.Series = booked.groupby(["system_id", "day"])["duration_min"].sum() / 60.0
    return hours


def _fill_days(
    engine: sa.Engine, first: dt.date, end: dt.date, system_ids: Sequence[str] | None
) -> pd.Index:
    query = sa.select(ServiceRecord.system_id, ServiceRecord.opened_at).where(
        ServiceRecord.kind == "helium_fill",
        ServiceRecord.opened_at >= dt.datetime.combine(first, dt.time()),
    )
    fills = _read_sql(engine, _of_systems(query, ServiceRecord.system_id, system_ids))
    if fills.empty:
        return pd.MultiIndex.from_tuples([], names=["system_id", "day"])
    days = pd.to_datetime(fills["opened_at"]).dt.normalize()
    return pd.MultiIndex.from_arrays([fills["system_id"], days], names=["system_id", "day"])


def _exposures_with_references(
    archive: Archive,
    systems: list[str] | None,
    lo: dt.datetime,
    hi: dt.datetime,
    modality_of: Mapping[str, str],
    lives: pd.DataFrame,
) -> pd.DataFrame:
    """Return the exposures in ``[lo, hi)`` and those the exposure stretch reads them by.

    A radiography tube running at ``lo`` reads its exposure times against its life's
    first logged weeks (:func:`~equiptwin.features.daily.exposure_stretch`), so its
    system's exposures since that life's installation are read too.
    """
    exposures = archive.read_exposures(systems, lo, hi)
    aec = [s for s, m in modality_of.items() if tube_model(m).aec_sets_exposure_time]
    start = pd.Timestamp(lo.date())
    running = lives[
        lives["system_id"].isin(aec)
        & (lives["component"] == "xray_tube")
        & (lives["installed_on"] < start)
        & (lives["ended_on"].isna() | (lives["ended_on"] > start))
    ]
    if running.empty:
        return exposures
    since = dt.datetime.combine(running["installed_on"].min().date(), dt.time(), dt.UTC)
    earlier = archive.read_exposures(sorted(running["system_id"].unique()), since, lo)
    return pd.concat([earlier, exposures], ignore_index=True) if len(earlier) else exposures


def system_daily(
    engine: sa.Engine,
    archive: Archive,
    first: dt.date,
    end: dt.date,
    system_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return the daily aggregates of every system for UTC days in ``[first, end)``.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store (event counts, bookings, service records).
    archive : Archive
        Raw exposures and cryogenics telemetry.
    first, end : datetime.date
        The days to aggregate; ``end`` is excluded.
    system_ids : sequence of str, optional
        Only these systems; all when omitted.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``system_id``, ``day``): the twin's inputs and outputs
        (:mod:`equiptwin.features.daily`) and the event-code columns.
    """
    lo = dt.datetime.combine(first, dt.time(), dt.UTC)
    hi = dt.datetime.combine(end, dt.time(), dt.UTC)
    systems = None if system_ids is None else list(system_ids)
    counts = _event_counts(engine, first, end, systems)
    modality_of, lives = _modalities(engine, systems), read_lives(engine, systems)
    exposures = _exposures_with_references(archive, systems, lo, hi, modality_of, lives)
    tube = xray_daily(exposures, counts, modality_of, lives)
    tube = tube[tube.index.get_level_values("day") >= pd.Timestamp(first)]
    cold = coldhead_daily(
        archive.read_cryo(systems, lo, hi),
        counts,
        _booked_scan_h(engine, first, end, systems),
        _fill_days(engine, first, end, systems),
        ColdheadModel(),
    )
    both = pd.concat([tube, cold]).groupby(level=["system_id", "day"]).first()
    return both.join(event_code_panel(counts), how="outer").sort_index()


def life_panel(
    lives: pd.DataFrame, daily: pd.DataFrame, first: dt.date, end: dt.date
) -> pd.DataFrame:
    """Spread system days over component lives: one row per life per day in ``[first, end)``.

    A life covers the days from its installation to the day before it ended (the day of
    the replacement belongs to the next life).

    Returns
    -------
    pandas.DataFrame
        Indexed by (``life_id``, ``day``), with the life's identity columns and the
        system's daily aggregates (NaN on days without data).
    """
    rows = []
    end_ts = pd.Timestamp(end)
    for record in lives.to_dict("records"):
        installed = pd.Timestamp(record["installed_on"])
        ended = record["ended_on"]
        stop = end_ts if pd.isna(ended) else min(pd.Timestamp(ended), end_ts)
        days = pd.date_range(max(installed, pd.Timestamp(first)), stop, freq="D", inclusive="left")
        if len(days):
            rows.append(
                pd.DataFrame(
                    {
                        "life_id": record["life_id"],
                        "system_id": record["system_id"],
                        "component": record["component"],
                        "modality": record["modality"],
                        "site": record["site"],
                        "installed_on": installed,
                        "day": days,
                    }
                )
            )
    if not rows:
        return pd.DataFrame(columns=[*ID_COLUMNS, "installed_on", *daily.columns]).set_index(
            ["life_id", "day"]
        )
    spine = pd.concat(rows, ignore_index=True)
    panel = spine.merge(daily.reset_index(), on=["system_id", "day"], how="left")
    return panel.set_index(["life_id", "day"]).sort_index()


def build_features(
    engine: sa.Engine,
    archive: Archive,
    start: dt.date,
    end: dt.date,
    *,
    twin: TwinSettings | None = None,
    life_ids: Collection[str] | None = None,
    system_ids: Sequence[str] | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Return the feature frame for every life alive on a day in ``[start, end)``.

    Each life's rows depend on its own system's data only, so the frame of a fleet is
    the frames of any partition of its systems, concatenated in ``life_id`` order.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    archive : Archive
        The raw-record archive.
    start, end : datetime.date
        Feature days; the row for day D uses data up to the end of day D - 1 (UTC).
    twin : TwinSettings, optional
        Particles and samples of the twin features; defaults when omitted.
    life_ids : collection of str, optional
        Only these lives. Their rows hold the same values as in the whole fleet's frame;
        only ``twin_*`` columns of components none of them has are absent (NaN there).
    system_ids : sequence of str, optional
        Only these systems' lives; all when omitted.
    progress : bool
        Show a progress bar over lives while the twins run.

    Returns
    -------
    pandas.DataFrame
        One row per (``life_id``, ``day``); columns as in the module docstring.
    """
    if end <= start:
        raise ValueError(f"`end` must be after `start`, but found {start} .. {end}")
    lives = read_lives(engine, system_ids)
    alive = lives[
        (lives["installed_on"] < pd.Timestamp(end))
        & (lives["ended_on"].isna() | (lives["ended_on"] > pd.Timestamp(start)))
    ]
    # The fleet's first day even for a few lives, so their rows are the fleet frame's.
    first = min([d.date() for d in alive["installed_on"]], default=start)
    if life_ids is not None:
        alive = alive[alive["life_id"].isin(list(life_ids))]
    daily = system_daily(engine, archive, first, end, system_ids)
    panel = life_panel(alive, daily, first, end)
    return _features_from_panel(panel, start, twin or TwinSettings(), progress=progress)


def _features_from_panel(
    panel: pd.DataFrame, start: dt.date, twin: TwinSettings, *, progress: bool = False
) -> pd.DataFrame:
    ids = panel[["system_id", "component", "modality", "site", "installed_on"]]
    counts = [c for c in panel.columns if c.startswith("ev_")] + [
        c for c in USAGE_COLUMNS if c in panel.columns
    ]
    count_panel = panel[counts].fillna(0.0)
    indicators = [c for c in INDICATOR_COLUMNS if c in panel.columns]
    carried = panel[indicators].groupby(level="life_id").ffill()
    seen = panel[indicators].notna().any(axis=1)
    last_seen = (
        pd.Series(panel.index.get_level_values("day").where(seen), index=panel.index)
        .groupby(level="life_id")
        .ffill()
        .groupby(level="life_id")
        .shift(1)
    )
    day = pd.Series(panel.index.get_level_values("day"), index=panel.index)
    cumulative = (
        count_panel[[c for c in CUMULATIVE_COLUMNS if c in count_panel.columns]]
        .groupby(level="life_id")
        .transform(lambda s: s.cumsum().shift(1))
        .add_prefix("cum_")
    )
    features = pd.concat(
        [
            ids,
            (day - ids["installed_on"]).dt.days.rename("age_days"),
            (day - last_seen).dt.days.rename("days_since_data"),
            window_sums(count_panel),
            level_and_trend(carried),
            cumulative,
            twin_features(panel, twin, rows_from=pd.Timestamp(start), progress=progress),
        ],
        axis=1,
    )
    features = features[features.index.get_level_values("day") >= pd.Timestamp(start)].copy()
    return features.drop(columns="installed_on").reset_index()


def data_range(engine: sa.Engine) -> tuple[dt.date, dt.date]:
    """Return the first and the last UTC day with logged events in the store.

    Raises
    ------
    StoreError
        When nothing has been ingested yet.
    """
    query = sa.select(sa.func.min(EventCountDaily.day), sa.func.max(EventCountDaily.day))
    with engine.connect() as conn:
        first, last = conn.execute(query).one()
    if first is None or last is None:
        raise StoreError("the store holds no event logs yet; run `equiptwin ingest DATA_DIR`.")
    return _as_date(first), _as_date(last)


def _as_date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def store_features(
    engine: sa.Engine,
    config: PipelineConfig,
    start: dt.date,
    end: dt.date,
    *,
    life_ids: Collection[str] | None = None,
    progress: bool = False,
    compute: ComputeEngine | None = None,
) -> pd.DataFrame:
    """Build the feature frame from the store with the pipeline's twin settings.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    config : PipelineConfig
        Settings ``store.archive_dir`` and ``twin.*``.
    start, end : datetime.date
        Feature days ``[start, end)``.
    life_ids : collection of str, optional
        Only these lives.
    progress : bool
        Progress bar over lives while the twins run.
    compute : ComputeEngine, optional
        Where to build it (partitioned by system on Dask); in this process when omitted.

    Returns
    -------
    pandas.DataFrame
        As :func:`build_features`.
    """
    twin = twin_settings(config)
    archive = open_archive(engine, str(config["store.archive_dir"]))
    if compute is None or life_ids is not None:  # a few lives: not worth a cluster
        return build_features(
            engine, archive, start, end, twin=twin, life_ids=life_ids, progress=progress
        )
    return compute.features(engine, archive, start, end, twin=twin, progress=progress)


def twin_settings(config: PipelineConfig) -> TwinSettings:
    """Return the twin's settings from the pipeline's ``twin.*`` keys."""
    return TwinSettings(
        n_particles=int(config["twin.particles"]),
        n_samples=int(config["twin.samples"]),
        wear_scale=float(config["twin.wear_scale"]),
        workers=int(config["twin.workers"]),
    )
