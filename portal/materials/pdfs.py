"""Uploaded PDFs: envelope, parse under tight limits, no encryption, JavaScript, automatic or launching actions,
embedded files or XFA (see ``checks`` for the order of the rules).

One exception to "no embedded files", and only for the invoices of a claim (the materials that also take OFD
e-receipts; :func:`check_e_invoice_pdf`): a PDF e-invoice may carry its structured data as embedded files if every
embedded file is an XML invoice data file — its file specification names it ``….xml`` (every name it gives), it is
a document-level embedded file (``/EmbeddedFiles``, or ``/AF`` as PDF/A-3 writes it; a file attachment annotation
or rich media stays refused), at most :data:`MAX_DATA_FILES` of them, each at most :data:`MAX_DATA_FILE_BYTES` once
inflated (inflation stops at the cap, whatever the file says of its size), stored plain or with one
``/FlateDecode``, with no external file system (``/FS``) or related files (``/RF``), and it parses with
``defusedxml`` with no DTD, entity or external reference. Everything else is refused as for any PDF (JavaScript,
actions that run or launch, other attachments, encryption, XFA). The XML is read like an OFD e-receipt's data file
(``ofd.invoice_data``) to prefill the claim's invoice row, which the claimant confirms.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from flask_babel import format_decimal
from pypdf import PdfReader, apply_configuration
from pypdf.errors import LimitReachedError
from pypdf.generic import ArrayObject, ByteStringObject, DictionaryObject, IndirectObject, NullObject, StreamObject

from ..core.translation import gettext as _
from .refusals import Limits, MiB, UploadRefused, _mb, log

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
MAX_DATA_FILES = 2  # XML invoice data files an e-invoice PDF may carry (the lead's decision, SECURITY.md)
MAX_DATA_FILE_BYTES = 1 * MiB


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


def _data_file_refusal(code: str, found: int = 0) -> UploadRefused:
    again = _("Please download the e-invoice again from where it was issued, or save it again with “Print to PDF” "
              "and upload the new file.")
    messages = {
        "pdf_attachment_not_allowed": _(
            "This PDF has a file attached inside it that is not an invoice data file. An e-invoice PDF may carry "
            "only its invoice data as XML files (at most %(count)s, each up to %(size)s MB); we do not accept "
            "other attached files.", count=format_decimal(MAX_DATA_FILES), size=_mb(MAX_DATA_FILE_BYTES)),
        "pdf_too_many_data_files": _(
            "This PDF carries %(found)s attached files; an e-invoice PDF may carry at most %(count)s XML invoice "
            "data files.", found=format_decimal(found), count=format_decimal(MAX_DATA_FILES)),
        "pdf_data_file_too_large": _(
            "An invoice data file (XML) attached inside this PDF is larger than %(size)s MB, far more than "
            "invoice data takes.", size=_mb(MAX_DATA_FILE_BYTES)),
        "pdf_data_file_unsafe": _(
            "The invoice data file (XML) attached inside this PDF contains declarations that are not allowed (a "
            "DTD, entities or references to other files)."),
        "pdf_data_file_malformed": _(
            "The invoice data file (XML) attached inside this PDF is damaged or is not valid XML."),
    }
    return UploadRefused(code, f"{messages[code]} {again}")


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
    return _check(data, limits, data_files=False)[0]


def check_e_invoice_pdf(data: bytes, limits: Limits) -> tuple[int, list[Element]]:
    """Check a PDF uploaded as a claim's invoice, where XML invoice data files may be embedded (the module
    docstring); its number of pages and the parsed XML of its data files, or UploadRefused."""
    return _check(data, limits, data_files=True)


def _check(data: bytes, limits: Limits, *, data_files: bool) -> tuple[int, list[Element]]:
    _check_pdf_envelope(data)
    findings = scan_pdf_tokens(data, data_files=data_files)
    if findings:
        raise _refusal(_first(findings), data_files)
    xml: list[Element] = []
    try:
        with apply_configuration(**_PDF_LIMITS):
            reader = PdfReader(BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise UploadRefused("pdf_encrypted", _(
                    "This PDF is protected with a password or restrictions, so we cannot check it. Please save a "
                    "copy without protection (for example with “Print to PDF”) and upload that."))
            attached = _Attached() if data_files else None
            findings = walk_pdf(reader, attached)
            pages = 0 if findings else len(reader.pages)
            if attached is not None and not findings:
                xml = [_parse_data_file(body) for body in _data_files(reader, attached)]
    except UploadRefused:
        raise
    except _PdfTooComplex:
        raise _pdf_too_complex() from None
    except Exception as exc:  # pypdf reports broken files with many exception types; RecursionError included
        log.info("PDF could not be parsed: %s", type(exc).__name__)  # messages may quote the file's bytes
        raise _pdf_unreadable() from None
    if findings:
        raise _refusal(_first(findings), data_files)
    if pages < 1:
        raise _pdf_unreadable()
    if pages > limits.max_pages:
        raise UploadRefused("pdf_too_many_pages", _(
            "This PDF has %(pages)s pages; one file may have at most %(limit)s. Please split it into smaller files.",
            pages=format_decimal(pages), limit=format_decimal(limits.max_pages)))
    return pages, xml


def _first(findings: set[str]) -> str:
    return next(code for code in _FINDING_ORDER if code in findings)


def _refusal(code: str, data_files: bool) -> UploadRefused:
    """The refusal of a finding; where XML data files may be attached, other attachments are told so."""
    if data_files and code == "pdf_embedded_files":
        return _data_file_refusal("pdf_attachment_not_allowed")
    return _pdf_finding(code)


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


def scan_pdf_tokens(data: bytes, *, data_files: bool = False) -> set[str]:
    """Refusal codes for risky names written anywhere in the PDF's syntax outside stream data, including names
    spelt with ``#xx`` escapes (``/J#53``). Defence in depth: objects inside compressed object streams are
    invisible here, which is why :func:`walk_pdf` runs too. With ``data_files`` (a claim's invoice), the names of
    document-level embedded files are left to the walk, which checks each one."""
    text = _outside_streams(data)
    names = {m.group(1).decode() for m in _RISKY_NAME.finditer(text)}
    for match in _ESCAPED_NAME.finditer(text):
        decoded = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), match.group())
        names.add(decoded[1:].decode("latin-1"))
    if data_files:
        names -= {"EmbeddedFile", "EmbeddedFiles"}
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


@dataclass
class _Attached:
    """What the walk found of embedded files, where XML data files may be attached: the file specifications that
    embed a file (``/EF``), and every object typed ``/EmbeddedFile``."""

    specs: list[DictionaryObject] = field(default_factory=list)
    streams: set[tuple[int, int] | None] = field(default_factory=set)


def _inspect(obj: DictionaryObject, findings: set[str], attached: _Attached | None = None,
             ref: tuple[int, int] | None = None) -> None:
    keys = set(obj.keys())
    kind = str(_resolved(dict.get(obj, "/S", "")))
    type_ = str(_resolved(dict.get(obj, "/Type", "")))
    subtype = str(_resolved(dict.get(obj, "/Subtype", "")))
    if "/JS" in keys or "/JavaScript" in keys or kind == "/JavaScript":
        findings.add("pdf_javascript")
    if kind in _RISKY_ACTIONS:
        findings.add("pdf_actions")
    if subtype in ("/FileAttachment", "/RichMedia"):
        findings.add("pdf_embedded_files")
    elif {"/EmbeddedFiles", "/EF", "/AF"} & keys or type_ == "/EmbeddedFile":
        if attached is None:
            findings.add("pdf_embedded_files")
        else:  # checked one by one once the walk is done (``_data_files``)
            if "/EF" in keys:
                attached.specs.append(obj)
            if type_ == "/EmbeddedFile":
                attached.streams.add(ref)
    if "/XFA" in keys:
        findings.add("pdf_xfa")
    for key in ("/OpenAction", "/AA"):
        if key in keys and not set(_automatic_actions(key, dict.get(obj, key))) <= _AUTOMATIC_ACTIONS_ALLOWED:
            findings.add("pdf_actions")


def walk_pdf(reader: PdfReader, attached: _Attached | None = None) -> set[str]:
    """Refusal codes for what the PDF holds, found by visiting every object: those the trailer reaches and every
    object the cross-reference tables list (in compressed object streams too), with everything nested in them.
    Raises _PdfTooComplex past 50,000 objects, 2 million dictionaries and arrays, or 10 seconds. With
    ``attached``, embedded files are collected there for checking instead of being a finding.
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
        ref = None
        if isinstance(obj, IndirectObject):
            key = ref = (obj.idnum, obj.generation)
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
            _inspect(obj, findings, attached, ref)
            stack.extend(v for v in dict.values(obj) if isinstance(v, containers))
        elif isinstance(obj, ArrayObject):
            stack.extend(v for v in list.__iter__(obj) if isinstance(v, containers))
    return findings


# --- XML invoice data files of an e-invoice PDF ------------------------------------------------------------------

_NAME_KEYS = ("/UF", "/F", "/DOS", "/Mac", "/Unix")


def _file_name(value: Any) -> str | None:
    value = _resolved(value)
    if isinstance(value, ByteStringObject):
        value = bytes(value).decode("latin-1")
    return value if isinstance(value, str) else None


def _is_xml_name(name: str | None) -> bool:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip().lower()
    return len(base) > 4 and base.endswith(".xml") and not any(ord(c) < 32 for c in base)


def _data_files(reader: PdfReader, attached: _Attached) -> list[bytes]:
    """The bytes of every embedded file, each checked to be an XML data file (the module docstring)."""
    refs: set[tuple[int, int]] = set()
    for spec in attached.specs:
        names = [_file_name(dict.get(spec, key)) for key in _NAME_KEYS if key in spec]
        if "/FS" in spec or "/RF" in spec or not names or not all(_is_xml_name(n) for n in names):
            raise _data_file_refusal("pdf_attachment_not_allowed")
        embedded = _resolved(dict.get(spec, "/EF"))
        if not isinstance(embedded, DictionaryObject) or not embedded:
            raise _pdf_unreadable()
        for value in dict.values(embedded):
            if not isinstance(value, IndirectObject):
                raise _pdf_unreadable()
            refs.add((value.idnum, value.generation))
    if attached.streams - refs:  # an embedded file no file specification names: hidden
        raise _data_file_refusal("pdf_attachment_not_allowed")
    if len(refs) > MAX_DATA_FILES:
        raise _data_file_refusal("pdf_too_many_data_files", found=len(refs))
    return [_data_file_bytes(IndirectObject(number, generation, reader).get_object())
            for number, generation in sorted(refs)]


def _data_file_bytes(stream: Any) -> bytes:
    """An embedded file's bytes, plain or inflated once, never past the cap."""
    if not isinstance(stream, StreamObject):
        raise _pdf_unreadable()
    filters = _resolved(dict.get(stream, "/Filter"))
    filters = [] if filters is None else list(filters) if isinstance(filters, ArrayObject) else [filters]
    params = _resolved(dict.get(stream, "/DecodeParms"))
    if [str(_resolved(f)) for f in filters] not in ([], ["/FlateDecode"]) or not (
            params is None or isinstance(params, NullObject)):
        raise _data_file_refusal("pdf_attachment_not_allowed")  # not what an XML data file is stored as
    try:
        with apply_configuration(zlib_maximum_output_length=MAX_DATA_FILE_BYTES + 1):  # within the PDF's limits
            body = stream.get_data()
    except LimitReachedError:
        raise _data_file_refusal("pdf_data_file_too_large") from None
    if len(body) > MAX_DATA_FILE_BYTES:
        raise _data_file_refusal("pdf_data_file_too_large")
    return body


def _parse_data_file(body: bytes) -> Element:
    try:
        return fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise _data_file_refusal("pdf_data_file_unsafe") from None
    except (ParseError, ValueError, UnicodeDecodeError):
        raise _data_file_refusal("pdf_data_file_malformed") from None
