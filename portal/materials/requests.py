"""Multipart uploads parsed in memory only (S11: no plaintext ever touches disk).

Werkzeug's default stream factory spools every file part of a request larger than 500 KB into a temporary file,
in clear, before the view sees it. :class:`InMemoryUploadRequest` keeps each part in an ``io.BytesIO`` instead.
Memory stays bounded: Werkzeug stops reading at the request's limit (413), and this class refuses to parse a
body without one. The limit is ``PORTAL_UPLOAD_MAX_REQUEST_BYTES`` on the upload routes (``UPLOAD_ENDPOINTS``)
and ``MAX_CONTENT_LENGTH`` everywhere else; it is known from the URL alone, so it holds from the first read of
the body, even when CSRF protection reads the form before any view runs. :func:`install` makes it the app's
request class; the materials blueprint and its API module both call it when they are registered, so every route
that can receive a file is covered.
"""

from __future__ import annotations

import io
from typing import IO

from flask import Flask, Request, current_app
from werkzeug.exceptions import RequestEntityTooLarge

FALLBACK_MAX_CONTENT_LENGTH = 16 * 1024 * 1024  # used only if MAX_CONTENT_LENGTH were unset (it is set in config)
UPLOAD_ENDPOINTS = frozenset({"materials.upload", "materials.replace", "api.upload_material_file",
                              "api.replace_material_file"})


class InMemoryUploadRequest(Request):
    """A request whose file parts live in memory, never in a temporary file."""

    @property
    def max_content_length(self) -> int | None:
        # never unbounded: an in-memory part must have a ceiling
        if self._max_content_length is None and self.endpoint in UPLOAD_ENDPOINTS:
            upload_limit = current_app.config.get("PORTAL_UPLOAD_MAX_REQUEST_BYTES")
            if upload_limit:
                return int(upload_limit)
        return super().max_content_length or FALLBACK_MAX_CONTENT_LENGTH

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        limit = self.max_content_length
        if total_content_length is not None and limit is not None and total_content_length > limit:
            raise RequestEntityTooLarge()
        return io.BytesIO()


def install(app: Flask) -> None:
    """Make the app parse uploads in memory (idempotent)."""
    if not issubclass(app.request_class, InMemoryUploadRequest):
        app.request_class = InMemoryUploadRequest


def too_large_message() -> str:
    """What an upload request over ``PORTAL_UPLOAD_MAX_REQUEST_BYTES`` is told, in the user's language."""
    from ..core.translation import gettext as _
    from .refusals import _mb

    config = current_app.config
    return _("What you sent is larger than %(limit)s MB in all, the most one upload can carry. Send the files one "
             "at a time, or make them smaller: each file can be at most %(file)s MB.",
             limit=_mb(int(config.get("PORTAL_UPLOAD_MAX_REQUEST_BYTES") or FALLBACK_MAX_CONTENT_LENGTH)),
             file=_mb(int(config.get("PORTAL_UPLOAD_MAX_FILE_BYTES") or 0)))
