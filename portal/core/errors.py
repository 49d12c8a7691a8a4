"""Domain errors. Operations raise these; views turn them into form errors, the API into its envelope."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error an operation raises on purpose. ``code`` is stable and machine-readable."""

    code = "domain_error"
    status = 400

    def __init__(self, message: str = "", *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class ValidationFailed(DomainError):
    """Input broke one or more rules; ``reasons`` is a list of (field, message) pairs."""

    code = "validation_failed"
    status = 422

    def __init__(self, reasons: list[tuple[str | None, str]], message: str = ""):
        super().__init__(message or "; ".join(m for _f, m in reasons))
        self.reasons = reasons

    @property
    def fields(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for field, msg in self.reasons:
            out.setdefault(field or "_", []).append(msg)
        return out


class NotFound(DomainError):
    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403


class AuthenticationFailed(DomainError):
    code = "unauthorized"
    status = 401


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429


class InvalidTransition(DomainError):
    code = "invalid_transition"
    status = 409


class Conflict(DomainError):
    """Someone else changed the object first (optimistic locking, S20)."""

    code = "conflict"
    status = 409
