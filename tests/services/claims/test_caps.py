"""The yearly cap (封顶线) on 我的参保记录: per year and policy table, the cap, what counts against it (payments
waiting, sent or paid; not failed ones), what is left, and the working with the cases counted."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.core import clock
from portal.core.db import db
from portal.core.formatting import money
from portal.services.claims import caps
from portal.services.claims import operations as claims
from portal.services.claims.policy import policy_on
from tests.factories import log_in_by_code as login
from tests.services.claims.test_batches import _paying


@pytest.fixture
def records(make_client, db_session, citizen):
    def _page(lang: str = "zh_Hans_CN") -> str:
        db_session.commit()
        browser = login(make_client(), db_session, citizen.phone)
        browser.set_cookie("lang", lang)
        answer = browser.get("/me/records")
        assert answer.status_code == 200
        return answer.get_data(as_text=True)
    return _page


def _section(page: str, year: int, scheme: str) -> str:
    start = page.index(f'id="cap-{year}-{scheme}"')
    return page[start:page.index("</details>", start)]


def test_without_claims_the_current_year_shows_the_policys_cap_untouched(app, at, citizen, records):
    at(2026, 6, 1)
    scheme = caps._medical_scheme(citizen.person)
    cap = policy_on(app.config["PORTAL_REGION"], clock.today()).reimbursement[(scheme, "in_area")].annual_cap
    page = records()
    section = _section(page, 2026, scheme)
    with app.test_request_context("/"):
        assert money(cap) in section and money(Decimal("0")) in section
    assert "2026年" in section and "暂无" in section and "现行" in section
    assert "演示" in section  # the policy data marks this cap demo


def test_approved_claims_count_against_the_cap_of_their_year_with_their_working(app, at, make_case, citizen, staff,
                                                                               records):
    at(2026, 6, 1)
    waiting = _paying(make_case, citizen, staff, "CAP-1", total="1000.00")
    failed = _paying(make_case, citizen, staff, "CAP-2", total="3000.00")
    payment = claims.claim_of(failed).payment  # the bank could not pay it: it does not count
    payment.state, payment.failed_at, payment.failure_reason = "failed", clock.now(), "账户已销户"
    db.session.flush()
    claim = claims.claim_of(waiting)
    used = claim.payment.amount
    cap = Decimal(next(x["cap"] for x in claim.working if x["key"] == "within_cap"))
    assert used > 0
    [year] = [c for c in caps.cap_years(citizen.person, app.config["PORTAL_REGION"], clock.today())
              if c.year == 2026 and c.scheme == claim.scheme]
    assert (year.cap, year.used, year.remaining) == (cap, used, cap - used)
    assert [c.case_number for c in year.counted] == [waiting.number]
    page = records()
    section = _section(page, 2026, claim.scheme)
    with app.test_request_context("/"):
        assert money(cap - used) in section and money(used) in section and money(cap) in section
    assert waiting.number in section and failed.number not in section
    assert "最近一笔" in section  # the cap is the one the claim was computed with
    english = records("en")
    assert "Remaining" in _section(english, 2026, claim.scheme) and f"{waiting.number}</a>" in english
    from tests.test_route_matrix import ChineseOutsideLang

    walk = ChineseOutsideLang()  # the English page: Chinese only where marked as quoted (the item's name)
    walk.feed(english)
    assert not walk.stray, walk.stray


def test_a_claim_of_last_year_is_shown_under_its_own_year(app, at, make_case, citizen, staff):
    at(2026, 1, 10)  # care of December 2025, claimed in January: it counts against 2025's cap, not 2026's
    case = _paying(make_case, citizen, staff, "CAP-3")
    assert claims.claim_of(case).benefit_year == 2025
    years = {(c.year, c.scheme): c for c in caps.cap_years(citizen.person, app.config["PORTAL_REGION"],
                                                            clock.today())}
    scheme = claims.claim_of(case).scheme
    assert years[(2025, scheme)].used == claims.claim_of(case).payment.amount
    assert years[(2026, caps._medical_scheme(citizen.person))].used == Decimal("0.00")
