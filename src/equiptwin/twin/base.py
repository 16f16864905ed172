"""Declared degradation models and the one place where they are simulated.

A degradation model describes one tracked component (``xray_tube`` or ``coldhead``) as a
hidden daily state driven by the day's workload. Every model is vectorised over ``n``
particles or lives and steps one day at a time, in the manner of NASA's progpy.

API (all arrays are ``numpy.float64`` unless said otherwise)
-----------------------------------------------------------
Class attributes, declared by each model:

``component``
    ``"xray_tube"`` or ``"coldhead"``.
``states``
    Names of the hidden state columns; ``x`` has shape ``(n, len(states))``.
``inputs``
    Names of the daily workload columns; ``u`` has shape ``(n, len(inputs))`` (one row
    per particle; a single workload is broadcast by :meth:`DegradationModel.simulate`).
``load_inputs``
    The inputs that measure load (scaled or moved by a what-if); the others are levels
    or flags (mean mA, a chiller fault, a helium fill) and stay as planned.
``outputs``
    Names of the observable daily indicators; ``y`` has shape ``(n, len(outputs))``,
    ``NaN`` where the indicator is not measured that day.
``count_outputs``
    The outputs that are counts (Poisson noise); every other output ``name`` has
    Gaussian noise with standard deviation ``parameters[name + "_sd"]``.
``events``
    Failure modes. The last one is always ``"sudden"``: a constant daily hazard
    ``parameters["sudden_failure_per_day"]`` with no precursor. The others are
    threshold modes: they fire when their column of :meth:`damage` reaches 1.
``rate_factor`` (the last state of every model)
    A slowly varying multiplier on all wear rates (mean 1, lognormal Ornstein-Uhlenbeck
    with ``rate_factor_sigma`` and ``rate_factor_days``): months-long changes in
    operating conditions the inputs do not capture (cooling, room, protocol mix). It
    keeps forecasts months ahead honestly uncertain.
``life_parameters``
    Names of the per-life parameters (wear-rate multipliers, lognormal with median 1);
    ``theta`` has shape ``(n, len(life_parameters))``.
``default_parameters``
    Model constants (``Mapping[str, float]``); override any of them by keyword:
    ``XrayTubeModel(filament_loss_per_day=3e-5)``. Unknown names raise
    :class:`ModelParameterError` when the parameters are first read.

Equations, implemented by each model (private inputs are already checked):

``initial_state(n, rng) -> x``
    State of ``n`` new components.
``sample_life_parameters(n, rng) -> theta``
    Per-life parameters of ``n`` lives.
``next_state(x, u, theta, rng) -> x``
    One day forward. Wear states never decrease.
``expected_output(x, u, theta) -> y``
    Noise-free indicators for the day (``NaN`` where not measured).
``damage(x) -> (n, len(events) - 1)``
    Damage of each threshold mode, 1 at failure.

Given those, the base class provides :meth:`~DegradationModel.observe` (indicators with
noise), :meth:`~DegradationModel.log_likelihood` (of observed indicators, ``NaN`` ignored),
:meth:`~DegradationModel.event_probability` (daily probability of each mode),
:meth:`~DegradationModel.health` (``1 - max damage`` clipped to [0, 1]),
:meth:`~DegradationModel.step` (one day with failure draws),
:meth:`~DegradationModel.check_workload` (shape and sign checks, raising
:class:`WorkloadError`), :meth:`~DegradationModel.simulate` (lives run to failure or to
the end of the workload, returning a frozen :class:`LifeSimulation` with the state and
indicator paths) and :meth:`~DegradationModel.time_to_failure` (failure day and mode
only, from given states: the forecast's Monte Carlo).

Each model also exposes the per-exam or per-reading physics that the fleet simulator
writes into logs and the features invert (``XrayTubeModel.filament_current_a``,
``oil_temp_after_exam_c``, ``coastdown_s``, ``arcs_per_exam``...;
``ColdheadModel.stage2_k``, ``boil_off_l_per_day``...).

Day convention: on day ``d`` the state moves from ``states[:, d]`` to ``states[:, d + 1]``
under ``workload[d]``; the day's indicators are observed on the new state; a life that
fails on day ``d`` has ``failure_day == d`` and keeps its indicators of that day.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from equiptwin.errors import EquiptwinError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SUDDEN = "sudden"


class ModelParameterError(EquiptwinError, ValueError):
    """A model parameter override is unknown or out of range."""


class WorkloadError(EquiptwinError, ValueError):
    """A workload or state array has the wrong shape or impossible values."""


@dataclass(frozen=True)
class LifeSimulation:
    """Lives of one component model simulated day by day.

    Parameters
    ----------
    component : str
        ``xray_tube`` or ``coldhead``.
    state_names, output_names, event_names, life_parameter_names : tuple of str
        Column names of ``states``, ``outputs``, the failure modes and ``life_parameters``.
    states : ndarray, shape (n, days + 1, n_states)
        ``states[:, d]`` is the state at the start of day ``d``; after a failure the state
        stays at its value on the failure day.
    outputs : ndarray, shape (n, days, n_outputs)
        Observed indicators with noise; ``NaN`` after the failure day.
    failure_day : ndarray of int, shape (n,)
        Day index of the failure, ``-1`` if the life survived the whole workload.
    failure_mode : ndarray of int, shape (n,)
        Index into ``event_names``, ``-1`` if the life survived.
    life_parameters : ndarray, shape (n, n_life_parameters)
        The per-life parameters the lives ran with.
    """

    component: str
    state_names: tuple[str, ...]
    output_names: tuple[str, ...]
    event_names: tuple[str, ...]
    life_parameter_names: tuple[str, ...]
    states: FloatArray
    outputs: FloatArray
    failure_day: IntArray
    failure_mode: IntArray
    life_parameters: FloatArray

    @property
    def failed(self) -> npt.NDArray[np.bool_]:
        """Whether each life failed within the workload."""
        return self.failure_day >= 0

    def state(self, name: str) -> FloatArray:
        """Return the path of one state, shape ``(n, days + 1)``."""
        return self.states[:, :, self.state_names.index(name)]

    def output(self, name: str) -> FloatArray:
        """Return one observed indicator, shape ``(n, days)``."""
        return self.outputs[:, :, self.output_names.index(name)]


class DegradationModel(ABC):
    """A component's degradation, declared as states, inputs, outputs and events.

    Parameters
    ----------
    **parameters : float
        Overrides of :attr:`default_parameters`, by name.
    """

    component: ClassVar[str]
    states: ClassVar[tuple[str, ...]]
    inputs: ClassVar[tuple[str, ...]]
    load_inputs: ClassVar[tuple[str, ...]]
    outputs: ClassVar[tuple[str, ...]]
    count_outputs: ClassVar[tuple[str, ...]]
    events: ClassVar[tuple[str, ...]]
    life_parameters: ClassVar[tuple[str, ...]]
    default_parameters: ClassVar[Mapping[str, float]]

    def __init__(self, **parameters: float) -> None:
        self.parameter_overrides = dict(parameters)

    @cached_property
    def parameters(self) -> Mapping[str, float]:
        """Defaults with the overrides applied; raise on an unknown or bad override.

        Checked and merged on first use, then kept (the models read it every day).
        """
        unknown = sorted(set(self.parameter_overrides) - set(self.default_parameters))
        if unknown:
            raise ModelParameterError(
                f"{type(self).__name__} has no parameter {unknown[0]!r}; "
                f"known parameters are {sorted(self.default_parameters)}."
            )
        merged = {**self.default_parameters, **self.parameter_overrides}
        for name, value in merged.items():
            if not np.isfinite(value) or value < 0:
                raise ModelParameterError(
                    f"{type(self).__name__} parameter `{name}` must be a finite number >= 0, "
                    f"but found {value!r}."
                )
        return merged

    # ---- equations: each model implements these -------------------------------------

    @abstractmethod
    def initial_state(self, n: int, rng: np.random.Generator) -> FloatArray:
        """Return the state of ``n`` new components, shape ``(n, n_states)``."""

    @abstractmethod
    def sample_life_parameters(self, n: int, rng: np.random.Generator) -> FloatArray:
        """Return per-life parameters of ``n`` lives, shape ``(n, n_life_parameters)``."""

    @abstractmethod
    def next_state(
        self, x: FloatArray, u: FloatArray, theta: FloatArray, rng: np.random.Generator
    ) -> FloatArray:
        """Return the state one day later; wear states never decrease.

        May assume ``x``, ``u`` and ``theta`` have ``n`` rows, the declared columns,
        finite values and a non-negative workload.
        """

    @abstractmethod
    def expected_output(self, x: FloatArray, u: FloatArray, theta: FloatArray) -> FloatArray:
        """Return the noise-free indicators, shape ``(n, n_outputs)``, NaN if unmeasured."""

    @abstractmethod
    def damage(self, x: FloatArray) -> FloatArray:
        """Return the damage of each threshold mode, shape ``(n, n_events - 1)``; 1 fails."""

    def first_data(self, x: FloatArray) -> FloatArray:
        """Return the states as the life's first logged day finds them.

        The particle filter calls it once the prior is ready (aged when the life began
        before the logs). A model whose indicator is read against the life's own first
        logged weeks records its reference there; the default keeps ``x``.
        """
        return x

    # ---- provided once for every model ------------------------------------------------

    def _initial_rate_factor(self, n: int, rng: np.random.Generator) -> FloatArray:
        # stationary draw of the slowly varying wear-rate factor (mean 1)
        s = self.parameters["rate_factor_sigma"]
        out: FloatArray = np.exp(s * rng.standard_normal(n) - 0.5 * s * s)
        return out

    def _drift_rate_factor(self, factor: FloatArray, rng: np.random.Generator) -> FloatArray:
        # one day of an Ornstein-Uhlenbeck process on the log factor: stationary sd
        # `rate_factor_sigma`, correlation time `rate_factor_days`, mean factor 1
        p = self.parameters
        s, phi = p["rate_factor_sigma"], np.exp(-1.0 / max(p["rate_factor_days"], 1.0))
        mu = -0.5 * s * s
        log_f = np.log(np.maximum(factor, 1e-6))
        step = (
            mu + phi * (log_f - mu) + s * np.sqrt(1 - phi * phi) * rng.standard_normal(factor.shape)
        )
        out: FloatArray = np.exp(step)
        return out

    def _output_sd(self) -> FloatArray:
        p = self.parameters
        return np.array([np.nan if o in self.count_outputs else p[f"{o}_sd"] for o in self.outputs])

    def _is_count(self) -> npt.NDArray[np.bool_]:
        return np.array([o in self.count_outputs for o in self.outputs])

    def observe(
        self, x: FloatArray, u: FloatArray, theta: FloatArray, rng: np.random.Generator
    ) -> FloatArray:
        """Return the day's indicators with measurement noise, shape ``(n, n_outputs)``.

        Parameters
        ----------
        x : ndarray, shape (n, n_states)
            State after the day.
        u : ndarray, shape (n, n_inputs)
            The day's workload.
        theta : ndarray, shape (n, n_life_parameters)
            Per-life parameters.
        rng : numpy.random.Generator
            Source of the noise.

        Returns
        -------
        ndarray, shape (n, n_outputs)
            Counts are Poisson draws, other indicators Gaussian; NaN where unmeasured.
        """
        mean = self.expected_output(x, u, theta)
        counts = self._is_count()
        y = mean + rng.standard_normal(mean.shape) * np.nan_to_num(self._output_sd())
        lam = np.nan_to_num(np.clip(mean[:, counts], 0.0, None), nan=0.0)
        y[:, counts] = np.where(np.isnan(mean[:, counts]), np.nan, rng.poisson(lam))
        return y

    def log_likelihood(
        self, y: FloatArray, x: FloatArray, u: FloatArray, theta: FloatArray
    ) -> FloatArray:
        """Return the log-likelihood of observed indicators for each particle.

        Parameters
        ----------
        y : ndarray, shape (n_outputs,) or (n, n_outputs)
            Observed indicators; ``NaN`` entries (missing data) are ignored.
        x, u, theta : ndarray
            State after the day, the day's workload and per-life parameters (``n`` rows).

        Returns
        -------
        ndarray, shape (n,)
            Sum over the observed indicators; constants that do not depend on the state
            are dropped.
        """
        mean = self.expected_output(x, u, theta)
        y2 = np.broadcast_to(y, mean.shape)
        seen = ~np.isnan(y2) & ~np.isnan(mean)
        counts = self._is_count()
        sd = self._output_sd()
        z = (y2[:, ~counts] - mean[:, ~counts]) / sd[~counts]
        ll_gauss = np.where(seen[:, ~counts], -0.5 * z * z, 0.0)
        lam = np.maximum(np.nan_to_num(mean[:, counts]), 1e-9)
        k = np.nan_to_num(y2[:, counts])
        ll_pois = np.where(seen[:, counts], k * np.log(lam) - lam, 0.0)
        total: FloatArray = ll_gauss.sum(axis=1) + ll_pois.sum(axis=1)
        return total

    def event_probability(self, x: FloatArray, u: FloatArray, theta: FloatArray) -> FloatArray:
        """Return each failure mode's probability on the day, shape ``(n, n_events)``.

        Threshold modes are 1 once their damage reaches 1; the ``sudden`` mode is the
        constant ``sudden_failure_per_day`` hazard.
        """
        threshold = (self.damage(x) >= 1.0).astype(np.float64)
        sudden = np.full((x.shape[0], 1), self.parameters["sudden_failure_per_day"])
        return np.concatenate([threshold, sudden], axis=1)

    def health(self, x: FloatArray) -> FloatArray:
        """Return the health index in [0, 1]: 1 new, 0 at a threshold failure, shape (n,)."""
        h: FloatArray = np.clip(1.0 - self.damage(x).max(axis=1), 0.0, 1.0)
        return h

    def step(
        self, x: FloatArray, u: FloatArray, theta: FloatArray, rng: np.random.Generator
    ) -> tuple[FloatArray, IntArray]:
        """Advance one day and draw failures.

        Returns
        -------
        x_next : ndarray, shape (n, n_states)
            State after the day.
        mode : ndarray of int, shape (n,)
            Index of the failure mode that fired that day, ``-1`` for none (threshold
            modes take precedence over ``sudden`` when both fire).
        """
        x_next = self.next_state(x, u, theta, rng)
        fired = rng.random((x.shape[0], len(self.events))) < self.event_probability(
            x_next, u, theta
        )
        mode = np.where(fired.any(axis=1), fired.argmax(axis=1), -1).astype(np.int64)
        return x_next, mode

    def check_workload(self, workload: npt.ArrayLike, n: int | None = None) -> FloatArray:
        """Return the workload as an array of shape ``(n or 1, days, n_inputs)``.

        Parameters
        ----------
        workload : array_like, shape (days, n_inputs) or (n, days, n_inputs)
            Daily inputs in the order of :attr:`inputs`; one shared workload or one per life.
        n : int, optional
            Number of lives the workload must match when it is given per life.

        Raises
        ------
        WorkloadError
            On a wrong shape, a non-finite or a negative value.
        """
        w = np.asarray(workload, dtype=np.float64)
        if w.ndim == 2:
            w = w[None]
        if w.ndim != 3 or w.shape[2] != len(self.inputs):
            raise WorkloadError(
                f"{self.component} workload must have shape (days, {len(self.inputs)}) or "
                f"(n, days, {len(self.inputs)}) with columns {self.inputs}, but found shape "
                f"{np.shape(workload)}."
            )
        if n is not None and w.shape[0] not in (1, n):
            raise WorkloadError(
                f"{self.component} workload has {w.shape[0]} lives but {n} were asked for; "
                "pass one workload per life or a single shared one."
            )
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            life, day, col = (int(i[0]) for i in np.nonzero(bad))
            raise WorkloadError(
                f"{self.component} workload `{self.inputs[col]}` must be a finite number "
                f">= 0, but found {w[life, day, col]!r} on day {day}"
                + (f" of life {life}" if w.shape[0] > 1 else "")
                + "; fix or drop that day."
            )
        return w

    def _check_rows(
        self, a: npt.ArrayLike | None, n: int, cols: tuple[str, ...], what: str
    ) -> FloatArray | None:
        if a is None:
            return None
        arr = np.asarray(a, dtype=np.float64)
        if arr.shape != (n, len(cols)) or not np.isfinite(arr).all():
            raise WorkloadError(
                f"{self.component} `{what}` must be a finite array of shape ({n}, {len(cols)}) "
                f"with columns {cols}, but found shape {arr.shape}."
            )
        return arr

    def simulate(
        self,
        workload: npt.ArrayLike,
        n: int,
        rng: np.random.Generator,
        *,
        x0: npt.ArrayLike | None = None,
        theta: npt.ArrayLike | None = None,
        stop_at_failure: bool = True,
    ) -> LifeSimulation:
        """Simulate ``n`` lives day by day under a workload.

        Parameters
        ----------
        workload : array_like, shape (days, n_inputs) or (n, days, n_inputs)
            Daily inputs, see :meth:`check_workload`.
        n : int
            Number of lives.
        rng : numpy.random.Generator
            Source of every random draw (fix its seed to reproduce a run).
        x0 : array_like, shape (n, n_states), optional
            Starting states; new components (:meth:`initial_state`) if omitted.
        theta : array_like, shape (n, n_life_parameters), optional
            Per-life parameters; drawn with :meth:`sample_life_parameters` if omitted.
        stop_at_failure : bool
            Freeze a life at its first failure (default). When false, lives run on past
            failure events and ``failure_day`` is the first one.

        Returns
        -------
        LifeSimulation
        """
        if n < 1:
            raise WorkloadError(f"`n` must be at least 1 life, but found {n}.")
        w = self.check_workload(workload, n)
        x = self._check_rows(x0, n, self.states, "x0")
        th = self._check_rows(theta, n, self.life_parameters, "theta")
        x = self.initial_state(n, rng) if x is None else x.copy()
        th = self.sample_life_parameters(n, rng) if th is None else th
        days = w.shape[1]
        states = np.empty((n, days + 1, len(self.states)))
        outputs = np.full((n, days, len(self.outputs)), np.nan)
        failure_day = np.full(n, -1, dtype=np.int64)
        failure_mode = np.full(n, -1, dtype=np.int64)
        states[:, 0] = x
        for d in range(days):
            u = np.broadcast_to(w[:, d], (n, w.shape[2]))
            x_next, mode = self.step(x, u, th, rng)
            alive = failure_day < 0
            y = self.observe(x_next, u, th, rng)
            if stop_at_failure:
                x = np.where(alive[:, None], x_next, x)
                outputs[alive, d] = y[alive]
            else:
                x = x_next
                outputs[:, d] = y
            new = alive & (mode >= 0)
            failure_day[new] = d
            failure_mode[new] = mode[new]
            states[:, d + 1] = x
        return LifeSimulation(
            component=self.component,
            state_names=self.states,
            output_names=self.outputs,
            event_names=self.events,
            life_parameter_names=self.life_parameters,
            states=states,
            outputs=outputs,
            failure_day=failure_day,
            failure_mode=failure_mode,
            life_parameters=th,
        )

    def time_to_failure(
        self,
        workload: npt.ArrayLike,
        x0: npt.ArrayLike,
        theta: npt.ArrayLike,
        rng: np.random.Generator,
    ) -> tuple[IntArray, IntArray]:
        """Run ``n`` lives from given states until failure, without keeping paths.

        Parameters
        ----------
        workload : array_like, shape (days, n_inputs) or (n, days, n_inputs)
            Planned daily inputs.
        x0 : array_like, shape (n, n_states)
            Starting states (for instance a filter's particles).
        theta : array_like, shape (n, n_life_parameters)
            Per-life parameters of each particle.
        rng : numpy.random.Generator
            Source of every random draw.

        Returns
        -------
        failure_day : ndarray of int, shape (n,)
            Day index of the failure from the first workload day, ``-1`` if none.
        failure_mode : ndarray of int, shape (n,)
            Index into :attr:`events`, ``-1`` if none.
        """
        x_arr = np.asarray(x0, dtype=np.float64)
        n = x_arr.shape[0] if x_arr.ndim == 2 else 0
        x = self._check_rows(x_arr, n, self.states, "x0")
        th = self._check_rows(theta, n, self.life_parameters, "theta")
        if x is None or th is None or n < 1:
            raise WorkloadError(f"{self.component} `x0` must hold at least one state row.")
        w = self.check_workload(workload, n)
        x = x.copy()
        failure_day = np.full(n, -1, dtype=np.int64)
        failure_mode = np.full(n, -1, dtype=np.int64)
        alive = np.arange(n)
        for d in range(w.shape[1]):
            if alive.size == 0:
                break
            u = (
                w[alive, d]
                if w.shape[0] > 1
                else np.broadcast_to(w[0, d], (alive.size, w.shape[2]))
            )
            x[alive], mode = self.step(x[alive], u, th[alive], rng)
            dead = mode >= 0
            failure_day[alive[dead]] = d
            failure_mode[alive[dead]] = mode[dead]
            alive = alive[~dead]
        return failure_day, failure_mode
