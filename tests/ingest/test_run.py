from __future__ import annotations

import datetime as dt
import gzip
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from equiptwin.store.archive import open_archive
from tests.ingest.fleet import PERSONAL, write_fleet
from tests.ingest.helpers import config, run, snapshot

ROOT = Path(__file__).resolve().parents[2]


def _events(url: str) -> pd.DataFrame:
    return open_archive(sa.create_engine(url), "archive").read_events()


def test_summary_counts_rows_and_quarantine_by_source_and_reason(
    fleet: Path, sqlite_url: str, secret: str
) -> None:
    summary = run(sqlite_url, fleet)
    assert summary.files == {"seen": 11, "read": 9, "unchanged": 0, "duplicate": 1, "rewritten": 0}
    assert summary.rows["systems"] == 3
    assert summary.rows["events"] == 17
    assert summary.rows["exposures"] == 3
    assert summary.rows["cryo"] == 3
    assert summary.rows["appointments"] == 3
    assert summary.duplicates_dropped == 3  # two repeated event lines, one repeated exposure row
    assert summary.quarantined == {
        "assets": {"bad_value": 1},
        "cryo": {"bad_value": 1, "malformed": 1},
        "events": {"malformed": 1, "not_utf8": 1, "unterminated_tail": 1},
        "exposures": {"bad_number": 1},
        "schedule": {"bad_value": 1},
        "service_records": {"bad_timestamp": 1, "unknown_system": 1},
        "unknown": {"unknown_file": 1},
    }
    assert summary.unknown_codes == {"9120": 1}
    assert summary.patient_refs_hashed
    text = summary.render()
    assert "events: malformed 1, not_utf8 1, unterminated_tail 1" in text
    engine = sa.create_engine(sqlite_url)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT summary FROM ingest_runs")).scalar_one()
        rows = conn.execute(sa.text("SELECT path, line, reason, raw FROM quarantine")).all()
    assert '"unterminated_tail": 1' in stored
    assert all(r.path and r.reason and r.raw for r in rows)
    assert ("events/CT-AMS-01/2026-03-02.log", 14, "unterminated_tail") in [
        (r.path, r.line, r.reason) for r in rows
    ]


def test_good_lines_beside_bad_ones_are_kept(fleet: Path, sqlite_url: str) -> None:
    run(sqlite_url, fleet)
    events = _events(sqlite_url)
    day1 = events[events["ts"].dt.date == dt.date(2026, 3, 2)]
    # every good line of the file with blank, cut, non-UTF-8 and repeated lines survives
    assert day1["code"].tolist() == [2301, 9120, 2311, 2310, 2321, 1001]
    assert day1["detail"].iloc[2] == "Traceback (most recent call last):\nat gen.regulate()"
    gz_day = events[events["ts"].dt.date == dt.date(2026, 3, 3)]
    assert len(gz_day) == 3


def test_second_run_over_unchanged_files_reads_nothing(fleet: Path, sqlite_url: str) -> None:
    run(sqlite_url, fleet)
    before = snapshot(sqlite_url)
    again = run(sqlite_url, fleet)
    assert again.lines == 0
    assert again.rows == {}
    assert again.files["unchanged"] + again.files["duplicate"] == again.files["seen"]
    assert snapshot(sqlite_url) == before


