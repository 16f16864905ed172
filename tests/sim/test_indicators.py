"""The files carry the twin's daily indicators as the twin's docstrings say features read them.

Computed from the written exposure rows and telemetry (not from the simulator's arrays),
then compared with the twin's noise-free expectation at the true hidden state.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from equiptwin.twin.coldhead import ColdheadModel
from equiptwin.twin.xray_tube import RADIOGRAPHY_REFERENCE, XrayTubeModel
from tests.sim.reader import read_bytes


def _truth(fleet: Path) -> pd.DataFrame:
    daily = pd.read_parquet(fleet / "_truth" / "daily_state.parquet")
    daily["day"] = daily["date"].astype(str)
    return daily.set_index(["system_id", "day"])


def test_tube_indicators_match_the_twin(small_fleet: Path) -> None:
    truth = _truth(small_fleet)
    modality = {
        r["system_id"]: r["modality"]
        for r in csv.DictReader(io.StringIO((small_fleet / "assets.csv").read_text()))
    }
    checked = 0
    for path in sorted((small_fleet / "exposures").glob("*/*")):
        system = path.parent.name
        model = XrayTubeModel(**(RADIOGRAPHY_REFERENCE if modality[system] == "XR" else {}))
        rows = pd.read_csv(io.BytesIO(read_bytes(path)))
        rows["day"] = rows["timestamp"].str[:10]
        for day, part in rows.groupby("day"):
            if (system, day) not in truth.index:
                continue
            x = truth.loc[(system, day), list(model.states)].to_numpy(float)[None]
            energy = float((part["kvp"] * part["ma"] * part["exposure_s"]).sum())
            u = np.array([[len(part), part["exposure_s"].sum(), energy, part["ma"].mean()]])
            mean = model.expected_output(x, u, np.ones((1, 4)))[0]
            expected = dict(zip(model.outputs, mean, strict=True))
            filament = model.reference_filament_a(part["ma"], part["filament_a"]).mean()
            assert abs(filament - expected["filament_a"]) < 0.02
            assert abs(part["oil_temp_c"].mean() - expected["oil_c"]) < 0.6
            coast = part["coastdown_s"].dropna()
            if len(coast) >= 5:
                assert (
                    abs(coast.mean() - expected["coastdown_s"]) < 4 * 1.5 / len(coast) ** 0.5 + 0.1
                )
            checked += 1
    assert checked > 50


def test_cryo_indicators_match_the_twin(small_fleet: Path) -> None:
    truth = _truth(small_fleet)
    model = ColdheadModel()
    checked = 0
    for path in sorted((small_fleet / "cryo").glob("*/*")):
        system, day = path.parent.name, path.name[:10]
        if (system, day) not in truth.index:
            continue
        records = [json.loads(line) for line in read_bytes(path).decode().splitlines()]
        level = np.nanmean([r.get("he_level_pct") or np.nan for r in records])
        state = truth.loc[(system, day)]
        assert abs(level - state["he_level_pct"]) < 0.8  # the daily output has sd 0.2
        stage2 = np.nanmean([r.get("coldhead_stage2_k") or np.nan for r in records])
        floor = model.stage2_k(state["coldhead_wear"], 0.0, 0.0)
        assert floor - 0.05 < stage2 < floor + 0.5  # plus scan heat and chiller faults
        checked += 1
    assert checked > 20
