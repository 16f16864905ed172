"""The daily cycle: forecast -> tickets, maintenance slots, rebooking, load shifting -> exports.

One function that ``make demo`` and the scheduler's daily job both call. It takes the
forecast day and the planning time as arguments; delivering the tickets it raises is a
separate step (:func:`equiptwin.planning.outbox.deliver`), run right after by the demo
and every few minutes by the scheduler.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from equiptwin.config import PipelineConfig
from equiptwin.dist.engine import ComputeEngine
from equiptwin.features.exam_heat import exam_heat_kj
from equiptwin.features.whatif import twin_days_gained
from equiptwin.forecasting import ForecastRun, run_forecast, write_forecasts_csv
from equiptwin.outputs.exports import export_plan
from equiptwin.planning.loadshift import LoadShift
from equiptwin.planning.plan import DayPlan, plan_day
from equiptwin.store.archive import open_archive


@dataclass(frozen=True)
class DailyCycle:
    """What one day's cycle produced.

    Parameters
    ----------
    forecast : ForecastRun
        The day's forecasts and the model that made them.
    plan : DayPlan
        Ticket changes, maintenance slots and exam moves.
    files : dict of str to Path
        Every file written, by name (``forecasts``, ``capacity``, ``schedule_changes``, ...).
    """

    forecast: ForecastRun
    plan: DayPlan
    files: dict[str, Path]

    def stages(self) -> list[tuple[str, str]]:
        """Return ``(stage, what it did)`` for the forecast and the plan."""
        run, plan = self.forecast, self.plan
        opened = sum(1 for change in plan.tickets if change.kind != "closed")
        return [
            (
                "forecast",
                f"{len(run.forecasts)} component lives on {run.as_of} with model "
                f"{run.model_version}",
            ),
            (
                "plan",
                f"{opened} ticket revisions, {len(plan.slots)} maintenance slots, "
                f"{len(plan.moves)} exams moved (plan {plan.plan_version})",
            ),
            *(("load shift", _shift_words(shift)) for shift in plan.load_shifts),
        ]


def _shift_words(shift: LoadShift) -> str:
    if not shift.moves:
        return f"none off {shift.system_id}: no high-heat exam booked before its slot"
    gained = (
        "not measurable within the twin's horizon"
        if shift.days_gained is None
        else f"{shift.days_gained:+.0f} days"
    )
    share = shift.heat_moved_kj / shift.heat_booked_kj
    return (
        f"{len(shift.moves)} high-heat exams off {shift.system_id} until "
        f"{shift.until:%Y-%m-%d}: {share:.0%} of its booked heat; twin's median life {gained}"
    )


def with_outputs_dir(config: PipelineConfig, out_dir: Path) -> PipelineConfig:
    """Return ``config`` with ``outputs.dir`` set to ``out_dir``.

    The ticket drop folder (``sinks.file.dir``) and the reports folder (``report.dir``)
    are taken inside it unless they are absolute.
    """
    return dataclasses.replace(config, values={**config.values, "outputs.dir": str(out_dir)})


def run_daily_cycle(
    engine: sa.Engine,
    config: PipelineConfig,
    as_of: dt.date,
    out_dir: Path,
    now: dt.datetime,
    *,
    compute: ComputeEngine | None = None,
) -> DailyCycle:
    """Forecast ``as_of``, plan the day and write the exports into ``out_dir``.

    Running it again for the same day with the same data changes nothing: forecasts of
    a day are replaced, tickets keyed by ``dedup_key`` only get a revision when something
    material changed, schedule changes are keyed by appointment and plan version, and
    the files are rewritten whole.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store (data before ``as_of`` is used).
    config : PipelineConfig
        Settings; see :func:`with_outputs_dir` for where the ticket drop folder goes.
    as_of : datetime.date
        The forecast day.
    out_dir : Path
        Folder for ``forecasts.csv``, ``capacity.csv``, ``schedule_changes.csv``,
        ``revised_bookings.*`` and ``maintenance.ics``.
    now : datetime.datetime
        Aware planning time (slots are proposed after it).
    compute : ComputeEngine, optional
        Where the features are built (Dask); in this process when omitted.

    Returns
    -------
    DailyCycle
    """
    if now.tzinfo is None:
        raise ValueError(f"`now` must be timezone-aware, but found {now.isoformat()}.")
    out_dir.mkdir(parents=True, exist_ok=True)
    run = run_forecast(engine, config, as_of, compute=compute)
    archive = open_archive(engine, str(config["store.archive_dir"]))
    plan = plan_day(
        engine,
        run.forecasts,
        as_of,
        config,
        now,
        exam_heat_kj=exam_heat_kj(engine, archive, as_of),
        days_gained=twin_days_gained(engine, config, as_of),
    )
    files = export_plan(engine, plan, run.forecasts, out_dir, config, now)
    files["forecasts"] = write_forecasts_csv(engine, run.forecasts, out_dir / "forecasts.csv")
    return DailyCycle(run, plan, files)
