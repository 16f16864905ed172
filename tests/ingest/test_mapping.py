from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from equiptwin.config import load_pipeline
from equiptwin.errors import ConfigError
from equiptwin.ingest.mapping import load_mappings
from equiptwin.store.archive import open_archive
from tests.ingest.fleet import write_fleet
from tests.ingest.helpers import run

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"exposures": {"delimiter": ";;"}}, "mappings.exposures"),
        ({"exposures": {"columns": {"kvp": 3}}}, "mappings.exposures.columns.kvp"),
        ({"exposures": {"columns": {"kv_peak": "kV"}}}, "mappings.exposures.columns.kv_peak"),
        ({"exposures": {"timezone": "Mars/Olympus"}}, "mappings.exposures.timezone"),
        ({"events": {"codes": {"12a": "x"}}}, "mappings.events.codes.12a"),
        ({"events": {"drop_params": "patient"}}, "mappings.events.drop_params"),
        ({"events": {"colour": "red"}}, "mappings.events.colour"),
        ({"telemetry": {}}, "mappings.telemetry"),
        ({"cryo": {"fields": {"he_level_pct": ""}}}, "mappings.cryo.fields.he_level_pct"),
    ],
    ids=lambda v: str(v)[:40],
)
def test_bad_mapping_names_the_key(section: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=f"`{key}"):
        load_mappings({"mappings": section})


def test_shipped_pipelines_are_valid() -> None:
    for name in ("default.toml", "example_vendor_b.toml"):
        mappings = load_mappings(load_pipeline(ROOT / "pipelines" / name).sections)
        assert 2301 in mappings.events.codes


def _vendor_b(text: str) -> str:
    """Rewrite the formats.md exposure CSV in vendor B's layout (example_vendor_b.toml)."""

    lines = text.splitlines()
    header = (
        "Zeitpunkt;Anlage;Untersuchung;Protokoll;kV;mA;Zeit_s;Fokus;Heizstrom_A;"
        "Oeltemperatur_C;Auslaufzeit_s"
    )
    out = [header]
    for line in lines[1:]:
        cells = line.split(",")
        ts = pd.Timestamp(cells[0]).tz_convert("Europe/Amsterdam").strftime("%d.%m.%Y %H:%M:%S")
        out.append(";".join([ts, *(c.replace(".", ",") for c in cells[1:])]))
    return "\n".join(out) + "\n"


def test_second_csv_layout_is_configuration_not_code(tmp_path: Path) -> None:
    default_fleet = write_fleet(tmp_path / "a")
    vendor_fleet = write_fleet(tmp_path / "b")
    csv = vendor_fleet / "exposures" / "CT-AMS-01" / "2026-03.csv"
    csv.write_text(_vendor_b(csv.read_text()), encoding="utf-8")
    shutil.rmtree(vendor_fleet / "events")
    shutil.rmtree(default_fleet / "events")
    frames = []
    for fleet, pipeline in (
        (default_fleet, "default.toml"),
        (vendor_fleet, "example_vendor_b.toml"),
    ):
        url = f"sqlite:///{fleet.parent / (fleet.name + '.sqlite')}"
        summary = run(url, fleet, load_pipeline(ROOT / "pipelines" / pipeline))
        assert summary.quarantined["exposures"] == {"bad_number": 1}
        frames.append(open_archive(sa.create_engine(url), "archive").read_exposures())
    assert len(frames[0]) == 3
    assert frames[0].equals(frames[1])
