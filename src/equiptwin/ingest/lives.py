"""Component lives from the asset registry and the replacement work orders.

The first life of a system's tracked component (``xray_tube`` for CT and XR,
``coldhead`` for MR) starts at ``tube_installed_on`` when given (for an MR, a site may put
the cold head's install date there), else at the system's ``installed_on``. A registry
export usually shows the *current* component: when ``tube_installed_on`` is later than a
replacement of that component in the CMMS export, the first life starts at the system's
``installed_on`` instead (the original component), and the replacements chain from there.

Every work order that *replaced* the component ends the current life and starts the next:
a ``corrective`` replacement with ``failure=yes`` ends it as ``failure`` on the day the
work order was opened (when the component failed) and the next life starts the day it
closed (the new component installed; the days between are downtime and belong to no
life); any other replacement ends it as ``censored`` and starts the next life on the day
it closed (opened, when not closed). ``life_id`` is ``<system_id>:<component>:<n>``,
counting from 1; every life keeps the registry's component model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from equiptwin.ingest.commit import upsert
from equiptwin.store.schema import Base, ComponentLife, ServiceRecord, System


def component_of(modality: str) -> str:
    """Return the tracked component of a modality."""
    return "coldhead" if modality == "MR" else "xray_tube"


def first_life(asset: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return the first life of an asset row (``None`` when it has no install date)."""
    component = component_of(str(asset["modality"]))
    start = asset.get("tube_installed_on") or asset.get("installed_on")
    if start is None:
        return None
    return {
        "life_id": f"{asset['system_id']}:{component}:1",
        "system_id": asset["system_id"],
        "component": component,
        "component_model": asset.get("tube_model") or None,
        "installed_on": start,
        "ended_on": None,
        "end_reason": None,
        "end_work_order": None,
    }


def refresh(conn: sa.Connection) -> int:
    """Re-derive every life after life 1 from the work orders; return how many lives exist.

    Life 1 (written from ``assets.csv``) anchors each system. Lives are upserted, never
    deleted, because forecasts and tickets refer to them.
    """
    lives = sa.select(ComponentLife).where(ComponentLife.life_id.like("%:1"))
    anchors = {row.system_id: row for row in conn.execute(lives)}
    registry = conn.execute(sa.select(System.system_id, System.modality, System.installed_on))
    systems = {row.system_id: row for row in registry}
    orders = conn.execute(
        sa.select(ServiceRecord)
        .where(ServiceRecord.action == "replaced")
        .order_by(ServiceRecord.system_id, ServiceRecord.opened_at, ServiceRecord.work_order)
    ).all()
    by_system: dict[str, list[Any]] = {}
    for order in orders:
        by_system.setdefault(order.system_id, []).append(order)
    rows = []
    for system_id, anchor in sorted(anchors.items()):
        system = systems.get(system_id)
        component = component_of(system.modality if system else "")
        current = dict(anchor._mapping) | {
            "ended_on": None,
            "end_reason": None,
            "end_work_order": None,
        }
        n = 1
        replacements = sorted(
            (
                ((o.closed_at or o.opened_at).date(), o)
                for o in by_system.get(system_id, [])
                if o.component == component
            ),
            key=lambda pair: (pair[0], pair[1].work_order),
        )
        if (
            replacements
            and system is not None
            and system.installed_on is not None
            and replacements[0][0] <= current["installed_on"]
        ):
            current["installed_on"] = min(system.installed_on, replacements[0][0])
        for day, order in replacements:
            if day < current["installed_on"]:
                continue
            failed = order.kind == "corrective" and order.failure
            rows.append(
                current
                | {
                    "ended_on": order.opened_at.date() if failed else day,
                    "end_reason": "failure" if failed else "censored",
                    "end_work_order": order.work_order,
                }
            )
            n += 1
            current = current | {
                "life_id": f"{system_id}:{component}:{n}",
                "installed_on": day,
                "ended_on": None,
                "end_reason": None,
                "end_work_order": None,
            }
        rows.append(current)
    upsert(conn, Base.metadata.tables[ComponentLife.__tablename__], rows, ["life_id"])
    return len(rows)
