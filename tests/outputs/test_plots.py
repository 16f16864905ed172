from __future__ import annotations

import base64
import datetime as dt
import io

import numpy as np
import pandas as pd
from PIL import Image

from equiptwin.forecast import Driver
from equiptwin.outputs.plots import (
    driver_codes,
    driver_indicators,
    risk_plot,
    survival_plot,
    trend_panels,
    trend_plot,
)
from equiptwin.survival.curves import SurvivalCurves
from tests.planning.conftest import forecast

AS_OF = dt.date(2026, 3, 2)
DRIVERS = (
    Driver("coastdown_s_trend", 0.5, "3-week change in anode coast-down time -4 s"),
    Driver("ev_2320_sum_7d", 0.3, "'anode rotor start slow' events 1/day"),
    Driver("twin_health", -0.1, "twin health index 0.5"),
)


def _daily(days: int = 30) -> pd.DataFrame:
    index = pd.date_range(AS_OF - dt.timedelta(days=days), periods=days, freq="D", name="day")
    rng = np.random.default_rng(5)
    return pd.DataFrame(
        {
            "filament_a": 4.2 + rng.normal(0, 0.01, days),
            "oil_resid_c": np.nan,  # never measured
            "coastdown_s": np.linspace(70, 60, days),
            "ev_2301": rng.poisson(0.5, days).astype(float),
            "ev_2320": np.r_[np.zeros(days - 3), [1.0, 2.0, 1.0]],
            "ev_2330": 0.0,
        },
        index=index,
    )


def _png(uri: str) -> Image.Image:
    assert uri.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def test_drivers_name_their_indicators_and_event_codes() -> None:
    assert driver_indicators(DRIVERS) == ["coastdown_s"]
    assert driver_codes(DRIVERS) == [2320]


def test_the_twins_driver_names_the_signal_behind_its_worst_wear() -> None:
    twin = Driver("twin_hazard_index", 0.4, "degradation twin: ...", ("ev_2301_sum_7d",))
    worn = Driver("twin_hazard_index", 0.4, "degradation twin: ...", ("oil_resid_c_level",))
    assert driver_codes([twin]) == [2301] and driver_indicators([twin]) == []
    assert driver_indicators([worn]) == ["oil_resid_c"] and driver_codes([worn]) == []


def test_trend_panels_put_drivers_first_and_skip_what_was_not_seen() -> None:
    indicators, codes = trend_panels(_daily(), "xray_tube", DRIVERS)
    assert indicators == ["coastdown_s", "filament_a"]  # oil never measured
    assert codes == [2320, 2301]  # 2330 never logged


def test_trend_plot_draws_one_panel_per_signal_or_nothing() -> None:
    service = [{"opened_at": dt.datetime(2026, 2, 20, 9), "kind": "preventive"}]
    uri = trend_plot(_daily(), "xray_tube", DRIVERS, service, dt.date(2026, 2, 10), AS_OF)
    assert uri is not None
    with _png(uri) as png:
        assert (png.width, png.height) == (640, round(100 * (1.5 + 1.4 * 3)))  # 3 panels
    empty = _daily().iloc[:0]
    assert trend_plot(empty, "xray_tube", DRIVERS, [], dt.date(2020, 1, 1), AS_OF) is None


def test_plots_are_the_same_bytes_for_the_same_data() -> None:
    f = forecast(p=(0.2, 0.5, 0.9))
    curve = SurvivalCurves(np.array([7.0, 14.0, 30.0]), np.array([[0.8, 0.5, 0.1]]))
    first = survival_plot(curve, f, recomputed=False)
    assert survival_plot(curve, f, recomputed=False) == first
    assert survival_plot(curve, f, recomputed=True) != first
    bars = risk_plot(["a", "b"], [(0.1, 0.2, 0.3), (0.0, 0.0, 0.1)], (7, 14, 30))
    assert bars == risk_plot(["a", "b"], [(0.1, 0.2, 0.3), (0.0, 0.0, 0.1)], (7, 14, 30))
    with _png(first) as png:
        assert png.size == (640, 320)
