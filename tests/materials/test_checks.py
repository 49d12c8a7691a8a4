"""Content checks for uploads (S9, S18): every refusal code, what is accepted, what the cleaned copy lacks,
decompression bombs, PDFs with active content, polyglots, file names, and the clamd scan hook."""

from __future__ import annotations

import io
import re
import struct
import time
from collections.abc import Iterator
from functools import partial

import pytest
from flask import Flask
from flask_babel import Babel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile, ImageOps
from pypdf import PdfReader
from pypdf.actions import JavaScript
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from portal.core.errors import DomainError, ValidationFailed
from portal.materials import pdfs
from portal.materials.checks import (
    ALLOWED,
    CleanFile,
    Limits,
    MiB,
    UploadRefused,
    check_and_clean,
    display_name,
    scan,
    scan_pdf_tokens,
    sniff,
    walk_pdf,
)
from tests.integrations.clamd_server import FakeClamd, closed_port, running_clamd
from tests.materials import fixtures as fx

pytestmark = pytest.mark.no_db

LIMITS = Limits()


def clean(data, filename: str = "upload", allowed=ALLOWED, limits: Limits = LIMITS, **kwargs) -> CleanFile:
    return check_and_clean(data, filename=filename, allowed=allowed, limits=limits, **kwargs)


def refused(data, filename: str = "upload", allowed=ALLOWED, limits: Limits = LIMITS, **kwargs) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        clean(data, filename, allowed, limits, **kwargs)
    assert caught.value.message, "every refusal says why"
    return caught.value


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def png_chunk_types(data: bytes) -> list[bytes]:
    types, pos = [], 8
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        types.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return types


# --- the refusal and its shape -------------------------------------------------------------------------------------


def test_refusal_is_a_validation_failure_with_a_stable_code_and_status():
    error = refused(b"", "empty.pdf")
    assert isinstance(error, ValidationFailed) and isinstance(error, DomainError)
    assert error.code == "empty"
    assert error.status == 422
    assert error.reasons == [(None, error.message)]
    assert refused(b"x" * 11, limits=Limits(max_file_bytes=10)).status == 413


def test_limits_refuse_nonsense_and_pixel_caps_pillow_would_warn_about():
    with pytest.raises(ValueError):
        Limits(max_pages=0)
    with pytest.raises(ValueError, match="MAX_IMAGE_PIXELS"):
        Limits(max_pixels=Image.MAX_IMAGE_PIXELS + 1)


def test_allow_list_takes_jpg_for_jpeg_and_rejects_types_it_cannot_check():
    assert clean(fx.jpeg(), allowed={"jpg"}).kind == "jpeg"
    with pytest.raises(ValueError, match="gif"):
        clean(fx.jpeg(), allowed={"jpeg", "gif"})
    with pytest.raises(ValueError):
        clean(fx.jpeg(), allowed=set())


# --- sizes ---------------------------------------------------------------------------------------------------------


def test_empty_file_is_refused():
    assert refused(b"", "scan.pdf").code == "empty"


def test_file_over_the_cap_is_refused_with_the_cap_in_megabytes():
    limits = Limits(max_file_bytes=int(1.5 * MiB))
    error = refused(fx.pdf() + b" " * int(1.5 * MiB), "big.pdf", limits=limits)
    assert error.code == "too_large"
    assert "1.5 MB" in error.message


def test_file_exactly_at_the_cap_is_read_whole():
    data = fx.pdf()
    assert clean(data, limits=Limits(max_file_bytes=len(data))).size == len(data)


