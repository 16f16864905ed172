"""Benchmark the degradation twin on simulated lives with known truth.

For each component, simulate lives under varied, realistic workloads (per-life load level,
daily randomness, weekends; for cold heads chiller-fault episodes and helium fills when the
level runs low), with seeds never used in development or tests (BENCH_SEEDS). Then, life by
life and day by day, run the particle filter on the noisy daily indicators only and
report:

- how well the estimated health index (posterior mean) tracks the true hidden health
  (Pearson correlation, mean absolute error, coverage of the 10-90% band), sampled every
  10th day of every life;
- the plan at each forecast: the true workload of the next BOOKED_DAYS days (the booked
  schedule), then the weekly profile of the last four weeks;
- for failures with precursors (not the ``sudden`` mode), the 80% failure window of the
  forward Monte Carlo at landmark days 180/30/14/7 before the true failure: coverage (share
  of windows containing the true failure day) and mean width, and the mean
  P(fail within 30 d);
- the same for sudden failures, for contrast (no precursor: low coverage is expected);
- calibration without selecting on the outcome: forecasts every CALIBRATION_EVERY_DAYS
  days of every life, scored by the randomised PIT of the true time to failure (a true
  failure past the plan counts as uniform over the plan's survival mass). Landmarks fixed
  relative to the true failure select forecasts on their outcome, which biases their
  coverage down even for a calibrated forecast; the PIT coverage is the unbiased check;
- speed: milliseconds per life-day of filtering, seconds for a 12-system year.

The filter and the simulator share the model (a well-specified test: an upper bound on
what the twin achieves on real logs). Timings are on a 2-core machine shared with other
jobs and are noisy.

Run: ``PYTHONPATH=src python benchmarks/bench_twin.py``; writes
``benchmarks/results/twin.json``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from equiptwin.twin.base import SUDDEN, DegradationModel
from equiptwin.twin.coldhead import ColdheadModel
from equiptwin.twin.estimate import ParticleFilter
from equiptwin.twin.simulate import forecast_failure, repeat_weekly
from equiptwin.twin.xray_tube import XrayTubeModel

BENCH_SEEDS = {"xray_tube": 20_261_121, "coldhead": 20_261_122, "speed": 20_261_123}
N_LIVES = {"xray_tube": 60, "coldhead": 60}
MAX_DAYS = {"xray_tube": 365 * 12, "coldhead": 365 * 8}
N_PARTICLES = 500
LANDMARKS_DAYS = (180, 30, 14, 7)
PLAN_DAYS = 365
BOOKED_DAYS = 28
COVERAGE = 0.8
CALIBRATION_EVERY_DAYS = 120
OUT = Path(__file__).parent / "results" / "twin.json"


def _workload_day(
    model: DegradationModel, level: np.ndarray, day: int, rng: np.random.Generator
) -> np.ndarray:
    n = level.size
    weekday = day % 7 < 5
    if isinstance(model, XrayTubeModel):
        exams = rng.poisson(level * (60.0 if weekday else 8.0)).astype(np.float64)
        scan_s = exams * 8.3 * rng.gamma(20.0, 1 / 20.0, n)
        ma = np.clip(rng.normal(250.0, 30.0, n), 100.0, 500.0)
        kv = rng.choice([100.0, 120.0, 140.0], size=n, p=[0.3, 0.6, 0.1])
        return np.stack([exams, scan_s, scan_s * kv * ma, np.where(exams > 0, ma, 0.0)], axis=1)
    scan_h = np.clip(rng.normal(level * (10.0 if weekday else 2.0), 1.0, n), 0.0, 16.0)
    return np.stack([scan_h, np.zeros(n), np.zeros(n)], axis=1)


def simulate_lives(model: DegradationModel, n: int, days: int, seed: int) -> dict[str, Any]:
    """Lives from new to failure (or ``days``), with their workloads, states and outputs."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(0.6, 1.4, n)
    x = model.initial_state(n, rng)
    theta = model.sample_life_parameters(n, rng)
    work = np.zeros((n, days, len(model.inputs)))
    states = np.zeros((n, days + 1, len(model.states)))
    outputs = np.full((n, days, len(model.outputs)), np.nan)
    failure_day = np.full(n, -1)
    failure_mode = np.full(n, -1)
    chiller_left = np.zeros(n, dtype=int)
    states[:, 0] = x
    for d in range(days):
        u = _workload_day(model, level, d, rng)
        if isinstance(model, ColdheadModel):
            chiller_left = np.where(
                (chiller_left == 0) & (rng.random(n) < 1 / 60), rng.integers(1, 4, n), chiller_left
            )
            u[:, 1] = chiller_left > 0
            chiller_left = np.maximum(chiller_left - 1, 0)
            low = x[:, 1] < 35.0
            u[:, 2] = np.where(low, (80.0 - x[:, 1]) / 100.0 * model.parameters["he_volume_l"], 0)
        alive = failure_day < 0
        x_next, mode = model.step(x, u, theta, rng)
        y = model.observe(x_next, u, theta, rng)
        work[:, d] = u
        outputs[alive, d] = y[alive]
        x = np.where(alive[:, None], x_next, x)
        states[:, d + 1] = x
        new = alive & (mode >= 0)
        failure_day[new], failure_mode[new] = d, mode[new]
        if (failure_day >= 0).all():
            break
    return {
        "work": work,
        "states": states,
        "outputs": outputs,
        "failure_day": failure_day,
        "failure_mode": failure_mode,
    }


