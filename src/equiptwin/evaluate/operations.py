"""The operations twin: a department's year under one maintenance policy (SimPy).

One :func:`simulate_department` run replays a simulated world over the backtest period
with one :class:`~equiptwin.evaluate.policies.Policy`; every policy sees the same world
(the same component lives, the same bookings, the same forecasts). The clock is hours
since 00:00 UTC of the first day.

* **Components** follow the world's lives by age: life *k* of a system fails at the age
  the world's life *k* failed, counted from when it was installed in this run. A planned
  replacement renews the component before that age (the failure is avoided and the
  remaining life, from the truth, is *discarded*); the new component is the world's next
  life. The world's own preventive replacements happen at the same age in every run (see
  :mod:`~equiptwin.evaluate.policies`).
* **Sudden failures** (the constant-hazard mode without precursors) strike the *system* at
  the moment the world's component failed suddenly, whichever life runs there then in
  this run (none while it is down). A constant hazard does not care how old a component
  is, so replacing early cannot dodge it; tying it to a life instead would let a policy
  that replaces often skip the world's sudden failures along with the lives that had
  them. A life that failed suddenly is known up to that age only.
* **Spare lives.** A policy that replaces early uses lives faster than the world did and
  would reach the end of what the world saw: its last life, still running when the logs
  ended, older than the world knew it, or no life at all. Such time cannot fail, and a
  policy that replaces often would gain failure-free time there. So when the world's next
  life of a system cannot cover the rest of the period, the run installs a *spare life*
  instead: a life of the same modality from another system of the world, installed during
  the backtest (so its forecasts and alarms cover it from its first day) and seen to its
  end, early enough that lives as long as the world's longest had time to end
  (:func:`spare_lives`; taken in installation order, shared by the fleet, reused in turn
  when all are taken). Each run reports the spare lives it used and the time it still ran
  past the world (:attr:`Outcome.beyond_world_days`: when no spare life fits).
* **A failure** takes the system down at once. The spare part is ordered then and arrives
  after ``operations.part_lead_days_<component>``; then the repair waits for a free
  engineer (``operations.engineers``, repairs before planned jobs) and takes
  ``maintenance.job_hours_<component>`` of working time (``maintenance.workday_*``,
  ``maintenance.workdays``). Exams on the system until it is back are cancelled at short
  notice.
* **A planned replacement** is decided at 00:00 UTC when the policy asks for one: the part
  is ordered, the slot of least expected cost after its arrival is chosen by
  :func:`~equiptwin.planning.slots.choose_slot` (planning's own rule), and the exams it
  displaces are rebooked by :func:`~equiptwin.planning.rebooking.rebook` (planning's own
  mixed-integer program), on any system of the modality. The component is out from the
  slot's start until the engineer has finished; a job that waits for an engineer or runs
  past its slot cancels the exams it overlaps at short notice. A failure before the slot
  cancels the plan (the exams stay rebooked) and becomes an ordinary repair.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Generator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pandas as pd
import simpy

from equiptwin.config import PipelineConfig
from equiptwin.evaluate.exams import ExamBook, Interval
from equiptwin.evaluate.policies import Chances, Policy
from equiptwin.evaluate.world import World, WorldLife
from equiptwin.forecast import FailureForecast
from equiptwin.planning.bookings import Block, parse_hhmm
from equiptwin.planning.rebooking import RebookingRules, rebook
from equiptwin.planning.slots import choose_slot, job_hours

SITE_SERVICE = "site service"
JOB_COLUMNS: tuple[str, ...] = (
    "system_id",
    "modality",
    "component",
    "life_id",
    "kind",
    "start_h",
    "end_h",
    "downtime_h",
    "discarded_days",
    "discarded_exact",
)
_REPAIR, _PLANNED = 0, 1  # engineer priorities: repairs first
AHEAD_TOLERANCE_DAYS = 7.0
"""A run may install a world's life up to this long before the world did (a repair
that took less time) and still keep it, though it will outrun the world by that much."""


@dataclass(frozen=True)
class Outcome:
    """What one policy did to one world's department over the period.

    Parameters
    ----------
    world, policy : str
        Names.
    days : int
        Length of the period.
    jobs : pandas.DataFrame
        One row per replacement (:data:`JOB_COLUMNS`): ``kind`` is ``failure``, ``planned``
        or ``site service``; ``start_h``/``end_h`` bound the down time (hours since the
        period's start, cut at its end); ``discarded_days`` is the remaining life thrown
        away (0 for failures; a lower bound where ``discarded_exact`` is false because the
        world never saw that life fail).
    exams : pandas.DataFrame
        :meth:`~equiptwin.evaluate.exams.ExamBook.outcomes` of the exams booked in the
        period.
    beyond_world_days : float
        Component-days of the period run past what the world saw (a life older than the
        world knew it, or no life left): time that cannot fail in the replay.
    spare_lives : int
        Spare lives installed (see the module docstring).
    """

    world: str
    policy: str
    days: int
    jobs: pd.DataFrame
    exams: pd.DataFrame
    beyond_world_days: float
    spare_lives: int


@dataclass
class _Plan:
    start_h: float
    hours: float
    block: Block
    reason: str


@dataclass(frozen=True)
class _Job:
    life_id: str
    kind: str
    start_h: float
    discarded_days: float
    exact: bool


@dataclass
class _Run:
    """Mutable state of one run."""

    jobs: list[tuple[object, ...]] = field(default_factory=list)
    open: dict[str, _Job] = field(default_factory=dict)
    down: dict[str, list[Interval]] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    beyond_world_h: float = 0.0
    spares_taken: dict[str, int] = field(default_factory=dict)


def spare_lives(world: World, modality: str, after: dt.datetime) -> tuple[WorldLife, ...]:
    """Return the lives of ``modality`` a run may install when the world's own run out.

    Parameters
    ----------
    world : World
        The simulated world.
    modality : str
        The systems' modality.
    after : datetime.datetime
        Earliest installation (the start of the backtest the advice comes from).

    Returns
    -------
    tuple of WorldLife
        Lives installed from ``after`` that the world saw end (worn out or replaced by
        the site; a sudden failure belongs to its system's calendar), installed at least
        the world's longest such life before the end of what it saw (so that long lives
        are not left out for being unfinished), in installation order.
    """
    ended = [
        life
        for lives in world.lives.values()
        for life in lives
        if life.wear_out_h is not None or life.serviced_at_h is not None
    ]
    if not ended:
        return ()
    seen_until = max(
        life.installed_at + dt.timedelta(hours=life.known_until_h)
        for lives in world.lives.values()
        for life in lives
    )
    longest = dt.timedelta(hours=max(life.known_until_h for life in ended))
    of_modality = {s for s, info in world.systems.items() if info.modality == modality}
    ids = {life.life_id for s in of_modality for life in world.lives[s]}
    chosen = [
        life
        for life in ended
        if life.life_id in ids and after <= life.installed_at <= seen_until - longest
    ]
    return tuple(sorted(chosen, key=lambda life: (life.installed_at, life.life_id)))


class _Department:
    def __init__(
        self, world: World, policy: Policy, config: PipelineConfig, start: dt.date, days: int
    ) -> None:
        self.world, self.policy, self.config = world, policy, config
        self.origin = dt.datetime.combine(start, dt.time(0), tzinfo=dt.UTC)
        self.end_h = 24.0 * days
        self.env = simpy.Environment()
        self.engineers = simpy.PriorityResource(self.env, capacity=config["operations.engineers"])
        # Exams that a run can touch: the period, and the weeks a rebooking may look ahead.
        reach = dt.timedelta(days=days + 2 * int(config["maintenance.search_days"]) + 10)
        first, last = self.origin - dt.timedelta(days=1), self.origin + reach
        self.book = ExamBook(b for b in world.bookings if first <= b.start < last)
        self.rules = RebookingRules.from_config(config)
        self.day_start = parse_hhmm(config["maintenance.workday_start"])
        self.day_end = parse_hhmm(config["maintenance.workday_end"])
        self.workdays = set(config["maintenance.workdays"])
        self.horizons = tuple(int(h) for h in config["forecast.horizons_days"])
        self.sudden_h = {
            system_id: sorted(
                self.hours(life.installed_at) + at
                for life in lives
                if (at := life.sudden_at_h) is not None
            )
            for system_id, lives in world.lives.items()
        }
        by_modality = {
            m: spare_lives(world, m, self.origin)
            for m in {info.modality for info in world.systems.values()}
        }
        self.spares: dict[str, tuple[WorldLife, ...]] = {}
        for system_id, lives in world.lives.items():
            own = {life.life_id for life in lives}
            pool = by_modality[world.systems[system_id].modality]
            self.spares[system_id] = tuple(s for s in pool if s.life_id not in own)
        self.state = _Run()

    def at(self, hours: float) -> dt.datetime:
        return self.origin + dt.timedelta(hours=hours)

    def hours(self, moment: dt.datetime) -> float:
        return (moment - self.origin).total_seconds() / 3600.0

    # --- time ---------------------------------------------------------------------------

    def _window(self, tz: ZoneInfo) -> tuple[float, float]:
        """Return the working window containing now, or the next one."""
        day = self.at(self.env.now).astimezone(tz).date()
        for offset in range(15):
            d = day + dt.timedelta(days=offset)
            if d.isoweekday() not in self.workdays:
                continue
            begin = self.hours(dt.datetime.combine(d, self.day_start, tzinfo=tz))
            end = self.hours(dt.datetime.combine(d, self.day_end, tzinfo=tz))
            if end > self.env.now:
                return max(begin, self.env.now), end
        raise ValueError("`maintenance.workdays` leaves no working day in two weeks.")

    def _work(self, tz: ZoneInfo, hours: float) -> Generator[simpy.Event, object, None]:
        """Spend ``hours`` of working time, waiting over nights and weekends."""
        left = hours
        while left > 1e-9:
            begin, end = self._window(tz)
            if begin > self.env.now:
                yield self.env.timeout(begin - self.env.now)
            step = min(left, end - self.env.now)
            yield self.env.timeout(step)
            left -= step

    # --- jobs ---------------------------------------------------------------------------

    def _open(
        self, system_id: str, life: WorldLife | None, kind: str, start_h: float, discarded: float
    ) -> None:
        """Take the system down for a job from ``start_h``; :meth:`close` ends it."""
        exact = life is not None and life.wear_out_h is not None
        self.state.open[system_id] = _Job(
            life.life_id if life else "", kind, start_h, discarded, exact
        )

    def close(self, system_id: str) -> None:
        """Bring the system back now (or at the end of the period)."""
        job = self.state.open.pop(system_id)
        end_h = min(self.env.now, self.end_h)
        self.state.down.setdefault(system_id, []).append((self.at(job.start_h), self.at(end_h)))
        self.state.jobs.append(
            (
                system_id,
                self.world.systems[system_id].modality,
                self.world.components[system_id],
                job.life_id,
                job.kind,
                job.start_h,
                end_h,
                end_h - job.start_h,
                job.discarded_days,
                job.exact,
            )
        )

    def _repair(
        self, system_id: str, life: WorldLife | None
    ) -> Generator[simpy.Event, object, None]:
        component = self.world.components[system_id]
        self._open(system_id, life, "failure", self.env.now, 0.0)
        yield self.env.timeout(24.0 * self.config[f"operations.part_lead_days_{component}"])
        with self.engineers.request(priority=_REPAIR) as engineer:
            yield engineer
            tz = self.world.systems[system_id].tz
            yield from self._work(tz, job_hours(self.config, component))
        self.close(system_id)

    def _replace(
        self, system_id: str, life: WorldLife | None, plan: _Plan, age_h: float
    ) -> Generator[simpy.Event, object, None]:
        left = (life.known_until_h - age_h) / 24.0 if life else 0.0
        kind = SITE_SERVICE if plan.reason == SITE_SERVICE else "planned"
        self._open(system_id, life, kind, plan.start_h, max(left, 0.0))
        with self.engineers.request(priority=_PLANNED) as engineer:
            yield engineer
            tz = self.world.systems[system_id].tz
            yield from self._work(tz, plan.hours)
        self.state.blocks.remove(plan.block)
        self.close(system_id)

    def _plan(self, system_id: str, life: WorldLife, chances: Chances, reason: str) -> _Plan | None:
        """Order the part, choose the slot and rebook the exams it displaces."""
        system = self.world.systems[system_id]
        component = self.world.components[system_id]
        now = self.at(self.env.now)
        ready = self.at(self.env.now + 24.0 * self.config[f"operations.part_lead_days_{component}"])
        forecast = FailureForecast(
            as_of=now.date(),
            system_id=system_id,
            component=component,
            life_id=life.life_id,
            horizons_days=self.horizons,
            p_fail=chances,
            window_start=None,
            window_end=None,
            window_coverage=float(self.config["forecast.window_coverage"]),
            median_days_left=None,
            drivers=(),
            model_version=reason,
        )
        reach = dt.timedelta(days=int(self.config["maintenance.search_days"]) + 2)
        exams = self.book.on(system_id, now - dt.timedelta(days=1), now + reach)
        slot = choose_slot(forecast, system, exams, self.config, ready)
        if slot is None:
            return None
        block = Block(system_id, slot.start, slot.end)
        displaced = self.book.on(system_id, slot.start, slot.end)
        if displaced:
            until = slot.end + dt.timedelta(days=self.rules.search_days + 2)
            gone = {b.appointment_id for b in displaced}
            staying = [
                b
                for other in self.world.systems.values()
                if other.modality == system.modality
                for b in self.book.on(other.system_id, now, until)
                if b.appointment_id not in gone
            ]
            moves = rebook(
                displaced,
                staying,
                [*self.state.blocks, block],
                self.world.systems,
                self.rules,
                now,
                time_limit_s=30.0,
            )
            self.book.move(moves.moves)
        self.state.blocks.append(block)
        hours = (slot.end - slot.start).total_seconds() / 3600.0
        return _Plan(self.hours(slot.start), hours, block, reason)

    def _ask(self, system_id: str, life: WorldLife, age_h: float) -> tuple[Chances, str] | None:
        component = self.world.components[system_id]
        lead_h = 24.0 * self.config[f"operations.part_lead_days_{component}"]
        if life.serviced_at_h is not None and age_h + lead_h >= life.serviced_at_h:
            return (0.0,) * len(self.horizons), SITE_SERVICE
        chances = self.policy.advise(component, life, int(age_h // 24.0))
        return None if chances is None else (chances, self.policy.name)

    # --- one system ---------------------------------------------------------------------

    def _first_life(self, system_id: str) -> tuple[int, float]:
        """Return the life in service at the start and its installation time."""
        lives = self.world.lives[system_id]
        for k, life in enumerate(lives):
            installed_h = self.hours(life.installed_at)
            ends = life.fails_at_h if life.fails_at_h is not None else life.serviced_at_h
            if ends is None or installed_h + ends > 0.0:
                return k, min(installed_h, 0.0)
        return len(lives), 0.0

    def _next_life(self, system_id: str, k: int, installed_h: float) -> WorldLife | None:
        """Return the life installed as the system's ``k``-th at ``installed_h`` in this run.

        The world's own ``k``-th life when it wore out, was replaced, or was seen long
        enough to run until the period ends or a sudden failure strikes (give or take
        :data:`AHEAD_TOLERANCE_DAYS`); a spare life otherwise (``None`` when there is none).
        """
        lives = self.world.lives[system_id]
        own = lives[k] if k < len(lives) else None
        strike_h = self._next_strike_h(system_id, installed_h)
        need_h = min(self.end_h, strike_h) - installed_h - 24.0 * AHEAD_TOLERANCE_DAYS
        if own is not None and (
            own.wear_out_h is not None
            or own.serviced_at_h is not None
            or own.known_until_h >= need_h
        ):
            return own
        spares = self.spares[system_id]
        if not spares:
            return own
        modality = self.world.systems[system_id].modality
        taken = self.state.spares_taken.get(modality, 0)
        self.state.spares_taken[modality] = taken + 1
        return spares[taken % len(spares)]

    def _next_strike_h(self, system_id: str, after_h: float) -> float:
        """Return when the next of the system's sudden failures strikes after ``after_h``."""
        return next((h for h in self.sudden_h[system_id] if h > after_h), math.inf)

    def system(self, system_id: str) -> Generator[simpy.Event, object, None]:
        """Run one system's component through the period."""
        k, installed_h = self._first_life(system_id)
        life = self.world.lives[system_id][k] if k < len(self.world.lives[system_id]) else None
        decide_h = 0.0
        while True:
            fails_h = self._next_strike_h(system_id, self.env.now)
            wear_out_h = life.wear_out_h if life is not None else None
            if wear_out_h is not None:
                fails_h = min(fails_h, installed_h + wear_out_h)
            plan: _Plan | None = None
            while True:
                wake = min(fails_h, plan.start_h if plan else math.inf, decide_h)
                if wake >= self.end_h:
                    self.state.beyond_world_h += self._beyond_world_h(life, installed_h)
                    return
                yield self.env.timeout(wake - self.env.now)
                if plan is not None and self.env.now >= plan.start_h:
                    yield from self._replace(system_id, life, plan, self.env.now - installed_h)
                    break
                if self.env.now >= fails_h:
                    if plan is not None:
                        self.state.blocks.remove(plan.block)
                    yield from self._repair(system_id, life)
                    break
                decide_h += 24.0
                if plan is None and life is not None:
                    asked = self._ask(system_id, life, self.env.now - installed_h)
                    if asked is not None:
                        plan = self._plan(system_id, life, *asked)
            self.state.beyond_world_h += self._beyond_world_h(life, installed_h)
            k, installed_h = k + 1, self.env.now
            life = self._next_life(system_id, k, installed_h)
            decide_h = 24.0 * math.ceil(self.env.now / 24.0)

    def _beyond_world_h(self, life: WorldLife | None, installed_h: float) -> float:
        """Return the hours of the period, up to now, that ``life`` ran past the world."""
        if life is None:
            unknown_from = installed_h
        elif life.wear_out_h is None:
            unknown_from = installed_h + life.known_until_h
        else:
            return 0.0
        return max(0.0, min(self.env.now, self.end_h) - max(unknown_from, 0.0))


def simulate_department(
    world: World, policy: Policy, config: PipelineConfig, *, start: dt.date, days: int
) -> Outcome:
    """Replay ``world``'s department over ``days`` days from ``start`` under ``policy``.

    Parameters
    ----------
    world : World
        The simulated world.
    policy : Policy
        The maintenance policy.
    config : PipelineConfig
        ``operations.*``, ``maintenance.*``, ``booking.*``, ``rebooking.*``, ``cost.*``
        and ``forecast.*`` settings.
    start : datetime.date
        First day (00:00 UTC).
    days : int
        Length of the period.

    Returns
    -------
    Outcome
    """
    department = _Department(world, policy, config, start, days)
    for system_id in sorted(world.systems):
        department.env.process(department.system(system_id))
    department.env.run(until=department.end_h)
    state = department.state
    for system_id in list(state.open):
        department.close(system_id)
    jobs = pd.DataFrame(state.jobs, columns=list(JOB_COLUMNS))
    exams = department.book.outcomes(state.down, department.origin, department.at(department.end_h))
    return Outcome(
        world.name,
        policy.name,
        days,
        jobs,
        exams,
        state.beyond_world_h / 24.0,
        sum(state.spares_taken.values()),
    )
