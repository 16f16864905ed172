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
