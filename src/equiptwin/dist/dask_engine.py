# distributed and dask.array ship without type hints.
# mypy: disable-error-code="no-untyped-call"
"""The Dask engine: ingest parsing and feature building partitioned by system,
boosting with ``xgboost.dask``.

- **Ingest**: consecutive log files of one system and source (``events/CT-AMS-01/...``)
  are one task; a worker parses them with :func:`~equiptwin.ingest.worker.read_whole`
  and returns the parsed blocks. This process consumes them in file order through the
  same commit code as the in-process engine, so the store is the same.
- **Features**: ``dask.systems_per_task`` systems per task; each worker opens the store
  by URL and the archive by its absolute path and runs
  :func:`~equiptwin.features.frame.build_features` on its systems (a life's rows depend
  on its own system only). The partitions are concatenated in ``life_id`` order.
- **Training**: a ``DaskDMatrix`` with the AFT bounds (or the Cox label) and the twin's
  offset as ``base_margin``, boosted by ``xgboost.dask.train``; the booster comes back
  to this process and is saved to the registry as usual.

Without a scheduler address a ``distributed.LocalCluster`` of ``dask.workers``
processes is started for the command and closed after it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from collections import deque
from collections.abc import Generator, Sequence
from contextlib import AbstractContextManager
from itertools import groupby
from pathlib import Path
from typing import Any

import dask.array as da
import distributed
import pandas as pd
import sqlalchemy as sa
from tqdm import tqdm
from xgboost import dask as xgb_dask

from equiptwin.config import PipelineConfig
from equiptwin.dist.engine import ComputeEngine
from equiptwin.features.frame import build_features, read_lives
from equiptwin.features.twin_state import TwinSettings
from equiptwin.ingest.run import LogParser
from equiptwin.ingest.worker import FileEnd, Statics, Task, read_whole
from equiptwin.store import db as store_db
from equiptwin.store.archive import Archive
from equiptwin.survival.gbm import BoostingData, boosting_with

#: Parse tasks (system-source runs of files) in flight per worker during ingest.
TASKS_AHEAD_PER_WORKER = 2


def read_files(tasks: Sequence[Task], statics: Statics) -> list[FileEnd]:
    """Parse whole log files on a worker, each into its ``FileEnd`` with its blocks."""
    return [read_whole(task, statics) for task in tasks]


def features_of_systems(
    url: str,
    archive_root: str,
    system_ids: Sequence[str],
    start: dt.date,
    end: dt.date,
    twin: TwinSettings,
) -> pd.DataFrame:
    """Build the feature frame of some systems on a worker, reading the store by URL."""
    engine = store_db.connect(url)
    try:
        archive = Archive(Path(archive_root), engine)
        return build_features(engine, archive, start, end, twin=twin, system_ids=system_ids)
    finally:
        engine.dispose()


def store_url(engine: sa.Engine) -> str:
    """Return the URL a worker opens the store with (an SQLite path made absolute)."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        url = url.set(database=str(Path(str(url.database)).resolve()))
    return url.render_as_string(hide_password=False)


