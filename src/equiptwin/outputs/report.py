"""The daily HTML report engineers read, and its e-mail.

:func:`write_report` gathers the day's store contents (:mod:`equiptwin.outputs.report_data`),
draws the plots (:mod:`equiptwin.outputs.plots`) and renders
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
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import jinja2
import sqlalchemy as sa

from equiptwin import __version__
from equiptwin.config import PipelineConfig
from equiptwin.outputs import plots
from equiptwin.outputs.exports import CapacityRow
from equiptwin.outputs.report_data import (
    AtRisk,
    Delivery,
    FleetRow,
    at_risk_details,
    capacity_impact,
    day_changes,
    deliveries,
    fleet_rows,
    model_card,
    newest_evaluation,
    tickets,
)
from equiptwin.planning.mail import smtp_sink
from equiptwin.store.artifacts import ModelCard

MAX_CHANGES_SHOWN = 50
MIN_UNPLANNED_H = 0.5
_DATA_PNG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')

METRIC_WORDS: Mapping[str, tuple[str, str]] = {
    "heldout_rows": ("held-out component days", "days scored after training (the last 20%)"),
    "heldout_failures": ("failures among them", "few failures make the scores uncertain"),
    "heldout_from_ordinal": ("held out from", "first day of the held-out period"),
    "heldout_concordance": (
        "concordance",
        "how often the riskier-rated component fails first; 0.5 chance, 1 perfect",
    ),
    "heldout_integrated_brier": (
        "integrated Brier score",
        "squared error of the survival probabilities over time; lower is better",
    ),
}
"""How the model card's metrics are named and read (other metrics appear as named)."""


def report_path(out_dir: Path, as_of: dt.date) -> Path:
    """Return where the report of ``as_of`` is kept: ``out_dir/report-<as_of>.html``."""
    return Path(out_dir) / f"report-{as_of.isoformat()}.html"


def reports_dir(config: PipelineConfig) -> Path:
    """Return the reports folder: ``report.dir`` inside ``outputs.dir`` unless absolute."""
    return _inside_outputs(config, "report.dir")


def _inside_outputs(config: PipelineConfig, key: str) -> Path:
    folder = Path(str(config[key]))
    return folder if folder.is_absolute() else Path(str(config["outputs.dir"])) / folder


def _pct(p: float) -> str:
    return f"{100 * p:.0f}%" if p >= 0.01 or p == 0 else "<1%"


def _num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    return f"{float(value):.{digits}f}"


def _window(row: FleetRow) -> str:
    f = row.forecast
    if f.window_start is None or f.window_end is None:
        return "none"
    return f"{f.window_start} to {f.window_end}"


def _ticket_tag(ticket: Mapping[str, Any] | None) -> dict[str, str] | None:
    if ticket is None:
        return None
    if ticket.get("status") == "closed":
        return {"tag": "closed", "label": f"closed {ticket.get('closed_as_of') or ''}".strip()}
    priority = str(ticket.get("priority", "low"))
    return {"tag": priority, "label": f"open, {priority} (r{ticket.get('revision', 1)})"}


def _anchor(row: FleetRow) -> str:
    return "c-" + re.sub(r"[^A-Za-z0-9]+", "-", row.forecast.life_id).strip("-")


def _fleet_view(rows: Sequence[FleetRow], shown: set[str]) -> list[dict[str, Any]]:
    return [
        {
            "system_id": r.forecast.system_id,
            "life_id": r.forecast.life_id,
            "site": r.site,
            "component": r.forecast.component,
            "age_days": r.age_days,
            "p30_raw": f"{r.forecast.p_within(30):.6f}",
            "p7": _pct(r.forecast.p_within(7)),
            "p14": _pct(r.forecast.p_within(14)),
            "p30": _pct(r.forecast.p_within(30)),
            "window": _window(r),
            "median": "beyond 30"
            if r.forecast.median_days_left is None
            else f"{r.forecast.median_days_left:.0f}",
            "ticket": _ticket_tag(r.ticket),
            "at_risk": r.at_risk,
            "anchor": _anchor(r) if r.forecast.life_id in shown else None,
        }
        for r in rows
    ]


def _summary(row: FleetRow) -> str:
    f = row.forecast
    parts = [
        f"In service for {row.age_days} days.",
        f"Chance of failure: {_pct(f.p_within(7))} within 7 days, "
        f"{_pct(f.p_within(14))} within 14 days, {_pct(f.p_within(30))} within 30 days.",
    ]
    if f.window_start is not None and f.window_end is not None:
        parts.append(
            f"Failure window: {f.window_start} to {f.window_end} "
            f"({f.window_coverage:.0%} chance that it fails in between)."
        )
    else:
        parts.append(
            f"No failure window: a failure within 30 days is less than "
            f"{f.window_coverage:.0%} likely."
        )
    if f.median_days_left is not None:
        parts.append(f"Median time left: {f.median_days_left:.0f} days.")
    return " ".join(parts)


