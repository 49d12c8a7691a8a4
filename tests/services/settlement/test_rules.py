"""The settlement declaration's form and its checks at the field, in Chinese and in English (the clock frozen: the
period must have ended)."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask_babel import force_locale

from portal.catalog.loader import get_catalog
from portal.core import clock
from portal.services import handler_for
from portal.services.base import FilingContext, Severity
from portal.services.settlement.forms import settlement_specs
from portal.services.settlement.rules import check_form

MONTHLY = "G002036001001_01"  # 吉林 定点机构医保费用月结算 (每月 3–8 日为月结算期)
ANNUAL = "G002036001001_02"  # 吉林 定点机构医保费用年结算
NOW = datetime(2026, 12, 4, 10, 0)


def good(**changes) -> dict:
    data = {"period": "2026-11", "category": "职工基本医疗保险", "total_cost": "125000.00", "fund_paid": "80000.00",
            "account_paid": "20000.00", "self_paid": "25000.00", "visits": "812", "deducted": "1500.00",
            "payee_name": "演示第一诊所", "payee_bank": "中国建设银行长春分行", "payee_account": "22050161000100012345"}
    data.update(changes)
    return data


def problems(item, data, locale="zh_Hans_CN") -> dict[str, str]:
    with force_locale(locale), clock.frozen(NOW):
        return dict(check_form(FilingContext(item=item, data=data), complete=True))


def test_the_form_asks_for_the_period_the_insurance_the_amounts_and_the_institutions_account(app, catalog):
    monthly = {s.key: s for s in settlement_specs(catalog.get(MONTHLY), "institution")}
    assert list(monthly) == ["unit_name", "credit_code", "agent_name", "agent_phone", "period", "category",
                             "total_cost", "fund_paid", "account_paid", "self_paid", "visits",
                             "deducted", "payee_name", "payee_bank", "payee_account"]
    assert monthly["period"].type.value == "month" and monthly["period"].label.zh == "结算年月"
    assert not monthly["deducted"].required and monthly["total_cost"].required
    assert "本服务增设" in monthly["total_cost"].group.zh  # this service's own columns, and it says so
    assert monthly["unit_name"].locked and monthly["payee_name"].prefill == "unit.name"  # the register's name
    assert settlement_specs(catalog.get(ANNUAL), "institution")[4].label.zh == "结算年度"
    sichuan = get_catalog("sichuan").get("SC39")  # 费用结算 of either period; its materials name the 异地 form
    specs = {s.key: s for s in settlement_specs(sichuan, "institution")}
    assert specs["settlement_kind"].option_values() == ["月结算", "年度清算"]
    assert "异地就医联网结算" in specs["category"].option_values()
    assert "异地就医联网结算" not in monthly["category"].option_values()


def test_a_declaration_that_adds_up_for_an_ended_month_passes(app, catalog):
    assert problems(catalog.get(MONTHLY), good()) == {}
    assert problems(catalog.get(ANNUAL), good(period="2025")) == {}


@pytest.mark.parametrize(("changes", "field", "zh", "en"), [
    ({"total_cost": "125000.01"}, "total_cost",
     "医疗总费用（¥125,000.01）应等于统筹基金支付、个人账户支付与个人自付之和（¥125,000.00）",
     "The total medical costs (CN¥125,000.01) must equal"),
    ({"deducted": "100000.00"}, "deducted", "扣除后没有应拨付的金额", "leave nothing to pay"),
    ({"period": "2026-12"}, "period", "该月份尚未结束", "This month has not ended yet"),
    ({"period": "2027-01"}, "period", "该月份尚未结束", "This month has not ended yet"),
    ({"period": "1999-12"}, "period", "请按年月填写结算月份", "Enter the month settled as year and month"),
    ({"visits": "812.5"}, "visits", "结算人次请填写整数", "whole number"),
])
def test_each_problem_is_said_at_its_field_in_chinese_and_in_english(app, catalog, changes, field, zh, en):
    item = catalog.get(MONTHLY)
    assert zh in problems(item, good(**changes))[field]
    assert en in problems(item, good(**changes), "en")[field]


def test_an_annual_settlement_takes_an_ended_year(app, catalog):
    item = catalog.get(ANNUAL)
    assert "该年度尚未结束" in problems(item, good(period="2026"))["period"]
    assert "Enter the year settled" in problems(item, good(period="2025-11"), "en")["period"]
    sichuan = get_catalog("sichuan").get("SC39")
    assert problems(sichuan, good(settlement_kind="年度清算", period="2025")) == {}
    assert "请填写结算年度" in problems(sichuan, good(settlement_kind="年度清算", period="2025-11"))["period"]
    assert problems(sichuan, good(settlement_kind="月结算", period="2026-11")) == {}


def test_outside_jilins_monthly_window_the_seeds_words_warn_and_inside_they_inform(app, catalog, db_session):
    item = catalog.get(MONTHLY)
    handler = handler_for(item)
    with force_locale("zh_Hans_CN"):
        with clock.frozen(datetime(2026, 12, 10, 10)):
            late = [f for f in handler.precheck(FilingContext(item=item)) if "月结算期" in f.message]
        with clock.frozen(datetime(2026, 12, 5, 10)):
            inside = [f for f in handler.precheck(FilingContext(item=item)) if "月结算期" in f.message]
    assert [f.severity for f in late] == [Severity.WARNING]
    assert [f.severity for f in inside] == [Severity.INFO]
