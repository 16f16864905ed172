"""The main job end to end on one fleet directory, as ``make demo`` runs it.

ingest -> features and twin -> forecast -> tickets, maintenance slots and rebooking ->
delivery to the sinks -> planner exports and ``forecasts.csv`` -> the daily report. The
forecast day is the day after the last logged day, and the planning clock reads 06:00 UTC
that morning (the demo replays that morning, whatever today's date is). Each stage
appears here once the issue that builds it has landed; nothing is faked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from equiptwin.clock import Clock
from equiptwin.config import PipelineConfig
from equiptwin.cycle import run_daily_cycle, with_outputs_dir
from equiptwin.features.frame import data_range
from equiptwin.ingest.run import ingest
from equiptwin.outputs.report import reports_dir, write_report
from equiptwin.planning.outbox import deliver
from equiptwin.store import db as store_db
from equiptwin.store.archive import archive_root

if TYPE_CHECKING:
    from equiptwin.dist.engine import ComputeEngine


def run_demo(
    db: str | None,
    data_dir: Path,
    out_dir: Path,
    config: PipelineConfig,
    clock: Clock,
    compute: ComputeEngine | None = None,
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
        The pipeline's settings; ``out_dir`` replaces ``outputs.dir``, so relative output
        folders (``sinks.file.dir``, ``report.dir``, ``report.backtest_dir``) are inside it.
    clock : Clock
        Times the ingest run (the planning clock is the forecast morning, see above).
    compute : ComputeEngine, optional
        Parses the logs and builds the features (Dask: partitioned by system); in this
        process when omitted.

    Yields
    ------
    tuple of (str, str)
        The stage's name and a short description of where its output is.
    """
    engine = store_db.open_store(db)
    out_dir.mkdir(parents=True, exist_ok=True)
    yield "store", f"{engine.url.render_as_string()} (schema {store_db.current_revision(engine)})"
    summary = ingest(engine, data_dir, config, clock, parse=compute.parse_logs if compute else None)
    stored = sum(summary.rows.get(t, 0) for t in ("events", "exposures", "cryo"))
    quarantined = sum(sum(r.values()) for r in summary.quarantined.values())
    archive = archive_root(engine, str(config["store.archive_dir"]))
    yield (
        "ingest",
        f"{summary.files['read']} files, {stored} raw records -> {archive}; "
        f"{quarantined} quarantined (table quarantine); run {summary.run_id}",
    )

    as_of = data_range(engine)[1] + dt.timedelta(days=1)
    config = with_outputs_dir(config, out_dir)
    morning = dt.datetime.combine(as_of, dt.time(6), dt.UTC)
    cycle = run_daily_cycle(engine, config, as_of, out_dir, morning, compute=compute)
    yield from cycle.stages()
    report = deliver(engine, config, morning)
    yield "deliver", f"{report.delivered} ticket messages to {', '.join(config['sinks.enabled'])}"
    for name, path in sorted(cycle.files.items()):
        yield "export", f"{name}: {path}"
    yield "report", str(write_report(engine, config, as_of, reports_dir(config), morning))
