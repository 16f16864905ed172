"""One declarative settings table, and the loader for ``pipelines/<name>.toml``.

Every setting equiptwin reads is a row of :data:`SETTINGS`: its dotted key (the TOML
table path), type, default and documentation. A pipeline file is loaded explicitly
with :func:`load_pipeline`; a missing file, an unknown key or a bad value raises
:class:`~equiptwin.errors.ConfigError` naming the key, the rule and the value.

Sections listed in :data:`OPEN_SECTIONS` (vendor mappings, per-site policy) hold
structured tables whose owners validate them; they are passed through as dicts.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from equiptwin.errors import ConfigError

Check = Callable[[Any], str | None]


def _positive(value: Any) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _probability(value: Any) -> str | None:
    return None if 0.0 < value < 1.0 else "must be strictly between 0 and 1"


def _horizons(value: Any) -> str | None:
    if not value or any(not isinstance(h, int) or h <= 0 for h in value):
        return "must be a non-empty list of positive whole days"
    return None if list(value) == sorted(set(value)) else "must be strictly increasing"


def _hhmm(value: Any) -> str | None:
    parts = value.split(":")
    ok = len(parts) == 2 and all(p.isdigit() and len(p) == 2 for p in parts)
    return None if ok and int(parts[0]) < 24 and int(parts[1]) < 60 else "must be a time HH:MM"


def _weekdays(value: Any) -> str | None:
    ok = value and all(isinstance(d, int) and 1 <= d <= 7 for d in value)
    return None if ok else "must be a non-empty list of ISO weekdays (1 = Monday .. 7 = Sunday)"


def _non_negative(value: Any) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def _impact(value: Any) -> str | None:
    return None if value in (1, 2, 3) else "must be 1 (high), 2 (medium) or 3 (low)"


def _port(value: Any) -> str | None:
    return None if 0 < value < 65536 else "must be a TCP port between 1 and 65535"


def _addresses(value: Any) -> str | None:
    ok = value and all(isinstance(a, str) and "@" in a for a in value)
    return None if ok else "must be a non-empty list of e-mail addresses"


def _timezone(value: Any) -> str | None:
    try:
        ZoneInfo(value)
    except (ValueError, ZoneInfoNotFoundError):
        return "must be an IANA time zone such as 'Europe/Amsterdam'"
    return None


def _retrain_metric(value: Any) -> str | None:
    known = ("concordance", "integrated_brier", "td_auc_mean", "calibration_error")
    return None if value in known else f"must be one of {known}"


def _sink_names(value: Any) -> str | None:
    known = ("file", "webhook", "email")
    bad = [v for v in value if v not in known]
    return f"may hold only {known}" if bad else None


@dataclass(frozen=True)
class Setting:
    """One row of the settings table.

    Parameters
    ----------
    key : str
        Dotted key, as the TOML table path (``ingest.chunk_lines``).
    type : type
        The Python type the value must have (``float`` also accepts integers).
    default : Any
        Value used when the pipeline file does not set it.
    doc : str
        One or two sentences for the README's settings table, with units.
    check : Check or None
        Extra rule; returns the broken rule as text, or ``None`` when the value is good.
    """

    key: str
    type: type
    default: Any
    doc: str
    check: Check | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting("site.name", str, "demo", "Name of the site or fleet this pipeline serves."),
    Setting(
        "site.secret_env",
        str,
        "EQUIPTWIN_SITE_SECRET",
        "Environment variable holding the site secret used to key hashes of patient "
        "references; the secret itself never goes into a file or the store.",
    ),
    Setting(
        "store.archive_dir",
        str,
        "archive",
        "Folder for the columnar archive of raw records, relative to the store file's folder "
        "(or absolute).",
    ),
    Setting(
        "ingest.chunk_lines",
        int,
        200_000,
        "Lines parsed per chunk; bounds memory whatever the fleet size.",
        _positive,
    ),
    Setting(
        "ingest.workers",
        int,
        2,
        "Processes that parse log files in parallel (1 parses in the main process); the "
        "store is the same whatever the number.",
        _positive,
    ),
    Setting(
        "forecast.horizons_days",
        list,
        [7, 14, 30],
        "Horizons, in days, of the failure probabilities P(fail within h days).",
        _horizons,
    ),
    Setting(
        "forecast.window_coverage",
        float,
        0.8,
        "Probability that the true failure date falls inside the reported failure window.",
        _probability,
    ),
    Setting("outputs.dir", str, "out", "Folder for reports and exports."),
    Setting(
        "report.dir",
        str,
        "reports",
        "Folder the daily HTML reports are kept in (`report-<as_of>.html`), relative to "
        "`outputs.dir` (or absolute).",
    ),
    Setting(
        "report.recipients",
        list,
        ["maintenance@localhost"],
        "Who receives the daily report by e-mail (`equiptwin report --email`); the SMTP "
        "server, sender and login are the `sinks.email.*` settings.",
        _addresses,
    ),
    Setting(
        "report.at_risk_p30",
        float,
        0.1,
        "P(fail within 30 days) at or above which a component gets its own section in the "
        "report (survival curve, trends, drivers); components with an open ticket always do.",
        _probability,
    ),
    Setting(
        "report.max_at_risk",
        int,
        12,
        "Most components with their own section, highest risk first (the fleet table lists "
        "them all).",
        _positive,
    ),
    Setting(
        "report.trend_days",
        int,
        60,
        "Days of indicator and event history plotted for each at-risk component.",
        _positive,
    ),
    Setting(
        "report.backtest_dir",
        str,
        "backtest",
        "Folder searched (with its subfolders) for the newest backtest `evaluation.json` to "
        "show in the report, relative to `outputs.dir` (or absolute); none found, none shown.",
    ),
    Setting(
        "report.operations_dir",
        str,
        "operations",
        "Folder of `equiptwin evaluate`'s `operations.json` and `operations.png` (what each "
        "maintenance policy does to a department) to show in the report, relative to "
        "`outputs.dir` (or absolute); none found, none shown.",
    ),
    # --- planning: ticket policy (per modality / site overrides in [policy_overrides]) ---
    Setting(
        "policy.horizon_days",
        int,
        14,
        "Horizon, in days, whose P(fail within h days) sets a ticket's priority; must be one "
        "of `forecast.horizons_days`.",
        _positive,
    ),
    Setting(
        "policy.p_open",
        float,
        0.2,
        "P(fail within `policy.horizon_days`) at or above which a ticket opens (priority low).",
        _probability,
    ),
    Setting(
        "policy.p_high",
        float,
        0.5,
        "P(fail within `policy.horizon_days`) at or above which a ticket is priority high.",
        _probability,
    ),
    Setting(
        "policy.p_critical",
        float,
        0.8,
        "P(fail within `policy.horizon_days`) at or above which a ticket is priority critical.",
        _probability,
    ),
    Setting(
        "policy.window_days_high",
        int,
        14,
        "A failure window starting within this many days of `as_of` makes a ticket at "
        "least priority high.",
        _non_negative,
    ),
    Setting(
        "policy.window_days_critical",
        int,
        3,
        "A failure window starting within this many days of `as_of` makes a ticket critical.",
        _non_negative,
    ),
    Setting(
        "policy.impact",
        int,
        2,
        "Service-desk impact of a ticket: 1 high, 2 medium, 3 low (ServiceNow scale).",
        _impact,
    ),
    Setting(
        "policy.revision_min_p_change",
        float,
        0.05,
        "Smallest change of P(fail within `policy.horizon_days`) that issues a new ticket "
        "revision when nothing else changed.",
        _probability,
    ),
    # --- planning: maintenance slot choice ---
    Setting(
        "maintenance.workday_start",
        str,
        "07:00",
        "Engineers' working day starts (HH:MM, the system's local time).",
        _hhmm,
    ),
    Setting(
        "maintenance.workday_end",
        str,
        "19:00",
        "Engineers' working day ends (HH:MM, the system's local time).",
        _hhmm,
    ),
    Setting(
        "maintenance.workdays",
        list,
        [1, 2, 3, 4, 5],
        "ISO weekdays engineers work (1 = Monday .. 7 = Sunday).",
        _weekdays,
    ),
    Setting(
        "maintenance.job_hours_xray_tube",
        float,
        6.0,
        "Hours an X-ray tube replacement takes the system out of service.",
        _positive,
    ),
    Setting(
        "maintenance.job_hours_coldhead",
        float,
        8.0,
        "Hours a cold-head service takes the system out of service.",
        _positive,
    ),
    Setting(
        "maintenance.search_days",
        int,
        14,
        "Days after `as_of` searched for a maintenance slot (at most the longest forecast "
        "horizon is used).",
        _positive,
    ),
    Setting(
        "maintenance.step_min",
        int,
        30,
        "Minutes between candidate maintenance start times.",
        _positive,
    ),
    # --- planning: cost model (published figures where noted in the README) ---
    Setting(
        "cost.downtime_per_day_mr",
        float,
        35000.0,
        "Cost of one day of MR downtime, in currency units (published: up to ~$35k/day).",
        _non_negative,
    ),
    Setting(
        "cost.downtime_per_day_ct",
        float,
        7500.0,
        "Cost of one day of CT downtime, in currency units (published: ~$5-10k/day).",
        _non_negative,
    ),
    Setting(
        "cost.downtime_per_day_xr",
        float,
        2500.0,
        "Cost of one day of radiography downtime, in currency units (an assumption).",
        _non_negative,
    ),
    Setting(
        "cost.unplanned_downtime_days_xray_tube",
        float,
        3.0,
        "Days an unplanned X-ray tube failure keeps the system down (an assumption).",
        _non_negative,
    ),
    Setting(
        "cost.unplanned_downtime_days_coldhead",
        float,
        5.0,
        "Days an unplanned cold-head failure keeps the system down (an assumption).",
        _non_negative,
    ),
    Setting(
        "cost.emergency_premium",
        float,
        15000.0,
        "Extra cost of an unplanned repair (call-out, expedited parts), currency units.",
        _non_negative,
    ),
    Setting(
        "cost.displaced_exam",
        float,
        150.0,
        "Cost of moving one outpatient exam, currency units; other priorities are weighted.",
        _non_negative,
    ),
    Setting("cost.weight_stat", float, 10.0, "Weight of a displaced stat exam.", _non_negative),
    Setting(
        "cost.weight_inpatient", float, 3.0, "Weight of a displaced inpatient exam.", _non_negative
    ),
    Setting(
        "cost.weight_outpatient",
        float,
        1.0,
        "Weight of a displaced outpatient exam.",
        _non_negative,
    ),
    # --- planning: rebooking of displaced exams ---
    Setting(
        "booking.day_start",
        str,
        "07:00",
        "Exams may be booked from this time (HH:MM, the system's local time).",
        _hhmm,
    ),
    Setting(
        "booking.day_end",
        str,
        "20:00",
        "Exams must end by this time (HH:MM, the system's local time).",
        _hhmm,
    ),
    Setting(
        "booking.step_min",
        int,
        15,
        "Minutes between candidate start times when rebooking an exam.",
        _positive,
    ),
    Setting(
        "rebooking.search_days",
        int,
        7,
        "Days after the original start searched for a new time for an outpatient exam.",
        _positive,
    ),
    Setting(
        "rebooking.other_system_penalty_h",
        float,
        1.0,
        "A move to another system counts as this many hours of delay.",
        _non_negative,
    ),
    Setting(
        "rebooking.other_site_penalty_h",
        float,
        48.0,
        "A move to another site counts as this many hours of delay (same site first).",
        _non_negative,
    ),
    # --- planning: load shifting off an at-risk X-ray tube ---
    Setting(
        "load_shift.min_exam_heat_kj",
        float,
        300.0,
        "Exams whose typical anode heat reaches this many kJ are moved off an at-risk tube "
        "until its slot (published: a CT spiral scan is ~700 kJ).",
        _non_negative,
    ),
    Setting(
        "load_shift.min_priority",
        str,
        "high",
        "Ticket priority from which an X-ray tube's high-heat exams are moved to healthy "
        "systems: `low`, `high` or `critical`.",
        lambda v: None if v in ("low", "high", "critical") else "must be low, high or critical",
    ),
    # --- planning: ticket delivery ---
    Setting(
        "sinks.enabled",
        list,
        ["file"],
        "Sinks every ticket revision is delivered to: any of `file`, `webhook`, `email`.",
        _sink_names,
    ),
    Setting(
        "sinks.file.dir",
        str,
        "tickets",
        "Drop folder for tickets.jsonl and tickets.csv, relative to `outputs.dir` (or absolute).",
    ),
    Setting(
        "sinks.webhook.url",
        str,
        "",
        "Base URL of the service desk (ServiceNow-style table API at "
        "`<url>/api/now/table/incident`).",
    ),
    Setting(
        "sinks.webhook.token_env",
        str,
        "EQUIPTWIN_WEBHOOK_TOKEN",
        "Environment variable holding the desk's bearer token; never stored or logged.",
    ),
    Setting(
        "sinks.webhook.timeout_s",
        float,
        10.0,
        "Seconds to wait for one HTTP request to the desk.",
        _positive,
    ),
    Setting(
        "sinks.webhook.tries",
        int,
        3,
        "HTTP tries per delivery attempt, with exponential backoff and jitter between them.",
        _positive,
    ),
    Setting(
        "sinks.webhook.backoff_s",
        float,
        0.5,
        "First pause between HTTP tries, in seconds; doubles with each try.",
        _non_negative,
    ),
    Setting("sinks.email.host", str, "localhost", "SMTP server host."),
    Setting("sinks.email.port", int, 25, "SMTP server port.", _port),
    Setting("sinks.email.sender", str, "equiptwin@localhost", "From address of ticket e-mails."),
    Setting(
        "sinks.email.to",
        list,
        ["servicedesk@localhost"],
        "Recipients of ticket e-mails.",
        _addresses,
    ),
    Setting("sinks.email.user", str, "", "SMTP login user; empty for no login."),
    Setting(
        "sinks.email.password_env",
        str,
        "EQUIPTWIN_SMTP_PASSWORD",
        "Environment variable holding the SMTP password; never stored or logged.",
    ),
    Setting("sinks.email.starttls", bool, False, "Upgrade the SMTP connection with STARTTLS."),
    Setting(
        "sinks.email.timeout_s", float, 10.0, "Seconds to wait for the SMTP server.", _positive
    ),
    Setting(
        "outbox.max_attempts",
        int,
        12,
        "Delivery attempts per outbox message before it is marked failed.",
        _positive,
    ),
    Setting(
        "outbox.backoff_s",
        float,
        60.0,
        "Seconds before the second delivery attempt; doubles with each attempt.",
        _positive,
    ),
    Setting(
        "outbox.backoff_max_s",
        float,
        3600.0,
        "Longest pause between delivery attempts, in seconds.",
        _positive,
    ),
    Setting(
        "twin.wear_scale",
        float,
        1.0,
        "Fleet-wide factor on the degradation models' wear rates: 1 is the published-prior "
        "calibration; the bundled sample fleet ages 8 times faster (pipelines/sample.toml).",
        _positive,
    ),
    Setting(
        "twin.particles",
        int,
        400,
        "Particles per component life in the twin's particle filter.",
        _positive,
    ),
    Setting(
        "twin.samples",
        int,
        300,
        "Monte Carlo samples of the twin's forward run, per life and day.",
        _positive,
    ),
    Setting(
        "twin.workers",
        int,
        2,
        "Processes that run component lives' twins in parallel (1 runs them in the main "
        "process); the features are the same whatever the number.",
        _positive,
    ),
    Setting(
        "serve.timezone",
        str,
        "UTC",
        "IANA time zone of the site's day: daily jobs run at its local times and a job's "
        "logical day is the local date.",
        _timezone,
    ),
    Setting(
        "serve.lease_s",
        float,
        120.0,
        "Seconds the scheduler lease of a store lasts without renewal (renewed every third "
        "of it); a second `serve` may take over only after it expired.",
        _positive,
    ),
    Setting(
        "serve.misfire_grace_s",
        int,
        21600,
        "A job whose time passed while `serve` was stopped or busy still runs if at most "
        "this many seconds late (APScheduler `misfire_grace_time`).",
        _positive,
    ),
    Setting(
        "serve.coalesce",
        bool,
        True,
        "Runs of one job missed in a row are run once, not once each (APScheduler `coalesce`).",
    ),
    Setting(
        "serve.max_instances",
        int,
        1,
        "Runs of one job allowed at the same time (APScheduler `max_instances`).",
        _positive,
    ),
    Setting(
        "jobs.ingest.every_min",
        int,
        15,
        "Minutes between polls of the fleet data folder by the ingest job.",
        _positive,
    ),
    Setting(
        "jobs.deliver.every_min",
        int,
        5,
        "Minutes between outbox deliveries of ticket revisions to the sinks.",
        _positive,
    ),
    Setting(
        "jobs.daily.at",
        str,
        "05:00",
        "Local time (HH:MM, `serve.timezone`) of the daily cycle: forecast, tickets, "
        "schedule changes and exports for that day.",
        _hhmm,
    ),
    Setting(
        "jobs.report.at",
        str,
        "06:30",
        "Local time (HH:MM, `serve.timezone`) of the daily report.",
        _hhmm,
    ),
    Setting(
        "jobs.report.email",
        bool,
        False,
        "The daily report job also e-mails the report to `report.recipients`.",
    ),
    Setting(
        "jobs.retrain.weekday",
        int,
        7,
        "ISO weekday of the weekly retraining (1 = Monday .. 7 = Sunday).",
        lambda d: None if 1 <= d <= 7 else "must be an ISO weekday (1 = Monday .. 7 = Sunday)",
    ),
    Setting(
        "jobs.retrain.at",
        str,
        "02:00",
        "Local time (HH:MM, `serve.timezone`) of the weekly retraining.",
        _hhmm,
    ),
    Setting(
        "jobs.retrain.every_days",
        int,
        7,
        "A challenger is trained only when the champion's training data ends at least this "
        "many days before the day.",
        _positive,
    ),
    Setting(
        "jobs.retrain.holdout_days",
        int,
        28,
        "Most recent days held out: the challenger learns from the days before them, and "
        "champion and challenger are scored on them.",
        _positive,
    ),
    Setting(
        "jobs.retrain.metric",
        str,
        "concordance",
        "Held-out score that decides promotion (the challenger must be no worse): "
        "`concordance`, `td_auc_mean` (higher is better), `integrated_brier` or "
        "`calibration_error` (lower is better).",
        _retrain_metric,
    ),
    Setting("models.dir", str, "models", "Model registry folder (one folder per version)."),
    Setting(
        "dask.scheduler",
        str,
        "",
        "Address of the Dask scheduler used with `--engine dask` (`tcp://host:8786`); "
        "empty starts a local cluster for the command. `--scheduler` overrides it.",
    ),
    Setting(
        "dask.workers",
        int,
        2,
        "Worker processes of the local cluster started when no scheduler is given.",
        _positive,
    ),
    Setting(
        "dask.threads_per_worker",
        int,
        1,
        "Threads per worker process of the local cluster.",
        _positive,
    ),
    Setting(
        "dask.memory_limit",
        str,
        "auto",
        "Memory limit per local worker (`4GB`, or `auto`: the machine's memory shared "
        "between the workers).",
    ),
    Setting(
        "dask.systems_per_task",
        int,
        10,
        "Systems per feature-building task on the Dask engine (ingest parses one task "
        "per system and source).",
        _positive,
    ),
    Setting(
        "backtest.retrain_days",
        int,
        30,
        "Days between retrainings in a backtest (each on data before its cut only).",
        _positive,
    ),
    Setting(
        "backtest.min_train_days",
        int,
        90,
        "Days of history the first backtest model needs before the backtest starts.",
        _positive,
    ),
    # --- evaluate: the operations twin (department simulation under maintenance policies) ---
    Setting(
        "operations.engineers",
        int,
        2,
        "Field engineers shared by the fleet in the operations twin; a job waits for a free "
        "one and works only in `maintenance.*` working hours.",
        _positive,
    ),
    Setting(
        "operations.part_lead_days_xray_tube",
        float,
        2.0,
        "Days from ordering a spare X-ray tube to its arrival (ordered at the failure, or at "
        "the decision to replace).",
        _non_negative,
    ),
    Setting(
        "operations.part_lead_days_coldhead",
        float,
        3.0,
        "Days from ordering a spare cold head to its arrival.",
        _non_negative,
    ),
    Setting(
        "operations.part_cost_xray_tube",
        float,
        120000.0,
        "Price of a replacement X-ray tube with installation, currency units (published: "
        "~$50-190k).",
        _non_negative,
    ),
    Setting(
        "operations.part_cost_coldhead",
        float,
        40000.0,
        "Price of a cold-head replacement, currency units (an assumption).",
        _non_negative,
    ),
    Setting(
        "operations.engineer_hour",
        float,
        150.0,
        "Cost of one engineer hour on a job, currency units (an assumption).",
        _non_negative,
    ),
    Setting(
        "operations.cancelled_exam",
        float,
        600.0,
        "Cost of cancelling one outpatient exam (short notice, or no room to rebook), currency "
        "units; other priorities are weighted by `cost.weight_*` (an assumption).",
        _non_negative,
    ),
    Setting(
        "operations.fixed_interval_quantile",
        float,
        0.2,
        "The fixed-interval policy replaces a component at this quantile of the failure ages "
        "of its kind in the evaluated worlds (a manufacturer's service interval).",
        _probability,
    ),
)

OPEN_SECTIONS: tuple[str, ...] = ("mappings", "policy_overrides")

_BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}


@dataclass(frozen=True)
class PipelineConfig:
    """Validated settings of one pipeline.

    Parameters
    ----------
    values : Mapping[str, Any]
        Every key of :data:`SETTINGS`, with file values over defaults.
    sections : Mapping[str, Any]
        The open sections, as written in the file.
    source : str
        The file the values came from, or ``"defaults"``.
    """

    values: Mapping[str, Any]
    sections: Mapping[str, Any] = field(default_factory=dict)
    source: str = "defaults"

    def __getitem__(self, key: str) -> Any:
        """Return the value of a setting by its dotted key."""
        if key not in _BY_KEY:
            raise ConfigError(f"`{key}` is not a setting; see `equiptwin settings` for the list.")
        return self.values[key]


def defaults() -> PipelineConfig:
    """Return the configuration made of every setting's default."""
    return PipelineConfig({s.key: s.default for s in SETTINGS})


