"""The report's plots, drawn with matplotlib (Agg) and returned as PNG data URIs.

Figures are built with the object API on the Agg canvas (no pyplot, no global state, so
the scheduler may draw from any thread). Each function draws one figure and returns
``data:image/png;base64,...`` so the report is one self-contained file. The PNG carries
no software or date stamp, so the same data gives the same bytes (the report is
rewritten identically for the same day).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from equiptwin.features.events import SIGNAL_CODES, event_column
from equiptwin.features.texts import INDICATOR_WORDS
from equiptwin.forecast import Driver, FailureForecast
from equiptwin.survival.curves import SurvivalCurves

INDICATORS: Mapping[str, tuple[str, ...]] = {
    "xray_tube": ("filament_a", "oil_resid_c", "coastdown_s"),
    "coldhead": ("stage2_k", "he_level_pct", "boil_off_l_per_day"),
}
"""Indicators plotted for each component (driver indicators are added)."""

EVENT_CODES: Mapping[str, tuple[int, ...]] = {
    "xray_tube": tuple(c for c in SIGNAL_CODES if 2300 <= c < 2400),
    "coldhead": tuple(c for c in SIGNAL_CODES if 7100 <= c < 7200 or c in (6100, 6200)),
}
"""Event codes plotted for each component when logged in the period."""

MAX_INDICATOR_PANELS = 4
MAX_EVENT_LINES = 4
_EVENT_FEATURE = re.compile(r"^ev_(\d+)_")
_BLUE, _RED, _GREY, _AMBER = "#1f5fa8", "#c0392b", "#7f8c8d", "#e67e22"


def png_data_uri(png: bytes) -> str:
    """Return PNG bytes as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def to_data_uri(fig: Figure) -> str:
    """Render a figure as a PNG data URI (no metadata stamps)."""
    buffer = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return png_data_uri(buffer.getvalue())


def _day(day: dt.date | pd.Timestamp) -> float:
    """Return a day as matplotlib's date number (days since its epoch)."""
    return float(mdates.date2num(pd.Timestamp(day).to_pydatetime()))  # type: ignore[no-untyped-call]


def _date_axis(ax: Axes) -> None:
    ax.xaxis_date()
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=8))  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))  # type: ignore[no-untyped-call]


def survival_plot(
    curve: SurvivalCurves,
    forecast: FailureForecast,
    recomputed: bool,
    slot_start: dt.datetime | None = None,
) -> str:
    """Draw P(still working) over the days after ``as_of``, with the failure window.

    Parameters
    ----------
    curve : SurvivalCurves
        One row.
    forecast : FailureForecast
        The stored forecast (horizon probabilities, window, median).
    recomputed : bool
        Whether the curve is the model's daily curve (else drawn through the stored points).
    slot_start : datetime.datetime, optional
        Start of the proposed maintenance slot, drawn as a green line.

    Returns
    -------
    str
        A PNG data URI.
    """
    fig = Figure(figsize=(6.4, 3.2), layout="constrained")
    ax = fig.add_subplot()
    origin = _day(forecast.as_of)
    days = np.concatenate([[0.0], curve.horizons_days])
    survival = np.concatenate([[1.0], curve.survival[0]]) * 100.0
    dates = origin + days
    label = "model, every day" if recomputed else "through the stored 7/14/30-day points"
    ax.plot(dates, survival, color=_BLUE, lw=2, label=f"P(still working), {label}")
    horizons = [origin + h for h in forecast.horizons_days]
    still = [100.0 * (1.0 - p) for p in forecast.p_fail]
    ax.plot(horizons, still, "o", color=_BLUE)
    for at, value, h in zip(horizons, still, forecast.horizons_days, strict=True):
        ax.annotate(
            f"{h} d: {100 - value:.0f}% fail",
            (at, value),
            textcoords="offset points",
            xytext=(4, 6),
            fontsize=8,
        )
    if forecast.window_start is not None and forecast.window_end is not None:
        ax.axvspan(
            _day(forecast.window_start),
            _day(forecast.window_end) + 1.0,
            color=_RED,
            alpha=0.15,
            label=f"failure window ({forecast.window_coverage:.0%} likely)",
        )
    if forecast.median_days_left is not None:
        ax.axvline(
            origin + forecast.median_days_left,
            color=_RED,
            ls="--",
            lw=1,
            label=f"median: {forecast.median_days_left:.0f} days left",
        )
    if slot_start is not None:
        ax.axvline(
            _day(pd.Timestamp(slot_start).tz_convert(None)),
            color="#1e8449",
            lw=2,
            label="proposed maintenance",
        )
    ax.set_ylim(0, 105)
    ax.set_xlim(origin - 0.5, origin + float(days[-1]) + 5.0)
    ax.set_ylabel("P(still working), %")
    ax.set_title(f"{forecast.system_id} {forecast.component}: survival from {forecast.as_of}")
    _date_axis(ax)
    ax.grid(alpha=0.3)
    fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    return to_data_uri(fig)


def _driver_features(drivers: Sequence[Driver]) -> list[str]:
    """Return each driver's feature and the signals its sentence names, in driver order."""
    return [feature for d in drivers for feature in (d.feature, *d.signals)]


def driver_indicators(drivers: Sequence[Driver]) -> list[str]:
    """Return the indicators (``filament_a`` ...) named by the drivers, in driver order."""
    out: list[str] = []
    for feature in _driver_features(drivers):
        for name in INDICATOR_WORDS:
            if feature.startswith(f"{name}_") and name not in out:
                out.append(name)
    return out


def driver_codes(drivers: Sequence[Driver]) -> list[int]:
    """Return the event codes named by the drivers (``ev_2301_sum_7d`` -> 2301)."""
    matches = (_EVENT_FEATURE.match(f) for f in _driver_features(drivers))
    return list(dict.fromkeys(int(m.group(1)) for m in matches if m))


