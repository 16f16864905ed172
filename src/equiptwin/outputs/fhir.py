"""Revised bookings as a FHIR R4 ``Bundle`` of ``Appointment`` resources.

The bundle is a ``transaction`` of ``PUT Appointment/<id>`` entries, so a booking system
applies it idempotently. Each Appointment carries ``status`` (``booked`` or
``cancelled``), ``start``/``end`` with offsets, ``minutesDuration``, the exam code as
``serviceType``, the system as a ``Device`` participant and the patient as an identifier
(the keyed hash the store holds). ``priority`` is the FHIR number (stat 1, inpatient 4,
outpatient 7, the convention the schedule reader uses) with the word in an extension.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PRIORITY_NUMBER: Mapping[str, int] = {"stat": 1, "inpatient": 4, "outpatient": 7}
PRIORITY_EXTENSION = "https://equiptwin.org/fhir/StructureDefinition/exam-priority"
PATIENT_REF_SYSTEM = "urn:equiptwin:patient-ref"
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def fhir_id(appointment_id: str) -> str:
    """Return ``appointment_id`` if it is a valid FHIR id, else a stable hash of it."""
    if _FHIR_ID.match(appointment_id):
        return appointment_id
    return "eq-" + hashlib.sha256(appointment_id.encode("utf-8")).hexdigest()[:40]


def appointment(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return one Appointment resource for a revised booking row.

    Parameters
    ----------
    row : Mapping
        A row of :func:`equiptwin.outputs.exports.revised_booking_rows`.

    Returns
    -------
    dict
        The FHIR R4 Appointment.
    """
    start = dt.datetime.fromisoformat(str(row["start"]))
    end = start + dt.timedelta(minutes=int(row["duration_min"]))
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": fhir_id(str(row["appointment_id"])),
        "identifier": [{"system": "urn:equiptwin:appointment-id", "value": row["appointment_id"]}],
        "status": "cancelled" if row.get("status") == "cancelled" else "booked",
        "priority": PRIORITY_NUMBER[row["priority"]],
        "extension": [{"url": PRIORITY_EXTENSION, "valueCode": row["priority"]}],
        "serviceType": [{"coding": [{"code": row["exam_code"]}]}],
        "start": start.isoformat(),
        "end": end.isoformat(),
        "minutesDuration": int(row["duration_min"]),
        "participant": [
            {"actor": {"reference": f"Device/{row['system_id']}"}, "status": "accepted"}
        ],
    }
    if row.get("patient_ref"):
        resource["participant"].append(
            {
                "actor": {
                    "identifier": {"system": PATIENT_REF_SYSTEM, "value": row["patient_ref"]}
                },
                "status": "accepted",
            }
        )
    return resource


def appointment_bundle(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Return the revised bookings as a FHIR R4 transaction ``Bundle``."""
    entries = []
    for row in rows:
        resource = appointment(row)
        entries.append(
            {
                "fullUrl": f"urn:equiptwin:appointment:{resource['id']}",
                "resource": resource,
                "request": {"method": "PUT", "url": f"Appointment/{resource['id']}"},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def write_bundle(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Write the bundle of ``rows`` as JSON to ``path`` atomically; return ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(appointment_bundle(rows), indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
