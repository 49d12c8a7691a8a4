"""The states and actions of a case (办件), with the labels people read."""

from __future__ import annotations

from enum import StrEnum

from ..core.translation import lazy_gettext as _l


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    CORRECTION_REQUESTED = "correction_requested"
    RESUBMITTED = "resubmitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    DENIED = "denied"
    PAYING = "paying"
    COMPLETED = "completed"
    DELIVERED = "delivered"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self])

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


STATE_LABELS = {
    State.DRAFT: _l("Draft"),
    State.SUBMITTED: _l("Submitted, awaiting acceptance"),
    State.ACCEPTED: _l("Accepted"),
    State.NOT_ACCEPTED: _l("Not accepted"),
    State.CORRECTION_REQUESTED: _l("Waiting for your corrections"),
    State.RESUBMITTED: _l("Corrections received"),
    State.UNDER_REVIEW: _l("Under review"),
    State.APPROVED: _l("Approved"),
    State.DENIED: _l("Denied"),
    State.PAYING: _l("Payment in progress"),
    State.COMPLETED: _l("Completed"),
    State.DELIVERED: _l("Result delivered"),
    State.WITHDRAWN: _l("Withdrawn"),
}

# No action leads out of these; the clock of a case in one of them has stopped for good.
FINAL_STATES = frozenset({State.NOT_ACCEPTED, State.DENIED, State.DELIVERED, State.WITHDRAWN})
# States in which the case is finished from the applicant's point of view (due-date flags no longer apply).
CLOSED_STATES = FINAL_STATES | {State.COMPLETED}
# The applicant may change the form and materials only in these.
EDITABLE_STATES = frozenset({State.DRAFT, State.CORRECTION_REQUESTED})


class Action(StrEnum):
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    ACCEPT = "accept"
    REFUSE = "refuse"  # 不予受理
    REQUEST_CORRECTION = "request_correction"  # 一次性告知
    RESUBMIT = "resubmit"
    START_REVIEW = "start_review"
    APPROVE = "approve"
    DENY = "deny"
    START_PAYMENT = "start_payment"
    RETURN_TO_REVIEW = "return_to_review"  # an approval reopened before its payment started (退回重审)
    COMPLETE = "complete"
    DELIVER = "deliver"
    POST_CHECK = "post_check"  # 事后核查 concluded: a note on the timeline, no move (not in the transition table)
    DEADLINE_MOVED = "deadline_moved"  # a holiday schedule applied moved a stored deadline: a note, no move

    @property
    def label(self) -> str:
        return str(ACTION_LABELS[self])

    @property
    def verb(self) -> str:
        """The action as something to do (for refusals: "Accepting it is not possible …")."""
        return str(ACTION_VERBS[self])


ACTION_VERBS = {
    Action.SUBMIT: _l("Submitting"),
    Action.WITHDRAW: _l("Withdrawing"),
    Action.ACCEPT: _l("Accepting"),
    Action.REFUSE: _l("Refusing acceptance"),
    Action.REQUEST_CORRECTION: _l("Asking for corrections"),
    Action.RESUBMIT: _l("Submitting corrections"),
    Action.START_REVIEW: _l("Starting the review"),
    Action.APPROVE: _l("Approving"),
    Action.DENY: _l("Denying"),
    Action.START_PAYMENT: _l("Starting the payment"),
    Action.RETURN_TO_REVIEW: _l("Returning it to review"),
    Action.COMPLETE: _l("Completing"),
    Action.DELIVER: _l("Delivering the result"),
    Action.POST_CHECK: _l("Checking after completion"),
    Action.DEADLINE_MOVED: _l("Moving the time limit"),
}

ACTION_LABELS = {
    Action.SUBMIT: _l("Submitted"),
    Action.WITHDRAW: _l("Withdrawn by the applicant"),
    Action.ACCEPT: _l("Accepted"),
    Action.REFUSE: _l("Not accepted"),
    Action.REQUEST_CORRECTION: _l("One-time notice of what is missing"),
    Action.RESUBMIT: _l("Corrections submitted"),
    Action.START_REVIEW: _l("Review started"),
    Action.APPROVE: _l("Approved"),
    Action.DENY: _l("Denied"),
    Action.START_PAYMENT: _l("Payment started"),
    Action.RETURN_TO_REVIEW: _l("Returned to review before payment"),
    Action.COMPLETE: _l("Completed"),
    Action.DELIVER: _l("Result delivered"),
    Action.POST_CHECK: _l("Checked after completion"),
    Action.DEADLINE_MOVED: _l("Time limit adjusted to the holiday schedule"),
}

# Actions taken by the applicant; every other action is the agency's (or the system's for 即办件).
APPLICANT_ACTIONS = frozenset({Action.SUBMIT, Action.WITHDRAW, Action.RESUBMIT})
# Actions that must carry a reason.
REASONED_ACTIONS = frozenset({Action.REFUSE, Action.DENY, Action.RETURN_TO_REVIEW})
# Events on the timeline that are not moves of the lifecycle (no transition; the state stays).
NOTE_ACTIONS = frozenset({Action.POST_CHECK, Action.DEADLINE_MOVED})


class MaterialMode(StrEnum):
    """How the applicant provides one catalog material."""

    UPLOAD = "upload"  # attached online (files land with the materials feature)
    AT_WINDOW = "at_window"  # brought or mailed on paper
    COMMITMENT = "commitment"  # a signed 承诺书 instead, where the catalog allows it
    DATA_SHARING = "data_sharing"  # nothing to provide: the agency obtains it, or this service stands in for it online
    NOT_APPLICABLE = "not_applicable"  # an optional or conditional material that does not apply

    @property
    def label(self) -> str:
        return str(MATERIAL_MODE_LABELS[self])


MATERIAL_MODE_LABELS = {
    MaterialMode.UPLOAD: _l("Provided online"),
    MaterialMode.AT_WINDOW: _l("Provided on paper"),
    MaterialMode.COMMITMENT: _l("Replaced by a signed commitment"),
    MaterialMode.DATA_SHARING: _l("Nothing to provide: obtained by the agency, or stood in for when filed online"),
    MaterialMode.NOT_APPLICABLE: _l("Does not apply to me"),
}
PROVIDED_MODES = frozenset({MaterialMode.UPLOAD, MaterialMode.AT_WINDOW, MaterialMode.COMMITMENT,
                            MaterialMode.DATA_SHARING})


class Defect(StrEnum):
    """What is wrong with a material listed in a one-time notice."""

    MISSING = "missing"
    DEFECTIVE = "defective"

    @property
    def label(self) -> str:
        return str(DEFECT_LABELS[self])


DEFECT_LABELS = {Defect.MISSING: _l("Missing"), Defect.DEFECTIVE: _l("Needs correcting")}

# The pseudo-material a notice may name when the form itself needs correcting.
FORM_ENTRY = "_form"
