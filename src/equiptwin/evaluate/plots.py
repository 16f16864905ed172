"""Plots of the policy comparison (matplotlib, Agg back end: no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd

from equiptwin.evaluate.metrics import HEADLINE

_TITLES = {
    "unplanned_downtime_h": "Unplanned downtime (h)",
    "cancelled_short_notice": "Exams cancelled at short notice",
    "rebooked": "Exams rebooked",
    "mean_extra_wait_h": "Mean extra wait of rebooked exams (h)",
    "discarded_life_days": "Component life discarded (days)",
    "total_cost": "Total cost (currency units)",
}


def plot_summary(summary: pd.DataFrame, path: Path) -> Path:
    """Draw one bar chart per headline metric: mean per policy with its 95% interval.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`~equiptwin.evaluate.metrics.summarise` output.
    path : Path
        The PNG file to write.

    Returns
    -------
    Path
        ``path``.
    """
    policies = list(dict.fromkeys(summary["policy"]))
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5))
    for ax, metric in zip(axes.flat, HEADLINE, strict=True):
        rows = summary[summary["metric"] == metric].set_index("policy").loc[policies]
        error = [rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]]
        ax.bar(range(len(policies)), rows["mean"], yerr=error, capsize=4, color="#4c72b0")
        ax.set_xticks(range(len(policies)), policies, rotation=20, ha="right")
        ax.set_title(_TITLES[metric], fontsize=10)
    seeds = int(summary["seeds"].max())
    fig.suptitle(f"Maintenance policies on the same worlds: mean and 95% interval, {seeds} seeds")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
