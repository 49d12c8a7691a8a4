"""待遇认定 (benefit recognitions): 门诊慢特病, 特药, 生育待遇核准 — and the benefit records they write.

Completing a recognition writes the person's benefit record (``records.grant``, through the case's ``Ledger``, so
post-hoc checking that revokes the case deletes the record like any other effect): what was recognised, the
designated institutions the form names, and the validity the seed gives — 门诊慢特病 and 特药 "由定点认定机构确认
待遇有效期" (000 D1 7.3: the last day is set by the member of staff who approves, ``approval_terms``), 生育待遇核准
"受理之日起至当次生育结束" (from acceptance, ended by an event rather than a date).

The recognitions that, out of area, need a valid long-term 异地就医备案 first (seed 000 D1, D4: the catalog's
``requires_item`` rules with ``when: out_of_area``) look the filing up through ``remote_care.rules``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ...catalog.schema import FieldType, Name
from ...core import clock
from ...core.errors import ValidationFailed
from ...core.translation import gettext as _
from ...insurance.constants import BenefitKind
from ...insurance.models import Benefit
from ..base import FilingContext, Finding, Handler, Severity, register
from ..effects import EffectRefused, Ledger, revert
from ..remote_care import rules
from . import prerequisites
from .records import Grant, grant, held

NAME_KEYS = ("disease", "disease_name", "scope", "drug", "drug_name")  # what is recognised, by the form's key
CODE_KEYS = ("disease_code", "drug_code")
INSTITUTION_KEYS = ("hospital", "chosen_hospital", "treating_institution", "pharmacy", "agreement_pharmacy",
                    "designated_institutions")
VALID_UNTIL = "valid_until"  # the approval event's detail: the last day the recognising institution set


def approval_terms(case: Any, item: Any, valid_until: str) -> dict[str, Any]:
    """The terms a member of staff sets when approving ``case`` (the approval event keeps them): for a
    recognition whose validity the recognising institution sets, its last day — required, a date, not past."""
    if not getattr(handler_of(item), "staff_sets_validity", False):
        return {}
    text = (valid_until or "").strip()
    if not text:
        if getattr(handler_of(item), "validity_label", None):  # e.g. an agreement's last day
            raise ValidationFailed([(VALID_UNTIL, _("Give the last day."))])
        raise ValidationFailed([(VALID_UNTIL, _("Give the last day of the recognition's validity: the recognising "
                                                "institution sets it."))])
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed([(VALID_UNTIL, _("The last day of validity must be a date such as 2027-12-31."))]) \
            from None
    if day < clock.today():
        raise ValidationFailed([(VALID_UNTIL, _("The last day of validity cannot be in the past."))])
    return {VALID_UNTIL: day.isoformat()}


def handler_of(item: Any) -> Handler:
    from ..base import handler_for

    return handler_for(item)


def approved_terms(case: Any) -> dict[str, Any]:
    """The terms of the case's latest approval (empty when there was none or it set none)."""
    for event in sorted(case.events, key=lambda e: (e.at, e.id or 0), reverse=True):
        if event.action == "approve":
            return event.detail
    return {}


