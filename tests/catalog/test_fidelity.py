"""The guide says only what the seed says (issue 24): a sweep over every item page, checklist and API item of all
five regions, and a check that every material attribute the pages state (seal, original/copy, data sharing) is
traceable to a quote from the seed that occurs in that item's lines of the seed file.

The seeds are read from /work/shared/seeds (../shared/seeds in CI); tests that need them skip without them.
"""

from __future__ import annotations

import re
from functools import cache
from html import unescape

import pytest

from portal import create_app
from portal.catalog.loader import get_catalog, region_ids
from portal.catalog.schema import Form, Item, SealBy

from .test_regions import seeds_dir, squash

REGIONS = region_ids()
pytestmark = pytest.mark.no_db

# A run of three or more Latin-alphabet words: an English sentence (or its fragment) on a Chinese page.
LATIN_SENTENCE = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ ,.:;()/&]+[A-Za-z][A-Za-z'’-]*){2,}")
URL = re.compile(r"(?:https?://)?[\w-]+(?:\.[\w-]+)+(?:/\S*)?")
INVENTED = ("由经办机构通过数据共享获取", "您无需提供", "材料齐全的为即办件")


def require_seeds() -> None:
    if seeds_dir() is None:
        pytest.skip("the seeds (../shared/seeds or /work/shared/seeds) are not available")


@cache
def seed_lines(region: str) -> tuple[str, ...]:
    folder = seeds_dir()
    assert folder is not None
    name = get_catalog(region).region.seed_file.rsplit("/", 1)[-1]
    return tuple((folder / name).read_text(encoding="utf-8").split("\n"))


def item_seed_text(region: str, item: Item) -> str:
    """The item's own lines of its seed (``seed_lines``), whitespace removed."""
    assert item.seed_lines, f"{region} {item.code} has no seed_lines"
    first, _, last = item.seed_lines[1:].partition("-")
    return squash("".join(seed_lines(region)[int(first) - 1:int(last or first)]))


def page_text(html: str) -> str:
    """The visible text of the page's main content and footer (no scripts, styles, SVG or attributes)."""
    html = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def material_blocks(html: str) -> dict[str, str]:
    """Each material's <li> on the item page, by material id."""
    parts = re.split(r'<li class="material" data-material="([a-z0-9_]+)">', html)
    return {parts[n]: parts[n + 1].split('</ol>\n    <p><a href="/guide/items/', 1)[0] for n in range(1, len(parts), 2)}


def classed(block: str, name: str) -> list[str]:
    return [unescape(re.sub(r"<[^>]+>", "", t)).strip()
            for t in re.findall(rf'class="{name}">(.*?)</div>', block, flags=re.S)]


@pytest.fixture(scope="module", params=REGIONS)
def region_app(request, tmp_path_factory):
    """An app deployed for each region (catalog pages read no database)."""
    return create_app({"ENV": "testing", "REGION": request.param, "DATABASE_URL": "sqlite://",
                       "INSTANCE_PATH": str(tmp_path_factory.mktemp("inst"))})


# --- the data: every stated attribute has its seed quote ------------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_each_seal_original_copy_and_data_sharing_quote_occurs_in_the_items_seed_lines(region):
    require_seeds()
    counts = {"seal": 0, "form": 0, "data_sharing": 0}
    missing: list[str] = []
    for item in get_catalog(region).items:
        text = item_seed_text(region, item)
        for m in item.materials:
            quotes = []
            if m.seal is not None:
                quotes.append(("seal", m.seal.quote))
            if m.form is not Form.unspecified:
                quotes.append(("form", m.form_quote))
            if m.data_sharing:
                quotes.append(("data_sharing", m.data_sharing_quote))
            for kind, quote in quotes:
                counts[kind] += 1
                if squash(quote) not in text:
                    missing.append(f"{item.code} {m.id} {kind}: {quote!r} is not in {item.seed_lines}")
    assert not missing, "\n".join(missing)
    assert counts["seal"] > 0 and counts["form"] > 0, counts  # every region's seed states seals and copies


@pytest.mark.parametrize("region", REGIONS)
def test_a_seal_names_who_seals_it_as_the_seed_does(region):
    """No "unit seal" where the seed asks for a hospital's, a pharmacy's or just a valid seal (and the reverse)."""
    for item in get_catalog(region).items:
        for m in item.materials:
            if m.seal is None:
                continue
            words = m.seal.wording
            if re.search("医院|医药机构|医疗机构", words):
                assert m.seal.by is SealBy.hospital, (item.code, m.id, words)
            elif "学校" in words:
                assert m.seal.by is SealBy.school, (item.code, m.id, words)
            elif "社保局" in words:
                assert m.seal.by is SealBy.social_security, (item.code, m.id, words)
            elif "有效" in words:
                assert m.seal.by is SealBy.unspecified, (item.code, m.id, words)
            if m.seal.by is SealBy.unit:
                assert re.search("单位|财务章", words), (item.code, m.id, words)


@pytest.mark.parametrize("region", REGIONS)
def test_handling_type_is_stated_only_in_the_seeds_words(region):
    require_seeds()
    catalog = get_catalog(region)
    seed_uses_the_terms = any("即办件" in line or "承诺件" in line for line in seed_lines(region))
    for item in catalog.items:
        if item.handling.wording is None:
            continue
        assert seed_uses_the_terms, f"{region} {item.code}: the seed never prints 办件类型"
        assert squash(item.handling.wording) in item_seed_text(region, item), item.code


@pytest.mark.parametrize("region", REGIONS)
def test_online_substitutes_are_this_services_and_data_sharing_the_seeds(region):
    """The 异地就医 ID documents and 备案表 are stood in for online by this service's choice, never "data sharing"."""
    for item in get_catalog(region).items:
        for m in item.materials:
            if item.handler.startswith("remote_care") and m.provided_without_upload:
                assert m.online_substitute is not None and not m.data_sharing, (item.code, m.id)


# --- the pages ----------------------------------------------------------------------------------------------------


def test_every_zh_item_page_and_checklist_says_only_what_the_seed_says(region_app):
    require_seeds()
    catalog = region_app.extensions["portal_catalog"]
    region = catalog.region.id
    client = region_app.test_client()
    footer_phones = sorted(c.phone for c in catalog.region.consultation if c.in_footer and c.phone)
    seed_has_handling_terms = any("即办件" in line or "承诺件" in line for line in seed_lines(region))
    checked_seals = checked_forms = 0
    for item in catalog.items:
        for url in (f"/guide/items/{item.code}", f"/guide/items/{item.code}/checklist"):
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.get_data(as_text=True)
            text = page_text(html)
            for sentence in LATIN_SENTENCE.findall(URL.sub(" ", text)):
                pytest.fail(f"{region} {url}: Latin-alphabet text on a Chinese page: {sentence!r}")
            for phrase in INVENTED:
                assert phrase not in text, f"{region} {url}: {phrase}"
            footer = html.split('<footer class="site-footer"', 1)[1]
            assert sorted(re.findall(r'href="tel:[^"]*">([^<]+)</a>', footer)) == footer_phones, url
            if not seed_has_handling_terms:
                assert "即办件" not in text and "承诺件" not in text, url

        html = client.get(f"/guide/items/{item.code}").get_data(as_text=True)
        facts = page_text(html.split('id="facts-title"', 1)[1].split("</section>", 1)[0])
        assert ("事项编码" in facts) == (item.seed_code is not None), item.code
        if item.seed_code:
            assert re.search(rf"事项编码\s+{re.escape(item.seed_code)}\s", facts), item.code
        else:
            assert "本服务编号" in facts and "指南未公布此事项的编码" in facts, item.code
        assert ("办件类型" in facts) == (item.handling.wording is not None), item.code
        if item.handling.wording:
            assert re.search(rf"办件类型\s+{re.escape(item.handling.wording)}\s", facts), item.code
        assert "服务对象" not in facts  # the seed's own 服务对象 text is shown under that name, not our grouping
        if item.service_object:
            assert "服务对象" in page_text(html) and item.service_object.zh in unescape(html)
        # online filing: a switch of this deployment, said as this service's addition where the seed has none
        has_button = "在线办理</a>" in html
        assert has_button == (bool(item.online) and not item.internal), item.code
        assert ("这是本服务在指南公布的办理渠道之外增加的方式" in facts) == item.online_is_addition, item.code

        blocks = material_blocks(html)
        assert list(blocks) == [m.id for m in item.materials], item.code  # the seed's material list, intact
        for m in item.materials:
            block = blocks[m.id]
            seals = classed(block, "material-seal")
            if m.seal is None:
                assert not seals and "盖章：" not in page_text(block), (item.code, m.id)
            else:
                checked_seals += 1
                shown = seals[0]
                assert shown in ("", f"盖章：{m.seal.wording}"), (item.code, m.id, shown)
                assert squash(m.seal.wording) in squash(m.name.zh + shown), (item.code, m.id)
            forms = classed(block, "material-form")
            if m.form is Form.unspecified:
                assert not forms, (item.code, m.id)
            elif squash(m.form_quote) not in squash(m.name.zh):
                checked_forms += 1
                assert forms and forms[0].startswith({"original": "原件", "copy": "复印件", "electronic": "电子",
                                                      "original_and_copy": "原件和复印件",
                                                      "original_or_copy": "原件或复印件"}[m.form.value]), m.id
            online = classed(block, "material-online")
            assert bool(online) == (m.online_substitute is not None), (item.code, m.id)
            assert all(t.startswith("本服务的做法：网上办理时，") for t in online), (item.code, m.id)
            for shared in classed(block, "material-sharing"):
                assert m.data_sharing and shared == m.data_sharing_quote, (item.code, m.id)

        notes = ""
        if 'id="notes-title"' in html:
            notes = page_text(html.split('id="notes-title"', 1)[1].split("</section>", 1)[0])
        for rule in item.rules:
            assert squash(notes).count(squash(rule.text.zh)) <= 1, (item.code, rule.text.zh)  # printed once
    assert checked_seals > 0, region


def test_index_lists_internal_items_apart_under_a_collapsed_heading(region_app):
    catalog = region_app.extensions["portal_catalog"]
    html = region_app.test_client().get("/guide/").get_data(as_text=True)
    internal = [i for i in catalog.items if i.internal]
    main, _, rest = html.partition('<details class="card internal-items">')
    for item in catalog.items:
        link = f'href="/guide/items/{item.code}"'
        assert (link in rest.split("</details>", 1)[0]) == item.internal, item.code
        assert (link in main) == (not item.internal), item.code
    assert bool(rest) == bool(internal)
    assert "业务流程" not in page_text(html.split("<h1", 1)[1].split("</h1>", 1)[0])  # not an internal title
    contacts = region_app.test_client().get("/guide/contacts").get_data(as_text=True)
    for page, content in (("index", html), ("contacts", contacts)):
        for sentence in LATIN_SENTENCE.findall(URL.sub(" ", page_text(content))):
            pytest.fail(f"{catalog.region.id} {page}: Latin-alphabet text on a Chinese page: {sentence!r}")


# --- the API --------------------------------------------------------------------------------------------------------


def test_every_api_item_carries_the_seed_quotes_and_the_online_switch(region_app):
    require_seeds()
    catalog = region_app.extensions["portal_catalog"]
    region = catalog.region.id
    client = region_app.test_client()
    listed = {i["code"]: i for i in client.get("/api/v1/catalog/items").get_json()["items"]}
    assert set(listed) == {i.code for i in catalog.items}
    for item in catalog.items:
        body = client.get(f"/api/v1/catalog/items/{item.code}").get_json()["item"]
        raw = str(body)
        assert "audit" not in body and not any(phrase in raw for phrase in INVENTED), item.code
        assert body["online"] is listed[item.code]["online"] is bool(item.online)
        assert body["online_is_addition"] is listed[item.code]["online_is_addition"] is item.online_is_addition
        assert body.get("handling", {}).get("wording") == item.handling.wording
        text = item_seed_text(region, item)
        for m in body["materials"]:
            if "seal" in m:
                assert squash(m["seal"]["quote"]) in text, (item.code, m["id"])
            if m.get("form", "unspecified") != "unspecified":
                assert squash(m["form_quote"]) in text, (item.code, m["id"])
            if m.get("data_sharing"):
                assert squash(m["data_sharing_quote"]) in text, (item.code, m["id"])
