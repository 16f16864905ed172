"""Vendor mappings: how each source's columns, timestamps and event codes are read.

A mapping is the open ``[mappings.<source>]`` section of a pipeline file. Every key
has a default (the layout of formats.md), so a site writes only what differs; a new
vendor variant is configuration, not code. :func:`load_mappings` validates the
section and raises :class:`~equiptwin.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from equiptwin.errors import ConfigError
from equiptwin.formats import (
    ASSET_COLUMNS,
    CRYO_FIELDS,
    EXPOSURE_COLUMNS,
    SCHEDULE_COLUMNS,
    SERVICE_COLUMNS,
)

EVENT_CODES: dict[str, str] = {
    "1000": "System startup",
    "1001": "System shutdown",
    "1011": "Daily quality check failed",
    "2100": "Tube warm-up completed",
    "2301": "Tube arc detected",
    "2302": "Exposure aborted after repeated arcs",
    "2310": "Filament current out of tolerance",
    "2311": "Emission current regulation error",
    "2320": "Anode rotor start slow",
    "2321": "Anode coast-down time short",
    "2330": "Tube housing temperature high",
    "2331": "Cooling wait inserted",
    "2399": "X-ray tube failure",
    "3105": "kV regulation deviation",
    "3200": "DC bus voltage low",
    "6100": "Chiller flow low",
    "6200": "Water temperature high",
    "7110": "Cold head temperature high",
    "7120": "Compressor trip",
    "7121": "Compressor restart",
    "7130": "Magnet pressure high",
    "7140": "Helium level low",
    "7199": "Cold head failure",
    "7200": "Magnet quench",
    "7300": "Gradient coil temperature high",
    "7310": "Gradient amplifier thermal trip",
    "7400": "RF amplifier reflected power high",
}

CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "assets": ASSET_COLUMNS,
    "service_records": SERVICE_COLUMNS,
    "schedule": SCHEDULE_COLUMNS,
    "exposures": EXPOSURE_COLUMNS,
}

#: Columns that are optional in an export (an empty cell or a missing column is allowed).
OPTIONAL_COLUMNS: frozenset[str] = frozenset(
    {"tube_model", "tube_installed_on", "installed_on", "closed_at", "downtime_h", "notes"}
    | {"patient_ref", "coastdown_s", "site", "modality"}
)


@dataclass(frozen=True)
class CsvMapping:
    """How one CSV export is read.

    Parameters
    ----------
    delimiter : str
        Field separator (one character).
    decimal : str
        Decimal mark of numbers (``.`` or ``,``).
    timestamp_format : str
        ``"ISO8601"`` or a ``strftime`` layout such as ``%d.%m.%Y %H:%M``.
    timezone : str
        Zone of timestamps without a UTC offset: ``"system"`` (the system's zone from
        ``assets.csv``) or an IANA name.
    columns : Mapping[str, str]
        equiptwin's column name -> the export's column name.
    """

    delimiter: str
    decimal: str
    timestamp_format: str
    timezone: str
    columns: Mapping[str, str]


@dataclass(frozen=True)
class EventMapping:
    """How event-log lines are read (both layouts of formats.md).

    Parameters
    ----------
    params_separator : str
        What separates the message from the parameters in the current layout.
    legacy_separator : str
        Field separator of the legacy layout.
    legacy_timestamp_format : str
        ``strftime`` layout of legacy timestamps (local time of the system, no offset).
    drop_params : tuple of str
        Parameter names that hold personal data; they are removed before storing.
    codes : Mapping[int, str]
        Known event codes and their meaning; other codes are kept and counted as unknown.
    """

    params_separator: str
    legacy_separator: str
    legacy_timestamp_format: str
    drop_params: tuple[str, ...]
    codes: Mapping[int, str]


@dataclass(frozen=True)
class JsonMapping:
    """How JSON-lines telemetry (cryogenics) is read.

    Parameters
    ----------
    timezone : str
        Zone of timestamps without a UTC offset (``"system"`` or an IANA name).
    fields : Mapping[str, str]
        equiptwin's field name -> the export's key.
    """

    timezone: str
    fields: Mapping[str, str]


@dataclass(frozen=True)
class Mappings:
    """Every source's mapping, validated."""

    events: EventMapping
    cryo: JsonMapping
    csv: Mapping[str, CsvMapping]


def _str(section: Mapping[str, Any], key: str, default: str, where: str) -> str:
    value = section.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"`{where}.{key}` must be a non-empty string, but found {value!r}.")
    return value


def _zone(value: str, where: str) -> str:
    if value == "system":
        return value
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"`{where}.timezone` must be 'system' or an IANA zone name such as "
            f"'Europe/Amsterdam', but found {value!r}."
        ) from None
    return value


