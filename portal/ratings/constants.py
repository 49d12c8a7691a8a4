"""The five 好差评 levels (商洛 seed 004: the last two are 差评), the stages one may rate, and the rectification
lifecycle as one table."""

from __future__ import annotations

from enum import StrEnum

from ..core.translation import lazy_gettext as _l


class Level(StrEnum):
    VERY_SATISFIED = "very_satisfied"  # 非常满意
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意
    VERY_DISSATISFIED = "very_dissatisfied"  # 非常不满意

    @property
    def label(self) -> str:
        return str(LEVEL_LABELS[self])

    @property
    def score(self) -> int:
        return SCORES[self]

    @property
    def is_bad(self) -> bool:
        return self in BAD_LEVELS


LEVEL_LABELS = {
    Level.VERY_SATISFIED: _l("Very satisfied"),
    Level.SATISFIED: _l("Satisfied"),
    Level.BASICALLY_SATISFIED: _l("Basically satisfied"),
    Level.DISSATISFIED: _l("Dissatisfied"),
    Level.VERY_DISSATISFIED: _l("Very dissatisfied"),
}
SCORES = {Level.VERY_SATISFIED: 5, Level.SATISFIED: 4, Level.BASICALLY_SATISFIED: 3, Level.DISSATISFIED: 2,
          Level.VERY_DISSATISFIED: 1}
BAD_LEVELS = frozenset({Level.DISSATISFIED, Level.VERY_DISSATISFIED})


class Stage(StrEnum):
    ACCEPTANCE = "acceptance"  # 受理
    REVIEW = "review"  # 审核
    COMPLETION = "completion"  # 办结

    @property
    def label(self) -> str:
        return str(STAGE_LABELS[self])


STAGE_LABELS = {Stage.ACCEPTANCE: _l("Acceptance"), Stage.REVIEW: _l("Review"), Stage.COMPLETION: _l("Completion")}


class RectState(StrEnum):
    OPEN = "open"  # to be checked (核实)
    RECTIFYING = "rectifying"  # 属实: to be rectified (整改)
    FOLLOW_UP = "follow_up"  # to be followed up with the rater (回访)
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(RECT_STATE_LABELS[self])


RECT_STATE_LABELS = {
    RectState.OPEN: _l("To be checked"),
    RectState.RECTIFYING: _l("Being rectified"),
    RectState.FOLLOW_UP: _l("To be followed up"),
    RectState.CLOSED: _l("Closed"),
}


class RectAction(StrEnum):
    CONFIRM = "confirm"  # 核实: 属实
    REJECT = "reject"  # 核实: 不属实
    RECTIFY = "rectify"  # 整改
    FOLLOW_UP = "follow_up"  # 回访


RECT_TRANSITIONS: dict[tuple[RectState, RectAction], RectState] = {
    (RectState.OPEN, RectAction.CONFIRM): RectState.RECTIFYING,
    (RectState.OPEN, RectAction.REJECT): RectState.FOLLOW_UP,
    (RectState.RECTIFYING, RectAction.RECTIFY): RectState.FOLLOW_UP,
    (RectState.FOLLOW_UP, RectAction.FOLLOW_UP): RectState.CLOSED,
}


class Response(StrEnum):
    """What the rater said when followed up."""

    SATISFIED = "satisfied"
    NOT_SATISFIED = "not_satisfied"
    UNREACHABLE = "unreachable"

    @property
    def label(self) -> str:
        return str(RESPONSE_LABELS[self])


RESPONSE_LABELS = {
    Response.SATISFIED: _l("Satisfied with the outcome"),
    Response.NOT_SATISFIED: _l("Still not satisfied"),
    Response.UNREACHABLE: _l("Could not be reached"),
}

RATABLE_STATES = frozenset({"completed", "delivered"})
RATING_CHANGE_DAYS = 7  # PORTAL_RATING_CHANGE_DAYS: a rating can be changed this many days after it was first given
RECTIFICATION_WORKING_DAYS = 15  # PORTAL_RECTIFICATION_WORKING_DAYS: check, rectify and follow up within this
