"""Content checks for uploaded files (S9): what a file really is, judged from its bytes, and a clean copy to keep.

:func:`check_and_clean` runs the rules in this order, cheap refusals first and parsers last:

1. **Size.** At most ``max_file_bytes + 1`` bytes are read; a longer file is refused before anything parses it.
2. **Type, from the bytes only** (:func:`sniff`). The file name and the browser's Content-Type decide nothing:
   a PNG named ``scan.jpg`` is a PNG. Programs (Windows, Linux, Mac, scripts, Android and Java apps) are
   refused as ``executable``; anything else outside the material's allow-list as ``type_not_allowed``, or as
   ``type_mismatch`` when the name promised an allowed type the bytes are not. The name only chooses which of
   those two words the refusal uses. The refusal names what the file really is ("a Windows program").
3. **Virus scan** (:func:`scan`), before any parser sees the bytes; it fails closed when configured.
4. **Images** (JPEG, PNG): the dimensions are read from the header by this module and checked before Pillow
   opens the file, so a decompression bomb is refused without decoding a pixel, and Pillow's own
   DecompressionBombWarning can never fire (``Limits.max_pixels`` may not exceed ``Image.MAX_IMAGE_PIXELS``).
   Pillow may only use the plugin of the sniffed format, and only sees the segments decoding needs: EXIF,
   XMP, comments, text chunks and the like are cut out first (the EXIF orientation is read here). The image
   is decoded, converted to sRGB, turned upright, and re-encoded into a new file that carries no metadata: no
   EXIF, GPS, XMP, comments, ICC profile or PNG text chunks, and nothing that followed or hid inside the
   original (a ZIP appended to a JPEG does not survive). Only the resolution (dpi) is kept, so a printed ID
   copy keeps its real size.
5. **PDFs** are stored byte for byte when they pass. They must start with ``%PDF-`` and end at ``%%EOF``
   (nothing hidden before or after: no HTML in the first kilobyte, no archive appended), must parse with
   pypdf under tight resource limits, must not be encrypted, and must hold no JavaScript, no actions that run
   by themselves or launch, fetch or submit anything, no embedded files and no XFA forms; every object is
   walked, including those inside compressed object streams, and a byte scan outside stream data backs the
   walk up (it also sees objects that no cross-reference table lists).

Refusals raise :class:`UploadRefused` with a stable ``code`` and a message in the user's language that says
what was wrong and what to do. Nothing here logs a file name or file content (names may hold ID numbers, S14).
"""

from __future__ import annotations

import logging
import math
import os
import re
import socket
import struct
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, BinaryIO

from flask import current_app, has_app_context
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageCms
from pypdf import PdfReader, apply_configuration
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from ..core.errors import ValidationFailed

log = logging.getLogger("portal.materials")

MiB = 1024 * 1024
SUPPORTED = frozenset({"pdf", "jpeg", "png"})
ALLOWED = SUPPORTED  # the default allow-list; a material may narrow it
MEDIA_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
EXTENSIONS = {"pdf": ".pdf", "jpeg": ".jpg", "png": ".png"}
EXECUTABLE = frozenset({"exe", "elf", "macho", "script", "lnk", "jar", "apk"})
SNIFF_BYTES = 4096  # sniff() needs at most this many leading bytes
JPEG_QUALITY = 88
# zlib's default. Level 9 (Pillow's optimize=True) saves some 15 % on photographic PNGs but takes 3 to 7 s for
# 3 to 6 megapixels instead of 0.5 to 1 s; screenshots compress well at either level.
PNG_COMPRESS_LEVEL = 6
MAX_NAME_CHARS = 100
_READ_CHUNK = MiB

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

_REFUSAL_STATUS = {"too_large": 413, "scan_unavailable": 503}

# --- refusals ------------------------------------------------------------------------------------------------------


class UploadRefused(ValidationFailed):
    """An upload was refused. ``code`` is stable and machine-readable; ``message`` tells the user, in their
    language, what was wrong and what to do. A ValidationFailed, so forms show it like any other field error."""

    def __init__(self, code: str, message: str, *, field: str | None = None):
        super().__init__([(field, message)], message)
        self.code = code
        self.status = _REFUSAL_STATUS.get(code, 422)