def _names(
    section: Mapping[str, Any], key: str, wanted: tuple[str, ...], where: str
) -> dict[str, str]:
    given = section.get(key, {})
    if not isinstance(given, Mapping):
        raise ConfigError(f"`{where}.{key}` must be a table of name = 'column', found {given!r}.")
    for name, column in given.items():
        if name not in wanted:
            raise ConfigError(
                f"`{where}.{key}.{name}` is not a known field; known: {', '.join(wanted)}."
            )
        if not isinstance(column, str) or not column:
            raise ConfigError(f"`{where}.{key}.{name}` must be a column name, found {column!r}.")
    return {name: str(given.get(name, name)) for name in wanted}


def _known_keys(section: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in section:
        if key not in allowed:
            raise ConfigError(
                f"`{where}.{key}` is unknown; known keys: {', '.join(sorted(allowed))}."
            )


def _csv(section: Mapping[str, Any], source: str) -> CsvMapping:
    where = f"mappings.{source}"
    _known_keys(section, {"delimiter", "decimal", "timestamp_format", "timezone", "columns"}, where)
    delimiter = _str(section, "delimiter", ",", where)
    decimal = _str(section, "decimal", ".", where)
    if len(delimiter) != 1 or decimal not in (".", ","):
        raise ConfigError(
            f"`{where}` needs a one-character delimiter and decimal '.' or ',', but found "
            f"{delimiter!r} and {decimal!r}."
        )
    return CsvMapping(
        delimiter=delimiter,
        decimal=decimal,
        timestamp_format=_str(section, "timestamp_format", "ISO8601", where),
        timezone=_zone(_str(section, "timezone", "system", where), where),
        columns=_names(section, "columns", CSV_COLUMNS[source], where),
    )


def _events(section: Mapping[str, Any]) -> EventMapping:
    where = "mappings.events"
    _known_keys(
        section,
        {"params_separator", "legacy_separator", "legacy_timestamp_format", "drop_params", "codes"},
        where,
    )
    drop = section.get("drop_params", ["patient", "patient_name", "patient_id", "birth_date"])
    if not isinstance(drop, list) or not all(isinstance(d, str) and d for d in drop):
        raise ConfigError(f"`{where}.drop_params` must be a list of names, but found {drop!r}.")
    codes_in = section.get("codes", EVENT_CODES)
    if not isinstance(codes_in, Mapping):
        raise ConfigError(f"`{where}.codes` must be a table of code = 'meaning'.")
    codes: dict[int, str] = {}
    for code, meaning in codes_in.items():
        if not str(code).isdigit() or not isinstance(meaning, str):
            raise ConfigError(
                f"`{where}.codes.{code}` must map a whole-number code to its meaning, "
                f"but found {meaning!r}."
            )
        codes[int(code)] = meaning
    return EventMapping(
        params_separator=_str(section, "params_separator", " | ", where),
        legacy_separator=_str(section, "legacy_separator", ";", where),
        legacy_timestamp_format=_str(
            section, "legacy_timestamp_format", "%d-%b-%Y %H:%M:%S", where
        ),
        drop_params=tuple(drop),
        codes=codes,
    )


def load_mappings(sections: Mapping[str, Any]) -> Mappings:
    """Validate the ``mappings`` section of a pipeline and fill in defaults.

    Parameters
    ----------
    sections : Mapping[str, Any]
        The pipeline's open sections (:attr:`PipelineConfig.sections`).

    Returns
    -------
    Mappings
        One mapping per source.

    Raises
    ------
    ConfigError
        When a key is unknown or a value is of the wrong kind; the message names the key.
    """
    raw = sections.get("mappings", {})
    if not isinstance(raw, Mapping):
        raise ConfigError(f"`mappings` must be a table of sources, but found {raw!r}.")
    known = {"events", "cryo", *CSV_COLUMNS}
    _known_keys(raw, known, "mappings")
    for name, section in raw.items():
        if not isinstance(section, Mapping):
            raise ConfigError(f"`mappings.{name}` must be a table, but found {section!r}.")
    cryo = raw.get("cryo", {})
    _known_keys(cryo, {"timezone", "fields"}, "mappings.cryo")
    return Mappings(
        events=_events(raw.get("events", {})),
        cryo=JsonMapping(
            timezone=_zone(_str(cryo, "timezone", "system", "mappings.cryo"), "mappings.cryo"),
            fields=_names(cryo, "fields", CRYO_FIELDS, "mappings.cryo"),
        ),
        csv={source: _csv(raw.get(source, {}), source) for source in CSV_COLUMNS},
    )
