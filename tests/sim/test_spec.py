from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest

from equiptwin.errors import ConfigError
from equiptwin.sim.spec import FleetSpec, draw_systems, parse_mix

GOOD = FleetSpec(n_systems=20, days=30, seed=1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"n_systems": 0}, "`systems`", id="no-systems"),
        pytest.param({"days": 0}, "`days`", id="no-days"),
        pytest.param({"seed": -1}, "`seed`", id="negative-seed"),
        pytest.param({"volume": "huge"}, "`volume`", id="volume"),
        pytest.param({"booking_days": -1}, "`booking_days`", id="bookings"),
        pytest.param({"wear_scale": 0.0}, "`wear_scale`", id="wear"),
        pytest.param({"mix": (("CT", 1.0), ("CT", 1.0))}, "`mix`", id="mix-twice"),
        pytest.param({"mix": (("PET", 1.0),)}, "`mix`", id="mix-unknown"),
        pytest.param({"mix": (("CT", 0.0),)}, "`mix`", id="mix-zero"),
    ],
)
def test_check_names_the_argument(change: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        replace(GOOD, **change).check()  # type: ignore[arg-type]


def test_parse_mix() -> None:
    assert parse_mix("ct=0.5, XR=0.5") == (("CT", 0.5), ("XR", 0.5))
    with pytest.raises(ConfigError, match="MODALITY=SHARE"):
        parse_mix("CT")
    with pytest.raises(ConfigError, match="MODALITY=SHARE"):
        parse_mix("CT=lots")


def test_draw_systems_follows_the_mix_and_is_deterministic() -> None:
    spec = replace(GOOD, mix=(("CT", 0.5), ("XR", 0.25), ("MR", 0.25)))
    systems = draw_systems(spec, np.random.default_rng(3))
    again = draw_systems(spec, np.random.default_rng(3))
    assert systems == again
    counts = {m: sum(s.modality == m for s in systems) for m in ("CT", "XR", "MR")}
    assert counts == {"CT": 10, "XR": 5, "MR": 5}
    assert len({s.system_id for s in systems}) == len(systems)
    assert [s.system_id for s in systems] == sorted(s.system_id for s in systems)
    assert {s.legacy_layout for s in systems} == {True, False}
    for s in systems:
        assert s.installed_on < spec.start
        assert s.component_age_days <= (spec.start - s.installed_on).days
        assert (s.tube_model == "") == (s.modality == "MR")


def test_every_named_modality_gets_a_system() -> None:
    spec = replace(GOOD, n_systems=3, mix=(("CT", 0.9), ("XR", 0.05), ("MR", 0.05)))
    systems = draw_systems(spec, np.random.default_rng(0))
    assert {s.modality for s in systems} == {"CT", "XR", "MR"}


def test_spec_end_day() -> None:
    assert replace(GOOD, start=dt.date(2025, 1, 1), days=365).end == dt.date(2025, 12, 31)
