"""One day's planning: tickets, maintenance slots and rebooking, in one transaction.

:func:`plan_day` is what the demo and the scheduler call after the forecast stage:

1. close the tickets whose component the CMMS shows as replaced;
2. for every forecast the policy flags (or whose ticket is open), propose a maintenance
   slot: the slot proposed earlier is kept while it lies ahead and the ticket's priority
   has not risen, otherwise the cheapest slot is chosen afresh (:mod:`.slots`);
3. open, update or escalate the tickets with their slots (:mod:`.tickets`);
4. rebook the exams the slots displace (:mod:`.rebooking`);
5. given the typical anode heat of each exam code, move the high-heat exams off every
   X-ray tube whose ticket reaches ``load_shift.min_priority`` until its slot
   (:mod:`.loadshift`);
6. store one schedule change per moved or cancelled exam under the plan version
   ``<as_of>/<hash of the maintenance windows>``.

Everything is written in one transaction. Running it again with the same inputs changes
nothing: tickets dedup on their key and material content, kept slots no longer displace
the exams already moved, and schedule changes are keyed by appointment and plan version.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from equiptwin.config import PipelineConfig
from equiptwin.errors import UnknownSystemError
from equiptwin.forecast import FailureForecast
from equiptwin.planning.bookings import (
    Block,
    Booking,
    SystemInfo,
    load_bookings,
    load_systems,
    overlaps,
)
from equiptwin.planning.loadshift import DaysGained, LoadShift, shift_load
from equiptwin.planning.policy import PRIORITIES, policy_for
from equiptwin.planning.rebooking import Move, RebookingRules, rebook
from equiptwin.planning.slots import MaintenanceSlot, choose_slot, evaluate_slot
from equiptwin.planning.tickets import TicketChange, apply_forecasts, close_in, dedup_key
from equiptwin.store.schema import ScheduleChange, Ticket


@dataclass(frozen=True)
class DayPlan:
    """What :func:`plan_day` decided.

    Parameters
    ----------
    as_of : datetime.date
        The planning day.
    plan_version : str
        Key of this plan's schedule changes.
    tickets : tuple of TicketChange
        New ticket revisions (opened, updated, escalated, closed).
    slots : tuple of MaintenanceSlot
        The proposed maintenance windows, one per ticketed component.
    moves : tuple of Move
        The exams displaced by maintenance and where they went.
    mip_gap : float
        Rebooking's optimality gap (0 = proven optimal).
    load_shifts : tuple of LoadShift
        High-heat exams moved off at-risk tubes, one entry per tube.
    """

    as_of: dt.date
    plan_version: str
    tickets: tuple[TicketChange, ...]
    slots: tuple[MaintenanceSlot, ...]
    moves: tuple[Move, ...]
    mip_gap: float
    load_shifts: tuple[LoadShift, ...] = ()


def _utc_naive(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC).replace(tzinfo=None)


def _slot_for(
    session: Session,
    forecast: FailureForecast,
    system: SystemInfo,
    bookings: Sequence[Booking],
    config: PipelineConfig,
    now: dt.datetime,
) -> MaintenanceSlot | None:
    """Keep the ticket's earlier slot while it is ahead and the priority holds; else choose."""
    policy = policy_for(config, system.site, system.modality)
    wanted = policy.priority(forecast)
    ticket = session.get(
        Ticket, dedup_key(forecast.system_id, forecast.component, forecast.life_id)
    )
    if ticket is None and wanted is None:
        return None
    if ticket is not None and ticket.status == "closed":
        return None
    old = ticket.payload.get("slot") if ticket is not None else None
    if ticket is not None and old is not None:
        start = dt.datetime.fromisoformat(old["start"])
        risen = wanted is not None and PRIORITIES.index(wanted) > PRIORITIES.index(ticket.priority)
        if start >= now and not risen:
            return evaluate_slot(forecast, system, bookings, start, config)
    return choose_slot(forecast, system, bookings, config, now)


