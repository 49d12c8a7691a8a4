"""The categories of 异地就医备案 and each region's policy parameters.

Categories follow 医保发〔2022〕22号: long-term (跨省异地长期居住人员) and temporary (跨省临时外出就医人员). A
region offers the categories for which its catalog has an item (matched by national item code). Rules the
seeds publish are read from the catalog (referral valid until 31 December in Jilin, emergency filing within 3
working days in Yueyang); the parameters the seeds leave to the region are here, one entry per region, and a
deployment may override them with ``PORTAL_REMOTE_CARE`` (a dict of the same keys).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from flask import current_app

from ...catalog.schema import Item
from ...core.translation import lazy_gettext as _l
from ...insurance.filings import FilingTerm


@dataclass(frozen=True)
class Category:
    key: str
    zh: str
    term: FilingTerm
    national_code: str | None  # the national item the category is filed under
    label: Any


LONG, TEMPORARY = FilingTerm.LONG_TERM, FilingTerm.TEMPORARY
CATEGORIES: tuple[Category, ...] = (
    Category("resettled_retiree", "异地安置退休人员", LONG, "002036004001", _l("Retiree resettled elsewhere")),
    Category("long_term_resident", "异地长期居住人员", LONG, "002036004002", _l("Long-term resident elsewhere")),
    Category("stationed_worker", "常驻异地工作人员", LONG, "002036004003", _l("Employee stationed elsewhere")),
    Category("referral", "异地转诊人员", TEMPORARY, "002036004004", _l("Referred to a hospital elsewhere")),
    Category("emergency", "异地急诊抢救人员", TEMPORARY, "002036004005", _l("Emergency care elsewhere")),
    Category("other_temporary", "其他临时外出就医人员", TEMPORARY, None, _l("Other temporary care elsewhere")),
)
BY_KEY = {c.key: c for c in CATEGORIES}
MAX_LOCK_MONTHS = 6  # 医保发〔2022〕22号: a region may lock change or cancellation for at most 6 months


@dataclass(frozen=True)
class RegionPolicy:
    """Parameters a region sets. ``None`` means the region sets no such limit."""

    home_code: str | None  # the insured area (GB/T 2260): a destination inside it is not out of area
    long_term_months: int | None  # validity of a long-term filing; None = indefinite
    temporary_months: int  # validity of a temporary filing (national: at least 6 months)
    lock_months: int | None  # change and cancellation locked this long after filing or a change
    extend_within_days: int  # an extension may be filed this many days before the end, and until the end


POLICIES: dict[str, RegionPolicy] = {
    # 000 C1–C3 7.1: long-term filings have an end date and must be extended before it (事前核准延期)
    "jilin": RegionPolicy(home_code="220000", long_term_months=12, temporary_months=6, lock_months=6,
                          extend_within_days=60),
    "yueyang": RegionPolicy(home_code="430600", long_term_months=None, temporary_months=6, lock_months=6,
                            extend_within_days=60),
    "linkou": RegionPolicy(home_code="231025", long_term_months=None, temporary_months=6, lock_months=6,
                           extend_within_days=60),
    # a province-wide template: each pooling area fills its own; the province as a whole is not "elsewhere"
    "sichuan": RegionPolicy(home_code=None, long_term_months=None, temporary_months=6, lock_months=6,
                            extend_within_days=60),
    "shangluo": RegionPolicy(home_code="611000", long_term_months=None, temporary_months=6, lock_months=None,
                             extend_within_days=60),
}


def policy_for(region: str) -> RegionPolicy:
    """The region's policy with the deployment's overrides; a lock longer than the national cap is refused."""
    policy = POLICIES.get(region) or RegionPolicy(None, None, 6, MAX_LOCK_MONTHS, 60)
    overrides = current_app.config.get("PORTAL_REMOTE_CARE") or {}
    known = {f.name for f in fields(RegionPolicy)}
    policy = replace(policy, **{k: v for k, v in overrides.items() if k in known})
    if policy.lock_months is not None and not 0 <= policy.lock_months <= MAX_LOCK_MONTHS:
        raise ValueError(f"remote care lock_months must be 0..{MAX_LOCK_MONTHS}, got {policy.lock_months}")
    return policy


def category_of(item: Item) -> Category | None:
    """The category an item files, by its national code."""
    return next((c for c in CATEGORIES if c.national_code and c.national_code == item.national_code
                 and item.handler.startswith("remote_care.")), None)


def offered(catalog: Any) -> list[tuple[Category, Item]]:
    """The categories the region offers, with the item each is filed under, in the national order."""
    out = []
    for category in CATEGORIES:
        item = next((i for i in catalog.items if category_of(i) is category), None)
        if item is not None:
            out.append((category, item))
    return out


def rule(item: Item, key: str) -> Any:
    """The item's first catalog rule with ``key``, or None."""
    return next((r for r in item.rules if r.key == key), None)


def proof_materials(item: Item) -> list[Any]:
    """The item's materials that a signed commitment may replace."""
    return [m for m in item.materials if m.commitment is not None]
