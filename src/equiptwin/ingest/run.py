"""``equiptwin ingest``: read a fleet directory into the store, incrementally.

Order: the asset registry, service records and schedule (whole-file tables, upserted
by key), then event logs, exposures and cryogenics (streamed from each file's offset
into the Parquet archive and the daily event counts). Log files are parsed by
``ingest.workers`` processes and consumed in file order; they are grouped into
batches of about ``ingest.chunk_lines`` lines, each committed in one transaction with
its manifest rows (see :mod:`equiptwin.ingest.commit`). Re-running after a crash
gives the store of one clean run.
"""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import signal
import time
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from tqdm import tqdm

from equiptwin.clock import Clock
from equiptwin.config import PipelineConfig
from equiptwin.errors import StoreError
from equiptwin.ingest import manifest
from equiptwin.ingest.commit import Batch, commit
from equiptwin.ingest.manifest import ManifestRow
from equiptwin.ingest.mapping import load_mappings
from equiptwin.ingest.parsers.base import BlockContext
from equiptwin.ingest.privacy import Privacy
from equiptwin.ingest.quarantine import QuarantineBuffer
from equiptwin.ingest.sources import FileReader, SourceFile, discover
from equiptwin.ingest.summary import IngestSummary
from equiptwin.ingest.tables import TABLES, store_table_file
from equiptwin.ingest.worker import (
    BlockResult,
    FileEnd,
    Statics,
    Task,
    init_worker,
    read_log,
    read_log_whole,
)
from equiptwin.store.archive import Archive, open_archive
from equiptwin.store.schema import IngestRun, System

#: Bytes per block are chunk_lines times this (event lines are ~100 bytes).
BYTES_PER_LINE = 128
#: Files larger than this many blocks are streamed in the main process (bounded memory).
WORKER_MAX_BLOCKS = 2
#: Bytes (on disk) and number of files parsed ahead by the workers and not yet stored.
WINDOW_BYTES = 16 << 20
WINDOW_FILES = 512
#: Test hook: ``parts:N`` or ``commit:N`` sends SIGKILL to this process after the parts
#: of the N-th batch are written (before its transaction) or after its commit.
KILL_AT_ENV = "EQUIPTWIN_TEST_KILL_AT"


@contextmanager
def _exclusive(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".ingest.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(
                f"another ingest is running on the archive {root}; wait for it to finish."
            ) from None
        yield


def _stat(source: SourceFile) -> tuple[int, int]:
    st = source.path.stat()
    return st.st_size, st.st_mtime_ns


def _first_line(source: SourceFile) -> str:
    head = manifest.read_head(source)
    return head.split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r")


