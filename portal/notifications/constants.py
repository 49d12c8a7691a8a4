"""What a message is about (its event), the channels that carry it, and where each delivery stands."""

from __future__ import annotations

from enum import StrEnum

from ..core.translation import lazy_gettext as _l


class Event(StrEnum):
    """Each event has one message template (messages.py) in every language."""

    ACCEPTED = "accepted"
    CORRECTION_REQUESTED = "correction_requested"
    REFUSED = "refused"  # 不予受理
    DENIED = "denied"  # 审核不通过
    APPROVED = "approved"
    RETURNED_TO_REVIEW = "returned_to_review"  # an approval reopened before its payment started (退回重审)
    PAID = "paid"
    PAYMENT_FAILED = "payment_failed"  # the bank could not pay a claim: the claimant corrects the account
    ACCOUNT_LEFT_OPEN = "account_left_open"  # a closing withdrawal left money credited later: withdraw it too
    COMPLETED = "completed"
    CERTIFICATE_READY = "certificate_ready"
    FILING_EXPIRING = "filing_expiring"  # 异地就医备案 about to expire (sent by the filings feature)
    BENEFIT_EXPIRING = "benefit_expiring"  # a recognition (门诊慢特病, 特药...) about to expire: renew it
    CORRECTION_DUE = "correction_due"  # reminder: the one-time notice's time is running out
    STAFF_DIGEST = "staff_digest"  # reminder to staff: their cases due soon or overdue
    RECTIFICATION_OPENED = "rectification_opened"  # to supervisors: a bad rating to check
    RECTIFICATION_DONE = "rectification_done"  # to the rater: the follow-up (回访) of their bad rating
    COMMITMENT_FALSE = "commitment_false"  # post-hoc checking (事后核查) found the applicant's commitment untrue
    DEADLINE_MOVED = "deadline_moved"  # an imported holiday schedule moved a date of the applicant's case
    LOGIN_FAILURES = "login_failures"  # to a member of staff: failed logins to their account piled up
    REGISTRATION_APPROVED = "registration_approved"  # staff accepted a unit agent's 授权委托书: they may log in
    REGISTRATION_REFUSED = "registration_refused"  # staff refused it (sent by SMS only: the registrant has no account)

    @property
    def label(self) -> str:
        return str(EVENT_LABELS[self])


EVENT_LABELS = {
    Event.ACCEPTED: _l("Application accepted"),
    Event.CORRECTION_REQUESTED: _l("Corrections requested"),
    Event.REFUSED: _l("Application not accepted"),
    Event.DENIED: _l("Application not approved"),
    Event.APPROVED: _l("Application approved"),
    Event.RETURNED_TO_REVIEW: _l("Application back under review"),
    Event.PAID: _l("Payment made"),
    Event.PAYMENT_FAILED: _l("Payment failed"),
    Event.ACCOUNT_LEFT_OPEN: _l("Personal account still open"),
    Event.COMPLETED: _l("Application completed"),
    Event.CERTIFICATE_READY: _l("Certificate ready"),
    Event.FILING_EXPIRING: _l("Filing about to expire"),
    Event.BENEFIT_EXPIRING: _l("Recognition about to expire"),
    Event.CORRECTION_DUE: _l("Corrections due soon"),
    Event.STAFF_DIGEST: _l("Cases due soon"),
    Event.RECTIFICATION_OPENED: _l("Bad rating to check"),
    Event.RECTIFICATION_DONE: _l("Follow-up of your rating"),
    Event.COMMITMENT_FALSE: _l("Result of the check of your commitment"),
    Event.DEADLINE_MOVED: _l("Time limit adjusted"),
    Event.LOGIN_FAILURES: _l("Failed logins to your account"),
    Event.REGISTRATION_APPROVED: _l("Unit agent registration approved"),
    Event.REGISTRATION_REFUSED: _l("Unit agent registration not approved"),
}


class Channel(StrEnum):
    INBOX = "inbox"  # the portal's own message box: delivered when the change commits
    SMS = "sms"
    WECHAT = "wechat"  # subscribe message of the mini-program, for users who accepted one

    @property
    def label(self) -> str:
        return str(CHANNEL_LABELS[self])


CHANNEL_LABELS = {
    Channel.INBOX: _l("Message box"),
    Channel.SMS: _l("Text message"),
    Channel.WECHAT: _l("WeChat"),
}


class Status(StrEnum):
    PENDING = "pending"  # waiting for a worker (first try, or a retry after ``next_attempt_at``)
    SENDING = "sending"  # a worker holds it until ``lease_until`` and may be calling the channel (worker.py)
    SENT = "sent"
    FAILED = "failed"  # given up: permanent refusal, or every retry used
    UNCONFIRMED = "unconfirmed"  # its send may have gone out and the channel cannot say: a person settles it

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    Status.PENDING: _l("Sending"),
    Status.SENDING: _l("Sending"),
    Status.SENT: _l("Sent"),
    Status.FAILED: _l("Could not be sent"),
    Status.UNCONFIRMED: _l("Being checked"),
}

MAX_ATTEMPTS = 6  # PORTAL_NOTIFY_MAX_ATTEMPTS: tries before a delivery is marked failed
BACKOFF_SECONDS = 30  # PORTAL_NOTIFY_BACKOFF_SECONDS: the first retry waits this long, then twice as long each time
BACKOFF_CAP_SECONDS = 6 * 3600
