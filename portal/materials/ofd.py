"""OFD (GB/T 33190) electronic documents, such as 医疗收费电子票据: read with hard limits, and their invoice data.

An OFD file is a ZIP of XML parts (plus fonts, images and signatures). Nothing the archive says about itself is
trusted; :func:`check_ofd` refuses, with :class:`UploadRefused`, any file that

- has more than :data:`MAX_ENTRIES` parts, or a part whose name is not a plain relative path (absolute, ``..``,
  a backslash, a drive letter, control characters), a name given twice, a symbolic link, an encrypted part, or
  a compression method other than stored or deflated;
- inflates beyond :data:`MAX_PART_BYTES` for one part or :data:`MAX_TOTAL_BYTES` in all, or inflates more than
  :data:`MAX_RATIO` times its compressed size (a ZIP bomb). The parts are inflated through a capped read, so the
  sizes the archive declares decide nothing: reading stops at the cap whatever they say;
- holds a program inside (the kinds ``checks`` refuses as executable);
- has an XML part that does not parse with ``defusedxml``: a DTD, an entity declaration or an external
  reference anywhere is refused before any entity is expanded or anything is fetched;
- points outside itself (a location with a scheme, ``http:``, ``file:``, ``C:``), or lacks the entry ``OFD.xml``
  whose ``DocBody/DocRoot`` names a document part the archive holds.

The file passes unchanged (it is stored byte for byte, like a PDF); only its page count and the invoice data are
read. :func:`invoice_data` reads the data an e-receipt carries as XML — the 财政电子票据 data file and custom tags
(``EInvoiceNumber``, ``IssueDate``, ``InvoicingPartyName``, ``TotalAmount`` …), the tax e-invoice's
(``InvoiceNo``, ``IssueDate``, ``SellerName``, ``TotalTax-includedAmount``), and name/value pairs labelled in
Chinese (票据号码, 开票日期, 开票单位, 金额合计, 个人自付, 个人自费). It only prefills the claim's invoice rows: the
claimant checks them against the receipt and confirms by submitting.
"""

from __future__ import annotations

import re
import stat
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ..core.translation import gettext as _
from .refusals import MiB, UploadRefused

MAX_ENTRIES = 1000
MAX_PART_BYTES = 20 * MiB
MAX_TOTAL_BYTES = 50 * MiB
MAX_RATIO = 100  # inflated ÷ compressed, for parts larger than RATIO_FROM
RATIO_FROM = 256 * 1024
MAX_XML_BYTES = 5 * MiB  # an XML part larger than this is not parsed (an OFD's XML parts are small)
_CHUNK = 64 * 1024
_SCHEME_RE = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.\-]*:")
_LOCATION_TAGS = frozenset({"DocRoot", "BaseLoc", "FileLoc", "MediaFile", "FontFile", "Signatures", "CustomTags",
                            "Attachments", "Extensions", "Annotations", "PublicRes", "DocumentRes", "Content",
                            "SignedValue", "SignedInfo", "Seal"})
_LOCATION_ATTRIBUTES = frozenset({"BaseLoc", "FileLoc", "Loc"})


@dataclass(frozen=True)
class OfdFile:
    pages: int | None
    invoice: dict[str, str] | None  # the invoice row read from the file (``invoice_data``), if it carries one


def _bad(code: str = "ofd_malformed") -> UploadRefused:
    return UploadRefused(code, _("This OFD file is damaged or not a valid OFD document, so it cannot be accepted. "
                                 "Please download the e-receipt again from where it was issued, or upload its PDF "
                                 "version."))


def _unsafe() -> UploadRefused:
    return UploadRefused("ofd_unsafe", _("This OFD file contains parts that are not allowed (links outside the file, "
                                         "file paths that lead elsewhere, or hidden instructions), so it cannot be "
                                         "accepted. Please download the e-receipt again from where it was issued, or "
                                         "upload its PDF version."))


def _bomb() -> UploadRefused:
    return UploadRefused("ofd_too_large", _("This OFD file unpacks to far more data than an e-receipt holds, so it "
                                            "cannot be accepted. Please download the e-receipt again from where it "
                                            "was issued, or upload its PDF version."))


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _plain_name(name: str) -> str:
    """The part's name if it is a plain relative path inside the archive; refuse anything else."""
    if not name or "\\" in name or "\x00" in name or any(ord(c) < 32 for c in name):
        raise _unsafe()
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise _unsafe()
    parts = name.rstrip("/").split("/")
    if any(p in ("..", ".") for p in parts):
        raise _unsafe()
    return name


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    """The part's bytes, inflated a chunk at a time and refused once past its caps (the declared size and the
    CRC are checked by ``zipfile`` at the end; a lie about either is a damaged file)."""
    cap = min(MAX_PART_BYTES, budget)
    out = bytearray()
    with archive.open(info) as part:
        while True:
            chunk = part.read(_CHUNK)
            if not chunk:
                break
            out += chunk
            if len(out) > cap:
                raise _bomb()
            if len(out) > RATIO_FROM and len(out) > MAX_RATIO * max(info.compress_size, 1):
                raise _bomb()
    return bytes(out)


def _parse(data: bytes) -> Element:
    if len(data) > MAX_XML_BYTES:
        raise _bomb()
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise _unsafe() from None
    except (ParseError, ValueError, UnicodeDecodeError):
        raise _bad() from None
    for element in root.iter():
        if _local(element.tag) in _LOCATION_TAGS and _SCHEME_RE.match(element.text or ""):
            raise _unsafe()
        if any(_local(k) in _LOCATION_ATTRIBUTES and _SCHEME_RE.match(v or "") for k, v in element.attrib.items()):
            raise _unsafe()
    return root