class EndlessStream:
    """A stream that never ends, counting what is read from it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "the checks must never read without a bound"
        self.read_bytes += size
        return b"\0" * size


def test_a_stream_is_read_only_up_to_one_byte_past_the_cap():
    stream = EndlessStream()
    assert refused(stream, limits=Limits(max_file_bytes=3 * MiB)).code == "too_large"
    assert stream.read_bytes == 3 * MiB + 1


def test_a_stream_within_the_cap_is_accepted():
    assert clean(io.BytesIO(fx.pdf()), "scan.pdf").kind == "pdf"


def test_case_quota_counts_what_the_case_already_stores():
    data = fx.pdf()
    limits = Limits(max_case_bytes=10_000)
    assert clean(data, limits=limits, case_bytes_so_far=10_000 - len(data)).size == len(data)
    error = refused(data, limits=limits, case_bytes_so_far=10_000 - len(data) + 1)
    assert error.code == "case_quota"
    assert refused(data, limits=Limits(), case_bytes_so_far=50 * MiB).code == "case_quota"


def test_case_quota_message_names_the_limit_and_the_use():
    error = refused(fx.pdf(), limits=Limits(), case_bytes_so_far=50 * MiB - 100)
    assert "50 MB" in error.message and "in all" in error.message


# --- types from the bytes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n", "pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"MZ\x90\x00", "exe"),
        (b"\x7fELF\x02\x01", "elf"),
        (b"\xcf\xfa\xed\xfe", "macho"),
        (b"#!/bin/sh\n", "script"),
        (b"PK\x03\x04", "zip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
        (b"GIF89a", "gif"),
        (b"II*\x00", "tiff"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (fx.heic_photo()[:64], "heic"),
        (struct.pack(">I", 24) + b"ftypavif\x00\x00\x00\x00mif1avif", "avif"),
        (b"\xef\xbb\xbf  \n<!DOCTYPE html><html>", "html"),
        (b"<script>alert(1)</script>", "html"),
        (b'<?xml version="1.0"?><svg xmlns="x">', "svg"),
        (b'<?xml version="1.0"?><invoice/>', "xml"),
        (b"  %PDF-1.4", None),  # a PDF header not at byte 0 is no PDF
        (b"hello world", None),
        (b"", None),
    ],
)
def test_sniff_reads_magic_bytes(head, kind):
    assert sniff(head) == kind


@pytest.mark.parametrize("name", ["scan.pdf", "scan.jpg", "scan.png", "scan", "scan.exe"])
def test_the_name_never_decides_acceptance(name):
    assert clean(fx.png(), name).kind == "png"
    assert clean(fx.pdf(), name).kind == "pdf"
    assert clean(fx.jpeg(), name).kind == "jpeg"


@pytest.mark.parametrize(
    ("make", "name", "says"),
    [
        (fx.windows_exe, "invoice.pdf", "Windows program"),
        (fx.windows_exe, "photo.jpg", "Windows program"),
        (fx.linux_elf, "scan.pdf", "Linux program"),
        (lambda: b"#!/bin/sh\nrm -rf /\n", "scan.png", "script"),
        (lambda: fx.zip_archive({"AndroidManifest.xml": b"", "classes.dex": b""}), "scan.pdf", "Android app"),
        (lambda: fx.zip_archive({"META-INF/MANIFEST.MF": b"", "a/B.class": b""}), "scan.pdf", "Java program"),
    ],
)
def test_programs_are_refused_saying_what_they_are(make, name, says):
    error = refused(make(), name)
    assert error.code == "executable"
    assert says in error.message
    assert "not a PDF or an image" in error.message


@pytest.mark.parametrize(
    ("make", "name", "says"),
    [
        (fx.html_with_pdf_inside, "x.pdf", "web page (HTML)"),
        (fx.html_page, "photo.jpg", "web page (HTML)"),
        (fx.svg_with_script, "photo.png", "SVG drawing"),
        (fx.zip_archive, "scan.pdf", "ZIP archive"),
        (fx.word_document, "scan.pdf", "Word document"),
        (fx.heic_photo, "scan.jpg", "HEIC photo"),
        (lambda: b"just some text", "scan.pdf", "contents are not a PDF"),
    ],
)
def test_a_name_promising_an_allowed_type_over_other_bytes_is_a_mismatch(make, name, says):
    error = refused(make(), name)
    assert error.code == "type_mismatch"
    assert says in error.message


def test_x_pdf_html_is_refused_as_the_web_page_it_is():
    error = refused(fx.html_page(), "x.pdf.html")
    assert error.code == "type_not_allowed"
    assert "web page (HTML)" in error.message


def test_a_real_pdf_named_x_pdf_html_is_a_pdf_and_shows_as_x_pdf():
    stored = clean(fx.pdf(), "x.pdf.html")
    assert (stored.kind, stored.media_type, stored.original_name) == ("pdf", "application/pdf", "x.pdf")


def test_types_outside_the_materials_allow_list_are_refused_naming_what_is_wanted():
    error = refused(fx.png(), "scan.png", allowed={"pdf"})
    assert error.code == "type_not_allowed"
    assert "PNG image" in error.message and "please upload a PDF." in error.message
    assert refused(fx.png(), "scan.pdf", allowed={"pdf"}).code == "type_mismatch"
    assert refused(fx.pdf(), "scan.pdf", allowed={"jpeg", "png"}).code == "type_not_allowed"
    assert refused(fx.pdf(), "scan.jpg", allowed={"jpeg", "png"}).code == "type_mismatch"
    assert refused(b"\x00\x01\x02 unknown", "notes.txt").code == "type_not_allowed"


def test_heic_is_refused_telling_the_user_to_choose_jpeg():
    error = refused(fx.heic_photo(), "IMG_0001.HEIC")
    assert error.code == "type_not_allowed"
    assert "JPEG" in error.message and "Most Compatible" in error.message


def test_ofd_e_invoice_is_refused_asking_for_its_pdf_version():
    error = refused(fx.ofd_invoice(), "发票.ofd")
    assert error.code == "type_not_allowed"
    assert "PDF version" in error.message


# --- images --------------------------------------------------------------------------------------------------------


def test_jpeg_is_accepted_and_re_encoded():
    stored = clean(fx.jpeg((64, 48)), "photo.jpg")
    assert (stored.kind, stored.media_type, stored.width, stored.height, stored.pages) == (
        "jpeg", "image/jpeg", 64, 48, None)
    assert stored.size == len(stored.data)
    assert reopen(stored.data).format == "JPEG"


def test_png_is_accepted_and_re_encoded():
    stored = clean(fx.png((64, 48)), "screenshot.png")
    assert (stored.kind, stored.media_type, stored.width, stored.height) == ("png", "image/png", 64, 48)
    assert reopen(stored.data).format == "PNG"


def test_jpeg_metadata_is_gone_and_the_photo_stands_upright():
    original = fx.jpeg_with_metadata(size=(80, 40), orientation=6)
    for marker in (fx.MARKER_GPS_TEXT, fx.MARKER_XMP, fx.MARKER_COMMENT, b"Exif", b"ICC_PROFILE"):
        assert marker in original
    stored = clean(original, "IMG_2024.jpg")
    for marker in (fx.MARKER_GPS_TEXT, fx.MARKER_XMP, fx.MARKER_COMMENT, b"Exif", b"ICC_PROFILE", b"TestPhone",
                   b"http://ns.adobe.com/xap"):
        assert marker not in stored.data
    image = reopen(stored.data)
    assert not {"exif", "xmp", "comment", "icc_profile"} & set(image.info)
    assert len(image.getexif()) == 0
    assert image.size == (40, 80) == (stored.width, stored.height)  # orientation 6: turned a quarter
    assert max(image.getpixel((37, 2))) < 40  # the dark top-left block is now top-right
    assert max(image.getpixel((2, 2))) > 100
    assert image.info["dpi"] == (300, 300)  # the resolution stays, so a printed ID copy keeps its size


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied_as_pillow_would(orientation):
    original = fx.jpeg_with_metadata(size=(80, 40), orientation=orientation)
    expected = ImageOps.exif_transpose(reopen(original))
    stored = reopen(clean(original, "photo.jpg").data)
    assert stored.size == expected.size
    for point in ((2, 2), (stored.width - 3, 2), (2, stored.height - 3), (stored.width - 3, stored.height - 3)):
        assert all(abs(a - b) <= 12 for a, b in zip(stored.getpixel(point), expected.getpixel(point), strict=True))


def test_png_exif_orientation_is_applied_and_dropped():
    stored = clean(fx.png_with_orientation(6), "scan.png")
    assert (stored.width, stored.height) == (40, 80)
    assert b"eXIf" not in stored.data


def test_a_corrupt_exif_block_is_dropped_without_refusing_the_photo():
    stored = clean(fx.jpeg_with_corrupt_exif(), "photo.jpg")  # Pillow would warn; warnings are errors here
    assert (stored.width, stored.height) == (64, 48)
    assert b"Exif" not in stored.data


def test_cmyk_colours_survive_the_conversion_to_rgb():
    original = fx.jpeg(mode="CMYK")
    stored = reopen(clean(original).data)
    expected = reopen(original).convert("RGB")
    for point in ((2, 2), (40, 30), (63, 47)):
        assert all(abs(a - b) <= 12 for a, b in zip(stored.getpixel(point), expected.getpixel(point), strict=True))


def test_png_text_exif_and_icc_chunks_are_gone():
    original = fx.png_with_metadata()
    assert fx.MARKER_PNG_TEXT in original and {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP"} <= set(
        png_chunk_types(original))
    stored = clean(original, "scan.png")
    assert png_chunk_types(stored.data) == [b"IHDR", b"pHYs", b"IDAT", b"IEND"]
    assert fx.MARKER_PNG_TEXT not in stored.data and fx.MARKER_PNG_ITXT not in stored.data
    assert reopen(stored.data).info["dpi"] == pytest.approx((150, 150), abs=0.1)


def test_colours_are_converted_from_an_embedded_profile_and_the_profile_dropped():
    original = fx.jpeg_with_metadata(orientation=1, icc=fx.other_profile())
    stored = reopen(clean(original, "p3.jpg").data)
    assert "icc_profile" not in stored.info
    source = reopen(original)
    for point in ((2, 2), (60, 30)):  # the test profile is sRGB under another name: colours barely move
        assert all(abs(a - b) <= 8 for a, b in zip(stored.getpixel(point), source.getpixel(point), strict=True))


@pytest.mark.parametrize(
    ("make", "mode"),
    [
        (lambda: fx.jpeg(mode="CMYK"), "RGB"),
        (lambda: fx.jpeg(mode="L"), "L"),
        (fx.png_16bit_grey, "I;16"),
        (lambda: fx.png(mode="LA"), "LA"),
        (lambda: fx.png(mode="RGBA"), "RGBA"),
        (lambda: fx.png(mode="1"), "1"),
        (lambda: fx.png(mode="P"), "P"),
    ],
)
def test_modes_are_converted_sensibly(make, mode):
    assert reopen(clean(make()).data).mode == mode


def test_palette_transparency_survives_as_alpha():
    original = fx.png_palette_with_transparency()
    stored = reopen(clean(original).data)
    assert stored.mode == "RGBA"
    assert stored.tobytes() == reopen(original).convert("RGBA").tobytes()


def test_a_zip_appended_to_a_jpeg_does_not_survive_re_encoding():
    original = fx.jpeg_with_zip_appended()
    assert b"PK\x03\x04" in original
    stored = clean(original, "photo.jpg")
    assert stored.kind == "jpeg"
    assert b"PK\x03\x04" not in stored.data and b"PK\x05\x06" not in stored.data
    assert reopen(stored.data).size == (64, 48)


@pytest.mark.parametrize("make", [lambda: fx.truncated(fx.jpeg((400, 300))), lambda: fx.truncated(fx.png((400, 300))),
                                  lambda: b"\xff\xd8\xff" + b"\x00" * 64, lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64])
def test_damaged_images_are_refused_as_unreadable(make):
    assert refused(make(), "photo.jpg").code == "image_unreadable"


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if Pillow opens or decodes anything."""
    def forbidden(*_args, **_kwargs):
        raise AssertionError("Pillow was asked to open or decode the image")

    monkeypatch.setattr(Image, "open", forbidden)
    monkeypatch.setattr(ImageFile.ImageFile, "load", forbidden)


