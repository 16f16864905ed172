"""Rejected input: every bad line, row or file kept with where, why and what."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

#: Raw text kept per rejected record, in characters.
RAW_LIMIT = 1000


@dataclass(frozen=True)
class Rejection:
    """One rejected line, row or whole file (``line`` 0).

    Parameters
    ----------
    source : str
        The source kind (``events``, ``exposures``, ...).
    path : str
        File path relative to the fleet directory.
    line : int
        1-based line number in the file, 0 for the whole file.
    field : str
        The field that broke the rule (``line`` when the whole line is bad).
    reason : str
        A short stable reason code (``malformed``, ``bad_timestamp``, ...).
    message : str
        What the rule is and what was found.
    raw : str
        The scrubbed raw text, at most :data:`RAW_LIMIT` characters.
    """

    source: str
    path: str
    line: int
    field: str
    reason: str
    message: str
    raw: str


@dataclass
class QuarantineBuffer:
    """Rejections collected for one commit, with the counts for the run summary."""

    items: list[Rejection] = field(default_factory=list)

    def add(
        self, source: str, path: str, line: int, field: str, reason: str, message: str, raw: str
    ) -> None:
        """Keep one rejection; ``raw`` must already be scrubbed of personal data."""
        self.items.append(
            # NUL is not allowed in PostgreSQL text; keep it visible as an escape.
            Rejection(
                source, path, line, field, reason, message, raw[:RAW_LIMIT].replace("\x00", "\\x00")
            )
        )

    def counts(self) -> Counter[tuple[str, str]]:
        """Return the number of rejections by ``(source, reason)``."""
        return Counter((r.source, r.reason) for r in self.items)
