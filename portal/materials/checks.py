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
5. **OFD e-receipts** (only where the material takes them: the invoices of a claim) are read as a ZIP with hard
   limits and their XML with ``defusedxml`` (``ofd.py``), and stored byte for byte; the invoice data they carry
   is returned with the clean file (``CleanFile.invoice``) to prefill the claim's invoice rows.
6. **PDFs** are stored byte for byte when they pass. They must start with ``%PDF-`` and end at ``%%EOF``
   (nothing hidden before or after: no HTML in the first kilobyte, no archive appended), must parse with
   pypdf under tight resource limits, must not be encrypted, and must hold no JavaScript, no actions that run
   by themselves or launch, fetch or submit anything, no embedded files and no XFA forms; every object is
   walked, including those inside compressed object streams, and a byte scan outside stream data backs the
   walk up (it also sees objects that no cross-reference table lists). One exception, only where the material
   takes e-receipts (the invoices of a claim, whose allow-list holds OFD): a PDF e-invoice may carry embedded
   files if every one is an XML invoice data file (named ``….xml``, at most 2, each at most 1 MB inflated, parsed
   with ``defusedxml``: no DTD, entity or external reference); that data prefills the invoice row like an OFD's
   (``pdfs.check_e_invoice_pdf``). Any other attachment, and everything else above, is refused as for any PDF.

The rules live beside this module: ``images`` (4), ``ofd`` (5), ``pdfs`` (6), ``scanning`` (3) and ``refusals``
(what they share). Refusals raise :class:`UploadRefused` with a stable ``code`` and a message in the user's language
that says what was wrong and what to do. Nothing here logs a file name or file content (names may hold ID numbers,
S14).
"""

from __future__ import annotations

import re
import time
import unicodedata
import zipfile
from collections.abc import Callable
from io import BytesIO
from typing import BinaryIO

from ..core.translation import gettext as _
from ..core.translation import lazy_gettext as _l
from .images import clean_image
from .ofd import check_ofd, invoice_data
from .pdfs import _MARKUP_TAGS, _polyglot, check_e_invoice_pdf, check_pdf, scan_pdf_tokens, walk_pdf  # noqa: F401 (scan_pdf_tokens, walk_pdf: part of this module's interface)
from .refusals import CleanFile, Limits, MiB, UploadRefused, _mb, log
from .scanning import scan

SUPPORTED = frozenset({"pdf", "jpeg", "png", "ofd"})
ALLOWED = frozenset({"pdf", "jpeg", "png"})  # the default allow-list; a material may narrow or widen it
E_RECEIPTS = ALLOWED | {"ofd"}  # invoice materials of a claim also take OFD e-receipts (``ofd.py``)
MEDIA_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png", "ofd": "application/ofd"}
EXTENSIONS = {"pdf": ".pdf", "jpeg": ".jpg", "png": ".png", "ofd": ".ofd"}
EXECUTABLE = frozenset({"exe", "elf", "macho", "script", "lnk", "jar", "apk"})
SNIFF_BYTES = 4096  # sniff() needs at most this many leading bytes
MAX_NAME_CHARS = 100
_READ_CHUNK = MiB




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
    frozenset({"pdf", "jpeg", "png", "ofd"}): _l("a PDF, an image (JPEG or PNG) or an OFD e-receipt"),
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
        invoice = None
        if kind == "pdf" and "ofd" in allowed_kinds:  # a claim's invoice: its XML invoice data may be attached
            pages, data_files = check_e_invoice_pdf(raw, limits)
            invoice = invoice_data(data_files) if data_files else None
            stored, width, height = raw, None, None
        elif kind == "pdf":
            pages = check_pdf(raw, limits)
            stored, width, height = raw, None, None
        elif kind == "ofd":
            ofd = check_ofd(raw)
            pages, invoice = ofd.pages, ofd.invoice
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
                     original_name=display_name(filename, kind), size=len(stored), invoice=invoice)


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
