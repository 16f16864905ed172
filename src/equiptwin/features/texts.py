"""How each feature is said in a forecast's explanation.

One :class:`~equiptwin.survival.explain.FeatureText` per feature the features stage
computes, so a driver reads "arc rate 1.3/day, up from 0.1 three weeks ago" rather than a
column name. Event counts are spoken as daily rates over the last week, indicators as
their recent level against the level three weeks earlier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from equiptwin.features.events import SIGNAL_CODES, event_column
from equiptwin.features.twin_state import PLAN_DAYS, TWIN_HORIZONS
from equiptwin.twin.xray_tube import XrayTubeModel

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class FeatureText:
    """How to say one feature's value.

    Parameters
    ----------
    label : str
        What the signal is called (``"arc rate"``).
    unit : str, default ""
        Appended to numbers, with its own leading space if it needs one (``"/day"``,
        ``" K"``).
    scale : float, default 1.0
        Factor from the feature's unit to the spoken one (``1/7`` turns a 7-day count
        into a daily rate).
    baseline : str or None, default None
        Column with the same signal earlier, for "up from ..." phrases.
    baseline_when : str, default "three weeks ago"
        When the baseline was measured, in words.
    parts : tuple of str, default ()
        For a feature derived from others (the twin's hazard index), the features it is
        said through instead of its own number.
    cap : float or None, default None
        A value the feature is capped at (the twin's plan length): said "more than".
    """

    label: str
    unit: str = ""
    scale: float = 1.0
    baseline: str | None = None
    baseline_when: str = "three weeks ago"
    parts: tuple[str, ...] = ()
    cap: float | None = None

    def sentence(self, value: float, baseline: float | None = None) -> str:
        """Return the phrase for ``value`` (and its baseline when known)."""
        if is_missing(value):
            return f"{self.label} not measured"
        if self.cap is not None and value >= self.cap:
            return f"{self.label} more than {number(self.cap * self.scale)}{self.unit}"
        text = f"{self.label} {number(value * self.scale)}{self.unit}"
        if baseline is None or is_missing(baseline):
            return text
        now, then = value * self.scale, baseline * self.scale
        if number(now) == number(then):
            return f"{text}, unchanged since {self.baseline_when}"
        direction = "up" if now > then else "down"
        return f"{text}, {direction} from {number(then)} {self.baseline_when}"


@dataclass(frozen=True)
class WearSignal:
    """A wear state of the twin and the logged signal that shows it.

    Parameters
    ----------
    state : str
        The twin's state column (``twin_vacuum_damage``).
    limit : float
        The state's value at failure (damage is ``state / limit``).
    signals : tuple of str
        The features an engineer can check (``ev_2301_sum_7d``, the arc rate), in order
        of preference: the first a row has a value of is named.
    """

    state: str
    limit: float
    signals: tuple[str, ...]

    def signal_of(self, row: pd.Series) -> str | None:
        """Return the first of :attr:`signals` with a value in ``row`` (``None`` if none)."""
        for name in self.signals:
            if name in row.index and not is_missing(float(row[name])):
                return name
        return None


WEAR_SIGNALS: tuple[WearSignal, ...] = (
    WearSignal(
        "twin_filament_loss",
        XrayTubeModel.default_parameters["filament_loss_limit"],
        ("filament_a_level",),
    ),
    WearSignal("twin_vacuum_damage", 1.0, ("ev_2301_sum_7d",)),
    WearSignal("twin_bearing_wear", 1.0, ("coastdown_s_level",)),
    WearSignal("twin_anode_wear", 1.0, ("exposure_stretch_level", "oil_resid_c_level")),
    WearSignal("twin_coldhead_wear", 1.0, ("stage2_k_level",)),
)
"""The twin's wear states, each with the signal that reveals it: an explanation names the
worst wear and what the logs show of it."""


def is_missing(value: float | None) -> bool:
    """Return whether a feature value is absent (``None`` or NaN)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(x: float) -> str:
    """Format for reading: whole numbers from 100 up, else three significant digits."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


INDICATOR_WORDS: dict[str, tuple[str, str]] = {
    "filament_a": ("filament current at reference mA", " A"),
    "oil_c": ("tube oil temperature", " °C"),
    "oil_resid_c": ("oil temperature above a new tube's at the same load", " °C"),
    "coastdown_s": ("anode coast-down time", " s"),
    "mean_ma": ("mean tube current", " mA"),
    "stage2_k": ("cold head stage-2 temperature", " K"),
    "he_level_pct": ("helium level", "%"),
    "he_pressure_psi": ("magnet pressure", " psi"),
    "boil_off_l_per_day": ("helium boil-off", " L/day"),
    "exposure_stretch": ("exposure time against the tube's first logged weeks", "x"),
}


def _event_label(code: int) -> str:
    return "arc rate" if code == 2301 else f"'{SIGNAL_CODES[code].lower()}' events"


def feature_texts() -> dict[str, FeatureText]:
    """Return the words for every feature the features stage computes."""
    texts: dict[str, FeatureText] = {
        "age_days": FeatureText("component age", " days"),
        "days_since_data": FeatureText("days since the last reading", " days"),
        "energy_j_sum_7d": FeatureText("anode load", " MJ/day", scale=1e-6 / 7),
        "exams_sum_7d": FeatureText("exams", "/day", scale=1 / 7),
        "cum_energy_j": FeatureText("anode energy since installation", " MJ", scale=1e-6),
        "cum_scan_s": FeatureText("beam-on time since installation", " s"),
        "twin_health": FeatureText("twin health index", ""),
        "twin_health_q10": FeatureText("twin health index (pessimistic, 10%)", ""),
        "twin_median_days_left": FeatureText(
            "twin's median days left", " days", cap=float(PLAN_DAYS)
        ),
        "twin_window_start_days": FeatureText(
            "twin's failure window opens in", " days", cap=float(PLAN_DAYS)
        ),
        "twin_filament_loss": FeatureText("filament mass lost (twin)", "%", scale=100.0),
        "twin_vacuum_damage": FeatureText("vacuum damage (twin)", "%", scale=100.0),
        "twin_bearing_wear": FeatureText("anode bearing wear (twin)", "%", scale=100.0),
        "twin_anode_wear": FeatureText("anode track wear (twin)", "%", scale=100.0),
        "twin_coldhead_wear": FeatureText("cold head wear (twin)", "%", scale=100.0),
        "twin_rate_factor": FeatureText("wear rate against a typical life (twin)", "x"),
        "twin_he_level_pct": FeatureText("helium level (twin)", "%"),
        "twin_hazard_index": FeatureText(
            "degradation twin",
            parts=("twin_health", f"twin_p_fail_{TWIN_HORIZONS[-1]}d", "twin_median_days_left"),
        ),
    }
    for h in TWIN_HORIZONS:
        texts[f"twin_p_fail_{h}d"] = FeatureText(
            f"twin's {h}-day failure probability", "%", scale=100.0
        )
    for code in SIGNAL_CODES:
        column = event_column(code)
        texts[f"{column}_sum_7d"] = FeatureText(
            _event_label(code), "/day", scale=1 / 7, baseline=f"{column}_sum_7d_then"
        )
    for name, (label, unit) in INDICATOR_WORDS.items():
        texts[f"{name}_level"] = FeatureText(label, unit, baseline=f"{name}_then")
        texts[f"{name}_trend"] = FeatureText(f"3-week change in {label}", unit)
    return texts


FEATURE_TEXTS: dict[str, FeatureText] = feature_texts()
"""The words for every feature (see :func:`feature_texts`)."""
