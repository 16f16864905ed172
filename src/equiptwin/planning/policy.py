"""Ticket policy: from a failure forecast to a ticket priority the service desk understands.

The policy of one site and modality is the ``policy.*`` settings, overridden in the open
section ``[policy_overrides]`` of the pipeline file, most specific last::

    [policy_overrides.modality.MR]        # every MR in the fleet
    impact = 1
    [policy_overrides.site.AMS]           # every system at site AMS
    p_open = 0.15
    [policy_overrides.site.AMS.MR]        # the MRs at AMS
    p_high = 0.4

Keys inside an override table are the setting names without ``policy.``; each value is
checked against the same type and rule as the setting itself.

A ticket's priority is the highest of two rules: P(fail within ``horizon_days``) against
``p_open`` / ``p_high`` / ``p_critical``, and the failure window's first day against
``window_days_high`` / ``window_days_critical`` days from ``as_of``. It maps to the desk's
``urgency`` (critical 1, high 2, low 3) beside the configured ``impact``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from equiptwin.config import PipelineConfig, validate_setting
from equiptwin.errors import ConfigError
from equiptwin.forecast import FailureForecast

PRIORITIES: tuple[str, ...] = ("low", "high", "critical")
"""Ticket priorities, lowest first."""

URGENCY: Mapping[str, int] = {"low": 3, "high": 2, "critical": 1}
"""ServiceNow urgency (1 high .. 3 low) of each ticket priority."""

MODALITIES: tuple[str, ...] = ("CT", "XR", "MR")


@dataclass(frozen=True)
class Policy:
    """The ticket policy of one site and modality (see the module docstring).

    Parameters
    ----------
    horizon_days : int
        Horizon whose failure probability sets the priority.
    p_open, p_high, p_critical : float
        Probability thresholds of priorities low, high and critical (non-decreasing).
    window_days_high, window_days_critical : int
        A failure window starting within this many days makes a ticket at least high /
        critical.
    impact : int
        Service-desk impact, 1 (high) to 3 (low).
    revision_min_p_change : float
        Smallest probability change that alone issues a new ticket revision.
    """

    horizon_days: int
    p_open: float
    p_high: float
    p_critical: float
    window_days_high: int
    window_days_critical: int
    impact: int
    revision_min_p_change: float

    def __post_init__(self) -> None:
        if not self.p_open <= self.p_high <= self.p_critical:
            raise ConfigError(
                "policy thresholds must satisfy p_open <= p_high <= p_critical, but found "
                f"{self.p_open}, {self.p_high}, {self.p_critical}; fix the pipeline's [policy]."
            )
        if self.window_days_critical > self.window_days_high:
            raise ConfigError(
                "policy `window_days_critical` must not exceed `window_days_high`, but found "
                f"{self.window_days_critical} > {self.window_days_high}."
            )

    def priority(self, forecast: FailureForecast) -> str | None:
        """Return the priority the forecast calls for, or ``None`` when no ticket is due.

        Parameters
        ----------
        forecast : FailureForecast
            Must have a probability for ``horizon_days``.

        Returns
        -------
        str or None
            One of :data:`PRIORITIES`.

        Raises
        ------
        ConfigError
            When the forecast has no probability for the policy's horizon.
        """
        try:
            p = forecast.p_within(self.horizon_days)
        except KeyError:
            raise ConfigError(
                f"`policy.horizon_days` is {self.horizon_days}, but the forecast for "
                f"{forecast.system_id} has horizons {forecast.horizons_days}; set it to one "
                "of `forecast.horizons_days`."
            ) from None
        level = -1
        for i, threshold in enumerate((self.p_open, self.p_high, self.p_critical)):
            if p >= threshold:
                level = i
        if forecast.window_start is not None:
            days = (forecast.window_start - forecast.as_of).days
            if days <= self.window_days_critical:
                level = max(level, 2)
            elif days <= self.window_days_high:
                level = max(level, 1)
        return PRIORITIES[level] if level >= 0 else None

    def opens(
        self, p_within: npt.ArrayLike, window_start_days: npt.ArrayLike
    ) -> npt.NDArray[np.bool_]:
        """Return where a ticket is due, for many forecasts at once.

        The same rule as :meth:`priority` is not ``None``: P(fail within
        ``horizon_days``) reaches ``p_open``, or the failure window starts within
        ``window_days_high`` days (the critical window is never longer).

        Parameters
        ----------
        p_within : array_like of float
            P(fail within ``horizon_days``) of each forecast.
        window_start_days : array_like of float
            Days from ``as_of`` to each failure window's first day; ``NaN`` without one.
        """
        start = np.asarray(window_start_days, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            near = start <= self.window_days_high
        out: npt.NDArray[np.bool_] = (np.asarray(p_within, dtype=np.float64) >= self.p_open) | near
        return out


_POLICY_FIELDS = tuple(f.name for f in fields(Policy))


def _checked(table: Any, where: str, source: str) -> dict[str, Any]:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source}: `{where}` must be a table, but found {table!r}.")
    out: dict[str, Any] = {}
    for name, value in table.items():
        if name in MODALITIES and isinstance(value, Mapping):
            continue
        if name not in _POLICY_FIELDS:
            raise ConfigError(
                f"{source}: `{where}.{name}` is not a policy key; use one of "
                f"{', '.join(_POLICY_FIELDS)} (or a modality table {MODALITIES})."
            )
        out[name] = validate_setting(f"policy.{name}", value, f"{source} `{where}`")
    return out


def policy_for(config: PipelineConfig, site: str, modality: str) -> Policy:
    """Return the policy of one site and modality: settings, then overrides.

    Parameters
    ----------
    config : PipelineConfig
        The pipeline; ``policy.*`` settings and its ``[policy_overrides]`` section.
    site : str
        The system's site.
    modality : str
        ``CT``, ``XR`` or ``MR``.

    Returns
    -------
    Policy

    Raises
    ------
    ConfigError
        When an override names an unknown key or breaks a setting's rule, or the
        thresholds are out of order.
    """
    values: dict[str, Any] = {name: config[f"policy.{name}"] for name in _POLICY_FIELDS}
    overrides = config.sections.get("policy_overrides", {})
    source = f"{config.source} [policy_overrides]"
    by_modality = overrides.get("modality", {})
    by_site = overrides.get("site", {})
    unknown = set(overrides) - {"modality", "site"}
    if unknown:
        raise ConfigError(
            f"{source}: unknown table(s) {sorted(unknown)}; use `modality.<CT|XR|MR>` or "
            "`site.<site>` (optionally `site.<site>.<modality>`)."
        )
    if modality in by_modality:
        values |= _checked(by_modality[modality], f"modality.{modality}", source)
    if site in by_site:
        site_table = by_site[site]
        values |= _checked(site_table, f"site.{site}", source)
        if isinstance(site_table, Mapping) and modality in site_table:
            values |= _checked(site_table[modality], f"site.{site}.{modality}", source)
    return Policy(**values)


def policies_by_system(
    config: PipelineConfig, systems: Iterable[tuple[str, str, str]]
) -> dict[str, Policy]:
    """Return the policy of each system, from ``(system_id, site, modality)`` triples.

    See :func:`policy_for`; a pair of site and modality is resolved once.
    """
    resolved: dict[tuple[str, str], Policy] = {}
    out: dict[str, Policy] = {}
    for system_id, site, modality in systems:
        if (site, modality) not in resolved:
            resolved[site, modality] = policy_for(config, site, modality)
        out[system_id] = resolved[site, modality]
    return out
