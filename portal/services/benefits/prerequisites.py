"""The chains between items (``requires_item`` rules) as a rule: the required record must be held.

The seeds chain items — "申请异地门诊慢性病认定的参保人员应办理长期异地就医备案后再进行异地慢性病认定申请" (000 D1
7.4), "已通过门诊慢性病认定的参保人员" before its 备案, a 备案 before its 变更. A ``requires_item`` rule names the
required item (``code``, or any of ``any_of``); it is met when the person holds that item's record today:

- a 长期 异地就医备案 item (``remote_care.long_term``): an active long-term filing (``remote_care.rules``);
- any other item: a benefit record that item's completion wrote or confirmed and that still holds
  (``records.held(items=...)``).

A rule with ``when: out_of_area`` applies only to a filing out of area: the form's ``PLACE`` field, which this
service adds to those items so the applicant says which of the seed's flows (4.1 本地 / 4.2 异地) is theirs.
Filing is refused while a rule is unmet (a blocking pre-check finding carrying the seed's own sentence and the
required item), and acceptance checks again (``acceptance_problem``): the record may have lapsed in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context

from ...catalog.schema import Item
from ...core.translation import get_locale
from ..base import Finding, Severity
from ..remote_care import rules as remote_rules
from . import records

PLACE = "recognition_place"  # 本地 / 异地: this service's field on the items whose chain depends on it
LOCAL, OUT_OF_AREA = "本地", "异地"
RULE = "requires_item"


@dataclass(frozen=True)
class Requirement:
    """One ``requires_item`` rule of an item: what it requires and the seed's sentence for it."""

    codes: tuple[str, ...]
    text: Any  # the rule's published text (Name: zh, en)
    out_of_area_only: bool

    @property
    def first(self) -> str:
        return self.codes[0]


def requirements(item: Item) -> list[Requirement]:
    out = []
    for rule in item.rules:
        if rule.key != RULE:
            continue
        codes = [c.strip() for c in str(rule.params.get("any_of") or "").split(",") if c.strip()]
        main = str(rule.params.get("code") or "").strip()
        if main and main not in codes:
            codes.insert(0, main)
        elif main:
            codes.remove(main)
            codes.insert(0, main)
        if codes:
            out.append(Requirement(tuple(codes), rule.text, rule.params.get("when") == "out_of_area"))
    return out


def has_place_choice(item: Item) -> bool:
    """The item's chain depends on where the person is recognised (a rule with ``when: out_of_area``)."""
    return any(r.out_of_area_only for r in requirements(item))


def _catalog() -> Any:
    return current_app.extensions["portal_catalog"] if has_app_context() else None


def _is_long_term_filing(code: str) -> bool:
    catalog = _catalog()
    item = catalog.get(code) if catalog is not None else None
    return item is not None and item.handler == "remote_care.long_term"


def is_met(requirement: Requirement, person_id: int) -> bool:
    filings = [c for c in requirement.codes if _is_long_term_filing(c)]
    if filings and remote_rules.long_term_filing(person_id) is not None:
        return True
    others = [c for c in requirement.codes if c not in filings]
    return bool(others) and records.holds(person_id, items=others)


def applies(requirement: Requirement, data: dict[str, Any] | None) -> bool | None:
    """Whether the rule applies to this filing; None when it cannot tell yet (no place chosen)."""
    if not requirement.out_of_area_only:
        return True
    place = (data or {}).get(PLACE)
    if not place:
        return None
    return place == OUT_OF_AREA


def unmet(item: Item, person_id: int | None, data: dict[str, Any] | None) -> list[Requirement]:
    """The rules of ``item`` that apply to this filing and that the person does not meet today."""
    if person_id is None:
        return []
    return [r for r in requirements(item) if applies(r, data) and not is_met(r, person_id)]


def sentence(requirement: Requirement) -> str:
    """The seed's sentence of the rule, in the reader's language (the published Chinese otherwise)."""
    return requirement.text.get(str(get_locale() or "zh"))


def findings(item: Item, person: Any, data: dict[str, Any] | None) -> tuple[set[str], list[Finding]]:
    """Blocking findings for the unmet rules (the rule's sentence, linked to the required item), and the keys
    of the rules they replace in the generic list."""
    missing = unmet(item, getattr(person, "id", None), data)
    catalog = _catalog()
    out = []
    for requirement in missing:
        required = catalog.get(requirement.first) if catalog is not None else None
        out.append(Finding(Severity.BLOCKING, sentence(requirement), RULE, requires=required))
    return {sentence(r) for r in missing}, out


def acceptance_problem(case: Any, item: Item) -> str | None:
    """Why the case cannot be accepted now: a required record it does not hold (any more)."""
    missing = unmet(item, case.person_id, case.form_data)
    return " ".join(sentence(r) for r in missing) or None
