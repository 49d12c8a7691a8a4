"""OFD files the tests build: a 医疗收费电子票据 laid out as GB/T 33190 packages it (OFD.xml → Document.xml →
pages, custom tags and the e-receipt's data file as an attachment), and the malformed ones an attacker sends."""

from __future__ import annotations

import io
import zipfile

NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


def receipt_xml(number: str, issued: str, issuer: str, total: str, *, self_pay: str = "", self_funded: str = "",
                name: str = "医疗住院收费票据（电子）") -> bytes:
    """The e-receipt's data file (财政电子票据 layout: 票据代码, 票据号码, 开票日期, 开票单位, 金额合计, and the
    medical insurance figures as name/value pairs)."""
    others = "".join(f"<OtherInfo><InfoName>{k}</InfoName><InfoValue>{v}</InfoValue></OtherInfo>"
                     for k, v in (("个人自付", self_pay), ("个人自费", self_funded)) if v)
    return (f'<?xml version="1.0" encoding="UTF-8"?><EInvoice><EInvoiceData><Main>'
            f"<EInvoiceName>{name}</EInvoiceName><EInvoiceCode>43060121</EInvoiceCode>"
            f"<EInvoiceNumber>{number}</EInvoiceNumber><IssueDate>{issued}</IssueDate><IssueTime>10:21:05</IssueTime>"
            f"<InvoicingParty><InvoicingPartyName>{issuer}</InvoicingPartyName></InvoicingParty>"
            f"<TotalAmount>{total}</TotalAmount>{others}</Main></EInvoiceData></EInvoice>").encode()


def package(parts: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return out.getvalue()


def parts(number: str = "0012345678", issued: str = "2026-10-20", issuer: str = "岳阳市第一人民医院",
          total: str = "3250.40", **kw: str) -> dict[str, bytes]:
    return {
        "OFD.xml": (f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {NS} Version="1.0" DocType="OFD"><ofd:DocBody>'
                    "<ofd:DocInfo><ofd:DocID>e0b1</ofd:DocID></ofd:DocInfo>"
                    "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>").encode(),
        "Doc_0/Document.xml": (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {NS}><ofd:CommonData>'
                               "<ofd:PageArea><ofd:PhysicalBox>0 0 210 140</ofd:PhysicalBox></ofd:PageArea>"
                               "</ofd:CommonData><ofd:Pages><ofd:Page ID=\"1\" BaseLoc=\"Pages/Page_0/Content.xml\"/>"
                               "</ofd:Pages><ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments>"
                               "</ofd:Document>").encode(),
        "Doc_0/Pages/Page_0/Content.xml": (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {NS}><ofd:Content>'
                                           '<ofd:Layer ID="2"><ofd:TextObject ID="3" Boundary="10 10 80 6" Font="4" '
                                           f'Size="3"><ofd:TextCode X="0" Y="3">票据号码：{number}</ofd:TextCode>'
                                           "</ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>").encode(),
        "Doc_0/Attachs/Attachments.xml": (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Attachments {NS}>'
                                          '<ofd:Attachment ID="9" Name="EInvoice" Format="xml">'
                                          "<ofd:FileLoc>EInvoice.xml</ofd:FileLoc></ofd:Attachment>"
                                          "</ofd:Attachments>").encode(),
        "Doc_0/Attachs/EInvoice.xml": receipt_xml(number, issued, issuer, total, **kw),
    }


def e_receipt(**kw: str) -> bytes:
    """A valid OFD 医疗收费电子票据 carrying its invoice data."""
    return package(parts(**kw))


def zip_bomb() -> bytes:
    """An OFD whose font part inflates 10 MB of zeros from about 10 KB (a ratio of ~1000); its sizes are honest,
    so only the inflating read stops it."""
    bomb = parts()
    bomb["Doc_0/Res/font.ttf"] = b"\x00" * (10 * 1024 * 1024)
    return package(bomb)


def path_traversal() -> bytes:
    evil = parts()
    evil["../../etc/cron.d/evil"] = b"* * * * * root sh -c 'id'"
    return package(evil)


def external_entity() -> bytes:
    """XXE: the data file declares an entity that reads a local file."""
    evil = parts()
    evil["Doc_0/Attachs/EInvoice.xml"] = (b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                                          b"<EInvoice><EInvoiceNumber>&x;</EInvoiceNumber></EInvoice>")
    return package(evil)


def billion_laughs() -> bytes:
    evil = parts()
    evil["OFD.xml"] = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
                       b"<OFD>&b;</OFD>")
    return package(evil)


def external_location() -> bytes:
    """A document root that points at a web address."""
    evil = parts()
    evil["OFD.xml"] = evil["OFD.xml"].replace(b"Doc_0/Document.xml", b"http://attacker.example/Document.xml")
    return package(evil)


def malformed_xml() -> bytes:
    broken = parts()
    broken["Doc_0/Document.xml"] = b"<ofd:Document><ofd:Pages>"
    return package(broken)


def without_document() -> bytes:
    missing = parts()
    del missing["Doc_0/Document.xml"]
    return package(missing)


def truncated() -> bytes:
    whole = e_receipt()
    return whole[: len(whole) // 2]
