# ruff: noqa: E501 (fixture lines are kept whole, as the systems write them)
"""A small hand-written fleet with every wrinkle of formats.md, for the ingest tests."""

from __future__ import annotations

import gzip
from pathlib import Path

#: Personal data planted in the fixtures; none of it may reach the store or archive.
PERSONAL = ("DOE^JANE", "SMITH^JOHN", "Pieter Jansen", "Jansen", "1954-07-13", "P-778812")

ASSETS = """system_id,site,modality,manufacturer,model,installed_on,timezone,tube_model,tube_installed_on
CT-AMS-01,AMS,CT,Acme,Scan 64,2019-05-01,Europe/Amsterdam,TX-9,2025-01-10
XR-UTR-03,UTR,XR,Acme,Rad 2,2018-02-01,Europe/Amsterdam,RT-3,2024-06-01
MR-AMS-01,AMS,MR,Acme,Mag 3T,2020-09-15,Europe/Amsterdam,,
PET-AMS-01,AMS,PET,Acme,Pet 1,2020-01-01,Europe/Amsterdam,,
"""

SERVICE = """work_order,system_id,opened_at,closed_at,kind,component,action,failure,downtime_h,notes
WO-1,CT-AMS-01,2026-03-10T07:00:00+01:00,2026-03-10T15:00:00+01:00,corrective,xray_tube,replaced,yes,8,"tube arcing, replaced"
WO-2,CT-AMS-01,2026-06-01T07:00:00+02:00,2026-06-01T12:00:00+02:00,preventive,xray_tube,replaced,no,5,
WO-3,MR-AMS-01,2026-04-02T08:00:00+02:00,2026-04-03T10:00:00+02:00,corrective,coldhead,replaced,yes,26,
WO-4,MR-AMS-01,2026-04-20T08:00:00+02:00,2026-04-20T09:00:00+02:00,helium_fill,other,refilled,no,1,
WO-5,NOPE-01,2026-04-20T08:00:00+02:00,,inspection,other,inspected,no,,
WO-6,XR-UTR-03,not a date,,inspection,other,inspected,no,,
"""

SCHEDULE = """appointment_id,system_id,site,modality,start,duration_min,priority,exam_code,patient_ref,patient_name,birth_date
A-1,CT-AMS-01,AMS,CT,2026-03-02T09:00:00+01:00,20,outpatient,CT-HEAD,P-778812,DOE^JANE,1954-07-13
A-2,CT-AMS-01,AMS,CT,2026-03-02T09:30:00+01:00,30,stat,CT-CHEST,P-100200,Pieter Jansen,1960-01-01
A-3,MR-AMS-01,AMS,MR,2026-03-02T10:00:00+01:00,45,inpatient,MR-KNEE,P-300400,SMITH^JOHN,1970-02-02
A-4,MR-AMS-01,AMS,MR,2026-03-02T11:00:00+01:00,45,urgent,MR-KNEE,P-778812,DOE^JANE,1954-07-13
"""

CT_DAY1 = (
    (
        b"2026-03-02T08:14:22.118+01:00 CT-AMS-01 W TUBE 2301 Tube arc detected | kv=120 ma=300\n"
        b"2026-03-02T08:14:23.004+01:00 CT-AMS-01 I SW 9120 Reconstruction job finished | job=88123 patient=DOE^JANE\n"
        b"\n"
        b"2026-03-02T08:15:00.000+01:00 CT-AMS-01 E TUBE 2311 Emission current regulation error | ma_set=300 ma_act=270\n"
        b"  Traceback (most recent call last):\n"
        b"    at gen.regulate()\n"
        b"2026-03-02T08:16:00.000+01:00 CT-AMS-01 W TUBE 2310 Filament current out of tol\n"
        b"2026-03-02T08:16:30.0\n"
        b"2026-03-02T08:14:22.118+01:00 CT-AMS-01 W TUBE 2301 Tube arc detected | kv=120 ma=300\n"
        b"2026-03-02T08:14:23.004+01:00 CT-AMS-01 I SW 9120 Reconstruction job finished | job=88123 patient=DOE^JANE\n"
        b"2026-03-02T08:17:00.000+01:00 CT-AMS-01 W TUBE 2321 Anode coast-down time short | coastdown_s=41.5 patient_name=SMITH^JOHN\n"
    )
    + b"\xff\xfe\x00 garbage from a crash\n"
    + (
        b"2026-03-02T08:20:00.000+01:00 CT-AMS-01 I SYS 1001 System shutdown\n"
        b"2026-03-02T08:21:00.000+01:00 CT-AMS-01 I SYS 1000 Sys"
    )
)

CT_DAY2 = (
    "2026-03-03T07:00:00.000+01:00 CT-AMS-01 I SYS 1000 System startup\n"
    "2026-03-03T07:05:00.000+01:00 CT-AMS-01 I TUBE 2100 Tube warm-up completed | duration_s=310\n"
    "2026-03-03T07:30:00.000+01:00 CT-AMS-01 W TUBE 2301 Tube arc detected | kv=140 ma=350\n"
)

