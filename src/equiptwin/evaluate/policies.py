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
* **equiptwin**: replaces when the forecast opens a ticket under the system's ticket
  policy (:meth:`equiptwin.planning.policy.Policy.opens` with the pipeline's
  ``[policy_overrides]``, the ``alert`` of ``forecasts.csv``), with the forecast's own
  probabilities in the slot choice.

Under every policy the world's own preventive replacements (the simulator's attentive
site engineers) still happen at the same component age: the world never shows when those
components would have failed, so no policy can be credited or blamed for them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from equiptwin.config import PipelineConfig
from equiptwin.evaluate.advice import Advice
from equiptwin.evaluate.world import World, WorldLife
from equiptwin.planning.policy import Policy as TicketPolicy
from equiptwin.planning.policy import policies_by_system

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
    tickets : Mapping of str to TicketPolicy
        The ticket policy of each world life (its system's, with the pipeline's
        ``[policy_overrides]``; :func:`ticket_policies`).
    """

    advice: Advice
    tickets: Mapping[str, TicketPolicy]
    name: str = "equiptwin"

    def __post_init__(self) -> None:
        wrong = {p.horizon_days for p in self.tickets.values()} - set(self.advice.horizons_days)
        if wrong:
            raise ValueError(
                f"the ticket horizon(s) {sorted(wrong)} days are not among the forecast's "
                f"horizons {self.advice.horizons_days}."
            )

    def advise(self, component: str, life: WorldLife, age_days: int) -> Chances | None:
        """Return the forecast's probabilities on a day its ticket rule fires."""
        key = (life.life_id, age_days)
        chances = self.advice.forecasts.get(key)
        if chances is None:
            return None
        policy = self.tickets[life.life_id]
        p = chances[self.advice.horizons_days.index(policy.horizon_days)]
        window = self.advice.windows.get(key, float("nan"))
        return chances if bool(policy.opens(p, window)) else None


def ticket_policies(world: World, config: PipelineConfig) -> dict[str, TicketPolicy]:
    """Return the ticket policy of every life of ``world``, by ``life_id``.

    Each life takes its system's policy (``policy.*`` with ``[policy_overrides]`` for the
    system's site and modality), as the daily job applies it.
    """
    by_system = policies_by_system(
        config, ((s.system_id, s.site, s.modality) for s in world.systems.values())
    )
    return {
        life.life_id: by_system[system_id]
        for system_id, lives in world.lives.items()
        for life in lives
    }


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
    advice: Advice, interval_days: Mapping[str, float], tickets: Mapping[str, TicketPolicy]
) -> tuple[Policy, ...]:
    """Return the four compared policies for one world, in table order.

    ``tickets`` is equiptwin's ticket policy per world life (:func:`ticket_policies`).
    """
    horizons = len(advice.horizons_days)
    return (
        RunToFailure(),
        FixedInterval(interval_days, horizons),
        ThresholdAlarms(advice),
        Equiptwin(advice, tickets),
    )
