"""The ingest manifest: how far every source file has been consumed.

One row per file path: its source kind, identity (hash of the first line, stable while
the file grows), on-disk size and modification time, the hash of the consumed prefix
and the offset after it. The row is written in the same transaction as the data read
from the file, so the two never disagree.

- **Unchanged** (same size and modification time, the quick check of rsync): skipped
  without reading, which keeps a re-run over a large fleet cheap.
- **Appended**: the first ``offset`` bytes still hash to ``prefix_sha256``; reading
  continues at ``offset``.
- **Rewritten**: the prefix hash differs; the file is quarantined (``rewritten``) and
  not read again, because its old lines are already counted.
- **Duplicate**: a new path whose first line and consumed prefix equal another file's
  (a copy, a rotated duplicate): recorded with ``duplicate_of`` and not read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace

import sqlalchemy as sa

from equiptwin.ingest.sources import SourceFile, _content
from equiptwin.store.schema import ManifestEntry


@dataclass(frozen=True)
class ManifestRow:
    """One file's row of ``ingest_manifest`` (see the module notes)."""

    path: str
    source: str
    identity: str
    size: int
    mtime_ns: int
    prefix_sha256: str
    offset: int
    lines: int
    run_id: int
    duplicate_of: str | None = None

    def unchanged(self, size: int, mtime_ns: int) -> bool:
        """Whether a file of this size and modification time needs no reading."""
        return self.size == size and self.mtime_ns == mtime_ns

    def touched(self, size: int, mtime_ns: int, run_id: int) -> ManifestRow:
        """Return this row with the file's current size and time (nothing new consumed)."""
        return replace(self, size=size, mtime_ns=mtime_ns, run_id=run_id)


def load(conn: sa.Connection) -> dict[str, ManifestRow]:
    """Return every manifest row by path."""
    columns = [getattr(ManifestEntry, name) for name in ManifestRow.__dataclass_fields__]
    rows = conn.execute(sa.select(*columns))
    return {row.path: ManifestRow(**row._asdict()) for row in rows}


def save(conn: sa.Connection, rows: Iterable[ManifestRow]) -> None:
    """Insert or replace manifest rows (inside the caller's transaction)."""
    values = [asdict(r) for r in rows]
    if not values:
        return
    paths = [v["path"] for v in values]
    conn.execute(sa.delete(ManifestEntry).where(ManifestEntry.path.in_(paths)))
    conn.execute(sa.insert(ManifestEntry), values)


def read_head(source: SourceFile, limit: int = 4096) -> bytes:
    """Return the file's first bytes (decompressed): at least its first line or ``limit`` bytes."""
    head = b""
    for chunk in _content(source.path, source.compressed, read_bytes=limit):
        head += chunk
        if len(head) >= limit or b"\n" in head:
            break
    return head[:limit]


def first_line_identity(source: SourceFile, limit: int = 4096) -> str:
    """Hash of the file's first line (at most ``limit`` bytes), as :class:`FileReader` has it."""
    head = read_head(source, limit)
    end = head.find(b"\n")
    return hashlib.sha256(head[: end + 1] if end >= 0 else head[:limit]).hexdigest()


def matching_prefixes(source: SourceFile, prefixes: Iterable[tuple[int, str]]) -> set[int]:
    """Return which ``(n_bytes, sha256)`` prefixes the file starts with (by their position).

    The file is read (decompressed) once, up to the longest prefix, whatever their number.
    """
    wanted: dict[int, list[tuple[int, str]]] = {}
    for position, (n_bytes, expected) in enumerate(prefixes):
        wanted.setdefault(n_bytes, []).append((position, expected))
    ends = sorted(wanted)
    matched: set[int] = set()
    hasher = hashlib.sha256()
    done = 0
    for chunk in _content(source.path, source.compressed) if ends else ():
        while ends and ends[0] <= done + len(chunk):
            end = ends.pop(0)
            at = hasher.copy()
            at.update(chunk[: end - done])
            digest = at.hexdigest()
            matched.update(p for p, expected in wanted[end] if expected == digest)
        if not ends:
            break
        hasher.update(chunk)
        done += len(chunk)
    return matched


def find_original(
    source: SourceFile, identity: str, candidates: Iterable[ManifestRow]
) -> ManifestRow | None:
    """Return the row of a file this new file duplicates (same identity and prefix), if any.

    ``candidates`` are the manifest rows with the same identity, in the order seen; the
    first whose consumed prefix the file starts with is returned.
    """
    rows = [
        row
        for row in candidates
        if row.identity == identity
        and row.source == source.source
        and row.path != source.rel
        and row.duplicate_of is None
        and row.offset > 0
    ]
    matched = matching_prefixes(source, [(row.offset, row.prefix_sha256) for row in rows])
    return next((row for i, row in enumerate(rows) if i in matched), None)
