"""Component lives through the log days: degrade, fail or get replaced, start again.

The twin's :class:`~equiptwin.twin.base.DegradationModel` moves the hidden state one day at
a time under the day's workload. This module adds what happens around it in a hospital:
a component already in service on the first day (drawn from lives that survived to
their age), engineers who replace some tired components before they fail (a censored
life), downtime after a failure, and the next life.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from equiptwin.twin.base import SUDDEN, DegradationModel

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Day inputs for day d, given the elapsed second after which nothing runs (inf: all day)
# and the state at the start of the day (for inputs that react to it, such as fills).
InputsFn = Callable[[int, float, FloatArray], FloatArray]


@dataclass(frozen=True)
class LifePolicy:
    """How a site maintains one kind of component.

    Parameters
    ----------
    attentive_share : float
        Share of lives whose engineers act on a tired component before it fails.
    act_below_health : tuple of (float, float)
        Range of the health index at which attentive engineers plan a replacement.
    lead_days : tuple of (int, int)
        Days from that decision to the preventive replacement.
    service_age_days : tuple of (int, int) or None
        Age range at which the component is replaced by the service plan anyway.
    downtime_days : tuple of (int, int)
        Whole days down after a failure before the new component runs.
    """

    attentive_share: float
    act_below_health: tuple[float, float]
    lead_days: tuple[int, int]
    service_age_days: tuple[int, int] | None
    downtime_days: tuple[int, int]


@dataclass(frozen=True)
class Life:
    """One component life as the truth records it.

    ``installed_day`` and ``ended_day`` count from the first log day (negative: before
    it); ``ended_day`` is ``None`` while the component is still in service at the end.
    ``replaced_day`` is the day the next component runs (after the last log day when a
    failure comes late), ``None`` for a life still in service.
    """

    number: int
    installed_day: int
    ended_day: int | None
    end_reason: str
    failure_mode: str
    failure_at_s: float
    replaced_day: int | None

    @property
    def has_precursor(self) -> bool:
        """Whether the failure mode shows in the indicators before it happens."""
        return self.end_reason == "failure" and self.failure_mode != SUDDEN


@dataclass(frozen=True)
class Trace:
    """The component of one system over the log days.

    Parameters
    ----------
    lives : tuple of Life
        In installation order.
    life_of_day : ndarray of int, shape (days,)
        Index into ``lives`` of the life running that day, ``-1`` on a down day.
    states : ndarray, shape (days, n_states)
        Hidden state at the end of each day (NaN on down days).
    outputs : ndarray, shape (days, n_outputs)
        The day's observed indicators (NaN where unmeasured or down).
    inputs : ndarray, shape (days, n_inputs)
        The workload the component saw.
    cutoff_s : ndarray, shape (days,)
        Elapsed second of the day after which the system did no exams (failure or
        replacement), ``inf`` on ordinary days.
    """

    lives: tuple[Life, ...]
    life_of_day: IntArray
    states: FloatArray
    outputs: FloatArray
    inputs: FloatArray
    cutoff_s: FloatArray


def _burn_in(
    model: DegradationModel,
    typical_day: FloatArray,
    age_days: int,
    rng: np.random.Generator,
    candidates: int = 48,
) -> tuple[FloatArray, FloatArray, int]:
    """Return the state, life parameters and age of a component that survived its age."""
    while True:
        if age_days <= 0:
            return model.initial_state(1, rng)[0], model.sample_life_parameters(1, rng)[0], 0
        workload = np.resize(typical_day, (age_days, typical_day.shape[1]))
        sim = model.simulate(workload, candidates, rng)
        alive = np.flatnonzero(~sim.failed)
        if alive.size:
            c = int(alive[0])
            return sim.states[c, -1].copy(), sim.life_parameters[c].copy(), age_days
        age_days //= 2


def run_lives(
    model: DegradationModel,
    *,
    days: int,
    inputs_of_day: InputsFn,
    typical_week: FloatArray,
    age_days: int,
    policy: LifePolicy,
    failure_time_s: Callable[[int], float],
    rng: np.random.Generator,
    carry: tuple[str, ...] = (),
) -> Trace:
    """Step a system's component through ``days`` log days.

    Parameters
    ----------
    model : DegradationModel
        The twin of the component, with any parameter overrides applied.
    days : int
        Number of log days.
    inputs_of_day : callable
        ``inputs_of_day(d, cutoff_s, x)`` returns the day's inputs (in ``model.inputs``
        order) counting only exams before ``cutoff_s``; ``x`` is the state at the start
        of the day. It must return the same for the same day and cutoff.
    typical_week : ndarray, shape (7, n_inputs)
        Workload used for the component's life before the first log day.
    age_days : int
        Wanted age of the component on the first day (shortened if no drawn life
        survives that long).
    policy : LifePolicy
        Maintenance habits of the site.
    failure_time_s : callable
        ``failure_time_s(d)`` returns the elapsed second of day ``d`` at which a failure
        happens (during an exam, say).
    rng : numpy.random.Generator
        Source of every draw.
    carry : tuple of str
        States that belong to the system rather than the component and carry over to
        the next life (the magnet's helium level).

    Returns
    -------
    Trace
    """
    n_states, n_out, n_in = len(model.states), len(model.outputs), len(model.inputs)
    states = np.full((days, n_states), np.nan)
    outputs = np.full((days, n_out), np.nan)
    inputs = np.zeros((days, n_in))
    life_of_day = np.full(days, -1, dtype=np.int64)
    cutoff = np.full(days, math.inf)
    lives: list[Life] = []

    keep = [model.states.index(name) for name in carry]

    def fresh(old: FloatArray) -> tuple[FloatArray, FloatArray]:
        new = model.initial_state(1, rng)[0]
        new[keep] = old[keep]
        return new, model.sample_life_parameters(1, rng)[0]

    x, theta, age = _burn_in(model, typical_week, age_days, rng)
    x[keep] = model.initial_state(1, rng)[0][keep]  # kept up by the site before day 0
    installed, plan = -age, _plan(policy, rng)
    pm_day: int | None = None
    d = 0
    while d < days:
        if pm_day is not None and d >= pm_day:
            # Preventive replacement early in the day; the system is back after it.
            lives.append(Life(len(lives), installed, d, "preventive", "", 0.0, d))
            x, theta = fresh(x)
            installed, plan, pm_day = d, _plan(policy, rng), None
        u = inputs_of_day(d, math.inf, x)
        x_next, mode = model.step(x[None], u[None], theta[None], rng)
        y = model.observe(x_next, u[None], theta[None], rng)[0]
        x_start, x = x, x_next[0]
        if mode[0] >= 0:
            at_s = failure_time_s(d)
            cutoff[d] = at_s
            u = inputs_of_day(d, at_s, x_start)
            states[d], outputs[d], inputs[d], life_of_day[d] = x, y, u, len(lives)
            down = int(rng.integers(policy.downtime_days[0], policy.downtime_days[1] + 1))
            mode_name = model.events[mode[0]]
            lives.append(Life(len(lives), installed, d, "failure", mode_name, at_s, d + 1 + down))
            d += 1 + down  # the new component runs from the start of day d
            x, theta = fresh(x)
            installed, plan, pm_day = d, _plan(policy, rng), None
            continue
        states[d], outputs[d], inputs[d], life_of_day[d] = x, y, u, len(lives)
        if pm_day is None:
            pm_day = _preventive_day(model, x, d, d - installed, plan, policy, rng)
        d += 1
    if installed < days:
        lives.append(Life(len(lives), installed, None, "in_service", "", 0.0, None))
    return Trace(tuple(lives), life_of_day, states, outputs, inputs, cutoff)


@dataclass(frozen=True)
class _Plan:
    attentive: bool
    act_below: float
    service_age: float


def _plan(policy: LifePolicy, rng: np.random.Generator) -> _Plan:
    service = policy.service_age_days
    return _Plan(
        attentive=bool(rng.uniform() < policy.attentive_share),
        act_below=float(rng.uniform(*policy.act_below_health)),
        service_age=float(rng.uniform(*service)) if service else math.inf,
    )


def _preventive_day(
    model: DegradationModel,
    x: FloatArray,
    d: int,
    age: int,
    plan: _Plan,
    policy: LifePolicy,
    rng: np.random.Generator,
) -> int | None:
    tired = plan.attentive and float(model.health(x[None])[0]) < plan.act_below
    if tired or age >= plan.service_age:
        return d + int(rng.integers(policy.lead_days[0], policy.lead_days[1] + 1))
    return None
