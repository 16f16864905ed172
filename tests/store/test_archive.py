from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from equiptwin.store import db
from equiptwin.store.archive import SCHEMAS, archive_root, open_archive
from equiptwin.store.schema import ArchivePart, IngestRun


def _events(times: list[str], system: str = "CT-1") -> pa.Table:
    n = len(times)
    return pa.table(
        {
            "ts": pa.array(
                [dt.datetime.fromisoformat(t) for t in times], pa.timestamp("ms", tz="UTC")
            ),
            "system_id": [system] * n,
            "severity": ["W"] * n,
            "subsystem": ["TUBE"] * n,
            "code": pa.array([2301] * n, pa.int32()),
            "message": ["Tube arc detected"] * n,
            "params": [None] * n,
            "detail": [None] * n,
        }
    )


@pytest.fixture
def archive(sqlite_url: str):  # type: ignore[no-untyped-def]
    engine = db.open_store(sqlite_url)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(IngestRun).values(run_id=1, data_dir="x", started_at=dt.datetime(2026, 1, 1))
        )
    return open_archive(engine, "archive")


def _commit(archive, parts) -> None:  # type: ignore[no-untyped-def]
    with archive.engine.begin() as conn:
        for p in parts:
            conn.execute(
                sa.insert(ArchivePart).values(
                    path=p.path,
                    dataset=p.dataset,
                    system_id=p.system_id,
                    month=p.month,
                    rows=p.rows,
                    run_id=1,
                )
            )


def test_parts_split_by_system_and_month_and_read_back_in_range(archive) -> None:  # type: ignore[no-untyped-def]
    table = pa.concat_tables(
        [
            _events(["2026-02-28T23:00:00+00:00", "2026-03-01T01:00:00+00:00"]),
            _events(["2026-03-05T00:00:00+00:00"], "MR-1"),
        ]
    )
    parts = archive.write_parts("events", table, "b1")
    assert sorted(p.path for p in parts) == [
        "events/CT-1/2026-02/part-b1.parquet",
        "events/CT-1/2026-03/part-b1.parquet",
        "events/MR-1/2026-03/part-b1.parquet",
    ]
    assert archive.read_events().empty  # not committed: invisible
    _commit(archive, parts)
    frame = archive.read_events(
        ["CT-1"], dt.datetime(2026, 3, 1, tzinfo=dt.UTC), dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    )
    assert list(frame.columns) == SCHEMAS["events"].names
    assert frame["ts"].tolist() == [dt.datetime(2026, 3, 1, 1, tzinfo=dt.UTC)]
    assert str(frame["ts"].dtype) == "datetime64[ms, UTC]"
    assert len(archive.read_events()) == 3


def test_uncommitted_parts_are_orphans_and_removed(archive) -> None:  # type: ignore[no-untyped-def]
    kept = archive.write_parts("events", _events(["2026-03-01T00:00:00+00:00"]), "b1")
    _commit(archive, kept)
    archive.write_parts("events", _events(["2026-03-02T00:00:00+00:00"]), "b2")
    assert archive.remove_orphans() == 1
    assert sorted(p.name for p in archive.root.rglob("*.parquet")) == ["part-b1.parquet"]


def test_empty_reads_have_the_schema(archive) -> None:  # type: ignore[no-untyped-def]
    for name in ("events", "exposures", "cryo"):
        frame = getattr(archive, f"read_{name}")()
        assert frame.empty and list(frame.columns) == SCHEMAS[name].names


def test_archive_lives_beside_an_sqlite_store(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x' / 's.sqlite'}")
    assert archive_root(engine, "archive") == tmp_path / "x" / "archive"
    assert archive_root(engine, str(tmp_path / "abs")) == tmp_path / "abs"
