"""Run ingest on a fixture fleet and snapshot the store, for comparisons."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from equiptwin.clock import fixed_clock
from equiptwin.config import PipelineConfig, defaults
from equiptwin.ingest.run import ingest
from equiptwin.ingest.summary import IngestSummary
from equiptwin.store import db
from equiptwin.store.archive import open_archive

CLOCK = fixed_clock(dt.datetime(2026, 11, 1, tzinfo=dt.UTC))

#: Columns that differ between runs by design (run numbers, surrogate ids).
RUN_COLUMNS = {"run_id", "id", "mtime_ns", "size"}
DATA_TABLES = (
    "systems",
    "component_lives",
    "service_records",
    "appointments",
    "event_counts_daily",
    "ingest_manifest",
    "quarantine",
    "archive_parts",
)


def config(sections: dict[str, Any] | None = None, **values: Any) -> PipelineConfig:
    base = dict(defaults().values)
    base.update({k.replace("__", "."): v for k, v in values.items()})
    return PipelineConfig(base, sections or {})


def run(url: str, fleet: Path, cfg: PipelineConfig | None = None) -> IngestSummary:
    return ingest(db.open_store(url), fleet, cfg or config(), CLOCK)


def snapshot(url: str, archive_dir: str = "archive") -> dict[str, Any]:
    """Every data table (without run columns) and every archive dataset, sorted."""
    engine = sa.create_engine(url)
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for name in DATA_TABLES:
            table = sa.Table(name, sa.MetaData(), autoload_with=conn)
            cols = [c for c in table.c if c.name not in RUN_COLUMNS]
            rows = conn.execute(sa.select(*cols)).all()
            out[name] = sorted(tuple(map(str, r)) for r in rows)
    archive = open_archive(engine, archive_dir)
    for name in ("events", "exposures", "cryo"):
        frame = getattr(archive, f"read_{name}")()
        out[f"archive:{name}"] = frame.astype(str).to_numpy().tolist()
    out["archive:files"] = sorted(
        p.relative_to(archive.root).as_posix() for p in archive.root.rglob("*.parquet*")
    )
    engine.dispose()
    return out