def plan_version(as_of: dt.date, slots: Sequence[MaintenanceSlot]) -> str:
    """Return ``<as_of>/<hash>``, the hash over the maintenance windows of the plan."""
    text = "|".join(
        sorted(f"{s.system_id},{s.start.isoformat()},{s.end.isoformat()}" for s in slots)
    )
    return f"{as_of.isoformat()}/{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def plan_day(
    engine: Engine,
    forecasts: Sequence[FailureForecast],
    as_of: dt.date,
    config: PipelineConfig,
    now: dt.datetime,
    *,
    exam_heat_kj: Mapping[str, float] | None = None,
    days_gained: DaysGained | None = None,
) -> DayPlan:
    """Turn one day's forecasts into tickets, maintenance slots and schedule changes.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store with registry, component lives, service history and bookings.
    forecasts : Sequence of FailureForecast
        The forecasts made for ``as_of``.
    as_of : datetime.date
        The planning day; forecasts for another day are refused.
    config : PipelineConfig
        Policy, maintenance, cost, booking and sink settings.
    now : datetime.datetime
        Aware current time; no slot or exam is placed before it.
    exam_heat_kj : Mapping of str to float, optional
        Typical anode heat per exam code, kJ; without it no load is shifted.
    days_gained : DaysGained, optional
        The twin's what-if estimator of life gained by load shifting.

    Returns
    -------
    DayPlan

    Raises
    ------
    ValueError
        When a forecast is for another day or ``now`` is naive.
    UnknownSystemError
        When a forecast names a system missing from the registry.
    """
    if now.tzinfo is None:
        raise ValueError(f"`now` must be timezone-aware, but found {now.isoformat()}")
    wrong = [f for f in forecasts if f.as_of != as_of]
    if wrong:
        raise ValueError(
            f"plan_day for {as_of} got a forecast for {wrong[0].as_of} "
            f"({wrong[0].system_id}); pass the forecasts of one day."
        )
    systems = load_systems(engine)
    rules = RebookingRules.from_config(config)
    reach = max(config["maintenance.search_days"], 1) + rules.search_days + 2
    start = min(now, dt.datetime.combine(as_of, dt.time(0), tzinfo=dt.UTC)) - dt.timedelta(days=1)
    bookings = load_bookings(engine, start, start + dt.timedelta(days=reach))
    with Session(engine) as session, session.begin():
        closed = close_in(session, as_of, config)
        slots: dict[str, MaintenanceSlot] = {}
        for forecast in forecasts:
            system = systems.get(forecast.system_id)
            if system is None:
                raise UnknownSystemError(
                    f"forecast for unknown system {forecast.system_id!r}; ingest assets.csv "
                    "with it before planning."
                )
            slot = _slot_for(session, forecast, system, bookings, config, now)
            if slot is not None:
                slots[forecast.life_id] = slot
        changed = apply_forecasts(session, forecasts, config, slots)
        windows = sorted(slots.values(), key=lambda s: (s.start, s.system_id))
        version = plan_version(as_of, windows)
        blocks = [Block(s.system_id, s.start, s.end) for s in windows]
        why: dict[str, str] = {}
        for s in windows:
            for appointment_id in s.displaced:
                why[appointment_id] = (
                    f"maintenance of {s.component} on {s.system_id}, "
                    f"{s.start:%Y-%m-%d %H:%M}-{s.end:%H:%M} UTC"
                )
        displaced = [
            b
            for b in bookings
            if any(
                k.system_id == b.system_id and overlaps(b.start, b.end, k.start, k.end)
                for k in blocks
            )
        ]
        displaced_ids = {d.appointment_id for d in displaced}
        staying = [b for b in bookings if b.appointment_id not in displaced_ids]
        result = rebook(displaced, staying, blocks, systems, rules, now, why)
        shifts = _shift_loads(
            session,
            forecasts,
            windows,
            systems,
            _after(bookings, result.moves),
            config,
            now,
            exam_heat_kj,
            days_gained,
        )
        for move in _combined(result.moves, [m for shift in shifts for m in shift.moves]):
            if session.get(ScheduleChange, (move.appointment_id, version)) is not None:
                continue
            session.add(
                ScheduleChange(
                    appointment_id=move.appointment_id,
                    plan_version=version,
                    action=move.action,
                    old_system_id=move.old_system_id,
                    old_start=_utc_naive(move.old_start),
                    new_system_id=move.new_system_id,
                    new_start=None if move.new_start is None else _utc_naive(move.new_start),
                    reason=move.reason,
                )
            )
    return DayPlan(
        as_of,
        version,
        tuple(closed + changed),
        tuple(windows),
        result.moves,
        result.mip_gap,
        tuple(shifts),
    )


def _combined(first: Sequence[Move], then: Sequence[Move]) -> list[Move]:
    """Return one move per exam: an exam moved twice goes from its first to its last place."""
    by_id = {m.appointment_id: m for m in first}
    for move in then:
        earlier = by_id.get(move.appointment_id)
        by_id[move.appointment_id] = (
            move
            if earlier is None
            else dataclasses.replace(
                move,
                old_system_id=earlier.old_system_id,
                old_start=earlier.old_start,
                reason=f"{earlier.reason}; then {move.reason}",
            )
        )
    return list(by_id.values())


def _after(bookings: Sequence[Booking], moves: Sequence[Move]) -> list[Booking]:
    """Return the bookings with the moves applied (cancelled exams removed)."""
    by_id = {m.appointment_id: m for m in moves}
    out = []
    for b in bookings:
        move = by_id.get(b.appointment_id)
        if move is None:
            out.append(b)
        elif move.new_system_id is not None and move.new_start is not None:
            out.append(dataclasses.replace(b, system_id=move.new_system_id, start=move.new_start))
    return out


def _shift_loads(
    session: Session,
    forecasts: Sequence[FailureForecast],
    windows: Sequence[MaintenanceSlot],
    systems: Mapping[str, SystemInfo],
    bookings: list[Booking],
    config: PipelineConfig,
    now: dt.datetime,
    exam_heat_kj: Mapping[str, float] | None,
    days_gained: DaysGained | None,
) -> list[LoadShift]:
    """Shift high-heat exams off every tube whose ticket reaches the configured priority."""
    if exam_heat_kj is None:
        return []
    least = PRIORITIES.index(config["load_shift.min_priority"])
    forecast_of = {f.life_id: f for f in forecasts}
    at_risk = []
    for slot in windows:
        key = dedup_key(slot.system_id, slot.component, slot.life_id)
        ticket = session.get(Ticket, key)
        if (
            slot.component == "xray_tube"
            and ticket is not None
            and PRIORITIES.index(ticket.priority) >= least
        ):
            at_risk.append(slot)
    blocks = [Block(s.system_id, s.start, s.end) for s in windows]
    shifts = []
    for slot in at_risk:
        others = {s.system_id for s in at_risk} - {slot.system_id}
        shift = shift_load(
            slot,
            forecast_of[slot.life_id],
            systems,
            bookings,
            exam_heat_kj,
            config,
            now,
            blocks=blocks,
            avoid=others,
            days_gained=days_gained,
        )
        bookings = _after(bookings, shift.moves)
        shifts.append(shift)
    return shifts
