"""The store's tables (SQLAlchemy 2 declarative).

The schema is created and changed only by the versioned migrations in
``store/migrations``; a test proves the migrated schema equals these models on SQLite
and PostgreSQL. Timestamps are stored in UTC (naive ``DateTime`` columns hold UTC by
convention, which SQLite and PostgreSQL both keep exactly).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Unicode,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every equiptwin table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        dt.datetime: DateTime(),
        dt.date: Date(),
    }


class System(Base):
    """One imaging system from the asset registry (``assets.csv``)."""

    __tablename__ = "systems"
    system_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    modality: Mapped[str] = mapped_column(String(8))
    manufacturer: Mapped[str] = mapped_column(String(128))
    model: Mapped[str] = mapped_column(String(128))
    installed_on: Mapped[dt.date | None]
    timezone: Mapped[str] = mapped_column(String(64))


class ComponentLife(Base):
    """One life of a tracked component (an X-ray tube or a cold head) in a system.

    A life starts at installation and ends at a replacement: a corrective replacement
    with ``failure=yes`` ends it as a failure, a preventive one ends it censored.
    """

    __tablename__ = "component_lives"
    life_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    system_id: Mapped[str] = mapped_column(ForeignKey("systems.system_id"), index=True)
    component: Mapped[str] = mapped_column(String(16))
    component_model: Mapped[str | None] = mapped_column(String(128))
    installed_on: Mapped[dt.date]
    ended_on: Mapped[dt.date | None]
    end_reason: Mapped[str | None] = mapped_column(String(16))
    end_work_order: Mapped[str | None] = mapped_column(String(64))


class ServiceRecord(Base):
    """One CMMS work order (``service_records.csv``)."""

    __tablename__ = "service_records"
    work_order: Mapped[str] = mapped_column(String(64), primary_key=True)
    system_id: Mapped[str] = mapped_column(ForeignKey("systems.system_id"), index=True)
    opened_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    kind: Mapped[str] = mapped_column(String(16))
    component: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    failure: Mapped[bool] = mapped_column(Boolean)
    downtime_h: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str | None] = mapped_column(Text)


class Appointment(Base):
    """One booked exam from the schedule export; ``patient_ref`` is a keyed hash."""

    __tablename__ = "appointments"
    appointment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    system_id: Mapped[str] = mapped_column(ForeignKey("systems.system_id"))
    site: Mapped[str] = mapped_column(String(64))
    modality: Mapped[str] = mapped_column(String(8))
    start: Mapped[dt.datetime]
    duration_min: Mapped[int] = mapped_column(Integer)
    priority: Mapped[str] = mapped_column(String(16))
    exam_code: Mapped[str] = mapped_column(String(32))
    patient_ref: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (Index("ix_appointments_system_start", "system_id", "start"),)


class IngestRun(Base):
    """One ``equiptwin ingest`` run and its summary."""

    __tablename__ = "ingest_runs"
    run_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    data_dir: Mapped[str] = mapped_column(Text)
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    summary: Mapped[dict[str, Any] | None]


class ManifestEntry(Base):
    """How far one source file has been consumed.

    ``identity`` is a hash of the file's first bytes (so a copy or a rotated duplicate
    is recognised wherever it lies); ``prefix_sha256`` hashes every byte consumed so far,
    so an appended file continues at ``offset`` and a rewritten one is detected.
    """

    __tablename__ = "ingest_manifest"
    path: Mapped[str] = mapped_column(String(512), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    identity: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    prefix_sha256: Mapped[str] = mapped_column(String(64))
    offset: Mapped[int] = mapped_column(BigInteger)
    lines: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int] = mapped_column(ForeignKey("ingest_runs.run_id"))
    duplicate_of: Mapped[str | None] = mapped_column(String(512))
    mtime_ns: Mapped[int] = mapped_column(BigInteger, default=0)


class EventCountDaily(Base):
    """How many events of one code one system logged on one UTC day (from the event logs)."""

    __tablename__ = "event_counts_daily"
    system_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    code: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class ArchivePart(Base):
    """One Parquet file of the raw-record archive, committed with the manifest rows it holds.

    Readers see only listed parts, so a part written by a run that died before its
    commit is invisible (and removed by the next run).
    """

    __tablename__ = "archive_parts"
    path: Mapped[str] = mapped_column(String(512), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(16))
    system_id: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))
    rows: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int] = mapped_column(ForeignKey("ingest_runs.run_id"))
    __table_args__ = (Index("ix_archive_parts_dataset_system", "dataset", "system_id", "month"),)


class QuarantineEntry(Base):
    """A rejected line, row or file, kept with its location, reason and raw text."""

    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("ingest_runs.run_id"), index=True)
    source: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(512))
    line: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)


class JobRun(Base):
    """One attempt of a scheduled job: the run ledger and the job history.

    ``run_key`` is the job's logical period in the site's time zone (the local day
    ``2026-10-01``, the ISO week ``2026-W40`` or a polling slot ``2026-10-01T06:15``);
    a period is done once one of its attempts ``succeeded``, so a restart or a repeated
    hour on a daylight-saving day never does it twice. A failed period is tried again
    as the next ``attempt``.
    """

    __tablename__ = "job_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(64))
    run_key: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    holder: Mapped[str] = mapped_column(String(160))
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        UniqueConstraint("job", "run_key", "attempt", name="uq_job_runs_job_key_attempt"),
        Index("ix_job_runs_started_at", "started_at"),
    )


class SchedulerLock(Base):
    """The lease that lets one ``equiptwin serve`` at a time run jobs on this store.

    The holder renews ``expires_at`` while it runs and deletes the row when it stops; a
    lease whose ``expires_at`` has passed (its holder died) may be taken over.
    """

    __tablename__ = "scheduler_lock"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(160))
    acquired_at: Mapped[dt.datetime]
    heartbeat_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]


class SchedulerJob(Base):
    """APScheduler's job store table (``SQLAlchemyJobStore``), owned by the migrations.

    Its columns are APScheduler 3's own, so the job store finds the table in place.
    """

    __tablename__ = "apscheduler_jobs"
    id: Mapped[str] = mapped_column(Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)


class Forecast(Base):
    """One forecast for one component life on one ``as_of`` date (formats.md)."""

    __tablename__ = "forecasts"
    as_of: Mapped[dt.date] = mapped_column(primary_key=True)
    life_id: Mapped[str] = mapped_column(ForeignKey("component_lives.life_id"), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    system_id: Mapped[str] = mapped_column(ForeignKey("systems.system_id"))
    component: Mapped[str] = mapped_column(String(16))
    p_fail_7d: Mapped[float] = mapped_column(Float)
    p_fail_14d: Mapped[float] = mapped_column(Float)
    p_fail_30d: Mapped[float] = mapped_column(Float)
    window_start: Mapped[dt.date | None]
    window_end: Mapped[dt.date | None]
    median_days_left: Mapped[float | None] = mapped_column(Float)
    alert: Mapped[bool] = mapped_column(Boolean)
    drivers: Mapped[dict[str, Any] | None]


class Ticket(Base):
    """One maintenance ticket per component life, keyed by ``dedup_key``."""

    __tablename__ = "tickets"
    dedup_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    life_id: Mapped[str] = mapped_column(ForeignKey("component_lives.life_id"))
    system_id: Mapped[str] = mapped_column(ForeignKey("systems.system_id"))
    component: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(Integer)
    opened_as_of: Mapped[dt.date]
    updated_as_of: Mapped[dt.date]
    closed_as_of: Mapped[dt.date | None]
    payload: Mapped[dict[str, Any]]


class OutboxMessage(Base):
    """One ticket revision waiting for (or done with) delivery to one sink."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedup_key: Mapped[str] = mapped_column(ForeignKey("tickets.dedup_key"))
    revision: Mapped[int] = mapped_column(Integer)
    sink: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        UniqueConstraint("dedup_key", "revision", "sink", name="uq_outbox_key_rev_sink"),
        Index("ix_outbox_status", "status", "next_attempt_at"),
    )


class ScheduleChange(Base):
    """One moved or cancelled appointment under one plan version."""

    __tablename__ = "schedule_changes"
    appointment_id: Mapped[str] = mapped_column(
        ForeignKey("appointments.appointment_id"), primary_key=True
    )
    plan_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    old_system_id: Mapped[str] = mapped_column(String(64))
    old_start: Mapped[dt.datetime]
    new_system_id: Mapped[str | None] = mapped_column(String(64))
    new_start: Mapped[dt.datetime | None]
    reason: Mapped[str] = mapped_column(Text)
