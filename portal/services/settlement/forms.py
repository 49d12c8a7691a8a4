"""The online settlement declaration (结算申报) of a designated institution.

The seeds name the tables an institution hands in — 吉林 《定点医药机构医保费用结算表》 (monthly, 每月 3–8 日) and
《医疗保障基金年结算表》, 四川 《定点医疗机构（零售药店）医疗保障结算申报表》 and 《异地就医联网结算费用拨付申请表》,
商洛 汇总表 for 职工医保 and 住院报销结算表 for 居民医保 — but none prints their columns, and 林口 settles "依据医保系统
传输的垫付费用数据". So the amounts asked here are this service's own choice, the ones such a table carries and that
paying it needs: the period, the 险种, 医疗总费用 and its parts (统筹基金支付, 个人账户支付, 个人自付), 结算人次 and
拒付/扣款; the amount applied for is worked out from them (``operations.working``), never typed. The account the
money goes to is the one the seeds say: "将结算费用划入申请单位指定的银行账户". Both groups say they are this
service's additions. The item's published form fields, if a seed ever prints some, come first and keep their keys.
"""

from __future__ import annotations

from ...applications.fields import FieldSpec
from ...catalog.schema import FieldType, Item, Name


def _n(zh: str, en: str) -> Name:
    return Name(zh=zh, en=en)


AMOUNTS_GROUP = _n("结算申报金额（本服务增设：结算表的常用栏目，金额单位：元）",
                   "Settlement amounts (added by this service: the usual columns of a settlement table, in yuan)")
PAYEE_GROUP = _n("结算费用划入的银行账户（申请单位指定的账户）",
                 "Account the settlement is paid into (the account the institution designates)")

MONTHLY, ANNUAL = _n("月结算", "Monthly settlement"), _n("年度清算", "Annual settlement")
KIND_OPTIONS = (MONTHLY, ANNUAL)
EMPLOYEE = _n("职工基本医疗保险", "Employees' basic medical insurance")
RESIDENT = _n("城乡居民基本医疗保险", "Urban and rural residents' basic medical insurance")
REMOTE = _n("异地就医联网结算", "Networked settlement of care elsewhere")

SETTLEMENT_KIND = FieldSpec(
    "settlement_kind", _n("结算类型", "Kind of settlement"), FieldType.choice, True, options=KIND_OPTIONS,
    group=AMOUNTS_GROUP)
PERIOD_HELP = _n("月结算填结算年月，如 2026-05；年度清算填年度，如 2025。结算期间须已结束。",
                 "For a monthly settlement the month, such as 2026-05; for an annual one the year, such as 2025. "
                 "The period must have ended.")
PERIOD_MONTH = FieldSpec("period", _n("结算年月", "Month settled"), FieldType.month, True, group=AMOUNTS_GROUP,
                         help=_n("结算的月份，如 2026-05；须为已结束的月份。",
                                 "The month settled, such as 2026-05; it must have ended."))
PERIOD_YEAR = FieldSpec("period", _n("结算年度", "Year settled"), FieldType.text, True, group=AMOUNTS_GROUP,
                        help=_n("结算的年度，如 2025；须为已结束的年度。",
                                "The year settled, such as 2025; it must have ended."))
PERIOD_ANY = FieldSpec("period", _n("结算期间", "Period settled"), FieldType.text, True, group=AMOUNTS_GROUP,
                       help=PERIOD_HELP)


def _amount(key: str, zh: str, en: str, *, required: bool = True, help: Name | None = None) -> FieldSpec:
    return FieldSpec(key, _n(zh, en), FieldType.money, required, group=AMOUNTS_GROUP, help=help)


AMOUNTS = (
    _amount("total_cost", "医疗总费用（元）", "Total medical costs (CNY)",
            help=_n("须等于统筹基金支付、个人账户支付与个人自付之和。",
                    "Must equal the fund's part, the personal accounts' part and the patients' own part together.")),
    _amount("fund_paid", "统筹基金支付（元）", "Paid by the pooled fund (CNY)"),
    _amount("account_paid", "个人账户支付（元）", "Paid from personal accounts (CNY)"),
    _amount("self_paid", "个人自付（元）", "Paid by the patients themselves (CNY)"),
    FieldSpec("visits", _n("结算人次", "Visits settled"), FieldType.number, True, group=AMOUNTS_GROUP),
    _amount("deducted", "拒付、扣款金额（元）", "Refused or deducted (CNY)", required=False,
            help=_n("经办机构已通知的拒付、扣款；没有则不填。",
                    "Amounts the agency has already refused or deducted; leave empty if none.")),
)
PAYEE = (
    FieldSpec("payee_name", _n("账户名称", "Account name"), FieldType.text, True, group=PAYEE_GROUP,
              prefill="unit.name", help=_n("须为本机构名称。", "Must be the institution's name.")),
    FieldSpec("payee_bank", _n("开户银行", "Bank"), FieldType.text, True, group=PAYEE_GROUP),
    FieldSpec("payee_account", _n("银行账号", "Account number"), FieldType.bank_account, True, group=PAYEE_GROUP),
)


def period_kind(item: Item) -> str | None:
    """'month' or 'year' when the item settles only one kind of period (吉林 月结算 and 年结算), else None: the
    institution says which (结算类型)."""
    name = item.name.zh
    if "年结算" in name or "年度" in name:
        return "year"
    if "月结算" in name:
        return "month"
    return None


def categories(item: Item) -> tuple[Name, ...]:
    """The 险种 settled: employees' and residents' medical insurance (商洛 lists a table for each), and networked
    settlement of care elsewhere where the item's materials name its payment form (四川)."""
    remote = any("异地" in m.name.zh for m in item.materials)
    return (EMPLOYEE, RESIDENT, REMOTE) if remote else (EMPLOYEE, RESIDENT)


def settlement_specs(item: Item, audience: str) -> list[FieldSpec]:
    """The published form's fields if a seed prints some, else the organisation's identity (name and credit code
    from the institution register, locked; the agent), then the declaration and the account."""
    from ...applications.fields import UNIT_DEFAULT, published_specs

    form = item.application_form
    if form is not None and form.fields:
        specs = published_specs(item, audience)
    else:
        specs = [s for s in UNIT_DEFAULT if s.key != "description"]
    kind = period_kind(item)
    own: list[FieldSpec] = []
    if kind is None:
        own += [SETTLEMENT_KIND, PERIOD_ANY]
    else:
        own.append(PERIOD_MONTH if kind == "month" else PERIOD_YEAR)
    own.append(FieldSpec("category", _n("险种", "Insurance"), FieldType.choice, True, options=categories(item),
                         group=AMOUNTS_GROUP))
    own += [*AMOUNTS, *PAYEE]
    keys = {s.key for s in specs}
    return specs + [s for s in own if s.key not in keys]
