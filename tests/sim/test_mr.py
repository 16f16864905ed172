"""MR systems: exams run back to back on one scanner, whatever the bookings overlap."""

from __future__ import annotations

import numpy as np
import pytest

from equiptwin.sim.mr import back_to_back


@pytest.mark.parametrize("seed", range(5))
def test_exams_run_in_turn_for_their_booked_durations(seed: int) -> None:
    rng = np.random.default_rng(seed)
    booked = np.sort(rng.uniform(7 * 3600, 19 * 3600, 40))
    duration = rng.choice([1800.0, 2400.0, 2700.0, 3600.0], 40)
    start, end = back_to_back(booked, duration)
    assert np.all(start >= booked)  # nobody is scanned before their booking
    assert np.all(start[1:] >= end[:-1] - 1e-6)  # one exam at a time
    np.testing.assert_allclose(end - start, duration)
    # the scanner idles only while nobody is waiting
    waited = start > booked
    np.testing.assert_allclose(start[1:][waited[1:]], end[:-1][waited[1:]])


def test_exams_that_do_not_overlap_keep_their_times() -> None:
    booked = np.array([8 * 3600.0, 9 * 3600.0, 12 * 3600.0])
    duration = np.array([1800.0, 3600.0, 600.0])
    start, end = back_to_back(booked, duration)
    np.testing.assert_allclose(start, booked)
    np.testing.assert_allclose(end, booked + duration)
