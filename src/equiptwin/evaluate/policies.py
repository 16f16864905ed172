"""Maintenance policies the operations twin compares, each a small declared rule.

Every morning (00:00 UTC of each day) the department asks the policy about each system
whose component runs and has no replacement planned yet. A policy answers ``None`` (do
nothing) or the failure probabilities that drive the choice of a maintenance slot
(:func:`equiptwin.planning.slots.choose_slot`): the spare part is ordered that morning and
the slot of least expected cost after its arrival is booked. Policies:

* **run-to-failure**: never plans; components are replaced after they fail.
* **fixed interval**: replaces at a fixed age per component, the
  ``operations.fixed_interval_quantile`` quantile of the failure ages of that component in
  the evaluated worlds (a manufacturer-style service interval); probabilities zero, so the
  slot is the one that displaces the fewest weighted exams within the search days.
* **threshold alarms**: replaces when a vendor-style limit (``VENDOR_LIMITS`` of the
  backtest) is broken; the alarm is taken as urgent (probability 1 within every horizon),
  so the earliest slot that does not displace many exams wins.
* **equiptwin**: replaces when the forecast opens a ticket (``P(fail within
  policy.horizon_days) >= policy.p_open``, the ``alert`` of ``forecasts.csv``), with the
  forecast's own probabilities in the slot choice.

Under every policy the world's own preventive replacements (the simulator's attentive
site engineers) still happen at the same component age: the world never shows when those
components would have failed, so no policy can be credited or blamed for them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from equiptwin.evaluate.advice import Advice
from equiptwin.evaluate.world import World, WorldLife

Chances = tuple[float, ...]


class Policy(ABC):
    """When to plan a component replacement, and how urgent it is.

    Attributes
    ----------
    name : str
        The name in tables and plots.
    """

    name: str

    @abstractmethod
    def advise(self, component: str, life: WorldLife, age_days: int) -> Chances | None:
        """Return the probabilities that call for replacing ``life`` now, or ``None``.

        The probabilities are P(fail within h days), one per forecast horizon, at the
        component's age ``age_days``.
        """


@dataclass(frozen=True)
class RunToFailure(Policy):
    """Never plans a replacement."""

    name: str = "run-to-failure"

    def advise(self, component: str, life: WorldLife, age_days: int) -> Chances | None:
        """Return ``None``: wait for the failure."""
        return None


@dataclass(frozen=True)
class FixedInterval(Policy):
    """Replace at a fixed age per component.

    Parameters
    ----------
    interval_days : Mapping of str to float
        Replacement age by component; a component not listed is run to failure.
    horizons : int
        Number of forecast horizons (the probabilities are all zero).
    """

    interval_days: Mapping[str, float]
    horizons: int
    name: str = "fixed interval"

    def advise(self, component: str, life: WorldLife, age_days: int) -> Chances | None:
        """Return zero probabilities once ``age_days`` reaches the interval."""
        due = self.interval_days.get(component)
        return (0.0,) * self.horizons if due is not None and age_days >= due else None


@dataclass(frozen=True)
class ThresholdAlarms(Policy):
    """Replace on a vendor-style alarm (any limit broken that day)."""

    advice: Advice
    name: str = "threshold alarms"

    def advise(self, component: str, life: WorldLife, age_days: int) -> Chances | None:
        """Return certainty of failure within every horizon on an alarm day."""
        fired = (life.life_id, age_days) in self.advice.alarms
        return (1.0,) * len(self.advice.horizons_days) if fired else None


@dataclass(frozen=True)
class Equiptwin(Policy):
    """Replace when equiptwin's forecast opens a ticket.

    Parameters
    ----------
    advice : Advice
        The world's forecasts.
    horizon_days : int, default 14
        Horizon of the probability the ticket rule watches (``policy.horizon_days``).
    p_open : float, default 0.2
        Probability at which a ticket opens (``policy.p_open``).
    """

    advice: Advice
    horizon_days: int = 14
    p_open: float = 0.2
    name: str = "equiptwin"

    def __post_init__(self) -> None:
        if self.horizon_days not in self.advice.horizons_days:
            raise ValueError(
                f"the ticket horizon of {self.horizon_days} days is not one of the forecast's "
                f"horizons {self.advice.horizons_days}."
            )

    def advise(self, component: str, life: WorldLife, age_days: int) -> Chances | None:
        """Return the forecast's probabilities on a day its ticket rule fires."""
        chances = self.advice.forecasts.get((life.life_id, age_days))
        at = self.advice.horizons_days.index(self.horizon_days)
        return chances if chances is not None and chances[at] >= self.p_open else None


def failure_age_quantiles(worlds: Sequence[World], q: float) -> dict[str, float]:
    """Return the ``q`` quantile of the failure ages, in days, by component.

    Parameters
    ----------
    worlds : sequence of World
        Every world evaluated (their failures pooled).
    q : float
        The quantile, between 0 and 1.

    Returns
    -------
    dict of str to float
        Components without any failure are left out.
    """
    ages: dict[str, list[float]] = {}
    for world in worlds:
        for system_id, lives in world.lives.items():
            component = world.components[system_id]
            for life in lives:
                if life.fails_at_h is not None:
                    ages.setdefault(component, []).append(life.fails_at_h / 24.0)
    return {c: float(np.quantile(a, q)) for c, a in ages.items()}


def policies_for(
    advice: Advice, interval_days: Mapping[str, float], *, horizon_days: int, p_open: float
) -> tuple[Policy, ...]:
    """Return the four compared policies for one world, in table order.

    ``horizon_days`` and ``p_open`` are equiptwin's ticket rule (``policy.*``).
    """
    horizons = len(advice.horizons_days)
    return (
        RunToFailure(),
        FixedInterval(interval_days, horizons),
        ThresholdAlarms(advice),
        Equiptwin(advice, horizon_days, p_open),
    )
