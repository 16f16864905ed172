"""Every file the simulator writes parses as formats.md says (contract over two fleets)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.sim.reader import read_bytes, read_event_file

ASSETS = (
    "system_id,site,modality,manufacturer,model,installed_on,timezone,tube_model,tube_installed_on"
)
EXPOSURES = (
    "timestamp,system_id,exam_id,protocol,kvp,ma,exposure_s,focal_spot,filament_a,oil_temp_c,"
    "coastdown_s"
)
SERVICE = "work_order,system_id,opened_at,closed_at,kind,component,action,failure,downtime_h,notes"
SCHEDULE = (
    "appointment_id,system_id,site,modality,start,duration_min,priority,exam_code,patient_ref"
)
CRYO_FIELDS = {
    "ts",
    "system_id",
    "he_level_pct",
    "he_pressure_psi",
    "coldhead_stage1_k",
    "coldhead_stage2_k",
    "compressor_on",
    "water_temp_c",
    "water_flow_lpm",
    "grad_coil_temp_c",
}


@pytest.fixture(params=["small", "sample"], ids=["small_fleet", "sample_logs"])
def fleet(request: pytest.FixtureRequest) -> Path:
    name = "small_fleet" if request.param == "small" else "sample_logs"
    return Path(request.getfixturevalue(name))


def _csv(path: Path) -> tuple[str, list[dict[str, str]]]:
    text = path.read_text(encoding="utf-8")
    header = text.split("\n", 1)[0]
    return header, list(csv.DictReader(io.StringIO(text)))


def _assets(fleet: Path) -> dict[str, dict[str, str]]:
    return {r["system_id"]: r for r in _csv(fleet / "assets.csv")[1]}


def test_assets_follow_the_registry_format(fleet: Path) -> None:
    header, rows = _csv(fleet / "assets.csv")
    assert header == ASSETS
    for r in rows:
        assert r["modality"] in {"CT", "XR", "MR"}
        ZoneInfo(r["timezone"])
        dt.date.fromisoformat(r["installed_on"])
        if r["modality"] == "MR":
            assert r["tube_model"] == "" and r["tube_installed_on"] == ""
        else:
            assert r["tube_model"]
            assert dt.date.fromisoformat(r["tube_installed_on"]) >= dt.date.fromisoformat(
                r["installed_on"]
            )


def test_per_system_folders_match_the_modality(fleet: Path) -> None:
    for system_id, r in _assets(fleet).items():
        assert list((fleet / "events" / system_id).glob("*.log*")), system_id
        has_exposures = (fleet / "exposures" / system_id).exists()
        has_cryo = (fleet / "cryo" / system_id).exists()
        assert has_exposures == (r["modality"] != "MR")
        assert has_cryo == (r["modality"] == "MR")


def test_event_lines_parse_in_the_system_s_layout(fleet: Path) -> None:
    assets = _assets(fleet)
    for folder in sorted((fleet / "events").iterdir()):
        layouts: set[str] = set()
        for path in sorted(folder.iterdir()):
            assert path.name.endswith((".log", ".log.gz")), path
            day = path.name.split(".")[0]
            parsed = read_event_file(path)
            assert not parsed.bad, f"{path}: {parsed.bad[:3]}"
            assert parsed.events, path
            for e in parsed.events:
                assert e.system == folder.name
                layouts.add(e.layout)
                if e.layout == "current":
                    assert e.ts.startswith(day)
                else:
                    local = dt.datetime.strptime(e.ts, "%d-%b-%Y %H:%M:%S").date()
                    assert local.isoformat() == day
        assert len(layouts) == 1, f"{folder.name} mixes layouts"
        assert folder.name in assets


def test_exposure_rows_parse(fleet: Path) -> None:
    for path in sorted((fleet / "exposures").glob("*/*")):
        text = read_bytes(path).decode("utf-8")
        rows = list(csv.reader(io.StringIO(text)))
        assert ",".join(rows[0]) == EXPOSURES
        assert len(rows) > 1
        month = path.name[:7]
        for row in rows[1:]:
            ts, system, exam, _protocol, kvp, ma, exposure, spot, fil, oil, coast = row
            at = dt.datetime.fromisoformat(ts)
            assert at.utcoffset() is not None
            assert ts[:7] == month and system == path.parent.name and exam
            assert 40 <= int(kvp) <= 150 and float(ma) > 0 and float(exposure) > 0
            assert spot in {"S", "L"}
            assert 1.0 < float(fil) < 10.0 and 10.0 < float(oil) < 120.0
            assert coast == "" or 0.0 < float(coast) < 200.0


def test_cryo_lines_are_json_every_ten_minutes(fleet: Path) -> None:
    for path in sorted((fleet / "cryo").glob("*/*")):
        lines = read_bytes(path).decode("utf-8").splitlines()
        assert len(lines) in (138, 144, 150), path  # 23-, 24- and 25-hour days
        previous = None
        for line in lines:
            record = json.loads(line)
            assert set(record) <= CRYO_FIELDS
            at = dt.datetime.fromisoformat(record["ts"])
            if previous is not None:
                assert (at - previous).total_seconds() == 600
            previous = at
            assert record["system_id"] == path.parent.name
            for key, value in record.items():
                if key == "compressor_on":
                    assert value in (True, False, None)
                elif key not in ("ts", "system_id"):
                    assert value is None or isinstance(value, float | int)


def test_service_records_use_the_vocabulary(fleet: Path) -> None:
    header, rows = _csv(fleet / "service_records.csv")
    assert header == SERVICE
    assets = _assets(fleet)
    assert len({r["work_order"] for r in rows}) == len(rows)
    for r in rows:
        assert r["system_id"] in assets
        assert r["kind"] in {"corrective", "preventive", "inspection", "helium_fill"}
        assert r["component"] in {
            "xray_tube",
            "coldhead",
            "compressor",
            "gradient_amp",
            "rf_amp",
            "detector",
            "generator",
            "other",
        }
        assert r["action"] in {"replaced", "repaired", "adjusted", "inspected", "refilled"}
        assert r["failure"] in {"yes", "no"}
        opened = dt.datetime.fromisoformat(r["opened_at"])
        closed = dt.datetime.fromisoformat(r["closed_at"])
        assert closed > opened
        assert float(r["downtime_h"]) == pytest.approx(
            (closed - opened).total_seconds() / 3600, abs=0.06
        )


def test_schedule_exports_follow_csv_and_fhir(fleet: Path) -> None:
    assets = _assets(fleet)
    ids: set[str] = set()
    if (fleet / "schedule.csv").exists():
        header, rows = _csv(fleet / "schedule.csv")
        assert header.startswith(SCHEDULE)
        for r in rows:
            assert r["system_id"] in assets and r["site"] == assets[r["system_id"]]["site"]
            assert r["priority"] in {"stat", "inpatient", "outpatient"}
            assert dt.datetime.fromisoformat(r["start"]).utcoffset() is not None
            assert int(r["duration_min"]) > 0 and r["patient_ref"]
            ids.add(r["appointment_id"])
    if (fleet / "schedule.fhir.json").exists():
        bundle = json.loads((fleet / "schedule.fhir.json").read_text(encoding="utf-8"))
        assert bundle["resourceType"] == "Bundle"
        for entry in bundle["entry"]:
            appt = entry["resource"]
            assert appt["resourceType"] == "Appointment"
            assert dt.datetime.fromisoformat(appt["start"]).utcoffset() is not None
            assert appt["minutesDuration"] > 0 and isinstance(appt["priority"], int)
            devices = [
                p["actor"]["reference"]
                for p in appt["participant"]
                if p["actor"]["reference"].startswith("Device/")
            ]
            assert len(devices) == 1 and devices[0].removeprefix("Device/") in assets
            assert appt["id"] not in ids
            ids.add(appt["id"])
    assert ids
