"""The queue page's rows and filter options, rendered once per process for their values (portal/core/fragments.py):
never stale for what they show, and the same page as rendered afresh."""

from __future__ import annotations

import re

from flask import g

from portal.accounts.models import Role
from portal.core import fragments
from portal.core.audit import Actor
from portal.core.db import db
from portal.core.quoting import quote_zh, quoted_chinese
from tests.workbench.conftest import PROMISE_ITEM

ROW = re.compile(r'<tr data-case="(\d+)">.*?</tr>', re.S)


def _rows(page: str) -> dict[str, str]:
    return {m.group(1): m.group(0) for m in ROW.finditer(page)}


def _page(client, url: str = "/staff/queues/intake") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_kept_row_follows_its_case_at_once(browser_as, make_case, citizen):
    """Claimed, the row names who works on it on the next view; accepted, it leaves the intake queue."""
    from portal.applications import operations as case_ops
    from portal.workbench import operations as ops

    client, clerk = browser_as("rowclerk", Role.ACCEPTOR)
    case = make_case(PROMISE_ITEM, citizen)
    before = _rows(_page(client))[str(case.id)]
    assert "<td>—</td>" in before  # nobody works on it yet
    ops.claim_case(case, by=clerk, actor=Actor.system())
    db.session.flush()
    claimed = _rows(_page(client))[str(case.id)]
    assert clerk.display_name in claimed and "<td>—</td>" not in claimed
    case_ops.accept_application(case, by=clerk, actor=Actor.system())
    db.session.flush()
    assert str(case.id) not in _rows(_page(client))


def test_the_second_view_reuses_the_rows_and_shows_the_same_page(browser_as, make_case, make_citizen):
    client, _clerk = browser_as("reuseclerk", Role.ACCEPTOR)
    for name in ("赵一", "钱二", "孙三"):
        make_case(PROMISE_ITEM, make_citizen(name))
    fragments.clear()
    first = _page(client)
    kept = {key: fragments._kept.get(key)[1] for key in fragments._kept.held_keys()}
    assert sum(1 for key in kept if key[0][0] == "queue-row") == 3
    assert sum(1 for key in kept if key[0][0] == "queue-filter") == 4  # item, unit, state, whose
    second = _page(client)
    assert {key: fragments._kept.get(key)[1] for key in fragments._kept.held_keys()} == kept
    assert all(fragments._kept.get(key)[1] is markup for key, markup in kept.items())  # not rendered again
    fragments.clear()
    fresh = _page(client)

    def strip(page: str) -> str:  # the CSP nonce and CSRF token are the request's own
        return re.sub(r'(nonce|value)="[^"]{20,}"', "", page)

    assert strip(first) == strip(second) == strip(fresh)


def test_each_language_has_its_own_rows(browser_as, make_case, citizen):
    client, _clerk = browser_as("langclerk", Role.ACCEPTOR)
    case = make_case(PROMISE_ITEM, citizen)
    client.set_cookie("lang", "en")
    english = _rows(_page(client))[str(case.id)]
    client.set_cookie("lang", "zh_Hans_CN")
    chinese = _rows(_page(client))[str(case.id)]
    assert chinese != english
    assert "已提交，待受理" in chinese and "Submitted, awaiting acceptance" in english  # the state, in each language


def test_a_chosen_filter_is_kept_apart_from_the_unchosen(browser_as, catalog):
    client, _clerk = browser_as("filterclerk", Role.ACCEPTOR)
    code = sorted(catalog.items, key=lambda i: i.code)[3].code
    plain = _page(client)
    chosen = _page(client, f"/staff/queues/intake?item={code}")
    assert f'<option value="{code}" selected>' in chosen
    assert f'<option value="{code}" selected>' not in plain
    assert f'<option value="{code}" selected>' not in _page(client)


def test_a_kept_fragment_that_quoted_chinese_says_so_again(app):
    """On an English page the foot explains the quoted Chinese: also when the quoting part was kept."""
    fragments.clear()
    for _view in range(2):
        with app.test_request_context("/", headers={"Cookie": "lang=en"}):
            from flask_babel import refresh

            refresh()
            g.pop("quoted_chinese", None)  # (the tests share one app context, and with it ``g``)
            markup = fragments.fragment(("quote",), lambda: quote_zh("王晓明"))
            assert markup == '<span lang="zh-Hans">王晓明</span>'
            assert quoted_chinese()
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        refresh()
        g.pop("quoted_chinese", None)
        fragments.fragment(("plain",), lambda: quote_zh("Wang"))
        fragments.fragment(("plain",), lambda: quote_zh("Wang"))
        assert not g.get("quoted_chinese")


def test_a_calendar_change_forgets_the_kept_rows(app):
    """A row's "Estimated" depends on the calendar: what a change makes the process forget, the rows go with."""
    from portal.calendar import engine

    with app.test_request_context("/"):
        fragments.fragment(("row",), lambda: "x")
    assert fragments._kept.held_keys()
    engine.forget_gaps()
    assert not fragments._kept.held_keys()
