"""Find the source files of a fleet directory and read their bytes incrementally.

The layout is the one of formats.md. Files are read as a stream of decompressed bytes
(``.gz`` included, a gzip stream cut short by a crash yields what it holds) and cut
into blocks of whole lines; the bytes after the last newline are held back until the
line is finished. Offsets count decompressed bytes.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Processing order: registry first (others refer to its systems), then history, then logs.
TABLE_FILES: tuple[tuple[str, str], ...] = (
    ("assets.csv", "assets"),
    ("service_records.csv", "service_records"),
    ("schedule.csv", "schedule"),
    ("schedule.fhir.json", "schedule_fhir"),
)
#: Folder -> (source kind, what a file name must contain).
LOG_DIRS: tuple[tuple[str, str, str], ...] = (
    ("events", "events", ".log"),
    ("exposures", "exposures", ".csv"),
    ("cryo", "cryo", ".jsonl"),
)
_READ_BYTES = 1 << 20
IDENTITY_BYTES = 4096


@dataclass(frozen=True)
class SourceFile:
    """One file of the fleet directory.

    Parameters
    ----------
    path : Path
        Absolute path.
    rel : str
        Path relative to the fleet directory, with ``/`` separators (the manifest key).
    source : str
        ``assets``, ``service_records``, ``schedule``, ``schedule_fhir``, ``events``,
        ``exposures``, ``cryo`` or ``unknown``.
    system_id : str or None
        The system folder the file lies in (log sources only).
    """

    path: Path
    rel: str
    source: str
    system_id: str | None

    @property
    def compressed(self) -> bool:
        """Whether the file is gzip-compressed (by its name)."""
        return self.rel.endswith(".gz")


def discover(data_dir: Path) -> list[SourceFile]:
    """List the fleet directory's source files in processing order.

    Parameters
    ----------
    data_dir : Path
        The fleet directory.

    Returns
    -------
    list of SourceFile
        Registry and tables first, then events, exposures and cryo files sorted by
        system and name. Files in a log folder that do not look like that log (wrong
        extension, not in a system folder) have source ``unknown``.
    """
    found = [
        SourceFile(data_dir / name, name, source, None)
        for name, source in TABLE_FILES
        if (data_dir / name).is_file()
    ]
    for folder, source, marker in LOG_DIRS:
        root = data_dir / folder
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = path.relative_to(data_dir).as_posix()
            parts = path.relative_to(root).parts
            ok = len(parts) == 2 and marker in path.name and not path.name.startswith(".")
            found.append(SourceFile(path, rel, source if ok else "unknown", parts[0]))
    return found


def _content(path: Path, compressed: bool, read_bytes: int = _READ_BYTES) -> Iterator[bytes]:
    with path.open("rb") as fh:
        if not compressed:
            while chunk := fh.read(read_bytes):
                yield chunk
            return
        inflater = zlib.decompressobj(wbits=31)
        while chunk := fh.read(read_bytes):
            while chunk:
                out = inflater.decompress(chunk)
                if out:
                    yield out
                if inflater.eof:  # a new gzip member may follow (concatenated .gz)
                    chunk = inflater.unused_data
                    inflater = zlib.decompressobj(wbits=31)
                else:
                    chunk = b""
        tail = inflater.flush()
        if tail:
            yield tail


class FileReader:
    """Read one file from an offset in blocks of whole lines.

    After the blocks are consumed, :attr:`tail` holds the unterminated bytes after the
    last newline (held back), :attr:`identity` the hash of the first line and
    :attr:`prefix_ok` whether the first ``offset`` bytes still hash to ``prefix_sha256``.

    Parameters
    ----------
    source : SourceFile
        The file.
    offset : int
        Bytes already consumed by earlier runs.
    prefix_sha256 : str or None
        Hash of those bytes, to detect a rewritten file; ``None`` when ``offset`` is 0.
    block_bytes : int
        Approximate size of a block.
    """

    def __init__(
        self, source: SourceFile, offset: int, prefix_sha256: str | None, block_bytes: int
    ) -> None:
        self.source = source
        self.offset = offset
        self.expected_prefix = prefix_sha256
        self.block_bytes = block_bytes
        self.hasher = hashlib.sha256()
        self.tail = b""
        self.head = b""
        self.prefix_ok = True
        self.consumed = offset

    @property
    def identity(self) -> str:
        """Hash of the first line (at most 4 KiB): stable while the file grows."""
        end = self.head.find(b"\n")
        first = self.head[: end + 1] if end >= 0 else self.head[:IDENTITY_BYTES]
        return hashlib.sha256(first).hexdigest()

    def prefix_hex(self) -> str:
        """Hash of every byte consumed so far."""
        return self.hasher.hexdigest()

    def blocks(self) -> Iterator[tuple[int, bytes]]:
        """Yield ``(start_offset, bytes)`` blocks of whole lines after the offset."""
        skip = self.offset
        pending = bytearray()
        start = self.offset
        for chunk in _content(self.source.path, self.source.compressed):
            if len(self.head) < IDENTITY_BYTES:
                self.head += chunk[: IDENTITY_BYTES - len(self.head)]
            if skip:
                take = chunk[:skip]
                self.hasher.update(take)
                skip -= len(take)
                chunk = chunk[len(take) :]
                if not skip and self.expected_prefix is not None:
                    self.prefix_ok = self.hasher.hexdigest() == self.expected_prefix
                    if not self.prefix_ok:
                        return
                if not chunk:
                    continue
            pending += chunk
            if len(pending) >= self.block_bytes:
                cut = pending.rfind(b"\n") + 1
                if cut:
                    block = bytes(pending[:cut])
                    del pending[:cut]
                    self.hasher.update(block)
                    self.consumed = start + cut
                    yield start, block
                    start += cut
        if skip:  # the file is shorter than what was consumed: it was rewritten
            self.prefix_ok = False
            return
        cut = pending.rfind(b"\n") + 1
        if cut:
            block = bytes(pending[:cut])
            self.hasher.update(block)
            self.consumed = start + cut
            yield start, block
        self.tail = bytes(pending[cut:])
