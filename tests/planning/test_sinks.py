from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from equiptwin.planning.sinks import (
    CSV_COLUMNS,
    DeliveryError,
    FileSink,
    MemorySink,
    Sink,
    description,
    short_description,
)

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def ticket(revision: int = 1, key: str = "CT-AMS-01:xray_tube:L1", **extra: Any) -> dict[str, Any]:
    return {
        "dedup_key": key,
        "revision": revision,
        "status": "open",
        "priority": "high",
        "urgency": 2,
        "impact": 2,
        "system_id": "CT-AMS-01",
        "site": "AMS",
        "modality": "CT",
        "component": "xray_tube",
        "life_id": "L1",
        "opened_as_of": "2026-03-02",
        "as_of": "2026-03-02",
        "p_fail_7d": 0.1,
        "p_fail_14d": 0.3,
        "p_fail_30d": 0.6,
        "window_start": "2026-03-12",
        "window_end": "2026-03-24",
        "window_coverage": 0.8,
        "median_days_left": 20.0,
        "recommended_action": "replace X-ray tube",
        "slot": {
            "start": "2026-03-05T06:00:00+00:00",
            "end": "2026-03-05T12:00:00+00:00",
            "expected_cost": 1.0,
            "p_fail_before": 0.05,
            "displaced_exams": 3,
        },
        "evidence": ["arc rate 9/day", "filament current\nup 4%"],
        "model_version": "m1",
        "note": "Opened.",
    } | extra


@pytest.fixture(params=["memory", "file"])
def sink(request: pytest.FixtureRequest, tmp_path: Path) -> Sink:
    return MemorySink() if request.param == "memory" else FileSink(tmp_path / "drop")


def _received(sink: Sink) -> list[tuple[str, int]]:
    if isinstance(sink, MemorySink):
        return [(t["dedup_key"], t["revision"]) for t in sink.received]
    assert isinstance(sink, FileSink)
    lines = sink.jsonl_path.read_text().splitlines()
    return [(json.loads(x)["dedup_key"], json.loads(x)["revision"]) for x in lines]


def test_every_sink_applies_a_revision_once(sink: Sink) -> None:
    for t in (ticket(1), ticket(1), ticket(2), ticket(1), ticket(1, key="k2")):
        sink.send(t, NOW)
    assert _received(sink) == [
        ("CT-AMS-01:xray_tube:L1", 1),
        ("CT-AMS-01:xray_tube:L1", 2),
        ("k2", 1),
    ]


def test_file_sink_writes_json_lines_and_csv_in_step(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "drop")
    sink.send(ticket(1), NOW)
    sink.send(ticket(2, status="closed"), NOW)
    sink.send(ticket(2, status="closed"), NOW)
    with sink.csv_path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [(r["revision"], r["status"]) for r in rows] == [("1", "open"), ("2", "closed")]
    assert rows[0]["slot_start"] == "2026-03-05T06:00:00+00:00"
    assert rows[0]["evidence"] == "arc rate 9/day | filament current up 4%"
    assert len(sink.jsonl_path.read_text().splitlines()) == 2


def test_file_sink_recovers_from_a_torn_last_line(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "drop")
    sink.send(ticket(1), NOW)
    with sink.jsonl_path.open("a") as fh:  # a crash in the middle of writing revision 2
        fh.write(json.dumps(ticket(2))[:40])
    with sink.csv_path.open("a") as fh:
        fh.write("CT-AMS-01:xray_tube:L1,2,op")
    sink.send(ticket(2), NOW)
    sink.send(ticket(2), NOW)
    good = [json.loads(x) for x in sink.jsonl_path.read_text().splitlines() if x.endswith("}")]
    assert [t["revision"] for t in good] == [1, 2]
    with sink.csv_path.open(newline="") as fh:
        complete = [r for r in csv.DictReader(fh) if None not in r.values()]
    assert [r["revision"] for r in complete] == ["1", "2"]


def test_file_sink_failure_is_retryable_and_names_the_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "drop"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(DeliveryError, match="drop") as info:
        FileSink(blocker).send(ticket(), NOW)
    assert info.value.retryable


def test_texts_carry_the_figures_an_engineer_needs() -> None:
    text = description(ticket())
    for part in (
        "30% within 14 d",
        "2026-03-12",
        "replace X-ray tube",
        "arc rate 9/day",
        "m1",
        "revision 1",
        "2026-03-05T06:00:00+00:00",
    ):
        assert part in text
    assert "high risk" in short_description(ticket())
    assert "closed" in short_description(ticket(status="closed"))
