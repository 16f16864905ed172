from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equiptwin.errors import ConfigError
from equiptwin.planning.bookings import Booking, SystemInfo
from equiptwin.planning.slots import CostModel, choose_slot, evaluate_slot, p_fail_before

from .conftest import AS_OF, NOW, TZ, config_with, forecast

CT = SystemInfo("CT-AMS-01", "AMS", "CT", TZ)
LOCAL = ZoneInfo(TZ)


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=LOCAL).astimezone(dt.UTC)


def busy_days(days: range, priority: str = "outpatient") -> list[Booking]:
    """Exams every 20 minutes 07:00-19:00 on the given March days."""
    out = []
    for d in days:
        at = local(d, 7)
        while at < local(d, 19):
            out.append(Booking(f"A{d}-{at:%H%M}", CT.system_id, at, 20, priority))
            at += dt.timedelta(minutes=20)
    return out


def test_p_fail_before_interpolates_the_horizons() -> None:
    f = forecast(p=(0.1, 0.3, 0.6))
    start = dt.datetime.combine(AS_OF, dt.time(0), tzinfo=LOCAL)
    assert p_fail_before(f, start, CT) == pytest.approx(0.0)
    assert p_fail_before(f, start + dt.timedelta(days=7), CT) == pytest.approx(0.1)
    assert p_fail_before(f, start + dt.timedelta(days=10.5), CT) == pytest.approx(0.2)
    assert p_fail_before(f, start + dt.timedelta(days=30), CT) == pytest.approx(0.6)
    assert p_fail_before(f, start + dt.timedelta(days=60), CT) == pytest.approx(0.6)
    values = [p_fail_before(f, start + dt.timedelta(hours=h), CT) for h in range(0, 800, 7)]
    assert values == sorted(values)


def test_empty_schedule_takes_the_first_slot_in_working_hours() -> None:
    slot = choose_slot(forecast(), CT, [], config_with(), NOW)
    assert slot is not None
    assert slot.start == local(2, 7) and slot.end == local(2, 13)
    assert slot.displaced == () and slot.displacement_cost == 0


def test_a_full_schedule_pushes_the_job_to_a_free_day_when_risk_is_low() -> None:
    bookings = busy_days(range(2, 5))  # Mon-Wed full, Thu free
    slot = choose_slot(forecast(p=(0.01, 0.02, 0.05)), CT, bookings, config_with(), NOW)
    assert slot is not None and slot.start == local(5, 7) and slot.displaced == ()


def test_high_risk_takes_the_early_slot_despite_displacing_exams() -> None:
    bookings = busy_days(range(2, 5))
    slot = choose_slot(forecast(p=(0.8, 0.9, 0.95)), CT, bookings, config_with(), NOW)
    assert slot is not None and slot.start.date() == dt.date(2026, 3, 2)
    assert len(slot.displaced) == 18
    costs = CostModel.from_config(config_with())
    assert slot.expected_cost == pytest.approx(slot.displacement_cost + slot.risk_cost)
    assert slot.risk_cost == pytest.approx(
        slot.p_fail_before * costs.failure_cost("CT", "xray_tube")
    )


def test_never_in_the_past_nor_outside_workdays() -> None:
    late = local(6, 18)  # Friday evening
    slot = choose_slot(forecast(), CT, [], config_with(), late)
    assert slot is not None and slot.start == local(9, 7)  # next Monday


def test_job_longer_than_the_working_day_is_refused() -> None:
    with pytest.raises(ConfigError, match="job_hours_xray_tube"):
        choose_slot(forecast(), CT, [], config_with(maintenance__job_hours_xray_tube=13.0), NOW)


def test_no_room_returns_none() -> None:
    assert (
        choose_slot(
            forecast(),
            CT,
            [],
            config_with(maintenance__workdays=[7], maintenance__search_days=5),
            NOW,
        )
        is None
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(2, 6),
            st.integers(7 * 4, 19 * 4),
            st.sampled_from([15, 30, 45]),
            st.sampled_from(["stat", "inpatient", "outpatient"]),
        ),
        max_size=40,
    ),
    st.floats(0, 0.5),
    st.floats(0, 0.3),
)
def test_chosen_slot_is_the_cheapest_candidate(
    raw: list[tuple[int, int, int, str]], p7: float, extra: float
) -> None:
    bookings = [
        Booking(f"E{i}", CT.system_id, local(day, q // 4, 15 * (q % 4)), minutes, prio)
        for i, (day, q, minutes, prio) in enumerate(raw)
    ]
    cfg = config_with(maintenance__search_days=5)
    f = forecast(p=(p7, p7 + extra, min(1.0, p7 + 2 * extra)))
    best = choose_slot(f, CT, bookings, cfg, NOW)
    assert best is not None
    assert best.expected_cost == pytest.approx(best.displacement_cost + best.risk_cost)
    for day in range(2, 7):
        for half_hours in range(0, 13):
            start = local(day, 7) + dt.timedelta(minutes=30 * half_hours)
            other = evaluate_slot(f, CT, bookings, start, cfg)
            assert best.expected_cost <= other.expected_cost + 1e-9
            hit = {b.appointment_id for b in bookings if b.start < other.end and start < b.end}
            assert set(other.displaced) == hit