def _plan(model: DegradationModel, work: np.ndarray, as_of: int, end: int) -> np.ndarray:
    """The booked weeks (the life's true workload), then the weekly profile of the last 4."""
    booked = work[as_of : min(end, as_of + BOOKED_DAYS)]
    rest = repeat_weekly(model, work[max(0, as_of - 28) : as_of], PLAN_DAYS - booked.shape[0])
    return np.concatenate([booked, rest])


def _pit(ttf_days: np.ndarray, truth_days: int, rng: np.random.Generator) -> float:
    """Randomised PIT of the true time to failure under the forecast's samples."""
    t = np.where(ttf_days >= 0, ttf_days, PLAN_DAYS)
    if truth_days < PLAN_DAYS:
        return float(np.mean(t < truth_days) + rng.random() * np.mean(t == truth_days))
    below = float(np.mean(t < PLAN_DAYS))
    return below + rng.random() * (1.0 - below)


def bench_component(model: DegradationModel) -> dict[str, Any]:
    """Track and forecast every simulated life of one component."""
    comp = model.component
    lives = simulate_lives(model, N_LIVES[comp], MAX_DAYS[comp], BENCH_SEEDS[comp])
    pf = ParticleFilter(model, n_particles=N_PARTICLES)
    est, true, band, pits = [], [], [], []
    rng_pit = np.random.default_rng(BENCH_SEEDS[comp] + 1)
    windows: dict[str, list[dict[str, float]]] = {"precursor": [], SUDDEN: []}
    life_days, t_filter = 0, 0.0
    for i in range(N_LIVES[comp]):
        fd = int(lives["failure_day"][i])
        end = fd + 1 if fd >= 0 else MAX_DAYS[comp]
        kind = (
            ""
            if fd < 0
            else SUDDEN
            if model.events[lives["failure_mode"][i]] == SUDDEN
            else "precursor"
        )
        marks = {fd - k: k for k in LANDMARKS_DAYS if fd - k > 28}
        state = pf.start(seed=i)
        for d in range(end):
            if d % CALIBRATION_EVERY_DAYS == CALIBRATION_EVERY_DAYS - 1 and fd >= 0:
                plan = _plan(model, lives["work"][i], d, end)
                fc = forecast_failure(model, state, plan, n_samples=500, seed=d)
                pits.append(_pit(fc.ttf_days, fd - d, rng_pit))
            if d in marks and kind:
                plan = _plan(model, lives["work"][i], d, end)
                fc = forecast_failure(
                    model,
                    state,
                    plan,
                    horizons_days=(7, 14, 30),
                    window_coverage=COVERAGE,
                    n_samples=1000,
                    seed=d,
                )
                truth = fd - d
                lo = fc.window_start_days if fc.window_start_days is not None else PLAN_DAYS
                hi = fc.window_end_days if fc.window_end_days is not None else PLAN_DAYS
                windows[kind].append(
                    {
                        "days_before": marks[d],
                        "covered": float(lo <= truth <= hi),
                        "width_days": float(hi - lo + 1),
                        "p_fail_30d": fc.p_fail[2],
                        "median_abs_error_days": abs((fc.median_days_left or PLAN_DAYS) - truth),
                    }
                )
            t0 = time.perf_counter()
            state = pf.update(state, lives["work"][i, d], lives["outputs"][i, d])
            t_filter += time.perf_counter() - t0
            life_days += 1
            if d % 10 == 9:
                s = pf.summary(state)
                h = float(model.health(lives["states"][i, d + 1][None])[0])
                est.append(s.health_mean)
                true.append(h)
                band.append(s.health_quantiles[0] - 1e-9 <= h <= s.health_quantiles[-1] + 1e-9)
    est_a, true_a = np.array(est), np.array(true)
    result: dict[str, Any] = {
        "lives": N_LIVES[comp],
        "failures": int((lives["failure_day"] >= 0).sum()),
        "failure_modes": {
            e: int((lives["failure_mode"] == k).sum()) for k, e in enumerate(model.events)
        },
        "median_failure_day": float(np.median(lives["failure_day"][lives["failure_day"] >= 0])),
        "health": {
            "pearson_r": float(np.corrcoef(est_a, true_a)[0, 1]),
            "mean_abs_error": float(np.mean(np.abs(est_a - true_a))),
            "band_10_90_coverage": float(np.mean(band)),
            "samples": len(est),
        },
        "filter_ms_per_life_day": 1e3 * t_filter / life_days,
        "calibration_every_day": {
            "n": len(pits),
            "pit_histogram_10_bins": np.histogram(pits, bins=10, range=(0, 1))[0].tolist(),
            "central_80_coverage": float(
                np.mean((np.array(pits) >= 0.1) & (np.array(pits) <= 0.9))
            ),
        },
    }
    for kind, rows in windows.items():
        by_mark = {}
        for k in LANDMARKS_DAYS:
            sel = [r for r in rows if r["days_before"] == k]
            if sel:
                by_mark[f"{k}d_before"] = {
                    "n": len(sel),
                    "coverage": float(np.mean([r["covered"] for r in sel])),
                    "mean_width_days": float(np.mean([r["width_days"] for r in sel])),
                    "mean_p_fail_30d": float(np.mean([r["p_fail_30d"] for r in sel])),
                    "median_abs_error_days": float(
                        np.median([r["median_abs_error_days"] for r in sel])
                    ),
                }
        result[f"window_{kind}"] = by_mark
    return result


