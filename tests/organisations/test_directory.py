"""The public list of designated institutions (/guide/institutions): only those in their agreement or suspended
(saying so, with the day), searchable by name, district, grade and kind, 20 a page, no personal data; Chinese and
English, elder mode; linked from the guide and the 异地就医 page as this service's addition; demo institutions."""

from __future__ import annotations

import re
from datetime import date

from portal.organisations.demo import DEMO_INSTITUTIONS, ensure_demo_institution_agent, ensure_demo_institutions


def _names(page: str) -> list[str]:
    return re.findall(r'<h3 lang="zh-Hans">([^<]+)', page)


def test_only_institutions_in_their_agreement_or_suspended_are_listed(client, make_institution):
    make_institution("长春甲医院")
    make_institution("长春乙药房", kind="pharmacy", status="suspended", suspended_on=date(2026, 6, 1))
    make_institution("长春丙诊所", status="terminated")
    make_institution("长春丁诊所", status="none")
    make_institution("四川某医院", region="sichuan")
    page = client.get("/guide/institutions").get_data(as_text=True)
    assert _names(page) == ["长春乙药房", "长春甲医院"]
    assert "Institutions found: 2" in page
    suspended = page[page.index("长春乙药房"):]
    assert "Agreement suspended" in suspended[:1500] and "from" in suspended[:1500]
    assert "this service&#39;s own addition" in page or "this service's own addition" in page
    assert "赵院长" not in page and "legal" not in page.lower()  # no personal data


def test_search_by_name_district_grade_kind_and_standing(client, make_institution):
    make_institution("长春甲医院", area="南关区", level="level_3")
    make_institution("长春乙医院", area="朝阳区", level="level_1")
    make_institution("长春甲药房", area="朝阳区", kind="pharmacy")
    make_institution("长春甲诊所", area="南关区", level="unrated", status="suspended")
    get = lambda query: _names(client.get(f"/guide/institutions?{query}").get_data(as_text=True))  # noqa: E731
    assert get("q=甲") == ["长春甲医院", "长春甲药房", "长春甲诊所"]
    assert get("area=朝阳区") == ["长春乙医院", "长春甲药房"]
    assert get("level=level_3") == ["长春甲医院"]
    assert get("kind=pharmacy") == ["长春甲药房"]
    assert get("status=suspended") == ["长春甲诊所"]
    assert get("q=甲&area=南关区&status=in_force") == ["长春甲医院"]
    assert get("q=%25") == [] and get("level=bogus") == get("")  # a LIKE wildcard is literal; bad values ignored
    page = client.get("/guide/institutions").get_data(as_text=True)
    assert '<option value="朝阳区" lang="zh-Hans"' in page


def test_the_list_is_paged_by_twenty_and_keeps_the_search(client, make_institution):
    for n in range(25):
        make_institution(f"长春{n:02d}号医院", area="南关区")
    first = client.get("/guide/institutions?area=南关区").get_data(as_text=True)
    assert len(_names(first)) == 20 and "Page 1 of 2" in first
    link = re.search(r'href="([^"]+)" rel="next"', first)[1].replace("&amp;", "&")
    assert "area=" in link and "page=2" in link
    second = client.get(link).get_data(as_text=True)
    assert _names(second) == [f"长春{n:02d}号医院" for n in range(20, 25)]
    assert client.get("/guide/institutions?page=x").status_code == 200


def test_chinese_and_elder_mode(make_client, make_institution):
    make_institution("长春甲医院")
    browser = make_client()
    browser.set_cookie("lang", "zh_Hans_CN")
    browser.set_cookie("elder", "1")
    page = browser.get("/guide/institutions").get_data(as_text=True)
    assert "定点医药机构" in page and "协议期内" in page and 'class="elder"' in page


def test_the_guide_and_the_remote_care_page_link_to_it_as_this_services_addition(client):
    for url in ("/guide/", "/remote-care/"):
        page = client.get(url).get_data(as_text=True)
        link = re.search(r'<p[^>]*>[^<]*<a href="/guide/institutions"[^>]*>[^<]*</a>[^<]*(<span[^>]*>[^<]*)?', page)
        assert link, url
        assert "this service" in link[0] or "this service" in page[page.index("/guide/institutions") - 300:
                                                                     page.index("/guide/institutions") + 300]


def test_demo_institutions_are_marked_and_made_once(app, client, db_session):
    made = ensure_demo_institutions("jilin")
    assert len(made) == len(DEMO_INSTITUTIONS) and all(name.startswith("长春演示") for name in made)
    assert ensure_demo_institutions("jilin") == []
    assert ensure_demo_institution_agent("jilin") == "长春演示第一医院"
    assert ensure_demo_institution_agent("jilin") is None
    page = client.get("/guide/institutions").get_data(as_text=True)
    listed = _names(page)
    assert "长春演示平价药店" not in listed and len(listed) == len(DEMO_INSTITUTIONS) - 1  # the ended one is not
    assert page.count('<span class="tag">demo</span>') == len(listed)
