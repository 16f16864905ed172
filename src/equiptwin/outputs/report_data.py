"""What the daily report shows, read from the store for one forecast day.

The day's stored forecasts (of the newest registry model that forecast that day), the
tickets as they stood that day and their outbox deliveries, the schedule changes of the
day's plans and the capacity they leave, the model card and the newest backtest
evaluation. The at-risk components' curves and trends, which the store does not hold,
are recomputed in :mod:`equiptwin.outputs.at_risk`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from equiptwin.config import PipelineConfig
from equiptwin.forecast import Driver, FailureForecast
from equiptwin.outputs.exports import CapacityRow, capacity, schedule_change_rows
from equiptwin.planning.bookings import load_bookings, load_systems
from equiptwin.planning.rebooking import Move
from equiptwin.planning.slots import MaintenanceSlot
from equiptwin.store.artifacts import ModelCard, list_versions
from equiptwin.store.schema import (
    ComponentLife,
    Forecast,
    OutboxMessage,
    System,
    Ticket,
)

STORED_HORIZONS: tuple[int, ...] = (7, 14, 30)
"""The horizons the ``forecasts`` table keeps (``p_fail_7d`` ... ``p_fail_30d``)."""


@dataclass(frozen=True)
class FleetRow:
    """One component life in the fleet overview.

    Parameters
    ----------
    forecast : FailureForecast
        The day's stored forecast.
    site, modality : str
        Where the system is and what it is.
    installed_on : datetime.date
        When this component life began.
    alert : bool
        Whether the forecast's life has an open maintenance ticket.
    ticket : Mapping or None
        The life's ticket payload (newest revision), if it has one.
    at_risk : bool
        Whether it gets its own section (an open ticket, or P(fail within 30 d) at or
        above ``report.at_risk_p30``).
    """

    forecast: FailureForecast
    site: str
    modality: str
    installed_on: dt.date
    alert: bool
    ticket: Mapping[str, Any] | None
    at_risk: bool

    @property
    def age_days(self) -> int:
        """Days the component has been in service on ``as_of``."""
        return (self.forecast.as_of - self.installed_on).days


@dataclass(frozen=True)
class Delivery:
    """Outbox state of one ticket revision on one sink."""

    dedup_key: str
    revision: int
    sink: str
    status: str
    last_error: str | None


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _forecast_model(conn: sa.Connection, as_of: dt.date, models_dir: Path) -> str | None:
    versions = list(
        conn.execute(
            sa.select(Forecast.model_version).where(Forecast.as_of == as_of).distinct()
        ).scalars()
    )
    if not versions:
        return None
    newest = [c.model_version for c in list_versions(models_dir) if c.model_version in versions]
    return newest[-1] if newest else max(versions)


def stored_forecasts(
    engine: sa.Engine, as_of: dt.date, models_dir: Path, window_coverage: float
) -> list[tuple[FailureForecast, bool]]:
    """Return the forecasts stored for ``as_of`` with their ``alert`` flag.

    When several models forecast the same day, the newest one in the registry (by its
    card's creation time) is taken, else the last version name.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    as_of : datetime.date
        The forecast day.
    models_dir : Path
        The model registry.
    window_coverage : float
        Coverage of the stored failure windows (``forecast.window_coverage``).

    Returns
    -------
    list of (FailureForecast, bool)
        Ordered by ``life_id``.
    """
    with engine.connect() as conn:
        version = _forecast_model(conn, as_of, models_dir)
        query = (
            sa.select(Forecast)
            .where(Forecast.as_of == as_of, Forecast.model_version == version)
            .order_by(Forecast.life_id)
        )
        rows = conn.execute(query).mappings().all()
    out = []
    for r in rows:
        stored = (r["drivers"] or {}).get("drivers", [])
        forecast = FailureForecast(
            as_of=as_of,
            system_id=r["system_id"],
            component=r["component"],
            life_id=r["life_id"],
            horizons_days=STORED_HORIZONS,
            p_fail=(r["p_fail_7d"], r["p_fail_14d"], r["p_fail_30d"]),
            window_start=_date(r["window_start"]),
            window_end=_date(r["window_end"]),
            window_coverage=window_coverage,
            median_days_left=r["median_days_left"],
            drivers=tuple(
                # rows stored before drivers named their signals hold three items
                Driver(str(f), float(c), str(t), tuple(str(x) for x in (rest[0] if rest else ())))
                for f, c, t, *rest in stored
            ),
            model_version=r["model_version"],
        )
        out.append((forecast, bool(r["alert"])))
    return out


def tickets(engine: sa.Engine, as_of: dt.date) -> dict[str, dict[str, Any]]:
    """Return each ticket as it stood on ``as_of`` (its newest revision by then), by ``life_id``.

    A ticket revised after ``as_of`` is taken back to its last revision dated on or before
    that day from the outbox, which keeps every revision; tickets opened later are left
    out. (Without an outbox copy, which happens only when no sink is enabled, the current
    revision is shown.)
    """
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Ticket.life_id, Ticket.opened_as_of, Ticket.payload)).all()
        later = [r.payload["dedup_key"] for r in rows if str(r.payload["as_of"]) > str(as_of)]
        revisions: dict[str, dict[str, Any]] = {}
        if later:
            query = (
                sa.select(OutboxMessage.dedup_key, OutboxMessage.payload)
                .where(OutboxMessage.dedup_key.in_(later))
                .order_by(OutboxMessage.revision)
            )
            for key, payload in conn.execute(query):
                if str(payload["as_of"]) <= as_of.isoformat():
                    revisions[key] = dict(payload)
    out = {}
    for r in rows:
        if r.opened_as_of > as_of:
            continue
        payload = dict(r.payload)
        out[r.life_id] = revisions.get(payload["dedup_key"], payload)
    return out


def deliveries(engine: sa.Engine) -> list[Delivery]:
    """Return the outbox: every ticket revision on every sink, newest revision first."""
    query = sa.select(OutboxMessage).order_by(
        OutboxMessage.dedup_key, OutboxMessage.revision.desc(), OutboxMessage.sink
    )
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        Delivery(r["dedup_key"], r["revision"], r["sink"], r["status"], r["last_error"])
        for r in rows
    ]


def fleet_rows(engine: sa.Engine, config: PipelineConfig, as_of: dt.date) -> list[FleetRow]:
    """Return the fleet overview, highest risk first (P30, then P14, then P7).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store, with the day's forecasts.
    config : PipelineConfig
        ``models.dir``, ``forecast.window_coverage`` and ``report.at_risk_p30``.
    as_of : datetime.date
        The forecast day.

    Returns
    -------
    list of FleetRow
    """
    threshold = float(config["report.at_risk_p30"])
    by_life = tickets(engine, as_of)
    query = sa.select(ComponentLife.life_id, ComponentLife.installed_on)
    with engine.connect() as conn:
        installed = {r.life_id: r.installed_on for r in conn.execute(query)}
        systems = {
            r.system_id: (r.site, r.modality)
            for r in conn.execute(sa.select(System.system_id, System.site, System.modality))
        }
    rows = []
    models_dir = Path(str(config["models.dir"]))
    coverage = float(config["forecast.window_coverage"])
    for forecast, alert in stored_forecasts(engine, as_of, models_dir, coverage):
        ticket = by_life.get(forecast.life_id)
        is_open = ticket is not None and ticket.get("status") == "open"
        site, modality = systems[forecast.system_id]
        rows.append(
            FleetRow(
                forecast=forecast,
                site=site,
                modality=modality,
                installed_on=installed[forecast.life_id],
                alert=alert or is_open,
                ticket=ticket,
                at_risk=is_open or forecast.p_within(30) >= threshold,
            )
        )
    return sorted(
        rows, key=lambda r: (tuple(-p for p in reversed(r.forecast.p_fail)), r.forecast.life_id)
    )


def model_card(models_dir: Path, model_version: str | None) -> ModelCard | None:
    """Return the card of ``model_version``, else of the registry's newest model.

    ``None`` for an empty registry.
    """
    cards = list_versions(models_dir)
    own = [c for c in cards if c.model_version == model_version]
    if own:
        return own[0]
    return max(cards, key=lambda c: (c.created_at, c.model_version)) if cards else None


def newest_evaluation(folder: Path) -> tuple[Path, dict[str, Any]] | None:
    """Return the newest backtest ``evaluation.json`` under ``folder`` (by modification time).

    Files that are not a backtest evaluation (no ``scores`` list) are skipped.
    """
    if not folder.is_dir():
        return None
    found = sorted(folder.rglob("evaluation.json"), key=lambda p: (p.stat().st_mtime_ns, str(p)))
    for path in reversed(found):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("scores"), list):
            return path, data
    return None


def operations_evaluation(folder: Path) -> tuple[Path, dict[str, Any]] | None:
    """Return ``folder/operations.json`` as ``equiptwin evaluate`` wrote it, or ``None``.

    A file that cannot be read or has no ``summary`` list is not shown.
    """
    path = folder / "operations.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and isinstance(data.get("summary"), list):
        return path, data
    return None


def day_changes(engine: sa.Engine, as_of: dt.date) -> list[dict[str, Any]]:
    """Return the schedule changes made by the plans of ``as_of`` (newest plan wins)."""
    latest: dict[str, dict[str, Any]] = {}
    for row in schedule_change_rows(engine):
        if str(row["plan_version"]).startswith(f"{as_of.isoformat()}/"):
            latest[str(row["appointment_id"])] = row
    return sorted(latest.values(), key=lambda r: (r["old_start"], r["appointment_id"]))


def _aware(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def capacity_impact(
    engine: sa.Engine,
    config: PipelineConfig,
    as_of: dt.date,
    forecasts: Sequence[FailureForecast],
    open_tickets: Sequence[Mapping[str, Any]],
    changes: Sequence[Mapping[str, Any]],
) -> list[CapacityRow]:
    """Return ``capacity.csv``'s rows for the ``maintenance.search_days`` days from ``as_of``.

    The same computation as the planner export
    (:func:`equiptwin.outputs.exports.capacity`), from what the store holds: the open
    tickets' proposed slots, the day's forecasts and schedule changes.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    config : PipelineConfig
        ``booking.*``, ``cost.*`` and ``maintenance.search_days``.
    as_of : datetime.date
        The forecast day.
    forecasts : sequence of FailureForecast
        The day's forecasts.
    open_tickets : sequence of Mapping
        Open ticket payloads (their ``slot``).
    changes : sequence of Mapping
        The day's schedule changes (:func:`day_changes`).

    Returns
    -------
    list of CapacityRow
    """
    days = int(config["maintenance.search_days"])
    start = dt.datetime.combine(as_of, dt.time(0), tzinfo=dt.UTC) - dt.timedelta(days=1)
    end = start + dt.timedelta(days=days + 2)
    slots = [
        MaintenanceSlot(
            system_id=t["system_id"],
            component=t["component"],
            life_id=t["life_id"],
            start=dt.datetime.fromisoformat(t["slot"]["start"]),
            end=dt.datetime.fromisoformat(t["slot"]["end"]),
            expected_cost=float(t["slot"]["expected_cost"]),
            displacement_cost=0.0,
            risk_cost=0.0,
            p_fail_before=float(t["slot"]["p_fail_before"]),
            displaced=(),
        )
        for t in open_tickets
        if t.get("slot")
    ]
    moves = []
    for c in changes:
        old_start = _aware(c["old_start"])
        if old_start is not None:
            moves.append(
                Move(
                    c["appointment_id"],
                    c["priority"],
                    c["old_system_id"],
                    old_start,
                    c["new_system_id"],
                    _aware(c["new_start"]),
                    c["reason"],
                )
            )
    return capacity(
        load_systems(engine),
        load_bookings(engine, start, end),
        slots,
        forecasts,
        moves,
        as_of,
        days,
        config,
    )
