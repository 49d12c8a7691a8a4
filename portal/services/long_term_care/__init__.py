"""长期护理保险 (吉林): the assessment (长期护理保险评估认定, ``long_term_care.assessment``) and what it grants.

The seed (000, J002036013001 4.3.2): "结合申请人具体情况，根据《长期护理保险日常生活能力评定量表》(附件 4) 得出评估
分数、确定失能等级". The scale is data (``scale.py``, ``data/adl_scale.yaml``: items and score steps from the seed, the
bands from the national standard WS/T 431—2013, since the seed gives none). Staff enter the scores of the on-site
assessment on the case in the workbench (``operations.record_assessment``, audited); the total and the 失能等级
follow from the scale. Approval needs an assessment; completion writes the person's benefit record
(``benefits.records.grant``: kind 长期护理, ``level`` the 失能等级, the chosen designated institution), so
post-hoc checking that revokes the case takes the record back. The payment items (长护费用零星报销) read the level
of the record in force on the day of care (``level_on``) to select their rate (``claims``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ...core import clock
from ...core.errors import InvalidTransition
from ...core.translation import gettext as _
from ...insurance.constants import BenefitKind
from ..base import FilingContext, register
from ..benefits import Recognition
from ..benefits.records import Grant, held
from .operations import assessment_of
from .scale import Band, scale

ASSESSMENT_HANDLER = "long_term_care.assessment"
INSTITUTION_KEYS = ("chosen_institution",)  # 选定长期护理定点机构 (the seed: 选择一家享受长护待遇)
SCALE_NAME = "长期护理保险日常生活活动能力评定量表"


@register(ASSESSMENT_HANDLER)
class CareAssessmentItem(Recognition):
    """长期护理保险评估认定: completion records the 失能等级 of the case's assessment in a benefit record."""

    name = "long_term_care_assessment"
    kind = BenefitKind.LONG_TERM_CARE

    def before_approve(self, case: Any, *, by: Any, actor: Any) -> None:
        if assessment_of(case) is None:
            raise InvalidTransition(_("Enter the ADL assessment of the on-site assessment before approving: the "
                                      "disability level comes from its score."))

    def grant_of(self, case: Any, context: FilingContext) -> Grant:
        assessment = assessment_of(case)
        if assessment is None:  # completion without approval never happens for a 承诺件; refuse rather than guess
            raise InvalidTransition(_("This case has no ADL assessment: enter it, then approve."))
        band = scale().bands[[b.key for b in scale().bands].index(assessment.level)]
        chosen = next((str(case.form_data[k]).strip() for k in INSTITUTION_KEYS if case.form_data.get(k)), None)
        return Grant(self.kind, valid_from=clock.today(), level=band.zh, institutions=(chosen,) if chosen else (),
                     name=SCALE_NAME, extra={"score": assessment.total, "level_key": band.key,
                                             "assessed_on": assessment.assessed_on.isoformat()})


def level_on(person_id: int | None, day: date) -> Band | None:
    """The 失能等级 of the person's 长期护理 record in force on ``day`` (the newest), or None."""
    if person_id is None:
        return None
    for record in held(person_id, [BenefitKind.LONG_TERM_CARE], day=day):
        band = scale().band_named(record.level)
        if band is not None:
            return band
    return None
