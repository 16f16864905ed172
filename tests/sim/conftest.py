from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from equiptwin.sim.fleet import simulate_fleet
from equiptwin.sim.spec import FleetSpec

SAMPLE_LOGS = Path(__file__).resolve().parents[2] / "sample_logs"

# Six systems over 40 days across the October 2025 daylight-saving change, fast wear.
SMALL = FleetSpec(
    n_systems=6,
    days=40,
    seed=11,
    start=dt.date(2025, 10, 10),
    mix=(("CT", 0.4), ("XR", 0.3), ("MR", 0.3)),
    volume="reduced",
    booking_days=14,
    wear_scale=30.0,
)


@pytest.fixture(scope="session")
def small_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "fleet"
    simulate_fleet(out, SMALL)
    return out


@pytest.fixture(scope="session")
def sample_logs() -> Path:
    if not (SAMPLE_LOGS / "SIMULATION.json").exists():
        pytest.fail("sample_logs/ has no SIMULATION.json; run `make sample-logs`")
    return SAMPLE_LOGS