def _ticket_view(ticket: Mapping[str, Any]) -> dict[str, str]:
    tag = _ticket_tag(ticket) or {"tag": "none", "label": ""}
    slot = ticket.get("slot")
    words = [f"{ticket.get('recommended_action', '')}."]
    if slot:
        words.append(
            f"Proposed maintenance {_when(slot['start'])} to {_when(slot['end'])} UTC, "
            f"displacing {slot['displaced_exams']} exam(s), "
            f"P(failure before it) {_pct(float(slot['p_fail_before']))}."
        )
    if ticket.get("note"):
        words.append(f"Last change: {str(ticket['note']).rstrip('.')}.")
    return {"tag": tag["tag"], "status_text": tag["label"], "text": " ".join(words)}


def _when(text: str | None) -> str:
    if not text:
        return ""
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")


def _slot_start(ticket: Mapping[str, Any] | None) -> dt.datetime | None:
    if ticket is None or ticket.get("status") != "open" or not ticket.get("slot"):
        return None
    return dt.datetime.fromisoformat(ticket["slot"]["start"])


def _detail_view(item: AtRisk, trend_days: int) -> dict[str, Any]:
    r, f = item.row, item.row.forecast
    curve_note = (
        "The curve is the model's forecast for every day up to 30 days, recomputed from the "
        "same data the forecast used."
        if item.curve_recomputed
        else f"The model {f.model_version} is not in the registry any more, so the curve is "
        "drawn through the stored 7, 14 and 30-day probabilities (straight in between)."
    )
    return {
        "anchor": _anchor(r),
        "system_id": f.system_id,
        "site": r.site,
        "modality": r.modality,
        "component": f.component,
        "life_id": f.life_id,
        "summary": _summary(r),
        "survival_plot": plots.survival_plot(
            item.curve, f, item.curve_recomputed, _slot_start(r.ticket)
        ),
        "curve_note": curve_note,
        "drivers": [(d.text, "raises" if d.contribution > 0 else "lowers") for d in f.drivers],
        "trend_plot": plots.trend_plot(
            item.daily, f.component, f.drivers, item.service, r.installed_on, f.as_of
        ),
        "service": [{**s, "opened_at": str(s["opened_at"])[:16]} for s in item.service],
        "ticket": _ticket_view(r.ticket) if r.ticket else None,
        "trend_days": trend_days,
    }


def _delivery_text(key: str, by_key: Mapping[str, list[Delivery]]) -> str:
    newest = by_key.get(key, [])
    if not newest:
        return "not queued"
    top = max(d.revision for d in newest)
    return ", ".join(f"{d.sink}: {d.status}" for d in newest if d.revision == top)


def _ticket_tables(
    all_tickets: Mapping[str, Mapping[str, Any]], outbox: Sequence[Delivery], since: dt.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    by_key: dict[str, list[Delivery]] = {}
    for d in outbox:
        by_key.setdefault(d.dedup_key, []).append(d)
    open_rows, closed_rows = [], []
    for t in sorted(all_tickets.values(), key=lambda t: str(t["dedup_key"])):
        if t.get("status") == "open":
            slot = t.get("slot")
            open_rows.append(
                {
                    "dedup_key": t["dedup_key"],
                    "system_id": t["system_id"],
                    "component": t["component"],
                    "priority": t.get("priority", ""),
                    "opened": t.get("opened_as_of", ""),
                    "revision": t.get("revision", 1),
                    "action": t.get("recommended_action", ""),
                    "slot": f"{_when(slot['start'])} to {_when(slot['end'])}" if slot else "none",
                    "delivery": _delivery_text(str(t["dedup_key"]), by_key),
                }
            )
        elif t.get("closed_as_of") and dt.date.fromisoformat(str(t["closed_as_of"])) >= since:
            closed_rows.append(
                {
                    "dedup_key": t["dedup_key"],
                    "system_id": t["system_id"],
                    "component": t["component"],
                    "opened": t.get("opened_as_of", ""),
                    "closed": t["closed_as_of"],
                    "note": t.get("note", ""),
                }
            )
    order = {"critical": 0, "high": 1, "low": 2}
    open_rows.sort(key=lambda t: (order.get(str(t["priority"]), 3), str(t["system_id"])))
    states = Counter(d.status for d in outbox if d.status != "delivered")
    undelivered = ", ".join(f"{n} {status}" for status, n in sorted(states.items()))
    return open_rows, closed_rows, undelivered


def _changes_view(changes: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "appointment_id": str(c["appointment_id"]),
            "priority": str(c["priority"]),
            "old": f"{c['old_system_id']} {_when(c['old_start'])}",
            "new": "cancelled"
            if c["new_start"] is None
            else f"{c['new_system_id']} {_when(c['new_start'])}",
            "reason": str(c["reason"]),
        }
        for c in changes[:MAX_CHANGES_SHOWN]
    ]


