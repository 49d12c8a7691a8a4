"""Filing online is this deployment's switch per item (`online` in the catalog data, default per region): an item
switched off cannot be filed, on the pages or through the API, and every page says so plainly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.accounts import tokens
from portal.applications.models import Application
from portal.catalog.loader import DATA_DIR, Catalog, load_region
from tests.conftest import csrf_from

from .conftest import PROMISE_ITEM
from .test_views import login, page_of

OFF_MESSAGE_ZH = "本服务不提供此事项的网上办理"


@pytest.fixture
def switched_off(app, monkeypatch):
    """The deployment's catalog with PROMISE_ITEM switched off (as `online: false` in its data would)."""
    catalog = app.extensions["portal_catalog"]
    items = tuple(i.model_copy(update={"online": False}) if i.code == PROMISE_ITEM else i for i in catalog.items)
    monkeypatch.setitem(app.extensions, "portal_catalog",
                        Catalog(region=catalog.region, items=items, by_code={i.code: i for i in items}))
    return items


def _cases(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(Application).where(
        Application.item_code == PROMISE_ITEM))


def test_the_switch_and_the_region_default_are_read_from_the_data(tmp_path: Path):
    shutil.copytree(DATA_DIR / "jilin", tmp_path / "jilin")
    region_file = tmp_path / "jilin" / "region.yaml"
    shipped_region = region_file.read_text(encoding="utf-8")
    assert "\nonline_filing: true\n" in shipped_region
    switched_off = shipped_region.replace("\nonline_filing: true\n", "\nonline_filing: false\n")
    region_file.write_text(switched_off, encoding="utf-8")
    item_file = next(p for p in (tmp_path / "jilin" / "items").glob("*.yaml")
                     if f"- code: {PROMISE_ITEM}\n" in p.read_text(encoding="utf-8"))
    item_file.write_text(item_file.read_text(encoding="utf-8").replace(
        f"- code: {PROMISE_ITEM}\n", f"- code: {PROMISE_ITEM}\n  online: true\n"), encoding="utf-8")
    catalog = load_region("jilin", tmp_path)
    assert catalog.get(PROMISE_ITEM).online is True  # the item's own switch wins
    assert all(i.online is False for i in catalog.items if i.code != PROMISE_ITEM)  # the region's default
    shipped = load_region("jilin")
    assert all(i.online is (not i.internal) for i in shipped.items)  # shipped default: online, except internal ones


def test_guide_page_says_so_and_offers_no_button(client, switched_off):
    client.set_cookie("lang", "zh_Hans_CN")
    html = client.get(f"/guide/items/{PROMISE_ITEM}").get_data(as_text=True)
    assert "本服务不提供此事项的网上办理，请通过指南公布的渠道办理。" in html
    assert f'href="/apply/{PROMISE_ITEM}"' not in html


def test_the_web_refuses_to_start_it(make_client, db_session, citizen, switched_off):
    browser = login(make_client(), db_session, citizen.phone)
    browser.set_cookie("lang", "zh_Hans_CN")
    html = page_of(browser, f"/apply/{PROMISE_ITEM}")
    assert OFF_MESSAGE_ZH in html
    assert f'action="/apply/{PROMISE_ITEM}"' not in html  # no start button
    before = _cases(db_session)
    response = browser.post(f"/apply/{PROMISE_ITEM}", data={"csrf_token": csrf_from(html)}, follow_redirects=True)
    assert response.status_code == 200 and OFF_MESSAGE_ZH in response.get_data(as_text=True)
    assert _cases(db_session) == before  # nothing half-made


def test_the_api_refuses_to_start_it(make_client, db_session, citizen, switched_off):
    raw = tokens.issue_token(citizen, label="test")[0]
    db_session.commit()
    api = make_client()
    api.set_cookie("lang", "zh_Hans_CN")
    before = _cases(db_session)
    response = api.post("/api/v1/applications", json={"item_code": PROMISE_ITEM},
                        headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 403
    assert OFF_MESSAGE_ZH in response.get_json()["error"]["message"]
    assert _cases(db_session) == before
    listed = api.get("/api/v1/applications/items", headers={"Authorization": f"Bearer {raw}"}).get_json()
    entry = next(i for i in listed["items"] if i["code"] == PROMISE_ITEM)
    assert entry["can_file"] is False and OFF_MESSAGE_ZH in entry["reason"]