def test_png_bomb_is_refused_fast_from_its_header_without_decoding(no_decoding):
    bomb = fx.png_bomb(20_000)
    assert len(bomb) < 100_000  # 400 million pixels in under 100 KB
    started = time.perf_counter()
    error = refused(bomb, "bomb.png")
    assert time.perf_counter() - started < 1.0
    assert error.code == "image_too_large"
    assert re.search(r"20,?000 × 20,?000", error.message) and "40 megapixels" in error.message


@pytest.mark.parametrize(
    "make",
    [
        lambda: fx.jpeg_claiming(30_000, 30_000),  # over Pillow's own error limit
        lambda: fx.jpeg_claiming(10_000, 10_000),  # between Pillow's warning and error limits: no warning raised
        lambda: fx.png_claiming(9_000, 9_000),  # under Pillow's limits, over ours
        lambda: fx.png_claiming(10_001, 10),  # too long a side, few pixels
        lambda: fx.jpeg_claiming(10, 10_001),
        lambda: fx.jpeg_with_second_frame_header(10_000, 10_000),
    ],
)
def test_images_over_the_pixel_or_side_limits_are_refused_before_decoding(no_decoding, make):
    assert refused(make()).code == "image_too_large"


def test_image_at_the_limits_is_accepted():
    limits = Limits(max_pixels=64 * 48, max_image_side=64)
    assert clean(fx.png((64, 48)), limits=limits).width == 64
    assert refused(fx.png((65, 10)), limits=limits).code == "image_too_large"
    assert refused(fx.png((60, 60)), limits=limits).code == "image_too_large"


