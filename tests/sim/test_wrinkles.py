"""Every real-world wrinkle of formats.md shows up in the committed sample fleet."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
from pathlib import Path

from equiptwin.sim.events import SIGNAL_CODES
from tests.sim.reader import read_bytes, read_event_file


def _event_files(fleet: Path) -> list[Path]:
    return sorted((fleet / "events").glob("*/*"))


def test_both_layouts_and_both_compressions(sample_logs: Path) -> None:
    layouts = set()
    for folder in (sample_logs / "events").iterdir():
        first = read_event_file(sorted(folder.iterdir())[-1])
        layouts.add(first.events[0].layout)
    assert layouts == {"current", "legacy"}
    names = [p.name for p in _event_files(sample_logs)]
    assert any(n.endswith(".log.gz") for n in names) and any(n.endswith(".log") for n in names)
    exposure_names = [p.name for p in (sample_logs / "exposures").glob("*/*")]
    assert any(n.endswith(".csv.gz") for n in exposure_names)
    assert any(n.endswith(".csv") for n in exposure_names)
    assert any(p.name.endswith(".jsonl.gz") for p in (sample_logs / "cryo").glob("*/*"))


def test_continuation_blank_truncated_and_non_utf8_lines(sample_logs: Path) -> None:
    files = [read_event_file(p) for p in _event_files(sample_logs)]
    assert sum(f.continuation for f in files) > 0
    assert sum(f.blank for f in files) > 0
    assert sum(f.truncated_tail for f in files) > 0
    assert sum(f.non_utf8 for f in files) > 0
    # The Latin-1 bytes sit in otherwise good lines: the rest of the file still parses.
    assert all(f.events for f in files)


def test_repeated_block(sample_logs: Path) -> None:
    def has_repeat(lines: list[bytes]) -> bool:
        for size in range(10, 201):
            for start in range(len(lines) - 2 * size + 1):
                if lines[start : start + size] == lines[start + size : start + 2 * size]:
                    return True
        return False

    hits = 0
    for path in _event_files(sample_logs)[:400]:
        lines = read_event_file(path).raw_lines
        if len(set(lines)) < len(lines) - 5 and has_repeat(lines):
            hits += 1
    assert hits > 0


def test_missing_days(sample_logs: Path) -> None:
    spec = json.loads((sample_logs / "SIMULATION.json").read_text(encoding="utf-8"))
    start = dt.date.fromisoformat(spec["start"])
    days = {start + dt.timedelta(days=i) for i in range(spec["days"])}
    missing = 0
    for folder in (sample_logs / "events").iterdir():
        present = {dt.date.fromisoformat(p.name[:10]) for p in folder.iterdir()}
        missing += len(days - present)
    assert missing > 0


def test_daylight_saving_fold_and_gap_in_legacy_files(sample_logs: Path) -> None:
    fold = gap_checked = 0
    for folder in (sample_logs / "events").iterdir():
        autumn = list(folder.glob("2025-10-26.log*"))
        spring = list(folder.glob("2026-03-29.log*"))
        if not autumn or not spring:
            continue
        events = read_event_file(autumn[0]).events
        if events[0].layout != "legacy":
            continue
        times = [e.ts[-8:] for e in events]
        fold += any(b < a for a, b in itertools.pairwise(times))
        spring_times = {e.ts[-8:-6] for e in read_event_file(spring[0]).events}
        hour = "01" if folder.name.split("-")[1] == "LON" else "02"
        assert hour not in spring_times, f"{folder.name} logs inside the spring gap"
        gap_checked += 1
    assert fold > 0 and gap_checked > 0


def test_unknown_codes_and_personal_data(sample_logs: Path) -> None:
    codes: set[int] = set()
    names = 0
    for path in _event_files(sample_logs)[::10]:
        for e in read_event_file(path).events:
            codes.add(e.code)
            names += bool({"patient", "patient_name"} & set(e.params))
    assert codes - set(SIGNAL_CODES), "no undocumented codes"
    assert {2301, 2399} <= codes | _all_codes(sample_logs, {2301, 2399})
    assert names > 0
    header = (sample_logs / "schedule.csv").read_text(encoding="utf-8").split("\n", 1)[0]
    assert "patient_name" in header and "birth_date" in header
    bundle = json.loads((sample_logs / "schedule.fhir.json").read_text(encoding="utf-8"))
    displays = [
        p["actor"].get("display", "")
        for e in bundle["entry"]
        for p in e["resource"]["participant"]
        if p["actor"]["reference"].startswith("Patient/")
    ]
    assert displays and all("^" in d for d in displays)


def _all_codes(fleet: Path, wanted: set[int]) -> set[int]:
    found: set[int] = set()
    for path in _event_files(fleet):
        text = read_bytes(path)
        found |= {c for c in wanted if f" {c} ".encode() in text or f";{c};".encode() in text}
        if found == wanted:
            break
    return found


def test_schedule_runs_past_the_last_log_day(sample_logs: Path) -> None:
    spec = json.loads((sample_logs / "SIMULATION.json").read_text(encoding="utf-8"))
    last = dt.date.fromisoformat(spec["start"]) + dt.timedelta(days=spec["days"] - 1)
    text = (sample_logs / "schedule.csv").read_text(encoding="utf-8")
    starts = [dt.date.fromisoformat(r["start"][:10]) for r in csv.DictReader(io.StringIO(text))]
    assert max(starts) > last + dt.timedelta(days=28)
    priorities = {r["priority"] for r in csv.DictReader(io.StringIO(text))}
    assert priorities == {"stat", "inpatient", "outpatient"}
