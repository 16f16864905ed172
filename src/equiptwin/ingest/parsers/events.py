"""Event-log lines (both layouts of formats.md) to archive records, vectorised.

A block of bytes is cut into lines with numpy and parsed with Arrow compute kernels;
no Python object is made per line. Blank lines are skipped; lines starting with
whitespace are continuation lines attached to the event above (``detail``); a line
repeated verbatim within a block (a rotated file copied twice) is kept once; every
other line that breaks the layout is quarantined with its number and reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from equiptwin.ingest.parsers.base import BlockContext, ParsedBlock, line_array, reject_not_utf8
from equiptwin.ingest.parsers.fixed_time import parse_naive
from equiptwin.ingest.parsers.times import localize
from equiptwin.store.archive import SCHEMAS

_ISO = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)$"
_NAME = r"\b[A-Za-z][\w'-]*\^[\w'^-]*"
_STR = pa.large_string()
_SEVERITIES = pa.array(["I", "W", "E", "F"], _STR)
_TS = pa.timestamp("ms", tz="UTC")


def _decode(data: bytes, ctx: BlockContext) -> tuple[pa.Array, np.ndarray]:
    """Return the block's lines as strings and their 0-based numbers; quarantine non-UTF-8."""
    binary = line_array(data)
    numbers = np.arange(len(binary))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        good = np.ones(len(binary), bool)
        for i, raw in enumerate(data.split(b"\n")[: len(binary)]):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                good[i] = False
                reject_not_utf8(ctx, ctx.first_line + i, raw, exc)
        binary = binary.filter(pa.array(good))
        numbers = numbers[good]
    return pc.utf8_rtrim(pc.cast(binary, _STR), characters="\r\n"), numbers


def _keep(values: pa.Array, mask: np.ndarray) -> pa.Array:
    """``values`` where ``mask``; no copy in the common case where every row is kept."""
    return values if mask.all() else values.filter(pa.array(mask))


def _codes_ok(code: pa.Array) -> pa.Array:
    """Whether each code is a whole number (a cast of the whole array first: the usual case)."""
    try:
        if pc.min(pc.cast(code, pa.int64())).as_py() >= 0:
            return pa.array(np.ones(len(code), bool))
    except (pa.ArrowInvalid, TypeError):
        pass
    return pc.match_substring_regex(code, r"^\d{1,9}$")


def _scrub(values: pa.Array, ctx: BlockContext) -> pa.Array:
    """Drop personal parameters and DICOM person names, touching only rows that may hold them."""
    hint = "|".join(ctx.privacy.drop_params) + r"|\^"
    suspect = pc.fill_null(pc.match_substring_regex(values, hint), False)
    if not pc.any(suspect).as_py():
        return values
    subset = values.filter(suspect)
    subset = pc.replace_substring_regex(subset, ctx.privacy.params_pattern(), "")
    subset = pc.replace_substring_regex(subset, _NAME, "<name>")
    subset = pc.utf8_trim(subset, characters=" ")
    subset = pc.if_else(pc.equal(subset, ""), pa.scalar(None, _STR), subset)
    return pc.replace_with_mask(values, suspect, subset)


def _split(
    lines: pa.Array, separator: str, max_splits: int | None, n_fixed: int
) -> tuple[np.ndarray, list[pa.Array], pa.Array]:
    """Split lines; return which have ``n_fixed`` fields or more, their fields, and the lists."""
    parts = pc.split_pattern(lines, separator, max_splits=max_splits)
    lengths = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
    enough = lengths >= n_fixed
    parts = _keep(parts, enough)
    starts = parts.offsets.to_numpy()[:-1]
    values = parts.values
    fields = [values.take(pa.array(starts + i)) for i in range(n_fixed)]
    return enough, fields, parts


def _current(lines: pa.Array, ctx: BlockContext) -> tuple[np.ndarray, list[pa.Array]]:
    enough, fields, _ = _split(lines, " ", 5, 6)
    rest = pc.split_pattern(fields[5], ctx.mappings.events.params_separator, max_splits=1)
    lengths = pc.list_value_length(rest).to_numpy(zero_copy_only=False)
    starts = rest.offsets.to_numpy()[:-1]
    message = rest.values.take(pa.array(starts))
    has_params = lengths > 1
    params = rest.values.take(pa.array(np.where(has_params, starts + 1, starts)))
    params = pc.if_else(pa.array(has_params), params, pa.scalar(None, _STR))
    return enough, [*fields[:5], message, params]


def _legacy(lines: pa.Array, ctx: BlockContext) -> tuple[np.ndarray, list[pa.Array]]:
    enough, fields, parts = _split(lines, ctx.mappings.events.legacy_separator, None, 6)
    lengths = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
    joined = pc.binary_join(pc.list_slice(parts, 6), pa.scalar(" ", _STR))
    params = pc.if_else(pa.array(lengths > 6), joined, pa.scalar(None, _STR))
    return enough, [*fields, params]


