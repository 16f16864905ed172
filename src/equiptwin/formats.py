"""The column contracts of the input files (``../shared/formats.md``), in one place.

The ingest mappings default to these names, the simulator writes them and the planner
exports reuse them, so a change to the contract is made here once.
"""

from __future__ import annotations

ASSET_COLUMNS: tuple[str, ...] = (
    "system_id",
    "site",
    "modality",
    "manufacturer",
    "model",
    "installed_on",
    "timezone",
    "tube_model",
    "tube_installed_on",
)
SERVICE_COLUMNS: tuple[str, ...] = (
    "work_order",
    "system_id",
    "opened_at",
    "closed_at",
    "kind",
    "component",
    "action",
    "failure",
    "downtime_h",
    "notes",
)
SCHEDULE_COLUMNS: tuple[str, ...] = (
    "appointment_id",
    "system_id",
    "site",
    "modality",
    "start",
    "duration_min",
    "priority",
    "exam_code",
    "patient_ref",
)
EXPOSURE_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "system_id",
    "exam_id",
    "protocol",
    "kvp",
    "ma",
    "exposure_s",
    "focal_spot",
    "filament_a",
    "oil_temp_c",
    "coastdown_s",
)
CRYO_FIELDS: tuple[str, ...] = (
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
)
PRIORITIES: tuple[str, ...] = ("stat", "inpatient", "outpatient")
"""Booking priorities, most urgent first."""
