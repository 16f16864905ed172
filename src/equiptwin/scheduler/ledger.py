"""The run ledger: one ``job_runs`` row per attempt of a job for one logical period.

A job's period (its ``run_key``: a local day, an ISO week or a UTC polling slot) is done
once an attempt ``succeeded``; the runner then skips it, whatever clock reading or
restart brings the job round again. Attempts are numbered per period and the unique
``(job, run_key, attempt)`` constraint makes two writers claiming the same attempt fail
instead of both running.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from equiptwin.store.schema import JobRun

RUNNING, SUCCEEDED, FAILED, ABANDONED = "running", "succeeded", "failed", "abandoned"
ERROR_CHARS = 4000


def _naive_utc(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC).replace(tzinfo=None)


def is_done(engine: sa.Engine, job: str, run_key: str) -> bool:
    """Return whether an attempt of ``job`` for ``run_key`` has succeeded."""
    with engine.connect() as conn:
        found = conn.execute(
            sa.select(JobRun.id).where(
                JobRun.job == job, JobRun.run_key == run_key, JobRun.status == SUCCEEDED
            )
        ).first()
    return found is not None


def start(engine: sa.Engine, job: str, run_key: str, holder: str, now: dt.datetime) -> int:
    """Record the next attempt of ``job`` for ``run_key`` as running; return its row id.

    Raises
    ------
    sqlalchemy.exc.IntegrityError
        When another writer claimed the same attempt at the same moment.
    """
    with engine.begin() as conn:
        last = conn.execute(
            sa.select(sa.func.max(JobRun.attempt)).where(
                JobRun.job == job, JobRun.run_key == run_key
            )
        ).scalar()
        return int(
            conn.execute(
                sa.insert(JobRun)
                .values(
                    job=job,
                    run_key=run_key,
                    attempt=(last or 0) + 1,
                    holder=holder,
                    started_at=_naive_utc(now),
                    status=RUNNING,
                )
                .returning(JobRun.id)
            ).scalar_one()
        )


def finish(
    engine: sa.Engine,
    run_id: int,
    now: dt.datetime,
    *,
    summary: str | None = None,
    error: str | None = None,
) -> None:
    """Record the end of an attempt: ``succeeded`` without ``error``, else ``failed``."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(JobRun)
            .where(JobRun.id == run_id)
            .values(
                finished_at=_naive_utc(now),
                status=FAILED if error is not None else SUCCEEDED,
                summary=summary,
                error=error[-ERROR_CHARS:] if error is not None else None,
            )
        )


def abandon_stale(engine: sa.Engine, holder: str, now: dt.datetime) -> int:
    """Mark attempts left ``running`` by other holders (which died) as ``abandoned``.

    Call it only while holding the scheduler lease: no other scheduler is running then,
    so such attempts cannot finish. Their periods are run again. Returns how many.
    """
    with engine.begin() as conn:
        return int(
            conn.execute(
                sa.update(JobRun)
                .where(JobRun.status == RUNNING, JobRun.holder != holder)
                .values(
                    status=ABANDONED,
                    finished_at=_naive_utc(now),
                    error="the scheduler running it stopped before it finished",
                )
            ).rowcount
        )


@dataclass(frozen=True)
class RunRecord:
    """One row of the job history, as ``equiptwin serve --history`` shows it."""

    job: str
    run_key: str
    attempt: int
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    summary: str | None
    error: str | None

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to finish, ``None`` while running."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def history(engine: sa.Engine, *, limit: int = 50) -> list[RunRecord]:
    """Return the newest ``limit`` attempts, newest first (times naive UTC)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                JobRun.job,
                JobRun.run_key,
                JobRun.attempt,
                JobRun.status,
                JobRun.started_at,
                JobRun.finished_at,
                JobRun.summary,
                JobRun.error,
            )
            .order_by(JobRun.started_at.desc(), JobRun.id.desc())
            .limit(limit)
        ).all()
    return [RunRecord(*row) for row in rows]
