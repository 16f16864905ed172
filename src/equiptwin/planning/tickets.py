"""One maintenance ticket per component life: open, update, escalate, close.

A ticket is keyed by its ``dedup_key`` (``system_id:component:life_id``) and never
duplicated. Each material change is a new *revision*, written to the ticket row and, in
the same transaction, to the outbox once per enabled sink (``sinks.enabled``); the
delivery loop in :mod:`equiptwin.planning.outbox` sends it on.

A change is material when the status, priority, recommended action, failure window or
proposed slot changes, or P(fail within ``policy.horizon_days``) has moved by at least
``policy.revision_min_p_change`` since the last revision. The same forecast applied twice
therefore issues nothing new. Priorities only rise while a ticket is open: a falling
forecast is reported in the next material revision, but a person (or the CMMS
replacement) closes the ticket, not the model.

A ticket closes, with a note, once the CMMS records the replacement that ends its
component life (``component_lives.ended_on`` before ``as_of``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from equiptwin.config import PipelineConfig
from equiptwin.errors import UnknownSystemError
from equiptwin.forecast import FailureForecast
from equiptwin.planning.policy import PRIORITIES, URGENCY, policy_for
from equiptwin.planning.slots import MaintenanceSlot
from equiptwin.store.schema import ComponentLife, OutboxMessage, System, Ticket

ACTIONS: Mapping[str, str] = {
    "xray_tube": "replace X-ray tube",
    "coldhead": "service cold head",
}
"""Recommended action by component."""

COOLING_WORDS: tuple[str, ...] = ("chiller", "water", "flow", "cool")
"""A driver whose feature name holds one of these points at the cooling circuit."""

_MATERIAL = ("status", "priority", "recommended_action", "window_start", "window_end", "slot")


@dataclass(frozen=True)
class TicketChange:
    """One new ticket revision.

    Parameters
    ----------
    dedup_key : str
        The ticket.
    revision : int
        The new revision (1 when opened).
    kind : str
        ``opened``, ``updated``, ``escalated`` or ``closed``.
    priority : str
        Priority after the change.
    """

    dedup_key: str
    revision: int
    kind: str
    priority: str


def dedup_key(system_id: str, component: str, life_id: str) -> str:
    """Return the stable key of a component life's ticket: ``system_id:component:life_id``."""
    key = f"{system_id}:{component}:{life_id}"
    if len(key) > 160:
        raise ValueError(
            f"ticket key {key[:60]!r}... is {len(key)} characters, more than the 160 the "
            "store keeps; shorten the life_id."
        )
    return key


def recommended_action(forecast: FailureForecast) -> str:
    """Return what the engineer should do, from the component and the forecast's drivers.

    A cooling-related driver (chiller flow, water temperature) adds "check chiller" first,
    since a chiller fault mimics and accelerates a failing tube or cold head.
    """
    action = ACTIONS[forecast.component]
    cooling = any(
        any(word in d.feature.lower() for word in COOLING_WORDS) for d in forecast.drivers
    )
    return f"check chiller, then {action}" if cooling else action


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _slot_json(slot: MaintenanceSlot | None) -> dict[str, Any] | None:
    if slot is None:
        return None
    return {
        "start": _iso(slot.start.astimezone(dt.UTC)),
        "end": _iso(slot.end.astimezone(dt.UTC)),
        "expected_cost": round(slot.expected_cost, 2),
        "p_fail_before": round(slot.p_fail_before, 4),
        "displaced_exams": len(slot.displaced),
    }


def _slot_same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return bool(a["start"] == b["start"] and a["end"] == b["end"])


def _material(old: Mapping[str, Any], new: Mapping[str, Any], min_p_change: float) -> bool:
    for name in _MATERIAL:
        same = _slot_same(old[name], new[name]) if name == "slot" else old[name] == new[name]
        if not same:
            return True
    return bool(abs(new["p_fail_policy"] - old["p_fail_policy"]) >= min_p_change - 1e-12)


