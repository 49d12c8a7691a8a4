"""The local WeChat adapter: development and tests, no network, answers decided by the input.

code2session: ``demo-<openid>`` logs in as <openid>; ``bad`` answers 40029, ``limited`` 45011, ``risky`` 40226,
``busy`` -1 and ``down`` as if WeChat could not be reached. Subscribe messages are kept in ``sent``; an openid
``fail-<errcode>…`` answers that errcode.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any, ClassVar

from . import ERRCODE_UNREACHABLE, WeChatError, WeChatSession, check_code


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
        openid = code.removeprefix("demo-")
        # stable per openid, so a test can log the same user in twice
        session_key = base64.b64encode(hashlib.sha256(f"fake-session:{openid}".encode()).digest()[:16]).decode()
        return WeChatSession(openid, session_key, None)

    def send_subscribe(self, openid: str, template_id: str, page: str, data: dict[str, dict[str, str]]) -> None:
        match = re.match(r"^fail-(-?\d+)", openid)
        if match:
            raise WeChatError(int(match.group(1)), "fake")
        self.sent.append({"openid": openid, "template_id": template_id, "page": page, "data": data})
