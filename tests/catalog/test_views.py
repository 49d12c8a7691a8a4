"""The public 办事指南 pages of every region."""

from __future__ import annotations

import re
from html import unescape

import pytest

from portal import create_app
from portal.catalog.loader import region_ids

REGIONS = region_ids()


@pytest.fixture(scope="module", params=REGIONS)
def region_app(request, tmp_path_factory):
    """An app deployed for each region (catalog pages read no database)."""
    return create_app({"ENV": "testing", "REGION": request.param, "DATABASE_URL": "sqlite://",
                       "INSTANCE_PATH": str(tmp_path_factory.mktemp("inst"))})


@pytest.fixture
def region_client(region_app):
    """A fresh client (Chinese, the default language) of the region's app."""
    return region_app, region_app.test_client()


@pytest.mark.no_db
def test_every_item_page_of_every_region_renders_in_both_languages(region_client):
    app, client = region_client
    catalog = app.extensions["portal_catalog"]
    for lang in ("zh_Hans_CN", "en"):
        client.set_cookie("lang", lang)
        for item in catalog.items:
            for url in (f"/guide/items/{item.code}", f"/guide/items/{item.code}/checklist"):
                response = client.get(url)
                assert response.status_code == 200, (catalog.region.id, url, lang)
                html = unescape(response.get_data(as_text=True))
                assert (item.name.en if lang == "en" else item.name.zh) in html, (url, lang)


@pytest.mark.no_db
def test_index_groups_every_item_under_its_part(region_client):
    app, client = region_client
    catalog = app.extensions["portal_catalog"]
    html = client.get("/guide/").get_data(as_text=True)
    assert html.count('href="/guide/items/') == len(catalog.items)
    for part in catalog.region.parts:
        if catalog.items_in_part(part.id):
            assert part.name.zh in html


@pytest.mark.no_db
@pytest.mark.parametrize(("query", "family"),
                         [("异地", "remote_care"), ("凭证", "certificates"), ("生育", "maternity")])
def test_search_finds_the_items_people_look_for(region_client, query, family):
    """异地 finds the 异地就医备案 items, 凭证 the certificate items, 生育 the maternity items."""
    app, client = region_client
    catalog = app.extensions["portal_catalog"]
    wanted = {i.code for i in catalog.items if i.handler.startswith(family) and query in i.name.zh}
    assert wanted, f"{catalog.region.id} has no {family} item named with {query}"
    html = client.get("/guide/", query_string={"q": query}).get_data(as_text=True)
    found = set(re.findall(r'<a href="/guide/items/([^"]+)"><strong>', html))
    assert wanted <= found, wanted - found


@pytest.mark.no_db
def test_item_page_shows_the_flow_diagram_with_a_text_alternative(region_client):
    app, client = region_client
    item = next(i for i in app.extensions["portal_catalog"].items if len(i.steps) >= 3)
    html = client.get(f"/guide/items/{item.code}").get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="flow"' in html
    assert 'role="img"' in html and "<title id=" in html and "<desc id=" in html
    assert '<ol class="steps">' in html


@pytest.mark.no_db
def test_contacts_page_renders(region_client):
    app, client = region_client
    response = client.get("/guide/contacts")
    assert response.status_code == 200
    assert app.extensions["portal_catalog"].region.agency.name.zh in response.get_data(as_text=True)


@pytest.mark.no_db
def test_unknown_item_is_a_friendly_404(region_client):
    _app, client = region_client
    response = client.get("/guide/items/NOPE-404")
    assert response.status_code == 404
    assert "<html" in response.get_data(as_text=True)


@pytest.mark.no_db
def test_overlong_and_odd_queries_never_fail(region_client):
    _app, client = region_client
    for q in ("x" * 5000, "%00", "<script>", "' OR 1=1 --", "   "):
        response = client.get("/guide/", query_string={"q": q, "audience": "nobody"})
        assert response.status_code == 200
        assert "<script>" not in response.get_data(as_text=True).split("</form>")[0].split("value=")[-1]


def time_limit_of(region: str, name: str, tmp_path_factory) -> str:
    app = create_app({"ENV": "testing", "REGION": region, "DATABASE_URL": "sqlite://",
                      "INSTANCE_PATH": str(tmp_path_factory.mktemp("inst"))})
    item = next(i for i in app.extensions["portal_catalog"].items if i.name.zh == name)
    html = app.test_client().get(f"/guide/items/{item.code}").get_data(as_text=True)
    return re.search(r'<span class="time-limit">([^<]+)</span>', html).group(1)


@pytest.mark.no_db
def test_each_deployment_shows_its_own_time_limit_for_the_same_item(tmp_path_factory):
    yueyang = time_limit_of("yueyang", "单位参保登记", tmp_path_factory)
    linkou = time_limit_of("linkou", "单位参保登记", tmp_path_factory)
    assert "5" in yueyang and "工作日" in yueyang
    assert "即时" in linkou


# --- the guide says only what the seed says (curation notes and the footer) ---


@pytest.mark.no_db
def test_no_curation_note_reaches_a_public_page_or_the_api(region_client):
    """The maintainers' notes (``audit``) are provenance: never on the guide pages nor in the public API."""
    app, client = region_client
    catalog = app.extensions["portal_catalog"]
    notes = [a.text for a in catalog.region.audit] + [a.text for item in catalog.items for a in item.audit]
    assert notes, "the region's data records how its seed defects were resolved"
    for lang in ("zh_Hans_CN", "en"):
        client.set_cookie("lang", lang)
        pages = ["/guide/", "/guide/contacts"] + [f"/guide/items/{item.code}" for item in catalog.items]
        for url in pages:
            html = unescape(client.get(url).get_data(as_text=True))
            leaked = [note for note in notes if note in html]
            assert not leaked, (catalog.region.id, url, lang, leaked[:1])
    for item in catalog.items:
        body = client.get(f"/api/v1/catalog/items/{item.code}").get_json()
        assert "audit" not in body["item"], item.code


@pytest.mark.no_db
def test_the_footer_shows_only_the_hotline_the_region_publishes(region_client):
    """12393 is in the 吉林 guide only; a region that publishes no general hotline shows none on any page."""
    app, client = region_client
    region = app.extensions["portal_catalog"].region
    published = {c.phone for c in region.consultation if c.in_footer}
    html = client.get("/guide/").get_data(as_text=True)
    footer = html[html.index('<footer'):]
    shown = set(re.findall(r'href="tel:([0-9]+)"', footer))
    assert shown == {p.replace("-", "") for p in published}
    assert ("12393" in footer) is (region.id == "jilin")
    assert 'href="/guide/contacts"' in footer
