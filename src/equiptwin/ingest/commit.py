"""One commit of ingested data: archive parts, SQL rows, quarantine and manifest together.

The Parquet parts are written (atomically, by rename) before the transaction; the
transaction lists them in ``archive_parts`` beside the manifest rows, the daily event
counts and the quarantine. If the process dies before the commit, the parts are
orphans that no reader sees and the next run deletes; the manifest still points
before them, so the same input is read again and written under the same names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from equiptwin.ingest.manifest import ManifestRow, save
from equiptwin.ingest.quarantine import QuarantineBuffer
from equiptwin.store.archive import Archive
from equiptwin.store.schema import ArchivePart, Base, EventCountDaily, QuarantineEntry


def _insert(conn: sa.Connection, table: sa.Table) -> Any:
    """Return an INSERT that supports ``on_conflict_do_update`` on this dialect."""
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def upsert(
    conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], keys: list[str]
) -> None:
    """Insert rows, replacing the non-key columns where the key exists (SQLite, PostgreSQL)."""
    if not rows:
        return
    columns = [c for c in rows[0] if c in table.c]
    stmt = _insert(conn, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={c: stmt.excluded[c] for c in columns if c not in keys}
    )
    conn.execute(stmt, [{c: r[c] for c in columns} for r in rows])


def _add_counts(conn: sa.Connection, counts: list[dict[str, Any]]) -> None:
    if not counts:
        return
    table = Base.metadata.tables[EventCountDaily.__tablename__]
    stmt = _insert(conn, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["system_id", "day", "code"], set_={"n": table.c.n + stmt.excluded.n}
    )
    conn.execute(stmt, counts)


def daily_counts(events: pa.Table) -> list[dict[str, Any]]:
    """Count events by system, UTC day and code (rows of ``event_counts_daily``, sorted)."""
    day_ms = 86_400_000
    ms = pc.cast(events.column("ts"), pa.int64()).to_numpy()
    days = pa.array(np.floor_divide(ms, day_ms))
    keyed = pa.table(
        {"system_id": events.column("system_id"), "day": days, "code": events.column("code")}
    )
    counts = keyed.group_by(["system_id", "day", "code"]).aggregate([([], "count_all")])
    counts = counts.sort_by(
        [("system_id", "ascending"), ("day", "ascending"), ("code", "ascending")]
    )
    epoch = dt.date(1970, 1, 1)
    return [
        {"system_id": system_id, "day": epoch + dt.timedelta(days=day), "code": code, "n": n}
        for system_id, day, code, n in zip(
            *(
                counts.column(name).to_pylist()
                for name in ("system_id", "day", "code", "count_all")
            ),
            strict=True,
        )
    ]


@dataclass
class Batch:
    """Data read since the last commit."""

    tables: dict[str, list[pa.Table]] = field(default_factory=dict)
    manifest: dict[str, ManifestRow] = field(default_factory=dict)
    quarantine: QuarantineBuffer = field(default_factory=QuarantineBuffer)
    lines: int = 0
    first_key: str = ""
    reread_paths: set[str] = field(default_factory=set)

    def add(self, dataset: str, table: pa.Table | None, key: str) -> None:
        """Add parsed records; ``key`` (path:offset) names the batch after its first input."""
        self.first_key = self.first_key or key
        if table is not None and table.num_rows:
            self.tables.setdefault(dataset, []).append(table)

    def empty(self) -> bool:
        """Whether there is nothing to commit."""
        return not (self.manifest or self.quarantine.items)


def commit(
    engine: sa.Engine,
    archive: Archive,
    batch: Batch,
    run_id: int,
    after_parts: Callable[[], None] | None = None,
) -> dict[str, int]:
    """Write the batch's parts, then commit everything in one transaction.

    ``after_parts`` runs between the two (a test hook that kills the process there).

    Returns
    -------
    dict
        Rows written per dataset, plus ``event_counts_daily`` rows touched.
    """
    batch_id = hashlib.sha256(batch.first_key.encode()).hexdigest()[:16]
    parts = []
    written: dict[str, int] = {}
    counts: list[dict[str, Any]] = []
    for dataset, tables in sorted(batch.tables.items()):
        table = pa.concat_tables(tables)
        parts += archive.write_parts(dataset, table, batch_id)
        written[dataset] = table.num_rows
        if dataset == "events":
            counts = daily_counts(table)
            written["event_counts_daily"] = len(counts)
    if after_parts is not None:
        after_parts()
    with engine.begin() as conn:
        if parts:
            conn.execute(
                sa.insert(ArchivePart),
                [
                    {
                        "path": p.path,
                        "dataset": p.dataset,
                        "system_id": p.system_id,
                        "month": p.month,
                        "rows": p.rows,
                        "run_id": run_id,
                    }
                    for p in parts
                ],
            )
        _add_counts(conn, counts)
        if batch.reread_paths:  # a held-back tail is read now: its old quarantine row goes
            conn.execute(
                sa.delete(QuarantineEntry).where(
                    QuarantineEntry.path.in_(sorted(batch.reread_paths)),
                    QuarantineEntry.reason == "unterminated_tail",
                )
            )
        write_quarantine(conn, batch.quarantine, run_id)
        save(conn, batch.manifest.values())
    return written


def write_quarantine(conn: sa.Connection, quarantine: QuarantineBuffer, run_id: int) -> None:
    """Insert the buffered rejections (inside the caller's transaction)."""
    if quarantine.items:
        conn.execute(
            sa.insert(QuarantineEntry),
            [
                {
                    "run_id": run_id,
                    "source": r.source,
                    "path": r.path,
                    "line": r.line,
                    "field": r.field,
                    "reason": r.reason,
                    "message": r.message,
                    "raw": r.raw,
                }
                for r in quarantine.items
            ],
        )
