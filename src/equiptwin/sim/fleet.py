"""The fleet simulator: a fleet directory in the formats of formats.md, with known truth.

:func:`simulate_fleet` draws the systems, simulates each one (in worker processes when
asked; every system has its own random stream, so the output does not depend on the
number of workers), then writes the fleet-wide files: ``assets.csv``,
``service_records.csv``, ``schedule.csv`` / ``schedule.fhir.json``, the ground truth under
``_truth/`` (which ingestion never reads) and ``SIMULATION.json`` with the arguments.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from equiptwin.errors import ConfigError
from equiptwin.formats import ASSET_COLUMNS, SERVICE_COLUMNS
from equiptwin.sim.schedule import SCHEDULE_COLUMNS, fhir_bundle, schedule_csv_rows
from equiptwin.sim.spec import FleetSpec, SystemSpec, draw_systems
from equiptwin.sim.system import SystemResult, simulate_system
from equiptwin.sim.writers import csv_text

TRUTH_DIR = "_truth"
SIMULATION_FILE = "SIMULATION.json"
LIFE_COLUMNS: tuple[str, ...] = (
    "life_id",
    "system_id",
    "component",
    "installed_on",
    "ended_on",
    "end_reason",
    "failure_mode",
    "has_precursor",
    "failure_at",
)
TRUTH_DECIMALS = 8
"""Decimals kept of the hidden states in the truth file (the same bytes on every CPU)."""
TRUTH_README = """\
# Ground truth of a simulated fleet

Written by `equiptwin simulate`; ingestion never reads this folder. Use it to measure
forecasts, never as an input.

`lives.csv`: one row per component life that was in service during the log days.

| column | meaning |
|---|---|
| `life_id` | `<system_id>:<component>:<installed_on>` |
| `system_id`, `component` | the system and its tracked part (`xray_tube`, `coldhead`) |
| `installed_on` | installation day (before the first log day for the first life) |
| `ended_on` | last day of the life; empty while still in service at the end |
| `end_reason` | `failure`, `preventive` (replaced before failing: censored) or `in_service` |
| `failure_mode` | the twin's failure mode (e.g. `vacuum_arcing`, `sudden`); empty otherwise |
| `has_precursor` | `yes` when the failure mode shows in the indicators before it happens |
| `failure_at` | local time of the failure with UTC offset |

`daily_state.parquet`: one row per system and day the component ran: `system_id`,
`life_id`, `date`, `health` (1 new, 0 at a wear limit) and the twin's hidden states at
the end of the day, by the twin's state names (`filament_loss`, `vacuum_damage`,
`bearing_wear`, `anode_wear`, `anode_ref` and `anode_ref_days` (0 here: the simulator's
AEC stretch is against a new anode) for tubes; `coldhead_wear`, `he_level_pct` for cold heads;
`rate_factor`, the slowly varying wear-rate factor, for both; empty where a state does not
belong to the component). Days the system was down for a replacement have no row.

