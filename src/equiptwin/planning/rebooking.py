"""Rebook exams displaced by maintenance: an exact mixed-integer program (HiGHS).

Each displaced exam gets a new system and start, or is cancelled when no room exists.
Candidates are the starts on a ``booking.step_min`` grid inside each system's booking
hours (``booking.day_start`` to ``booking.day_end``, local time) on systems of the same
modality, that overlap no booking that stays and no maintenance window, and that keep
the priority rules:

- ``stat``: never later than the original start (and not before ``now``);
- ``inpatient``: the same local day as the original start;
- ``outpatient``: from the original day up to ``rebooking.search_days`` days later.

The objective is, per exam, ``weight(priority) x (|shift in hours| + other-system penalty +
other-site penalty)`` (``cost.weight_*``, ``rebooking.other_*_penalty_h``), so the same
system and site come first, then the nearest time. Cancelling an exam costs more than all
moves together, so the program rebooks every exam that has room anywhere, the higher
priorities first. Exams on one system may not overlap: each grid cell of a system holds
at most one exam (a cell is taken when an exam covers any part of it, so this is exact
for starts on the grid). Per exam and system only the cheapest starts that other displaced
exams could not all block are kept, which shrinks the program without losing the optimum.

The program is solved by HiGHS through :func:`scipy.optimize.milp`; the result reports
HiGHS's MIP gap (0 when proven optimal).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

from equiptwin.config import PipelineConfig
from equiptwin.planning.bookings import (
    EXAM_PRIORITIES,
    Block,
    Booking,
    SystemInfo,
    local_day_starts,
    parse_hhmm,
)


@dataclass(frozen=True)
class RebookingRules:
    """The rules and weights of rebooking (see the module docstring and the settings).

    Parameters
    ----------
    day_start, day_end : datetime.time
        Local booking hours.
    step_min : int
        Grid of candidate starts, minutes.
    search_days : int
        Days after the original day searched for an outpatient exam.
    other_system_penalty_h, other_site_penalty_h : float
        Penalties, in hours of delay, of moving to another system or site.
    weights : Mapping[str, float]
        Weight of each exam priority.
    """

    day_start: dt.time
    day_end: dt.time
    step_min: int
    search_days: int
    other_system_penalty_h: float
    other_site_penalty_h: float
    weights: Mapping[str, float]

    @classmethod
    def from_config(cls, config: PipelineConfig) -> RebookingRules:
        """Read the rules from the ``booking.*``, ``rebooking.*`` and ``cost.weight_*`` settings."""
        return cls(
            day_start=parse_hhmm(config["booking.day_start"]),
            day_end=parse_hhmm(config["booking.day_end"]),
            step_min=config["booking.step_min"],
            search_days=config["rebooking.search_days"],
            other_system_penalty_h=config["rebooking.other_system_penalty_h"],
            other_site_penalty_h=config["rebooking.other_site_penalty_h"],
            weights={p: config[f"cost.weight_{p}"] for p in EXAM_PRIORITIES},
        )


@dataclass(frozen=True)
class Move:
    """Where one displaced exam went.

    Parameters
    ----------
    appointment_id, priority : str
        The exam.
    old_system_id : str
        System it was booked on.
    old_start : datetime.datetime
        Its original start (aware UTC).
    new_system_id : str or None
        New system; ``None`` when cancelled.
    new_start : datetime.datetime or None
        New start (aware UTC); ``None`` when cancelled.
    reason : str
        Why it moved.
    """

    appointment_id: str
    priority: str
    old_system_id: str
    old_start: dt.datetime
    new_system_id: str | None
    new_start: dt.datetime | None
    reason: str

    @property
    def action(self) -> str:
        """``moved`` or ``cancelled``."""
        return "cancelled" if self.new_start is None else "moved"


@dataclass(frozen=True)
class RebookingResult:
    """The solved rebooking.

    Parameters
    ----------
    moves : tuple of Move
        One per displaced exam, in the order given.
    objective : float
        Weighted hours of the moves (cancellations excluded).
    mip_gap : float
        HiGHS's relative gap; 0 when the solution is proven optimal.
    candidates : int
        Number of candidate (system, start) pairs considered.
    """

    moves: tuple[Move, ...]
    objective: float
    mip_gap: float
    candidates: int


class _Busy:
    """Sorted busy intervals per system, for fast overlap checks."""

    def __init__(self, intervals: Sequence[tuple[str, dt.datetime, dt.datetime]]) -> None:
        by_system: dict[str, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
        for system_id, start, end in intervals:
            by_system[system_id].append((start, end))
        self.starts = {s: sorted(v) for s, v in by_system.items()}
        self.longest = {
            s: max((e - b for b, e in v), default=dt.timedelta(0)) for s, v in by_system.items()
        }

    def free(self, system_id: str, start: dt.datetime, end: dt.datetime) -> bool:
        spans = self.starts.get(system_id, [])
        lo = bisect.bisect_left(spans, (start - self.longest.get(system_id, dt.timedelta(0)),))
        hi = bisect.bisect_left(spans, (end,))
        return not any(b < end and start < e for b, e in spans[lo:hi])


def _window(
    exam: Booking, home: SystemInfo, rules: RebookingRules, now: dt.datetime
) -> tuple[dt.date, int]:
    """Return the first local day and the number of days searched for one exam."""
    day = exam.start.astimezone(home.tz).date()
    today = now.astimezone(home.tz).date()
    if exam.priority == "stat":
        first = min(today, day)
        return first, (day - first).days + 1
    if exam.priority == "inpatient":
        return day, 1
    first = max(today, day)
    return first, (day + dt.timedelta(days=rules.search_days) - first).days + 1


def _allowed(exam: Booking, home: SystemInfo, start: dt.datetime, now: dt.datetime) -> bool:
    if start < now:
        return False
    if exam.priority == "stat":
        return start <= exam.start
    if exam.priority == "inpatient":
        return start.astimezone(home.tz).date() == exam.start.astimezone(home.tz).date()
    return start.astimezone(home.tz).date() >= exam.start.astimezone(home.tz).date()


def rebook(
    displaced: Sequence[Booking],
    staying: Sequence[Booking],
    blocks: Sequence[Block],
    systems: Mapping[str, SystemInfo],
    rules: RebookingRules,
    now: dt.datetime,
    reasons: Mapping[str, str] | None = None,
    time_limit_s: float = 60.0,
    prune: bool = True,
) -> RebookingResult:
    """Find new systems and times for displaced exams (see the module docstring).

    Parameters
    ----------
    displaced : Sequence of Booking
        Exams that must move.
    staying : Sequence of Booking
        Every booking that stays where it is (on any system).
    blocks : Sequence of Block
        Maintenance windows; no exam may overlap one.
    systems : Mapping of str to SystemInfo
        The fleet, by ``system_id``.
    rules : RebookingRules
        Booking hours, grid, priority weights and penalties.
    now : datetime.datetime
        Aware current time; no exam moves into the past.
    reasons : Mapping of str to str, optional
        Why each exam moves, by ``appointment_id``.
    time_limit_s : float
        HiGHS's time limit; the result's ``mip_gap`` says how close it got.
    prune : bool
        Keep only the candidates that can matter (exact; ``False`` keeps all, for checks).

    Returns
    -------
    RebookingResult
    """
    if now.tzinfo is None:
        raise ValueError(f"`now` must be timezone-aware, but found {now.isoformat()}")
    reasons = reasons or {}
    busy = _Busy(
        [(b.system_id, b.start, b.end) for b in staying]
        + [(k.system_id, k.start, k.end) for k in blocks]
    )
    step = rules.step_min * 60
    cells_of = [math.ceil(x.duration_min / rules.step_min) for x in displaced]
    costs: list[float] = []
    exam_of: list[int] = []
    where: list[tuple[str, dt.datetime]] = []
    cells: dict[tuple[str, int], list[int]] = defaultdict(list)
    for e, exam in enumerate(displaced):
        home = systems[exam.system_id]
        weight = rules.weights[exam.priority]
        first, days = _window(exam, home, rules, now)
        # Another exam blocks fewer than cells_of[e] + cells_of[o] grid starts of this one,
        # so the `keep` cheapest starts per system always include a free one at least as
        # cheap as any start dropped: pruning to them keeps the optimum.
        keep = 1 + sum(cells_of[e] + c for o, c in enumerate(cells_of) if o != e)
        for target in systems.values():
            if target.modality != home.modality:
                continue
            penalty = (
                rules.other_system_penalty_h if target.system_id != home.system_id else 0.0
            ) + (rules.other_site_penalty_h if target.site != home.site else 0.0)
            options = []
            for start in local_day_starts(
                target.tz,
                first,
                days,
                rules.day_start,
                rules.day_end,
                rules.step_min,
                exam.duration_min,
            ):
                end = start + dt.timedelta(minutes=exam.duration_min)
                if _allowed(exam, home, start, now) and busy.free(target.system_id, start, end):
                    shift_h = abs((start - exam.start).total_seconds()) / 3600
                    options.append((weight * (shift_h + penalty), start, end))
            for cost, start, end in sorted(options)[: keep if prune else None]:
                var = len(costs)
                costs.append(cost)
                exam_of.append(e)
                where.append((target.system_id, start))
                first_cell = math.floor(start.timestamp() / step)
                for cell in range(first_cell, math.ceil(end.timestamp() / step)):
                    cells[(target.system_id, cell)].append(var)
    n_cand, n_exam = len(costs), len(displaced)
    if n_exam == 0:
        return RebookingResult((), 0.0, 0.0, 0)
    worst = np.zeros(n_exam)
    for var, e in enumerate(exam_of):
        worst[e] = max(worst[e], costs[var])
    big = 1.0 + float(worst.sum())
    cancel = [(rules.weights[x.priority] + 1.0) * big for x in displaced]
    objective = np.array(costs + cancel)
    columns = list(range(n_cand + n_exam))
    assign = csr_array(
        (np.ones(n_cand + n_exam), (exam_of + list(range(n_exam)), columns)),
        shape=(n_exam, n_cand + n_exam),
    )
    constraints = [LinearConstraint(assign, 1, 1)]
    shared = [v for v in cells.values() if len({exam_of[i] for i in v}) > 1]
    if shared:
        r = [i for i, v in enumerate(shared) for _ in v]
        c = [var for v in shared for var in v]
        overlap = csr_array((np.ones(len(c)), (r, c)), shape=(len(shared), n_cand + n_exam))
        constraints.append(LinearConstraint(overlap, -np.inf, 1))
    result = milp(
        objective,
        integrality=np.ones(n_cand + n_exam),
        bounds=Bounds(0, 1),
        constraints=constraints,
        options={"time_limit": time_limit_s},
    )
    if result.x is None:
        raise RuntimeError(
            f"HiGHS found no rebooking ({result.message}); this is a bug, please report it."
        )
    chosen = np.flatnonzero(result.x[:n_cand] > 0.5)
    placed = {exam_of[v]: where[v] for v in chosen}
    moves = []
    for e, exam in enumerate(displaced):
        why = reasons.get(exam.appointment_id, "displaced by maintenance")
        spot: tuple[str | None, dt.datetime | None] = placed.get(e, (None, None))
        if spot[1] is None:
            modality = systems[exam.system_id].modality
            why += f"; no free time on any {modality} within the {exam.priority} rules"
        moves.append(
            Move(
                exam.appointment_id,
                exam.priority,
                exam.system_id,
                exam.start,
                spot[0],
                spot[1],
                why,
            )
        )
    gap = float(getattr(result, "mip_gap", 0.0) or 0.0)
    return RebookingResult(tuple(moves), float(sum(costs[v] for v in chosen)), gap, n_cand)