# Legacy layout around the fall-back of 25 Oct 2026 (02:00-03:00 happens twice in Amsterdam).
XR_FOLD = (
    "25-Oct-2026 01:50:00;XR-UTR-03;I;SYS;1000;System startup\n"
    "25-Oct-2026 02:30:00;XR-UTR-03;W;TUBE;2301;Tube arc detected;kv=81;ma=500\n"
    "25-Oct-2026 02:59:00;XR-UTR-03;W;TUBE;2301;Tube arc detected;kv=81;ma=500\n"
    "25-Oct-2026 02:10:00;XR-UTR-03;W;TUBE;2330;Tube housing temperature high;oil_c=71\n"
    "25-Oct-2026 03:05:00;XR-UTR-03;I;TUBE;2331;Cooling wait inserted;wait_s=30\n"
)
# ... and around the spring-forward of 29 Mar 2026 (02:00-03:00 does not exist).
XR_GAP = (
    "29-Mar-2026 01:59:00;XR-UTR-03;I;SYS;1000;System startup\n"
    "29-Mar-2026 02:30:00;XR-UTR-03;W;GEN;3105;kV regulation deviation;kv_set=81;kv_act=77\n"
    "29-Mar-2026 03:01:00;XR-UTR-03;I;SYS;1001;System shutdown\n"
)

EXPOSURES = """timestamp,system_id,exam_id,protocol,kvp,ma,exposure_s,focal_spot,filament_a,oil_temp_c,coastdown_s
2026-03-02T09:01:00+01:00,CT-AMS-01,E-1,HEAD,120,300,12.5,L,4.21,41.0,62.0
2026-03-02T09:31:00+01:00,CT-AMS-01,E-2,CHEST,120,400,15.0,L,4.25,44.5,
2026-03-02T09:31:00+01:00,CT-AMS-01,E-2,CHEST,120,400,15.0,L,4.25,44.5,
2026-03-02T10:01:00+01:00,CT-AMS-01,E-3,HEAD,12O,300,12.5,L,4.22,45.0,61.0
2026-03-02T10:31:00+01:00,CT-AMS-01,E-4,ABD,100,250,10.0,S,4.10,46.0,60.5
"""

CRYO = (
    '{"ts": "2026-03-02T08:10:00+01:00", "system_id": "MR-AMS-01", "he_level_pct": 78.4, '
    '"he_pressure_psi": 1.52, "coldhead_stage1_k": 42.1, "coldhead_stage2_k": 4.15, '
    '"compressor_on": true, "water_temp_c": 18.2, "water_flow_lpm": 7.9, "grad_coil_temp_c": 31.0}\n'
    '{"ts": "2026-03-02T08:20:00+01:00", "system_id": "MR-AMS-01", "he_level_pct": null, '
    '"he_pressure_psi": 1.53, "coldhead_stage2_k": 4.16, "compressor_on": true}\n'
    '{"ts": "2026-03-02T08:30:00+01:00", "system_id": "MR-AMS-01", "he_level_pct": "high"}\n'
    '{"ts": "2026-03-02T08:40:00+01:00", "system_id": "MR-AMS-01", "he_level\n'
    '{"ts": "2026-03-02T08:50:00+01:00", "system_id": "MR-AMS-01", "he_level_pct": 78.3, '
    '"compressor_on": false}\n'
)


def write_fleet(root: Path) -> Path:
    """Write the fleet under ``root`` and return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "assets.csv").write_text(ASSETS, encoding="utf-8")
    (root / "service_records.csv").write_text(SERVICE, encoding="utf-8")
    (root / "schedule.csv").write_text(SCHEDULE, encoding="utf-8")
    ct = root / "events" / "CT-AMS-01"
    ct.mkdir(parents=True)
    (ct / "2026-03-02.log").write_bytes(CT_DAY1)
    (ct / "2026-03-03.log.gz").write_bytes(gzip.compress(CT_DAY2.encode(), mtime=0))
    # 2026-03-04 is missing (network outage); a rotated copy of day 1 lies beside it.
    (ct / "2026-03-02.log.1").write_bytes(CT_DAY1)
    (ct / "notes.txt").write_text("not a log\n", encoding="utf-8")
    xr = root / "events" / "XR-UTR-03"
    xr.mkdir(parents=True)
    (xr / "2026-10-25.log").write_text(XR_FOLD, encoding="utf-8")
    (xr / "2026-03-29.log").write_text(XR_GAP, encoding="utf-8")
    exp = root / "exposures" / "CT-AMS-01"
    exp.mkdir(parents=True)
    (exp / "2026-03.csv").write_text(EXPOSURES, encoding="utf-8")
    cryo = root / "cryo" / "MR-AMS-01"
    cryo.mkdir(parents=True)
    (cryo / "2026-03-02.jsonl.gz").write_bytes(gzip.compress(CRYO.encode(), mtime=0))
    return root