def test_appended_file_continues_at_its_offset(fleet: Path, sqlite_url: str) -> None:
    run(sqlite_url, fleet)
    log = fleet / "events" / "CT-AMS-01" / "2026-03-02.log"
    with log.open("ab") as fh:  # the held-back line is completed, one more line follows
        fh.write(
            b"tem startup\n"
            b"2026-03-02T08:30:00.000+01:00 CT-AMS-01 W TUBE 2301 Tube arc | kv=100 ma=200\n"
        )
    summary = run(sqlite_url, fleet)
    assert summary.lines == 2
    assert summary.rows["events"] == 2
    events = _events(sqlite_url)
    day1 = events[events["ts"].dt.date == dt.date(2026, 3, 2)]
    assert day1["code"].tolist() == [2301, 9120, 2311, 2310, 2321, 1001, 1000, 2301]
    engine = sa.create_engine(sqlite_url)
    with engine.connect() as conn:
        tails = conn.execute(
            sa.text("SELECT count(*) FROM quarantine WHERE reason = 'unterminated_tail'")
        ).scalar_one()
        counts = dict(
            conn.execute(
                sa.text(
                    "SELECT code, n FROM event_counts_daily "
                    "WHERE system_id = 'CT-AMS-01' AND day = '2026-03-02'"
                )
            ).all()
        )
    assert tails == 0
    assert counts[2301] == 2


def test_appended_exposure_file_keeps_its_header(fleet: Path, sqlite_url: str) -> None:
    run(sqlite_url, fleet)
    with (fleet / "exposures" / "CT-AMS-01" / "2026-03.csv").open("a") as fh:
        fh.write("2026-03-03T09:01:00+01:00,CT-AMS-01,E-9,HEAD,120,300,12.5,L,4.30,41.0,59.0\n")
    summary = run(sqlite_url, fleet)
    assert summary.rows["exposures"] == 1
    assert summary.quarantined == {}


def test_copied_and_rotated_duplicates_are_recognised(fleet: Path, sqlite_url: str) -> None:
    run(sqlite_url, fleet)
    src = fleet / "events" / "CT-AMS-01" / "2026-03-03.log.gz"
    shutil.copy(src, src.with_name("2026-03-03 (copy).log.gz"))
    plain = src.with_name("2026-03-03.log.old")
    plain.write_bytes(gzip.decompress(src.read_bytes()))
    summary = run(sqlite_url, fleet)
    assert summary.files["duplicate"] == 3
    assert summary.rows == {}
    engine = sa.create_engine(sqlite_url)
    with engine.connect() as conn:
        dup = conn.execute(
            sa.text("SELECT duplicate_of FROM ingest_manifest WHERE path LIKE '%(copy)%'")
        ).scalar_one()
    assert dup == "events/CT-AMS-01/2026-03-03.log.gz"


def test_rewritten_file_is_quarantined_not_double_counted(fleet: Path, sqlite_url: str) -> None:
    run(sqlite_url, fleet)
    log = fleet / "events" / "XR-UTR-03" / "2026-03-29.log"
    log.write_text(log.read_text().replace("GEN;3105", "GEN;3200") + "\n", encoding="utf-8")
    summary = run(sqlite_url, fleet)
    assert summary.files["rewritten"] == 1
    assert summary.quarantined == {"events": {"rewritten": 1}}
    assert summary.rows == {}
    assert run(sqlite_url, fleet).quarantined == {}


def test_component_lives_follow_replacements(fleet: Path, sqlite_url: str) -> None:
    run(sqlite_url, fleet)
    with sa.create_engine(sqlite_url).connect() as conn:
        lives = conn.execute(
            sa.text(
                "SELECT life_id, installed_on, ended_on, end_reason, end_work_order "
                "FROM component_lives ORDER BY life_id"
            )
        ).all()
    assert [tuple(map(str, r)) for r in lives] == [
        ("CT-AMS-01:xray_tube:1", "2025-01-10", "2026-03-10", "failure", "WO-1"),
        ("CT-AMS-01:xray_tube:2", "2026-03-10", "2026-06-01", "censored", "WO-2"),
        ("CT-AMS-01:xray_tube:3", "2026-06-01", "None", "None", "None"),
        ("MR-AMS-01:coldhead:1", "2020-09-15", "2026-04-02", "failure", "WO-3"),
        ("MR-AMS-01:coldhead:2", "2026-04-03", "None", "None", "None"),
        ("XR-UTR-03:xray_tube:1", "2024-06-01", "None", "None", "None"),
    ]