def _parse_layout(
    lines: pa.Array,
    positions: np.ndarray,
    numbers: np.ndarray,
    legacy: bool,
    personal: bool,
    ctx: BlockContext,
) -> tuple[pa.Table, np.ndarray]:
    """Parse the lines of one layout; return good records and their positions.

    ``personal`` says whether the block may hold personal data at all (else no scrubbing).
    """
    enough, f = _legacy(lines, ctx) if legacy else _current(lines, ctx)
    ts_text, system, severity, subsystem, code, message, params = f
    reasons = np.full(len(lines), "", dtype=object)
    reasons[~enough] = "malformed"
    idx = np.flatnonzero(enough)
    known = pa.array(sorted(ctx.systems), _STR)
    system_ok = pc.is_in(system, value_set=known)
    ts = _legacy_utc(ts_text, system, system_ok, ctx) if legacy else _iso_utc(ts_text)
    checks = [  # the first failing check names the reason
        ("timestamp", "bad_timestamp", pc.is_valid(ts)),
        ("severity", "bad_severity", pc.is_in(severity, value_set=_SEVERITIES)),
        ("code", "bad_code", _codes_ok(code)),
        ("system_id", "unknown_system", system_ok),
    ]
    field_of = {"malformed": "line"}
    ok = np.ones(len(idx), bool)
    for name, reason, passed in reversed(checks):
        failed = ~pc.fill_null(passed, False).to_numpy(zero_copy_only=False)
        reasons[idx[failed]] = reason
        field_of[reason] = name
        ok &= ~failed
    layout = "legacy" if legacy else "current"
    for i in np.flatnonzero(reasons != "").tolist():
        reason = str(reasons[i])
        ctx.reject(
            ctx.first_line + int(numbers[positions[i]]),
            field_of[reason],
            reason,
            f"an event line must follow the {layout} layout of formats.md "
            f"({reason.replace('_', ' ')})",
            str(lines[i].as_py()),
        )
    table = pa.table(
        {
            "ts": _keep(ts, ok),
            "system_id": _keep(system, ok),
            "severity": _keep(severity, ok),
            "subsystem": _keep(subsystem, ok),
            "code": pc.cast(_keep(code, ok), pa.int32()),
            "message": _scrub(_keep(message, ok), ctx) if personal else _keep(message, ok),
            "params": _scrub(_keep(params, ok), ctx) if personal else _keep(params, ok),
        }
    )
    return table, positions[idx[ok]]


def _iso_utc(text: pa.Array) -> pa.Array:
    """ISO-8601 timestamps with offset to UTC; null where the layout or the date is wrong."""
    try:  # the usual case: every timestamp is good (Arrow insists on the offset)
        return pc.cast(text, _TS)
    except pa.ArrowInvalid:
        pass
    candidates = pc.if_else(pc.match_substring_regex(text, _ISO), text, pa.scalar(None, _STR))
    try:
        return pc.cast(candidates, _TS)
    except pa.ArrowInvalid:  # layout right but an impossible date: pandas gives NaT
        parsed = pd.to_datetime(candidates.to_pandas(), format="ISO8601", utc=True, errors="coerce")
        return pa.array(parsed, _TS)


def _legacy_utc(text: pa.Array, system: pa.Array, known: pa.Array, ctx: BlockContext) -> pa.Array:
    """Legacy local times to UTC, per system zone, by the DST rule of :mod:`times`."""
    naive = parse_naive(text, ctx.mappings.events.legacy_timestamp_format)
    if pc.all(known).as_py() and pc.count_distinct(system).as_py() == 1:  # one system's file
        return pa.array(localize(naive, ctx.systems[str(system[0].as_py())]), _TS)
    frame = pd.DataFrame({"naive": naive, "system_id": system.to_pandas()})
    frame = frame[known.to_numpy(zero_copy_only=False)]
    out = pd.Series(pd.NaT, index=range(len(text)), dtype="datetime64[ms, UTC]")
    for system_id, index in frame.groupby("system_id").groups.items():
        out[index] = localize(frame.loc[index, "naive"], ctx.systems[str(system_id)])
    return pa.array(out, _TS)


def _repeated(table: pa.Table, texts: pa.Array) -> np.ndarray:
    """Mark rows whose line repeats an earlier line of the block (same instant, same text)."""
    ts = pc.cast(table.column("ts"), pa.int64()).to_numpy(zero_copy_only=False)
    repeated = np.zeros(len(ts), bool)
    order = np.argsort(ts, kind="stable")
    same = ts[order][1:] == ts[order][:-1]
    if not same.any():
        return repeated
    candidates = np.unique(np.concatenate([order[1:][same], order[:-1][same]]))
    seen: set[tuple[int, str]] = set()
    for row, text in zip(
        candidates.tolist(), texts.take(pa.array(candidates)).to_pylist(), strict=True
    ):
        key = (int(ts[row]), str(text))
        repeated[row] = key in seen
        seen.add(key)
    return repeated


