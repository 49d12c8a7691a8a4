"""Finance's payments page: waiting payments, a batch made, its file downloaded (a POST, audited), the bank's
return file imported; the claimant then reads on the case page that the amount was paid. Other staff get 403."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.accounts.models import Role
from portal.core import clock
from portal.core.audit import AuditEvent
from portal.integrations.bank import get_bank_files, local_bank
from portal.services.claims.models import PaymentBatch
from tests.applications.conftest import advance
from tests.applications.test_views import login
from tests.conftest import csrf_from
from tests.workbench.conftest import MONEY_ITEM

CARD = "6222020200112233446"


def test_finance_pays_a_batch_and_the_claimant_sees_it_paid(browser_as, make_case, citizen, staff, db_session, app,
                                                           make_client):
    case = advance(make_case(MONEY_ITEM, citizen, form={"payee_account": CARD}), staff, "paying")
    db_session.commit()
    finance, account = browser_as("payfin", Role.FINANCE)
    page = finance.get("/staff/payments").get_data(as_text=True)
    assert "1 payments" in page or "1 payment" in page
    finance.post("/staff/payments/batches", data={"csrf_token": csrf_from(page)})
    batch = db_session.execute(select(PaymentBatch)).scalar_one()
    page = finance.get("/staff/payments").get_data(as_text=True)
    assert batch.number in page
    download = finance.post(f"/staff/payments/batches/{batch.id}/file", data={"csrf_token": csrf_from(page)})
    assert download.status_code == 200 and download.headers["Cache-Control"] == "no-store"
    assert CARD.encode() in download.data
    audit = db_session.execute(select(AuditEvent).where(AuditEvent.action == "claim.batch_download")).scalars().all()
    assert [a.actor_id for a in audit] == [str(account.id)]
    with app.app_context():
        answer = local_bank.answer(get_bank_files(app), download.data)
    done = finance.post(f"/staff/payments/batches/{batch.id}/return", follow_redirects=True,
                        data={"csrf_token": csrf_from(page), "file": (__import__("io").BytesIO(answer), "return.csv")})
    assert "1 paid, 0 failed" in done.get_data(as_text=True)
    db_session.refresh(case)
    assert case.state == "completed"
    claimant = login(make_client(), db_session, citizen.phone)
    claimant.set_cookie("lang", "zh_Hans_CN")
    mine = claimant.get(f"/applications/{case.id}").get_data(as_text=True)
    panel = mine[mine.index('id="claim"'):]
    assert "已支付 ¥540.00" in panel  # the amount paid, on the claimant's own page
    assert "票据合计：¥1,000.00" in panel  # and how it was worked out, in plain words


def test_other_staff_cannot_open_the_payments_page(browser_as):
    reviewer, _ = browser_as("payrev", Role.REVIEWER)
    assert reviewer.get("/staff/payments").status_code == 403



def test_a_paid_line_that_cannot_complete_is_named_to_finance_and_the_rest_of_the_file_is_imported(
        browser_as, make_case, citizen, staff, db_session, app, monkeypatch):
    discharged = clock.today() - timedelta(days=20)  # within the claim deadline, whatever day the suite runs
    cases = []
    for code, number in ((MONEY_ITEM, "PAYPAGE-1"), ("G002036006002", "PAYPAGE-2")):  # 门诊, then 住院费用报销
        form = {"payee_account": CARD, "hospital_level": "三级", "invoices": [{
            "number": number, "issued_on": discharged.isoformat(), "institution": "长春市中心医院",
            "visit_type": "门诊", "total": "1000.00"}]}
        if code != MONEY_ITEM:
            form.update({"admitted_on": (discharged - timedelta(days=5)).isoformat(),
                         "discharged_on": discharged.isoformat(), "care_area": "参保地（统筹区内）"})
        cases.append(advance(make_case(code, citizen, form=form), staff, "paying"))
    db_session.commit()
    finance, _account = browser_as("payunfin", Role.FINANCE)
    finance.set_cookie("lang", "zh_Hans_CN")
    page = finance.get("/staff/payments").get_data(as_text=True)
    finance.post("/staff/payments/batches", data={"csrf_token": csrf_from(page)})
    batch = db_session.execute(select(PaymentBatch)).scalar_one()
    download = finance.post(f"/staff/payments/batches/{batch.id}/file", data={"csrf_token": csrf_from(page)})
    with app.app_context():
        answer = local_bank.answer(get_bank_files(app), download.data)
    # the first case's item left the catalog meanwhile (a catalog update): its completion is refused
    monkeypatch.setitem(app.extensions, "portal_catalog", _Without(app.extensions["portal_catalog"], MONEY_ITEM))
    done = finance.post(f"/staff/payments/batches/{batch.id}/return", follow_redirects=True,
                        data={"csrf_token": csrf_from(page), "file": (__import__("io").BytesIO(answer), "return.csv")})
    monkeypatch.undo()
    html = done.get_data(as_text=True)
    assert f"批次 {batch.number} 的回盘文件已导入：成功 2 笔，失败 0 笔。" in html
    assert f"办件{cases[0].number}已支付，但未能办结" in html  # named, with the reason, in the reader's language
    db_session.refresh(cases[0])
    db_session.refresh(cases[1])
    assert (cases[0].state, cases[1].state) == ("paying", "completed")


class _Without:
    """The catalog without one item (as after a catalog update that removed it)."""

    def __init__(self, catalog, code: str) -> None:
        self._catalog, self._code = catalog, code

    def get(self, code: str):
        return None if code == self._code else self._catalog.get(code)

    def __getattr__(self, name: str):
        return getattr(self._catalog, name)
