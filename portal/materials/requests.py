"""Multipart uploads parsed in memory only (S11: no plaintext ever touches disk).

Werkzeug's default stream factory spools every file part of a request larger than 500 KB into a temporary file,
in clear, before the view sees it. :class:`InMemoryUploadRequest` keeps each part in an ``io.BytesIO`` instead.
Memory stays bounded: Werkzeug stops reading at ``MAX_CONTENT_LENGTH`` (413), and this class refuses to parse a
body without that bound. :func:`install` makes it the app's request class; the materials blueprint and its API
module both call it when they are registered, so every route that can receive a file is covered.
"""

from __future__ import annotations

import io
from typing import IO

from flask import Flask, Request
from werkzeug.exceptions import RequestEntityTooLarge

FALLBACK_MAX_CONTENT_LENGTH = 16 * 1024 * 1024  # used only if MAX_CONTENT_LENGTH were unset (it is set in config)


class InMemoryUploadRequest(Request):
    """A request whose file parts live in memory, never in a temporary file."""

    @property
    def max_content_length(self) -> int | None:
        # never unbounded: an in-memory part must have a ceiling
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
