"""Read and parse one log file, in this process or in a worker process.

The work per file (read from the offset, verify the prefix, cut blocks, parse) is
pure: it only reads the file and returns records, rejections and the reader's final
state. The run consumes results in file order, so the store is the same with one
process or several.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import pyarrow as pa

from equiptwin.ingest.mapping import Mappings
from equiptwin.ingest.parsers.base import BlockContext, ParsedBlock
from equiptwin.ingest.parsers.cryo import parse_cryo
from equiptwin.ingest.parsers.events import parse_events
from equiptwin.ingest.parsers.exposures import parse_exposures
from equiptwin.ingest.privacy import Privacy
from equiptwin.ingest.quarantine import QuarantineBuffer, Rejection
from equiptwin.ingest.sources import FileReader, SourceFile

LOG_PARSERS: dict[str, Callable[[bytes, BlockContext], ParsedBlock]] = {
    "events": parse_events,
    "exposures": parse_exposures,
    "cryo": parse_cryo,
}


@dataclass(frozen=True)
class Statics:
    """What every file's parsing needs and that does not change during the log phase."""

    systems: Mapping[str, str]
    sites: Mapping[str, tuple[str, str]]
    mappings: Mappings
    privacy: Privacy
    block_bytes: int


@dataclass(frozen=True)
class Task:
    """One file to read from ``offset`` (``prefix_sha256`` guards the bytes before it)."""

    source: SourceFile
    offset: int
    prefix_sha256: str | None
    lines_before: int
    header: str | None


@dataclass
class BlockResult:
    """One parsed block and the reader's state after it."""

    start: int
    table: pa.Table | None
    lines: int
    duplicates: int
    unknown_codes: dict[int, int]
    rejections: list[Rejection]
    consumed: int
    prefix_hex: str
    lines_after: int


@dataclass
class FileEnd:
    """The reader's state after the last block."""

    identity: str
    prefix_ok: bool
    tail: bytes
    consumed: int
    prefix_hex: str
    lines: int
    blocks: list[BlockResult] = field(default_factory=list)


def read_log(task: Task, statics: Statics) -> Iterator[BlockResult | FileEnd]:
    """Yield each block of ``task``'s file parsed, then the :class:`FileEnd`."""
    source = task.source
    reader = FileReader(source, task.offset, task.prefix_sha256, statics.block_bytes)
    lines = task.lines_before
    header = task.header
    for start, data in reader.blocks():
        quarantine = QuarantineBuffer()
        ctx = BlockContext(
            source.source,
            source.rel,
            lines + 1,
            header,
            statics.systems,
            statics.mappings,
            statics.privacy,
            quarantine,
            statics.sites,
        )
        block = LOG_PARSERS[source.source](data, ctx)
        if source.source == "exposures" and header is None:
            header = data[: data.find(b"\n")].decode("utf-8", "replace").rstrip("\r")
        lines += block.lines
        yield BlockResult(
            start,
            block.table,
            block.lines,
            block.duplicates,
            block.unknown_codes,
            quarantine.items,
            reader.consumed,
            reader.prefix_hex(),
            lines,
        )
    yield FileEnd(
        reader.identity, reader.prefix_ok, reader.tail, reader.consumed, reader.prefix_hex(), lines
    )


_STATICS: list[Statics] = []


def init_worker(statics: Statics) -> None:
    """Keep the run's statics in a worker process (pool initializer)."""
    _STATICS[:] = [statics]


def read_log_whole(task: Task) -> FileEnd:
    """Read a whole file in a worker process: every block, collected into its ``FileEnd``."""
    return read_whole(task, _STATICS[0])


def read_whole(task: Task, statics: Statics) -> FileEnd:
    """Read a whole file: every block of :func:`read_log`, collected into its ``FileEnd``."""
    blocks: list[BlockResult] = []
    for item in read_log(task, statics):
        if isinstance(item, FileEnd):
            item.blocks = blocks
            return item
        blocks.append(item)
    raise RuntimeError(f"reading {task.source.rel} ended without its final state")