# --- PDFs ----------------------------------------------------------------------------------------------------------


def test_pdf_is_accepted_byte_for_byte_with_its_page_count():
    data = fx.pdf(pages=3)
    stored = clean(data, "bill.pdf")
    assert (stored.kind, stored.media_type, stored.pages, stored.width, stored.data) == (
        "pdf", "application/pdf", 3, None, data)


def test_a_real_document_with_fonts_images_and_a_web_link_is_accepted():
    stored = clean(fx.reportlab_pdf(), "门诊票据.pdf")
    assert stored.pages == 3


def test_an_open_action_that_only_shows_a_page_is_accepted():
    assert clean(fx.pdf_open_destination()).pages == 1


def test_a_link_to_a_web_address_is_accepted():
    assert clean(fx.pdf_with_link(fx.uri_action())).pages == 1


@pytest.mark.parametrize(
    "make",
    [
        fx.pdf_hand_js,
        fx.pdf_with_open_action_js,
        fx.pdf_with_document_js,
        fx.pdf_escaped_js,
        fx.pdf_page_aa_js,
        fx.pdf_js_in_object_stream,
        fx.pdf_orphan_js,
        lambda: fx.pdf_with_link(JavaScript("app.alert(1)")),
    ],
)
def test_pdf_with_javascript_is_refused(make):
    error = refused(make(), "bill.pdf")
    assert error.code == "pdf_javascript"
    assert "JavaScript" in error.message


