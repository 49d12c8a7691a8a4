"""Build the OpenAPI 3.1 document from the endpoints declared with ``portal.api.endpoint``."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from . import REGISTRY

_PARAM_RE = re.compile(r"<(?:(\w+):)?(\w+)>")
_TYPES = {"int": {"type": "integer"}, "string": {"type": "string"}, None: {"type": "string"},
          "path": {"type": "string"}}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
        }
    },
}


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": _TYPES.get(conv, {"type": "string"})}
        for conv, name in _PARAM_RE.findall(rule)
    ]
    return "/api/v1" + _PARAM_RE.sub(r"{\2}", rule), params


def build_document(base_url: str) -> dict[str, Any]:
    models: list[type[BaseModel]] = []
    for spec in REGISTRY:
        for model in (spec.body, spec.response, spec.query):
            if model is not None and model not in models:
                models.append(model)
    refs, definitions = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    schemas["Error"] = ERROR_SCHEMA

    paths: dict[str, Any] = {
        "/api/v1/openapi.json": {"get": {"summary": "This document", "operationId": "openapi", "tags": ["meta"],
                                         "responses": {"200": {"description": "OpenAPI document"}}}}
    }
    for spec in REGISTRY:
        path, params = _path(spec.rule)
        op: dict[str, Any] = {"summary": spec.summary, "operationId": spec.endpoint, "tags": list(spec.tags)}
        if params:
            op["parameters"] = list(params)
        for header in spec.headers:
            header_schema: dict[str, Any] = {"type": "string"}
            if header.pattern is not None:
                header_schema["pattern"] = header.pattern
            op.setdefault("parameters", []).append({"name": header.name, "in": "header", "required": header.required,
                                                    "description": header.description, "schema": header_schema})
        if spec.query is not None:
            # the query model's schema as it stands in components: its references point there (not to $defs)
            schema = schemas[refs[(spec.query, "validation")]["$ref"].rsplit("/", 1)[-1]]
            for name, prop in schema.get("properties", {}).items():
                op.setdefault("parameters", []).append(
                    {"name": name, "in": "query", "required": name in schema.get("required", []), "schema": prop}
                )
        if spec.body is not None:
            op["requestBody"] = {"required": True, "content": {spec.content_type: {
                "schema": refs[(spec.body, "validation")]}}}
        ok: dict[str, Any] = {"description": "OK"}
        if spec.response is not None:
            ok["content"] = {"application/json": {"schema": refs[(spec.response, "validation")]}}
        responses: dict[str, Any] = {str(code): ok for code in (spec.status, *spec.also) if code != 304}
        if 304 in spec.also:  # answered with an ETag: asked again with If-None-Match, an unchanged answer has no body
            responses["304"] = {"description": "Not Modified: the answer is the one of the ETag sent in If-None-Match"}
            op.setdefault("parameters", []).append(
                {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}})
        error_codes = set(spec.errors)
        if spec.auth:
            op["security"] = [{"bearer": []}]
            error_codes.add(401)
        if spec.body is not None or spec.query is not None:
            error_codes.update({400, 422})
        if spec.body is not None:
            error_codes.add(415)
        error_codes.add(503)  # any call may meet the database or the disk down: service_unavailable, Retry-After
        for code in sorted(error_codes):
            responses[str(code)] = {"description": "Error",
                                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        op["responses"] = responses
        paths.setdefault(path, {})[spec.method.lower()] = op

    return {
        "openapi": "3.1.0",
        "info": {"title": "Medical-security online service hall API", "version": "1.0.0",
                 "description": "JSON API of the portal for the WeChat mini-program. Errors share one envelope. "
                                "503 service_unavailable (with Retry-After): try again later; 409 conflict: "
                                "someone else changed the record first, reload it."},
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
