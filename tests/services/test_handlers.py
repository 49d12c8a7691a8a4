"""Item handlers: the registry, the pre-checks every item gets from its catalog rules, the annual window, money
items and the 即办件 that complete at submission."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask_babel import force_locale

from portal.catalog.schema import Handling, HandlingType, Rule
from portal.core import clock
from portal.services import Finding, Handler, Severity, handler_for, register
from portal.services import base as handlers
from portal.services.base import FilingContext, _inside_window
from portal.services.benefits import ChronicDiseaseRecognition
from portal.services.certificates import CertificateItem
from portal.services.claims import ClaimItem as MoneyItem
from portal.services.instant import SelfServiceItem
from portal.services.transfer import TransferInItem, TransferOutItem

PROMISE_ITEM = "G002036005000_01_001"  # generic, 3 rules
SELF_SERVICE_ITEM = "G002036003001_01"  # 职工开具参保凭证: self-service 即办件
MONEY_ITEM = "G002036006001"  # 门诊费用报销
WINDOW_ITEM = "G002036001003_01"  # 城乡居民参保登记: annual_window 10-01..12-31
ARCHIVE_ITEM = "J002036002009"  # 医保档案查询利用: self-service handler, but a promise item


@pytest.fixture
def catalog(app):
    return app.extensions["portal_catalog"]


@pytest.fixture
def english(app, db_session):
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        yield


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 2, tzinfo=UTC)


def window_rule(start: str = "10-01", end: str = "12-31", **params) -> Rule:
    return Rule(key="annual_window", params={"start": start, "end": end, **params},
                text={"zh": "每年集中办理期内申请", "en": "Apply during the yearly window"})


def context(item, *rules: Rule) -> FilingContext:
    return FilingContext(item=item.model_copy(update={"rules": rules}) if rules else item)


# --- the registry ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "kind"), [
    (PROMISE_ITEM, ChronicDiseaseRecognition), (SELF_SERVICE_ITEM, CertificateItem), (MONEY_ITEM, MoneyItem),
    ("J002036002001", Handler),  # 本地待遇核准: generic
    ("G002036002003", MoneyItem),  # 个人账户一次性支取
    ("G002036002002", CertificateItem),  # 参保信息查询: issues the 参保证明
    ("G002036002001", SelfServiceItem),  # 参保单位参保信息查询
    ("G002036003002_01", TransferOutItem),  # 转出: at the window, with the letter on paper
    ("G002036003002_02", TransferInItem),  # 转入: the 联系函 through the national platform
])
def test_handler_is_found_by_the_items_handler_name(code, kind, catalog):
    assert type(handler_for(catalog.get(code))) is kind


def test_a_transfer_item_files_as_a_promise_with_its_published_rules_and_the_letters_fields(catalog, english):
    item = catalog.get("G002036003002_02")
    handler = handler_for(item)
    assert handler.name == "transfer" and not handler.is_money and not handler.completes_at_once
    assert handler.precheck(context(item)) == handlers._GENERIC.precheck(context(item))
    assert [f.rule for f in handler.precheck(context(item))] == [r.key for r in item.rules]
    keys = [spec.key for spec in handler.form_specs(item, "individual")]
    assert keys[-4:] == ["from_area_code", "insurance_type", "transfer_account", "certificate_code"]


def test_unknown_handler_name_gets_the_generic_handler(catalog):
    item = catalog.get(PROMISE_ITEM).model_copy(update={"handler": "nobody.knows"})
    handler = handler_for(item)
    assert handler is handlers._GENERIC and handler.name == "generic"
    assert not handler.is_money and not handler.completes_at_once


def test_every_money_handler_name_pays_money(catalog):
    from portal.services.settlement import SettlementItem

    money = {i.handler for i in catalog.items if handler_for(i).is_money}
    assert money and all(isinstance(handler_for(i), MoneyItem | SettlementItem)
                         for i in catalog.items if i.handler in money)
    assert {"account.withdrawal", "reimbursement.manual", "maternity.allowance", "institution.settlement"} <= money
    # a person's claims and an institution's settlements: the two families that pay
    assert all(isinstance(handler_for(i), SettlementItem)
               for i in catalog.items if i.handler == "institution.settlement")


def test_register_puts_one_instance_under_every_name(monkeypatch, catalog):
    monkeypatch.setattr(handlers, "_REGISTRY", dict(handlers._REGISTRY))

    @register("test.one", "test.two")
    class Special(Handler):
        name = "special"

    one = handler_for(catalog.get(PROMISE_ITEM).model_copy(update={"handler": "test.one"}))
    two = handler_for(catalog.get(PROMISE_ITEM).model_copy(update={"handler": "test.two"}))
    assert one is two and isinstance(one, Special)


# --- pre-checks: every catalog rule is a finding --------------------------------------------------------


def test_every_rule_becomes_an_info_finding_with_its_text(catalog, english):
    item = catalog.get(PROMISE_ITEM)
    findings = handler_for(item).precheck(FilingContext(item=item))
    assert findings == [Finding(Severity.INFO, r.text.get("en"), r.key) for r in item.rules]
    assert len(findings) == 3


@pytest.mark.parametrize(("locale", "message"), [("zh_Hans_CN", "中文规则"), ("en", "English rule")])
def test_rule_text_follows_the_language(locale, message, catalog, english):
    rule = Rule(key="other", text={"zh": "中文规则", "en": "English rule"})
    with force_locale(locale):
        assert [f.message for f in Handler().precheck(context(catalog.get(PROMISE_ITEM), rule))] == [message]


def test_rule_without_english_text_is_read_in_chinese(catalog, english):
    rule = Rule(key="other", text={"zh": "只有中文"})
    assert [f.message for f in Handler().precheck(context(catalog.get(PROMISE_ITEM), rule))] == ["只有中文"]


def test_item_without_rules_has_no_findings(catalog, english):
    assert Handler().precheck(FilingContext(item=catalog.get("G002036002002"))) == []


@pytest.mark.parametrize(("moment", "severity"), [
    (at(5, 6), Severity.WARNING), (at(9, 30), Severity.WARNING), (at(10, 1), Severity.INFO),
    (at(11, 15), Severity.INFO), (at(12, 31), Severity.INFO), (at(1, 1, 2027), Severity.WARNING),
])
def test_catalog_annual_window_warns_outside_it(moment, severity, catalog, english):
    item = catalog.get(WINDOW_ITEM)
    with clock.frozen(moment):
        findings = {f.rule: f.severity for f in handler_for(item).precheck(FilingContext(item=item))}
    assert findings == {"newborn_enrol_within_days": Severity.INFO, "annual_window": severity}


@pytest.mark.parametrize(("day", "inside"), [
    (date(2026, 11, 1), True), (date(2026, 12, 31), True), (date(2027, 1, 1), True), (date(2027, 2, 28), True),
    (date(2027, 3, 1), False), (date(2026, 10, 31), False),
])
def test_window_may_wrap_over_new_year(day, inside):
    assert _inside_window(day, {"start": "11-01", "end": "02-28"}) is inside


@pytest.mark.parametrize("params", [{}, {"start": "10-01"}, {"start": "soon", "end": "later"}])
def test_window_that_cannot_be_read_is_not_held_against_the_applicant(params, catalog, english):
    rule = Rule(key="annual_window", params=params, text={"zh": "集中办理期"})
    with clock.frozen(at(5, 6)):
        assert [f.severity for f in Handler().precheck(context(catalog.get(PROMISE_ITEM), rule))] == [Severity.INFO]


def test_window_is_read_in_the_local_date(catalog, english):
    rule = window_rule()
    with clock.frozen(datetime(2026, 9, 30, 16, 0, tzinfo=UTC)):  # 00:00 on 10-01 in China
        assert Handler().precheck(context(catalog.get(PROMISE_ITEM), rule))[0].severity is Severity.INFO


# --- completing at submission ---------------------------------------------------------------------------


def test_self_service_instant_item_completes_when_every_finding_is_information(catalog, english):
    item = catalog.get(SELF_SERVICE_ITEM)
    assert item.handling.type is HandlingType.instant and item.rules
    with clock.frozen(at(5, 6)):
        assert handler_for(item).may_complete_at_once(FilingContext(item=item))


def test_self_service_item_goes_to_a_person_when_a_finding_warns(catalog, english):
    item = catalog.get(SELF_SERVICE_ITEM)
    with clock.frozen(at(5, 6)):
        assert not handler_for(item).may_complete_at_once(context(item, window_rule()))
    with clock.frozen(at(11, 6)):
        assert handler_for(item).may_complete_at_once(context(item, window_rule()))


@pytest.mark.parametrize("handling", [HandlingType.promise, HandlingType.mixed])
def test_only_a_true_instant_item_completes_at_submission(handling, catalog, english):
    item = catalog.get(SELF_SERVICE_ITEM)
    item = item.model_copy(update={"handling": Handling(type=handling, wording="承诺件")})
    assert not handler_for(item).may_complete_at_once(FilingContext(item=item))


def test_promise_item_with_a_self_service_handler_does_not_complete(catalog, english):
    item = catalog.get(ARCHIVE_ITEM)
    assert isinstance(handler_for(item), SelfServiceItem) and item.handling.type is HandlingType.promise
    assert not handler_for(item).may_complete_at_once(FilingContext(item=item))


@pytest.mark.parametrize("code", [PROMISE_ITEM, MONEY_ITEM])
def test_handlers_that_do_not_complete_at_once_never_do(code, catalog, english):
    item = catalog.get(code)
    assert not handler_for(item).may_complete_at_once(FilingContext(item=item))


def test_money_items_pay_and_never_complete_at_once():
    assert MoneyItem.is_money and not MoneyItem.completes_at_once
    assert SelfServiceItem.completes_at_once and not SelfServiceItem.is_money