def test_javascript_inside_a_compressed_object_stream_is_found_by_the_parser_walk():
    data = fx.pdf_js_in_object_stream()
    assert b"JavaScript" not in data
    assert scan_pdf_tokens(data) == set()
    assert walk_pdf(PdfReader(io.BytesIO(data))) == {"pdf_javascript", "pdf_actions"}


def test_javascript_no_table_lists_is_found_by_the_byte_scan():
    data = fx.pdf_orphan_js()
    assert walk_pdf(PdfReader(io.BytesIO(data))) == set()
    assert scan_pdf_tokens(data) == {"pdf_javascript"}


def test_the_byte_scan_reads_names_with_escapes_and_skips_stream_data():
    assert scan_pdf_tokens(b"1 0 obj << /S /Launch >> endobj") == {"pdf_actions"}
    assert scan_pdf_tokens(b"<< /J#53 (x) >>") == {"pdf_javascript"}
    assert scan_pdf_tokens(b"<< /JSON 1 /JSX 2 >>") == set()
    assert scan_pdf_tokens(b"<< /Length 9 >>\nstream\n/JS /XFA \nendstream") == set()


@pytest.mark.parametrize(
    "make",
    [
        fx.pdf_launch,
        fx.pdf_open_uri,
        lambda: fx.pdf_with_link(DictionaryObject({NameObject("/S"): NameObject("/Launch"),
                                                   NameObject("/F"): TextStringObject("calc.exe")})),
        lambda: fx.pdf_with_link(DictionaryObject({NameObject("/S"): NameObject("/GoToR"),
                                                   NameObject("/F"): TextStringObject("\\\\host\\share\\a.pdf")})),
        lambda: fx.pdf_with_link(DictionaryObject({NameObject("/S"): NameObject("/SubmitForm"),
                                                   NameObject("/F"): TextStringObject("https://example.org/")})),
    ],
)
def test_pdf_with_launch_or_automatic_actions_is_refused(make):
    assert refused(make(), "bill.pdf").code == "pdf_actions"


