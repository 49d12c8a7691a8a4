"""异地就医备案: filing with a commitment takes effect at once; the rules of each region; the filing record's
validity, change, cancel, extension and expiry; revocation after checking; the long-term prerequisite."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.applications.constants import MaterialMode, State
from portal.commitments import operations as commitments
from portal.core.db import db
from portal.core.errors import Conflict, InvalidTransition, ValidationFailed
from portal.insurance.filings import FilingStatus, RemoteCareFiling
from portal.services import handler_for
from portal.services.remote_care import operations as rc
from tests.services.remote_care_support import GUANGZHOU, SYSTEM, TIANHE, WUZHISHAN, file

pytestmark = pytest.mark.usefixtures("english")


def filing_of(case) -> RemoteCareFiling:
    from portal.core.db import db

    return db.session.execute(select(RemoteCareFiling).where(RemoteCareFiling.application_id == case.id)).scalar_one()


# --- filing with a commitment ----------------------------------------------------------------------------


def test_self_service_filing_with_a_commitment_takes_effect_at_once(citizen, at):
    at(2026, 12, 1)
    case = file(citizen)
    assert case.state == State.COMPLETED
    assert case.materials["filing_proof"] == MaterialMode.COMMITMENT
    filing = filing_of(case)
    assert filing.status == FilingStatus.ACTIVE and filing.self_service
    assert filing.destination_code == "460000" and filing.destination_name == "海南省"  # province level only
    signature = commitments.signature_for(case.id)
    assert filing.commitment_hash == signature.hash and len(signature.hash) == 64
    assert commitments.verify_signature(signature) == []
    assert filing.number == "YD" + case.number  # one number: the 备案编号 is the 受理编号 with YD in front
    assert filing.number.startswith("YDJL20261201")
    assert filing.number in case.result_text
    from portal.documents.receipts import receipt_context

    slip = receipt_context(case, progress_url="https://example.test/q/x")
    printed = " ".join(row.value for section in slip["sections"] for row in section.rows)
    assert signature.hash in printed and filing.number in printed  # the hash is printed on the receipt


def test_filing_with_proof_on_paper_waits_for_a_clerk_and_takes_effect_when_completed(citizen, at, app):
    from portal.core.db import db

    at(2026, 12, 1)
    case = file(citizen, method=rc.METHOD_PAPER, commitment_consent=False, signed_name="")
    assert case.state == State.SUBMITTED
    assert case.materials["filing_proof"] == MaterialMode.AT_WINDOW
    assert db.session.execute(select(RemoteCareFiling)).first() is None
    from portal.applications import operations as ops

    ops.accept_application(case, by=None, actor=SYSTEM)
    ops.complete_application(case, by=None, actor=SYSTEM)
    filing = filing_of(case)
    assert filing.is_active and not filing.self_service and filing.commitment_hash is None


def test_filing_with_upload_stays_a_draft_for_the_files(citizen, at):
    at(2026, 12, 1)
    case = file(citizen, method=rc.METHOD_UPLOAD)
    assert case.state == State.DRAFT and case.materials["filing_proof"] == MaterialMode.UPLOAD


def test_commitment_needs_the_consent_and_the_full_name_on_the_record(citizen, at):
    at(2026, 12, 1)
    with pytest.raises(ValidationFailed) as error:
        file(citizen, commitment_consent=False, signed_name="李秀")
    assert set(error.value.fields) == {"commitment_consent", "signed_name"}
    assert file(citizen, signed_name=" 李 秀兰 ").state == State.COMPLETED  # spaces do not matter


def test_a_second_long_term_filing_is_offered_as_a_change(citizen, at):
    at(2026, 12, 1)
    first = filing_of(file(citizen))
    with pytest.raises(Conflict) as error:
        file(citizen, category="long_term_resident", destination_code=GUANGZHOU)
    assert error.value.code == "long_term_filing_exists" and first.number in error.value.message
    # a temporary filing beside it is fine
    case = file(citizen, category="referral", method=rc.METHOD_PAPER, destination_code=GUANGZHOU)
    assert case.state == State.SUBMITTED


def test_the_database_holds_one_active_long_term_filing_per_person(citizen, at):
    from sqlalchemy.exc import IntegrityError

    from portal.core.db import db

    at(2026, 12, 1)
    first = filing_of(file(citizen))
    twin = RemoteCareFiling(number="YDX1", region="jilin", person_id=first.person_id, item_code=first.item_code,
                            category="long_term_resident", term="long_term", destination_code=GUANGZHOU,
                            destination_name="广东省广州市", start_date=date(2026, 12, 1))
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(("code", "field"), [
    ("440000", "destination_code"),  # 广东 has cities: choose one
    ("999999", "destination_code"),
    ("220104", "destination_code"),  # 长春市朝阳区: inside Jilin, not out of area
    ("810000", "destination_code"),  # 香港: outside the network
])
def test_destination_must_be_a_city_outside_the_insured_area(citizen, at, code, field):
    at(2026, 12, 1)
    with pytest.raises(ValidationFailed) as error:
        file(citizen, destination_code=code)
    assert field in error.value.fields


@pytest.mark.parametrize(("code", "target"), [(TIANHE, TIANHE), (GUANGZHOU, GUANGZHOU), (WUZHISHAN, "460000"),
                                              ("110105", "110000"), ("660000", "660000")])
def test_destination_is_kept_at_the_level_filing_goes_to(citizen, at, code, target):
    at(2026, 12, 1)
    assert filing_of(file(citizen, destination_code=code)).destination_code == target


def test_start_date_cannot_be_past_unless_already_admitted(citizen, at):
    at(2026, 12, 10)
    with pytest.raises(ValidationFailed) as error:
        file(citizen, start_date="2026-12-01")
    assert "start_date" in error.value.fields
    case = file(citizen, category="referral", method=rc.METHOD_PAPER, destination_code=GUANGZHOU,
                start_date="2026-12-05", admitted_on="2026-12-05")
    assert case.state == State.SUBMITTED


def test_no_filing_after_discharge_settlement(citizen, at):
    at(2026, 12, 10)
    with pytest.raises(ValidationFailed) as error:
        file(citizen, category="referral", method=rc.METHOD_PAPER, destination_code=GUANGZHOU,
             start_date="2026-12-05", admitted_on="2026-12-05", discharged=True)
    assert "admitted_on" in error.value.fields


def test_no_acknowledgement_that_no_seed_asks_for_is_required(citizen, at):
    """No seed's 备案表 has a "lower rate" checkbox: a temporary filing without one goes through."""
    at(2026, 12, 1)
    case = file(citizen, category="referral", method=rc.METHOD_PAPER, destination_code=GUANGZHOU)
    assert case.state == State.SUBMITTED and "lower_rate_acknowledged" not in case.form_data


