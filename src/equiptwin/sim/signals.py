"""Documented events a system logs, collected before they are written as text."""

from __future__ import annotations

from dataclasses import dataclass, field

Params = tuple[tuple[str, str], ...]


@dataclass
class Signals:
    """Events with codes from formats.md, as ``(day, elapsed second, code, parameters)``."""

    items: list[tuple[int, float, int, Params]] = field(default_factory=list)

    def add(self, day: int, at_s: float, code: int, params: Params = ()) -> None:
        """Record one event on log day ``day`` at ``at_s`` seconds after local midnight."""
        self.items.append((day, max(at_s, 0.0), code, params))

    def by_day(self) -> dict[int, list[tuple[float, int, Params]]]:
        """Return the events grouped by day, each group in time order."""
        out: dict[int, list[tuple[float, int, Params]]] = {}
        for day, at_s, code, params in sorted(self.items, key=lambda e: (e[0], e[1], e[2])):
            out.setdefault(day, []).append((at_s, code, params))
        return out

    def codes(self) -> list[int]:
        """Return every event's code (for summaries and tests)."""
        return [code for _, _, code, _ in self.items]
