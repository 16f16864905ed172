"""Where the heavy stages run: in this process, or partitioned by system on a cluster.

A :class:`ComputeEngine` gives the three places a fleet's size shows: parsing log files
during ingest, building the feature frame, and boosting the survival models. The
in-process engine is the default everywhere; :mod:`equiptwin.dist.dask_engine` runs the
same functions on Dask workers. Either way the store, the features and the model
registry are written by the same code, so every later stage is unchanged.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import Self

import pandas as pd
import sqlalchemy as sa

from equiptwin.config import PipelineConfig
from equiptwin.errors import ConfigError
from equiptwin.features.frame import build_features
from equiptwin.features.twin_state import TwinSettings
from equiptwin.ingest.run import LogParser
from equiptwin.store.archive import Archive


class ComputeEngine(ABC):
    """The engine the heavy stages run on; a context manager that releases it on exit."""

    name: str

    @property
    @abstractmethod
    def parse_logs(self) -> LogParser | None:
        """Parser of ingest's log files (``None``: ``ingest.workers`` forked processes)."""

    @abstractmethod
    def features(
        self,
        engine: sa.Engine,
        archive: Archive,
        start: dt.date,
        end: dt.date,
        *,
        twin: TwinSettings,
        progress: bool = False,
    ) -> pd.DataFrame:
        """Return the feature frame of :func:`~equiptwin.features.frame.build_features`."""

    @abstractmethod
    def boosting(self) -> AbstractContextManager[None]:
        """Return a context in which xgboost survival models are boosted on this engine."""

    def close(self) -> None:
        """Release what the engine holds (nothing in this process)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class LocalEngine(ComputeEngine):
    """Everything in this process (log parsing in ``ingest.workers`` forked processes)."""

    name = "local"

    @property
    def parse_logs(self) -> LogParser | None:
        """``None``: ingest parses with its own process pool."""
        return None

    def features(
        self,
        engine: sa.Engine,
        archive: Archive,
        start: dt.date,
        end: dt.date,
        *,
        twin: TwinSettings,
        progress: bool = False,
    ) -> pd.DataFrame:
        """Build the whole fleet's feature frame in this process."""
        return build_features(engine, archive, start, end, twin=twin, progress=progress)

    def boosting(self) -> AbstractContextManager[None]:
        """Boost in this process (xgboost's default)."""
        return nullcontext()


def _start_local(config: PipelineConfig, scheduler: str | None) -> ComputeEngine:
    if scheduler:
        raise ConfigError(
            f"--scheduler {scheduler} needs --engine dask; the local engine runs in this process."
        )
    return LocalEngine()


def _start_dask(config: PipelineConfig, scheduler: str | None) -> ComputeEngine:
    # distributed takes a second to import: only when the Dask engine is asked for.
    from equiptwin.dist.dask_engine import DaskEngine

    return DaskEngine.start(config, scheduler)


ENGINES: dict[str, Callable[[PipelineConfig, str | None], ComputeEngine]] = {
    "local": _start_local,
    "dask": _start_dask,
}
"""The engines by their ``--engine`` name."""


def open_engine(name: str, config: PipelineConfig, scheduler: str | None = None) -> ComputeEngine:
    """Start the engine called ``name`` (``local`` or ``dask``).

    Parameters
    ----------
    name : str
        A key of :data:`ENGINES`.
    config : PipelineConfig
        Settings ``dask.*``.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``).

    Returns
    -------
    ComputeEngine
        Use it as a context manager so a local cluster is stopped afterwards.

    Raises
    ------
    ConfigError
        When the name is unknown, or a scheduler is given to the local engine.
    """
    if name not in ENGINES:
        raise ConfigError(f"--engine must be one of {sorted(ENGINES)}, but found {name!r}.")
    return ENGINES[name](config, scheduler)