def trend_panels(
    daily: pd.DataFrame, component: str, drivers: Sequence[Driver]
) -> tuple[list[str], list[int]]:
    """Choose what the trend plot shows: indicators with readings, and event codes.

    Returns
    -------
    indicators : list of str
        Driver indicators first, then the component's usual ones, with at least one
        reading in the period (at most :data:`MAX_INDICATOR_PANELS`).
    codes : list of int
        Driver codes first, then the component's codes by count in the period; only
        codes logged at least once (at most :data:`MAX_EVENT_LINES`).
    """
    named = driver_indicators(drivers)
    indicators = [
        name
        for name in dict.fromkeys([*named, *INDICATORS.get(component, ())])
        if name in daily.columns and daily[name].notna().any()
    ][:MAX_INDICATOR_PANELS]
    totals = {
        code: float(daily[event_column(code)].sum())
        for code in dict.fromkeys([*driver_codes(drivers), *EVENT_CODES.get(component, ())])
        if event_column(code) in daily.columns
    }
    logged = [c for c in totals if totals[c] > 0]
    first = [c for c in driver_codes(drivers) if c in logged]
    rest = sorted((c for c in logged if c not in first), key=lambda c: (-totals[c], c))
    return indicators, [*first, *rest][:MAX_EVENT_LINES]


def trend_plot(
    daily: pd.DataFrame,
    component: str,
    drivers: Sequence[Driver],
    service: Sequence[Mapping[str, Any]],
    installed_on: dt.date,
    as_of: dt.date,
) -> str | None:
    """Draw the indicator levels and event counts of the last days before ``as_of``.

    Parameters
    ----------
    daily : pandas.DataFrame
        The system's daily aggregates, indexed by day.
    component : str
        ``xray_tube`` or ``coldhead``.
    drivers : sequence of Driver
        The forecast's drivers; their indicators and events are drawn first, in red.
    service : sequence of Mapping
        Work orders in the period (``opened_at``, ``kind``), drawn as grey dotted lines.
    installed_on : datetime.date
        When the component was installed; earlier days (another component) are shaded.
    as_of : datetime.date
        The forecast day (the plot ends there).

    Returns
    -------
    str or None
        A PNG data URI, or ``None`` when the period holds no reading and no event.
    """
    indicators, codes = trend_panels(daily, component, drivers)
    if not indicators and not codes:
        return None
    panels = len(indicators) + (1 if codes else 0)
    fig = Figure(figsize=(6.4, 1.5 + 1.4 * panels), layout="constrained")
    axes = fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]
    named, named_codes = driver_indicators(drivers), driver_codes(drivers)
    days = np.array([_day(d) for d in pd.DatetimeIndex(daily.index)])
    for ax, name in zip(axes, indicators, strict=False):
        label, unit = INDICATOR_WORDS[name]
        color = _RED if name in named else _BLUE
        ax.plot(days, daily[name].to_numpy(dtype=float), ".-", color=color, lw=1, ms=3)
        ax.set_ylabel(unit.strip(), fontsize=8)
        ax.set_title(label + (" (a driver)" if name in named else ""), fontsize=9, loc="left")
    if codes:
        ax = axes[-1]
        for i, code in enumerate(codes):
            color = _RED if code in named_codes else [_AMBER, _GREY, _BLUE, "#16a085"][i % 4]
            values = daily[event_column(code)].fillna(0.0).to_numpy(dtype=float)
            ax.step(
                days, values, where="mid", color=color, lw=1.2, label=f"{code} {SIGNAL_CODES[code]}"
            )
        ax.set_ylabel("events/day", fontsize=8)
        ax.set_title("logged events", fontsize=9, loc="left")
        ax.legend(fontsize=7, loc="upper left")
    start, end = (float(days[0]) if len(days) else _day(as_of) - 1.0), _day(as_of)
    earlier = _day(installed_on) > start
    for ax in axes:
        for record in service:
            ax.axvline(_day(pd.Timestamp(record["opened_at"]).normalize()), color=_GREY, ls=":")
        if earlier:
            ax.axvspan(start, _day(installed_on), color=_GREY, alpha=0.12, lw=0)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    notes = [
        *(["shaded: before this component was installed"] if earlier else []),
        *(["dotted: work orders"] if service else []),
    ]
    if notes:
        axes[0].annotate(
            "; ".join(notes),
            (0.99, 0.97),
            xycoords="axes fraction",
            ha="right",
            va="top",
            fontsize=7,
            color="#555555",
        )
    axes[-1].set_xlim(start, end)
    _date_axis(axes[-1])
    return to_data_uri(fig)


def risk_plot(
    labels: Sequence[str], p_fail: Sequence[Sequence[float]], horizons: Sequence[int]
) -> str:
    """Draw the fleet's failure probabilities as grouped horizontal bars, riskiest on top.

    Parameters
    ----------
    labels : sequence of str
        One per component, riskiest first.
    p_fail : sequence of sequence of float
        P(fail within each horizon) per component.
    horizons : sequence of int
        The horizons, in days.

    Returns
    -------
    str
        A PNG data URI.
    """
    n = len(labels)
    fig = Figure(figsize=(6.4, 1.0 + 0.32 * max(n, 1)), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    height = 0.8 / len(horizons)
    colors = ["#f5b041", _AMBER, _RED]
    for k, h in enumerate(horizons):
        values = [100.0 * p[k] for p in p_fail]
        ax.barh(
            y + (len(horizons) - 1 - k) * height - 0.4 + height / 2,
            values,
            height,
            color=colors[k % len(colors)],
            label=f"within {h} days",
        )
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("P(fail), %")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return to_data_uri(fig)