def _flatten(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and key not in _BY_KEY:
            yield from _flatten(value, key + ".")
        else:
            yield key, value


def _validate(key: str, value: Any, source: str) -> Any:
    setting = _BY_KEY.get(key)
    if setting is None:
        known = ", ".join(sorted(k for k in _BY_KEY if k.split(".")[0] == key.split(".")[0]))
        hint = f" Known keys in this table: {known}." if known else ""
        raise ConfigError(f"{source}: unknown setting `{key}`.{hint}")
    expected = setting.type
    ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise ConfigError(
            f"{source}: `{key}` must be of type {expected.__name__}, but found {value!r}."
        )
    broken = setting.check(value) if setting.check else None
    if broken:
        raise ConfigError(f"{source}: `{key}` {broken}, but found {value!r}.")
    return value


def validate_setting(key: str, value: Any, source: str) -> Any:
    """Check one value against its setting's type and rule, as a pipeline file's are.

    Parameters
    ----------
    key : str
        Dotted key of a row of :data:`SETTINGS`.
    value : Any
        The value to check (an ``int`` is converted for a ``float`` setting).
    source : str
        Where the value came from, for the message (``"pipelines/ams.toml [policy_overrides]"``).

    Returns
    -------
    Any
        The checked value.

    Raises
    ------
    ConfigError
        When the key is unknown or the value has the wrong type or breaks the rule.
    """
    return _validate(key, value, source)


def load_pipeline(path: str | Path) -> PipelineConfig:
    """Load and validate a pipeline file.

    Parameters
    ----------
    path : str or Path
        A TOML file, usually ``pipelines/<name>.toml``.

    Returns
    -------
    PipelineConfig
        Defaults overlaid with the file's values.

    Raises
    ------
    ConfigError
        When the file is missing or unreadable, or a key is unknown, of the wrong type
        or breaks its rule.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"pipeline file {path} does not exist; pass an existing pipelines/<name>.toml."
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}).") from None
    sections = {name: raw.pop(name) for name in OPEN_SECTIONS if name in raw}
    values = {s.key: s.default for s in SETTINGS}
    for key, value in _flatten(raw):
        values[key] = _validate(key, value, str(path))
    return PipelineConfig(values, sections, str(path))


def settings_markdown() -> str:
    """Return the settings table as Markdown (for the README and ``equiptwin settings``)."""
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        rows.append(f"| `{s.key}` | {s.type.__name__} | `{s.default!r}` | {s.doc} |")
    return "\n".join(rows)