def test_personal_data_never_reaches_store_or_archive(
    fleet: Path, tmp_path: Path, secret: str
) -> None:
    url = f"sqlite:///{tmp_path / 'store' / 's.sqlite'}"
    summary = run(url, fleet)
    sa.create_engine(url).dispose()
    blobs = [p.read_bytes() for p in (tmp_path / "store").rglob("*") if p.is_file()]
    archive_text = [
        pq.read_table(p).to_pandas().to_csv() for p in (tmp_path / "store").rglob("*.parquet")
    ]
    assert blobs and archive_text
    for name in PERSONAL:
        assert not any(name.encode() in b for b in blobs), name
        assert not any(name in t for t in archive_text), name
        assert name not in summary.render()
    with sa.create_engine(url).connect() as conn:
        refs = conn.execute(sa.text("SELECT patient_ref FROM appointments")).scalars().all()
    assert all(r is not None and len(r) == 64 for r in refs)


def test_without_a_secret_patient_refs_are_dropped(
    fleet: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EQUIPTWIN_SITE_SECRET", raising=False)
    summary = run(sqlite_url, fleet)
    assert not summary.patient_refs_hashed
    with sa.create_engine(sqlite_url).connect() as conn:
        refs = conn.execute(sa.text("SELECT patient_ref FROM appointments")).scalars().all()
    assert refs == [None, None, None]


def test_one_worker_and_two_workers_give_the_same_store(tmp_path: Path) -> None:
    stores = []
    for workers in (1, 2):
        fleet = write_fleet(tmp_path / f"fleet{workers}")
        for day in range(4, 12):  # enough files for the worker pool to start
            day_log = fleet / "events" / "CT-AMS-01" / f"2026-03-{day:02d}.log"
            day_log.write_text(
                f"2026-03-{day:02d}T07:00:00.000+01:00 CT-AMS-01 I SYS 1000 System startup\n"
            )
        url = f"sqlite:///{tmp_path / f's{workers}' / 'store.sqlite'}"
        run(url, fleet, config(ingest__workers=workers, ingest__chunk_lines=4))
        stores.append(snapshot(url))
    assert stores[0] == stores[1]


def test_postgres_store_equals_sqlite_store(store_url: str, tmp_path: Path, secret: str) -> None:
    fleet = write_fleet(tmp_path / "fleet")
    archive = str(tmp_path / "archive")
    cfg = config(store__archive_dir=archive)
    first = run(store_url, fleet, cfg)
    assert run(store_url, fleet, cfg).lines == 0
    reference = f"sqlite:///{tmp_path / 'ref' / 'store.sqlite'}"
    assert run(reference, write_fleet(tmp_path / "ref_fleet"), config()).rows == first.rows
    got, want = snapshot(store_url, archive), snapshot(reference)
    for key in want:
        if key not in ("ingest_manifest", "quarantine", "archive:files"):
            assert got[key] == want[key], key


def test_missing_day_and_dst_days_in_the_store(fleet: Path, sqlite_url: str) -> None:
    run(sqlite_url, fleet)
    with sa.create_engine(sqlite_url).connect() as conn:
        days = (
            conn.execute(
                sa.text("SELECT DISTINCT day FROM event_counts_daily WHERE system_id = 'CT-AMS-01'")
            )
            .scalars()
            .all()
        )
    assert sorted(map(str, days)) == ["2026-03-02", "2026-03-03"]  # 03-04 missing: no row
    xr = _events(sqlite_url).query("system_id == 'XR-UTR-03'")
    fold = xr[xr["ts"].dt.month == 10]["ts"].dt.strftime("%H:%M").tolist()
    assert fold == ["23:50", "00:30", "00:59", "01:10", "02:05"]  # 02:10 after 02:59 is CET
    gap = xr[xr["ts"].dt.month == 3]["ts"].dt.strftime("%H:%M").tolist()
    assert gap == ["00:59", "01:01", "01:30"]  # 02:30 (missing) read as +01:00