class _Run:
    """State of one run; :func:`ingest` is its public face."""

    def __init__(
        self, engine: sa.Engine, archive: Archive, config: PipelineConfig, run_id: int
    ) -> None:
        self.engine, self.archive, self.run_id = engine, archive, run_id
        self.mappings = load_mappings(config.sections)
        self.privacy = Privacy.from_env(
            str(config["site.secret_env"]), self.mappings.events.drop_params
        )
        self.chunk_lines = int(config["ingest.chunk_lines"])
        self.workers = int(config["ingest.workers"])
        self.files: Counter[str] = Counter()
        self.rows: Counter[str] = Counter()
        self.quarantined: Counter[tuple[str, str]] = Counter()
        self.unknown: Counter[int] = Counter()
        self.lines = 0
        self.duplicates = 0
        self.commits = 0
        with engine.connect() as conn:
            self.manifest = manifest.load(conn)
            self.by_identity: dict[str, list[str]] = {}
            for row in sorted(self.manifest.values(), key=lambda r: r.path):
                self.by_identity.setdefault(row.identity, []).append(row.path)
            registry = list(
                conn.execute(
                    sa.select(System.system_id, System.timezone, System.site, System.modality)
                )
            )
        self.systems = {r.system_id: r.timezone for r in registry}
        self.sites = {r.system_id: (r.site, r.modality) for r in registry}

    def statics(self) -> Statics:
        return Statics(
            self.systems,
            self.sites,
            self.mappings,
            self.privacy,
            self.chunk_lines * BYTES_PER_LINE,
        )

    def _row(
        self,
        source: SourceFile,
        identity: str,
        size: int,
        mtime: int,
        offset: int = 0,
        prefix: str = "",
        lines: int = 0,
    ) -> ManifestRow:
        return ManifestRow(
            source.rel, source.source, identity, size, mtime, prefix, offset, lines, self.run_id
        )

    def _stage(self, batch: Batch, row: ManifestRow) -> None:
        batch.manifest[row.path] = row
        self.manifest[row.path] = row
        paths = self.by_identity.setdefault(row.identity, [])
        if row.path not in paths:
            paths.append(row.path)

    # -- whole-file tables ---------------------------------------------------------------
    def table_file(self, source: SourceFile) -> None:
        """Read a registry, service or schedule file whole and upsert its rows by key."""
        size, mtime = _stat(source)
        old = self.manifest.get(source.rel)
        if old is not None and old.unchanged(size, mtime):
            self.files["unchanged"] += 1
            return
        reader = FileReader(source, 0, None, 1 << 62)
        data = b"".join(block for _, block in reader.blocks()) + reader.tail
        reader.hasher.update(reader.tail)
        if old is not None and old.prefix_sha256 == reader.prefix_hex():
            row = old.touched(size, mtime, self.run_id)
            with self.engine.begin() as conn:
                manifest.save(conn, [row])
            self.manifest[source.rel] = row
            self.files["unchanged"] += 1
            return
        quarantine = QuarantineBuffer()
        ctx = BlockContext(
            source.source,
            source.rel,
            1,
            None,
            self.systems,
            self.mappings,
            self.privacy,
            quarantine,
            self.sites,
        )
        row = self._row(source, reader.identity, size, mtime, len(data), reader.prefix_hex())
        stored = store_table_file(self.engine, source.source, data, ctx, row, self.run_id)
        row = replace(row, lines=stored.lines)
        if stored.lives is not None:
            self.rows["component_lives"] = stored.lives
        table_name = stored.table
        self.lines += stored.lines
        self.quarantined.update(quarantine.counts())
        self.manifest[source.rel] = row
        self.rows[table_name] += stored.n_records
        self.files["read"] += 1
        if source.source == "assets":
            for r in stored.registry:
                self.systems[r["system_id"]] = r["timezone"]
                self.sites[r["system_id"]] = (r["site"], r["modality"])

    # -- streamed logs -------------------------------------------------------------------
    def plan(self, source: SourceFile) -> Task | str:
        """Decide what to do with a log file: a :class:`Task`, or why it is skipped."""
        size, mtime = _stat(source)
        old = self.manifest.get(source.rel)
        if old is not None and old.duplicate_of:
            return "duplicate"
        if old is not None and old.unchanged(size, mtime):
            return "unchanged"
        if source.source == "unknown":
            return "unknown"
        header = None
        if source.source == "exposures" and old is not None and old.offset > 0:
            header = _first_line(source)
        return Task(
            source,
            old.offset if old else 0,
            old.prefix_sha256 if old else None,
            old.lines if old else 0,
            header,
        )

    def log_file(
        self,
        source: SourceFile,
        plan: Task | str,
        items: Callable[[], Iterable[Any]] | list[Any],
        batch: Batch,
    ) -> Batch:
        """Stage one log file from its parsed blocks and final ``FileEnd``.

        ``items`` is a list (from a worker) or a callable that streams them.
        """
        size, mtime = _stat(source)
        old = self.manifest.get(source.rel)
        if plan in ("duplicate", "unchanged"):
            self.files[str(plan)] += 1
            return batch
        if old is not None:
            identity = old.identity
        elif isinstance(items, list) and items and isinstance(items[-1], FileEnd):
            identity = items[-1].identity  # a worker already hashed the first line
        else:
            identity = manifest.first_line_identity(source)
        if plan == "unknown":
            batch.quarantine.add(
                "unknown",
                source.rel,
                0,
                "file",
                "unknown_file",
                "a file in events/, exposures/ or cryo/ must lie in a system folder and be a "
                ".log, .csv or .jsonl file (optionally .gz)",
                source.rel,
            )
            batch.add("unknown", None, source.rel)
            self._stage(batch, self._row(source, identity, size, mtime))
            return batch
        if old is None:
            candidates = [self.manifest[p] for p in self.by_identity.get(identity, ())]
            original = manifest.find_original(source, identity, candidates)
            if original is not None:
                self.files["duplicate"] += 1
                row = self._row(source, identity, size, mtime, lines=original.lines)
                self._stage(batch, replace(row, duplicate_of=original.path))
                return batch
        else:
            batch.reread_paths.add(source.rel)
        for item in items() if callable(items) else items:
            if isinstance(item, FileEnd):
                return self._file_end(source, old, identity, item, size, mtime, batch)
            batch = self._block(source, identity, item, size, mtime, batch)
        raise RuntimeError(f"reading {source.rel} ended without its final state")

    def _block(
        self,
        source: SourceFile,
        identity: str,
        item: BlockResult,
        size: int,
        mtime: int,
        batch: Batch,
    ) -> Batch:
        batch.add(source.source, item.table, f"{source.rel}:{item.start}")
        batch.quarantine.items.extend(item.rejections)
        batch.lines += item.lines
        self.lines += item.lines
        self.duplicates += item.duplicates
        self.unknown.update(item.unknown_codes)
        # Until the file's end is staged, its row must not pass the quick check (a run
        # killed after a mid-file commit continues from the offset): mtime -1.
        row = self._row(
            source, identity, size, -1, item.consumed, item.prefix_hex, item.lines_after
        )
        self._stage(batch, row)
        # Batches end at file ends, so a re-run after a crash cuts the same batches; only
        # a file much larger than a batch is committed part way.
        return self.flush(batch) if batch.lines >= 2 * self.chunk_lines else batch

    def _file_end(
        self,
        source: SourceFile,
        old: ManifestRow | None,
        identity: str,
        end: FileEnd,
        size: int,
        mtime: int,
        batch: Batch,
    ) -> Batch:
        self.files["read"] += 1
        batch.add(source.source, None, f"{source.rel}:{end.consumed}")
        if not end.prefix_ok:
            self.files["rewritten"] += 1
            batch.quarantine.add(
                source.source,
                source.rel,
                0,
                "file",
                "rewritten",
                "a file may only grow; its first bytes changed since the last run, so it is "
                "not read again (move it aside, or re-ingest into a fresh store)",
                source.rel,
            )
            self._stage(
                batch,
                old.touched(size, mtime, self.run_id)
                if old
                else self._row(source, identity, size, mtime),
            )
            return batch
        if end.tail:
            batch.quarantine.add(
                source.source,
                source.rel,
                end.lines + 1,
                "line",
                "unterminated_tail",
                "the last line has no newline (cut off, or still being written); it is held "
                "back and read when the line is complete",
                self.privacy.scrub(end.tail.decode("utf-8", "backslashreplace")),
            )
        self._stage(
            batch, self._row(source, identity, size, mtime, end.consumed, end.prefix_hex, end.lines)
        )
        return self.flush(batch) if batch.lines >= self.chunk_lines else batch

    def flush(self, batch: Batch) -> Batch:
        """Commit the batch (parts, rows, quarantine, manifest) and start a new one."""
        if batch.empty():
            return Batch()
        self.commits += 1
        stage, _, n = os.environ.get(KILL_AT_ENV, "").partition(":")
        kill = _kill_self if n.isdigit() and int(n) == self.commits else None
        written = commit(
            self.engine, self.archive, batch, self.run_id, kill if stage == "parts" else None
        )
        if kill is not None and stage == "commit":
            kill()
        self.rows.update(written)
        self.quarantined.update(batch.quarantine.counts())
        return Batch()

    def logs(self, sources: list[SourceFile], bar: Any, parse: LogParser | None = None) -> None:
        """Read every log file, in order, parsed ahead by ``parse`` or worker processes."""
        plans = [(s, self.plan(s)) for s in sources]
        statics = self.statics()
        if parse is None:
            limit = WORKER_MAX_BLOCKS * statics.block_bytes
            tasks = [
                (i, p)
                for i, (s, p) in enumerate(plans)
                if isinstance(p, Task) and s.path.stat().st_size <= limit
            ]
            parse = partial(_parse_in_pool, workers=self.workers)
        else:
            tasks = [(i, p) for i, (_, p) in enumerate(plans) if isinstance(p, Task)]
        ahead = parse(tasks, statics)
        batch = Batch()
        try:
            parsed = next(ahead, None)
            for i, (source, plan) in enumerate(plans):
                items: Callable[[], Iterable[Any]] | list[Any]
                if parsed is not None and parsed[0] == i:
                    items = [*parsed[1].blocks, parsed[1]]
                    parsed = next(ahead, None)
                elif isinstance(plan, Task):
                    items = partial(read_log, plan, statics)
                else:
                    items = list
                batch = self.log_file(source, plan, items, batch)
                bar.update(1)
            self.flush(batch)
        finally:
            ahead.close()


