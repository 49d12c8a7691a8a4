"""The catalog API: the same data as the pages, as JSON."""

import dataclasses

import pytest

pytestmark = pytest.mark.no_db


def test_list_items_shape_and_filters(app, client):
    catalog = app.extensions["portal_catalog"]
    body = client.get("/api/v1/catalog/items").get_json()
    assert body["region"] == catalog.region.id
    assert body["count"] == len(catalog.items) == len(body["items"])
    first = body["items"][0]
    assert set(first) == {"code", "name", "part", "audience", "handling", "time_limit", "online", "online_is_addition"}
    assert set(first["name"]) == {"zh", "en"} and first["time_limit"]["wording"]

    units = client.get("/api/v1/catalog/items?audience=unit").get_json()
    assert units["count"] > 0 and all("unit" in i["audience"] for i in units["items"])
    part = catalog.region.parts[0].id
    in_part = client.get(f"/api/v1/catalog/items?part={part}").get_json()
    assert in_part["count"] == len(catalog.items_in_part(part))


def test_search_through_the_api(client):
    body = client.get("/api/v1/catalog/items", query_string={"q": "异地"}).get_json()
    assert body["count"] > 0
    assert any("异地" in i["name"]["zh"] for i in body["items"])


def test_item_detail_carries_everything_published(app, client):
    item = max(app.extensions["portal_catalog"].items, key=lambda i: len(i.materials))
    body = client.get(f"/api/v1/catalog/items/{item.code}").get_json()
    assert body["item"]["code"] == item.code
    assert len(body["item"]["materials"]) == len(item.materials)
    assert body["item"]["time_limit"]["wording"] == item.time_limit.wording


def test_unknown_item_and_bad_filters_use_the_error_envelope(client):
    missing = client.get("/api/v1/catalog/items/NOPE")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    bad = client.get("/api/v1/catalog/items?audience=aliens")
    assert bad.status_code == 422
    assert "audience" in bad.get_json()["error"]["fields"]
    extra = client.get("/api/v1/catalog/items?colour=red")
    assert extra.status_code == 422


def test_openapi_documents_the_catalog_endpoints(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/catalog/items" in doc["paths"]
    assert "/api/v1/catalog/items/{code}" in doc["paths"]
    get_item = doc["paths"]["/api/v1/catalog/items/{code}"]["get"]
    assert get_item["parameters"][0]["name"] == "code"
    assert "404" in get_item["responses"]


def test_the_list_follows_the_catalog_it_is_made_from(app, client):
    """The list is made once per catalog: a catalog with other data (a new catalog object) is listed at once."""
    catalog = app.extensions["portal_catalog"]
    before = client.get("/api/v1/catalog/items").get_json()
    assert client.get("/api/v1/catalog/items").get_json() == before  # the same answer, kept
    first = catalog.items[0]
    renamed = first.model_copy(update={"name": first.name.model_copy(update={"zh": "改名后的事项"})})
    items = (renamed, *catalog.items[1:3])
    changed = dataclasses.replace(catalog, items=items, by_code={i.code: i for i in items}, version="changed")
    app.extensions["portal_catalog"] = changed
    try:
        body = client.get("/api/v1/catalog/items").get_json()
    finally:
        app.extensions["portal_catalog"] = catalog
    assert body["count"] == 3 and body["items"][0]["name"]["zh"] == "改名后的事项"
    assert client.get("/api/v1/catalog/items").get_json() == before


def test_an_unchanged_answer_is_not_sent_again(app, client):
    """The catalog's answers carry an ETag: asked again with it, 304 and no body; another answer has another tag."""
    item = app.extensions["portal_catalog"].items[0]
    for url in ("/api/v1/catalog/items", "/api/v1/catalog/items?audience=unit", f"/api/v1/catalog/items/{item.code}"):
        first = client.get(url)
        assert first.status_code == 200 and first.headers["Cache-Control"] == "no-cache" and first.get_etag()[0]
        again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == first.headers["ETag"]
        stale = client.get(url, headers={"If-None-Match": '"an-older-answer"'})
        assert stale.status_code == 200 and stale.get_json() == first.get_json()
    tags = {client.get(u).headers["ETag"] for u in ("/api/v1/catalog/items", "/api/v1/catalog/items?audience=unit",
                                                     f"/api/v1/catalog/items/{item.code}")}
    assert len(tags) == 3


def test_a_search_is_answered_afresh_and_a_changed_catalog_at_once(app, client):
    from portal.catalog import api

    searched = client.get("/api/v1/catalog/items", query_string={"q": "异地"})
    assert searched.status_code == 200 and searched.get_json()["count"] >= 1
    assert not [key for key in api._kept_answers.held_keys() if "异地" in str(key)]  # what people type is not kept
    catalog = app.extensions["portal_catalog"]
    first = catalog.items[0]
    before = client.get(f"/api/v1/catalog/items/{first.code}")
    renamed = first.model_copy(update={"name": first.name.model_copy(update={"zh": "改名后的事项"})})
    changed = dataclasses.replace(catalog, items=(renamed, *catalog.items[1:]),
                                  by_code={**catalog.by_code, first.code: renamed}, version="renamed")
    app.extensions["portal_catalog"] = changed
    try:
        after = client.get(f"/api/v1/catalog/items/{first.code}", headers={"If-None-Match": before.headers["ETag"]})
    finally:
        app.extensions["portal_catalog"] = catalog
    assert after.status_code == 200 and after.get_json()["item"]["name"]["zh"] == "改名后的事项"
    assert after.headers["ETag"] != before.headers["ETag"]


def test_the_api_description_says_an_unchanged_answer_is_304_without_a_body(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    listed = doc["paths"]["/api/v1/catalog/items"]["get"]
    assert "content" not in listed["responses"]["304"] and "content" in listed["responses"]["200"]
    assert {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}} in \
        listed["parameters"]
