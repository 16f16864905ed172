"""The daily HTML report engineers read, and its e-mail.

:func:`write_report` gathers the day's store contents (:mod:`~equiptwin.outputs.report_data`,
:mod:`~equiptwin.outputs.at_risk`), puts them in words and plots
(:mod:`~equiptwin.outputs.report_views`) and renders
``templates/report.html.j2`` (Jinja2, autoescaped) into one self-contained file:
plots embedded as base64 PNG, CSS inline, no external URL. :func:`send_report` mails it
with the ``sinks.email.*`` server settings to ``report.recipients``; the plots travel as
inline images (``cid:``), which mail clients show where they block ``data:`` images.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
from collections import Counter
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import jinja2
import sqlalchemy as sa

from equiptwin import __version__
from equiptwin.config import PipelineConfig
from equiptwin.outputs import plots
from equiptwin.outputs import report_views as views
from equiptwin.outputs.at_risk import at_risk_details
from equiptwin.outputs.report_data import (
    capacity_impact,
    day_changes,
    deliveries,
    fleet_rows,
    model_card,
    newest_evaluation,
    operations_evaluation,
    tickets,
)
from equiptwin.planning.mail import smtp_sink

MAX_RISK_BARS = 30
"""Components in the overview's bar chart, riskiest first (the table lists them all)."""
_DATA_PNG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def report_path(out_dir: Path, as_of: dt.date) -> Path:
    """Return where the report of ``as_of`` is kept: ``out_dir/report-<as_of>.html``."""
    return Path(out_dir) / f"report-{as_of.isoformat()}.html"


def reports_dir(config: PipelineConfig) -> Path:
    """Return the reports folder: ``report.dir`` inside ``outputs.dir`` unless absolute."""
    return _inside_outputs(config, "report.dir")


def _inside_outputs(config: PipelineConfig, key: str) -> Path:
    folder = Path(str(config[key]))
    return folder if folder.is_absolute() else Path(str(config["outputs.dir"])) / folder


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("equiptwin.outputs", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render_report(
    engine: sa.Engine, config: PipelineConfig, as_of: dt.date, now: dt.datetime
) -> str:
    """Return the daily report of ``as_of`` as one HTML document (see :func:`write_report`).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store, holding the day's forecasts (and tickets, plan, outbox).
    config : PipelineConfig
        ``report.*``, ``models.dir``, ``forecast.*``, ``maintenance.search_days``, ...
    as_of : datetime.date
        The forecast day.
    now : datetime.datetime
        Aware time written in the footer.

    Returns
    -------
    str
    """
    trend_days = int(config["report.trend_days"])
    threshold = float(config["report.at_risk_p30"])
    rows = fleet_rows(engine, config, as_of)
    details = at_risk_details(engine, config, rows)
    shown = {d.row.forecast.life_id for d in details}
    all_tickets = tickets(engine, as_of)
    open_tickets, closed_tickets, undelivered = views.ticket_tables(
        all_tickets, deliveries(engine), as_of - dt.timedelta(days=trend_days)
    )
    changes = day_changes(engine, as_of)
    capacity_rows = capacity_impact(
        engine,
        config,
        as_of,
        [r.forecast for r in rows],
        [t for t in all_tickets.values() if t.get("status") == "open"],
        changes,
    )
    capacity, capacity_total = views.capacity_view(capacity_rows)
    models_dir = Path(str(config["models.dir"]))
    backtest_dir = _inside_outputs(config, "report.backtest_dir")
    operations_dir = _inside_outputs(config, "report.operations_dir")
    priorities = Counter(str(c["priority"]) for c in changes)
    version = rows[0].forecast.model_version if rows else None
    context = {
        "site": config["site.name"],
        "as_of": as_of.isoformat(),
        "data_until": (as_of - dt.timedelta(days=1)).isoformat(),
        "model_version": version,
        "fleet": views.fleet_view(rows, shown),
        "risk_plot": plots.risk_plot(
            [f"{r.forecast.system_id} {r.forecast.component}" for r in rows[:MAX_RISK_BARS]],
            [r.forecast.p_fail for r in rows[:MAX_RISK_BARS]],
            rows[0].forecast.horizons_days,
        )
        if rows
        else "",
        "risk_bars": min(len(rows), MAX_RISK_BARS),
        "n_at_risk": sum(r.at_risk for r in rows),
        "threshold_pct": views.pct(threshold),
        "coverage_pct": views.pct(float(config["forecast.window_coverage"])),
        "details": [views.detail_view(d, trend_days) for d in details],
        "trend_days": trend_days,
        "open_tickets": open_tickets,
        "closed_tickets": closed_tickets,
        "undelivered": undelivered,
        "changes": changes,
        "changes_shown": views.changes_view(changes),
        "n_moved": sum(1 for c in changes if c["new_start"] is not None),
        "n_cancelled": sum(1 for c in changes if c["new_start"] is None),
        "by_priority": ", ".join(f"{n} {p}" for p, n in sorted(priorities.items())),
        "capacity": capacity,
        "capacity_total": capacity_total,
        "capacity_days": int(config["maintenance.search_days"]),
        "card": views.card_view(model_card(models_dir, version)),
        "models_dir": str(models_dir),
        "backtest": views.backtest_view(newest_evaluation(backtest_dir)),
        "backtest_dir": str(backtest_dir),
        "operations": views.operations_view(operations_evaluation(operations_dir)),
        "operations_dir": str(operations_dir),
        "written": now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
    }
    return _environment().get_template("report.html.j2").render(context)


def write_report(
    engine: sa.Engine, config: PipelineConfig, as_of: dt.date, out_dir: Path, now: dt.datetime
) -> Path:
    """Write the daily HTML report for forecast day ``as_of`` and return its path.

    The report is one self-contained file, ``out_dir/report-<as_of>.html``: plots
    embedded as base64 PNG, CSS inline, no external URL. It holds the fleet ranked by
    risk; for each at-risk component its survival curve and failure window, indicator
    trends with the signals that moved the forecast, and its ticket; open and closed
    tickets; the day's schedule changes and capacity impact; the model card and the
    latest backtest. Idempotent: rerunning for the same day rewrites the same file
    (written to a temporary name and renamed, so a reader never sees half a report).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store, after the day's forecast (and plan).
    config : PipelineConfig
        Settings (``report.*`` and those of the stages it reads).
    as_of : datetime.date
        The forecast day.
    out_dir : Path
        Folder of the reports (created when missing).
    now : datetime.datetime
        Aware time written in the footer.

    Returns
    -------
    Path
        The report file.
    """
    html = render_report(engine, config, as_of, now)
    path = report_path(out_dir, as_of)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)
    return path


