"""The national-platform port: the documented schemas, the hub's rules (idempotent by message id, the sender is who
signed, filing reports to 'national'), and the HTTP adapter against the hub served over real HTTP on 127.0.0.1 —
signed both ways, schema-checked both ways, replays refused."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import requests

from portal.core import doctor
from portal.integrations.national import (
    NATIONAL,
    Message,
    NationalError,
    build,
    get_national,
    problems,
    schema,
)
from portal.integrations.national.http import HttpNationalPlatform, signed_headers
from portal.integrations.national.hub import Hub
from portal.integrations.national.hub_server import serve
from portal.integrations.national.local import LocalNationalPlatform
from tests.servers import in_thread

pytestmark = pytest.mark.no_db

JILIN, LINKOU = "220100", "231025"
SECRETS = {JILIN: "jilin-secret-0123456789", LINKOU: "linkou-secret-0123456789"}
PERSON = {"id_number": "220102198503151237", "name": "张伟明"}
TRANSFER = "0" * 31 + "1"


def contact_letter(**changes) -> dict:
    body = {"transfer_id": TRANSFER, "letter_number": "(黑龙江省)(231025)(2026)(第0000001号)", "person": dict(PERSON),
            "insurance_type": "employee_medical", "applied_on": "2026-12-01", "issued_on": "2026-12-02",
            "from_area": {"code": JILIN, "name": "吉林省"}, "to_area": {"code": LINKOU, "name": "林口县"},
            "agency": {"name": "林口县医疗保障局"}, "reply_by": "2026-12-16", "transfer_account": True}
    body.update(changes)
    return body


def filing_report(number: str = "YDJL20261201AAAAAA", event: str = "filed", **changes) -> dict:
    body = {"filing_number": number, "event": event, "person": dict(PERSON),
            "insured_area": {"code": JILIN, "name": "吉林省"}, "category": "resettled_retiree", "term": "long_term",
            "destination": {"code": "460000", "name": "海南省"}, "start_date": "2026-12-01", "end_date": None,
            "status": "active", "occurred_at": "2026-12-01T02:00:00+00:00"}
    body.update(changes)
    return body


@pytest.fixture
def hub_server() -> Iterator:
    server, app = serve(":memory:", SECRETS)
    for running in in_thread(server):
        running.app = app
        running.url = f"http://127.0.0.1:{server.server_port}"
        yield running


def adapter(server, node: str = LINKOU, secret: str | None = None) -> HttpNationalPlatform:
    return HttpNationalPlatform(server.url, node, secret or SECRETS[node])


# --- the schemas ---------------------------------------------------------------------------------------------


def test_every_message_type_has_a_documented_schema_and_the_samples_follow_it():
    envelope = schema("envelope")
    for kind in envelope["properties"]["type"]["enum"]:
        assert schema(kind)["title"] and schema(kind)["additionalProperties"] is False
    assert problems(Message("contact_letter", LINKOU, JILIN, contact_letter()).to_json()) == []
    assert problems(Message("filing_report", JILIN, NATIONAL, filing_report()).to_json()) == []


def test_a_message_off_the_schema_is_named_by_field_without_its_values():
    bad = Message("contact_letter", LINKOU, JILIN, contact_letter(
        person={"id_number": "22010219850315123", "name": "张伟明"}, reply_by="16/12/2026", extra=1)).to_json()
    found = problems(bad)
    assert "body/person/id_number: wrong format" in found
    assert "body/reply_by: wrong format" in found
    assert "body: unknown field (extra)" in found
    assert not any("2201021985" in line or "张伟明" in line for line in found)  # values never repeated
    envelope = Message("contact_letter", LINKOU, JILIN, contact_letter()).to_json() | {"schema_version": "2"}
    assert problems(envelope) == ["schema_version: not the supported version"]


# --- the hub's rules -----------------------------------------------------------------------------------------


def test_the_same_message_id_is_one_message_and_another_content_under_it_is_refused():
    hub = Hub(":memory:")
    letter = Message("contact_letter", LINKOU, JILIN, contact_letter())
    first = hub.accept(LINKOU, letter.to_json())
    again = hub.accept(LINKOU, letter.to_json())
    assert first["duplicate"] is False and again == {**first, "duplicate": True}
    assert [m["message_id"] for m in hub.inbox(JILIN)] == [letter.message_id]  # delivered once
    changed = Message("contact_letter", LINKOU, JILIN, contact_letter(letter_number="X"), message_id=letter.message_id)
    with pytest.raises(NationalError, match="already used for another content") as refused:
        hub.accept(LINKOU, changed.to_json())
    assert refused.value.retry is False


def test_the_hub_refuses_a_forged_sender_and_misaddressed_messages():
    hub = Hub(":memory:", frozenset(SECRETS))
    with pytest.raises(NationalError, match="sender differs"):
        hub.accept(JILIN, Message("contact_letter", LINKOU, JILIN, contact_letter()).to_json())
    with pytest.raises(NationalError, match="filing reports go to 'national'"):
        hub.accept(JILIN, Message("filing_report", JILIN, LINKOU, filing_report()).to_json())
    with pytest.raises(NationalError, match="unknown recipient area 110100"):
        hub.accept(LINKOU, Message("contact_letter", LINKOU, "110100", contact_letter()).to_json())
    assert hub.count() == 0


def test_acknowledged_messages_are_not_offered_again_and_filings_keep_their_latest_state():
    hub = Hub(":memory:")
    letter = Message("contact_letter", LINKOU, JILIN, contact_letter())
    hub.accept(LINKOU, letter.to_json())
    assert hub.acknowledge(JILIN, [letter.message_id]) == 1 and hub.inbox(JILIN) == []
    hub.accept(JILIN, Message("filing_report", JILIN, NATIONAL, filing_report()).to_json())
    hub.accept(JILIN, Message("filing_report", JILIN, NATIONAL, filing_report(
        event="changed", destination={"code": "440100", "name": "广东省广州市"})).to_json())
    [filing] = hub.filings(PERSON["id_number"])
    assert filing["event"] == "changed" and filing["destination"]["code"] == "440100"
    assert filing["insured_area_code"] == JILIN
    assert hub.inbox(NATIONAL) == []  # the platform keeps reports; no area receives them


# --- the HTTP adapter against the hub over HTTP ------------------------------------------------------------


def test_two_areas_exchange_a_message_over_http_and_a_resend_delivers_nothing_twice(hub_server):
    linkou, jilin = adapter(hub_server, LINKOU), adapter(hub_server, JILIN)
    letter = Message("contact_letter", LINKOU, JILIN, contact_letter())
    receipt = linkou.send(letter)
    assert receipt.message_id == letter.message_id and not receipt.duplicate
    assert linkou.send(letter).duplicate  # a worker that crashed after the send sends it again: same message
    [received] = jilin.receive()
    assert received == letter
    assert linkou.receive() == []
    jilin.acknowledge([received.message_id])
    assert jilin.receive() == []


def test_queries_answer_what_the_platform_learnt(hub_server):
    jilin, linkou = adapter(hub_server, JILIN), adapter(hub_server, LINKOU)
    jilin.send(Message("filing_report", JILIN, NATIONAL, filing_report()))
    assert [f["filing_number"] for f in linkou.filings_of(PERSON["id_number"])] == ["YDJL20261201AAAAAA"]
    assert linkou.filings_of("231025198503151239") == []
    linkou.send(Message("contact_letter", LINKOU, JILIN, contact_letter()))
    jilin.send(Message("information_sheet", JILIN, LINKOU, {
        "transfer_id": TRANSFER, "letter_number": "L", "sheet_number": "S", "person": dict(PERSON),
        "insurance_type": "employee_medical", "periods": [], "contribution_months": 0, "account_balance": "0.00",
        "issued_on": "2026-12-10"}))
    linkou.send(Message("transfer_completed", LINKOU, JILIN, {"transfer_id": TRANSFER, "letter_number": "L",
                                                                "completed_on": "2026-12-14"}))
    assert linkou.enrolments_of(PERSON["id_number"]) == [
        {"area": JILIN, "status": "closed", "since": "2026-12-10"},
        {"area": LINKOU, "status": "open", "since": "2026-12-14"}]


def test_the_hub_checks_the_schema_of_what_it_is_sent(hub_server):
    envelope = Message("contact_letter", LINKOU, JILIN, contact_letter()).to_json()
    envelope["body"]["person"]["id_number"] = "bad"
    body = json.dumps(envelope).encode()
    answer = requests.post(hub_server.url + "/v1/messages", data=body, timeout=5,
                           headers=signed_headers(LINKOU, SECRETS[LINKOU], "/v1/messages", body))
    assert answer.status_code == 422
    assert answer.json() == {"code": "INVALID", "problems": ["body/person/id_number: wrong format"]}
    assert hub_server.app.hub.count() == 0


def test_the_adapter_checks_the_schema_of_what_it_receives(hub_server):
    bad = Message("contact_letter", LINKOU, JILIN, contact_letter()).to_json()
    bad["body"]["reply_by"] = "soon"
    with hub_server.app.hub._db() as db:  # a platform that hands out a message off the schema
        db.execute("INSERT INTO message VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                   (bad["message_id"], LINKOU, JILIN, "contact_letter", json.dumps(bad), "x", "2026-12-01"))
    with pytest.raises(NationalError) as caught:
        adapter(hub_server, JILIN).receive()
    assert caught.value.kind == "invalid" and "body/reply_by: wrong format" in caught.value.detail


def test_a_wrong_secret_or_a_replayed_request_is_refused(hub_server):
    stranger = adapter(hub_server, LINKOU, secret="not-the-secret-0123456789")
    with pytest.raises(NationalError, match="AUTH_FAILED"):
        stranger.send(Message("contact_letter", LINKOU, JILIN, contact_letter()))
    assert not stranger.health().ok and "AUTH_FAILED" in stranger.health().detail
    body = json.dumps(Message("contact_letter", LINKOU, JILIN, contact_letter()).to_json()).encode()
    headers = signed_headers(LINKOU, SECRETS[LINKOU], "/v1/messages", body)
    first = requests.post(hub_server.url + "/v1/messages", data=body, headers=headers, timeout=5)
    replayed = requests.post(hub_server.url + "/v1/messages", data=body, headers=headers, timeout=5)
    assert first.json()["code"] == "OK" and replayed.status_code == 401


def test_an_answer_not_signed_with_our_secret_is_not_believed(hub_server):
    hub_server.app._secrets[LINKOU + "x"] = "x"  # unrelated: the hub still signs with the caller's secret
    honest = adapter(hub_server, LINKOU)
    assert honest.health().ok
    hub_server.app._secrets[LINKOU] = "changed-on-the-hub-0123456789"  # the hub now signs with another secret
    with pytest.raises(NationalError):
        honest.receive()


def test_a_busy_or_unreachable_platform_is_a_retryable_error(hub_server):
    hub_server.app.paused = True
    with pytest.raises(NationalError) as busy:
        adapter(hub_server).send(Message("contact_letter", LINKOU, JILIN, contact_letter()))
    assert busy.value.retry and busy.value.kind == "unavailable"
    hub_server.app.paused = False
    gone = HttpNationalPlatform("http://127.0.0.1:9", LINKOU, SECRETS[LINKOU], timeout=(0.5, 0.5))
    with pytest.raises(NationalError) as unreachable:
        gone.send(Message("contact_letter", LINKOU, JILIN, contact_letter()))
    assert unreachable.value.retry
    assert not gone.health().ok


def test_configuration_picks_the_adapter(tmp_path):
    local = build({"PORTAL_NATIONAL_BACKEND": "local"}, JILIN, str(tmp_path))
    assert isinstance(local, LocalNationalPlatform) and local.hub.path == str(tmp_path / "national-hub.sqlite")
    http = build({"PORTAL_NATIONAL_BACKEND": "http", "PORTAL_NATIONAL_URL": "https://platform.example",
                  "PORTAL_NATIONAL_SECRET": "s"}, JILIN, str(tmp_path))
    assert isinstance(http, HttpNationalPlatform) and http.node == JILIN
    assert build({"PORTAL_NATIONAL_BACKEND": "off"}, JILIN, str(tmp_path)) is None
    from portal.config import ConfigError

    with pytest.raises(ConfigError, match="PORTAL_NATIONAL_URL and PORTAL_NATIONAL_SECRET"):
        build({"PORTAL_NATIONAL_BACKEND": "http"}, JILIN, str(tmp_path))
    with pytest.raises(ConfigError, match="must use https"):
        build({"PORTAL_NATIONAL_BACKEND": "http", "PORTAL_NATIONAL_URL": "http://platform.example",
               "PORTAL_NATIONAL_SECRET": "s"}, JILIN, str(tmp_path))


def test_two_local_adapters_on_one_hub_file_exchange_messages(tmp_path):
    path = str(tmp_path / "hub.sqlite")
    linkou, jilin = LocalNationalPlatform(path, LINKOU), LocalNationalPlatform(path, JILIN)
    letter = Message("contact_letter", LINKOU, JILIN, contact_letter())
    linkou.send(letter)
    assert jilin.receive() == [letter]
    assert jilin.health().ok and "1 message(s) waiting" in jilin.health().detail


def test_the_doctor_reports_the_national_platform(app, hub_server, monkeypatch):
    with app.app_context():
        monkeypatch.setitem(app.extensions, "portal_national", adapter(hub_server, JILIN))
        outcome = doctor.checks()["national"].run()
        assert outcome.ok and f"accepts node {JILIN}" in outcome.summary
        monkeypatch.setitem(app.extensions, "portal_national", adapter(hub_server, JILIN, secret="w" * 20))
        outcome = doctor.checks()["national"].run()
        assert not outcome.ok and "AUTH_FAILED" in outcome.problems[0]
        monkeypatch.delitem(app.extensions, "portal_national")
        assert get_national(app) is not None  # the test app's local hub
        assert doctor.checks()["national"].run().ok


def test_message_ids_are_fresh_and_hex():
    ids = {Message("contact_letter", LINKOU, JILIN, contact_letter()).message_id for _ in range(50)}
    assert len(ids) == 50 and all(uuid.UUID(hex=i).hex == i for i in ids)
