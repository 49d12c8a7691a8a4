"""OFD e-receipts on a claim's filing page: taken for the invoices (and only there), their invoice data put into
the invoice rows for the claimant to check; hostile or broken ones refused next to the material, in Chinese,
with nothing stored."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from portal.materials.models import MaterialFile
from tests.conftest import csrf_from
from tests.factories import log_in_by_code as login
from tests.materials import ofd_files
from tests.services.claims.test_claims import INPATIENT

INVOICES = "invoices"  # 吉林 住院费用报销: 加盖有效印章的医疗费用票据
COST_LIST = "cost_list"  # 加盖有效印章的费用清单: not an invoice


@pytest.fixture
def draft(make_case, citizen):
    return make_case(INPATIENT, citizen, submit=False, form={"invoices": []})


@pytest.fixture
def browser(make_client, db_session, citizen, draft):
    db_session.commit()
    return login(make_client(), db_session, citizen.phone)


def post(browser, case, data: bytes, *, material=INVOICES, name="电子票据.ofd", json=False, lang="en"):
    browser.set_cookie("lang", lang)
    token = csrf_from(browser.get(f"/applications/{case.id}/edit").get_data(as_text=True))
    headers = {"Accept": "application/json"} if json else {}
    return browser.post(f"/applications/{case.id}/materials/{material}", headers=headers,
                        data={"csrf_token": token, "file": [(io.BytesIO(data), name)]},
                        content_type="multipart/form-data", follow_redirects=not json)


def stored(db_session) -> int:
    return db_session.execute(select(func.count()).select_from(MaterialFile)).scalar_one()


def test_the_invoices_take_an_ofd_e_receipt_and_its_data_fills_an_invoice_row(browser, draft, db_session):
    page = browser.get(f"/applications/{draft.id}/edit").get_data(as_text=True)
    assert ".ofd" in page[page.index('id="upload-invoices-files"') - 400:page.index('id="upload-invoices-files"') + 400]
    answer = post(browser, draft, ofd_files.e_receipt(number="0099887766", issued="2026-10-20", total="3250.40",
                                                      self_pay="120.00"), json=True)
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["files"][0]["kind"] == "ofd"
    prefill = body["files"][0]["prefill"]
    assert prefill["table"] == "f_invoices" and prefill["row"] == 1
    assert prefill["values"]["number"] == "0099887766" and "check it" in prefill["message"]
    db_session.refresh(draft)
    row = draft.form_data["invoices"][0]
    assert (row["number"], row["issued_on"], row["total"], row["self_pay"], row["visit_type"]) == (
        "0099887766", "2026-10-20", "3250.40", "120.00", "住院")
    # the page shows the row filled in, for the claimant to check and confirm by saving and submitting
    page = browser.get(f"/applications/{draft.id}/edit").get_data(as_text=True)
    assert 'value="0099887766"' in page and 'value="3250.40"' in page
    # the same receipt again keeps its one row
    again = post(browser, draft, ofd_files.e_receipt(number="0099887766"), json=True).get_json()
    assert again["files"][0]["prefill"]["row"] == 1
    db_session.refresh(draft)
    assert [r.get("number") for r in draft.form_data["invoices"] if r.get("number")] == ["0099887766"]


def test_without_javascript_the_page_says_which_row_was_filled(browser, draft, db_session):
    page = post(browser, draft, ofd_files.e_receipt(number="5566778899"), lang="zh_Hans_CN").get_data(as_text=True)
    assert "5566778899" in page and "请" in page and "核对" in page


@pytest.mark.parametrize("build", [ofd_files.zip_bomb, ofd_files.path_traversal, ofd_files.external_entity,
                                   ofd_files.malformed_xml])
def test_hostile_or_broken_ofd_files_are_refused_at_the_material_in_chinese_and_nothing_is_stored(
        browser, draft, db_session, build):
    before = (stored(db_session), draft.form_json)
    page = post(browser, draft, build(), lang="zh_Hans_CN").get_data(as_text=True)
    slot = page[page.index('id="upload-invoices-errors"'):][:1200]
    assert "OFD" in slot and "PDF" in slot and "无法接受" in slot, slot
    db_session.refresh(draft)
    assert (stored(db_session), draft.form_json) == before


def test_a_material_that_is_not_an_invoice_refuses_ofd(browser, draft, db_session):
    answer = post(browser, draft, ofd_files.e_receipt(), material=COST_LIST, json=True)
    assert answer.status_code == 422 and "PDF version" in answer.get_json()["refused"][0]
    assert stored(db_session) == 0


def test_a_future_invoice_date_and_a_duplicate_invoice_are_refused_at_their_cells_in_chinese(make_case, citizen,
                                                                                            db_session):
    from flask_babel import force_locale

    from portal.applications import operations as ops
    from portal.core.errors import ValidationFailed
    from tests.services.claims.conftest import SYSTEM
    from tests.services.claims.test_claims import OUTPATIENT, _invoice

    make_case(OUTPATIENT, citizen, form={"invoices": [_invoice("ZH-DUP-1")]})
    draft = make_case(OUTPATIENT, citizen, submit=False, form={"invoices": [_invoice("ZH-OK-1")]})
    before = draft.form_json
    rows = [_invoice("ZH-DUP-1"), _invoice("ZH-FUTURE", days_ago=-3)]
    with force_locale("zh_Hans_CN"), pytest.raises(ValidationFailed) as error:
        ops.save_draft(draft, ops.DraftInput(form={**draft.form_data, "invoices": rows}, materials=draft.materials),
                       by=citizen, actor=SYSTEM)
    problems = dict(error.value.reasons)
    assert "其他" in problems["invoices.1.number"] and "申报" in problems["invoices.1.number"]
    assert "晚于" in problems["invoices.2.issued_on"] or "未来" in problems["invoices.2.issued_on"]
    assert draft.form_json == before  # nothing stored


# --- PDF e-invoices carrying their XML invoice data ------------------------------------------------------------


def test_a_pdf_e_invoice_with_its_xml_data_fills_an_invoice_row(browser, draft, db_session):
    from tests.materials import fixtures

    browser.set_cookie("lang", "zh_Hans_CN")
    page = browser.get(f"/applications/{draft.id}/edit").get_data(as_text=True)
    hint = page[page.index("data-e-receipts"):][:300]
    assert "PDF 电子发票可附带 XML 格式的发票数据文件" in hint  # the page says so before the upload
    xml = ofd_files.receipt_xml("3300112233", "2026-10-21", "吉林大学第一医院", "812.60", self_pay="40.00")
    answer = post(browser, draft, fixtures.e_invoice_pdf(("EInvoice.xml", xml)), name="电子发票.pdf", json=True)
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()["files"][0]
    assert body["kind"] == "pdf" and body["prefill"]["row"] == 1 and "check it" in body["prefill"]["message"]
    db_session.refresh(draft)
    row = draft.form_data["invoices"][0]
    assert (row["number"], row["issued_on"], row["institution"], row["total"], row["self_pay"]) == (
        "3300112233", "2026-10-21", "吉林大学第一医院", "812.60", "40.00")


def _pdf_refusals():
    from tests.materials import fixtures

    xml = ofd_files.receipt_xml("3300112234", "2026-10-21", "吉林大学第一医院", "812.60")
    return {
        "exe": (fixtures.e_invoice_pdf(("EInvoice.xml", xml), ("setup.exe", b"MZ\x90\x00")), "不是发票数据文件"),
        "js": (fixtures.e_invoice_pdf(("EInvoice.xml", xml), ("run.js", b"app.alert(1)")), "不是发票数据文件"),
        "html": (fixtures.e_invoice_pdf(("page.html", b"<html></html>")), "不是发票数据文件"),
        "large": (fixtures.e_invoice_pdf(("EInvoice.xml", b"<a>" + b" " * (1024 * 1024) + b"</a>")), "超过 1 MB"),
        "three": (fixtures.e_invoice_pdf(*((f"{n}.xml", xml) for n in range(3))), "最多只能附带 2 个"),
        "bomb": (fixtures.e_invoice_pdf(("EInvoice.xml", fixtures.XML_BOMB)), "实体"),
        "entity": (fixtures.e_invoice_pdf(("EInvoice.xml", fixtures.XML_EXTERNAL_ENTITY)), "实体"),
    }


@pytest.mark.parametrize("case", ["exe", "js", "html", "large", "three", "bomb", "entity"])
def test_pdf_e_invoices_with_other_attachments_or_hostile_xml_are_refused_in_chinese_and_nothing_is_stored(
        browser, draft, db_session, case):
    data, words = _pdf_refusals()[case]
    before = (stored(db_session), draft.form_json)
    page = post(browser, draft, data, name="电子发票.pdf", lang="zh_Hans_CN").get_data(as_text=True)
    slot = page[page.index('id="upload-invoices-errors"'):][:1200]
    assert words in slot and "重新下载电子发票" in slot, slot
    db_session.refresh(draft)
    assert (stored(db_session), draft.form_json) == before
