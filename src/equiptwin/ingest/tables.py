"""Whole-file table sources: the asset registry, service records and the schedule.

They are small and keyed, so a changed file is read whole and its rows upserted by key
(rows that vanished from an export are kept). The registry and the work orders also
re-derive the component lives, in the same transaction as the rows and the manifest.
"""

from __future__ import annotations

from collections.abc import Callable
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


@dataclass(frozen=True)
class StoredTable:
    """What one table file put in the store."""

    table: str
    records: list[dict[str, Any]]
    lines: int
    lives: int | None


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None or frame.empty:
        return []
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


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
        The table, the upserted records, the lines read and, for the registry and work
        orders, how many component lives exist now.
    """
    parse, table_name, keys = TABLES[source]
    block = parse(data, ctx)
    records = _records(block.frame)
    n_lives = None
    with engine.begin() as conn:
        upsert(conn, Base.metadata.tables[table_name], records, keys)
        if source == "assets":
            anchors = [life for r in records if (life := lives.first_life(r))]
            upsert(conn, Base.metadata.tables[ComponentLife.__tablename__], anchors, ["life_id"])
        if source in ("assets", "service_records"):
            n_lives = lives.refresh(conn)
        write_quarantine(conn, ctx.quarantine, run_id)
        manifest.save(conn, [replace(row, lines=block.lines)])
    return StoredTable(table_name, records, block.lines, n_lives)