def bench_speed() -> dict[str, float]:
    """Wall time to filter a 12-system year and forecast each system once, and per-day cost."""
    rng = np.random.default_rng(BENCH_SEEDS["speed"])
    out: dict[str, float] = {}
    models = [XrayTubeModel()] * 8 + [ColdheadModel()] * 4
    t0 = time.perf_counter()
    for j, model in enumerate(models):
        lives = simulate_lives(model, 1, 365, int(rng.integers(2**31)))
        pf = ParticleFilter(model, n_particles=1000)
        state = pf.run(pf.start(seed=j), lives["work"][0], lives["outputs"][0])
        forecast_failure(model, state, repeat_weekly(model, lives["work"][0], PLAN_DAYS))
    out["twelve_system_year_s_1000_particles"] = time.perf_counter() - t0
    for n in (500, 1000):
        model = XrayTubeModel()
        pf = ParticleFilter(model, n_particles=n)
        lives = simulate_lives(model, 1, 400, 7)
        state = pf.start(seed=0)
        t0 = time.perf_counter()
        state = pf.run(state, lives["work"][0], lives["outputs"][0])
        out[f"xray_tube_update_ms_{n}_particles"] = 1e3 * (time.perf_counter() - t0) / 400
        t0 = time.perf_counter()
        forecast_failure(model, state, repeat_weekly(model, lives["work"][0], PLAN_DAYS))
        out[f"xray_tube_forecast_s_{n}_particles_365d"] = time.perf_counter() - t0
    return out


def main() -> None:
    """Run the benchmark, print a summary and write the JSON."""
    t0 = time.perf_counter()
    results: dict[str, Any] = {
        "seeds": BENCH_SEEDS,
        "n_particles": N_PARTICLES,
        "window_coverage_target": COVERAGE,
        "plan_days": PLAN_DAYS,
        "note": "simulated lives, same model in simulator and filter; timings on a shared "
        "2-core machine (noisy)",
    }
    for model in (XrayTubeModel(), ColdheadModel()):
        results[model.component] = bench_component(model)
    results["speed"] = bench_speed()
    results["wall_s"] = time.perf_counter() - t0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    for comp in ("xray_tube", "coldhead"):
        r = results[comp]
        print(
            f"{comp}: {r['failures']}/{r['lives']} failed, health r={r['health']['pearson_r']:.3f} "
            f"MAE={r['health']['mean_abs_error']:.3f} band={r['health']['band_10_90_coverage']:.2f}"
        )
        cal = r["calibration_every_day"]
        print(
            f"  PIT central-80% coverage, all days: {cal['central_80_coverage']:.2f} (n={cal['n']})"
        )
        for mark, w in r["window_precursor"].items():
            print(
                f"  precursor {mark}: n={w['n']} coverage={w['coverage']:.2f} "
                f"width={w['mean_width_days']:.1f} d p30={w['mean_p_fail_30d']:.2f}"
            )
        for mark, w in r[f"window_{SUDDEN}"].items():
            print(f"  sudden    {mark}: n={w['n']} coverage={w['coverage']:.2f}")
    print("speed:", {k: round(v, 3) for k, v in results["speed"].items()})
    print(f"wrote {OUT} in {results['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