class DaskEngine(ComputeEngine):
    """Stages partitioned by system on a Dask cluster.

    Parameters
    ----------
    client : distributed.Client
        A connected client.
    systems_per_task : int
        Systems per feature-building task.
    cluster : distributed.LocalCluster, optional
        A cluster this engine started and closes with itself.
    """

    name = "dask"

    def __init__(
        self,
        client: distributed.Client,
        *,
        systems_per_task: int = 10,
        cluster: distributed.LocalCluster | None = None,
    ) -> None:
        self.client = client
        self.systems_per_task = systems_per_task
        self.cluster = cluster

    @classmethod
    def start(cls, config: PipelineConfig, scheduler: str | None = None) -> DaskEngine:
        """Connect to ``scheduler`` (``tcp://host:8786``), or start a local cluster.

        Parameters
        ----------
        config : PipelineConfig
            Settings ``dask.*``.
        scheduler : str, optional
            Address of a running scheduler; ``dask.scheduler`` when omitted, and a
            ``LocalCluster`` of ``dask.workers`` processes when that is empty too.
        """
        address = scheduler or str(config["dask.scheduler"])
        cluster = None
        if not address:
            memory = str(config["dask.memory_limit"])
            cluster = distributed.LocalCluster(
                n_workers=int(config["dask.workers"]),
                threads_per_worker=int(config["dask.threads_per_worker"]),
                processes=True,
                memory_limit=memory,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        client = distributed.Client(cluster if cluster is not None else address)
        return cls(client, systems_per_task=int(config["dask.systems_per_task"]), cluster=cluster)

    def close(self) -> None:
        """Disconnect; stop the local cluster if this engine started it."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def _n_workers(self) -> int:
        return max(1, len(self.client.scheduler_info(n_workers=-1)["workers"]))

    # -- ingest ------------------------------------------------------------------------
    @property
    def parse_logs(self) -> LogParser:
        """Parse ingest's log files on the workers, one task per system and source."""
        return self._parse

    def _parse(
        self, tasks: list[tuple[int, Task]], statics: Statics
    ) -> Generator[tuple[int, FileEnd], None, None]:
        runs = [
            list(run)
            for _, run in groupby(tasks, key=lambda t: (t[1].source.source, t[1].source.system_id))
        ]
        if not runs:
            return
        shared = self.client.scatter(statics, broadcast=True)
        window: deque[tuple[list[tuple[int, Task]], distributed.Future[list[FileEnd]]]] = deque()
        upcoming = iter(runs)
        ahead = TASKS_AHEAD_PER_WORKER * self._n_workers()
        try:
            while True:
                while len(window) < ahead and (run := next(upcoming, None)):
                    future = self.client.submit(
                        read_files, [task for _, task in run], shared, pure=False
                    )
                    window.append((run, future))
                if not window:
                    return
                run, future = window.popleft()
                ends = future.result()
                future.release()
                for (index, _), end in zip(run, ends, strict=True):
                    yield index, end
        finally:
            for _, future in window:
                future.cancel()

    # -- features ----------------------------------------------------------------------
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
        """Build the feature frame with ``dask.systems_per_task`` systems per worker task."""
        systems = sorted(set(read_lives(engine)["system_id"]))
        if not systems:
            return build_features(engine, archive, start, end, twin=twin)
        step = self.systems_per_task
        parts = [systems[i : i + step] for i in range(0, len(systems), step)]
        url, root = store_url(engine), str(archive.root.resolve())
        # Dask parallelises over tasks; a worker (a daemon process) runs its lives in turn.
        twin = dataclasses.replace(twin, workers=1)
        futures = [
            self.client.submit(features_of_systems, url, root, part, start, end, twin, pure=False)
            for part in parts
        ]
        done = distributed.as_completed(futures)
        for _ in tqdm(done, total=len(futures), desc="features", disable=not progress or None):
            pass
        frames = self.client.gather(futures)
        frame = pd.concat([f for f in frames if not f.empty] or frames[:1], ignore_index=True)
        frame = frame.sort_values(["life_id", "day"], kind="stable").reset_index(drop=True)
        return pd.DataFrame(frame)

    # -- training ----------------------------------------------------------------------
    def boosting(self) -> AbstractContextManager[None]:
        """Boost xgboost survival models with ``xgboost.dask`` on this cluster."""
        return boosting_with(self.train_booster)

    def train_booster(self, params: dict[str, Any], data: BoostingData, rounds: int) -> Any:
        """Boost on a ``DaskDMatrix`` of ``data``, one row block per worker.

        Returns
        -------
        xgboost.Booster
            The fitted booster, in this process.
        """
        n = len(data.data)
        rows = max(1, math.ceil(n / self._n_workers()))
        matrix = xgb_dask.DaskDMatrix(
            self.client,
            da.from_array(data.data, chunks=(rows, -1)),
            feature_names=data.feature_names,
            **{k: da.from_array(v, chunks=(rows,)) for k, v in data.info.items()},
        )
        return xgb_dask.train(self.client, params, matrix, num_boost_round=rounds)["booster"]
