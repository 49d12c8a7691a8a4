from datetime import datetime
from pathlib import Path

import pytest

from portal.calendar import engine, schedules
from portal.core import clock
from portal.core.audit import Actor, record, verify_chain


def test_healthz_checks_the_database(client, app):
    from portal.core.keycheck import record_unrecorded

    record_unrecorded(app.config["PORTAL_KEYS"])
    with clock.frozen(datetime(2026, 6, 1, 12)):  # 2026 is covered; 2027 is not reported before November
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok",
                                   "checks": {"database": "ok", "schema": "ok", "keys": "ok", "calendar": "ok"}}


@pytest.mark.skipif(engine.library_covers(2027), reason="assumes chinesecalendar lacks 2027")
def test_healthz_is_degraded_not_down_while_next_years_holidays_are_unknown(client):
    fake = Path(__file__).parent / "calendar" / "notices" / "FAKE-2027.txt"
    with clock.frozen(datetime(2026, 11, 1, 9)):
        degraded = client.get("/healthz")
        schedules.apply_schedule(2027, fake.read_text(encoding="utf-8"), source=fake.name, actor=Actor.system())
        covered = client.get("/healthz")
    assert degraded.status_code == 200
    body = degraded.get_json()
    assert body["status"] == "degraded" and body["checks"]["calendar"] == "degraded"
    assert body["calendar"]["uncovered_years"] == [2027] and "portal calendar import" in body["calendar"]["action"]
    assert covered.get_json()["status"] == "ok"


def test_home_page_is_chinese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="zh-Hans">' in html


def test_audit_log_detects_tampering(db_session):
    from portal.core.audit import AuditEvent, seal_all

    for n in range(3):
        record("test.action", actor=Actor("staff", str(n), "受理"), object_type="case", object_id=n)
    seal_all()
    assert verify_chain().ok
    row = db_session.query(AuditEvent).order_by(AuditEvent.id).all()[1]
    row.result = "denied"
    db_session.flush()
    report = verify_chain()
    assert not report.ok and report.broken_at == row.id
