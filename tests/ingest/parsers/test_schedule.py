from __future__ import annotations

import json
from collections.abc import Callable

from equiptwin.ingest.parsers.base import BlockContext
from equiptwin.ingest.parsers.schedule import parse_schedule_csv, parse_schedule_fhir
from tests.ingest.fleet import SCHEDULE


def _bundle() -> bytes:
    def appointment(i: int, device: str, priority: object) -> dict[str, object]:
        return {
            "resource": {
                "resourceType": "Appointment",
                "id": f"A-{i}",
                "status": "booked",
                "start": "2026-03-02T09:00:00+01:00",
                "minutesDuration": 20,
                "priority": priority,
                "serviceType": [{"coding": [{"code": "CT-HEAD"}]}],
                "participant": [
                    {"actor": {"reference": f"Device/{device}"}},
                    {"actor": {"reference": "Patient/P-778812", "display": "DOE^JANE"}},
                ],
            }
        }

    entries = [
        appointment(1, "CT-AMS-01", 1),
        appointment(2, "MR-AMS-01", 9),
        appointment(3, "NOPE", 5),
        {"resource": {"resourceType": "Patient", "id": "x"}},
    ]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


def test_fhir_bundle_gives_the_same_columns(make_ctx: Callable[..., BlockContext]) -> None:
    ctx = make_ctx("schedule_fhir")
    frame = parse_schedule_fhir(_bundle(), ctx).frame
    assert frame is not None
    assert frame["appointment_id"].tolist() == ["A-1", "A-2"]
    assert frame["priority"].tolist() == ["stat", "outpatient"]
    assert frame["exam_code"].tolist() == ["CT-HEAD", "CT-HEAD"]
    assert frame["site"].tolist() == ["AMS", "AMS"]
    assert frame["duration_min"].tolist() == [20, 20]
    assert str(frame["start"].iloc[0]) == "2026-03-02 08:00:00"
    assert frame["patient_ref"].str.len().tolist() == [64, 64]
    assert sorted(r.reason for r in ctx.quarantine.items) == ["bad_value", "unknown_system"]
    assert "DOE" not in frame.to_csv()


def test_a_truncated_bundle_is_refused_whole(make_ctx: Callable[..., BlockContext]) -> None:
    ctx = make_ctx("schedule_fhir")
    data = _bundle()
    parsed = parse_schedule_fhir(data[: len(data) // 2], ctx)
    assert parsed.frame is not None and parsed.frame.empty  # nothing half-read is kept
    (item,) = [r for r in ctx.quarantine.items if r.reason == "malformed"]
    assert item.line == 0 and "one JSON Bundle" in item.message


def test_csv_patient_columns_are_dropped_and_refs_hashed(
    make_ctx: Callable[..., BlockContext],
) -> None:
    ctx = make_ctx("schedule")
    frame = parse_schedule_csv(SCHEDULE.encode(), ctx).frame
    assert frame is not None
    assert "patient_name" not in frame.columns and "birth_date" not in frame.columns
    assert frame["patient_ref"].iloc[0] == frame["patient_ref"].iloc[0] != "P-778812"
    quarantined = ctx.quarantine.items[0]
    assert quarantined.reason == "bad_value" and "P-778812" not in quarantined.raw
    assert "DOE" not in quarantined.raw