def test_pdf_with_an_embedded_file_is_refused():
    error = refused(fx.pdf_with_attachment(), "bill.pdf")
    assert error.code == "pdf_embedded_files"
    assert "attached" in error.message


def test_pdf_with_an_xfa_form_is_refused():
    assert refused(fx.pdf_xfa(), "form.pdf").code == "pdf_xfa"


def test_encrypted_pdf_is_refused():
    error = refused(fx.pdf_encrypted(), "statement.pdf")
    assert error.code == "pdf_encrypted"
    assert "password" in error.message


def test_owner_password_only_pdf_is_refused_too():
    assert refused(fx.pdf_encrypted(user_password=""), "statement.pdf").code == "pdf_encrypted"


def test_pdf_with_too_many_pages_is_refused_naming_both_counts():
    error = refused(fx.pdf(pages=51), "all.pdf")
    assert error.code == "pdf_too_many_pages"
    assert "51" in error.message and "50" in error.message
    assert clean(fx.pdf(pages=50)).pages == 50
    assert refused(fx.raw_pdf_page_count(3), limits=Limits(max_pages=2)).code == "pdf_too_many_pages"


@pytest.mark.parametrize(("setting", "value"), [("_PDF_MAX_OBJECTS", 3), ("_PDF_MAX_NODES", 5),
                                                ("_PDF_MAX_SECONDS", 0)])
def test_pdf_too_complex_to_check_in_bounded_time_and_memory_is_refused(monkeypatch, setting, value):
    monkeypatch.setattr(pdfs, setting, value)
    error = refused(fx.pdf(pages=3), "big.pdf")
    assert error.code == "pdf_too_complex"
    assert "too many parts" in error.message


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\nthis is not a pdf at all\n%%EOF\n",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n",  # no %%EOF: cut short
        fx.raw_pdf(b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"),  # no pages
        fx.pdf()[:300] + b"\n%%EOF\n",
    ],
)
def test_broken_pdfs_are_refused_as_unreadable(data):
    assert refused(data, "x.pdf").code == "pdf_unreadable"