@dataclass(frozen=True)
class Limits:
    """Caps for one upload and for all files of one case (bytes, pages, pixels)."""

    max_file_bytes: int = 10 * MiB
    max_case_bytes: int = 50 * MiB
    max_pages: int = 50
    max_pixels: int = 40_000_000
    max_image_side: int = 10_000

    def __post_init__(self) -> None:
        for name in ("max_file_bytes", "max_case_bytes", "max_pages", "max_pixels", "max_image_side"):
            if getattr(self, name) < 1:
                raise ValueError(f"Limits.{name} must be positive")
        # Our header check refuses larger images before Pillow opens them, so Pillow never warns (S18).
        if Image.MAX_IMAGE_PIXELS is not None and self.max_pixels > Image.MAX_IMAGE_PIXELS:
            raise ValueError(f"Limits.max_pixels may not exceed Pillow's MAX_IMAGE_PIXELS ({Image.MAX_IMAGE_PIXELS})")


@dataclass(frozen=True)
class CleanFile:
    """A file that passed every check. ``data`` is what to store: the re-encoded image, or the PDF as sent."""

    kind: str  # "pdf", "jpeg" or "png"
    media_type: str
    data: bytes = field(repr=False)
    pages: int | None
    width: int | None
    height: int | None
    original_name: str = field(repr=False)  # for display only; its extension matches ``kind``
    size: int


# --- what files are ------------------------------------------------------------------------------------------------

_WHAT = {
    "pdf": _l("a PDF"),
    "jpeg": _l("a JPEG image"),
    "png": _l("a PNG image"),
    "gif": _l("a GIF image"),
    "bmp": _l("a BMP image"),
    "tiff": _l("a TIFF image"),
    "webp": _l("a WebP image"),
    "heic": _l("an HEIC photo"),
    "avif": _l("an AVIF image"),
    "jp2": _l("a JPEG 2000 image"),
    "psd": _l("a Photoshop file"),
    "video": _l("a video"),
    "html": _l("a web page (HTML)"),
    "svg": _l("an SVG drawing"),
    "xml": _l("an XML file"),
    "rtf": _l("a rich-text (RTF) document"),
    "zip": _l("a ZIP archive"),
    "rar": _l("a RAR archive"),
    "7z": _l("a 7-Zip archive"),
    "gzip": _l("a compressed (gzip) archive"),
    "docx": _l("a Word document"),
    "xlsx": _l("an Excel spreadsheet"),
    "pptx": _l("a PowerPoint presentation"),
    "ooxml": _l("a Microsoft Office document"),
    "ole": _l("an older Microsoft Office document"),
    "odf": _l("an OpenDocument file"),
    "ofd": _l("an OFD electronic document (such as an e-invoice)"),
    "exe": _l("a Windows program"),
    "elf": _l("a Linux program"),
    "macho": _l("a Mac or Java program"),
    "script": _l("a script (a small program)"),
    "lnk": _l("a Windows shortcut"),
    "jar": _l("a Java program"),
    "apk": _l("an Android app"),
}

_EXPECTED = {
    frozenset({"pdf", "jpeg", "png"}): _l("a PDF or an image (JPEG or PNG)"),
    frozenset({"pdf"}): _l("a PDF"),
    frozenset({"jpeg", "png"}): _l("an image (JPEG or PNG)"),
    frozenset({"jpeg"}): _l("a JPEG image"),
    frozenset({"png"}): _l("a PNG image"),
    frozenset({"pdf", "jpeg"}): _l("a PDF or a JPEG image"),
    frozenset({"pdf", "png"}): _l("a PDF or a PNG image"),
}

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"MZ", "exe"),
    (b"\x7fELF", "elf"),
    (b"\xfe\xed\xfa\xce", "macho"),
    (b"\xfe\xed\xfa\xcf", "macho"),
    (b"\xce\xfa\xed\xfe", "macho"),
    (b"\xcf\xfa\xed\xfe", "macho"),
    (b"\xca\xfe\xba\xbe", "macho"),  # also a Java class file
    (b"#!", "script"),
    (b"L\x00\x00\x00\x01\x14\x02\x00", "lnk"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"PK\x07\x08", "zip"),
    (b"Rar!\x1a\x07", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x1f\x8b", "gzip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"{\\rtf", "rtf"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"8BPS", "psd"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "jp2"),
    (b"\xff\x4f\xff\x51", "jp2"),
)
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_VIDEO_BRANDS = frozenset({b"isom", b"iso2", b"mp41", b"mp42", b"qt  ", b"M4V ", b"3gp4", b"3gp5", b"3gp6", b"avc1"})
_MARKUP_TAGS = (b"<html", b"<script", b"<body", b"<head", b"<iframe", b"<!doctype", b"<svg", b"<object", b"<embed")

