"""The 长期护理 assessment on the staff case page: the reviewer enters the score of each item of the ADL scale (the
seed's words as the choices), a wrong entry comes back at its item with what was entered kept, the total and the
失能等级 are shown, and approval then goes through; completion puts the level in the person's benefit record."""

from __future__ import annotations

from portal.accounts.models import Role
from portal.insurance.constants import BenefitKind
from portal.services.benefits.records import held
from portal.services.long_term_care import operations as care
from tests.conftest import csrf_from

ASSESSMENT = "J002036013001"
MODERATE = {"bowel": "10", "bladder": "10", "grooming": "5", "toilet": "10", "feeding": "10", "transfer": "15",
            "mobility": "0", "dressing": "0", "stairs": "0", "bathing": "0"}  # 60: 中度失能


def _post(browser, page: str, action: str, data: dict, *, follow: bool = True):
    token = csrf_from(browser.get(page).get_data(as_text=True))
    return browser.post(f"{page}/{action}", data={"csrf_token": token, **data}, follow_redirects=follow)


def test_the_reviewer_records_the_assessment_and_approves(browser_as, make_case, citizen, db_session):
    case = make_case(ASSESSMENT, citizen)
    page = f"/staff/cases/{case.id}"
    acceptor, _ = browser_as("ltcacc", Role.ACCEPTOR)
    _post(acceptor, page, "claim", {"version": ""})
    _post(acceptor, page, "decide", {"version": case.version, "action": "accept"})
    reviewer, _ = browser_as("ltcrev", Role.REVIEWER)
    _post(reviewer, page, "claim", {"version": ""})
    _post(reviewer, page, "decide", {"version": case.version, "action": "start_review"})
    html = reviewer.get(page).get_data(as_text=True)
    assert "5 分：能掌握排便的基本步骤，但生理上不能控制，偶有失禁，需要尿垫类物品协助" in html  # the seed's words
    assert "WS/T 431" in html
    # approving before the assessment is refused
    refused = _post(reviewer, page, "decide", {"version": case.version, "action": "approve"}).get_data(as_text=True)
    assert "Enter the ADL assessment" in refused
    # a score the item does not have, and one item left out: both named, the rest kept
    wrong = {**{f"score_{k}": v for k, v in MODERATE.items()}, "score_bowel": "7", "assessed_on": "2026-01-05"}
    del wrong["score_stairs"]
    response = _post(reviewer, page, "assessment", {"version": case.version, **wrong}, follow=False)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "“控制大便” is scored 0、2、5、8、10." in body and "Score “上下楼梯”." in body
    assert 'name="score_transfer" value="15" checked' in body and 'value="2026-01-05"' in body
    assert care.assessment_of(case) is None
    done = _post(reviewer, page, "assessment", {"version": case.version, "assessed_on": "2026-01-05",
                                                **{f"score_{k}": v for k, v in MODERATE.items()}})
    body = done.get_data(as_text=True)
    assert "Assessment recorded: 60 points, 中度失能." in body
    assert 'id="assessment-total">60 / 100' in body
    _post(reviewer, page, "decide", {"version": case.version, "action": "approve"})
    db_session.refresh(case)
    assert case.state == "approved"
    _post(reviewer, page, "claim", {"version": ""})
    _post(reviewer, page, "decide", {"version": case.version, "action": "complete"})
    db_session.refresh(case)
    assert case.state == "completed"
    [record] = held(citizen.person_id, [BenefitKind.LONG_TERM_CARE])
    assert record.level == "中度失能"
