"""The ground truth is separate from the inputs and agrees with the CMMS and bookings."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.sim.reader import read_bytes

MAX_SAMPLE_BYTES = 25_000_000


@pytest.fixture(params=["small", "sample"], ids=["small_fleet", "sample_logs"])
def fleet(request: pytest.FixtureRequest) -> Path:
    name = "small_fleet" if request.param == "small" else "sample_logs"
    return Path(request.getfixturevalue(name))


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_truth_lives_in_its_own_folder(fleet: Path) -> None:
    truth = fleet / "_truth"
    assert sorted(p.name for p in truth.iterdir()) == [
        "README.md",
        "daily_state.parquet",
        "lives.csv",
    ]
    top = {p.name for p in fleet.iterdir()}
    assert top <= {
        "assets.csv",
        "service_records.csv",
        "schedule.csv",
        "schedule.fhir.json",
        "events",
        "exposures",
        "cryo",
        "_truth",
        "SIMULATION.json",
    }


def test_every_ended_life_has_its_replacement_work_order(fleet: Path) -> None:
    lives = _rows(fleet / "_truth" / "lives.csv")
    replaced = [r for r in _rows(fleet / "service_records.csv") if r["action"] == "replaced"]
    start = dt.date.fromisoformat(json.loads((fleet / "SIMULATION.json").read_text())["start"])
    orders = [r for r in replaced if dt.date.fromisoformat(r["closed_at"][:10]) > start]
    installs = [r for r in replaced if r not in orders]
    ended = [life for life in lives if life["ended_on"]]
    assert len(orders) == len(ended)
    # The CMMS history also holds the installation of each first life (before the logs).
    first = {life["system_id"]: life["installed_on"] for life in reversed(lives)}
    for order in installs:
        assert order["notes"].startswith("New ")
        assert order["closed_at"][:10] == first[order["system_id"]]
    for life in ended:
        kind = "corrective" if life["end_reason"] == "failure" else "preventive"
        failure = "yes" if life["end_reason"] == "failure" else "no"
        match = [
            o
            for o in orders
            if o["system_id"] == life["system_id"]
            and o["component"] == life["component"]
            and o["kind"] == kind
            and o["failure"] == failure
            and abs(
                (
                    dt.date.fromisoformat(o["opened_at"][:10])
                    - dt.date.fromisoformat(life["ended_on"])
                ).days
            )
            <= 1
        ]
        assert len(match) == 1, life["life_id"]
    # Lives of one system follow each other without overlap.
    by_system: dict[str, list[dict[str, str]]] = {}
    for life in lives:
        by_system.setdefault(life["system_id"], []).append(life)
    for chain in by_system.values():
        for before, after in itertools.pairwise(chain):
            assert before["ended_on"] and before["ended_on"] <= after["installed_on"]


def test_daily_state_matches_the_lives(fleet: Path) -> None:
    daily = pd.read_parquet(fleet / "_truth" / "daily_state.parquet")
    lives = pd.read_csv(fleet / "_truth" / "lives.csv", keep_default_na=False)
    assert set(daily["life_id"]) <= set(lives["life_id"])
    assert daily["health"].between(0, 1).all()
    for life_id, part in daily.groupby("life_id"):
        wear = part["bearing_wear"] if part["bearing_wear"].notna().all() else part["coldhead_wear"]
        assert wear.is_monotonic_increasing, life_id
    failed = lives[lives["end_reason"] == "failure"]
    last = daily.groupby("life_id")["date"].max()
    for _, life in failed.iterrows():
        assert str(last[life["life_id"]]) == life["ended_on"]


def test_exposures_agree_with_bookings(small_fleet: Path) -> None:
    booked = {r["appointment_id"]: r for r in _rows(small_fleet / "schedule.csv")}
    if (small_fleet / "schedule.fhir.json").exists():
        bundle = json.loads((small_fleet / "schedule.fhir.json").read_text(encoding="utf-8"))
        for e in bundle["entry"]:
            a = e["resource"]
            device = next(p for p in a["participant"] if "Device/" in p["actor"]["reference"])
            booked[a["id"]] = {"system_id": device["actor"]["display"], "start": a["start"]}
    checked = 0
    for path in (small_fleet / "exposures").glob("*/*"):
        for row in csv.DictReader(io.StringIO(read_bytes(path).decode())):
            appt = booked.get("AP" + row["exam_id"].removeprefix("AC"))
            if appt is None:
                continue  # exam before the export window
            assert appt["system_id"] == row["system_id"]
            start = dt.datetime.fromisoformat(appt["start"])
            assert (
                start <= dt.datetime.fromisoformat(row["timestamp"]) < start + dt.timedelta(hours=2)
            )
            checked += 1
    assert checked > 100


def test_sample_fleet_is_small_and_eventful(sample_logs: Path) -> None:
    size = sum(p.stat().st_size for p in sample_logs.rglob("*") if p.is_file())
    assert size <= MAX_SAMPLE_BYTES
    lives = pd.read_csv(sample_logs / "_truth" / "lives.csv", keep_default_na=False)
    assert ((lives["end_reason"] == "failure") & (lives["has_precursor"] == "yes")).sum() >= 6
    assert (lives["end_reason"] == "preventive").sum() >= 2
    assert set(lives["component"]) == {"xray_tube", "coldhead"}
    daily = pd.read_parquet(sample_logs / "_truth" / "daily_state.parquet")
    last = daily[daily["date"] == daily["date"].max()]
    assert (last["health"] < 0.15).any(), "no component at risk at the end for the demo"
