from __future__ import annotations

from pathlib import Path

import pytest

from equiptwin.config import SETTINGS, defaults, load_pipeline, settings_markdown
from equiptwin.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert setting.doc.strip(), setting.key
        assert f"`{setting.key}`" in readme, f"README does not document `{setting.key}`"


def test_every_default_passes_its_own_rule() -> None:
    for setting in SETTINGS:
        assert setting.check is None or setting.check(setting.default) is None, setting.key


def test_shipped_pipelines_load() -> None:
    files = sorted((ROOT / "pipelines").glob("*.toml"))
    assert files
    for path in files:
        load_pipeline(path)


def test_file_values_override_defaults(tmp_path: Path) -> None:
    cfg = load_pipeline(_write(tmp_path, "[ingest]\nchunk_lines = 5000\n"))
    assert cfg["ingest.chunk_lines"] == 5000
    assert cfg["outputs.dir"] == defaults()["outputs.dir"]


def test_integer_is_accepted_for_a_float(tmp_path: Path) -> None:
    cfg = load_pipeline(_write(tmp_path, "[forecast]\nwindow_coverage = 0.9\n"))
    assert cfg["forecast.window_coverage"] == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("[ingest]\nchunk_line = 5\n", r"unknown setting `ingest.chunk_line`.*ingest.chunk_lines"),
        ("[ingest]\nchunk_lines = 'many'\n", r"`ingest.chunk_lines` must be of type int.*'many'"),
        ("[ingest]\nchunk_lines = true\n", r"`ingest.chunk_lines` must be of type int.*True"),
        ("[ingest]\nchunk_lines = -3\n", r"`ingest.chunk_lines` must be greater than 0.*-3"),
        ("[forecast]\nwindow_coverage = 1.5\n", r"strictly between 0 and 1.*1.5"),
        ("[forecast]\nhorizons_days = [14, 7]\n", r"strictly increasing.*\[14, 7\]"),
        ("[ingest\n", r"not valid TOML"),
    ],
    ids=["unknown-key", "wrong-type", "bool-for-int", "rule", "probability", "order", "syntax"],
)
def test_bad_values_name_key_rule_and_value(tmp_path: Path, text: str, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        load_pipeline(_write(tmp_path, text))


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_pipeline(tmp_path / "nope.toml")


def test_unknown_key_lookup_is_an_error() -> None:
    with pytest.raises(ConfigError, match="not a setting"):
        defaults()["no.such"]


def test_markdown_lists_every_setting() -> None:
    text = settings_markdown()
    assert all(f"`{s.key}`" in text for s in SETTINGS)