def _payload(
    forecast: FailureForecast,
    system: System,
    priority: str,
    impact: int,
    horizon_days: int,
    slot: MaintenanceSlot | None,
) -> dict[str, Any]:
    return {
        "dedup_key": dedup_key(forecast.system_id, forecast.component, forecast.life_id),
        "system_id": forecast.system_id,
        "site": system.site,
        "modality": system.modality,
        "component": forecast.component,
        "life_id": forecast.life_id,
        "status": "open",
        "priority": priority,
        "urgency": URGENCY[priority],
        "impact": impact,
        "as_of": _iso(forecast.as_of),
        **{
            f"p_fail_{h}d": round(p, 4)
            for h, p in zip(forecast.horizons_days, forecast.p_fail, strict=True)
        },
        "policy_horizon_days": horizon_days,
        "p_fail_policy": round(forecast.p_within(horizon_days), 4),
        "window_start": _iso(forecast.window_start),
        "window_end": _iso(forecast.window_end),
        "window_coverage": forecast.window_coverage,
        "median_days_left": forecast.median_days_left,
        "recommended_action": recommended_action(forecast),
        "slot": _slot_json(slot),
        "evidence": [d.text for d in forecast.drivers],
        "model_version": forecast.model_version,
        "note": "",
    }


def _enqueue(session: Session, payload: Mapping[str, Any], sinks: Sequence[str]) -> None:
    for sink in sinks:
        session.add(
            OutboxMessage(
                dedup_key=payload["dedup_key"],
                revision=payload["revision"],
                sink=sink,
                payload=dict(payload),
                status="pending",
                attempts=0,
                next_attempt_at=None,
                delivered_at=None,
                last_error=None,
            )
        )