_NAME_KINDS = {
    "pdf": "pdf", "jpg": "jpeg", "jpeg": "jpeg", "jpe": "jpeg", "jfif": "jpeg", "png": "png",
    "heic": "heic", "heif": "heic", "webp": "webp", "gif": "gif", "bmp": "bmp", "tif": "tiff", "tiff": "tiff",
    "html": "html", "htm": "html", "svg": "svg", "exe": "exe", "zip": "zip", "ofd": "ofd",
    "doc": "ole", "docx": "docx", "xls": "ole", "xlsx": "xlsx",
}  # fmt: skip
# Extensions a display name loses when the bytes turn out to be something else ("x.pdf.html" holding a PDF).
_FILE_EXTENSIONS = frozenset(_NAME_KINDS) | {
    "avif", "apk", "app", "asp", "aspx", "bat", "bin", "cmd", "com", "dll", "docm", "dotx", "gz", "jar", "js", "jsp",
    "lnk", "mjs", "msi", "odt", "ods", "php", "pps", "ppt", "pptx", "ps1", "psd", "rar", "rtf", "scr", "sh", "shtml",
    "tgz", "txt", "vbs", "xht", "xhtml", "xml", "xlsm", "7z",
}


def sniff(head: bytes) -> str | None:
    """The kind of file ``head`` (its first :data:`SNIFF_BYTES` bytes, or fewer) starts, from magic bytes only.

    A PDF must start with ``%PDF-`` at byte 0: readers that look further are exactly what polyglots exploit.
    Markup (a ``<`` and a tag name after optional whitespace and BOM) is "html", "svg" or "xml". ZIP-based
    documents all sniff as "zip" here; :func:`identify` looks inside. None: not a kind this module knows.
    """
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[4:8] == b"ftyp":
        return _ftyp_kind(head)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:2] == b"BM" and len(head) >= 14 and head[6:10] == b"\x00\x00\x00\x00":
        return "bmp"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b"\t\n\x0c\r ")
    if text[:1] == b"<" and (text[1:2].isalpha() or text[1:2] in (b"!", b"?")):
        lowered = text[:1024].lower()
        if b"<svg" in lowered:
            return "svg"
        if lowered.startswith(b"<?xml") and not any(tag in lowered for tag in _MARKUP_TAGS):
            return "xml"
        return "html"
    return None


def _ftyp_kind(head: bytes) -> str | None:
    """HEIF/AVIF images and MP4/QuickTime videos: an ISO base media ``ftyp`` box with its brands."""
    box_size = int.from_bytes(head[:4], "big")
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(box_size, len(head), 256) - 3, 4)}
    if brands & _AVIF_BRANDS:
        return "avif"
    if brands & _HEIC_BRANDS:
        return "heic"
    if brands & _VIDEO_BRANDS:
        return "video"
    return None


def identify(data: bytes) -> str | None:
    """:func:`sniff`, then a look at the member names of a ZIP (Office, OFD, Java and Android files are ZIPs).

    Only the archive's directory is read; nothing is decompressed.
    """
    kind = sniff(data[:SNIFF_BYTES])
    if kind != "zip":
        return kind
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return "zip"
    lowered = {n.lower() for n in names[:10_000]}
    if "androidmanifest.xml" in lowered or "classes.dex" in lowered:
        return "apk"
    if "meta-inf/manifest.mf" in lowered or any(n.endswith(".class") for n in lowered):
        return "jar"
    if "ofd.xml" in lowered:
        return "ofd"
    if "[content_types].xml" in lowered:
        for prefix, kind in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
            if any(n.startswith(prefix) for n in lowered):
                return kind
        return "ooxml"
    if "mimetype" in lowered:
        return "odf"
    return "zip"


# --- messages ------------------------------------------------------------------------------------------------------


def _mb(n_bytes: int) -> str:
    """Megabytes (MiB, as people mean them) with one decimal, rounded up so a file just over a limit never
    appears to equal it."""
    return format_decimal(math.ceil(n_bytes * 10 / MiB) / 10, format="#,##0.#")