def _capacity_view(
    rows: Sequence[CapacityRow],
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    sums: dict[tuple[str, str], dict[str, float]] = {}
    for r in rows:
        s = sums.setdefault((r.system_id, r.site), defaultdict(float))
        s["open"] += r.open_hours
        s["booked"] += r.booked_hours
        s["maintenance"] += r.maintenance_hours
        s["unplanned"] += r.expected_unplanned_hours
        s["available"] += r.available_hours
        s["displaced"] += r.displaced_exams
    shown = [
        {"system_id": system_id, "site": site, **{k: f"{v:.1f}" for k, v in s.items()}}
        | {"displaced": str(int(s["displaced"]))}
        for (system_id, site), s in sorted(sums.items())
        if s["maintenance"] > 0 or s["displaced"] > 0 or s["unplanned"] >= MIN_UNPLANNED_H
    ]
    total: dict[str, float] = defaultdict(float)
    for s in sums.values():
        for key, value in s.items():
            total[key] += value
    return shown, {k: f"{total[k]:.1f}" for k in ("open", "maintenance", "unplanned")}


def _metric_value(name: str, value: float) -> str:
    if name.endswith("_ordinal"):
        return dt.date.fromordinal(int(value)).isoformat()
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.3f}"


def _card_view(card: ModelCard | None) -> dict[str, Any] | None:
    if card is None:
        return None
    metrics = [
        {
            "name": METRIC_WORDS.get(name, (name, ""))[0],
            "value": _metric_value(name, value),
            "meaning": METRIC_WORDS.get(name, ("", ""))[1],
        }
        for name, value in card.metrics.items()
    ]
    return {
        "model_version": card.model_version,
        "estimator": card.estimator,
        "calibrated": card.calibration is not None,
        "training_start": card.training_start,
        "training_end": card.training_end,
        "n_features": len(card.features),
        "created": card.created_at[:10],
        "metrics": metrics,
    }


def _backtest_view(found: tuple[Path, dict[str, Any]] | None) -> dict[str, Any] | None:
    if found is None:
        return None
    path, data = found
    overall = {
        str(a.get("model")): a
        for a in data.get("alerts", [])
        if a.get("modality", a.get("group")) == "all"
    }
    rows = []
    for s in data["scores"]:
        a = overall.get(str(s.get("model")), {})
        failures = a.get("n_failures")
        rows.append(
            {
                "model": s.get("model", ""),
                "concordance": _num(s.get("concordance")),
                "brier": _num(s.get("integrated_brier")),
                "auc": _num(s.get("td_auc_mean")),
                "calibration": _num(s.get("calibration_error")),
                "alerted": f"{a.get('n_alerted', 0)} of {failures}" if failures else "n/a",
                "lead": _num(a.get("median_lead_days"), 0),
                "false_alerts": _num(a.get("false_alerts_per_system_year"), 2),
            }
        )
    period = data.get("period") or ["?", "?"]
    return {
        "path": str(path),
        "period": f"{period[0]} to {period[1]} (end excluded)",
        "rule": data.get("alert_rule", "?"),
        "rows": rows,
    }


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
    open_tickets, closed_tickets, undelivered = _ticket_tables(
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
    capacity, capacity_total = _capacity_view(capacity_rows)
    models_dir = Path(str(config["models.dir"]))
    backtest_dir = _inside_outputs(config, "report.backtest_dir")
    priorities = Counter(str(c["priority"]) for c in changes)
    version = rows[0].forecast.model_version if rows else None
    context = {
        "site": config["site.name"],
        "as_of": as_of.isoformat(),
        "data_until": (as_of - dt.timedelta(days=1)).isoformat(),
        "model_version": version,
        "fleet": _fleet_view(rows, shown),
        "risk_plot": plots.risk_plot(
            [f"{r.forecast.system_id} {r.forecast.component}" for r in rows],
            [r.forecast.p_fail for r in rows],
            rows[0].forecast.horizons_days,
        )
        if rows
        else "",
        "n_at_risk": sum(r.at_risk for r in rows),
        "threshold_pct": _pct(threshold),
        "coverage_pct": _pct(float(config["forecast.window_coverage"])),
        "details": [_detail_view(d, trend_days) for d in details],
        "trend_days": trend_days,
        "open_tickets": open_tickets,
        "closed_tickets": closed_tickets,
        "undelivered": undelivered,
        "changes": changes,
        "changes_shown": _changes_view(changes),
        "n_moved": sum(1 for c in changes if c["new_start"] is not None),
        "n_cancelled": sum(1 for c in changes if c["new_start"] is None),
        "by_priority": ", ".join(f"{n} {p}" for p, n in sorted(priorities.items())),
        "capacity": capacity,
        "capacity_total": capacity_total,
        "capacity_days": int(config["maintenance.search_days"]),
        "card": _card_view(model_card(models_dir, version)),
        "models_dir": str(models_dir),
        "backtest": _backtest_view(newest_evaluation(backtest_dir)),
        "backtest_dir": str(backtest_dir),
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