def parse_events(data: bytes, ctx: BlockContext) -> ParsedBlock:
    """Parse a block of event-log lines.

    Parameters
    ----------
    data : bytes
        Whole lines (the block ends with a newline).
    ctx : BlockContext
        File location, known systems, mappings, privacy and quarantine.

    Returns
    -------
    ParsedBlock
        Good events in file order (archive schema ``events``), line and duplicate
        counts and the unknown codes seen.
    """
    text, numbers = _decode(data, ctx)
    needles = [name.encode() for name in ctx.privacy.drop_params] + [b"^"]
    personal = any(needle in data for needle in needles)
    n_lines = int(np.count_nonzero(np.frombuffer(data, np.uint8) == 10))
    blank = pc.equal(pc.binary_length(text), 0).to_numpy(zero_copy_only=False)
    cont = pc.or_(pc.starts_with(text, " "), pc.starts_with(text, "\t"))
    cont = cont.to_numpy(zero_copy_only=False).copy()
    if cont.any():  # whitespace-only lines are blank, not continuations
        cont_idx = np.flatnonzero(cont)
        trimmed = pc.utf8_trim_whitespace(text.take(pa.array(cont_idx)))
        empty = pc.equal(pc.binary_length(trimmed), 0).to_numpy(zero_copy_only=False)
        blank = blank.copy()
        blank[cont_idx[empty]] = True
        cont[cont_idx[empty]] = False
    event = ~blank & ~cont
    positions = np.flatnonzero(event)
    lines = _keep(text, event)
    # Legacy lines start DD-Mon-YYYY (a dash at the third character), current ones YYYY-.
    legacy = pc.equal(pc.utf8_slice_codeunits(lines, 2, 3), "-")
    legacy = pc.fill_null(legacy, False).to_numpy(zero_copy_only=False)
    tables, kept = [], []
    for is_legacy in (False, True):
        mask = legacy == is_legacy
        if mask.any():
            subset = _keep(lines, mask)
            table, kept_pos = _parse_layout(
                subset, positions[mask], numbers, is_legacy, personal, ctx
            )
            tables.append(table)
            kept.append(kept_pos)
    kept_pos = np.concatenate(kept) if kept else np.array([], np.int64)
    order = np.argsort(kept_pos, kind="stable")
    kept_pos = kept_pos[order]
    if not tables:
        return ParsedBlock(table=SCHEMAS["events"].empty_table(), lines=n_lines)
    table = pa.concat_tables(tables)
    if len(tables) > 1:
        table = table.take(pa.array(order))
    repeated = _repeated(table, text.take(pa.array(kept_pos)))
    dropped = kept_pos[repeated]
    table, kept_pos = table.filter(pa.array(~repeated)), kept_pos[~repeated]
    detail = _continuations(text, numbers, cont, event, kept_pos, dropped, ctx)
    table = table.append_column("detail", detail).cast(SCHEMAS["events"])
    codes = pc.value_counts(table.column("code")).to_pylist()
    unknown = {
        int(c["values"]): int(c["counts"])
        for c in codes
        if int(c["values"]) not in ctx.mappings.events.codes
    }
    return ParsedBlock(
        table=table, lines=n_lines, duplicates=int(repeated.sum()), unknown_codes=unknown
    )


def _continuations(
    text: pa.Array,
    numbers: np.ndarray,
    cont: np.ndarray,
    event: np.ndarray,
    kept_pos: np.ndarray,
    dropped: np.ndarray,
    ctx: BlockContext,
) -> pa.Array:
    """Attach continuation lines to the event above; return ``detail`` per kept event."""
    if not cont.any():
        return pa.nulls(len(kept_pos), _STR)
    parent = np.maximum.accumulate(np.where(event, np.arange(len(text)), -1))
    dropped_set = set(dropped.tolist())
    attached: dict[int, list[str]] = {}
    for i in np.flatnonzero(cont).tolist():
        p = int(parent[i])
        if p in dropped_set:
            continue
        target = int(np.searchsorted(kept_pos, p))
        if p < 0 or target >= len(kept_pos) or kept_pos[target] != p:
            ctx.reject(
                ctx.first_line + int(numbers[i]),
                "line",
                "orphan_continuation" if p < 0 else "continuation_of_rejected",
                "a continuation line must follow a good event line",
                str(text[i].as_py()),
            )
            continue
        attached.setdefault(target, []).append(str(text[i].as_py()).strip())
    values: list[str | None] = [None] * len(kept_pos)
    for target, parts in attached.items():
        values[target] = ctx.privacy.scrub("\n".join(parts))
    return pa.array(values, _STR)
