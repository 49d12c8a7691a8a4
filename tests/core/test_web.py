"""Request plumbing: security headers (S15), errors in the user's language, JSON-only API (S8, S18)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.no_db


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/guide/")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "script-src 'self' 'nonce-"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # the guide holds nothing personal: browsers may keep it but ask again (ETag); other pages are never kept
    assert response.headers["Cache-Control"] == "no-cache" and response.headers["ETag"]
    assert client.get("/me/records").headers["Cache-Control"] == "no-store"
    assert len(response.headers["X-Request-ID"]) >= 8


def test_each_response_gets_a_fresh_nonce(client):
    first = client.get("/").headers["Content-Security-Policy"]
    second = client.get("/").headers["Content-Security-Policy"]
    assert first != second


def test_hsts_only_in_production(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_unknown_page_is_a_chinese_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert '<html lang="zh-Hans">' in response.get_data(as_text=True)


def test_api_errors_use_one_envelope(client):
    response = client.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    body = response.get_json()
    assert body["error"]["code"] == "not_found" and body["error"]["message"]


def a_post_route(app, prefix: str) -> str:
    """Some POST route under ``prefix`` without path arguments."""
    return next(r.rule for r in app.url_map.iter_rules()
                if r.rule.startswith(prefix) and "POST" in r.methods and not r.arguments)


def test_api_refuses_non_json_bodies(app, client):
    response = client.post(a_post_route(app, "/api/v1/"), data="hello", content_type="text/plain")
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"


def test_oversized_bodies_are_refused_with_a_message(app, client):
    too_big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    page = client.post(a_post_route(app, "/login"), data=too_big, content_type="application/x-www-form-urlencoded")
    assert page.status_code in (400, 413)  # CSRF may answer first; either way nothing is processed
    api = client.post(a_post_route(app, "/api/v1/"), data=too_big, content_type="application/json")
    assert api.status_code == 413
    assert api.get_json()["error"]["code"] == "too_large"


def test_api_speaks_english_when_asked(client):
    response = client.get("/api/v1/catalog/items/NOPE", headers={"Accept-Language": "en"})
    assert "There is no service item" in response.get_json()["error"]["message"]


def test_language_switch_keeps_the_user_on_the_page_and_refuses_open_redirects(client):
    response = client.get("/lang/en?next=/guide/")
    assert response.status_code == 302 and response.headers["Location"] == "/guide/"
    assert "lang=en" in response.headers["Set-Cookie"]
    assert '<html lang="en">' in client.get("/guide/").get_data(as_text=True)
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        assert client.get("/lang/en", query_string={"next": evil}).headers["Location"] == "/"


def test_elder_mode_switch_sets_the_page_class(client):
    client.get("/elder/on?next=/")
    assert '<body class="elder">' in client.get("/").get_data(as_text=True)
    client.get("/elder/off?next=/")
    assert '<body class="">' in client.get("/").get_data(as_text=True)


def test_openapi_lists_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = rule.rule
        for part in rule.arguments:
            path = path.replace(f"<{part}>", "{" + part + "}")
            for conv in ("int", "string", "path"):
                path = path.replace(f"<{conv}:{part}>", "{" + part + "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (path, method)
