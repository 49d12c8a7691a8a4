"""The database: declarative base with a naming convention, and a session bound per app context.

Operations flush, never commit; the view (or the CLI command) commits once.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
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
    _begin_only_to_write(engine)  # first: the idle check below then reads without a transaction, too
    _ping_after_idle(engine)
    return engine


# A SELECT that locks rows, creates a table, or calls a function that locks or writes: it needs a transaction.
_WRITES_IN_A_SELECT = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b|\bINTO\b|"
    r"\b(?:pg_(?:try_)?advisory\w*|nextval|setval|set_config|pg_notify|txid_current\w*|lo_\w+)\s*\(",
    re.IGNORECASE)


def statement_may_write(statement: str, context: Any = None) -> bool:
    """Whether a statement may change or lock anything: all but a plain ``SELECT`` (when in doubt: yes)."""
    if context is not None and (context.isinsert or context.isupdate or context.isdelete
                                or context.execution_options.get("stream_results")):  # server-side cursors
        return True
    return _text_may_write(statement)


@lru_cache(maxsize=2048)
def _text_may_write(statement: str) -> bool:
    """``statement_may_write`` by the text alone, found once per text: SQLAlchemy sends the same compiled string
    object again and again, and the search reads all of a long SELECT (the session's is some 5 KB)."""
    if statement.lstrip()[:6].upper() != "SELECT":
        return True
    return _WRITES_IN_A_SELECT.search(statement) is not None


def begin_for_raw_writes(dbapi_connection: Any) -> None:
    """Before writing through the driver's own connection (e.g. ``COPY``, which passes no SQLAlchemy event): make
    sure what follows runs in the transaction, not statement by statement."""
    if getattr(dbapi_connection, "autocommit", False):
        dbapi_connection.autocommit = False


def _begin_only_to_write(engine: Engine) -> None:
    """PostgreSQL (psycopg): no transaction until a statement may write. A request that only reads sends its
    ``SELECT``s alone — no ``BEGIN`` before them and no ``ROLLBACK`` when its session closes, two round trips of
    three on a light page; under PostgreSQL's READ COMMITTED each statement sees its own snapshot either way, so
    nothing a reader sees changes. The first statement that may write or lock (anything but a plain ``SELECT``,
    ``statement_may_write``) opens the transaction (psycopg sends ``BEGIN`` with it), and every later statement runs
    in it until the commit or rollback, after which reads go alone again. A connection whose isolation level was
    asked for (e.g. ``AUTOCOMMIT`` for ``CREATE DATABASE``) is left as SQLAlchemy set it."""
    if engine.dialect.name != "postgresql":
        return
    from psycopg.pq import TransactionStatus

    idle = TransactionStatus.IDLE

    @event.listens_for(engine, "checkout")
    def _reads_alone(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.info.transaction_status == idle:
            dbapi_connection.autocommit = True

    @event.listens_for(engine, "before_cursor_execute")
    def _transaction_before_writing(conn: Any, cursor: Any, statement: str, _parameters: Any, context: Any,
                                    _many: bool) -> None:
        if "isolation_level" in conn.get_execution_options():
            return
        dbapi_connection = cursor.connection
        if dbapi_connection.autocommit:
            if statement_may_write(statement, context):
                dbapi_connection.autocommit = False  # psycopg begins the transaction with this statement
        elif dbapi_connection.info.transaction_status == idle and not statement_may_write(statement, context):
            dbapi_connection.autocommit = True  # committed or rolled back: the next reads go alone again


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


@cache
def _stamp_statement(model: type, column: str) -> Any:
    """``UPDATE model SET column = :now WHERE id = :row_id``, but only where no other transaction holds the row
    (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite lets one writer in at a time anyway). Built once."""
    from sqlalchemy import bindparam, select, update

    key = model.id
    return (update(model).where(key == select(key).where(key == bindparam("row_id"))
                                .with_for_update(skip_locked=True).scalar_subquery())
            .values({column: bindparam("now")}).execution_options(synchronize_session=False))


def stamp_unless_taken(row: Any, column: str, now: datetime) -> bool:
    """Write ``now`` into ``row.column`` (a last-seen or last-used time) unless another request is writing it at this
    moment: a client's parallel requests do not queue on the row's lock, the one that took it writes the same minute.
    Whether this one wrote it (the row in the session then holds the new value)."""
    from sqlalchemy.orm.attributes import set_committed_value

    if not db.session.execute(_stamp_statement(type(row), column), {"row_id": row.id, "now": now}).rowcount:
        return False
    set_committed_value(row, column, now)
    return True


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

    def read_rows(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of one plain read, at the least cost: through the driver on a pooled connection of its own (no
        ORM session, and on PostgreSQL no transaction: one round trip). When the session was configured with a
        connection of its own (the test suite runs each test in one transaction), on that connection, in a
        savepoint, so that what the session would see is what is read."""
        bound = self.session.session_factory.kw.get("bind")
        if bound is not None and not isinstance(bound, Engine):
            with bound.begin_nested():
                return [tuple(row) for row in bound.exec_driver_sql(sql)]
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                cursor.execute(sql)
                return [tuple(row) for row in cursor.fetchall()]
            finally:
                cursor.close()
        finally:
            raw.close()  # back to the pool (a failed read is rolled back there)

    @property
    def is_postgres(self) -> bool:
        return self.engine is not None and self.engine.dialect.name == "postgresql"

    def upsert(self, model: Any) -> Any:
        """An ``INSERT … ON CONFLICT`` into ``model`` in the database's own dialect (PostgreSQL or SQLite): one
        statement that inserts the row or updates the one there, so two requests cannot both insert it."""
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return (pg_insert if self.is_postgres else sqlite_insert)(model)

    def create_all(self) -> None:
        Base.metadata.create_all(self.engine)


db = Database()
