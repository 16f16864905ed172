"""Store snapshots for comparing two engines' output: every table and the archive."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from equiptwin.store.archive import SCHEMAS, open_archive
from equiptwin.store.schema import Base

#: Columns that differ between two runs by design (clock readings, run timing).
VOLATILE: dict[str, tuple[str, ...]] = {
    "ingest_runs": ("started_at", "finished_at", "summary", "data_dir"),
    "quarantine": ("id",),
}


def sorted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by every column (as text), columns by name, index reset."""
    frame = frame.reindex(columns=sorted(frame.columns))
    keys = frame.astype(str)
    order = keys.sort_values(list(keys.columns), kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def store_snapshot(url: str, archive_dir: str) -> dict[str, pd.DataFrame]:
    """Every SQL table and archive dataset of a store, sorted, without volatile columns."""
    engine = sa.create_engine(url)
    out: dict[str, pd.DataFrame] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            frame = pd.DataFrame(conn.execute(sa.select(table)).mappings().all())
            frame = frame.drop(columns=list(VOLATILE.get(table.name, ())), errors="ignore")
            out[table.name] = sorted_frame(frame)
    archive = open_archive(engine, archive_dir)
    for dataset in SCHEMAS:
        out[f"archive/{dataset}"] = sorted_frame(getattr(archive, f"read_{dataset}")())
    engine.dispose()
    return out
