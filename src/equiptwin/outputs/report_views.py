"""The report's contents in words: store values turned into what the template shows.

Each ``*_view`` function takes the typed values of :mod:`equiptwin.outputs.report_data`
and :mod:`equiptwin.outputs.at_risk` and returns plain dicts and strings for
``templates/report.html.j2``: percentages, dates, sentences an engineer reads, and the
plots (:mod:`equiptwin.outputs.plots`) as data URIs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from equiptwin.outputs import plots
from equiptwin.outputs.at_risk import AtRisk
from equiptwin.outputs.exports import CapacityRow
from equiptwin.outputs.report_data import Delivery, FleetRow
from equiptwin.store.artifacts import ModelCard

MAX_CHANGES_SHOWN = 50
MIN_UNPLANNED_H = 0.5

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


def pct(p: float) -> str:
    """Return a probability as a whole percentage (``"<1%"`` for a small non-zero one)."""
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


def fleet_view(rows: Sequence[FleetRow], shown: set[str]) -> list[dict[str, Any]]:
    """Return the fleet table's rows.

    Parameters
    ----------
    rows : sequence of FleetRow
        The fleet, riskiest first.
    shown : set of str
        Lives with their own section (their row links to it).

    Returns
    -------
    list of dict
        One per row: identity, age, P7/P14/P30, window, median, ticket tag, anchor.
    """
    return [
        {
            "system_id": r.forecast.system_id,
            "life_id": r.forecast.life_id,
            "site": r.site,
            "component": r.forecast.component,
            "age_days": r.age_days,
            "p30_raw": f"{r.forecast.p_within(30):.6f}",
            "p7": pct(r.forecast.p_within(7)),
            "p14": pct(r.forecast.p_within(14)),
            "p30": pct(r.forecast.p_within(30)),
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
        f"Chance of failure: {pct(f.p_within(7))} within 7 days, "
        f"{pct(f.p_within(14))} within 14 days, {pct(f.p_within(30))} within 30 days.",
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
            f"P(failure before it) {pct(float(slot['p_fail_before']))}."
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


def detail_view(item: AtRisk, trend_days: int) -> dict[str, Any]:
    """Return one at-risk component's section: sentences, plots, drivers, ticket.

    Parameters
    ----------
    item : AtRisk
        The component's detail.
    trend_days : int
        Days of history in its trend plot.

    Returns
    -------
    dict
    """
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


def _delivery_text(ticket: Mapping[str, Any], by_key: Mapping[str, list[Delivery]]) -> str:
    shown = [
        d for d in by_key.get(str(ticket["dedup_key"]), []) if d.revision == ticket["revision"]
    ]
    if not shown:
        return "not queued"
    return ", ".join(
        f"{d.sink}: {d.status}" + (f" ({d.last_error[:120]})" if d.last_error else "")
        for d in shown
    )


def ticket_tables(
    all_tickets: Mapping[str, Mapping[str, Any]], outbox: Sequence[Delivery], since: dt.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """Return the open and recently closed tickets, and a line on undelivered messages.

    Parameters
    ----------
    all_tickets : mapping of str to mapping
        Ticket payloads as they stood on the report day, by ``life_id``.
    outbox : sequence of Delivery
        The outbox.
    since : datetime.date
        Closed tickets are listed when closed on or after this day.

    Returns
    -------
    open_rows, closed_rows : list of dict
        Open tickets by priority (critical first), closed ones by key.
    undelivered : str
        Counts of outbox messages not delivered, by state (empty when all are).
    """
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
                    "delivery": _delivery_text(t, by_key),
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


def changes_view(changes: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Return the first :data:`MAX_CHANGES_SHOWN` schedule changes as table rows."""
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