def _expected(allowed: frozenset[str]) -> str:
    return str(_EXPECTED[allowed])


def _refuse_type(kind: str | None, claimed: str | None, allowed: frozenset[str]) -> UploadRefused:
    expected = _expected(allowed)
    if kind in EXECUTABLE:
        return UploadRefused("executable", _(
            "This file is %(what)s, not %(expected)s. Please upload a scan or photo of the document.",
            what=_WHAT[kind], expected=expected))
    if claimed in allowed:  # the name promised something allowed; the bytes are something else
        if kind is None:
            return UploadRefused("type_mismatch", _(
                "This file is named like %(claimed)s, but its contents are not %(claimed)s. It may be damaged or "
                "renamed. Please upload %(expected)s.", claimed=_WHAT[claimed], expected=expected))
        return UploadRefused("type_mismatch", _(
            "This file is named like %(claimed)s, but it is really %(what)s. Please upload %(expected)s.",
            claimed=_WHAT[claimed], what=_WHAT[kind], expected=expected))
    if kind is None:
        return UploadRefused("type_not_allowed", _(
            "We do not recognise this type of file. Please upload %(expected)s.", expected=expected))
    if kind == "heic" and "jpeg" in allowed:
        return UploadRefused("type_not_allowed", _(
            "This is an HEIC photo (the iPhone's default format), which we cannot read. Please upload it as JPEG: "
            "on the iPhone, set Settings › Camera › Formats to “Most Compatible”, or share the photo as JPEG."))
    if kind == "ofd" and "pdf" in allowed:
        return UploadRefused("type_not_allowed", _(
            "This is an OFD electronic document (such as an e-invoice). Please download the PDF version of it "
            "and upload that."))
    return UploadRefused("type_not_allowed", _(
        "This file is %(what)s. For this material, please upload %(expected)s.",
        what=_WHAT[kind], expected=expected))


def _polyglot() -> UploadRefused:
    return UploadRefused("type_mismatch", _(
        "This file is not a clean PDF: other data is hidden before or after it. Please save the document again "
        "(for example with “Print to PDF”) and upload the new file."))


def _image_too_large(width: int, height: int, limits: Limits) -> UploadRefused:
    return UploadRefused("image_too_large", _(
        "This image is %(width)s × %(height)s pixels. We accept at most %(side)s pixels on each side and "
        "%(megapixels)s megapixels in all. Please send a smaller photo, or scan at 300 dpi.",
        width=format_decimal(width), height=format_decimal(height), side=format_decimal(limits.max_image_side),
        megapixels=format_decimal(limits.max_pixels / 1_000_000, format="#,##0.#")))


def _image_unreadable() -> UploadRefused:
    return UploadRefused("image_unreadable", _(
        "We could not read this image; it may be damaged or incomplete. Please take the photo or make the scan "
        "again."))


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


# --- the check -----------------------------------------------------------------------------------------------------


def check_and_clean(
    data: bytes | BinaryIO,
    *,
    filename: str,
    allowed: set[str] | frozenset[str],
    limits: Limits,
    case_bytes_so_far: int = 0,
    scanner: Callable[[bytes], None] | None = None,
) -> CleanFile:
    """Check one uploaded file and return what to store, or raise :class:`UploadRefused` saying why not.

    ``data`` is the whole file or a stream positioned at its start (read up to ``max_file_bytes + 1``).
    ``allowed`` is the material's allow-list, a subset of :data:`SUPPORTED` ("jpg" means "jpeg").
    ``case_bytes_so_far`` is what the case already stores; the stored size of this file must fit beside it.
    ``scanner`` defaults to :func:`scan` with the app's configuration. ``filename`` is only sanitised for
    display; it never decides whether a file is accepted nor where it is stored.
    """
    allowed_kinds = normalise_allowed(allowed)
    kind: str | None = None
    size = 0
    started = time.perf_counter()
    try:
        if case_bytes_so_far >= limits.max_case_bytes:
            raise _case_quota(limits, case_bytes_so_far)
        raw = _read_capped(data, limits)
        size = len(raw)
        if not raw:
            raise UploadRefused("empty", _("The file is empty. Please choose the file again."))
        kind = identify(raw)
        if kind not in allowed_kinds:
            if kind is None and b"%PDF-" in raw[:1024]:
                raise _polyglot()
            raise _refuse_type(kind, _kind_from_name(filename), allowed_kinds)
        (scanner or scan)(raw)
        if kind == "pdf":
            pages = check_pdf(raw, limits)
            stored, width, height = raw, None, None
        else:
            pages = None
            stored, width, height = clean_image(raw, kind, limits)
        if case_bytes_so_far + len(stored) > limits.max_case_bytes:
            raise _case_quota(limits, case_bytes_so_far)
    except UploadRefused as refused:
        log.info("upload refused: %s (kind %s, %d bytes)", refused.code, kind or "unknown", size)
        raise
    log.debug("upload checked: %s, %d -> %d bytes in %.3f s", kind, size, len(stored),
              time.perf_counter() - started)
    return CleanFile(kind=kind, media_type=MEDIA_TYPES[kind], data=stored, pages=pages, width=width, height=height,
                     original_name=display_name(filename, kind), size=len(stored))


