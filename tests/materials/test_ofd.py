"""OFD e-receipts (GB/T 33190): taken where a material takes them, read with hard limits (entries, sizes, ratio,
paths, XML without DTDs or entities, nothing pointing outside), and their invoice data read."""

from __future__ import annotations

import io
import zipfile

import pytest

from portal.materials import ofd
from portal.materials.checks import ALLOWED, E_RECEIPTS, Limits, UploadRefused, check_and_clean
from tests.materials import fixtures as fx
from tests.materials import ofd_files

pytestmark = pytest.mark.no_db


def clean(data: bytes, name: str = "票据.ofd", allowed=E_RECEIPTS):
    return check_and_clean(data, filename=name, allowed=allowed, limits=Limits())


def refused(data: bytes, name: str = "票据.ofd") -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        clean(data, name)
    return caught.value


def test_a_valid_e_receipt_is_kept_byte_for_byte_with_its_invoice_data():
    data = ofd_files.e_receipt(number="0012345678", issued="2026-10-20", issuer="岳阳市第一人民医院",
                               total="3250.40", self_pay="120.00", self_funded="30.50")
    result = clean(data)
    assert result.kind == "ofd" and result.media_type == "application/ofd" and result.data == data
    assert result.pages == 1 and result.original_name == "票据.ofd"
    assert result.invoice == {"number": "0012345678", "issued_on": "2026-10-20", "institution": "岳阳市第一人民医院",
                              "total": "3250.40", "self_pay": "120.00", "self_funded": "30.50",
                              "visit_type": "住院"}


def test_a_tax_e_invoice_s_custom_tags_are_read_too():
    parts = ofd_files.parts()
    parts["Doc_0/Attachs/EInvoice.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?><eInvoice xmlns:fp="http://www.edrm.org.cn/schema/e-invoice/2019">'
        "<fp:InvoiceCode>043001900111</fp:InvoiceCode><fp:InvoiceNo>12345678</fp:InvoiceNo>"
        "<fp:IssueDate>2026年10月05日</fp:IssueDate><fp:Seller><fp:SellerName>岳阳好药房</fp:SellerName></fp:Seller>"
        "<fp:TotalTax-includedAmount>88.00</fp:TotalTax-includedAmount></eInvoice>").encode()
    invoice = clean(ofd_files.package(parts)).invoice
    assert invoice == {"number": "12345678", "issued_on": "2026-10-05", "institution": "岳阳好药房", "total": "88.00"}


def test_an_ofd_without_invoice_data_is_taken_with_nothing_to_prefill():
    parts = ofd_files.parts()
    del parts["Doc_0/Attachs/EInvoice.xml"], parts["Doc_0/Attachs/Attachments.xml"]
    assert clean(ofd_files.package(parts)).invoice is None


def test_values_that_do_not_read_as_what_they_should_be_are_left_out():
    data = ofd_files.e_receipt(issued="2026-13-45", total="12.345")
    assert clean(data).invoice is None  # no total, no row: the claimant types it
    row = clean(ofd_files.e_receipt(issued="yesterday")).invoice
    assert row is not None and "issued_on" not in row


def test_materials_that_do_not_take_e_receipts_still_refuse_ofd_asking_for_the_pdf():
    with pytest.raises(UploadRefused) as caught:
        clean(ofd_files.e_receipt(), allowed=ALLOWED)
    assert caught.value.code == "type_not_allowed" and "PDF version" in caught.value.message


@pytest.mark.parametrize(("build", "code"), [
    (ofd_files.zip_bomb, "ofd_too_large"),
    (ofd_files.path_traversal, "ofd_unsafe"),
    (ofd_files.external_entity, "ofd_unsafe"),
    (ofd_files.billion_laughs, "ofd_unsafe"),
    (ofd_files.external_location, "ofd_unsafe"),
    (ofd_files.malformed_xml, "ofd_malformed"),
    (ofd_files.without_document, "ofd_malformed"),
])
def test_malformed_and_hostile_ofd_files_are_refused_saying_what_to_do(build, code):
    error = refused(build())  # in Chinese on the pages: tests/services/claims/test_e_receipts.py
    assert error.code == code
    assert "OFD" in error.message and "PDF version" in error.message


def _zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, body in entries:
            archive.writestr(info, body)
    return out.getvalue()


def _with(extra: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    return _zip([*ofd_files.parts().items(), *extra])


@pytest.mark.parametrize("name", ["/etc/passwd", "C:/Windows/evil.dll", "Doc_0\\..\\evil", "Doc_0/./x.xml",
                                  "a/../../b"])
def test_part_names_that_lead_elsewhere_are_refused(name):
    assert ofd.check_ofd.__doc__  # the rules are documented where they are enforced
    assert refused(_with([(name, b"x")])).code == "ofd_unsafe"


def test_a_symbolic_link_inside_is_refused():
    link = zipfile.ZipInfo("Doc_0/link")
    link.create_system = 3
    link.external_attr = (0o120777 << 16)
    assert refused(_with([(link, b"/etc/passwd")])).code == "ofd_unsafe"


def test_a_name_given_twice_is_refused():
    data = _with([("ofd.XML", b"<OFD/>")])  # the same name in another case: which one would a reader take?
    assert refused(data).code == "ofd_unsafe"


def test_too_many_entries_are_refused_before_any_is_read(monkeypatch):
    monkeypatch.setattr(ofd, "MAX_ENTRIES", 10)
    data = _with([(f"Doc_0/Res/{i}.png", b"x") for i in range(10)])
    assert refused(data).code == "ofd_too_large"


def test_a_part_whose_declared_size_lies_is_damaged_not_read_beyond_it():
    data = bytearray(ofd_files.e_receipt())
    # shrink the declared size of the first part in its local and central headers: inflating stops there, CRC fails
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.infolist()[0]
    size = info.file_size.to_bytes(4, "little")
    smaller = (info.file_size // 2).to_bytes(4, "little")
    assert bytes(data).count(size) >= 2
    data = bytes(data).replace(size, smaller)
    assert refused(data).code == "ofd_malformed"


def test_a_program_inside_is_refused():
    assert refused(_with([("Doc_0/Res/setup.bin", fx.windows_exe())])).code == "ofd_unsafe"


def test_the_declared_total_beyond_the_cap_is_refused_without_inflating(monkeypatch):
    monkeypatch.setattr(ofd, "MAX_TOTAL_BYTES", 1024)
    assert refused(ofd_files.e_receipt()).code == "ofd_too_large"
