"""Failures answered as what they are: a database that does not answer, times out or is locked gives 503 with
Retry-After (a page in the user's language, the API's ``service_unavailable``), never a 500 and never a hung
worker; a version or unique-constraint race gives 409 (``conflict``); anything else is still a 500. The full disk:
tests/materials/test_full_disk.py."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.orm.exc import StaleDataError

from portal import create_app
from portal.core import failures
from portal.core.db import Timeouts, db, make_engine

CODE = "KZQQV9UJDTSJGBUF"  # a well-formed verification code: the page looks it up in the database
PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
needs_postgres = pytest.mark.skipif(not PG_URL.startswith("postgresql"), reason="needs PORTAL_TEST_DATABASE_URL")


@pytest.fixture
def other_app(tmp_path):
    """``other_app(**settings)``: a second app of its own (the suite's app and its database are left alone)."""
    previous = db._last_engine
    made = []

    def _make(**settings):
        application = create_app({"ENV": "testing", "INSTANCE_PATH": str(tmp_path / "instance"), **settings})
        made.append(application)
        return application

    yield _make
    for application in made:
        application.extensions["portal_db_engine"].dispose()
    db._last_engine = previous


@pytest.fixture
def frozen_database() -> Iterator[str]:
    """The address of a "database" that accepts connections and never says a word (a frozen server)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)  # the kernel completes the handshakes; nothing ever reads or answers
    yield f"postgresql+psycopg://portal@127.0.0.1:{listener.getsockname()[1]}/portal_test_frozen"
    listener.close()


def _timed(client, url: str, **kwargs):
    started = time.monotonic()
    response = client.get(url, **kwargs)
    return response, time.monotonic() - started


@pytest.mark.no_db
def test_a_frozen_database_gives_503_quickly_on_pages_the_api_and_the_health_check(other_app, frozen_database):
    application = other_app(DATABASE_URL=frozen_database, DB_CONNECT_TIMEOUT=2, RETRY_AFTER_SECONDS=45)
    client = application.test_client()

    health, seconds = _timed(client, "/healthz")
    assert health.status_code == 503 and health.get_json()["checks"]["database"] == "unreachable"
    assert health.headers["Retry-After"] == "45"
    assert seconds < 10, f"the health check hung {seconds:.1f} s"

    page, seconds = _timed(client, f"/v/{CODE}")
    assert page.status_code == 503 and seconds < 10
    assert page.headers["Retry-After"] == "45"
    html = page.get_data(as_text=True)
    assert "服务暂时不可用" in html and "lang=\"zh-Hans\"" in html

    client.set_cookie("lang", "en")
    english, _ = _timed(client, f"/v/{CODE}")
    assert english.status_code == 503 and "The service is briefly unavailable" in english.get_data(as_text=True)

    api, seconds = _timed(client, f"/api/v1/certificates/verify/{CODE}")
    assert api.status_code == 503 and seconds < 10
    assert api.headers["Retry-After"] == "45"
    assert api.get_json()["error"]["code"] == "service_unavailable"
    assert "try again" in api.get_json()["error"]["message"]


@pytest.mark.no_db
def test_races_lost_give_409_and_other_database_errors_stay_500(other_app, tmp_path):
    application = other_app(DATABASE_URL=f"sqlite:///{tmp_path / 'races.db'}")
    unique = sa_exc.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed: application.number"))
    check = sa_exc.IntegrityError("INSERT", {}, Exception("CHECK constraint failed: ck_application_state"))
    raised = {"stale": StaleDataError("UPDATE statement on table 'application' expected to update 1 row(s); 0 were "
                                      "matched."), "unique": unique, "check": check}
    for name, error in raised.items():
        def _raise(error=error):
            raise error

        application.add_url_rule(f"/boom/{name}", f"boom_{name}", _raise)
        application.add_url_rule(f"/api/v1/boom/{name}", f"api_boom_{name}", _raise)
    client = application.test_client()
    for name, status in (("stale", 409), ("unique", 409), ("check", 500)):
        page = client.get(f"/boom/{name}")
        assert page.status_code == status, name
        api = client.get(f"/api/v1/boom/{name}").get_json()
        assert api["error"]["code"] == {409: "conflict", 500: "internal_error"}[status]
    assert "刚刚有人修改了" in client.get("/boom/stale").get_data(as_text=True)


@pytest.mark.no_db
@needs_postgres
def test_a_locked_table_gives_503_after_the_lock_timeout_not_a_hung_worker(other_app):
    application = other_app(DATABASE_URL=PG_URL, DB_LOCK_TIMEOUT=1)
    holder = make_engine(PG_URL)
    with holder.connect() as locking:
        locking.execute(text("LOCK TABLE certificate IN ACCESS EXCLUSIVE MODE"))  # held until the rollback below
        response, seconds = _timed(application.test_client(), f"/api/v1/certificates/verify/{CODE}")
        locking.rollback()
    holder.dispose()
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "service_unavailable"
    assert seconds < 5, f"waited {seconds:.1f} s for the lock"


@pytest.mark.no_db
@needs_postgres
def test_a_statement_past_the_statement_timeout_is_cancelled_and_counts_as_unavailable():
    engine = make_engine(PG_URL, timeouts=Timeouts(statement=1))
    started = time.monotonic()
    with engine.connect() as connection, pytest.raises(sa_exc.OperationalError) as caught:
        connection.execute(text("SELECT pg_sleep(10)"))
    engine.dispose()
    assert time.monotonic() - started < 5
    assert failures.is_unavailable(caught.value)


def test_the_openapi_document_names_503_for_every_operation(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operations = [op for path in document["paths"].values() for op in path.values() if op["operationId"] != "openapi"]
    assert len(operations) > 20 and all("503" in op["responses"] for op in operations)  # the document itself: static
    assert "service_unavailable" in document["info"]["description"]