LogParser = Callable[[list[tuple[int, Task]], Statics], Generator[tuple[int, FileEnd], None, None]]
"""Parses ``(file index, task)`` pairs ahead of the run and yields each ``FileEnd`` (its
blocks attached) in the order given; files it leaves out are read in this process."""


def _parse_in_pool(
    tasks: list[tuple[int, Task]], statics: Statics, *, workers: int
) -> Generator[tuple[int, FileEnd], None, None]:
    """Parse ``tasks`` in ``workers`` forked processes, a bounded window ahead of the run."""
    if workers <= 1 or len(tasks) <= 2 * workers:
        return
    pool = ProcessPoolExecutor(
        workers, multiprocessing.get_context("fork"), init_worker, (statics,)
    )
    # Parsed files wait here until stored: at most WINDOW_BYTES (on disk) and
    # WINDOW_FILES files, so the workers keep busy while a batch is committed.
    window: deque[tuple[int, int, Future[FileEnd]]] = deque()
    upcoming = deque((i, task, task.source.path.stat().st_size) for i, task in tasks)
    waiting = 0
    try:
        while True:
            while upcoming and waiting < WINDOW_BYTES and len(window) < WINDOW_FILES:
                i, task, size = upcoming.popleft()
                window.append((i, size, pool.submit(read_log_whole, task)))
                waiting += size
            if not window:
                return
            index, size, future = window.popleft()
            waiting -= size
            yield index, future.result()
    finally:
        pool.shutdown(cancel_futures=True)