def capacity_view(
    rows: Sequence[CapacityRow],
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Return per-system capacity sums over the period, and the fleet's totals.

    Systems without maintenance, displaced exams or :data:`MIN_UNPLANNED_H` of expected
    unplanned downtime are left out of the rows (not of the totals).
    """
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


CALIBRATOR_WORDS: dict[str, str] = {
    "TwinScaled": "the twin's own failure curve scaled by {estimator} on its hazard index",
    "CalibratedEstimator": "{estimator}, isotonic-calibrated",
}
"""How the report names a stored model's kind, by its calibrator."""


def card_view(card: ModelCard | None) -> dict[str, Any] | None:
    """Return the model card in words (metrics named and explained), or ``None``."""
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
        "kind": CALIBRATOR_WORDS.get(card.calibrator or "", "{estimator}").format(
            estimator=card.estimator
        ),
        "training_start": card.training_start,
        "training_end": card.training_end,
        "n_features": len(card.features),
        "created": card.created_at[:10],
        "metrics": metrics,
    }


def _at_our_false_alerts(matched: dict[str, Any] | None) -> str:
    """Return a model's recall at equiptwin's false-alert rate in words ('' when absent)."""
    if matched is None:
        return ""
    if not matched.get("matched"):
        return "never as few false alerts"
    return f"{matched.get('n_alerted')} of {matched.get('n_failures')}"


def backtest_view(found: tuple[Path, dict[str, Any]] | None) -> dict[str, Any] | None:
    """Return a backtest evaluation as table rows (scores and alerts per model), or ``None``."""
    if found is None:
        return None
    path, data = found
    overall = {
        str(a.get("model")): a
        for a in data.get("alerts", [])
        if a.get("modality", a.get("group")) == "all"
    }
    at_false_alerts = {
        str(m.get("model")): m
        for m in data.get("matched_to_equiptwin", [])
        if m.get("matched_on") == "false alerts"
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
                "at_our_false_alerts": _at_our_false_alerts(
                    at_false_alerts.get(str(s.get("model")))
                ),
            }
        )
    period = data.get("period") or ["?", "?"]
    return {
        "path": str(path),
        "period": f"{period[0]} to {period[1]} (end excluded)",
        "rule": data.get("alert_rule", "?"),
        "rows": rows,
    }


OPERATIONS_METRICS: tuple[tuple[str, str], ...] = (
    ("unplanned_downtime_h", "Unplanned downtime (h)"),
    ("cancelled_short_notice", "Short-notice cancellations"),
    ("discarded_life_days", "Life discarded (days)"),
    ("total_cost", "Total cost"),
)
"""The operations twin's headline metrics in the report: key and heading."""


def _whole(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    return f"{float(value):,.0f}"


def operations_view(found: tuple[Path, dict[str, Any]] | None) -> dict[str, Any] | None:
    """Return an operations evaluation as report rows (mean [95% interval] per policy).

    The plot ``operations.png`` beside the JSON is embedded as a data URI when present.
    """
    if found is None:
        return None
    path, data = found
    cells: dict[str, dict[str, str]] = {}
    worlds: set[int] = set()
    for row in data["summary"]:
        metric = next((m for m in OPERATIONS_METRICS if m[0] == row.get("metric")), None)
        if metric is None:
            continue
        mean, low, high = (_whole(row.get(k)) for k in ("mean", "ci_low", "ci_high"))
        cells.setdefault(str(row.get("policy")), {})[metric[0]] = f"{mean} [{low}, {high}]"
        worlds.add(int(row.get("seeds", 0)))
    png = path.with_name("operations.png")
    plot = plots.png_data_uri(png.read_bytes()) if png.is_file() else ""
    goal = data.get("goal", {})

    def cut(key: str) -> str:
        return pct(float(goal[key])) if key in goal else "n/a"

    return {
        "path": str(path),
        "headings": [m[1] for m in OPERATIONS_METRICS],
        "rows": [
            {"policy": policy, "cells": [values.get(m[0], "n/a") for m in OPERATIONS_METRICS]}
            for policy, values in cells.items()
        ],
        "worlds": max(worlds, default=0),
        "downtime_cut": cut("downtime_cut_vs_run_to_failure"),
        "cancellations_cut": cut("cancellations_cut_vs_run_to_failure"),
        "plot": plot,
    }