@pytest.mark.parametrize(
    "make",
    [
        fx.pdf_with_zip_appended,
        fx.pdf_with_html_head,
        lambda: b"\x00\x01 junk before the header " + fx.pdf(),
        lambda: fx.pdf() + b"<html><script>alert(1)</script></html>",
    ],
)
def test_pdf_polyglots_are_refused(make):
    error = refused(make(), "bill.pdf")
    assert error.code == "type_mismatch"
    assert "not a clean PDF" in error.message


def test_a_gif_header_before_a_pdf_is_refused_as_the_gif_it_claims_to_be():
    assert refused(fx.pdf_with_junk_before(), "bill.pdf").code == "type_mismatch"


def test_trailing_whitespace_after_eof_is_fine():
    assert clean(fx.pdf() + b"\r\n\x00\x00  \n").pages == 1


# --- display names -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "shown"),
    [
        ("C:\\fakepath\\身份证 正面.jpg", "jpeg", "身份证 正面.jpg"),
        ("../../etc/passwd", "pdf", "passwd.pdf"),
        ("photo.JPG", "png", "photo.png"),
        ("scan.JPEG", "jpeg", "scan.JPEG"),
        ("x.pdf.html", "pdf", "x.pdf"),
        ("report.exe.jpg", "png", "report.png"),
        ("v1.2", "pdf", "v1.2.pdf"),
        ("invoice\u202egpj.exe", "jpeg", "invoicegpj.jpg"),  # the bidi override that disguises extensions
        ("a\x00b\nc\td.pdf", "pdf", "a b c d.pdf"),
        ("  ..hidden..pdf  ", "pdf", "hidden.pdf"),
        ("", "pdf", "file.pdf"),
        (None, "png", "file.png"),
        ("...", "jpeg", "file.jpg"),
        ("e\u0301.png", "png", "\u00e9.png"),  # NFC
    ],
)
def test_display_name_is_sanitised(name, kind, shown):
    assert display_name(name, kind) == shown


def test_display_name_is_at_most_100_characters_and_keeps_its_extension():
    shown = display_name("很长的文件名" * 40 + ".pdf", "pdf")
    assert len(shown) == 100 and shown.endswith(".pdf")


def test_clean_file_repr_shows_neither_the_content_nor_the_name():
    stored = clean(fx.pdf(), "张三身份证.pdf")
    assert "张三" not in repr(stored) and "%PDF" not in repr(stored)
    assert stored.original_name == "张三身份证.pdf"


# --- no bad input escapes as anything but a refusal (S18) ----------------------------------------------------------

_PREFIXES = [b"", b"%PDF-1.7\n", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"PK\x03\x04", b"<html>", b"MZ"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(_PREFIXES), body=st.binary(max_size=512))
def test_random_bytes_are_accepted_or_refused_never_crash(prefix, body):
    try:
        clean(prefix + body, "x.pdf")
    except UploadRefused as error:
        assert error.message


_VALID = [fx.pdf(), fx.jpeg((16, 16)), fx.png((16, 16)), fx.pdf_js_in_object_stream()]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.sampled_from(range(len(_VALID))), data=st.data())
def test_damaged_valid_files_are_accepted_or_refused_never_crash(which, data):
    original = bytearray(_VALID[which])
    for _ in range(data.draw(st.integers(1, 8))):
        original[data.draw(st.integers(0, len(original) - 1))] = data.draw(st.integers(0, 255))
    try:
        stored = clean(bytes(original), "x")
    except UploadRefused as error:
        assert error.message
    else:
        assert stored.kind in ALLOWED


# --- virus scanning ------------------------------------------------------------------------------------------------


@pytest.fixture
def clamd() -> Iterator[FakeClamd]:
    yield from running_clamd()


@pytest.fixture(name="closed_port")
def _closed_port() -> int:
    return closed_port()


def test_scan_without_a_backend_does_nothing():
    scan(fx.with_virus_marker(b"x"), config={})
    scan(fx.with_virus_marker(b"x"), config={"PORTAL_SCAN_BACKEND": "none"})


