"""Columnar archive of raw records (events, exposures, cryo) in Parquet.

Layout: ``<root>/<dataset>/<system_id>/<YYYY-MM>/part-<batch>.parquet``. A part is
written to a temporary name and renamed into place, then listed in the
``archive_parts`` table in the same SQL transaction as the manifest rows of the input
it holds. Readers see only listed parts; a part whose transaction never committed (a
killed run) is an orphan and the next run deletes it. So a crash leaves the archive as
before the run or as after it.

Why Parquet and not SQL rows: measured in ``benchmarks/bench_ingest.py`` (SQLite
inserts reach a fraction of the 300,000 event lines/s target; Parquet parts are
written an order of magnitude faster and are ~10x smaller).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from equiptwin.errors import StoreError
from equiptwin.store.schema import ArchivePart

_TS = pa.timestamp("ms", tz="UTC")
_F = pa.float64()
_S = pa.string()

#: The columns of each dataset, as written and as read back.
SCHEMAS: dict[str, pa.Schema] = {
    "events": pa.schema(
        [
            ("ts", _TS),
            ("system_id", _S),
            ("severity", _S),
            ("subsystem", _S),
            ("code", pa.int32()),
            ("message", _S),
            ("params", _S),
            ("detail", _S),
        ]
    ),
    "exposures": pa.schema(
        [
            ("ts", _TS),
            ("system_id", _S),
            ("exam_id", _S),
            ("protocol", _S),
            ("kvp", _F),
            ("ma", _F),
            ("exposure_s", _F),
            ("focal_spot", _S),
            ("filament_a", _F),
            ("oil_temp_c", _F),
            ("coastdown_s", _F),
        ]
    ),
    "cryo": pa.schema(
        [
            ("ts", _TS),
            ("system_id", _S),
            ("he_level_pct", _F),
            ("he_pressure_psi", _F),
            ("coldhead_stage1_k", _F),
            ("coldhead_stage2_k", _F),
            ("compressor_on", pa.bool_()),
            ("water_temp_c", _F),
            ("water_flow_lpm", _F),
            ("grad_coil_temp_c", _F),
        ]
    ),
}

#: Columns written with a dictionary: the repetitive ones. Free text (parameters, exam
#: ids) and measurements are not, and statistics are kept for ``ts`` and ``system_id``
#: only: together this halves the time to write a part (and makes it smaller).
DICTIONARY: dict[str, list[str]] = {
    "events": ["system_id", "severity", "subsystem", "code", "message"],
    "exposures": ["system_id", "protocol", "focal_spot"],
    "cryo": ["system_id", "compressor_on"],
}


@dataclass(frozen=True)
class PartWrite:
    """A part written to disk and waiting for its SQL row."""

    path: str
    dataset: str
    system_id: str
    month: str
    rows: int


class Archive:
    """The Parquet archive beside a store.

    Parameters
    ----------
    root : Path
        Folder of the archive.
    engine : sqlalchemy.Engine
        The store that lists the committed parts.
    """

    def __init__(self, root: Path, engine: sa.Engine) -> None:
        self.root = root
        self.engine = engine

    def write_parts(self, dataset: str, table: pa.Table, batch_id: str) -> list[PartWrite]:
        """Write ``table`` as one part per system and month, atomically per file.

        Parameters
        ----------
        dataset : str
            ``events``, ``exposures`` or ``cryo``.
        table : pyarrow.Table
            Rows with the dataset's schema.
        batch_id : str
            Deterministic name of the commit batch (the same input gives the same name).

        Returns
        -------
        list of PartWrite
            What to list in ``archive_parts`` in the commit transaction.
        """
        if table.num_rows == 0:
            return []
        table = table.cast(SCHEMAS[dataset])
        systems = pc.dictionary_encode(table.column("system_id")).combine_chunks()
        names = systems.dictionary.to_pylist()
        # One integer key per row: system rank (by name) and month, sorted stably, so each
        # part keeps file order and the parts come out sorted by system and month.
        rank = np.argsort(np.argsort(np.asarray(names, dtype=object)))
        key = rank[systems.indices.to_numpy()] * 1_000_000 + _year_month(table.column("ts"))
        order = np.argsort(key, kind="stable")
        if not (order == np.arange(len(order))).all():
            table, key = table.take(pa.array(order)), key[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        ends = np.r_[starts[1:], len(key)]
        by_rank = {int(r): str(n) for r, n in zip(rank, names, strict=True)}
        written = []
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            system_id = by_rank[int(key[start] // 1_000_000)]
            ym = int(key[start] % 1_000_000)
            month = f"{ym // 100:04d}-{ym % 100:02d}"
            rel = f"{dataset}/{system_id}/{month}/part-{batch_id}.parquet"
            target = self.root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            pq.write_table(
                table.slice(start, end - start),
                tmp,
                compression="zstd",
                compression_level=1,
                use_dictionary=DICTIONARY[dataset],
                write_statistics=["ts", "system_id"],
            )
            os.replace(tmp, target)
            written.append(PartWrite(rel, dataset, system_id, month, end - start))
        return written

    def listed_parts(self) -> set[str]:
        """Return the paths of every committed part."""
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(ArchivePart.path)).scalars())

    def remove_orphans(self) -> int:
        """Delete part files (and temporaries) no committed transaction lists; return how many."""
        if not self.root.is_dir():
            return 0
        listed = self.listed_parts()
        removed = 0
        for path in self.root.rglob("*.parquet*"):
            rel = path.relative_to(self.root).as_posix()
            if rel not in listed:
                path.unlink()
                removed += 1
        return removed

    def _read(
        self,
        dataset: str,
        system_ids: list[str] | None,
        start: dt.datetime | None,
        end: dt.datetime | None,
    ) -> pd.DataFrame:
        query = sa.select(ArchivePart.path).where(ArchivePart.dataset == dataset)
        if system_ids is not None:
            query = query.where(ArchivePart.system_id.in_(system_ids))
        if start is not None:
            query = query.where(ArchivePart.month >= _utc(start).strftime("%Y-%m"))
        if end is not None:
            query = query.where(ArchivePart.month <= _utc(end).strftime("%Y-%m"))
        with self.engine.connect() as conn:
            paths = sorted(conn.execute(query.order_by(ArchivePart.path)).scalars())
        schema = SCHEMAS[dataset]
        tables = [pq.read_table(self.root / p, schema=schema) for p in paths]
        table = pa.concat_tables(tables) if tables else schema.empty_table()
        frame = table.to_pandas()
        if start is not None:
            frame = frame[frame["ts"] >= pd.Timestamp(_utc(start))]
        if end is not None:
            frame = frame[frame["ts"] < pd.Timestamp(_utc(end))]
        frame = frame.sort_values(["system_id", "ts"], kind="stable").reset_index(drop=True)
        if list(frame.columns) != schema.names:
            raise StoreError(
                f"archive {self.root}/{dataset} has columns {list(frame.columns)}, expected "
                f"{schema.names}; re-ingest into a fresh store."
            )
        return pd.DataFrame(frame)

    def read_events(
        self,
        system_ids: list[str] | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> pd.DataFrame:
        """Return event-log records with ``start <= ts < end`` (UTC), sorted by system and time.

        Parameters
        ----------
        system_ids : list of str or None
            Systems to read; ``None`` reads all.
        start, end : datetime.datetime or None
            Aware bounds (naive values are taken as UTC); ``None`` leaves a side open.

        Returns
        -------
        pandas.DataFrame
            Columns of :data:`SCHEMAS` ``["events"]``: ``ts`` (UTC), ``system_id``,
            ``severity``, ``subsystem``, ``code``, ``message``, ``params``, ``detail``.
        """
        return self._read("events", system_ids, start, end)

    def read_exposures(
        self,
        system_ids: list[str] | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> pd.DataFrame:
        """Return exposure records (one per exam) like :meth:`read_events`.

        Columns are those of :data:`SCHEMAS` ``["exposures"]`` (``kvp``, ``ma``,
        ``exposure_s``, ``filament_a`` in A, ``oil_temp_c``, ``coastdown_s``; NaN when
        not measured).
        """
        return self._read("exposures", system_ids, start, end)

    def read_cryo(
        self,
        system_ids: list[str] | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> pd.DataFrame:
        """Return MRI cryogenics telemetry like :meth:`read_events`.

        Columns are those of :data:`SCHEMAS` ``["cryo"]``; a sensor dropout is NaN (or
        ``None`` for ``compressor_on``).
        """
        return self._read("cryo", system_ids, start, end)


def _year_month(ts: pa.ChunkedArray) -> np.ndarray:
    """``YYYYMM`` as integers, computed in Arrow (fast, unlike string formatting)."""
    year = pc.year(ts).to_numpy()
    month = pc.month(ts).to_numpy()
    return np.asarray(year * 100 + month, dtype=np.int64)


def _utc(when: dt.datetime) -> dt.datetime:
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def archive_root(engine: sa.Engine, archive_dir: str) -> Path:
    """Resolve ``store.archive_dir``: relative to an SQLite file's folder, else to the cwd.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    archive_dir : str
        The setting's value.

    Returns
    -------
    Path
        The archive folder (not created).
    """
    path = Path(archive_dir)
    if path.is_absolute():
        return path
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database not in (None, "", ":memory:"):
        return Path(str(database)).resolve().parent / path
    return Path.cwd() / path


def open_archive(engine: sa.Engine, archive_dir: str) -> Archive:
    """Return the archive of ``engine`` (see :func:`archive_root`)."""
    return Archive(archive_root(engine, archive_dir), engine)
