"""Upload test files, made in code: no binary fixture is kept in the repository.

Each function returns the bytes of one file. Markers (``MARKER``…) are byte strings a test can look for in
the cleaned output to prove that metadata did not survive.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from functools import cache

from PIL import ExifTags, Image, ImageCms, PngImagePlugin
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from tests.integrations.clamd_server import VIRUS_MARKER  # what the local clamd flags

MARKER_GPS_TEXT = b"MARKER-EXIF-DESCRIPTION"
MARKER_XMP = b"MARKER-XMP-PACKET"
MARKER_COMMENT = b"MARKER-JPEG-COMMENT"
MARKER_PNG_TEXT = b"MARKER-PNG-TEXT"
MARKER_PNG_ITXT = b"MARKER-PNG-ITXT"


# --- images --------------------------------------------------------------------------------------------------------


def _save(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def _picture(size: tuple[int, int]) -> Image.Image:
    """An RGB picture with some structure (gradients and a black top-left block), so that orientation and colours
    can be checked after re-encoding."""
    width, height = size
    gradient = Image.linear_gradient("L")
    image = Image.merge("RGB", (gradient.resize(size), Image.new("L", size, 120), gradient.rotate(90).resize(size)))
    image.paste((0, 0, 0), (0, 0, width // 4, height // 4))
    return image


def jpeg(size: tuple[int, int] = (64, 48), mode: str = "RGB", **params) -> bytes:
    return _save(_picture(size).convert(mode), "JPEG", quality=90, **params)


def png(size: tuple[int, int] = (64, 48), mode: str = "RGB", **params) -> bytes:
    return _save(_picture(size).convert(mode), "PNG", **params)


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def other_profile() -> bytes:
    """An RGB profile that does not call itself sRGB, so the checks convert the colours through it."""
    return srgb_profile().replace("sRGB".encode("utf-16-be"), "Test".encode("utf-16-be"))


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.ImageDescription] = MARKER_GPS_TEXT.decode()
    exif[ExifTags.Base.Make] = "TestPhone"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (39.0, 54.0, 27.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (116.0, 23.0, 50.0),
    }
    return exif


def jpeg_with_metadata(size: tuple[int, int] = (80, 40), orientation: int = 6, icc: bytes | None = None) -> bytes:
    """A phone photo: EXIF with GPS position and an orientation, XMP, a comment and an ICC profile."""
    return _save(_picture(size), "JPEG", quality=90, exif=gps_exif(orientation), xmp=b"<x:xmpmeta>" + MARKER_XMP
                 + b"</x:xmpmeta>", comment=MARKER_COMMENT, icc_profile=icc or srgb_profile(), dpi=(300, 300))


def png_with_metadata(size: tuple[int, int] = (64, 48)) -> bytes:
    """A PNG with tEXt, zTXt and iTXt chunks, an eXIf chunk with GPS, and an ICC profile."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", MARKER_PNG_TEXT.decode())
    info.add_text("Author", MARKER_PNG_TEXT.decode(), zip=True)
    info.add_itxt("Description", MARKER_PNG_ITXT.decode(), lang="zh", tkey="说明")
    return _save(_picture(size), "PNG", pnginfo=info, exif=gps_exif(), icc_profile=other_profile(), dpi=(150, 150))


def png_with_orientation(orientation: int) -> bytes:
    return _save(_picture((80, 40)), "PNG", exif=gps_exif(orientation))


def jpeg_with_corrupt_exif() -> bytes:
    """An EXIF block whose first directory claims more entries than it holds (Pillow warns about such files)."""
    data = jpeg()
    segment = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff" + b"\x00" * 20
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(segment) + 2) + segment + data[2:]


def png_palette_with_transparency() -> bytes:
    image = _picture((32, 32)).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return _save(image, "PNG", transparency=0)


def png_16bit_grey() -> bytes:
    return _save(Image.new("I;16", (20, 10), 40_000), "PNG")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@cache
