"""What to simulate: the fleet's arguments and the systems drawn from them.

A :class:`FleetSpec` holds the command's arguments and checks them; :func:`draw_systems`
turns it into one :class:`SystemSpec` per imaging system (site, modality, vendor, log
habits, load), deterministically from the seed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np

from equiptwin.errors import ConfigError

MODALITIES: tuple[str, ...] = ("CT", "XR", "MR")
VOLUMES: tuple[str, ...] = ("default", "reduced")
Volume = Literal["default", "reduced"]

# (site code, IANA timezone, weight): mostly Dutch sites, one British one.
SITES: tuple[tuple[str, str, float], ...] = (
    ("AMS", "Europe/Amsterdam", 0.35),
    ("UTR", "Europe/Amsterdam", 0.25),
    ("RTM", "Europe/Amsterdam", 0.2),
    ("LON", "Europe/London", 0.2),
)

# Fictitious vendors, so nothing reads as a real product's behaviour.
VENDORS: dict[str, tuple[tuple[str, str, str], ...]] = {
    # modality: (manufacturer, model, tube model)
    "CT": (
        ("Helix Imaging", "HX-CT 128", "HX-T8"),
        ("Northwind Medical", "Aurora CT 64", "NW-MX200"),
    ),
    "XR": (
        ("Helix Imaging", "HX-DR 2", "HX-R150"),
        ("Northwind Medical", "Lumen RF", "NW-RF90"),
    ),
    "MR": (
        ("Helix Imaging", "HX-MR 1.5T", ""),
        ("Northwind Medical", "Polaris 3T", ""),
    ),
}

COMPONENT_OF: dict[str, str] = {"CT": "xray_tube", "XR": "xray_tube", "MR": "coldhead"}
# Typical component life in days at wear scale 1 (the twins' calibrated medians).
TYPICAL_LIFE_DAYS: dict[str, float] = {"xray_tube": 2200.0, "coldhead": 1280.0}


@dataclass(frozen=True)
class FleetSpec:
    """The arguments of one simulation run.

    Parameters
    ----------
    n_systems : int
        Number of imaging systems (at least 1).
    days : int
        Number of log days, starting at ``start``.
    seed : int
        Seed of every random draw; the same spec writes byte-identical output.
    start : datetime.date
        First log day.
    mix : tuple of (str, float)
        Modality shares, e.g. ``(("CT", 0.5), ("XR", 0.3), ("MR", 0.2))``.
    volume : {"default", "reduced"}
        ``default`` writes about 2,000 event lines per system per day; ``reduced``
        writes far fewer noise lines and exams (for the committed sample fleet).
    booking_days : int
        Days of future bookings after the last log day in the schedule export.
    wear_scale : float
        Multiplies every wear rate and the sudden-failure hazard of the twins (time
        compression): 1 is the published lifetimes, 4 makes components live a quarter
        as long so a short simulation still sees failures.
    """

    n_systems: int
    days: int
    seed: int
    start: dt.date = dt.date(2025, 1, 1)
    mix: tuple[tuple[str, float], ...] = (("CT", 0.5), ("XR", 0.3), ("MR", 0.2))
    volume: Volume = "default"
    booking_days: int = 42
    wear_scale: float = 1.0

    def check(self) -> FleetSpec:
        """Return ``self`` after checking every argument.

        Raises
        ------
        ConfigError
            When an argument breaks its rule; the message names it and the value.
        """
        if self.n_systems < 1 or self.n_systems > 2000:
            raise ConfigError(
                f"`systems` must be between 1 and 2000, but found {self.n_systems}; "
                "pass e.g. --systems 12."
            )
        if self.days < 1 or self.days > 3660:
            raise ConfigError(
                f"`days` must be between 1 and 3660, but found {self.days}; pass e.g. --days 365."
            )
        if self.seed < 0:
            raise ConfigError(f"`seed` must be a non-negative integer, but found {self.seed}.")
        if self.volume not in VOLUMES:
            raise ConfigError(
                f"`volume` must be one of {', '.join(VOLUMES)}, but found {self.volume!r}."
            )
        if not 0 <= self.booking_days <= 365:
            raise ConfigError(
                f"`booking_days` must be between 0 and 365, but found {self.booking_days}."
            )
        if not 0.1 <= self.wear_scale <= 50:
            raise ConfigError(
                f"`wear_scale` must be between 0.1 and 50, but found {self.wear_scale}; "
                "1 keeps the published component lifetimes."
            )
        names = [m for m, _ in self.mix]
        if not names or any(m not in MODALITIES for m in names) or len(set(names)) != len(names):
            raise ConfigError(
                f"`mix` must name each of {', '.join(MODALITIES)} at most once, but found "
                f"{','.join(names) or 'nothing'}; pass e.g. --mix CT=0.5,XR=0.3,MR=0.2."
            )
        if any(w < 0 for _, w in self.mix) or sum(w for _, w in self.mix) <= 0:
            raise ConfigError(
                "`mix` shares must be non-negative and not all zero, but found "
                f"{','.join(f'{m}={w}' for m, w in self.mix)}."
            )
        return self

    @property
    def end(self) -> dt.date:
        """Last log day (inclusive)."""
        return self.start + dt.timedelta(days=self.days - 1)

    def to_json(self) -> dict[str, Any]:
        """Return the spec as JSON-ready values (written to ``SIMULATION.json``)."""
        out = asdict(self)
        out["start"] = self.start.isoformat()
        out["mix"] = [[m, w] for m, w in self.mix]  # a list: the order matters
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FleetSpec:
        """Rebuild a spec from :meth:`to_json` output."""
        return cls(
            n_systems=int(data["n_systems"]),
            days=int(data["days"]),
            seed=int(data["seed"]),
            start=dt.date.fromisoformat(data["start"]),
            mix=tuple((str(m), float(w)) for m, w in data["mix"]),
            volume=data["volume"],
            booking_days=int(data["booking_days"]),
            wear_scale=float(data["wear_scale"]),
        ).check()


def parse_mix(text: str) -> tuple[tuple[str, float], ...]:
    """Parse ``"CT=0.5,XR=0.3,MR=0.2"`` into modality shares.

    Raises
    ------
    ConfigError
        When a part is not ``MODALITY=SHARE`` with a number.
    """
    out = []
    for part in text.split(","):
        name, sep, share = part.partition("=")
        try:
            out.append((name.strip().upper(), float(share)))
        except ValueError:
            raise ConfigError(
                f"`mix` parts must be MODALITY=SHARE, but found {part!r}; "
                "pass e.g. --mix CT=0.5,XR=0.3,MR=0.2."
            ) from None
        if not sep:
            raise ConfigError(f"`mix` parts must be MODALITY=SHARE, but found {part!r}.")
    return tuple(out)


@dataclass(frozen=True)
class SystemSpec:
    """One imaging system: what the registry says plus how its consoles behave.

    Parameters
    ----------
    index : int
        Position in the fleet (fixes its random stream).
    system_id, site, modality, manufacturer, model, timezone, tube_model : str
        Registry fields (``tube_model`` empty for MR).
    installed_on : datetime.date
        Installation date of the system.
    component : str
        ``xray_tube`` or ``coldhead``.
    component_age_days : int
        Age of the installed component on the first log day.
    legacy_layout : bool
        Whether the console writes the legacy ``;`` layout in local time.
    gzip_after_days : int or None
        Log files older than this many days before the last day are gzipped; ``None``
        never gzips.
    load_factor : float
        Relative workload of this system (1.0 is typical).
    names_in_logs : bool
        Whether the console puts DICOM patient names into event parameters.
    """

    index: int
    system_id: str
    site: str
    modality: str
    manufacturer: str
    model: str
    timezone: str
    tube_model: str
    installed_on: dt.date
    component: str
    component_age_days: int
    legacy_layout: bool
    gzip_after_days: int | None
    load_factor: float
    names_in_logs: bool


def _modality_counts(spec: FleetSpec) -> list[str]:
    names = [m for m, _ in spec.mix]
    shares = np.array([w for _, w in spec.mix], dtype=float)
    exact = shares / shares.sum() * spec.n_systems
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable"):
        if counts.sum() >= spec.n_systems:
            break
        counts[i] += 1
    # Every named modality with a share gets a system, taken from the largest group.
    for i in np.flatnonzero((counts == 0) & (shares > 0)):
        largest = int(np.argmax(counts))
        if counts[largest] > 1:
            counts[largest] -= 1
            counts[i] = 1
    return [m for m, c in zip(names, counts, strict=True) for _ in range(int(c))]


def draw_systems(spec: FleetSpec, rng: np.random.Generator) -> list[SystemSpec]:
    """Draw the fleet's systems.

    Parameters
    ----------
    spec : FleetSpec
        The checked arguments.
    rng : numpy.random.Generator
        The fleet-level random stream.

    Returns
    -------
    list of SystemSpec
        In ``system_id`` order; ``index`` follows that order.
    """
    modalities = _modality_counts(spec)
    site_p = np.array([w for _, _, w in SITES])
    drafts = []
    numbers: dict[tuple[str, str], int] = {}
    for modality in modalities:
        s = int(rng.choice(len(SITES), p=site_p / site_p.sum()))
        site, tz, _ = SITES[s]
        numbers[(modality, site)] = numbers.get((modality, site), 0) + 1
        drafts.append((f"{modality}-{site}-{numbers[(modality, site)]:02d}", site, tz, modality))
    drafts.sort()
    systems = []
    for index, (system_id, site, tz, modality) in enumerate(drafts):
        vendor = VENDORS[modality][int(rng.integers(len(VENDORS[modality])))]
        age_years = float(rng.uniform(2.0, 12.0))
        installed_on = spec.start - dt.timedelta(days=int(age_years * 365.25))
        component = COMPONENT_OF[modality]
        max_age = (spec.start - installed_on).days
        # Components already in service for part of a typical life (the survivors of
        # older lives are drawn in the lifecycle's burn-in).
        typical = TYPICAL_LIFE_DAYS[component] / spec.wear_scale
        age = int(min(max_age, rng.uniform(0.02, 1.0) * typical))
        roll = rng.uniform()
        never = 0.3 if spec.volume == "default" else 0.0
        gzip_after = None if roll < never else (0 if roll < never + 0.2 else 7)
        systems.append(
            SystemSpec(
                index=index,
                system_id=system_id,
                site=site,
                modality=modality,
                manufacturer=vendor[0],
                model=vendor[1],
                timezone=tz,
                tube_model=vendor[2],
                installed_on=installed_on,
                component=component,
                component_age_days=age,
                legacy_layout=bool(rng.uniform() < 0.3),
                gzip_after_days=gzip_after,
                load_factor=float(np.clip(rng.lognormal(0.0, 0.25), 0.55, 1.6)),
                names_in_logs=bool(rng.uniform() < 0.35),
            )
        )
    if len(systems) >= 2 and not any(s.legacy_layout for s in systems):
        systems[-1] = replace(systems[-1], legacy_layout=True)
    if len(systems) >= 2 and all(s.legacy_layout for s in systems):
        systems[0] = replace(systems[0], legacy_layout=False)
    return systems
