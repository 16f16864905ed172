from __future__ import annotations

from pathlib import Path

import pytest

from tests.ingest.fleet import write_fleet


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    return write_fleet(tmp_path / "fleet")


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("EQUIPTWIN_SITE_SECRET", "test-site-secret")
    return "test-site-secret"
