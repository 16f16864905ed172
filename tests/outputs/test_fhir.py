from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from equiptwin.outputs.fhir import appointment_bundle, fhir_id, write_bundle

ROWS = [
    {
        "appointment_id": "A1",
        "system_id": "CT-AMS-02",
        "site": "AMS",
        "modality": "CT",
        "start": "2026-03-02T08:00:00+00:00",
        "duration_min": 20,
        "priority": "stat",
        "exam_code": "CTHEAD",
        "patient_ref": "h:1f2e",
        "status": "booked",
    },
    {
        "appointment_id": "B 2/x",
        "system_id": "CT-AMS-01",
        "site": "AMS",
        "modality": "CT",
        "start": "2026-03-03T09:30:00+00:00",
        "duration_min": 45,
        "priority": "outpatient",
        "exam_code": "CTABD",
        "patient_ref": "",
        "status": "cancelled",
    },
]


def test_bundle_is_a_fhir_r4_transaction_of_appointments(tmp_path: Path) -> None:
    bundle = json.loads(write_bundle(tmp_path / "b.json", ROWS).read_text())
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction"
    first, second = (e["resource"] for e in bundle["entry"])
    assert bundle["entry"][0]["request"] == {"method": "PUT", "url": "Appointment/A1"}
    assert first["resourceType"] == "Appointment" and first["status"] == "booked"
    assert second["status"] == "cancelled"
    for resource, row in zip((first, second), ROWS, strict=True):
        assert re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", resource["id"])
        start = dt.datetime.fromisoformat(resource["start"])
        end = dt.datetime.fromisoformat(resource["end"])
        assert end - start == dt.timedelta(minutes=resource["minutesDuration"])
        assert resource["participant"][0]["actor"]["reference"] == f"Device/{row['system_id']}"
        assert resource["extension"][0]["valueCode"] == row["priority"]
    # the schedule reader's convention: 1-3 stat, 4-6 inpatient, others outpatient
    assert first["priority"] in (1, 2, 3) and second["priority"] > 6
    assert first["participant"][1]["actor"]["identifier"]["value"] == "h:1f2e"
    assert len(second["participant"]) == 1


def test_ids_are_stable() -> None:
    assert fhir_id("A1") == "A1"
    assert fhir_id("B 2/x") == fhir_id("B 2/x") != "B 2/x"
    assert appointment_bundle(ROWS) == appointment_bundle(ROWS)
