"""Load shifting: move high-heat exams off an at-risk X-ray tube until its maintenance slot.

Almost all the electrical energy into the anode becomes heat, and heat drives the tube's
wear (filament evaporation, arcing, bearing and anode damage). Until the tube is
replaced, exams whose typical anode heat reaches ``load_shift.min_exam_heat_kj`` are
rebooked onto healthy systems of the same modality, with the same rules and the same
exact program as exams displaced by maintenance (:mod:`.rebooking`); an exam that finds
no room stays where it is. The result says which share of the tube's heat load moved
and, given an estimator (the twin's what-if), how many days of life that buys.

The estimator is any callable ``days_gained(forecast, fraction_removed, until)`` that
returns the change of the median remaining life, in days, when ``fraction_removed`` of
the tube's heat load is taken off from ``as_of`` until the day ``until``; with the twin
(:mod:`equiptwin.twin.simulate`) it is ``forecast_failure`` under
``scale_load(plan, 1 - fraction_removed, end_day=...)`` minus ``forecast_failure`` under the
plan itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from equiptwin.config import PipelineConfig
from equiptwin.forecast import FailureForecast
from equiptwin.planning.bookings import Block, Booking, SystemInfo
from equiptwin.planning.rebooking import Move, RebookingRules, rebook
from equiptwin.planning.slots import MaintenanceSlot

DaysGained = Callable[[FailureForecast, float, dt.date], float | None]
"""``(forecast, fraction of heat load removed, last day) -> days of life gained or None``."""


@dataclass(frozen=True)
class LoadShift:
    """High-heat exams moved off one at-risk tube until its slot.

    Parameters
    ----------
    system_id, life_id : str
        The at-risk tube.
    until : datetime.datetime
        Start of its maintenance slot (aware UTC); exams are moved before it.
    moves : tuple of Move
        The exams moved (exams that found no room stay and are not listed).
    heat_moved_kj, heat_booked_kj : float
        Typical anode heat of the moved exams, and of every exam booked on the tube until
        the slot.
    days_gained : float or None
        The estimator's days of life gained; ``None`` without an estimator.
    """

    system_id: str
    life_id: str
    until: dt.datetime
    moves: tuple[Move, ...]
    heat_moved_kj: float
    heat_booked_kj: float
    days_gained: float | None

    @property
    def fraction_moved(self) -> float:
        """Share of the tube's booked heat load moved off it."""
        return self.heat_moved_kj / self.heat_booked_kj if self.heat_booked_kj > 0 else 0.0


def shift_load(
    slot: MaintenanceSlot,
    forecast: FailureForecast,
    systems: Mapping[str, SystemInfo],
    bookings: Sequence[Booking],
    exam_heat_kj: Mapping[str, float],
    config: PipelineConfig,
    now: dt.datetime,
    *,
    blocks: Sequence[Block] = (),
    avoid: Collection[str] = (),
    days_gained: DaysGained | None = None,
) -> LoadShift:
    """Move the high-heat exams of an at-risk tube onto healthy systems until its slot.

    Parameters
    ----------
    slot : MaintenanceSlot
        The tube's maintenance window.
    forecast : FailureForecast
        The tube's forecast (for the estimator).
    systems : Mapping of str to SystemInfo
        The fleet.
    bookings : Sequence of Booking
        The schedule after maintenance rebooking (every booking stays unless moved here).
    exam_heat_kj : Mapping of str to float
        Typical anode heat per exam code, kJ (from the exposure history); codes not listed
        count as 0.
    config : PipelineConfig
        ``load_shift.*`` and the rebooking settings.
    now : datetime.datetime
        Aware current time.
    blocks : Sequence of Block
        Maintenance windows of the plan; no exam is moved into one.
    avoid : Collection of str
        Other at-risk systems; no exam is moved onto them before ``slot.start``.
    days_gained : DaysGained, optional
        Estimator of the life gained (see the module docstring).

    Returns
    -------
    LoadShift
    """
    threshold = config["load_shift.min_exam_heat_kj"]
    on_tube = [
        b
        for b in bookings
        if b.system_id == slot.system_id and now <= b.start and b.end <= slot.start
    ]
    heat = {b.appointment_id: exam_heat_kj.get(b.exam_code, 0.0) for b in on_tube}
    hot = [b for b in on_tube if heat[b.appointment_id] > 0 and heat[b.appointment_id] >= threshold]
    hot_ids = {b.appointment_id for b in hot}
    fences = [Block(s, now, slot.start) for s in {slot.system_id, *avoid}]
    reason = (
        f"load shifting off at-risk X-ray tube of {slot.system_id} until its maintenance "
        f"{slot.start:%Y-%m-%d %H:%M} UTC"
    )
    result = rebook(
        hot,
        [b for b in bookings if b.appointment_id not in hot_ids],
        [*blocks, *fences],
        systems,
        RebookingRules.from_config(config),
        now,
        dict.fromkeys(hot_ids, reason),
    )
    moves = tuple(m for m in result.moves if m.action == "moved")
    moved_kj = sum(heat[m.appointment_id] for m in moves)
    booked_kj = sum(heat.values())
    gained = None
    if days_gained is not None and booked_kj > 0:
        last_day = slot.start.astimezone(systems[slot.system_id].tz).date()
        gained = days_gained(forecast, moved_kj / booked_kj, last_day)
    return LoadShift(slot.system_id, slot.life_id, slot.start, moves, moved_kj, booked_kj, gained)
