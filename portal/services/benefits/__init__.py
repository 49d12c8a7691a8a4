"""待遇认定 (benefit recognitions): 门诊慢特病 and 特药 recognition.

Today one handler: the recognitions that, out of area, need a valid long-term 异地就医备案 first (seed 000 D1,
D4: the catalog's ``requires_item`` rules with ``when: out_of_area``). Its pre-check looks the filing up through
``remote_care.rules`` and tells the applicant before filing whether recognition out of area is possible.
Everything else about these items (materials, time limits, the review) is the generic filing machinery's.
"""

from __future__ import annotations

from flask_babel import gettext as _

from ..base import FilingContext, Finding, Handler, Severity, register
from ..remote_care import rules


@register("chronic_disease.recognition", "special_drug.recognition")
class NeedsLongTermFiling(Handler):
    """Recognition that, out of area, needs a long-term filing first (000 D1, D4: ``requires_item`` rules)."""

    name = "needs_long_term_filing"

    def precheck(self, context: FilingContext) -> list[Finding]:
        findings = super().precheck(context)
        needs = [r for r in context.item.rules if r.key == "requires_item" and r.params.get("when") == "out_of_area"]
        if not needs or context.person is None:
            return findings
        filing = rules.long_term_filing(context.person.id)
        if filing is None:
            findings.append(Finding(Severity.WARNING, _(
                "You have no valid long-term out-of-area filing. Recognition out of area needs one first: file it "
                "under 异地就医备案, then apply. Recognition at home is not affected."), "requires_long_term_filing"))
        else:
            findings.append(Finding(Severity.INFO, _(
                "Your long-term filing %(number)s to %(place)s is valid: recognition out of area is possible.",
                number=filing.number, place=filing.destination_name), "requires_long_term_filing"))
        return findings

