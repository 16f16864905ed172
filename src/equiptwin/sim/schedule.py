"""The booking system's export: ``schedule.csv`` and ``schedule.fhir.json``.

Sites in :data:`FHIR_SITES` export a FHIR R4 ``Bundle`` of ``Appointment`` resources, the
others a CSV; together they hold every booking once. The export covers the last
:data:`HISTORY_DAYS` log days and every future booking. The CSV carries two columns with
personal data (``patient_name``, ``birth_date``) that formats.md says are dropped on read;
the FHIR bundle names the patient in the participant's ``display``.

FHIR ``Appointment.priority`` is an unsigned integer in R4; the export uses 1 for
``stat``, 5 for ``inpatient`` and 9 for ``outpatient``, and ``appointmentType`` is
``EMERGENCY`` for stat exams and ``ROUTINE`` otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from equiptwin.formats import PRIORITIES
from equiptwin.formats import SCHEDULE_COLUMNS as BOOKED_COLUMNS
from equiptwin.sim.localtime import LocalDay
from equiptwin.sim.spec import FleetSpec, SystemSpec
from equiptwin.sim.workload import PROTOCOLS, Bookings

SCHEDULE_COLUMNS: tuple[str, ...] = (*BOOKED_COLUMNS, "patient_name", "birth_date")
FHIR_SITES: frozenset[str] = frozenset({"LON"})
FHIR_PRIORITY: dict[str, int] = {"stat": 1, "inpatient": 5, "outpatient": 9}
HISTORY_DAYS = 28

_FAMILY = (
    "DOE",
    "JANSEN",
    "VOS",
    "SMITH",
    "BAKKER",
    "VISSER",
    "JONES",
    "MEIJER",
    "TAYLOR",
    "MULDER",
)
_GIVEN = ("JANE", "JOHN", "ANNA", "PIETER", "EMMA", "DAAN", "SOPHIE", "LUCAS", "OLIVIA", "NOAH")


def patient_name(patient: int) -> str:
    """Return a DICOM person name (``FAMILY^GIVEN``) for a patient number."""
    return f"{_FAMILY[patient % len(_FAMILY)]}^{_GIVEN[(patient // 10) % len(_GIVEN)]}"


def appointment_id(system: SystemSpec, booking: int) -> str:
    """Return the fleet-wide appointment id of a booking (also the exam accession)."""
    return f"{system.index:03d}{booking:07d}"


@dataclass(frozen=True)
class Booked:
    """One exported booking, with its UTC start for ordering."""

    utc_s: float
    row: tuple[str, ...]
    fhir: bool


def export_rows(
    spec: FleetSpec, system: SystemSpec, bookings: Bookings, status: np.ndarray
) -> list[Booked]:
    """Return the export rows of one system's bookings in the export window.

    Parameters
    ----------
    status : ndarray of str
        FHIR status of each booking (``fulfilled``, ``noshow``, ``cancelled``, ``booked``).
    """
    first = max(0, spec.days - HISTORY_DAYS)
    protocols = PROTOCOLS[system.modality]
    fhir = system.site in FHIR_SITES
    out = []
    days = bookings.day
    bounds = np.searchsorted(days, np.arange(first, int(days.max(initial=0)) + 2))
    for k, (lo, hi) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)):
        if hi <= lo:
            continue
        local = LocalDay.of(spec.start + dt.timedelta(days=first + k), system.timezone)
        at = bookings.start_s[lo:hi]
        stamps = local.iso_seconds(at)
        utc = local.utc_s(at).tolist()
        for j, i in enumerate(range(lo, hi)):
            patient = int(bookings.patient[i])
            born = dt.date(1930, 1, 1) + dt.timedelta(days=patient % 30000)
            row = (
                f"AP{appointment_id(system, i)}",
                system.system_id,
                system.site,
                system.modality,
                stamps[j],
                str(int(bookings.duration_min[i])),
                PRIORITIES[int(bookings.priority[i])],
                protocols[int(bookings.protocol[i])].exam_code,
                f"PT{patient:08d}",
                patient_name(patient),
                born.isoformat(),
                str(status[i]),
            )
            out.append(Booked(utc[j], row, fhir))
    return out


def schedule_csv_rows(booked: list[Booked]) -> list[tuple[str, ...]]:
    """Return the CSV rows (in :data:`SCHEDULE_COLUMNS` order) of the CSV-exporting sites."""
    return [b.row[: len(SCHEDULE_COLUMNS)] for b in booked if not b.fhir]


def fhir_bundle(booked: list[Booked]) -> str:
    """Return the FHIR R4 Bundle (JSON text) of the FHIR-exporting sites' bookings."""
    entries = [_appointment(b.row) for b in booked if b.fhir]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "total": len(entries),
        "entry": entries,
    }
    return json.dumps(bundle, separators=(",", ":"), ensure_ascii=False) + "\n"


def _appointment(row: tuple[str, ...]) -> dict[str, Any]:
    appt_id, system_id, _site, _mod, start, minutes, priority, code, ref, name, _born, status = row
    start_at = dt.datetime.fromisoformat(start)
    end = (start_at + dt.timedelta(minutes=int(minutes))).isoformat()
    return {
        "fullUrl": f"Appointment/{appt_id}",
        "resource": {
            "resourceType": "Appointment",
            "id": appt_id,
            "status": status,
            "appointmentType": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0276",
                        "code": "EMERGENCY" if priority == "stat" else "ROUTINE",
                    }
                ]
            },
            "serviceType": [{"coding": [{"system": "urn:equiptwin:exam-code", "code": code}]}],
            "priority": FHIR_PRIORITY[priority],
            "start": start,
            "end": end,
            "minutesDuration": int(minutes),
            "participant": [
                {
                    "actor": {"reference": f"Device/{system_id}", "display": system_id},
                    "status": "accepted",
                },
                {"actor": {"reference": f"Patient/{ref}", "display": name}, "status": "accepted"},
            ],
        },
    }
