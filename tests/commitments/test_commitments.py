"""Commitments: the hash covers every word of the text and every field of the data; signing needs the
consent and the signer's full name; a stored signature is checked against its text; retention ≥ 2 years."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from portal.commitments import operations as ops
from portal.commitments.models import CommitmentSignature
from portal.commitments.texts import REMOTE_CARE_FILING, TEXTS, current_text
from portal.core.db import db
from portal.core.errors import Conflict, PermissionDenied, ValidationFailed
from tests.services.remote_care_support import SYSTEM

pytestmark = pytest.mark.usefixtures("english")
MOMENT = datetime(2026, 12, 1, 2, tzinfo=UTC)
DATA = {"region": "jilin", "item_code": "G002036004001",
        "form": {"destination_code": "460000", "start_date": "2026-12-01", "care_phone": "13912345678"}}


def digest(body: str = "甲 乙 丙", data: dict | None = None, **kw) -> str:
    return ops.commitment_hash(version=kw.get("version", "v1"), body=body, data=data or DATA,
                               signed_name=kw.get("name", "李秀兰"), signed_at=kw.get("at", MOMENT))


def test_hash_is_stable_for_the_same_text_and_data():
    assert digest() == digest(data={"form": dict(reversed(list(DATA["form"].items()))), **{
        k: v for k, v in DATA.items() if k != "form"}})


@pytest.mark.parametrize("body", ["甲 乙 丁", "甲 乙", "甲 乙 丙 ", "甲 乙 丙。"])
def test_hash_changes_when_any_word_of_the_text_changes(body):
    assert digest(body) != digest()


@pytest.mark.parametrize("field", ["destination_code", "start_date", "care_phone"])
def test_hash_changes_when_any_field_of_the_data_changes(field):
    changed = {**DATA, "form": {**DATA["form"], field: DATA["form"][field] + "1"}}
    assert digest(data=changed) != digest()


def test_hash_changes_with_the_version_the_signer_and_the_time():
    assert len({digest(), digest(version="v2"), digest(name="李秀"), digest(at=MOMENT.replace(minute=1))}) == 4


def test_every_region_has_a_text_that_cites_its_basis():
    assert {t.region for t in TEXTS} == {"jilin", "yueyang", "linkou", "sichuan", "shangluo"}
    for text in TEXTS:
        assert text.basis and "依据：" in text.body and "医保发〔2022〕22号" in text.body


def test_signing_needs_a_bound_person(make_person, db_session):
    class Unbound:
        id, person = 1, None

    with pytest.raises(PermissionDenied):
        ops.sign_commitment(current_text("jilin", REMOTE_CARE_FILING), DATA, ops.SignatureInput(True, "李秀兰"),
                            by=Unbound(), actor=SYSTEM)


def test_signature_is_stored_and_verifies_until_something_is_tampered_with(citizen, at):
    at(2026, 12, 1)
    text = current_text("jilin", REMOTE_CARE_FILING)
    signature = ops.sign_commitment(text, DATA, ops.SignatureInput(True, "李秀兰"), by=citizen, actor=SYSTEM)
    assert signature.retain_until == date(2028, 12, 1)
    assert ops.verify_signature(signature) == []
    signature.data_json = signature.data_json.replace("460000", "440100")
    assert len(ops.verify_signature(signature)) == 1
    signature.data_json = ops.canonical_json(DATA)
    signature.text.body = signature.text.body.replace("两年", "一年")
    assert len(ops.verify_signature(signature)) == 2


def test_a_published_version_whose_words_changed_cannot_be_signed(citizen, at):
    at(2026, 12, 1)
    text = current_text("jilin", REMOTE_CARE_FILING)
    ops.sign_commitment(text, DATA, ops.SignatureInput(True, "李秀兰"), by=citizen, actor=SYSTEM)
    edited = replace(text, paragraphs=(*text.paragraphs[:-1], "五、改过的文字。"))
    with pytest.raises(Conflict):
        ops.sign_commitment(edited, DATA, ops.SignatureInput(True, "李秀兰"), by=citizen, actor=SYSTEM)


def test_signatures_are_kept_at_least_two_years(app, citizen, at):
    at(2026, 12, 1)
    text = current_text("jilin", REMOTE_CARE_FILING)
    app.config["PORTAL_COMMITMENT_RETENTION_YEARS"] = 1  # asking for less than two years gets two
    try:
        signature = ops.sign_commitment(text, DATA, ops.SignatureInput(True, "李秀兰"), by=citizen, actor=SYSTEM)
    finally:
        app.config.pop("PORTAL_COMMITMENT_RETENTION_YEARS")
    assert signature.retain_until == date(2028, 12, 1)
    at(2028, 12, 1)
    assert ops.purge_expired_signatures(actor=SYSTEM) == 0
    at(2028, 12, 2)
    assert ops.purge_expired_signatures(actor=SYSTEM) == 1
    assert db.session.get(CommitmentSignature, signature.id) is None


def test_without_consent_or_with_another_name_nothing_is_signed(citizen, at):
    at(2026, 12, 1)
    text = current_text("jilin", REMOTE_CARE_FILING)
    with pytest.raises(ValidationFailed) as error:
        ops.sign_commitment(text, DATA, ops.SignatureInput(False, "王五"), by=citizen, actor=SYSTEM)
    assert set(error.value.fields) == {"commitment_consent", "signed_name"}
