from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from equiptwin.sim.localtime import LocalDay

DAYS = [
    pytest.param("Europe/Amsterdam", dt.date(2026, 3, 29), 23 * 3600, id="ams-spring"),
    pytest.param("Europe/Amsterdam", dt.date(2025, 10, 26), 25 * 3600, id="ams-autumn"),
    pytest.param("Europe/London", dt.date(2026, 3, 29), 23 * 3600, id="lon-spring"),
    pytest.param("Europe/London", dt.date(2025, 10, 26), 25 * 3600, id="lon-autumn"),
    pytest.param("Europe/Amsterdam", dt.date(2026, 6, 1), 24 * 3600, id="ams-summer"),
]


@pytest.mark.parametrize(("tz", "date", "length"), DAYS)
def test_text_matches_zoneinfo(tz: str, date: dt.date, length: int) -> None:
    day = LocalDay.of(date, tz)
    assert day.length_s == length
    elapsed = np.sort(np.random.default_rng(0).uniform(0, length, 500))
    iso = day.iso(elapsed)
    legacy = day.legacy(elapsed)
    for e, text, old in zip(elapsed.tolist(), iso, legacy, strict=True):
        at = dt.datetime.fromtimestamp(day.midnight_utc_s + e, ZoneInfo(tz))
        # Compare instants: aware datetimes in a fold never compare equal across zones.
        instant = dt.datetime.fromisoformat(text).timestamp()
        assert instant == pytest.approx(day.midnight_utc_s + e, abs=1e-3)
        assert text[:19] == at.strftime("%Y-%m-%dT%H:%M:%S")
        assert old == at.strftime("%d-%b-%Y %H:%M:%S")


def test_autumn_wall_clock_repeats_an_hour_and_spring_skips_one() -> None:
    autumn = LocalDay.of(dt.date(2025, 10, 26), "Europe/Amsterdam")
    wall = autumn.wall_s(np.arange(0.0, autumn.length_s, 60.0))
    assert (np.diff(wall) < 0).sum() == 1
    spring = LocalDay.of(dt.date(2026, 3, 29), "Europe/Amsterdam")
    hours = set((spring.wall_s(np.arange(0.0, spring.length_s, 60.0)) // 3600).tolist())
    assert 2 not in hours and len(hours) == 23
