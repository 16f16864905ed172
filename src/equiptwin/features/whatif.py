"""The twin's load-shift what-if on a stored life: the days of life a lighter load buys.

:func:`twin_days_gained` returns the estimator that load shifting
(:mod:`equiptwin.planning.loadshift`) asks how many days of median life an at-risk tube
gains when a share of its heat load moves to other systems until its maintenance slot.
It rebuilds the tube's daily aggregates from the store up to the forecast day, lets the
twin assimilate them and compares two forward runs with the same random draws
(:func:`~equiptwin.features.twin_state.load_shift_days_gained`).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa

from equiptwin.config import PipelineConfig
from equiptwin.features.frame import life_panel, read_lives, system_daily, twin_settings
from equiptwin.features.twin_state import load_shift_days_gained
from equiptwin.forecast import FailureForecast
from equiptwin.planning.loadshift import DaysGained
from equiptwin.store.archive import open_archive


def twin_days_gained(engine: sa.Engine, config: PipelineConfig, as_of: dt.date) -> DaysGained:
    """Return the twin's estimator of days gained by load shifting on forecast day ``as_of``.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    config : PipelineConfig
        Settings ``store.archive_dir`` and ``twin.*``.
    as_of : datetime.date
        The forecast day; only data before it is read.

    Returns
    -------
    DaysGained
        ``(forecast, fraction_removed, last_day) -> days or None``; ``None`` for a life
        the store does not know, with under a week of data, or beyond the twin's plan.
    """
    settings = twin_settings(config)
    archive = open_archive(engine, str(config["store.archive_dir"]))

    def estimate(
        forecast: FailureForecast, fraction_removed: float, until: dt.date
    ) -> float | None:
        lives = read_lives(engine, [forecast.system_id])
        life = lives[lives["life_id"] == forecast.life_id]
        if life.empty:
            return None
        installed = pd.Timestamp(life["installed_on"].iloc[0]).date()
        daily = system_daily(engine, archive, installed, as_of, [forecast.system_id])
        panel = life_panel(life, daily, installed, as_of)
        if panel.empty:
            return None
        return load_shift_days_gained(
            panel,
            forecast.component,
            str(life["modality"].iloc[0]),
            0,
            settings,
            fraction_removed=fraction_removed,
            days=max((until - as_of).days + 1, 0),
        )

    return estimate
