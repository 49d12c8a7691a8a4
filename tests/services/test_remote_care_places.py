"""The destination picker's data (/remote-care/divisions.json): every division one may file to, with its parent and
its pinyin from pypinyin, so the page's script can cascade the lists and search by name or pinyin initials; and the
page without the script still offers the reload that refreshes the lists."""

from __future__ import annotations

from portal.services.remote_care import divisions
from tests.conftest import csrf_from


def test_the_data_has_every_division_with_parent_and_pinyin(client):
    response = client.get("/remote-care/divisions.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "max-age" in response.headers["Cache-Control"]
    rows = {row[0]: row for row in response.get_json()["divisions"]}
    assert len(rows) > 3000
    assert rows["440100"] == ["440100", "广州市", "440000", "gzs", "guangzhoushi"]
    assert rows["440106"][1:4] == ["天河区", "440100", "thq"]
    assert rows["611000"][1:3] == ["商洛市", "610000"]
    assert rows["110000"][2] == ""  # a province has no parent
    assert not {"710000", "810000", "820000"} & set(rows)  # outside the direct-settlement network
    # the same lists the form offers without the script
    assert {c for c, r in rows.items() if r[2] == "440000"} == {d.code for d in divisions.cities("440000")}
    assert {c for c, r in rows.items() if r[2] == "440100"} == {d.code for d in divisions.counties("440100")}


def test_without_the_script_the_page_reloads_the_lists(citizen, browser_for):
    browser = browser_for(citizen)
    url = "/remote-care/file/resettled_retiree"
    page = browser.get(url).get_data(as_text=True)
    assert 'id="update-places"' in page and 'class="field place-search" hidden' in page  # search needs the script
    assert 'data-level="city" hidden' in page
    page = browser.post(url, data={"csrf_token": csrf_from(page), "province": "440000", "action": "places"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-level="city" hidden' not in html and 'value="440300"' in html
    assert 'data-url="/remote-care/divisions.json"' in html and "js/places.js" in html