def test_referral_cannot_be_filed_with_a_commitment(citizen, at):
    at(2026, 12, 1)
    with pytest.raises(ValidationFailed) as error:
        file(citizen, category="referral", destination_code=GUANGZHOU)
    assert "method" in error.value.fields


# --- regions -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "keys"), [
    ("jilin", ["resettled_retiree", "long_term_resident", "stationed_worker", "referral"]),
    ("yueyang", ["resettled_retiree", "long_term_resident", "stationed_worker", "referral", "emergency"]),
    ("linkou", ["resettled_retiree", "long_term_resident", "stationed_worker", "referral"]),
    ("sichuan", ["resettled_retiree", "long_term_resident", "stationed_worker", "referral", "emergency"]),
    ("shangluo", ["resettled_retiree", "long_term_resident", "stationed_worker", "referral", "emergency"]),
])
def test_each_region_offers_the_categories_its_guide_has(region, name, keys):
    region(name)
    assert [c.key for c, _item in rc.offered_categories()] == keys


@pytest.mark.parametrize("name", ["jilin", "yueyang", "linkou", "sichuan", "shangluo"])
def test_every_region_files_a_retiree_with_a_commitment_at_once(region, name, citizen, at):
    region(name)
    at(2026, 12, 1)
    case = file(citizen, destination_code=TIANHE)
    assert case.state == State.COMPLETED and filing_of(case).self_service


