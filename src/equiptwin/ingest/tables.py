"""Whole-file table sources: the asset registry, service records and the schedule.

They are small and keyed, so a changed file is read whole and its rows upserted by key
(rows that vanished from an export are kept). The registry and the work orders also
re-derive the component lives, in the same transaction as the rows and the manifest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
import sqlalchemy as sa

from equiptwin.ingest import lives, manifest
from equiptwin.ingest.commit import upsert, write_quarantine
from equiptwin.ingest.manifest import ManifestRow
from equiptwin.ingest.parsers.assets import parse_assets
from equiptwin.ingest.parsers.base import BlockContext, ParsedBlock
from equiptwin.ingest.parsers.schedule import parse_schedule_csv, parse_schedule_fhir
from equiptwin.ingest.parsers.service import parse_service
from equiptwin.store.schema import Appointment, Base, ComponentLife, ServiceRecord, System

#: Table sources: parser, SQL table and key.
TABLES: dict[str, tuple[Callable[[bytes, BlockContext], ParsedBlock], str, list[str]]] = {
    "assets": (parse_assets, System.__tablename__, ["system_id"]),
    "service_records": (parse_service, ServiceRecord.__tablename__, ["work_order"]),
    "schedule": (parse_schedule_csv, Appointment.__tablename__, ["appointment_id"]),
    "schedule_fhir": (parse_schedule_fhir, Appointment.__tablename__, ["appointment_id"]),
}


UPSERT_ROWS = 20_000
"""Rows per upsert statement: a large fleet's schedule holds about a million bookings,
and building all their parameters at once took gigabytes."""


@dataclass(frozen=True)
class StoredTable:
    """What one table file put in the store."""

    table: str
    n_records: int
    lines: int
    lives: int | None
    registry: list[dict[str, Any]]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _chunks(frame: pd.DataFrame | None) -> Iterator[list[dict[str, Any]]]:
    """Yield the frame's rows as records, :data:`UPSERT_ROWS` at a time."""
    if frame is None:
        return
    for start in range(0, len(frame), UPSERT_ROWS):
        yield _records(frame.iloc[start : start + UPSERT_ROWS])


def store_table_file(
    engine: sa.Engine, source: str, data: bytes, ctx: BlockContext, row: ManifestRow, run_id: int
) -> StoredTable:
    """Parse a whole table file and commit its rows, lives, quarantine and manifest row.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    source : str
        A key of :data:`TABLES`.
    data : bytes
        The whole file.
    ctx : BlockContext
        Location, registry, mappings, privacy and the quarantine buffer.
    row : ManifestRow
        The file's manifest row (its ``lines`` are filled in here).
    run_id : int
        The ingest run.

    Returns
    -------
    StoredTable
        The table, how many records were upserted, the lines read, for the registry and
        work orders how many component lives exist now, and the registry's records.
    """
    parse, table_name, keys = TABLES[source]
    block = parse(data, ctx)
    n_records = 0
    n_lives = None
    with engine.begin() as conn:
        registry: list[dict[str, Any]] = []
        for records in _chunks(block.frame):
            upsert(conn, Base.metadata.tables[table_name], records, keys)
            n_records += len(records)
            if source == "assets":
                registry += records
        if source == "assets":
            anchors = [life for r in registry if (life := lives.first_life(r))]
            upsert(conn, Base.metadata.tables[ComponentLife.__tablename__], anchors, ["life_id"])
        if source in ("assets", "service_records"):
            n_lives = lives.refresh(conn)
        write_quarantine(conn, ctx.quarantine, run_id)
        manifest.save(conn, [replace(row, lines=block.lines)])
    return StoredTable(table_name, n_records, block.lines, n_lives, registry)
