from __future__ import annotations

from tests.planning.conftest import engine

__all__ = ["engine"]