def test_clamd_clean_file_passes_sent_in_instream_chunks(clamd):
    data = bytes(range(256)) * 800  # 200 KiB: four chunks of at most 64 KiB
    scan(data, config=clamd.config)
    assert clamd.received == [(b"zINSTREAM", data, 4)]


def test_clamd_infected_file_is_refused(clamd):
    with pytest.raises(UploadRefused) as caught:
        scan(fx.with_virus_marker(b"hello"), config=clamd.config)
    assert caught.value.code == "scan_infected"
    assert "virus" in caught.value.message


def test_clamd_error_answer_fails_closed(clamd):
    clamd.mode = "error"
    with pytest.raises(UploadRefused) as caught:
        scan(b"hello", config=clamd.config)
    assert (caught.value.code, caught.value.status) == ("scan_unavailable", 503)


def test_clamd_that_never_answers_fails_closed_within_the_timeout(clamd):
    clamd.mode = "silent"
    started = time.perf_counter()
    with pytest.raises(UploadRefused) as caught:
        scan(b"hello", config={**clamd.config, "PORTAL_CLAMD_TIMEOUT": 0.3})
    assert caught.value.code == "scan_unavailable"
    assert time.perf_counter() - started < 2


def test_unreachable_clamd_fails_closed(closed_port):
    config = {"PORTAL_SCAN_BACKEND": "clamd", "PORTAL_CLAMD_HOST": "127.0.0.1", "PORTAL_CLAMD_PORT": closed_port}
    with pytest.raises(UploadRefused) as caught:
        scan(b"hello", config=config)
    assert caught.value.code == "scan_unavailable"
    assert "try again" in caught.value.message


@pytest.mark.parametrize("config", [{"PORTAL_SCAN_BACKEND": "clamav"},
                                    {"PORTAL_SCAN_BACKEND": "clamd", "PORTAL_CLAMD_PORT": "three"}])
def test_misconfigured_scanner_fails_closed(config):
    with pytest.raises(UploadRefused) as caught:
        scan(b"hello", config=config)
    assert caught.value.code == "scan_unavailable"


def test_scan_reads_the_app_config_then_the_environment(clamd, closed_port, monkeypatch):
    app = Flask(__name__)
    Babel(app)
    app.config.update(clamd.config)
    with app.app_context(), pytest.raises(UploadRefused) as caught:
        scan(fx.with_virus_marker(b"x"))
    assert caught.value.code == "scan_infected"
    monkeypatch.setenv("PORTAL_SCAN_BACKEND", "clamd")
    monkeypatch.setenv("PORTAL_CLAMD_PORT", str(closed_port))
    with pytest.raises(UploadRefused) as caught:
        scan(b"x")
    assert caught.value.code == "scan_unavailable"


def test_check_and_clean_scans_after_the_type_check_and_before_parsing(clamd):
    scanner = partial(scan, config=clamd.config)
    assert refused(fx.with_virus_marker(fx.jpeg()), "photo.jpg", scanner=scanner).code == "scan_infected"
    assert refused(fx.windows_exe(), "x.pdf", scanner=scanner).code == "executable"
    assert [payload for _command, payload, _chunks in clamd.received] == [fx.with_virus_marker(fx.jpeg())]
    assert clean(fx.pdf(), scanner=scanner).kind == "pdf"


def test_check_and_clean_uses_the_configured_scanner_by_default(closed_port, monkeypatch):
    monkeypatch.setenv("PORTAL_SCAN_BACKEND", "clamd")
    monkeypatch.setenv("PORTAL_CLAMD_PORT", str(closed_port))
    assert refused(fx.pdf(), "x.pdf").code == "scan_unavailable"


def test_refusals_are_logged_without_the_file_name(caplog):
    with caplog.at_level("INFO", logger="portal.materials"):
        refused(fx.windows_exe(), "张三-110101199003074514.pdf")
    assert "executable" in caplog.text
    assert "110101199003074514" not in caplog.text and "张三" not in caplog.text