The simulated tubes and cold heads are `equiptwin.twin` models with their wear rates
multiplied by `wear_scale` of `SIMULATION.json`; radiography tubes use the twin's
`RADIOGRAPHY_REFERENCE` day.
"""


@dataclass(frozen=True)
class SimulationSummary:
    """What a simulation wrote.

    Parameters
    ----------
    out_dir : Path
        The fleet directory.
    systems, days : int
        Fleet size and log days.
    files, bytes_written, event_lines : int
        Per-system files written, their size on disk and the event lines in them.
    lives, failures, failures_with_precursor, preventive : int
        Component lives in the truth and how they ended.
    """

    out_dir: Path
    systems: int
    days: int
    files: int
    bytes_written: int
    event_lines: int
    lives: int
    failures: int
    failures_with_precursor: int
    preventive: int


def _prepare(out_dir: Path, force: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"OUT_DIR {out_dir} is a file; pass a folder path.")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not force:
            raise ConfigError(
                f"OUT_DIR {out_dir} is not empty; pass an empty or new folder, or --force to "
                "replace an earlier simulation there."
            )
        if not (out_dir / SIMULATION_FILE).exists():
            raise ConfigError(
                f"OUT_DIR {out_dir} has no {SIMULATION_FILE}, so it is not a simulated fleet; "
                "--force only replaces earlier simulations. Pass an empty folder."
            )
        for child in out_dir.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)


def _run(
    spec: FleetSpec, out_dir: Path, job: tuple[SystemSpec, np.random.SeedSequence]
) -> SystemResult:
    return simulate_system(spec, job[0], job[1], out_dir)


def system_streams(spec: FleetSpec) -> list[tuple[SystemSpec, np.random.SeedSequence]]:
    """Return the fleet's systems, each with its own fresh random stream.

    The same spec always gives the same systems and streams, so a fleet's draws (its
    bookings, say) can be repeated without simulating it again.
    """
    fleet_seed, systems_seed = np.random.SeedSequence(spec.seed).spawn(2)
    systems = draw_systems(spec, np.random.default_rng(fleet_seed))
    return list(zip(systems, systems_seed.spawn(len(systems)), strict=True))


def simulate_fleet(
    out_dir: Path, spec: FleetSpec, *, workers: int = 1, force: bool = False
) -> SimulationSummary:
    """Simulate a fleet and write it to ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        A new or empty folder (or an earlier simulation, with ``force``).
    spec : FleetSpec
        What to simulate; checked here.
    workers : int
        Processes that simulate systems in parallel (the output is the same for any).
    force : bool
        Replace an earlier simulation in ``out_dir``.

    Returns
    -------
    SimulationSummary

    Raises
    ------
    ConfigError
        On a bad argument or an ``out_dir`` that cannot be used.
    """
    spec.check()
    if workers < 1:
        raise ConfigError(f"`workers` must be at least 1, but found {workers}.")
    _prepare(out_dir, force)
    jobs = system_streams(spec)
    systems = [system for system, _ in jobs]
    run = partial(_run, spec, out_dir)
    if workers == 1 or len(jobs) == 1:
        results = [run(job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            results = list(pool.map(run, jobs))
    _write_fleet_files(out_dir, spec, results)
    lives = [life for r in results for life in r.lives]
    return SimulationSummary(
        out_dir=out_dir,
        systems=len(systems),
        days=spec.days,
        files=sum(r.files for r in results),
        bytes_written=sum(r.bytes_written for r in results),
        event_lines=sum(r.event_lines for r in results),
        lives=len(lives),
        failures=sum(life["end_reason"] == "failure" for life in lives),
        failures_with_precursor=sum(life["has_precursor"] == "yes" for life in lives),
        preventive=sum(life["end_reason"] == "preventive" for life in lives),
    )


def _write_fleet_files(out_dir: Path, spec: FleetSpec, results: list[SystemResult]) -> None:
    assets = [
        (
            r.system.system_id,
            r.system.site,
            r.system.modality,
            r.system.manufacturer,
            r.system.model,
            r.system.installed_on.isoformat(),
            r.system.timezone,
            r.system.tube_model,
            r.component_installed_on.isoformat() if r.system.component == "xray_tube" else "",
        )
        for r in results
    ]
    _write_text(out_dir / "assets.csv", csv_text(ASSET_COLUMNS, assets))
    orders = sorted((o for r in results for o in r.orders), key=lambda o: (o.sort_key, o.system_id))
    rows = [
        (
            f"WO{n + 1:06d}",
            o.system_id,
            o.opened_at,
            o.closed_at,
            o.kind,
            o.component,
            o.action,
            o.failure,
            o.downtime_h,
            o.notes,
        )
        for n, o in enumerate(orders)
    ]
    _write_text(out_dir / "service_records.csv", csv_text(SERVICE_COLUMNS, rows))
    booked = sorted((b for r in results for b in r.booked), key=lambda b: (b.utc_s, b.row[0]))
    csv_rows = schedule_csv_rows(booked)
    if csv_rows or not any(b.fhir for b in booked):
        _write_text(out_dir / "schedule.csv", csv_text(SCHEDULE_COLUMNS, csv_rows))
    if any(b.fhir for b in booked):
        _write_text(out_dir / "schedule.fhir.json", fhir_bundle(booked))
    truth = out_dir / TRUTH_DIR
    truth.mkdir(exist_ok=True)
    lives = [tuple(str(life[c]) for c in LIFE_COLUMNS) for r in results for life in r.lives]
    _write_text(truth / "lives.csv", csv_text(LIFE_COLUMNS, lives))
    _write_text(truth / "README.md", TRUTH_README)
    pq.write_table(_daily_table(results), truth / "daily_state.parquet")
    text = json.dumps(spec.to_json(), indent=2, sort_keys=True) + "\n"
    _write_text(out_dir / SIMULATION_FILE, text)


def _daily_table(results: list[SystemResult]) -> pa.Table:
    names: list[str] = []
    for r in results:
        names += [k for k in r.daily if k not in names]
    columns: dict[str, list[object]] = {k: [] for k in names}
    for r in results:
        n = len(r.daily["system_id"])
        for k in names:
            columns[k].extend(r.daily.get(k, [None] * n))
    table = pa.table(columns)
    # The hidden states are rounded to TRUTH_DECIMALS so that the file is the same on
    # every CPU: vectorised exp/log differ in the last bit between instruction sets, and
    # a year of days carries that to about 1e-12 (12 decimals still differed, measured).
    for i, field in enumerate(table.schema):
        if pa.types.is_floating(field.type):
            table = table.set_column(i, field, pc.round(table.column(i), TRUTH_DECIMALS))
    return table


def _write_text(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8"))


def read_spec(out_dir: Path) -> FleetSpec:
    """Return the spec a fleet directory was simulated with (from ``SIMULATION.json``).

    Raises
    ------
    ConfigError
        When the file is missing or not a simulation spec.
    """
    path = out_dir / SIMULATION_FILE
    try:
        return FleetSpec.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist; is {out_dir} a simulated fleet?") from None
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigError(f"{path} is not a simulation spec ({exc}).") from None
