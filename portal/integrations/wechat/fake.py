"""The local WeChat adapter: development and tests, no network, answers decided by the input.

code2session: ``demo-<openid>`` logs in as <openid> (``demo-<openid>~<unionid>`` with a unionid); ``bad`` answers
40029, ``limited`` 45011, ``risky`` 40226, ``busy`` -1 and ``down`` as if WeChat could not be reached.
phone_number: ``phone-<mobile>`` is that verified number (country code 86); ``otherapp`` answers as for another
mini-program (40013); the error codes as above. Subscribe messages are kept in ``sent``; an openid
``fail-<errcode>…`` answers that errcode.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any, ClassVar

from .. import Health
from . import ERRCODE_UNREACHABLE, WeChatError, WeChatPhone, WeChatSession, check_code


class FakeWeChat:
    ERRORS: ClassVar[dict[str, int]] = {"bad": 40029, "limited": 45011, "risky": 40226, "busy": -1,
                                          "down": ERRCODE_UNREACHABLE}

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def code2session(self, code: str) -> WeChatSession:
        code = check_code(code)
        if code in self.ERRORS:
            raise WeChatError(self.ERRORS[code], "fake")
        if not code.startswith("demo-") or len(code) == len("demo-"):
            raise WeChatError(40029, "fake: not a demo code")
        openid, _tilde, unionid = code.removeprefix("demo-").partition("~")
        # stable per openid, so a test can log the same user in twice
        session_key = base64.b64encode(hashlib.sha256(f"fake-session:{openid}".encode()).digest()[:16]).decode()
        return WeChatSession(openid, session_key, unionid or None)

    def phone_number(self, code: str) -> WeChatPhone:
        code = check_code(code)
        if code in self.ERRORS or code == "otherapp":
            raise WeChatError(self.ERRORS.get(code, 40013), "fake")
        if not code.startswith("phone-") or not code[len("phone-"):].isdigit():
            raise WeChatError(40029, "fake: not a demo phone code")
        return WeChatPhone(code[len("phone-"):], "86")

    def send_subscribe(self, openid: str, template_id: str, page: str, data: dict[str, dict[str, str]]) -> None:
        match = re.match(r"^fail-(-?\d+)", openid)
        if match:
            raise WeChatError(int(match.group(1)), "fake")
        self.sent.append({"openid": openid, "template_id": template_id, "page": page, "data": data})

    def health(self) -> Health:
        return Health(True, "local fake (PORTAL_WECHAT_BACKEND=fake): nothing reaches WeChat")
