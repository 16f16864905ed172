"""The run summary: what one ``equiptwin ingest`` read, stored and rejected."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class IngestSummary:
    """Counts of one ingest run (printed by the CLI, stored in ``ingest_runs.summary``).

    Attributes
    ----------
    run_id : int
        Row of ``ingest_runs``.
    files : Mapping[str, int]
        Files by outcome: ``seen``, ``read``, ``unchanged``, ``duplicate``, ``rewritten``.
    lines : int
        Physical lines (or rows) read this run.
    rows : Mapping[str, int]
        Records stored per table or archive dataset.
    duplicates_dropped : int
        Repeated lines (or rows) kept once.
    quarantined : Mapping[str, Mapping[str, int]]
        Rejected lines, rows or files by source and reason.
    unknown_codes : Mapping[str, int]
        Events with codes outside the mapping's code table, by code (kept, not dropped).
    patient_refs_hashed : bool
        Whether a site secret was set (references hashed) or not (references dropped).
    seconds : float
        Wall time of the run.
    """

    run_id: int
    files: Mapping[str, int]
    lines: int
    rows: Mapping[str, int]
    duplicates_dropped: int
    quarantined: Mapping[str, Mapping[str, int]]
    unknown_codes: Mapping[str, int]
    patient_refs_hashed: bool
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """Return the summary as plain JSON types."""
        return asdict(self)

    def render(self) -> str:
        """Return a short human-readable report."""
        files = ", ".join(f"{k} {v}" for k, v in self.files.items())
        rows = ", ".join(f"{k} {v}" for k, v in sorted(self.rows.items())) or "none"
        out = [
            f"ingest run {self.run_id}: {self.seconds:.1f} s",
            f"  files: {files}",
            f"  lines read: {self.lines}; repeated lines kept once: {self.duplicates_dropped}",
            f"  rows stored: {rows}",
        ]
        total = sum(sum(r.values()) for r in self.quarantined.values())
        out.append(f"  quarantined: {total}")
        for source, reasons in sorted(self.quarantined.items()):
            detail = ", ".join(f"{reason} {n}" for reason, n in sorted(reasons.items()))
            out.append(f"    {source}: {detail}")
        if self.unknown_codes:
            codes = ", ".join(f"{c} ({n})" for c, n in sorted(self.unknown_codes.items()))
            out.append(f"  unknown event codes (kept): {codes}")
        if not self.patient_refs_hashed:
            out.append("  patient references dropped: no site secret in the environment")
        return "\n".join(out)