def _kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def ingest(
    engine: sa.Engine,
    data_dir: Path,
    config: PipelineConfig,
    clock: Clock,
    progress: bool = False,
    parse: LogParser | None = None,
) -> IngestSummary:
    """Read a fleet directory into the store; safe to re-run, interrupt and re-run.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        A migrated store.
    data_dir : Path
        Fleet directory in the layout of formats.md.
    config : PipelineConfig
        Settings (``ingest.chunk_lines``, ``ingest.workers``, ``store.archive_dir``,
        ``site.secret_env``) and the ``mappings`` section.
    clock : Clock
        Gives the run's start and end times.
    progress : bool
        Show a progress bar on stderr (only on a terminal).
    parse : LogParser, optional
        Parses the log files ahead elsewhere (a Dask engine's workers); by default
        ``ingest.workers`` forked processes. The store is the same either way.

    Returns
    -------
    IngestSummary
        Files, lines, rows per table, quarantine by source and reason, seconds.

    Raises
    ------
    StoreError
        When the fleet directory is missing or another ingest holds the archive.
    ConfigError
        When the ``mappings`` section is invalid.
    """
    started = time.perf_counter()
    if not data_dir.is_dir():
        raise StoreError(
            f"fleet directory {data_dir} does not exist; pass the folder holding assets.csv."
        )
    archive = open_archive(engine, str(config["store.archive_dir"]))
    with _exclusive(archive.root):
        archive.remove_orphans()
        with engine.begin() as conn:
            run_id = int(
                conn.execute(
                    sa.insert(IngestRun)
                    .values(data_dir=str(data_dir), started_at=clock().replace(tzinfo=None))
                    .returning(IngestRun.run_id)
                ).scalar_one()
            )
        run = _Run(engine, archive, config, run_id)
        files = discover(data_dir)
        run.files["seen"] = len(files)
        with tqdm(
            total=len(files), desc="ingest", unit="file", disable=not progress or None, leave=False
        ) as bar:
            for source in files:
                if source.source in TABLES:
                    run.table_file(source)
                    bar.update(1)
            run.logs([s for s in files if s.source not in TABLES], bar, parse)
        summary = _summary(run, time.perf_counter() - started)
        with engine.begin() as conn:
            conn.execute(
                sa.update(IngestRun)
                .where(IngestRun.run_id == run_id)
                .values(finished_at=clock().replace(tzinfo=None), summary=summary.to_json())
            )
    return summary


def _summary(run: _Run, seconds: float) -> IngestSummary:
    quarantined: dict[str, dict[str, int]] = {}
    for (source, reason), n in sorted(run.quarantined.items()):
        quarantined.setdefault(source, {})[reason] = n
    outcomes = ("seen", "read", "unchanged", "duplicate", "rewritten")
    return IngestSummary(
        run_id=run.run_id,
        files={k: run.files.get(k, 0) for k in outcomes},
        lines=run.lines,
        rows=dict(sorted(run.rows.items())),
        duplicates_dropped=run.duplicates,
        quarantined=quarantined,
        unknown_codes={str(k): v for k, v in sorted(run.unknown.items())},
        patient_refs_hashed=run.privacy.secret is not None,
        seconds=round(seconds, 3),
    )
