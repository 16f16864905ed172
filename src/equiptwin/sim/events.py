"""Event log lines: the catalogue of codes and the text of both layouts.

Signal events (arcs, filament, rotor, housing temperature, cryogenics, failures) come from
the physics; everything else here is the bulk of a real log: heartbeats, worklist and
reconstruction jobs, network and user messages, vendor codes nobody documented, and
occasional unrelated warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# code -> (severity, subsystem, message); the documented codes of formats.md.
SIGNAL_CODES: dict[int, tuple[str, str, str]] = {
    1000: ("I", "SYS", "System startup"),
    1001: ("I", "SYS", "System shutdown"),
    1011: ("W", "SYS", "Daily quality check failed"),
    2100: ("I", "TUBE", "Tube warm-up completed"),
    2301: ("W", "TUBE", "Tube arc detected"),
    2302: ("E", "TUBE", "Exposure aborted after repeated arcs"),
    2310: ("W", "TUBE", "Filament current out of tolerance"),
    2311: ("E", "TUBE", "Emission current regulation error"),
    2320: ("W", "TUBE", "Anode rotor start slow"),
    2321: ("W", "TUBE", "Anode coast-down time short"),
    2330: ("W", "TUBE", "Tube housing temperature high"),
    2331: ("I", "TUBE", "Cooling wait inserted"),
    2399: ("F", "TUBE", "X-ray tube failure"),
    3105: ("W", "GEN", "kV regulation deviation"),
    3200: ("W", "GEN", "DC bus voltage low"),
    6100: ("W", "COOL", "Chiller flow low"),
    6200: ("W", "COOL", "Water temperature high"),
    7110: ("W", "CRYO", "Cold head temperature high"),
    7120: ("E", "CRYO", "Compressor trip"),
    7121: ("I", "CRYO", "Compressor restart"),
    7130: ("W", "CRYO", "Magnet pressure high"),
    7140: ("W", "CRYO", "Helium level low"),
    7199: ("F", "CRYO", "Cold head failure"),
    7200: ("F", "MAGNET", "Magnet quench"),
    7300: ("W", "GRAD", "Gradient coil temperature high"),
    7310: ("E", "GRAD", "Gradient amplifier thermal trip"),
    7400: ("W", "RF", "RF amplifier reflected power high"),
}


@dataclass(frozen=True)
class Template:
    """A noise line with at most one parameter (``key=value``).

    The two prefixes end where the parameter value starts, one per layout.
    """

    severity: str
    subsystem: str
    code: int
    message: str
    key: str = ""

    @cached_property
    def current(self) -> str:
        """Body of the current layout up to the parameter value."""
        head = f"{self.severity} {self.subsystem} {self.code} {self.message}"
        return f"{head} | {self.key}=" if self.key else head

    @cached_property
    def legacy(self) -> str:
        """Body of the legacy layout up to the parameter value."""
        head = f"{self.severity};{self.subsystem};{self.code};{self.message}"
        return f"{head};{self.key}=" if self.key else head


# Per-exam lines, in the order they occur around one exam.
EXAM_LINES: tuple[Template, ...] = (
    Template("I", "RIS", 5010, "Worklist entry selected", "exam"),
    Template("I", "SCAN", 4100, "Scan started", "protocol"),
    Template("I", "SCAN", 4101, "Scan completed", "images"),
    Template("I", "SW", 9110, "Reconstruction job started", "job"),
    Template("I", "SW", 9120, "Reconstruction job finished", "job"),
    Template("I", "DICOM", 5200, "Images sent to PACS", "images"),
)
REDUCED_EXAM_LINES: tuple[int, ...] = (0, 4)

# Background lines: template, relative frequency, value range (low, high) or None.
BACKGROUND: tuple[tuple[Template, float, tuple[int, int] | None], ...] = (
    (Template("I", "NET", 5300, "DICOM association opened", "peer"), 6.0, None),
    (Template("I", "NET", 5301, "DICOM association closed", "peer"), 6.0, None),
    (Template("W", "NET", 5310, "DICOM association timeout", "peer"), 0.6, None),
    (Template("I", "UI", 8100, "User logged in", "user"), 1.5, None),
    (Template("I", "UI", 8101, "User logged out", "user"), 1.4, None),
    (Template("I", "SW", 9150, "Disk cleanup completed", "freed_mb"), 0.5, (50, 4000)),
    (Template("W", "SW", 9400, "Reconstruction queue delayed", "queue"), 0.6, (3, 40)),
    (Template("E", "SW", 9500, "Unhandled exception in service", "service"), 0.25, None),
    (Template("I", "TABLE", 4200, "Table position reached", "pos_mm"), 4.0, (0, 1900)),
    (Template("I", "HIS", 4711, "Service counter update", "value"), 1.0, (1, 99999)),
    (Template("I", "X42", 8888, "vendor trace", "ctx"), 1.0, (0, 65535)),
    (Template("W", "PWR", 3900, "UPS self test passed"), 0.1, None),
    (Template("I", "SYS", 65001, "Diagnostic dump written", "bytes"), 0.2, (1000, 900000)),
)
PEERS: tuple[str, ...] = ("PACS01", "PACS02", "RIS", "WS-READ-3", "ARCHIVE")
USERS: tuple[str, ...] = ("tech01", "tech04", "tech07", "radiographer2", "service")
SERVICES: tuple[str, ...] = ("ReconSvc", "DicomSvc", "WorklistSvc", "QueueMgr")
STACK: tuple[str, ...] = (
    "    at Recon.Pipeline.Run(Job job)",
    "    at Recon.Worker.Loop()",
    "\tat java.base/java.lang.Thread.run(Thread.java:840)",
    "    at Dicom.Store.Send(Association a)",
    "  caused by: System.IO.IOException: connection reset",
)
HEARTBEAT = Template("I", "SYS", 9000, "Heartbeat", "seq")


class DayLines:
    """The events of one system-day before they become text, in one layout.

    Each event has an elapsed second since local midnight and its body (the line
    without timestamp and system id).

    Parameters
    ----------
    legacy : bool
        Build bodies in the legacy ``;`` layout, else in the current layout.
    """

    def __init__(self, legacy: bool) -> None:
        self.legacy = legacy
        self.sep = ";" if legacy else " "
        self.at_s: list[float] = []
        self.bodies: list[str] = []

    def prefix(self, template: Template) -> str:
        """Return the template's body up to its parameter value, in this layout."""
        return template.legacy if self.legacy else template.current

    def add_values(self, at_s: FloatArray, template: Template, values: list[str]) -> None:
        """Append one line per value of the template's parameter."""
        head = self.prefix(template)
        self.at_s.extend(at_s.tolist())
        self.bodies.extend([head + v for v in values])

    def add_bodies(self, at_s: FloatArray, bodies: list[str]) -> None:
        """Append finished bodies (built with :meth:`prefix` and :attr:`sep`)."""
        self.at_s.extend(at_s.tolist())
        self.bodies.extend(bodies)

    def add_signal(self, at_s: float, code: int, params: tuple[tuple[str, str], ...]) -> None:
        """Append one documented event with its parameters."""
        sev, sub, msg = SIGNAL_CODES[code]
        self.at_s.append(at_s)
        if self.legacy:
            head = f"{sev};{sub};{code};{msg}"
            tail = ";" + ";".join(f"{k}={v}" for k, v in params) if params else ""
        else:
            head = f"{sev} {sub} {code} {msg}"
            tail = " | " + " ".join(f"{k}={v}" for k, v in params) if params else ""
        self.bodies.append(head + tail)


