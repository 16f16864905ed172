from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from equiptwin.errors import StoreError
from equiptwin.store import db
from equiptwin.store.schema import Base, System


def _schema_diff(engine: sa.Engine) -> list[object]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))


def test_migrations_create_exactly_the_models(store_url: str) -> None:
    engine = db.open_store(store_url)
    assert db.current_revision(engine) == db.head_revision()
    assert _schema_diff(engine) == []
    assert set(sa.inspect(engine).get_table_names()) >= set(Base.metadata.tables)


def test_upgrade_keeps_data_in_place(store_url: str) -> None:
    engine = db.connect(store_url)
    db.upgrade(engine, "0001")
    assert "forecasts" not in sa.inspect(engine).get_table_names()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(System).values(
                system_id="CT-AMS-01",
                site="AMS",
                modality="CT",
                manufacturer="Acme",
                model="Scan 64",
                installed_on=dt.date(2020, 1, 2),
                timezone="Europe/Amsterdam",
            )
        )
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()
    with engine.connect() as conn:
        assert conn.execute(sa.select(System.system_id)).scalars().all() == ["CT-AMS-01"]
    assert _schema_diff(engine) == []


def test_upgrade_twice_changes_nothing(store_url: str) -> None:
    engine = db.open_store(store_url)
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()


def test_sqlite_has_wal_and_foreign_keys(sqlite_url: str) -> None:
    engine = db.open_store(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_foreign_keys_are_enforced(store_url: str) -> None:
    engine = db.open_store(store_url)
    from equiptwin.store.schema import ComponentLife

    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            sa.insert(ComponentLife).values(
                life_id="X:xray_tube:1",
                system_id="NOPE",
                component="xray_tube",
                installed_on=dt.date(2020, 1, 1),
            )
        )


@pytest.mark.parametrize(
    ("given", "env", "expected"),
    [
        ("sqlite:///a.sqlite", None, "sqlite:///a.sqlite"),
        ("b.sqlite", None, "sqlite:///b.sqlite"),
        (None, "postgresql+psycopg://h/d", "postgresql+psycopg://h/d"),
        (None, None, db.DEFAULT_URL),
    ],
    ids=["url", "path", "env", "default"],
)
def test_resolve_url(
    given: str | None, env: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if env:
        monkeypatch.setenv(db.ENV_VAR, env)
    else:
        monkeypatch.delenv(db.ENV_VAR, raising=False)
    assert db.resolve_url(given) == expected


def test_unknown_driver_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="cannot open store"):
        db.connect("nosuchdb://x/y")
