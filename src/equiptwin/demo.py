"""The main job end to end on one fleet directory, as ``make demo`` runs it.

Each stage appears here once the issue that builds it has landed; nothing is faked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from equiptwin.config import PipelineConfig
from equiptwin.store import db as store_db


def run_demo(
    db: str | None, data_dir: Path, out_dir: Path, config: PipelineConfig
) -> Iterator[tuple[str, str]]:
    """Run every built stage on ``data_dir`` and yield ``(stage, where its output went)``.

    Parameters
    ----------
    db : str or None
        Store URL or SQLite path; ``None`` uses ``$EQUIPTWIN_DB`` or the default file.
    data_dir : Path
        A fleet directory in the layout of formats.md (``sample_logs/``).
    out_dir : Path
        Folder for reports and exports.
    config : PipelineConfig
        The pipeline's settings.

    Yields
    ------
    tuple of (str, str)
        The stage's name and a short description of where its output is.
    """
    engine = store_db.open_store(db)
    out_dir.mkdir(parents=True, exist_ok=True)
    yield "store", f"{engine.url.render_as_string()} (schema {store_db.current_revision(engine)})"
