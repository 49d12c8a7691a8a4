"""``/api/v1``: the JSON skin over the same operations as the pages (for the WeChat mini-program).

Routes are declared with :func:`endpoint`, which parses and validates the body and query with
pydantic models, enforces bearer authentication and JSON-only bodies (S8), and records the route so
that ``/api/v1/openapi.json`` is generated from the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, g, jsonify, request
from pydantic import BaseModel, ValidationError

from ..core import jsonbody
from ..core.errors import AuthenticationFailed, ValidationFailed
from ..core.translation import gettext as _
from ..core.web import error_envelope

bp = Blueprint("api", __name__, url_prefix="/api/v1")
BEARER_RE = re.compile(r"^Bearer ([A-Za-z0-9_\-\.]{20,200})$")


@dataclass(frozen=True)
class EndpointSpec:
    rule: str
    method: str
    endpoint: str
    summary: str
    tags: tuple[str, ...]
    auth: bool
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    content_type: str
    errors: tuple[int, ...] = field(default=())
    also: tuple[int, ...] = field(default=())  # other success statuses, with the same body as ``status``
    headers: tuple[Header, ...] = field(default=())


@dataclass(frozen=True)
class Header:
    """A request header an endpoint reads, for the OpenAPI document (the view itself checks it)."""

    name: str
    description: str
    required: bool = True
    pattern: str | None = None


REGISTRY: list[EndpointSpec] = []


def _pydantic_reasons(exc: ValidationError) -> list[tuple[str | None, str]]:
    reasons: list[tuple[str | None, str]] = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"]) or None
        kind = error["type"]
        if kind == "missing":
            msg = _("This field is required.")
        elif kind == "extra_forbidden":
            msg = _("This field is not accepted here.")
        elif kind.startswith(("string_too_long",)):
            msg = _("This value is too long.")
        elif kind.startswith(("string_too_short",)):
            msg = _("This value is too short.")
        elif kind.startswith(("int", "float", "decimal")):
            msg = _("Enter a number.")
        elif kind.startswith("string_pattern"):
            msg = _("This value is not in the expected format.")
        elif kind == "value_error":
            msg = str(error.get("ctx", {}).get("error", "")) or _("This value is not valid.")
        else:
            msg = _("This value is not valid.")
        reasons.append((loc, msg))
    return reasons


def current_account() -> Any:
    """The account the bearer token belongs to (only inside an authenticated endpoint)."""
    return g.api_account


def _authenticate() -> Any:
    from ..accounts.tokens import account_from_bearer

    match = BEARER_RE.match(request.headers.get("Authorization", ""))
    account = account_from_bearer(match.group(1)) if match else None
    if account is None:
        raise AuthenticationFailed(_("A valid access token is required. Please log in again."))
    return account


def endpoint(
    rule: str,
    *,
    method: str = "GET",
    summary: str,
    tags: tuple[str, ...] = (),
    auth: bool = True,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    content_type: str = "application/json",
    errors: tuple[int, ...] = (),
    also: tuple[int, ...] = (),
    headers: tuple[Header, ...] = (),
) -> Callable:
    """Declare an API route. The view gets ``body=`` / ``query=`` models and returns a model, dict or Response."""

    def decorate(view: Callable) -> Callable:
        name = view.__name__

        @wraps(view)
        def wrapper(**kwargs: Any):
            if auth:
                g.api_account = _authenticate()
            if body is not None:
                if content_type == "application/json":
                    if not request.is_json:
                        return error_envelope("unsupported_media_type",
                                              _("The request body must be JSON (Content-Type: application/json)."), 415)
                    try:
                        payload = jsonbody.parse(request.get_data(cache=True))
                    except jsonbody.BadJson as error:
                        return error_envelope("bad_json", error.message, 400)
                    if not isinstance(payload, dict):
                        return error_envelope("bad_json", _("The request body must be a JSON object."), 400)
                else:  # multipart: the form's text fields are the body; the view reads the files
                    if request.mimetype != content_type:
                        return error_envelope("unsupported_media_type",
                                              _("The request body must be %(type)s.", type=content_type), 415)
                    payload = request.form.to_dict()
                try:
                    kwargs["body"] = body.model_validate(payload)
                except ValidationError as exc:
                    raise ValidationFailed(_pydantic_reasons(exc), _("Some fields are not valid.")) from None
            if query is not None:
                try:
                    kwargs["query"] = query.model_validate(request.args.to_dict())
                except ValidationError as exc:
                    raise ValidationFailed(_pydantic_reasons(exc), _("Some parameters are not valid.")) from None
            result = view(**kwargs)
            if isinstance(result, BaseModel):
                out = jsonify(result.model_dump(mode="json"))
                out.status_code = status
                return out
            if isinstance(result, dict | list):
                out = jsonify(result)
                out.status_code = status
                return out
            return result

        bp.add_url_rule(rule, endpoint=name, view_func=wrapper, methods=[method])
        REGISTRY.append(EndpointSpec(rule, method, name, summary, tags, auth, body, query, response, status,
                                     content_type, errors, also, headers))
        return wrapper

    return decorate


@bp.before_request
def _json_only() -> Any:
    """State-changing API calls take JSON (or multipart for uploads) only (S8)."""
    if request.method in {"POST", "PUT", "PATCH"} and request.content_length:
        mimetype = request.mimetype
        if mimetype not in {"application/json", "multipart/form-data"}:
            return error_envelope("unsupported_media_type",
                                  _("The request body must be JSON (Content-Type: application/json)."), 415)
    return None
