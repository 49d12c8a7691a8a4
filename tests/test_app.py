from portal.core.audit import Actor, record, verify_chain


def test_healthz_checks_the_database(client, app):
    from portal.core.keycheck import record_unrecorded

    record_unrecorded(app.config["PORTAL_KEYS"])
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "keys": "ok"}


def test_home_page_is_chinese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="zh-Hans">' in html


def test_audit_chain_detects_tampering(db_session):
    for n in range(3):
        record("test.action", actor=Actor("staff", str(n), "受理"), object_type="case", object_id=n)
    assert verify_chain().ok
    from portal.core.audit import AuditEvent

    row = db_session.query(AuditEvent).order_by(AuditEvent.id).all()[1]
    row.result = "denied"
    db_session.flush()
    report = verify_chain()
    assert not report.ok and report.broken_at == row.id