def report_message_id(site: str, as_of: dt.date, domain: str) -> str:
    """Return the stable ``Message-ID`` of one day's report e-mail for one site."""
    digest = hashlib.sha256(site.encode("utf-8")).hexdigest()[:12]
    return f"<report-{as_of.isoformat()}.{digest}@{domain}>"


def report_message(
    html: str, config: PipelineConfig, as_of: dt.date, now: dt.datetime
) -> EmailMessage:
    """Return the e-mail of one day's report: a short text part and the HTML with its plots.

    Parameters
    ----------
    html : str
        The report (from :func:`write_report`).
    config : PipelineConfig
        ``report.recipients``, ``sinks.email.sender`` and ``site.name``.
    as_of : datetime.date
        The report's day.
    now : datetime.datetime
        Aware time for the ``Date`` header.

    Returns
    -------
    email.message.EmailMessage
        ``multipart/alternative``; the HTML part is ``multipart/related`` with one inline
        PNG per plot (``cid:`` references instead of ``data:`` URIs).
    """
    sender = str(config["sinks.email.sender"])
    domain = sender.rpartition("@")[2] or "equiptwin"
    site = str(config["site.name"])
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(config["report.recipients"])
    msg["Subject"] = f"equiptwin daily report {site} {as_of.isoformat()}"
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = report_message_id(site, as_of, domain)
    msg["X-Equiptwin-Report-Day"] = as_of.isoformat()
    msg.set_content(
        f"The equiptwin daily maintenance report for {site}, forecast day {as_of}, is the "
        "HTML part of this message. If your mail program shows only this text, open the "
        f"file report-{as_of}.html from the reports folder in a browser.\n"
    )
    images: list[bytes] = []

    def to_cid(match: re.Match[str]) -> str:
        images.append(base64.b64decode(match.group(1)))
        return f'src="cid:plot{len(images)}.{as_of.isoformat()}@{domain}"'

    msg.add_alternative(_DATA_PNG.sub(to_cid, html), subtype="html")
    html_part = next(p for p in msg.iter_parts() if p.get_content_type() == "text/html")
    for i, png in enumerate(images, start=1):
        html_part.add_related(
            png,
            "image",
            "png",
            cid=f"<plot{i}.{as_of.isoformat()}@{domain}>",
            filename=f"plot{i}.png",
        )
    return msg


def send_report(path: Path, config: PipelineConfig, as_of: dt.date) -> None:
    """E-mail the report at ``path`` to ``report.recipients``.

    The server, sender and login are the ticket e-mail sink's (``sinks.email.*``; the
    password from the environment variable named by ``sinks.email.password_env``). The
    ``Message-ID`` is stable per site and day, so a report sent twice is recognised as
    the same message.

    Parameters
    ----------
    path : Path
        The report file (from :func:`write_report`).
    config : PipelineConfig
        Settings.
    as_of : datetime.date
        The report's day.

    Raises
    ------
    DeliveryError
        When the server refuses or cannot be reached (``retryable`` says whether a later
        try may succeed).
    """
    html = Path(path).read_text(encoding="utf-8")
    now = dt.datetime.fromtimestamp(Path(path).stat().st_mtime, dt.UTC)
    message = report_message(html, config, as_of, now)
    smtp_sink(config, to=config["report.recipients"]).send_message(message)