def test_yueyang_emergency_must_be_filed_within_3_working_days(region, citizen, at):
    region("yueyang")
    at(2026, 12, 7)  # Monday; the emergency was on Wednesday 2 December: the 3 working days end Monday 7
    case = file(citizen, category="emergency", method=rc.METHOD_PAPER, destination_code=GUANGZHOU,
                emergency_date="2026-12-02")
    assert case.state == State.SUBMITTED
    at(2026, 12, 8)
    with pytest.raises(ValidationFailed) as error:
        file(citizen, category="emergency", method=rc.METHOD_PAPER, destination_code=GUANGZHOU,
             emergency_date="2026-12-02")
    assert "Dec 7, 2026" in error.value.fields["emergency_date"][0]


def test_sichuan_emergency_has_no_window_but_not_after_discharge(region, citizen, at):
    region("sichuan")
    at(2026, 12, 20)
    case = file(citizen, category="emergency", method=rc.METHOD_PAPER, destination_code=GUANGZHOU,
                emergency_date="2026-12-02")
    assert case.state == State.SUBMITTED
    with pytest.raises(ValidationFailed):
        file(citizen, category="emergency", method=rc.METHOD_PAPER, destination_code=GUANGZHOU,
             emergency_date="2026-12-02", discharged=True)


def completed(case):
    from portal.applications import operations as ops

    ops.accept_application(case, by=None, actor=SYSTEM)
    ops.complete_application(case, by=None, actor=SYSTEM)
    return filing_of(case)


def test_jilin_referral_is_valid_until_31_december(citizen, at):
    at(2026, 3, 2)
    case = file(citizen, category="referral", method=rc.METHOD_PAPER, destination_code=GUANGZHOU,
                start_date="2026-03-02")
    assert completed(case).end_date == date(2026, 12, 31)


def test_yueyang_referral_is_valid_for_the_temporary_window(region, citizen, at):
    region("yueyang")
    at(2026, 3, 2)
    case = file(citizen, category="referral", method=rc.METHOD_PAPER, destination_code=GUANGZHOU,
                start_date="2026-03-02")
    assert completed(case).end_date == date(2026, 9, 1)


def test_long_term_validity_jilin_has_an_end_yueyang_is_indefinite(region, citizen, make_citizen, at):
    at(2026, 3, 2)
    assert filing_of(file(citizen, start_date="2026-03-02")).end_date == date(2027, 3, 1)
    region("yueyang")
    other = make_citizen("王小红")
    assert filing_of(file(other, start_date="2026-03-02", signed_name="王小红")).end_date is None


# --- change, cancel, extend, expire ----------------------------------------------------------------------


def test_cancel_inside_the_lock_is_refused_with_the_date_it_lifts(citizen, at):
    at(2026, 12, 1)
    filing = filing_of(file(citizen))
    assert filing.lock_until == date(2027, 6, 1)
    with pytest.raises(InvalidTransition) as error:
        rc.cancel_filing(filing, by=citizen, actor=SYSTEM)
    assert error.value.code == "filing_locked" and "Jun 1, 2027" in error.value.message
    at(2027, 6, 1)
    assert rc.cancel_filing(filing, by=citizen, actor=SYSTEM).status == FilingStatus.CANCELLED
    assert filing.ended_on == date(2027, 6, 1)


def test_change_inside_the_lock_is_refused_and_a_change_starts_a_new_lock(citizen, at):
    at(2026, 12, 1)
    filing = filing_of(file(citizen))
    with pytest.raises(InvalidTransition) as error:
        rc.change_filing(filing, rc.ChangeInput(GUANGZHOU), by=citizen, actor=SYSTEM)
    assert "Jun 1, 2027" in error.value.message
    at(2027, 7, 1)
    rc.change_filing(filing, rc.ChangeInput(GUANGZHOU, care_address="广州市天河路1号"), by=citizen, actor=SYSTEM)
    assert filing.destination_name == "广东省广州市" and filing.lock_until == date(2028, 1, 1)
    assert filing.history[-1]["what"] == "changed"


def test_shangluo_sets_no_lock(region, citizen, at):
    region("shangluo")
    at(2026, 12, 1)
    filing = filing_of(file(citizen, destination_code=GUANGZHOU))
    assert filing.lock_until is None
    assert rc.cancel_filing(filing, by=citizen, actor=SYSTEM).status == FilingStatus.CANCELLED


