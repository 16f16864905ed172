from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ingest.fleet import write_fleet
from tests.ingest.helpers import snapshot

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("chunk_lines", "kill_at"),
    # chunk_lines 2 cuts the first log into several blocks: a commit in the middle of a file
    [(4, "parts:2"), (4, "commit:3"), (2, "commit:1")],
    ids=["before-commit", "after-commit", "mid-file"],
)
def test_killed_run_then_rerun_equals_one_clean_run(
    tmp_path: Path, chunk_lines: int, kill_at: str
) -> None:
    pipeline = tmp_path / "small.toml"
    pipeline.write_text(f"[ingest]\nchunk_lines = {chunk_lines}\nworkers = 1\n", encoding="utf-8")
    clean_fleet = write_fleet(tmp_path / "clean")
    fleet = write_fleet(tmp_path / "killed")
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}", "EQUIPTWIN_SITE_SECRET": "k"}

    def cli(url: str, data: Path, extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "equiptwin",
                "--db",
                url,
                "--pipeline",
                str(pipeline),
                "ingest",
                "--no-progress",
                str(data),
            ],
            env={**env, **extra},
            capture_output=True,
            text=True,
            check=False,
        )

    clean_url = f"sqlite:///{tmp_path / 'c' / 'store.sqlite'}"
    assert cli(clean_url, clean_fleet, {}).returncode == 0
    url = f"sqlite:///{tmp_path / 'k' / 'store.sqlite'}"
    killed = cli(url, fleet, {"EQUIPTWIN_TEST_KILL_AT": kill_at})
    assert killed.returncode == -9, killed.stderr
    partial = snapshot(url)
    assert partial != snapshot(clean_url)  # the kill left the work half done
    rerun = cli(url, fleet, {})
    assert rerun.returncode == 0, rerun.stderr
    assert snapshot(url) == snapshot(clean_url)