def normalise_allowed(allowed: set[str] | frozenset[str]) -> frozenset[str]:
    """The allow-list as kinds of :data:`SUPPORTED`. An unknown kind is a programming or catalog error."""
    kinds = frozenset("jpeg" if k.lower() == "jpg" else k.lower() for k in allowed)
    if not kinds or not kinds <= SUPPORTED:
        raise ValueError(f"cannot check uploads of {sorted(kinds - SUPPORTED) or 'no type'}; "
                         f"supported: {', '.join(sorted(SUPPORTED))}")
    return kinds


def _case_quota(limits: Limits, used: int) -> UploadRefused:
    return UploadRefused("case_quota", _(
        "This file would take the files of this application over their limit of %(limit)s MB in all "
        "(%(used)s MB are already used). Please remove a file you no longer need, or upload a smaller file.",
        limit=_mb(limits.max_case_bytes), used=_mb(used)))


def _read_capped(data: bytes | BinaryIO, limits: Limits) -> bytes:
    """The whole file, refusing it once it is longer than the cap: never more than cap + 1 bytes are read."""
    cap = limits.max_file_bytes
    if isinstance(data, bytes | bytearray | memoryview):
        if len(data) > cap:
            raise _too_large(limits)
        return bytes(data)
    buffer = bytearray()
    while len(buffer) <= cap:
        chunk = data.read(min(_READ_CHUNK, cap + 1 - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    if len(buffer) > cap:
        raise _too_large(limits)
    return bytes(buffer)


def _too_large(limits: Limits) -> UploadRefused:
    return UploadRefused("too_large", _(
        "This file is larger than %(limit)s MB, the limit for one file. Please scan at a lower resolution "
        "(300 dpi is enough) or split the document into several files.", limit=_mb(limits.max_file_bytes)))


# --- file names ----------------------------------------------------------------------------------------------------


def _split_extension(name: str) -> tuple[str, str]:
    stem, dot, ext = name.rpartition(".")
    if dot and stem and 1 <= len(ext) <= 8 and ext.isascii() and ext.isalnum():
        return stem, ext
    return name, ""


def _kind_from_name(filename: str) -> str | None:
    """What the name claims to be; used only to word a refusal, never to accept a file."""
    _stem, ext = _split_extension(_clean_text(filename))
    return _NAME_KINDS.get(ext.lower())


def _clean_text(filename: str | None) -> str:
    """The last path part of ``filename``, NFC, without control or format characters (e.g. the bidi overrides
    that make ``gpj.exe`` look like ``exe.jpg``), whitespace collapsed, without leading or trailing dots."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    kept = []
    for char in name:
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")
        elif not category.startswith("C"):
            kept.append(char)
    return " ".join("".join(kept).split()).strip(" .")


def display_name(filename: str | None, kind: str) -> str:
    """The name to show for a stored file: sanitised (see ``_clean_text``), at most 100 characters, and with
    the extension of what the file really is (``photo.jpg`` holding a PNG shows as ``photo.png``)."""
    stem, ext = _split_extension(_clean_text(filename))
    while ext and _NAME_KINDS.get(ext.lower()) != kind and ext.lower() in _FILE_EXTENSIONS:
        stem, ext = _split_extension(stem)  # "x.pdf.html" holding a PDF shows as "x.pdf"
    if ext and _NAME_KINDS.get(ext.lower()) == kind:
        wanted = "." + ext
    else:
        if ext:
            stem = f"{stem}.{ext}"  # "v1.2": part of the name, not an extension
        wanted = EXTENSIONS[kind]
    stem = stem.strip(" .") or _("file")
    return stem[: MAX_NAME_CHARS - len(wanted)].rstrip(" .") + wanted


# --- images --------------------------------------------------------------------------------------------------------

_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_PNG_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA", "I;16"})
# What Pillow needs to decode correctly; everything else (EXIF, XMP, comments, text, thumbnails, animation,
# maker notes, MPF) is dropped before Pillow parses anything, so its metadata parsers are never reached.
_PNG_KEPT_CHUNKS = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"iCCP", b"pHYs"})
_JPEG_KEPT_APP = {0xE0: b"JFIF\x00", 0xE2: b"ICC_PROFILE\x00", 0xEE: b"Adobe"}  # dpi, colours, CMYK/YCCK flag
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class _Stripped:
    """An image reduced to what decoding needs, with the size and orientation its header and EXIF state."""

    data: bytes
    width: int
    height: int
    orientation: int


def _exif_orientation(tiff: bytes) -> int:
    """The Orientation tag (1 to 8) of IFD0 of an EXIF block (a TIFF header onwards); 1 if absent or broken."""
    endian = {b"II*\x00": "<", b"MM\x00*": ">"}.get(tiff[:4])
    if endian is None:
        return 1
    try:
        (ifd,) = struct.unpack_from(endian + "I", tiff, 4)
        (count,) = struct.unpack_from(endian + "H", tiff, ifd)
        for entry in range(ifd + 2, ifd + 2 + 12 * min(count, 1000), 12):
            tag, type_, number = struct.unpack_from(endian + "HHI", tiff, entry)
            if tag == 0x0112 and type_ == 3 and number >= 1:  # Orientation, SHORT
                (value,) = struct.unpack_from(endian + "H", tiff, entry + 8)
                return value if value in _ORIENTATION else 1
    except struct.error:
        return 1
    return 1


def _strip_png(data: bytes) -> _Stripped | None:
    """The PNG with only the chunks decoding needs, up to IEND; None if its chunk structure is broken."""
    if data[8:16] != b"\x00\x00\x00\rIHDR" or len(data) < 33:
        return None
    width, height = struct.unpack(">II", data[16:24])
    kept, pos, orientation = [data[:8]], 8, 1
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            return None
        if kind in _PNG_KEPT_CHUNKS:
            kept.append(data[pos:end])
        elif kind == b"eXIf":
            orientation = _exif_orientation(data[pos + 8 : end - 4])
        pos = end
        if kind == b"IEND":
            break
    else:
        return None  # no IEND: cut short
    return _Stripped(b"".join(kept), width, height, orientation) if width and height else None


def _strip_jpeg(data: bytes) -> _Stripped | None:
    """The JPEG with only the segments decoding needs before its first scan, and everything from that scan on;
    None if its marker structure is broken.

    The size is the largest of the frame headers before the scan, so it is never less than what Pillow
    allocates (Pillow reads on past an end-of-image marker and keeps the last frame header it saw). Where
    Pillow would skip junk between markers this gives up.
    """
    kept, sizes, orientation = [data[:2]], [], 1
    pos, end = 2, len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x00, 0x01) or 0xD0 <= marker <= 0xD9:  # markers without a length: nothing to keep
            pos += 2
            continue
        if marker == 0xDA:  # start of scan: the compressed image data follows
            kept.append(data[pos:])
            break
        segment_end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if segment_end < pos + 4 or segment_end > end:
            return None
        body = data[pos + 4 : segment_end]
        if marker in _SOF_MARKERS:
            if len(body) < 5:
                return None
            height, width = struct.unpack(">HH", body[1:5])
            sizes.append((width, height))
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:  # APPn and comments
            if marker == 0xE1 and body.startswith(b"Exif\x00\x00") and orientation == 1:
                orientation = _exif_orientation(body[6:])
            prefix = _JPEG_KEPT_APP.get(marker)
            if prefix and body.startswith(prefix):
                kept.append(data[pos:segment_end])
        else:
            kept.append(data[pos:segment_end])
        pos = segment_end
    else:
        return None  # no scan
    if not sizes:
        return None
    width, height = max(sizes, key=lambda size: size[0] * size[1])
    return _Stripped(b"".join(kept), width, height, orientation) if width and height else None


def image_header_size(data: bytes, kind: str) -> tuple[int, int] | None:
    """(width, height) of a JPEG or PNG read from its header without decoding, or None if the header is broken."""
    stripped = _strip_jpeg(data) if kind == "jpeg" else _strip_png(data)
    return (stripped.width, stripped.height) if stripped else None


def _check_dimensions(width: int, height: int, limits: Limits) -> None:
    if width > limits.max_image_side or height > limits.max_image_side or width * height > limits.max_pixels:
        raise _image_too_large(width, height, limits)


def clean_image(data: bytes, kind: str, limits: Limits) -> tuple[bytes, int, int]:
    """Re-encode a JPEG or PNG upright, in sRGB and without metadata; return (bytes, width, height).

    Metadata segments are cut out before Pillow parses the file (so none of it can reach the output, Pillow's
    EXIF and text parsers are never exposed to it, and no Pillow warning depends on it); the orientation is read
    from EXIF here. Raises image_too_large before decoding when the header says the image is too large,
    image_unreadable when the file cannot be decoded.
    """
    stripped = _strip_jpeg(data) if kind == "jpeg" else _strip_png(data)
    if stripped is None:
        raise _image_unreadable()
    _check_dimensions(stripped.width, stripped.height, limits)
    try:
        with Image.open(BytesIO(stripped.data), formats=["JPEG" if kind == "jpeg" else "PNG"]) as opened:
            _check_dimensions(*opened.size, limits)  # Pillow read the header the same way
            opened.load()
            dpi = _sane_dpi(opened.info.get("dpi"))
            image = _for_output(_to_srgb(opened), kind)
            if stripped.orientation in _ORIENTATION:
                image = image.transpose(_ORIENTATION[stripped.orientation])
            image.info = {}  # the encoders fall back to info for ICC profiles and transparency
            width, height = image.size
            out = BytesIO()
            if kind == "jpeg":
                image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, **({"dpi": dpi} if dpi else {}))
            else:
                image.save(out, "PNG", compress_level=PNG_COMPRESS_LEVEL, **({"dpi": dpi} if dpi else {}))
            del image
    except UploadRefused:
        raise
    except Image.DecompressionBombError:
        raise _image_too_large(stripped.width, stripped.height, limits) from None
    except Exception as exc:  # Pillow signals a broken file with many exception types (OSError, SyntaxError, ...)
        log.info("image could not be decoded: %s", type(exc).__name__)  # messages may quote the file's bytes
        raise _image_unreadable() from None
    return out.getvalue(), width, height


def _sane_dpi(dpi: Any) -> tuple[int, int] | None:
    try:
        x, y = (round(float(v)) for v in dpi)
    except (TypeError, ValueError, OverflowError):
        return None
    return (x, y) if 1 <= x <= 10_000 and 1 <= y <= 10_000 else None


def _to_srgb(image: Image.Image) -> Image.Image:
    """Colours converted from an embedded ICC profile (Display P3 from iPhones, Adobe RGB or CMYK from scanners)
    to sRGB, so the profile can be dropped. Grey images keep their values; a broken profile is ignored."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        profile = ImageCms.ImageCmsProfile(BytesIO(icc))
        if image.mode != "CMYK" and "srgb" in ImageCms.getProfileDescription(profile).lower():
            return image
        srgb = ImageCms.createProfile("sRGB")  # per call: LittleCMS profiles are not for sharing across threads
        return ImageCms.profileToProfile(image, profile, srgb, outputMode="RGBA" if image.mode == "RGBA" else "RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        log.info("ICC profile ignored: %s", type(exc).__name__)
        return image


def _for_output(image: Image.Image, kind: str) -> Image.Image:
    """A mode the output format stores plainly: JPEG in L or RGB; PNG keeps its mode, except that palette
    images with transparency become RGBA (the transparency lives in the metadata we drop)."""
    if kind == "jpeg":
        return image if image.mode in ("L", "RGB") else image.convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        return image.convert("RGBA")
    if image.mode in _PNG_MODES:
        return image
    return image.convert("RGBA" if "A" in image.mode or "transparency" in image.info else "RGB")


# --- PDFs ----------------------------------------------------------------------------------------------------------

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


# --- virus scanning ------------------------------------------------------------------------------------------------

_CLAMD_CHUNK = 64 * 1024
_CLAMD_REPLY_MAX = 4096


def scan(data: bytes, *, config: Mapping[str, Any] | None = None) -> None:
    """Scan ``data`` with the configured virus scanner; raise UploadRefused ``scan_infected`` or, when a scanner
    is configured but cannot give a verdict (unreachable, timed out, error, unknown backend), ``scan_unavailable``:
    it fails closed.

    Settings, from ``config`` (default: the app's config), else the environment: ``PORTAL_SCAN_BACKEND``
    ``none`` (default) or ``clamd``; ``PORTAL_CLAMD_HOST`` (127.0.0.1), ``PORTAL_CLAMD_PORT`` (3310),
    ``PORTAL_CLAMD_TIMEOUT`` seconds for the whole scan (30). clamd's StreamMaxLength must be at least the
    largest file allowed, or every large file is refused as scan_unavailable.
    """
    settings = _scan_settings(config)
    backend = str(settings("SCAN_BACKEND", "none")).strip().lower()
    if backend in ("", "none"):
        return
    if backend != "clamd":
        log.error("PORTAL_SCAN_BACKEND=%r names no virus scanner; refusing uploads", backend)
        raise _scan_unavailable()
    try:
        host = str(settings("CLAMD_HOST", "127.0.0.1"))
        port = int(settings("CLAMD_PORT", 3310))
        timeout = float(settings("CLAMD_TIMEOUT", 30))
    except (TypeError, ValueError):
        log.error("PORTAL_CLAMD_PORT or PORTAL_CLAMD_TIMEOUT is not a number; refusing uploads")
        raise _scan_unavailable() from None
    try:
        reply = clamd_instream(data, host, port, timeout)
    except (OSError, TimeoutError) as exc:
        log.warning("virus scanner at %s:%d unavailable: %s", host, port, exc.__class__.__name__)
        raise _scan_unavailable() from None
    if reply.endswith(" FOUND"):
        signature = reply.removeprefix("stream:").removesuffix(" FOUND").strip()
        log.warning("virus scanner found %s in an upload", signature[:200])
        raise UploadRefused("scan_infected", _(
            "Our virus check found harmful content in this file, so it was not accepted. Please scan or "
            "photograph the paper document again and upload the new file."))
    if not reply.endswith(" OK"):
        log.warning("virus scanner answered %r; refusing the upload", reply[:200])
        raise _scan_unavailable()


def _scan_settings(config: Mapping[str, Any] | None) -> Callable[[str, Any], Any]:
    if config is None:
        config = current_app.config if has_app_context() else {}

    def setting(name: str, default: Any) -> Any:
        value = config.get(f"PORTAL_{name}")
        if value is None:
            value = os.environ.get(f"PORTAL_{name}")
        return default if value is None else value

    return setting


def _scan_unavailable() -> UploadRefused:
    return UploadRefused("scan_unavailable", _(
        "We cannot check files for viruses at the moment, so we cannot accept uploads. Please try again in a few "
        "minutes."))


def clamd_instream(data: bytes, host: str, port: int, timeout: float) -> str:
    """Send ``data`` to clamd with the INSTREAM command and return its reply ("stream: OK",
    "stream: <signature> FOUND", or "... ERROR"). ``timeout`` bounds the whole exchange; raises OSError."""
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("virus scan took too long")
        return left

    with socket.create_connection((host, port), timeout=remaining()) as sock:
        sock.settimeout(remaining())
        sock.sendall(b"zINSTREAM\x00")
        view = memoryview(data)
        for start in range(0, len(view), _CLAMD_CHUNK):
            chunk = view[start : start + _CLAMD_CHUNK]
            sock.settimeout(remaining())
            sock.sendall(struct.pack(">I", len(chunk)))
            sock.sendall(chunk)
        sock.settimeout(remaining())
        sock.sendall(struct.pack(">I", 0))
        reply = bytearray()
        while b"\x00" not in reply and len(reply) < _CLAMD_REPLY_MAX:
            sock.settimeout(remaining())
            received = sock.recv(1024)
            if not received:
                break
            reply += received
    return reply.split(b"\x00", 1)[0].decode("utf-8", "replace").strip()
