"""Forecast values handed from the survival stage to planning and outputs.

A :class:`FailureForecast` is what an engineer acts on: the probability that a component
life fails within each horizon, the failure window with its stated coverage, and the
signals that moved the forecast, for one ``as_of`` day (using only data before it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

COMPONENTS: tuple[str, ...] = ("xray_tube", "coldhead")


@dataclass(frozen=True)
class Driver:
    """One signal that moved a forecast, in words an engineer reads.

    Parameters
    ----------
    feature : str
        Feature name (``arc_count_7d``).
    contribution : float
        Its contribution to the model's log-hazard (positive raises the risk).
    text : str
        A sentence such as ``"arc rate 9/day, up from 0.3 three weeks ago"``.
    signals : tuple of str, default ()
        Further features the sentence names: the signal behind the twin's worst wear when
        ``feature`` is the twin's hazard index (the report plots them as drivers too).
    """

    feature: str
    contribution: float
    text: str
    signals: tuple[str, ...] = ()


@dataclass(frozen=True)
class FailureForecast:
    """The forecast for one component life on one ``as_of`` day.

    Parameters
    ----------
    as_of : datetime.date
        Day the forecast is made for; it uses only data up to the end of the day before.
    system_id : str
        The imaging system.
    component : str
        ``xray_tube`` or ``coldhead``.
    life_id : str
        The component life.
    horizons_days : tuple of int
        Horizons of ``p_fail``, strictly increasing.
    p_fail : tuple of float
        Calibrated P(fail within h days) for each horizon, non-decreasing.
    window_start, window_end : datetime.date or None
        The failure window: the likely failure dates, with ``window_coverage``
        probability; ``None`` when the failure is unlikely within the longest horizon.
    window_coverage : float
        Probability the failure falls inside the window.
    median_days_left : float or None
        Median of the remaining-life distribution, in days, if it is finite.
    drivers : tuple of Driver
        The signals that moved the forecast most, strongest first.
    model_version : str
        The registry version of the model that made it.
    """

    as_of: dt.date
    system_id: str
    component: str
    life_id: str
    horizons_days: tuple[int, ...]
    p_fail: tuple[float, ...]
    window_start: dt.date | None
    window_end: dt.date | None
    window_coverage: float
    median_days_left: float | None
    drivers: tuple[Driver, ...]
    model_version: str

    def __post_init__(self) -> None:
        if self.component not in COMPONENTS:
            raise ValueError(
                f"`component` must be one of {COMPONENTS}, but found {self.component!r}"
            )
        if len(self.p_fail) != len(self.horizons_days):
            raise ValueError(
                f"`p_fail` needs one value per horizon {self.horizons_days}, "
                f"but found {self.p_fail}"
            )
        if any(not 0.0 <= p <= 1.0 for p in self.p_fail) or list(self.p_fail) != sorted(
            self.p_fail
        ):
            raise ValueError(
                f"`p_fail` must be probabilities non-decreasing with the horizon, "
                f"but found {self.p_fail}"
            )

    def p_within(self, horizon_days: int) -> float:
        """Return P(fail within ``horizon_days``) for one of the forecast's horizons."""
        try:
            return self.p_fail[self.horizons_days.index(horizon_days)]
        except ValueError:
            raise KeyError(
                f"no forecast for a {horizon_days}-day horizon; have {self.horizons_days}"
            ) from None
