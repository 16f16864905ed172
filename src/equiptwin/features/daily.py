"""Daily aggregates per system, in the twin's own vocabulary.

Raw records (exposures, cryogenics telemetry, event counts) are summed or summarised per
system and UTC day into the degradation models' ``inputs`` and ``outputs`` columns, so the
same table feeds the twin's synchronisation and the windowed survival features:

- X-ray tube: ``exams``, ``scan_s``, ``energy_j`` (sum of kV x mA x s), ``mean_ma``;
  ``filament_a`` (median filament current rescaled to the reference mA), ``oil_c`` (mean
  housing-oil temperature), ``oil_resid_c`` (``oil_c`` minus what a new tube shows under the
  day's load: the load-normalised residual), ``coastdown_s`` (median), ``arc_count``
  (events 2301 and 2302), ``exposure_stretch`` (mean of each exposure's ``exposure_s``
  over the mean of its protocol in the first
  :data:`~equiptwin.twin.xray_tube.STRETCH_REFERENCE_DAYS` logged days of the tube's
  life: automatic exposure control lengthens exposures as a worn anode loses output;
  NaN within those days, on days with fewer than :data:`MIN_STRETCH_ROWS` exposures,
  and for CT, whose exposure times AEC does not set).
- Cold head: ``stage2_k`` (daily mean while the compressor runs: a stopped compressor
  warms the stage without wear), ``he_level_pct``, ``he_pressure_psi`` (daily means),
  ``boil_off_l_per_day`` (fall of the helium level, in litres), ``compressor_trips``
  (event 7120), ``chiller_fault`` (any of events 6100/6200), ``scan_h`` (hours scanned,
  :func:`scanned_hours`; booked hours on days without gradient-coil readings) and
  ``he_fill_l`` (rise of the helium level on a day with a helium-fill work order).

A day with no records has NaN indicators (not zero): missing data is not a healthy reading.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from equiptwin.twin.coldhead import ColdheadModel
from equiptwin.twin.registry import tube_model
from equiptwin.twin.xray_tube import STRETCH_REFERENCE_DAYS, XrayTubeModel

ARC_CODES: tuple[int, ...] = (2301, 2302)
TRIP_CODE = 7120
CHILLER_CODES: tuple[int, ...] = (6100, 6200)
KEY = ["system_id", "day"]
GRAD_BUSY_RISE_C = 4.5
"""Gradient-coil warming over the day's idle level that marks a telemetry sample as
scanning (the coil heats by several degrees while the gradients are driven)."""
GRAD_IDLE_QUANTILE = 0.1
"""Quantile of a day's gradient-coil readings taken as its idle level (a magnet scans
far less than 90% of a day)."""
MIN_GRAD_READINGS = 36
"""Fewest gradient-coil readings (six hours of 10-minute telemetry) for a day's
:func:`scanned_hours`; fewer leave the day to its booked hours."""
MIN_STRETCH_ROWS = 20
"""Fewest exposures in a day for an ``exposure_stretch`` reading: fewer are too noisy
(one exposure's time varies by about 40% with the patient)."""


def _utc_day(ts: pd.Series) -> pd.Series:
    day: pd.Series = ts.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    return day


def _code_counts(event_counts: pd.DataFrame, codes: tuple[int, ...], name: str) -> pd.Series:
    picked = event_counts[event_counts["code"].isin(codes)]
    return picked.groupby(KEY)["n"].sum().rename(name).astype(float)


def _tube_models(
    system_ids: pd.Series | pd.Index, modality_of: Mapping[str, str]
) -> Iterator[tuple[XrayTubeModel, npt.NDArray[np.bool_]]]:
    """Yield each modality's tube model with the mask of its systems' rows.

    A system ``modality_of`` does not name gets CT's model.
    """
    modality = pd.Series(system_ids).map(modality_of).fillna("CT").astype(str).to_numpy()
    for name in np.unique(modality):
        yield tube_model(str(name)), modality == name


def exposure_stretch(frame: pd.DataFrame, installs: pd.DataFrame) -> pd.Series:
    """Return each exposure's time over its protocol's reference in its tube life.

    The reference is the mean ``exposure_s`` of the same protocol on the same system
    over the first :data:`~equiptwin.twin.xray_tube.STRETCH_REFERENCE_DAYS` logged days of
    the tube life the exposure belongs to (the life installed last on or before its day);
    exposures within those days, of a protocol the reference days did not use, or before
    any known installation are NaN. The reference uses earlier days only, so the value is
    as-of correct. A mean, not a median: an exposure's time is skewed (one view or several
    summed), and the mean of the ratios is 1 on an unchanged tube only against the mean.

    Parameters
    ----------
    frame : pandas.DataFrame
        Exposure rows with ``system_id``, ``day`` (UTC midnight), ``protocol`` and
        ``exposure_s``.
    installs : pandas.DataFrame
        ``system_id`` and ``installed_on`` of every tube life.

    Returns
    -------
    pandas.Series
        Aligned with ``frame``.
    """
    starts = (
        installs[["system_id", "installed_on"]]
        .assign(installed_on=pd.to_datetime(installs["installed_on"]).astype("datetime64[ns]"))
        .sort_values("installed_on")
    )
    rows = frame[["system_id", "day", "protocol", "exposure_s"]].assign(
        row=np.arange(len(frame)), day=frame["day"].astype("datetime64[ns]")
    )
    rows = pd.merge_asof(
        rows.sort_values("day"), starts, left_on="day", right_on="installed_on", by="system_id"
    ).dropna(subset=["installed_on"])
    life = ["system_id", "installed_on"]
    first = rows.groupby(life)["day"].transform("min")
    reference = rows["day"] < first + pd.Timedelta(days=STRETCH_REFERENCE_DAYS)
    values = np.full(len(frame), np.nan)
    if reference.all():  # nothing after a reference window (or no rows at all)
        return pd.Series(values, index=frame.index, name="exposure_stretch")
    mean = (
        rows[reference]
        .groupby([*life, "protocol"], observed=True)["exposure_s"]
        .mean()
        .rename("reference_s")
    )
    later = rows[~reference].join(mean, on=[*life, "protocol"])
    values[later["row"].to_numpy()] = (later["exposure_s"] / later["reference_s"]).to_numpy()
    return pd.Series(values, index=frame.index, name="exposure_stretch")


def xray_daily(
    exposures: pd.DataFrame,
    event_counts: pd.DataFrame,
    modality_of: Mapping[str, str],
    installs: pd.DataFrame,
) -> pd.DataFrame:
    """Aggregate exposure records and event counts of X-ray systems per UTC day.

    Parameters
    ----------
    exposures : pandas.DataFrame
        Archive exposure records (``ts``, ``system_id``, ``protocol``, ``kvp``, ``ma``,
        ``exposure_s``, ``filament_a``, ``oil_temp_c``, ``coastdown_s``), from the start of
        each tube life's reference window on (:func:`exposure_stretch`).
    event_counts : pandas.DataFrame
        Columns ``system_id``, ``day`` (datetime64, midnight UTC), ``code``, ``n``.
    modality_of : mapping of str to str
        Each system's modality (``CT``, ``XR``): its tube's physics
        (:func:`~equiptwin.twin.registry.tube_model`; the reference mA differs, and read
        with CT's a new radiography tube's filament current is about 11% below what its
        twin expects) normalises the readings by load; CT's for a system not in it.
    installs : pandas.DataFrame
        ``system_id`` and ``installed_on`` of every tube life, which
        :func:`exposure_stretch` reads exposure times against.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``system_id``, ``day``), the columns listed in the module docstring.
    """
    ma, filament_a = exposures["ma"].to_numpy(), exposures["filament_a"].to_numpy()
    filament_ref_a = np.full(len(exposures), np.nan)
    aec = np.zeros(len(exposures), dtype=bool)
    for model, rows in _tube_models(exposures["system_id"], modality_of):
        filament_ref_a[rows] = model.reference_filament_a(ma[rows], filament_a[rows])
        aec[rows] = model.aec_sets_exposure_time
    frame = exposures.assign(
        day=_utc_day(exposures["ts"]),
        energy_j=exposures["kvp"] * exposures["ma"] * exposures["exposure_s"],
        filament_ref_a=filament_ref_a,
    )
    stretch = np.full(len(frame), np.nan)  # read only where AEC sets the exposure times
    stretch[aec] = exposure_stretch(frame[aec], installs).to_numpy()
    frame["exposure_stretch"] = stretch
    daily = frame.groupby(KEY).agg(
        exams=("exposure_s", "size"),
        scan_s=("exposure_s", "sum"),
        energy_j=("energy_j", "sum"),
        mean_ma=("ma", "mean"),
        filament_a=("filament_ref_a", "median"),
        oil_c=("oil_temp_c", "mean"),
        coastdown_s=("coastdown_s", "median"),
        exposure_stretch=("exposure_stretch", "mean"),
        stretch_rows=("exposure_stretch", "count"),
    )
    daily["exams"] = daily["exams"].astype(float)
    daily.loc[daily.pop("stretch_rows") < MIN_STRETCH_ROWS, "exposure_stretch"] = np.nan
    energy_j = daily["energy_j"].to_numpy()
    new_tube_oil = np.full(len(daily), np.nan)
    for model, rows in _tube_models(daily.index.get_level_values("system_id"), modality_of):
        new_tube_oil[rows] = model.oil_temp_c(energy_j[rows] / model.parameters["duty_s"], 0.0)
    daily["oil_resid_c"] = daily["oil_c"] - new_tube_oil
    arcs = _code_counts(event_counts, ARC_CODES, "arc_count")
    out = daily.join(arcs, how="outer")
    logged = event_counts.groupby(KEY).size().index
    out.loc[out.index.isin(logged) & out["arc_count"].isna(), "arc_count"] = 0.0
    for name in ("exams", "scan_s", "energy_j"):
        out[name] = out[name].fillna(0.0)
    return out.sort_index()


def scanned_hours(cryo: pd.DataFrame) -> pd.Series:
    """Return the hours each MR system scanned per UTC day, from its gradient-coil telemetry.

    A reading is scanning when the coil is :data:`GRAD_BUSY_RISE_C` warmer than the
    day's idle level (its :data:`GRAD_IDLE_QUANTILE` quantile); the day's hours are the
    scanning share of its readings times 24. Days with fewer than
    :data:`MIN_GRAD_READINGS` readings are left out. The bookings are no record of this:
    they hold no-shows and, imported as a schedule, rarely reach back before the import.

    Parameters
    ----------
    cryo : pandas.DataFrame
        Telemetry with ``ts``, ``system_id`` and ``grad_coil_temp_c`` (NaN on dropouts).

    Returns
    -------
    pandas.Series
        Hours indexed by (``system_id``, ``day``).
    """
    rows = cryo.loc[cryo["grad_coil_temp_c"].notna(), ["system_id", "ts", "grad_coil_temp_c"]]
    rows = rows.assign(day=_utc_day(rows["ts"]))
    temp = rows.groupby(KEY)["grad_coil_temp_c"]
    busy = rows["grad_coil_temp_c"] > temp.transform("quantile", GRAD_IDLE_QUANTILE) + (
        GRAD_BUSY_RISE_C
    )
    share = busy.groupby([rows["system_id"], rows["day"]]).agg(["mean", "size"])
    hours: pd.Series = share["mean"].where(share["size"] >= MIN_GRAD_READINGS).dropna() * 24.0
    return hours.rename("scan_h").rename_axis(KEY)


def coldhead_daily(
    cryo: pd.DataFrame,
    event_counts: pd.DataFrame,
    scan_h: pd.Series,
    fill_days: pd.Index,
    model: ColdheadModel,
) -> pd.DataFrame:
    """Aggregate cryogenics telemetry, events and bookings of MR systems per UTC day.

    Parameters
    ----------
    cryo : pandas.DataFrame
        Archive telemetry (``ts``, ``system_id``, ``he_level_pct``, ``he_pressure_psi``,
        ``coldhead_stage2_k``, ...).
    event_counts : pandas.DataFrame
        Columns ``system_id``, ``day``, ``code``, ``n``.
    scan_h : pandas.Series
        Booked scan hours indexed by (``system_id``, ``day``), for days the telemetry
        cannot tell (:func:`scanned_hours`).
    fill_days : pandas.Index
        (``system_id``, ``day``) pairs with a helium-fill work order.
    model : ColdheadModel
        Supplies the helium volume to turn level changes into litres.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``system_id``, ``day``), the columns listed in the module docstring.
    """
    frame = cryo.assign(
        day=_utc_day(cryo["ts"]),
        running_stage2_k=cryo["coldhead_stage2_k"].where(cryo["compressor_on"].ne(False)),
    )
    daily = frame.groupby(KEY).agg(
        stage2_k=("running_stage2_k", "mean"),
        he_level_pct=("he_level_pct", "mean"),
        he_pressure_psi=("he_pressure_psi", "mean"),
    )
    litres_per_pct = model.parameters["he_volume_l"] / 100.0
    change_l = daily.groupby(level="system_id")["he_level_pct"].diff() * litres_per_pct
    filled = daily.index.isin(fill_days)
    daily["boil_off_l_per_day"] = np.where(filled, np.nan, (-change_l).clip(lower=0.0))
    daily["he_fill_l"] = np.where(filled, change_l.clip(lower=0.0), 0.0)
    trips = _code_counts(event_counts, (TRIP_CODE,), "compressor_trips")
    chiller = _code_counts(event_counts, CHILLER_CODES, "chiller_fault").clip(upper=1.0)
    hours = scanned_hours(cryo).combine_first(scan_h.rename("scan_h"))
    out = daily.join([trips, chiller, hours], how="left")
    out[["compressor_trips", "chiller_fault", "scan_h"]] = out[
        ["compressor_trips", "chiller_fault", "scan_h"]
    ].fillna(0.0)
    return out.sort_index()
