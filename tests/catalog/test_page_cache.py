"""Public guide pages are kept per region, language, mode and catalog data version; ETag and 304; fingerprinted
static files."""

from __future__ import annotations

import dataclasses
import re

import pytest

from portal.core import pagecache


@pytest.fixture(autouse=True)
def _empty_cache():
    pagecache.clear()
    yield
    pagecache.clear()


def _renders(monkeypatch) -> list[str]:
    """The templates rendered from now on (catalog views render through this name)."""
    from portal.catalog import views

    seen: list[str] = []
    real = views.render_template

    def counting(name, **context):
        seen.append(name)
        return real(name, **context)

    monkeypatch.setattr(views, "render_template", counting)
    return seen


def test_a_guide_page_is_rendered_once_and_answers_304_to_its_etag(client, monkeypatch):
    renders = _renders(monkeypatch)
    first = client.get("/guide/")
    second = client.get("/guide/")
    assert first.status_code == second.status_code == 200 and first.data == second.data
    assert renders == ["catalog/index.html"]
    assert first.headers["ETag"] and first.headers["Cache-Control"] == "no-cache" and "Cookie" in first.headers["Vary"]
    unchanged = client.get("/guide/", headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.data == b"" and renders == ["catalog/index.html"]
    assert client.get("/guide/", headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.no_db  # each request in an app context of its own, as in production (the language is read per context)
def test_the_kept_page_follows_the_language_and_elder_mode(client, monkeypatch):
    renders = _renders(monkeypatch)
    chinese = client.get("/guide/contacts").get_data(as_text=True)
    client.set_cookie("lang", "en")
    english = client.get("/guide/contacts")
    client.set_cookie("elder", "1")
    elder = client.get("/guide/contacts")
    assert '<html lang="zh-Hans">' in chinese and '<html lang="en">' in english.get_data(as_text=True)
    assert english.headers["ETag"] != elder.headers["ETag"] and len(renders) == 3
    client.delete_cookie("lang")
    client.delete_cookie("elder")
    assert client.get("/guide/contacts").get_data(as_text=True) == chinese and len(renders) == 3


def test_the_kept_page_changes_when_the_catalog_data_changes(app, client):
    catalog = app.extensions["portal_catalog"]
    before = client.get("/guide/")
    renamed = dataclasses.replace(catalog, region=catalog.region.model_copy(
        update={"name": catalog.region.name.model_copy(update={"zh": "测试改名医疗保障局"})}), version="changed-data")
    app.extensions["portal_catalog"] = renamed
    try:
        after = client.get("/guide/")
    finally:
        app.extensions["portal_catalog"] = catalog
    assert "测试改名医疗保障局" in after.get_data(as_text=True)
    assert "测试改名医疗保障局" not in before.get_data(as_text=True)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert client.get("/guide/").data == before.data  # the data as it was: the page as it was


def test_a_visitor_with_a_session_gets_a_page_of_their_own(app, client, monkeypatch):
    renders = _renders(monkeypatch)
    client.get("/guide/contacts")
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], "anything")
    own = client.get("/guide/contacts")
    assert own.status_code == 200 and "ETag" not in own.headers and own.headers["Cache-Control"] == "no-store"
    assert len(renders) == 2


def test_each_answer_carries_the_requests_own_csp_nonce(app):
    """A kept page is rendered with a placeholder nonce; every answer puts in its own, matching its CSP header."""
    from flask import render_template_string

    @pagecache.public_page
    def scripted():
        return render_template_string('<script nonce="{{ csp_nonce() }}">1</script>')

    nonces = []
    for _ in range(2):
        with app.test_request_context("/a-scripted-page"):
            app.preprocess_request()
            response = app.process_response(scripted())
        nonce = re.search(r'nonce="([^"]+)"', response.get_data(as_text=True)).group(1)
        assert f"'nonce-{nonce}'" in response.headers["Content-Security-Policy"]
        nonces.append(nonce)
    assert nonces[0] != nonces[1] and pagecache.NONCE_PLACEHOLDER not in nonces


def test_static_files_are_linked_by_fingerprint_and_kept_for_a_year(client):
    page = client.get("/guide/").get_data(as_text=True)
    linked = re.search(r'href="(/static/css/portal\.css\?v=([0-9a-f]{12}))"', page)
    assert linked, "the stylesheet is linked with its fingerprint"
    with client.get(linked.group(1)) as kept:
        assert kept.status_code == 200 and kept.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    with client.get("/static/css/portal.css?v=000000000000") as stale:
        assert "max-age=31536000" not in stale.headers.get("Cache-Control", "")
