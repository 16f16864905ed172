"""Determinism: the same arguments write byte-identical fleets, whatever the workers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from equiptwin.errors import ConfigError
from equiptwin.sim.fleet import SIMULATION_FILE, read_spec, simulate_fleet
from tests.sim.conftest import SMALL


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_with_any_number_of_workers(small_fleet: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    simulate_fleet(again, SMALL, workers=2)
    assert _hashes(again) == _hashes(small_fleet)


def test_another_seed_writes_another_fleet(small_fleet: Path, tmp_path: Path) -> None:
    from dataclasses import replace

    other = tmp_path / "other"
    simulate_fleet(other, replace(SMALL, seed=SMALL.seed + 1))
    assert _hashes(other) != _hashes(small_fleet)


def test_spec_round_trips_through_simulation_json(small_fleet: Path) -> None:
    assert read_spec(small_fleet) == SMALL


@pytest.mark.slow
def test_sample_logs_regenerate_byte_for_byte(sample_logs: Path, tmp_path: Path) -> None:
    spec = read_spec(sample_logs)
    simulate_fleet(tmp_path / "again", spec, workers=2)
    assert _hashes(tmp_path / "again") == _hashes(sample_logs)


def test_out_dir_rules(small_fleet: Path, tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ConfigError, match="not empty"):
        simulate_fleet(busy, SMALL)
    with pytest.raises(ConfigError, match="not a simulated fleet"):
        simulate_fleet(busy, SMALL, force=True)
    assert (busy / "notes.txt").exists()
    with pytest.raises(ConfigError, match="workers"):
        simulate_fleet(tmp_path / "w", SMALL, workers=0)
    assert (small_fleet / SIMULATION_FILE).exists()