def test_extension_only_before_expiry_and_from_its_window(citizen, at):
    at(2026, 3, 2)
    filing = filing_of(file(citizen, start_date="2026-03-02"))  # ends 2027-03-01
    with pytest.raises(InvalidTransition) as error:
        rc.extend_filing(filing, by=citizen, actor=SYSTEM)
    assert error.value.code == "extension_not_open" and "Dec 31, 2026" in error.value.message
    at(2027, 2, 15)
    rc.extend_filing(filing, by=citizen, actor=SYSTEM)
    assert filing.end_date == date(2028, 3, 1) and filing.extensions == 1


def test_expired_filings_end_automatically(citizen, at, make_citizen):
    at(2026, 3, 2)
    filing = filing_of(file(citizen, start_date="2026-03-02"))  # ends 2027-03-01
    at(2027, 3, 1)
    assert rc.expire_filings(actor=SYSTEM) == 0 and filing.is_active
    at(2027, 3, 2)
    assert rc.expire_filings(actor=SYSTEM) == 1
    assert filing.status == FilingStatus.EXPIRED and filing.ended_on == date(2027, 3, 2)
    with pytest.raises(InvalidTransition):
        rc.extend_filing(filing, by=citizen, actor=SYSTEM)
    # after expiry a new long-term filing is possible again
    assert file(citizen, start_date="2027-03-02").state == State.COMPLETED


def test_a_filing_about_to_expire_is_reminded_once_a_month_before_its_last_day(citizen, at):
    from portal.notifications import reminders
    from portal.notifications.constants import Event
    from portal.notifications.models import Notification

    at(2026, 3, 2)
    filing = filing_of(file(citizen, start_date="2026-03-02"))  # ends 2027-03-01
    assert reminders.send_reminders(date(2027, 1, 29), only=["filings"]) == {"filings": 0}  # 31 days before
    assert reminders.send_reminders(date(2027, 1, 30), only=["filings"]) == {"filings": 1}
    assert reminders.send_reminders(date(2027, 2, 20), only=["filings"]) == {"filings": 0}  # once
    message = db.session.execute(select(Notification).where(Notification.event == Event.FILING_EXPIRING,
                                                            Notification.account_id == citizen.id)).scalar_one()
    assert message.application_id == filing.application_id


def test_expire_command_runs_with_the_injected_clock(app, citizen, at):
    at(2026, 3, 2)
    filing = filing_of(file(citizen, start_date="2026-03-02"))
    at(2027, 3, 5)
    result = app.test_cli_runner().invoke(args=["portal", "remote-care", "expire"])
    assert result.exit_code == 0, result.output
    assert "1" in result.output
    assert filing.status == FilingStatus.EXPIRED


# --- revocation after checking --------------------------------------------------------------------------


def test_revoke_effect_ends_the_filing_with_the_reason(citizen, at, catalog_item=None):
    at(2026, 12, 1)
    case = file(citizen)
    from portal.applications import operations as ops

    handler_for(ops.catalog_item(case)).revoke_effect(case, "核查发现户籍不在就医地")
    filing = filing_of(case)
    assert filing.status == FilingStatus.REVOKED and filing.end_reason == "核查发现户籍不在就医地"


# --- the long-term prerequisite (jilin) --------------------------------------------------------------------


@pytest.mark.parametrize("code", ["G002036005000_01_001", "J002036005000_02_001"])
def test_out_of_area_recognition_checks_for_a_long_term_filing(app, citizen, at, code):
    from portal.applications import operations as ops
    from portal.services.base import Severity

    at(2026, 12, 1)
    item = app.extensions["portal_catalog"].get(code)
    before = [f for f in ops.item_prechecks(item, citizen) if f.rule == "requires_long_term_filing"]
    assert [f.severity for f in before] == [Severity.WARNING]
    filing = filing_of(file(citizen))
    after = [f for f in ops.item_prechecks(item, citizen) if f.rule == "requires_long_term_filing"]
    assert after[0].severity == Severity.INFO and filing.number in after[0].message