def png_bomb(side: int = 20_000) -> bytes:
    """A valid PNG of side × side black pixels (1 bit each): some 50 KB on disk, 400 MB once Pillow decodes it."""
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed pixels
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row * 1000) for _ in range(side // 1000)]
    parts.append(compressor.compress(row * (side % 1000)))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(parts))
            + _chunk(b"IEND", b""))


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims width × height (a JPEG decompression bomb's header)."""
    data = bytearray(jpeg((16, 16)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def jpeg_with_second_frame_header(width: int, height: int) -> bytes:
    """A small JPEG with an end-of-image marker and a second, huge frame header before its scan: Pillow reads on
    past the marker and takes the second size."""
    data = jpeg((16, 16))
    sof = data.index(b"\xff\xc0")
    length = int.from_bytes(data[sof + 2 : sof + 4], "big")
    frame = bytearray(data[sof : sof + 2 + length])
    frame[5:9] = struct.pack(">HH", height, width)
    return data[:sof] + data[sof : sof + 2 + length] + b"\xff\xd9" + bytes(frame) + data[sof + 2 + length :]


def png_claiming(width: int, height: int) -> bytes:
    data = bytearray(png((16, 16)))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def truncated(data: bytes) -> bytes:
    return data[: len(data) * 2 // 3]


# --- PDFs ----------------------------------------------------------------------------------------------------------


def _write(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    return _write(writer)


def reportlab_pdf() -> bytes:
    """A real-looking document: text in a standard and a CID font, a drawn table, an image, a link."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    page = canvas.Canvas(out)
    for number in range(3):
        page.setFont("STSong-Light", 14)
        page.drawString(72, 760, f"门诊收费票据 第 {number + 1} 页")
        page.setFont("Helvetica", 10)
        for line in range(30):
            page.drawString(72, 730 - line * 20, f"Item {line}: 123.45 yuan")
        page.drawImage(ImageReader(io.BytesIO(jpeg((120, 80)))), 400, 600, 120, 80)
        page.linkURL("https://example.org/verify", (72, 40, 200, 60))
        page.showPage()
    page.save()
    return out.getvalue()


def pdf_with_open_action_js() -> bytes:
    """JavaScript run on opening: the catalog's /OpenAction, made with pypdf's writer."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.root_object[NameObject("/OpenAction")] = writer._add_object(JavaScript("app.alert('hi');"))
    return _write(writer)


def pdf_with_document_js() -> bytes:
    """Document-level JavaScript in the /Names tree (what pypdf's add_open_action writes)."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_open_action(JavaScript("app.alert('hi');"))
    return _write(writer)


def pdf_with_attachment() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_attachment("invoice.xml", b"<invoice/>")
    return _write(writer)


def pdf_encrypted(user_password: str = "secret") -> bytes:  # noqa: S107 (a test file's password)
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt(user_password, "owner", algorithm="AES-256")
    return _write(writer)


def pdf_with_link(action: DictionaryObject) -> bytes:
    """One page with a link annotation that runs ``action`` when clicked."""
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    annotation = DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"),
        NameObject("/Subtype"): NameObject("/Link"),
        NameObject("/Rect"): ArrayObject([]),
        NameObject("/A"): action,
    })
    page[NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])
    return _write(writer)


def uri_action(uri: str = "https://example.org/") -> DictionaryObject:
    return DictionaryObject({NameObject("/S"): NameObject("/URI"), NameObject("/URI"): TextStringObject(uri)})


HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"


def raw_pdf(*objects: bytes, between: bytes = b"", after: bytes = b"\n", head: bytes = HEADER) -> bytes:
    """A PDF written by hand: objects 1, 2, … in order with a classic cross-reference table. ``between`` goes
    after the objects but is listed nowhere; ``after`` follows ``%%EOF``."""
    out = bytearray(head)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    out += between
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF" % (len(objects) + 1, xref)
    return bytes(out) + after


def raw_pdf_page_count(count: int) -> bytes:
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(count))
    pages = [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * count
    return raw_pdf(CATALOG, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count), *pages)


def pdf_hand_js() -> bytes:
    """The classic: /OpenAction pointing at a JavaScript action, written by hand."""
    return raw_pdf(b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>", PAGES, PAGE,
                   b"<< /Type /Action /S /JavaScript /JS (app.alert\\(1\\)) >>")


def pdf_escaped_js() -> bytes:
    """/JS spelt with a #xx escape (/J#53), which a naive byte scan misses."""
    return raw_pdf(b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>", PAGES, PAGE,
                   b"<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>")


def pdf_page_aa_js() -> bytes:
    """JavaScript that runs when page 1 opens (a page's additional actions)."""
    return raw_pdf(CATALOG, PAGES,
                   b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /AA << /O 4 0 R >> >>",
                   b"<< /S /JavaScript /JS (this.print\\(\\)) >>")


def pdf_launch() -> bytes:
    return raw_pdf(b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /Launch /F (cmd.exe) >> >>", PAGES, PAGE)


def pdf_open_uri() -> bytes:
    """An /OpenAction that fetches a web address as soon as the file is opened (phones home)."""
    return raw_pdf(b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /URI /URI (https://example.org/t) >> >>",
                   PAGES, PAGE)


def pdf_open_destination() -> bytes:
    """A harmless /OpenAction: show page 1, fitted to the window."""
    return raw_pdf(b"<< /Type /Catalog /Pages 2 0 R /OpenAction [3 0 R /Fit] >>", PAGES, PAGE)


def pdf_xfa() -> bytes:
    return raw_pdf(b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [] /XFA 4 0 R >> >>", PAGES, PAGE,
                   b"<< /Length 0 >>\nstream\n\nendstream")


def pdf_orphan_js() -> bytes:
    """A JavaScript object that no cross-reference table lists: only the byte scan can see it."""
    return raw_pdf(CATALOG, PAGES, PAGE, between=b"9 0 obj\n<< /S /JavaScript /JS (x) >>\nendobj\n")


def pdf_js_in_object_stream() -> bytes:
    """/OpenAction → object 5, which sits compressed in the object stream 4 and so is invisible to a byte scan;
    the cross-reference table is itself a (binary) stream, as object streams require."""
    js = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
    index = b"5 0 "
    packed = zlib.compress(index + js)
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>",
        2: PAGES,
        3: PAGE,
        4: b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
           % (len(index), len(packed), packed),
    }
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, body in objects.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    offsets[6] = len(out)
    rows = [struct.pack(">BIH", 0, 0, 65535)]
    rows += [struct.pack(">BIH", 1, offsets[n], 0) for n in (1, 2, 3, 4)]
    rows += [struct.pack(">BIH", 2, 4, 0), struct.pack(">BIH", 1, offsets[6], 0)]
    table = b"".join(rows)
    out += (b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n%s\nendstream\nendobj\n"
            % (len(table), table))
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[6]
    return bytes(out)


def pdf_with_zip_appended() -> bytes:
    return pdf() + zip_archive({"payload.html": b"<script>alert(1)</script>"})


def pdf_with_junk_before() -> bytes:
    return b"GIF89a junk that some readers skip\n" + pdf()


def pdf_with_html_head() -> bytes:
    return raw_pdf(CATALOG, PAGES, PAGE, head=b"%PDF-1.7\n<html><body><script>alert(1)</script></body></html>\n")


# --- not documents -------------------------------------------------------------------------------------------------


def html_with_pdf_inside() -> bytes:
    """An HTML page that also carries a PDF header, the way polyglots fool lenient PDF readers."""
    return b"<html><body><script>alert(document.cookie)</script>\n" + pdf()


def html_page() -> bytes:
    return b"<!DOCTYPE html>\n<html><head><title>x</title></head><body><script>alert(1)</script></body></html>\n"


def svg_with_script() -> bytes:
    return b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n'


def windows_exe() -> bytes:
    dos = bytearray(b"MZ" + b"\x90\x00\x03" + b"\x00" * 55 + struct.pack("<I", 0x80))
    dos += b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21This program cannot be run in DOS mode.\r\r\n$"
    dos += b"\x00" * (0x80 - len(dos))
    return bytes(dos) + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 200


def linux_elf() -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\x3e\x00" + b"\x00" * 100


def zip_archive(members: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in (members or {"readme.txt": b"hello"}).items():
            archive.writestr(name, body)
    return out.getvalue()


def word_document() -> bytes:
    return zip_archive({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


def ofd_invoice() -> bytes:
    return zip_archive({"OFD.xml": b"<ofd:OFD/>", "Doc_0/Document.xml": b"<ofd:Document/>"})


def jpeg_with_zip_appended() -> bytes:
    """GIFAR-style: a valid JPEG followed by a ZIP, which ZIP readers (and Java, once) open from the end."""
    return jpeg() + zip_archive({"evil.class": b"\xca\xfe\xba\xbe"})


def heic_photo() -> bytes:
    """The start of an iPhone HEIC photo: an ISO base media ftyp box with HEIF brands."""
    return struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic" + b"\x00" * 200


def with_virus_marker(data: bytes) -> bytes:
    return data + VIRUS_MARKER


# --- PDF e-invoices carrying their XML invoice data (the invoices of a claim) ----------------------------------------


def e_invoice_pdf(*files: tuple[str, bytes], compress: bool = True, annotation: tuple[str, bytes] | None = None,
                  javascript: bool = False) -> bytes:
    """A one-page PDF with ``files`` (name, bytes) as document-level embedded files, as pypdf's writer attaches them
    (/Names /EmbeddedFiles, a /Filespec with /F and /UF, an /EmbeddedFile stream), Flate-compressed as issuers
    store them when ``compress``; ``annotation`` adds a file attachment annotation instead, ``javascript`` an
    /OpenAction script."""
    from pypdf.generic import NumberObject, StreamObject

    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    for name, body in files:
        writer.add_attachment(name, body)
    if annotation is not None:
        name, body = annotation
        stream = StreamObject()
        stream.set_data(body)
        stream[NameObject("/Type")] = NameObject("/EmbeddedFile")
        spec = DictionaryObject({NameObject("/Type"): NameObject("/Filespec"), NameObject("/F"): TextStringObject(name),
                                 NameObject("/EF"): DictionaryObject({NameObject("/F"): writer._add_object(stream)})})
        note = DictionaryObject({NameObject("/Type"): NameObject("/Annot"),
                                 NameObject("/Subtype"): NameObject("/FileAttachment"),
                                 NameObject("/Rect"): ArrayObject([NumberObject(0), NumberObject(0), NumberObject(10),
                                                                   NumberObject(10)]),
                                 NameObject("/FS"): writer._add_object(spec)})
        page[NameObject("/Annots")] = ArrayObject([writer._add_object(note)])
    if javascript:
        writer.root_object[NameObject("/OpenAction")] = writer._add_object(JavaScript("app.alert('hi');"))
    if compress:  # the embedded files' streams Flate-encoded in place (the writer keeps its objects in _objects)
        for index, obj in enumerate(writer._objects):
            if isinstance(obj, StreamObject) and obj.get("/Type") == "/EmbeddedFile":
                writer._objects[index] = obj.flate_encode()
    return _write(writer)


XML_BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>')
XML_EXTERNAL_ENTITY = (b'<?xml version="1.0"?><!DOCTYPE EInvoice [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                       b"<EInvoice><EInvoiceNumber>&e;</EInvoiceNumber></EInvoice>")
