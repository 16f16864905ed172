"""Open the store by URL and bring its schema to the newest migration.

SQLite files get write-ahead logging and enforced foreign keys; any other SQLAlchemy
URL (``postgresql+psycopg://...``) works the same way. The URL comes from ``--db``,
else ``EQUIPTWIN_DB``, else the default SQLite file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from equiptwin.errors import StoreError

DEFAULT_URL = "sqlite:///equiptwin.sqlite"
ENV_VAR = "EQUIPTWIN_DB"
MIGRATIONS = Path(__file__).with_name("migrations")


def resolve_url(db: str | None) -> str:
    """Return the store URL: ``db`` if given, else ``$EQUIPTWIN_DB``, else the default file.

    Parameters
    ----------
    db : str or None
        A SQLAlchemy URL or a plain path to an SQLite file.

    Returns
    -------
    str
        A SQLAlchemy URL.
    """
    url = db or os.environ.get(ENV_VAR) or DEFAULT_URL
    return url if "://" in url else f"sqlite:///{url}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def connect(url: str) -> Engine:
    """Create an engine for ``url``; SQLite files get WAL and foreign keys.

    Parameters
    ----------
    url : str
        A SQLAlchemy URL.

    Returns
    -------
    sqlalchemy.Engine
        The engine; nothing is created or migrated yet.

    Raises
    ------
    StoreError
        When the URL is malformed or names a driver that is not installed.
    """
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
    except (ArgumentError, ModuleNotFoundError) as exc:
        raise StoreError(
            f"cannot open store {url!r}: {exc}. Pass --db sqlite:///path/to/file.sqlite "
            "or a postgresql+psycopg:// URL."
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the store to ``revision`` (the newest by default), in place.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    revision : str
        An Alembic revision id, or ``"head"``.

    Raises
    ------
    StoreError
        When the database cannot be reached.
    """
    try:
        command.upgrade(_alembic_config(engine), revision)
    except OperationalError as exc:
        raise StoreError(f"cannot migrate store {engine.url!r}: {exc.orig}") from None


def current_revision(engine: Engine) -> str | None:
    """Return the store's migration revision, or ``None`` for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """Return the newest migration revision shipped with this version of equiptwin."""
    head = ScriptDirectory.from_config(
        _alembic_config(create_engine("sqlite://"))
    ).get_current_head()
    if head is None:
        raise StoreError("no migrations found; the installation is broken, reinstall equiptwin.")
    return head


def open_store(db: str | None) -> Engine:
    """Resolve, connect and migrate: the one call every command makes.

    Parameters
    ----------
    db : str or None
        ``--db`` as given on the command line.

    Returns
    -------
    sqlalchemy.Engine
        A store at the newest schema.
    """
    engine = connect(resolve_url(db))
    upgrade(engine)
    return engine
