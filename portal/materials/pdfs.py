"""Uploaded PDFs: envelope, parse under tight limits, no encryption, JavaScript, automatic or launching actions,
embedded files or XFA (see ``checks`` for the order of the rules)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from io import BytesIO
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from pypdf import PdfReader, apply_configuration
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from .refusals import Limits, MiB, UploadRefused, log

_MARKUP_TAGS = (b"<html", b"<script", b"<body", b"<head", b"<iframe", b"<!doctype", b"<svg", b"<object", b"<embed")


# pypdf under tighter limits than its defaults: an upload is at most a few tens of MB of PDF syntax.
_PDF_LIMITS = {
    "maximum_declared_stream_length": 32 * MiB,
    "zlib_maximum_output_length": 32 * MiB,
    "lzw_maximum_output_length": 32 * MiB,
    "run_length_maximum_output_length": 32 * MiB,
    "stream_decoding_work_maximum_length": 64 * MiB,
    "page_tree_maximum_entries": 20_000,
    "page_tree_maximum_depth": 50,
    "jbig2dec_binary": None,  # never start an external program for an upload
}
_PDF_MAX_OBJECTS = 50_000  # a 50-page scan has hundreds, a long office document a few thousand
_PDF_MAX_NODES = 2_000_000  # objects, dictionaries and arrays visited by the walk
_PDF_MAX_SECONDS = 10.0  # pypdf is pure Python: about 40 µs and 2.5 KB per object


def _polyglot() -> UploadRefused:
    return UploadRefused("type_mismatch", _(
        "This file is not a clean PDF: other data is hidden before or after it. Please save the document again "
        "(for example with “Print to PDF”) and upload the new file."))


def _pdf_unreadable() -> UploadRefused:
    return UploadRefused("pdf_unreadable", _(
        "We could not read this PDF; it may be damaged. Please save it again (for example with “Print to PDF”) "
        "and upload the new file."))


class _PdfTooComplex(Exception):
    """The walk would take too long or too much memory."""


def _pdf_too_complex() -> UploadRefused:
    return UploadRefused("pdf_too_complex", _(
        "This PDF is too complex for us to check: it is made of too many parts. Please save it again with "
        "“Print to PDF”, or split it into smaller files, and upload the new file."))


def _pdf_finding(code: str) -> UploadRefused:
    messages = {
        "pdf_javascript": _(
            "This PDF contains JavaScript (small programs). We do not accept PDFs that can run programs. Please "
            "save it again with “Print to PDF” and upload the new file."),
        "pdf_actions": _(
            "This PDF contains actions that open programs, other files or web addresses by themselves. Please "
            "save it again with “Print to PDF” and upload the new file."),
        "pdf_embedded_files": _(
            "This PDF has files attached inside it. Please upload each document as its own PDF or image, or "
            "save the PDF again with “Print to PDF”."),
        "pdf_xfa": _(
            "This PDF is an interactive (XFA) form, which we cannot accept. Please print the filled-in form to "
            "a new PDF and upload that."),
    }
    return UploadRefused(code, messages[code])


_STREAM_START = re.compile(rb">>\s*stream(?:\r\n|\r|\n)")
_DELIMITER = rb"(?=[\s/<>\[\]()%{}]|$)"
_RISKY_NAME = re.compile(
    rb"/(JavaScript|JS|Launch|GoToR|GoToE|SubmitForm|ImportData|EmbeddedFiles?|FileAttachment|RichMedia|XFA)"
    + _DELIMITER
)
_ESCAPED_NAME = re.compile(rb"/[^\s/<>\[\]()%{}]*#[0-9A-Fa-f]{2}[^\s/<>\[\]()%{}]*")
_NAME_FINDINGS = {
    "JavaScript": "pdf_javascript", "JS": "pdf_javascript",
    "Launch": "pdf_actions", "GoToR": "pdf_actions", "GoToE": "pdf_actions", "SubmitForm": "pdf_actions",
    "ImportData": "pdf_actions",
    "EmbeddedFile": "pdf_embedded_files", "EmbeddedFiles": "pdf_embedded_files",
    "FileAttachment": "pdf_embedded_files", "RichMedia": "pdf_embedded_files",
    "XFA": "pdf_xfa",
}  # fmt: skip
_FINDING_ORDER = ("pdf_javascript", "pdf_actions", "pdf_embedded_files", "pdf_xfa")
_RISKY_ACTIONS = frozenset({"/Launch", "/GoToR", "/GoToE", "/SubmitForm", "/ImportData", "/Rendition", "/Movie",
                            "/Sound"})
_AUTOMATIC_ACTIONS_ALLOWED = frozenset({"/GoTo"})  # what /OpenAction and /AA may do: show a page, nothing else


def check_pdf(data: bytes, limits: Limits) -> int:
    """Check a PDF (see the module docstring) and return its number of pages; raise UploadRefused if it fails."""
    _check_pdf_envelope(data)
    findings = scan_pdf_tokens(data)
    if findings:
        raise _pdf_finding(_first(findings))
    try:
        with apply_configuration(**_PDF_LIMITS):
            reader = PdfReader(BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise UploadRefused("pdf_encrypted", _(
                    "This PDF is protected with a password or restrictions, so we cannot check it. Please save a "
                    "copy without protection (for example with “Print to PDF”) and upload that."))
            findings = walk_pdf(reader)
            pages = 0 if findings else len(reader.pages)
    except UploadRefused:
        raise
    except _PdfTooComplex:
        raise _pdf_too_complex() from None
    except Exception as exc:  # pypdf reports broken files with many exception types; RecursionError included
        log.info("PDF could not be parsed: %s", type(exc).__name__)  # messages may quote the file's bytes
        raise _pdf_unreadable() from None
    if findings:
        raise _pdf_finding(_first(findings))
    if pages < 1:
        raise _pdf_unreadable()
    if pages > limits.max_pages:
        raise UploadRefused("pdf_too_many_pages", _(
            "This PDF has %(pages)s pages; one file may have at most %(limit)s. Please split it into smaller files.",
            pages=format_decimal(pages), limit=format_decimal(limits.max_pages)))
    return pages


def _first(findings: set[str]) -> str:
    return next(code for code in _FINDING_ORDER if code in findings)


def _check_pdf_envelope(data: bytes) -> None:
    """Nothing before ``%PDF-`` (sniff saw to that), no markup in the first kilobyte, nothing but whitespace
    after the last ``%%EOF``, and no ZIP directory near the end: the shapes of PDF polyglots."""
    head = data[:1024].lower()
    if any(tag in head for tag in _MARKUP_TAGS):
        raise _polyglot()
    end = data.rfind(b"%%EOF")
    if end < 0:
        raise _pdf_unreadable()
    if data[end + 5 :].strip(b"\t\n\x0c\r \x00"):
        raise _polyglot()
    if b"PK\x05\x06" in data[-65_557:]:  # a ZIP's end-of-directory record lies in its last 64 KiB
        raise _polyglot()


def _outside_streams(data: bytes) -> bytes:
    """The PDF without the bodies of its streams, whose compressed bytes would give random false matches."""
    pieces = []
    pos = 0
    while True:
        match = _STREAM_START.search(data, pos)
        if match is None:
            pieces.append(data[pos:])
            break
        pieces.append(data[pos : match.end()])
        end = data.find(b"endstream", match.end())
        if end < 0:
            break
        pos = end
    return b"".join(pieces)


def scan_pdf_tokens(data: bytes) -> set[str]:
    """Refusal codes for risky names written anywhere in the PDF's syntax outside stream data, including names
    spelt with ``#xx`` escapes (``/J#53``). Defence in depth: objects inside compressed object streams are
    invisible here, which is why :func:`walk_pdf` runs too."""
    text = _outside_streams(data)
    names = {m.group(1).decode() for m in _RISKY_NAME.finditer(text)}
    for match in _ESCAPED_NAME.finditer(text):
        decoded = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), match.group())
        names.add(decoded[1:].decode("latin-1"))
    return {_NAME_FINDINGS[n] for n in names if n in _NAME_FINDINGS}


def _resolved(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value


def _automatic_actions(key: str, value: Any) -> Iterator[str]:
    """The /S of every action that ``/OpenAction`` or an ``/AA`` dictionary runs by itself, following /Next."""
    value = _resolved(value)
    if not isinstance(value, DictionaryObject):
        return  # /OpenAction as a destination array: it only shows a page
    queue = [value] if key == "/OpenAction" else [_resolved(v) for v in dict.values(value)]
    seen: set[int] = set()
    while queue and len(seen) < 1000:
        action = queue.pop()
        if not isinstance(action, DictionaryObject) or id(action) in seen:
            continue
        seen.add(id(action))
        yield str(_resolved(dict.get(action, "/S", "")))
        following = _resolved(dict.get(action, "/Next"))
        if isinstance(following, ArrayObject):
            queue.extend(_resolved(v) for v in list.__iter__(following))
        elif following is not None:
            queue.append(following)


def _inspect(obj: DictionaryObject, findings: set[str]) -> None:
    keys = set(obj.keys())
    kind = str(_resolved(dict.get(obj, "/S", "")))
    type_ = str(_resolved(dict.get(obj, "/Type", "")))
    subtype = str(_resolved(dict.get(obj, "/Subtype", "")))
    if "/JS" in keys or "/JavaScript" in keys or kind == "/JavaScript":
        findings.add("pdf_javascript")
    if kind in _RISKY_ACTIONS:
        findings.add("pdf_actions")
    if ({"/EmbeddedFiles", "/EF", "/AF"} & keys or type_ == "/EmbeddedFile"
            or subtype in ("/FileAttachment", "/RichMedia")):
        findings.add("pdf_embedded_files")
    if "/XFA" in keys:
        findings.add("pdf_xfa")
    for key in ("/OpenAction", "/AA"):
        if key in keys and not set(_automatic_actions(key, dict.get(obj, key))) <= _AUTOMATIC_ACTIONS_ALLOWED:
            findings.add("pdf_actions")


def walk_pdf(reader: PdfReader) -> set[str]:
    """Refusal codes for what the PDF holds, found by visiting every object: those the trailer reaches and every
    object the cross-reference tables list (in compressed object streams too), with everything nested in them.
    Raises _PdfTooComplex past 50,000 objects, 2 million dictionaries and arrays, or 10 seconds.
    """
    findings: set[str] = set()
    stack: list[Any] = [reader.trailer]
    for generation, entries in getattr(reader, "xref", {}).items():
        stack.extend(IndirectObject(number, generation, reader) for number in entries)
    stack.extend(IndirectObject(number, 0, reader) for number in getattr(reader, "xref_objStm", {}))
    if len(stack) > _PDF_MAX_OBJECTS:
        raise _PdfTooComplex
    seen: set[tuple[int, int]] = set()
    budget = _PDF_MAX_NODES
    deadline = time.monotonic() + _PDF_MAX_SECONDS
    containers = DictionaryObject | ArrayObject | IndirectObject
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            seen.add(key)
            if len(seen) > _PDF_MAX_OBJECTS or time.monotonic() > deadline:
                raise _PdfTooComplex
            obj = obj.get_object()
        budget -= 1
        if budget < 0:
            raise _PdfTooComplex
        if isinstance(obj, DictionaryObject):  # streams too; their data is not decoded
            _inspect(obj, findings)
            stack.extend(v for v in dict.values(obj) if isinstance(v, containers))
        elif isinstance(obj, ArrayObject):
            stack.extend(v for v in list.__iter__(obj) if isinstance(v, containers))
    return findings
