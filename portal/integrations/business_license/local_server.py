"""A local 电子营业执照 service speaking the licence service's protocol (see ``http.py``), on 127.0.0.1 only.

The ``local`` backend starts one inside the portal's process for development; tests start their own and point the
``http`` adapter at it; a developer can run one alone (``python -m portal.integrations.business_license.local_server
APP_ID SECRET [PORT]``). It checks signatures as the real service would. Its ``/authorize`` page stands in for the
licence holder's app: it shows the credit code and the person to be authorised, and the holder enters the licence's
registered name and legal representative (or picks one of ``licenses`` given to the server) and authorises or
refuses. A ticket answers one final result (authorised or refused); after that it is unknown.
"""

from __future__ import annotations

import html
import json
import secrets
import sys
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ..local_http import JsonHandler, LocalServer
from ..signed_http import signature_ok


@dataclass
class _Authorisation:
    credit_code: str
    grantee_name: str = field(repr=False)
    grantee_id_number: str = field(repr=False)
    return_url: str
    status: str = "pending"
    name: str = ""
    legal_rep_name: str = field(default="", repr=False)


class LicenseServer(LocalServer):
    def __init__(self, app_id: str, secret: str, port: int = 0, licenses: dict[str, tuple[str, str]] | None = None):
        super().__init__(_Handler, port)
        self.app_id = app_id
        self.secret = secret
        self.licenses = dict(licenses or {})  # credit code -> (registered name, legal representative)
        self.authorisations: dict[str, _Authorisation] = {}
        self.seen: list[str] = []  # paths of the signed requests
        self.lock = threading.Lock()


PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>电子营业执照授权（本地开发服务）</title></head><body>
<main>
<h1>电子营业执照授权</h1>
<p>本页是开发用的本地服务，代替执照持有人手机上的电子营业执照应用。 This local page stands in for the licence app.</p>
<p>统一社会信用代码：<strong id="credit-code">{credit_code}</strong></p>
<p>授权经办人：<strong id="grantee">{grantee}</strong>（身份证号尾号 {id_tail}）</p>
<form method="post" action="/authorize">
<input type="hidden" name="ticket" value="{ticket}">
<p><label for="name">执照登记的单位名称</label><br><input id="name" name="name" value="{name}" required></p>
<p><label for="legal_rep_name">法定代表人</label><br>
<input id="legal_rep_name" name="legal_rep_name" value="{legal_rep}" required></p>
<p><button type="submit" name="decision" value="authorise">确认授权</button>
<button type="submit" name="decision" value="refuse">拒绝</button></p>
</form>
</main></body></html>
"""


class _Handler(JsonHandler):
    server: LicenseServer

    def do_GET(self):
        parts = urlsplit(self.path)
        if parts.path != "/authorize":
            return self._answer(404, {"code": "NOT_FOUND"})
        ticket = (parse_qs(parts.query).get("ticket") or [""])[0]
        item = self.server.authorisations.get(ticket)
        if item is None or item.status != "pending":
            return self._html(404, "<p>授权已失效。The authorisation has expired.</p>")
        name, legal_rep = self.server.licenses.get(item.credit_code, ("", ""))
        page = PAGE.format(credit_code=html.escape(item.credit_code), grantee=html.escape(item.grantee_name),
                           id_tail=html.escape(item.grantee_id_number[-4:]), ticket=html.escape(ticket),
                           name=html.escape(name), legal_rep=html.escape(legal_rep))
        return self._html(200, page)

    def do_POST(self):
        body = self._body()
        if self.path == "/authorize":  # the holder's answer, from the page (a browser form, not signed)
            return self._decide({k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()})
        if not signature_ok(self.server.secret, self.server.app_id, self.headers, self.path, body):
            return self._answer(401, {"code": "AUTH_FAILED"})
        try:
            payload = json.loads(body)
        except ValueError:
            return self._answer(400, {"code": "BAD_REQUEST"})
        self.server.seen.append(self.path)
        if self.path == "/authorizations":
            return self._start(payload)
        if self.path == "/authorizations/result":
            return self._result(payload)
        return self._answer(404, {"code": "NOT_FOUND"})

    def _start(self, payload: dict[str, Any]):
        if payload.get("credit_code") == "BUSY":
            return self._answer(503, {"code": "BUSY"})
        fields = ("credit_code", "grantee_name", "grantee_id_number", "return_url")
        if not all(isinstance(payload.get(k), str) and payload.get(k) for k in fields):
            return self._answer(400, {"code": "BAD_REQUEST"})
        ticket = secrets.token_urlsafe(24)
        with self.server.lock:
            self.server.authorisations[ticket] = _Authorisation(*(payload[k] for k in fields))
        url = f"{self.server.base_url}/authorize?{urlencode({'ticket': ticket})}"
        return self._answer(200, {"code": "OK", "ticket": ticket, "authorize_url": url})

    def _result(self, payload: dict[str, Any]):
        ticket = payload.get("ticket")
        with self.server.lock:
            item = self.server.authorisations.get(ticket) if isinstance(ticket, str) else None
            if item is None:
                return self._answer(200, {"code": "INVALID_TICKET"})
            if item.status == "pending":
                return self._answer(200, {"code": "OK", "status": "pending"})
            del self.server.authorisations[ticket]  # a final answer is given once
        if item.status == "refused":
            return self._answer(200, {"code": "OK", "status": "refused"})
        return self._answer(200, {"code": "OK", "status": "authorised", "grantee_id_number": item.grantee_id_number,
                                  "license": {"credit_code": item.credit_code, "name": item.name,
                                              "legal_rep_name": item.legal_rep_name}})

    def _decide(self, form: dict[str, str]):
        item = self.server.authorisations.get(form.get("ticket", ""))
        if item is None or item.status != "pending":
            return self._html(404, "<p>授权已失效。The authorisation has expired.</p>")
        if form.get("decision") == "authorise" and form.get("name", "").strip() \
                and form.get("legal_rep_name", "").strip():
            item.status, item.name, item.legal_rep_name = ("authorised", form["name"].strip(),
                                                           form["legal_rep_name"].strip())
        else:
            item.status = "refused"
        separator = "&" if "?" in item.return_url else "?"
        self.send_response(303)
        self.send_header("Location", f"{item.return_url}{separator}{urlencode({'ticket': form['ticket']})}")
        self.send_header("Content-Length", "0")
        self.end_headers()
        return None

    def _html(self, status: int, page: str) -> None:
        data = page.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":  # pragma: no cover (a developer's tool)
    server = LicenseServer(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 8766)
    print(f"电子营业执照 service on {server.base_url}")
    server.serve_forever()
