"""The WeChat port's getPhoneNumber exchange and its shared access token: the HTTP adapter against a local server
speaking WeChat's protocol (/cgi-bin/token, /wxa/business/getuserphonenumber)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.core import clock
from portal.integrations.token_cache import IntegrationToken
from portal.integrations.wechat import WeChatError, WeChatPhone
from portal.integrations.wechat.http import HttpWeChat
from tests.integrations.wechat_server import APPID, SECRET, WeChatServer, running_wechat


@pytest.fixture
def phone_api() -> Iterator[WeChatServer]:
    yield from running_wechat()


def _wechat(server) -> HttpWeChat:
    return HttpWeChat(APPID, SECRET, server.base_url, timeout=(1, 3))


def test_the_verified_number_comes_back_and_a_code_works_once(phone_api):
    wechat = _wechat(phone_api)
    assert wechat.phone_number("ok-13800001111") == WeChatPhone("13800001111", "86")
    with pytest.raises(WeChatError) as again:
        wechat.phone_number("ok-13800001111")
    assert again.value.errcode == 40029 and again.value.status == 401
    assert "13800001111" not in repr(WeChatPhone("13800001111", "86"))


def test_a_number_verified_for_another_mini_program_is_refused(phone_api):
    with pytest.raises(WeChatError) as caught:
        _wechat(phone_api).phone_number("otherapp-13800002222")
    assert caught.value.errcode == 40013 and caught.value.detail == "watermark appid mismatch"


@pytest.mark.parametrize(("errcode", "status", "code"), [
    (-1, 503, "wechat_busy"), (40029, 401, "wechat_code_invalid"), (45011, 429, "wechat_rate_limited"),
    (40013, 502, "wechat_failed"),
])
def test_errcodes_become_errors_the_user_can_act_on(phone_api, errcode, status, code):
    with pytest.raises(WeChatError) as caught:
        _wechat(phone_api).phone_number(f"err{errcode}")
    assert (caught.value.errcode, caught.value.status, caught.value.code) == (errcode, status, code)


def test_one_access_token_serves_every_worker_and_is_renewed_before_it_expires(phone_api, db_session):
    with clock.frozen(datetime(2026, 12, 6, 8, 0, tzinfo=UTC)) as frozen:
        first_worker, second_worker = _wechat(phone_api), _wechat(phone_api)  # two processes, one shared store
        first_worker.phone_number("ok-13800003333")
        second_worker.phone_number("ok-13800004444")
        assert phone_api.tokens_issued == 1 and phone_api.seen_tokens == ["TOKEN1", "TOKEN1"]
        row = db_session.execute(select(IntegrationToken)).scalar_one()
        assert row.name == f"wechat:{APPID}" and row.expires_at == clock.now() + timedelta(hours=2)
        frozen.tick(timedelta(hours=2) - timedelta(minutes=4))  # within 5 minutes of the end: renewed first
        second_worker.phone_number("ok-13800005555")
        assert phone_api.tokens_issued == 2 and phone_api.seen_tokens[-1] == "TOKEN2"


def test_a_token_wechat_calls_stale_is_renewed_at_once(phone_api, db_session):
    wechat = _wechat(phone_api)
    wechat.phone_number("ok-13800006666")
    phone_api.tokens_issued += 1  # WeChat has moved on (another deployment renewed it): ours is now refused
    assert wechat.phone_number("ok-13800007777").pure == "13800007777"
    assert phone_api.seen_tokens[-2:] == ["TOKEN1", "TOKEN3"]
