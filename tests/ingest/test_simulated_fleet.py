"""Ingest the fleet simulator's output end to end (formats.md is the contract between them)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from equiptwin.sim.fleet import simulate_fleet
from equiptwin.sim.spec import FleetSpec, parse_mix
from equiptwin.store.archive import open_archive
from tests.ingest.helpers import run

#: Reasons a simulated fleet may legitimately produce (its planted wrinkles).
EXPECTED_REASONS = {"not_utf8", "unterminated_tail", "malformed", "orphan_continuation"}


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "fleet"
    spec = FleetSpec(
        n_systems=5,
        days=20,
        seed=11,
        start=dt.date(2025, 3, 20),
        mix=parse_mix("CT=0.4,XR=0.4,MR=0.2"),
        volume="reduced",
        booking_days=7,
        wear_scale=1.0,
    )
    simulate_fleet(out, spec)
    return out


def test_simulated_fleet_ingests_cleanly(simulated: Path, tmp_path: Path, secret: str) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    summary = run(url, simulated)
    assert summary.rows["systems"] == 5
    assert summary.rows["events"] > 1000 and summary.rows["appointments"] > 0
    reasons = {r for by_reason in summary.quarantined.values() for r in by_reason}
    assert reasons <= EXPECTED_REASONS, summary.quarantined
    assert set(summary.quarantined) <= {"events", "exposures", "cryo"}
    # Every simulated life is a stored life starting on its installation day; the CMMS
    # export also holds the replacement that installed each first life, so the stored
    # lives may begin with the system's original component, ending that day.
    truth = pd.read_csv(simulated / "_truth" / "lives.csv")
    with sa.create_engine(url).connect() as conn:
        lives = conn.execute(
            sa.text("SELECT system_id, installed_on, ended_on, component FROM component_lives")
        ).all()
    stored = {(s, str(d)) for s, d, _e, _c in lives}
    simulated_lives = set(zip(truth["system_id"], truth["installed_on"], strict=True))
    assert simulated_lives <= stored
    first = truth.groupby("system_id")["installed_on"].min()
    for system_id, installed_on, ended_on, _c in lives:
        if (system_id, str(installed_on)) not in simulated_lives:
            assert str(ended_on) == first[system_id]
    assert {s for s, _, _e, c in lives if c == "coldhead"} == set(
        truth.loc[truth["component"] == "coldhead", "system_id"]
    )
    events = open_archive(sa.create_engine(url), "archive").read_events()
    assert events["ts"].is_monotonic_increasing or events.groupby("system_id")["ts"].size().all()
    assert run(url, simulated).lines == 0
