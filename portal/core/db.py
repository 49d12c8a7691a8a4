"""The database: declarative base with a naming convention, and a session bound per app context.

Operations flush, never commit; the view (or the CLI command) commits once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g, has_app_context
from flask.globals import app_ctx
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every engine (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column; use portal.core.clock.now()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012 -- SQLAlchemy reads this class attribute


def _scope() -> int:
    try:
        return id(app_ctx._get_current_object())
    except (RuntimeError, LookupError):
        return 0


def _sqlite_setup(engine: Engine) -> None:
    """Foreign keys on, and let SQLAlchemy drive transactions so SAVEPOINT works with pysqlite."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")


@dataclass(frozen=True)
class Timeouts:
    """PostgreSQL limits in seconds (0: none), so that a frozen or locked database answers a request with a quick
    error (then a 503) instead of holding the worker: establishing a connection, one statement, waiting for a
    row or table lock, and waiting for a free connection of the pool."""

    connect: int = 5
    statement: int = 30
    lock: int = 10
    pool: int = 10

    @classmethod
    def from_config(cls, config: Any) -> Timeouts:
        return cls(config["PORTAL_DB_CONNECT_TIMEOUT"], config["PORTAL_DB_STATEMENT_TIMEOUT"],
                   config["PORTAL_DB_LOCK_TIMEOUT"], config["PORTAL_DB_POOL_TIMEOUT"])

    def engine_arguments(self) -> dict[str, Any]:
        options = f"-c statement_timeout={self.statement * 1000} -c lock_timeout={self.lock * 1000}"
        arguments: dict[str, Any] = {"connect_args": {"connect_timeout": self.connect, "options": options}}
        if self.pool:
            arguments["pool_timeout"] = self.pool
        return arguments


def make_engine(url: str, *, timeouts: Timeouts | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url``; on PostgreSQL with ``timeouts`` (default: the defaults of ``Timeouts``). A failing
    statement never shows its parameters (names, ID numbers, phones) in its error, so they cannot reach a log
    (``hide_parameters``)."""
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        _sqlite_setup(engine)
        return engine
    arguments = (timeouts or Timeouts()).engine_arguments()
    given = make_url(url).query.get("options")  # options of the URL's own (e.g. a search_path) are kept
    if given:
        arguments["connect_args"]["options"] = f"{given if isinstance(given, str) else ' '.join(given)} " \
                                               f"{arguments['connect_args']['options']}"
    engine = create_engine(url, **arguments, **kwargs)
    _ping_after_idle(engine)
    return engine


PING_AFTER_IDLE_SECONDS = 10.0


def _ping_after_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it has lain idle for a while (instead of ``pool_pre_ping``,
    a round trip on every request). A connection in steady use is known to be alive; one the server dropped while
    it was busy fails its request with a 503 (core/failures.py), and the pool then replaces all of its connections.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_from"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_from = record.info.get("idle_from")
        if idle_from is None or time.monotonic() - idle_from < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError(f"a pooled connection did not answer: {error}") from error


_COMMIT_WITH_RESPONSE = "_portal_commit_with_response"


def commit_with_response() -> None:
    """Commit what this request wrote so far (e.g. the audit row of a page view) once, when its response is ready
    (``after_request``), in the one transaction the request's reads ran in: not a transaction of its own in the
    middle of the view. A response is never sent without it: a failing commit fails the request instead."""
    g.setdefault(_COMMIT_WITH_RESPONSE, True)


class _AppSession(Session):
    """Binds to the current app's engine, so several apps (e.g. one per region in tests) can coexist."""

    def get_bind(self, mapper: Any = None, clause: Any = None, **kw: Any) -> Any:
        if self.bind is not None:
            return self.bind
        return db.engine


class Database:
    """Holds each app's engine and a session scoped to the current app context."""

    def __init__(self) -> None:
        self._last_engine: Engine | None = None
        self.session = scoped_session(sessionmaker(class_=_AppSession, expire_on_commit=False), scopefunc=_scope)

    @property
    def engine(self) -> Engine | None:
        if has_app_context():
            return current_app.extensions.get("portal_db_engine", self._last_engine)
        return self._last_engine

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["SQLALCHEMY_DATABASE_URI"], timeouts=Timeouts.from_config(app.config))
        app.extensions["portal_db_engine"] = engine
        app.extensions["portal_db"] = self
        self._last_engine = engine

        @app.after_request
        def _commit_with_response(response: Any) -> Any:
            if g.pop(_COMMIT_WITH_RESPONSE, False):
                self.session.commit()
            return response

        @app.teardown_appcontext
        def _remove_session(_exc: BaseException | None) -> None:
            self.session.remove()

    @property
    def is_postgres(self) -> bool:
        return self.engine is not None and self.engine.dialect.name == "postgresql"

    def create_all(self) -> None:
        Base.metadata.create_all(self.engine)


db = Database()