def background(
    lines: DayLines, n: int, window_s: tuple[float, float], rng: np.random.Generator
) -> None:
    """Add ``n`` background lines spread over the ``(start, end)`` elapsed seconds.

    Unhandled exceptions carry a stack trace as continuation lines.
    """
    weights = np.array([w for _, w, _ in BACKGROUND])
    kind = rng.choice(len(BACKGROUND), size=n, p=weights / weights.sum())
    at = rng.uniform(window_s[0], window_s[1], n)
    numbers = rng.integers(0, 1 << 30, size=n).tolist()
    heads = [lines.prefix(t) for t, _, _ in BACKGROUND]
    bodies: list[str] = []
    for k, number in zip(kind.tolist(), numbers, strict=True):
        template, _, span = BACKGROUND[k]
        if span is not None:
            value = str(span[0] + number % (span[1] - span[0]))
        elif template.key == "peer":
            value = PEERS[number % len(PEERS)]
        elif template.key == "user":
            value = USERS[number % len(USERS)]
        elif template.key == "service":
            trace = STACK[number % 3 : number % 3 + 2 + number % 3]
            value = SERVICES[number % len(SERVICES)] + "\n" + "\n".join(trace)
        else:
            value = ""
        bodies.append(heads[k] + value)
    lines.add_bodies(at, bodies)