def _first(data: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    return next((str(data[k]).strip() for k in keys if data.get(k) and str(data[k]).strip()), None)


def place_spec() -> Any:
    """This service's field on the items whose chain depends on it: which of the seed's flows (4.1 本地, 4.2 异地)."""
    from ...applications.fields import FieldSpec

    return FieldSpec(prerequisites.PLACE, Name(zh="本地或异地认定（本服务增设）",
                                               en="At home or out of area (this service's field)"),
                     FieldType.choice, True,
                     options=(Name(zh=prerequisites.LOCAL, en="At home (the insured area)"),
                              Name(zh=prerequisites.OUT_OF_AREA, en="Out of area (where I live or work long-term)")))


class Chained(Handler):
    """An item whose ``requires_item`` rules are enforced: filing is refused while the person does not hold the
    required record (the rule's own sentence, linked to the required item), and acceptance checks again."""

    name = "chained"

    def form_specs(self, item: Any, audience: str) -> list[Any] | None:
        from ...applications.fields import published_specs

        specs = self.adapted(item, published_specs(item, audience))
        return [*specs, place_spec()] if prerequisites.has_place_choice(item) else specs

    def adapted(self, item: Any, specs: list[Any]) -> list[Any]:
        """The published fields as this family files them (e.g. a catalog instead of a typed box)."""
        return specs

    def precheck(self, context: FilingContext) -> list[Finding]:
        base = super().precheck(context)
        replaced, blocking = prerequisites.findings(context.item, context.person, context.data)
        return [f for f in base if not (f.rule == prerequisites.RULE and f.message in replaced)] + blocking

    def acceptance_problem(self, case: Any) -> str | None:
        from ...applications.operations import catalog_item

        return prerequisites.acceptance_problem(case, catalog_item(case))

    def revoke_effect(self, case: Any, reason: str) -> None:
        revert(case, reason)


class Recognition(Chained):
    """A recognition whose completion writes a benefit record of ``kind``."""

    name = "recognition"
    kind: BenefitKind = BenefitKind.OTHER
    staff_sets_validity = False

    def grant_of(self, case: Any, context: FilingContext) -> Grant:
        data = case.form_data
        institutions = tuple(v for k in INSTITUTION_KEYS if (v := _first(data, (k,))))
        return Grant(self.kind, valid_from=clock.today(), code=_first(data, CODE_KEYS),
                     name=_first(data, NAME_KEYS), institutions=institutions)

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        if case.person_id is None:
            return
        ledger = Ledger()
        grant(case, self.grant_of(case, context), ledger)
        ledger.save(case, case.handler)


class NeedsLongTermFiling(Recognition):
    """Recognition that, out of area, needs a long-term filing first (000 D1, D4: ``requires_item`` rules); the
    recognising institution sets the validity (000 D1 7.3), entered at approval."""

    name = "needs_long_term_filing"
    staff_sets_validity = True

    def grant_of(self, case: Any, context: FilingContext) -> Grant:
        base = super().grant_of(case, context)
        until = approved_terms(case).get(VALID_UNTIL)
        day = date.fromisoformat(until) if until else None
        return Grant(base.kind, valid_from=base.valid_from, valid_until=day, code=base.code, name=base.name,
                     institutions=base.institutions)

    def precheck(self, context: FilingContext) -> list[Finding]:
        findings = super().precheck(context)
        if not prerequisites.has_place_choice(context.item) or context.person is None:
            return findings
        filing = rules.long_term_filing(context.person.id)
        if filing is None:
            if not context.data.get(prerequisites.PLACE):  # before the place is chosen: what it will mean
                findings.append(Finding(Severity.WARNING, _(
                    "You have no valid long-term out-of-area filing. Recognition out of area needs one first: file "
                    "it under 异地就医备案, then apply. Recognition at home is not affected."),
                    "requires_long_term_filing"))
        else:
            findings.append(Finding(Severity.INFO, _(
                "Your long-term filing %(number)s to %(place)s is valid: recognition out of area is possible.",
                number=filing.number, place=filing.destination_name), "requires_long_term_filing"))
        return findings


@register("chronic_disease.recognition")
class ChronicDiseaseRecognition(NeedsLongTermFiling):
    """门诊慢特病病种待遇认定: the disease (from the region's list, ``catalogs``), the designated institutions, the
    validity set at approval."""

    kind = BenefitKind.CHRONIC_DISEASE

    def adapted(self, item: Any, specs: list[Any]) -> list[Any]:
        from dataclasses import replace

        from flask import current_app

        from ...applications.fields import FieldSpec
        from ...catalog.schema import Text
        from . import catalogs

        listed = catalogs.diseases(current_app.config["PORTAL_REGION"], item.code)
        if listed is None:
            return specs
        hint = Text(zh=f"病种目录：{listed.source.zh}", en=f"The list: {listed.source.en}")
        at = next((i for i, s in enumerate(specs) if s.key in catalogs.DISEASE_KEYS), None)
        if at is not None:  # the published form's typed disease box becomes the list
            specs = list(specs)
            specs[at] = replace(specs[at], type=FieldType.choice, required=True, options=listed.diseases, help=hint,
                                searchable=True)
            return specs
        label = Name(zh="申报病种（本服务增设）", en="Disease applied for (this service's field)")
        disease = FieldSpec("disease", label, FieldType.choice, True, options=listed.diseases, help=hint,
                            searchable=True)
        return [*specs, disease]


@register("special_drug.recognition")
class SpecialDrugRecognition(NeedsLongTermFiling):
    """特药 / 单行支付药品 待遇认定: the drug, the designated hospital and pharmacy, the validity set at approval."""

    kind = BenefitKind.SPECIAL_DRUG


@register("maternity.recognition")
class MaternityRecognition(Recognition):
    """生育待遇核准 (吉林): valid "受理之日起至当次生育结束" (the item's ``benefit_validity`` rule) — from the day
    the case was accepted, until the childbirth ends (an event: no last date)."""

    kind = BenefitKind.MATERNITY

    def grant_of(self, case: Any, context: FilingContext) -> Grant:
        rule = next((r for r in context.item.rules if r.params.get("topic") == "benefit_validity"), None)
        params = rule.params if rule is not None else {}
        start = clock.today()
        if params.get("valid_from") == "acceptance" and case.accepted_at is not None:
            start = clock.to_local(case.accepted_at).date()
        base = super().grant_of(case, context)
        return Grant(self.kind, valid_from=start, institutions=base.institutions,
                     until=params.get("valid_until") or "end_of_this_childbirth")


class Confirmation(Chained):
    """An item that confirms or changes the record an earlier item granted (吉林 门诊慢性病/特药 备案, 慢性病 变更):
    it requires that record (its ``requires_item`` rule), and its completion records on it the designated
    institutions the form names and that this item now stands behind it (``also``)."""

    name = "benefit_confirmation"
    completes_at_once = False

    def record_of(self, case: Any, item: Any) -> Any:
        codes = [c for r in prerequisites.requirements(item) if not r.out_of_area_only for c in r.codes]
        rows = held(case.person_id, items=codes) if case.person_id is not None and codes else []
        if not rows:
            raise EffectRefused(" ".join(prerequisites.sentence(r) for r in prerequisites.requirements(item)
                                         if not r.out_of_area_only) or _("The record this item changes is not held."))
        return rows[0]

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        if case.person_id is None:
            return
        record = self.record_of(case, context.item)
        detail = record.detail_data
        institutions = [v for k in INSTITUTION_KEYS if (v := _first(case.form_data, (k,)))]
        if institutions:
            detail["institutions"] = institutions
        detail["also"] = [*(detail.get("also") or []), case.item_code]
        ledger = Ledger()
        ledger.changed(record, detail=Benefit.dump_detail(detail))
        ledger.save(case, case.handler)


@register("chronic_disease.filing", "special_drug.filing")
class RecognitionFiling(Confirmation):
    """门诊慢性病病种待遇备案 / 门诊特治特药待遇备案 (吉林): after the 认定, the 备案 that lets the benefit be used."""


@register("chronic_disease.change")
class RecognitionChange(Confirmation):
    """门诊慢性病病种待遇变更 (吉林): change the designated hospital and pharmacy of a filed recognition (one of
    each, 000 D1 7.5); the published item has no form, so the online one asks for the two institutions."""

    def form_specs(self, item: Any, audience: str) -> list[Any] | None:
        from ...applications.fields import FieldSpec, published_specs

        return [*published_specs(item, audience),
                FieldSpec("hospital", Name(zh="定点医疗机构（变更后）", en="Designated hospital (after the change)"),
                          FieldType.text, True),
                FieldSpec("pharmacy", Name(zh="定点零售药店（变更后）", en="Designated pharmacy (after the change)"),
                          FieldType.text, True)]