def _note(kind: str, old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> str:
    p = f"P(fail within {new['policy_horizon_days']} d) = {new['p_fail_policy']:.0%}"
    if old is None:
        return f"Opened: {p}."
    was = f"was {old['p_fail_policy']:.0%}"
    if kind == "escalated":
        return f"Escalated from {old['priority']} to {new['priority']}: {p} ({was})."
    return f"Updated: {p} ({was})."


def update_tickets(
    engine: Engine,
    forecasts: Sequence[FailureForecast],
    config: PipelineConfig,
    slots: Mapping[str, MaintenanceSlot] | None = None,
) -> list[TicketChange]:
    """Open, update or escalate the ticket of every forecast the policy flags.

    All changes, and their outbox messages, are written in one transaction.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store; systems and component lives must be registered.
    forecasts : Sequence of FailureForecast
        Forecasts of one ``as_of`` day (one per component life).
    config : PipelineConfig
        Policy and ``sinks.enabled``.
    slots : Mapping of str to MaintenanceSlot, optional
        Proposed maintenance slot by ``life_id``.

    Returns
    -------
    list of TicketChange
        The new revisions; empty when nothing material changed.

    Raises
    ------
    UnknownSystemError
        When a forecast names a system or component life that is not in the registry.
    """
    with Session(engine) as session, session.begin():
        return apply_forecasts(session, forecasts, config, slots)


def apply_forecasts(
    session: Session,
    forecasts: Sequence[FailureForecast],
    config: PipelineConfig,
    slots: Mapping[str, MaintenanceSlot] | None = None,
) -> list[TicketChange]:
    """Do :func:`update_tickets` inside the caller's transaction (see there)."""
    slots = slots or {}
    sinks = list(config["sinks.enabled"])
    changes: list[TicketChange] = []
    for forecast in forecasts:
        system = session.get(System, forecast.system_id)
        if system is None:
            raise UnknownSystemError(
                f"forecast for unknown system {forecast.system_id!r}; ingest assets.csv "
                "with it before planning."
            )
        life = session.get(ComponentLife, forecast.life_id)
        if life is None:
            raise UnknownSystemError(
                f"forecast for unknown component life {forecast.life_id!r} of "
                f"{forecast.system_id}; ingest the asset registry and service records first."
            )
        if life.ended_on is not None and life.ended_on < forecast.as_of:
            continue  # the life ended; close_replaced closes its ticket
        policy = policy_for(config, system.site, system.modality)
        wanted = policy.priority(forecast)
        key = dedup_key(forecast.system_id, forecast.component, forecast.life_id)
        ticket = session.get(Ticket, key)
        if ticket is not None and ticket.status == "closed":
            continue
        if ticket is None and wanted is None:
            continue
        priority = wanted or "low"
        if ticket is not None and PRIORITIES.index(ticket.priority) > PRIORITIES.index(priority):
            priority = ticket.priority
        new = _payload(
            forecast,
            system,
            priority,
            policy.impact,
            policy.horizon_days,
            slots.get(forecast.life_id),
        )
        if ticket is None:
            kind, old = "opened", None
            new |= {"revision": 1, "opened_as_of": new["as_of"], "slot_sequence": 0}
        else:
            old = ticket.payload
            if not _material(old, new, policy.revision_min_p_change):
                continue
            kind = "escalated" if priority != ticket.priority else "updated"
            sequence = old["slot_sequence"] + (0 if _slot_same(old["slot"], new["slot"]) else 1)
            new |= {
                "revision": ticket.revision + 1,
                "opened_as_of": old["opened_as_of"],
                "slot_sequence": sequence,
            }
        new["note"] = _note(kind, old, new)
        if ticket is None:
            ticket = Ticket(
                dedup_key=key,
                life_id=forecast.life_id,
                system_id=forecast.system_id,
                component=forecast.component,
                opened_as_of=forecast.as_of,
                closed_as_of=None,
            )
            session.add(ticket)
        ticket.status, ticket.priority, ticket.revision = "open", priority, new["revision"]
        ticket.updated_as_of, ticket.payload = forecast.as_of, new
        session.flush()  # the outbox references the ticket row
        _enqueue(session, new, sinks)
        changes.append(TicketChange(key, new["revision"], kind, priority))
    return changes


def close_replaced(engine: Engine, as_of: dt.date, config: PipelineConfig) -> list[TicketChange]:
    """Close every open ticket whose component life the CMMS shows as ended before ``as_of``.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    as_of : datetime.date
        Only replacements dated before this day count.
    config : PipelineConfig
        ``sinks.enabled``.

    Returns
    -------
    list of TicketChange
        One ``closed`` revision per ticket closed now.
    """
    with Session(engine) as session, session.begin():
        return close_in(session, as_of, config)


def close_in(session: Session, as_of: dt.date, config: PipelineConfig) -> list[TicketChange]:
    """Do :func:`close_replaced` inside the caller's transaction (see there)."""
    sinks = list(config["sinks.enabled"])
    changes = []
    query = (
        sa.select(Ticket, ComponentLife)
        .join(ComponentLife, ComponentLife.life_id == Ticket.life_id)
        .where(
            Ticket.status == "open",
            ComponentLife.ended_on.is_not(None),
            ComponentLife.ended_on < as_of,
        )
        .order_by(Ticket.dedup_key)
    )
    for ticket, life in session.execute(query):
        how = "after a failure" if life.end_reason == "failure" else "preventively"
        order = f"work order {life.end_work_order}" if life.end_work_order else "the CMMS"
        note = (
            f"Closed: {order} recorded the {ticket.component} replacement on "
            f"{life.ended_on.isoformat() if life.ended_on else ''} ({how})."
        )
        new = dict(ticket.payload) | {
            "status": "closed",
            "revision": ticket.revision + 1,
            "as_of": as_of.isoformat(),
            "closed_as_of": as_of.isoformat(),
            "note": note,
        }
        ticket.status, ticket.revision, ticket.payload = "closed", new["revision"], new
        ticket.updated_as_of, ticket.closed_as_of = as_of, as_of
        _enqueue(session, new, sinks)
        changes.append(TicketChange(ticket.dedup_key, new["revision"], "closed", ticket.priority))
    return changes