def _entries(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise _bomb()
    seen: set[str] = set()
    declared = 0
    for info in infos:
        name = _plain_name(info.filename)
        folded = name.lower().rstrip("/")
        if folded in seen:
            raise _unsafe()
        seen.add(folded)
        mode = info.external_attr >> 16
        if info.create_system == 3 and mode and stat.S_ISLNK(mode):
            raise _unsafe()
        if info.flag_bits & 0x1:
            raise _bad()
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _bad()
        declared += info.file_size
        if info.file_size > MAX_PART_BYTES or declared > MAX_TOTAL_BYTES:
            raise _bomb()
    return infos


def check_ofd(data: bytes) -> OfdFile:
    """Check an OFD file as the module says; its page count and invoice data, or :class:`UploadRefused`."""
    from .checks import EXECUTABLE, sniff

    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise _bad() from None
    with archive:
        infos = _entries(archive)
        parts: dict[str, bytes] = {}
        budget = MAX_TOTAL_BYTES
        try:
            for info in infos:
                if info.is_dir():
                    continue
                body = _read_capped(archive, info, budget)
                budget -= len(body)
                if sniff(body[:4096]) in EXECUTABLE:
                    raise _unsafe()
                parts[info.filename.lstrip("/")] = body
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError,
                RuntimeError):
            raise _bad() from None
    trees = {name: _parse(body) for name, body in parts.items() if name.lower().endswith(".xml")}
    entry = next((trees[n] for n in trees if n.lower() == "ofd.xml"), None)
    if entry is None or _local(entry.tag) != "OFD":
        raise _bad()
    roots = [(e.text or "").strip().lstrip("/") for e in entry.iter() if _local(e.tag) == "DocRoot"]
    documents = [trees.get(r) for r in roots if r]
    if not documents or any(d is None or _local(d.tag) != "Document" for d in documents):
        raise _bad()
    pages = sum(1 for d in documents for e in d.iter() if _local(e.tag) == "Page")
    return OfdFile(pages=pages or None, invoice=invoice_data(list(trees.values())))


# --- the invoice data ------------------------------------------------------------------------------------------

# element names and Chinese labels of each value, as the e-receipt and e-invoice data files write them
_NAMES: dict[str, tuple[str, ...]] = {
    "number": ("EInvoiceNumber", "InvoiceNumber", "InvoiceNo", "EIid", "票据号码", "发票号码"),
    "issued_on": ("IssueDate", "IssuTime", "InvoiceDate", "开票日期"),
    "institution": ("InvoicingPartyName", "SellerName", "开票单位", "收款单位"),
    "total": ("TotalAmount", "TotalTax-includedAmount", "TotalTaxIncludedAmount", "金额合计", "合计金额", "价税合计"),
    "self_pay": ("个人自付",),
    "self_funded": ("个人自费",),
    "kind": ("EInvoiceName", "InvoiceName", "票据名称"),
}
_LOOKUP = {name.lower(): key for key, names in _NAMES.items() for name in names}
_PAIR_NAMES = frozenset({"name", "infoname", "itemname", "key", "label"})
_PAIR_VALUES = frozenset({"value", "infovalue", "itemvalue"})
_NUMBER_RE = re.compile(r"^[0-9A-Za-z\-]{4,64}$")
_DATE_RE = re.compile(r"(\d{4})\s*[-年/.]?\s*(\d{1,2})\s*[-月/.]?\s*(\d{1,2})")


def _found(roots: list[Element]) -> dict[str, str]:
    found: dict[str, str] = {}
    for root in roots:
        for element in root.iter():
            key = _LOOKUP.get(_local(element.tag).lower())
            text = (element.text or "").strip()
            if key and text and key not in found:
                found[key] = text
            children = list(element)
            names = [c for c in children if _local(c.tag).lower() in _PAIR_NAMES]
            values = [c for c in children if _local(c.tag).lower() in _PAIR_VALUES]
            if len(names) == 1 and len(values) == 1:
                key = _LOOKUP.get((names[0].text or "").strip().rstrip("：:").lower())
                value = (values[0].text or "").strip()
                if key and value and key not in found:
                    found[key] = value
    return found


def _money(text: str | None) -> str | None:
    cleaned = re.sub(r"[,，¥￥元\s]", "", text or "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value >= Decimal("100000000") or value != value.quantize(Decimal("0.01")):
        return None
    return f"{value.quantize(Decimal('0.01'))}"


def _day(text: str | None) -> str | None:
    match = _DATE_RE.search(text or "")
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return None


def invoice_data(roots: list[Element]) -> dict[str, str] | None:
    """The invoice row an e-receipt's XML carries (keys of the claim form's invoice columns), or None when it
    carries no invoice number or no total. Values that do not read as what they should be are left out."""
    found = _found(roots)
    number = re.sub(r"\s", "", found.get("number", ""))
    total = _money(found.get("total"))
    if not _NUMBER_RE.match(number) or total is None:
        return None
    row = {"number": number, "total": total}
    issued = _day(found.get("issued_on"))
    if issued:
        row["issued_on"] = issued
    institution = " ".join(found.get("institution", "").split())[:100]
    if institution:
        row["institution"] = institution
    for key in ("self_pay", "self_funded"):
        amount = _money(found.get(key))
        if amount is not None:
            row[key] = amount
    kind = found.get("kind", "")
    if "住院" in kind:
        row["visit_type"] = "住院"
    elif "门诊" in kind or "急诊" in kind:
        row["visit_type"] = "急诊" if "急诊" in kind and "门诊" not in kind else "门诊"
    return row
