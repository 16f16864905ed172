"""X-ray tube physics: each indicator moves the way domain.md says."""

from __future__ import annotations

import numpy as np
import pytest

from equiptwin.twin.xray_tube import RADIOGRAPHY_REFERENCE, STRETCH_REFERENCE_DAYS, XrayTubeModel
from tests.twin.conftest import weekly_workload

M = XrayTubeModel()


def test_thinner_filament_needs_more_current_for_the_same_ma() -> None:
    loss = np.linspace(0.0, 0.1, 11)
    current = M.filament_current_a(300.0, loss)
    assert np.all(np.diff(current) > 0)
    assert M.filament_current_a(400.0, 0.0) > M.filament_current_a(200.0, 0.0)
    np.testing.assert_allclose(
        M.reference_filament_a(300.0, current), M.filament_current_a(250.0, loss)
    )


def test_worn_bearing_runs_up_slower_and_coasts_down_shorter() -> None:
    b = np.linspace(0.0, 1.0, 11)
    assert np.all(np.diff(M.coastdown_s(b)) < 0)
    assert np.all(np.diff(M.runup_s(b)) > 0)


def test_worn_anode_runs_oil_hotter_for_the_same_load() -> None:
    assert M.oil_temp_c(400.0, 0.8) > M.oil_temp_c(400.0, 0.0) > M.oil_temp_c(100.0, 0.0)
    assert M.anode_temp_c(3e7, 60, 0.0) > M.anode_temp_c(1.5e7, 60, 0.0)


def test_exam_by_exam_oil_settles_at_the_steady_temperature() -> None:
    energy_j, gap_s = 2.5e5, 600.0
    oil = 25.0
    for _ in range(400):
        oil = float(M.oil_temp_after_exam_c(oil, energy_j, gap_s, 0.3))
    # average over one exam cycle of the saw-tooth equals the steady state at mean power
    steady = float(M.oil_temp_c(energy_j / gap_s, 0.3))
    after = oil
    before = float(M.oil_temp_after_exam_c(oil, 0.0, gap_s, 0.3))
    assert before < steady < after


def test_arcs_climb_over_weeks_before_a_vacuum_failure() -> None:
    days = 365 * 12
    res = M.simulate(weekly_workload(M, days), 250, np.random.default_rng(21))
    vac = np.flatnonzero(res.failure_mode == M.events.index("vacuum_arcing"))
    assert vac.size > 20
    arcs = res.output("arc_count")
    early = [
        np.nanmean(arcs[i, max(0, d - 400) : d - 300])
        for i, d in zip(vac, res.failure_day[vac], strict=True)
    ]
    late = [np.nanmean(arcs[i, d - 14 : d]) for i, d in zip(vac, res.failure_day[vac], strict=True)]
    assert np.median(late) > 5 * np.median(early)


def test_no_exams_no_measurements_and_no_arcs() -> None:
    rng = np.random.default_rng(0)
    x = M.initial_state(3, rng)
    y = M.observe(x, np.zeros((3, 4)), np.ones((3, 4)), rng)
    assert np.isnan(y[:, :3]).all()
    assert np.all(y[:, 3] == 0)


def test_calibration_matches_published_tube_lives() -> None:
    days = 365 * 14
    res = M.simulate(weekly_workload(M, days), 300, np.random.default_rng(22))
    years = np.where(res.failed, res.failure_day, days) / 365
    assert 4.0 < np.median(years) < 8.0
    scan_s = years * 365 * 5 / 7 * 500
    assert 0.4e6 < np.median(scan_s) < 1.6e6
    share = np.bincount(res.failure_mode[res.failed], minlength=5) / res.failed.sum()
    assert np.all(share > 0.03)  # every mode, sudden included, occurs


def test_radiography_reference_gives_tube_lives_under_radiography_load() -> None:
    xr = XrayTubeModel(**RADIOGRAPHY_REFERENCE)
    days = 365 * 14
    w = np.zeros((days, 4))
    w[(np.arange(days) % 7) < 5] = [120.0, 12.0, 4.0e5, 400.0]
    res = xr.simulate(w, 200, np.random.default_rng(24))
    years = np.where(res.failed, res.failure_day, days) / 365
    assert 4.0 < np.median(years) < 8.0


def test_wear_long_past_failure_stays_finite() -> None:
    rng = np.random.default_rng(5)
    x = M.initial_state(4, rng)
    x[:, :4] = [[0.2, 3.0, 5.0, 4.0]] * 4  # every wear far past its limit
    theta = M.sample_life_parameters(4, rng) * 50.0
    u = weekly_workload(M, 7, scale=3.0)[0][None].repeat(4, axis=0)
    with np.errstate(over="raise", invalid="raise"):
        for _ in range(2000):
            x = M.next_state(x, u, theta, rng)
    assert np.isfinite(x).all()


def test_radiography_aec_reads_anode_wear_against_the_first_logged_weeks() -> None:
    xr = XrayTubeModel(**RADIOGRAPHY_REFERENCE)
    assert np.all(np.diff(xr.exposure_stretch(np.linspace(0.0, 1.0, 11))) > 0)
    assert M.exposure_stretch(0.9) == 1.0  # CT: dose modulation, not exposure time
    x = xr.initial_state(2, np.random.default_rng(0))
    x[:, 3] = [0.2, 0.6]
    u = np.array([[120.0, 12.0, 4e5, 400.0]] * 2)
    at_first = xr.first_data(x)
    assert at_first[:, 4].tolist() == [0.2, 0.6]
    stretch = xr.expected_output(at_first, u, np.ones((2, 4)))[
        :, xr.outputs.index("exposure_stretch")
    ]
    assert stretch == pytest.approx(1.0)  # read against itself
    worn = at_first.copy()
    worn[:, 3] += 0.3
    later = xr.expected_output(worn, u, np.ones((2, 4)))[:, xr.outputs.index("exposure_stretch")]
    assert np.all(later > 1.0)
    assert later[0] > later[1]  # the same wear stretches less against a worn reference


def test_anode_reference_is_the_mean_over_the_reference_days() -> None:
    """As the features' reference is the mean exposure time of the first weeks of data."""
    xr = XrayTubeModel(**RADIOGRAPHY_REFERENCE)
    rng = np.random.default_rng(3)
    u = np.array([[120.0, 12.0, 4e5, 400.0]] * 3)
    theta = np.full((3, 4), 20.0)  # fast wear, so the mean differs from the first day
    before = xr.initial_state(3, rng)
    for _ in range(5):  # no data yet (as the simulator runs): no reference
        before = xr.next_state(before, u, theta, rng)
    assert (before[:, 4] == 0.0).all() and (before[:, 5] == 0.0).all()
    x = xr.first_data(before)
    anode = [x[:, 3]]
    for _ in range(STRETCH_REFERENCE_DAYS + 20):
        x = xr.next_state(x, u, theta, rng)
        anode.append(x[:, 3])
    mean = np.mean(anode[:STRETCH_REFERENCE_DAYS], axis=0)
    assert x[:, 4] == pytest.approx(mean)
    assert (x[:, 5] == STRETCH_REFERENCE_DAYS).all()
    assert (x[:, 4] > anode[0]).all() and (x[:, 4] < anode[STRETCH_REFERENCE_DAYS]).all()
