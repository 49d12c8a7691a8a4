"""PDF e-invoices uploaded as a claim's invoices: XML invoice data files may be embedded (every embedded file an
``….xml``, at most 2, each ≤ 1 MB inflated, parsed with defusedxml) and prefill the invoice row; every other
attachment, and everything refused in any PDF, stays refused with a clear message (the lead's decision,
SECURITY.md "Uploads"). The PDFs are made here with pypdf (``fixtures.e_invoice_pdf``). The messages in Chinese,
at the material, with nothing stored: tests/services/claims/test_e_receipts.py."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfWriter
from pypdf.generic import NameObject, StreamObject, TextStringObject

from portal.materials.checks import ALLOWED, E_RECEIPTS, Limits, UploadRefused, check_and_clean
from tests.materials import fixtures as fx
from tests.materials import ofd_files

pytestmark = pytest.mark.no_db

RECEIPT = ofd_files.receipt_xml("0099887766", "2026-10-20", "吉林大学第一医院", "3250.40", self_pay="120.00",
                                self_funded="35.50")


def clean(data: bytes, allowed=E_RECEIPTS):
    return check_and_clean(data, filename="电子票据.pdf", allowed=allowed, limits=Limits())


def refused(data: bytes, allowed=E_RECEIPTS) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        clean(data, allowed)
    return caught.value


def test_an_e_invoice_pdf_with_its_xml_data_is_kept_as_sent_and_its_invoice_read():
    data = fx.e_invoice_pdf(("EInvoice.xml", RECEIPT))
    file = clean(data)
    assert file.kind == "pdf" and file.data == data and file.pages == 1
    assert file.invoice == {"number": "0099887766", "total": "3250.40", "issued_on": "2026-10-20",
                            "institution": "吉林大学第一医院", "self_pay": "120.00", "self_funded": "35.50",
                            "visit_type": "住院"}


def test_two_xml_data_files_are_the_most_taken_and_a_pdf_without_any_is_taken_unread():
    assert clean(fx.e_invoice_pdf(("EInvoice.xml", RECEIPT), ("extra.XML", b"<Extra/>"))).invoice["number"] == (
        "0099887766")
    stored = fx.e_invoice_pdf(("EInvoice.xml", RECEIPT), compress=False)  # stored plain, not Flate-encoded
    assert clean(stored).invoice["total"] == "3250.40"
    assert clean(fx.pdf()).invoice is None


def test_outside_a_claims_invoices_a_pdf_with_the_same_xml_attached_stays_refused():
    assert refused(fx.e_invoice_pdf(("EInvoice.xml", RECEIPT)), allowed=ALLOWED).code == "pdf_embedded_files"


@pytest.mark.parametrize("name, body", [
    ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60),
    ("invoice.js", b"app.alert(1)"),
    ("invoice.html", b"<html><body>bill</body></html>"),
    ("invoice.xml.exe", b"MZ\x90\x00"),
    ("invoice", b"<EInvoice/>"),
])
def test_any_other_attachment_is_refused_and_says_what_may_be_attached(name, body):
    error = refused(fx.e_invoice_pdf(("EInvoice.xml", RECEIPT), (name, body)))
    assert error.code == "pdf_attachment_not_allowed"
    assert "XML" in error.message and "2" in error.message and "1 MB" in error.message
    assert refused(fx.e_invoice_pdf((name, body))).code == "pdf_attachment_not_allowed"  # alone, too


def test_an_xml_name_beside_another_name_of_the_same_file_is_not_enough():
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_attachment("EInvoice.xml", RECEIPT).alternative_name = TextStringObject("EInvoice.exe")  # /UF
    out = io.BytesIO()
    writer.write(out)
    assert refused(out.getvalue()).code == "pdf_attachment_not_allowed"


def test_an_embedded_file_no_file_specification_names_is_refused():
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_attachment("EInvoice.xml", RECEIPT)
    hidden = StreamObject()
    hidden.set_data(b"MZ\x90\x00")
    hidden[NameObject("/Type")] = NameObject("/EmbeddedFile")
    writer.root_object[NameObject("/Hidden")] = writer._add_object(hidden)
    out = io.BytesIO()
    writer.write(out)
    assert refused(out.getvalue()).code == "pdf_attachment_not_allowed"


def test_a_file_attachment_annotation_stays_refused_even_for_xml():
    assert refused(fx.e_invoice_pdf(annotation=("EInvoice.xml", RECEIPT))).code == "pdf_attachment_not_allowed"


def test_three_xml_files_are_refused():
    error = refused(fx.e_invoice_pdf(*((f"part{n}.xml", RECEIPT) for n in range(3))))
    assert error.code == "pdf_too_many_data_files" and "3" in error.message


@pytest.mark.parametrize("compress", [True, False])
def test_an_xml_data_file_over_1_mb_is_refused_whatever_it_compresses_to(compress):
    big = b"<EInvoice>" + b" " * (1024 * 1024) + b"</EInvoice>"
    error = refused(fx.e_invoice_pdf(("EInvoice.xml", big), compress=compress))
    assert error.code == "pdf_data_file_too_large" and "1 MB" in error.message


@pytest.mark.parametrize("body", [fx.XML_BOMB, fx.XML_EXTERNAL_ENTITY])
def test_an_xml_bomb_or_external_entity_is_refused_before_anything_is_expanded_or_fetched(body):
    error = refused(fx.e_invoice_pdf(("EInvoice.xml", body)))
    assert error.code == "pdf_data_file_unsafe" and "DTD" in error.message


def test_a_broken_xml_data_file_is_refused():
    assert refused(fx.e_invoice_pdf(("EInvoice.xml", b"<EInvoice><a></EInvoice>"))).code == "pdf_data_file_malformed"


def test_javascript_beside_the_xml_data_is_refused_as_in_any_pdf():
    assert refused(fx.e_invoice_pdf(("EInvoice.xml", RECEIPT), javascript=True)).code == "pdf_javascript"
