"""Alibaba Cloud SMS (短信服务, API 2017-05-25) through its official SDK ``alibabacloud_dysmsapi20170525``.

``SendSms`` takes PhoneNumbers, SignName, TemplateCode, TemplateParam (a JSON object) and **OutId**, which
carries our business id; the answer's ``Code`` is ``OK`` with a ``BizId``, or an error code (``ERRORS``).
``QuerySendDetails`` lists what was sent to one number on one day, with the OutId of each message: that is how
a message whose answer we lost (a worker killed during the call) is confirmed, or found never to have arrived.

Configuration (``PORTAL_SMS_*``): KEY_ID and KEY_SECRET (a RAM user's AccessKey with SMS rights), SIGN_NAME,
TEMPLATES (message name → ``SMS_…`` template code), ENDPOINT (default ``https://dysmsapi.aliyuncs.com``; tests
point it at a local server), TIMEOUT_SECONDS. The SDK's exception texts hold the request URL, hence the phone
number: they are never logged or chained; only the provider's code is kept.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from alibabacloud_dysmsapi20170525 import models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi.models import Config

from ...core import clock
from . import Confirmation, Found, Health, Receipt, SmsError, SmsSettings

log = logging.getLogger("portal.integrations.sms.aliyun")
DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com"

# Codes a retry cannot cure: the number, the template, the signature or the content is refused.
PERMANENT = frozenset({
    "isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_COUNT_OVER_LIMIT", "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.TEMPLATE_PARAMS_ILLEGAL", "isv.INVALID_PARAMETERS", "isv.INVALID_JSON_PARAM", "isv.PARAM_LENGTH_LIMIT",
    "isv.PARAM_NOT_SUPPORT_URL", "isv.SMS_TEMPLATE_ILLEGAL", "isv.SMS_SIGNATURE_ILLEGAL", "isv.SMS_SIGN_ILLEGAL",
    "isv.SMS_CONTENT_ILLEGAL", "isv.BLACK_KEY_CONTROL_LIMIT", "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
    "isv.SMS_SIGNATURE_SCENE_ILLEGAL", "isv.EXTEND_CODE_ERROR",
})
# Codes that pass: rate limits (per number per minute/hour/day, or the account's daily and monthly caps),
# an account out of credit, the provider's own trouble. Unknown codes are treated the same way.
TEMPORARY = frozenset({
    "isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "isv.MONTH_LIMIT_CONTROL", "isv.AMOUNT_NOT_ENOUGH",
    "isv.OUT_OF_SERVICE", "isp.SYSTEM_ERROR", "isp.GATEWAY_ERROR", "Throttling", "ServiceUnavailable",
})


def _transport_failure(exc: Exception) -> SmsError:
    """A request that never got an answer. Only a refused or failed connection proves that the provider never
    saw it; a timeout after sending may hide an accepted message."""
    text = str(getattr(exc, "message", "") or exc)
    unsent = any(mark in text for mark in ("Failed to establish", "Connection refused", "ConnectTimeout",
                                           "Name or service not known", "connect timeout"))
    log.warning("Alibaba Cloud SMS unreachable (%s)", "no connection" if unsent else "no answer")
    return SmsError("Alibaba Cloud SMS unreachable", provider_code="unreachable", uncertain=not unsent)


def _refusal(code: str, request_id: str | None) -> SmsError:
    permanent = code in PERMANENT
    return SmsError(f"Alibaba Cloud SMS refused: {code}"[:200], provider_code=code[:64], permanent=permanent,
                    request_id=request_id)


class AliyunGateway:
    name = "aliyun"
    transactional = False

    def __init__(self, settings: SmsSettings):
        self.settings = settings
        url = urlsplit(settings.endpoint or DEFAULT_ENDPOINT)
        timeout_ms = int(settings.timeout * 1000)
        self._client = Client(Config(access_key_id=settings.key_id, access_key_secret=settings.key_secret,
                                     endpoint=url.netloc, protocol=url.scheme or "https", read_timeout=timeout_ms,
                                     connect_timeout=min(timeout_ms, 5000)))

    def __repr__(self) -> str:
        return f"<AliyunGateway key_id={self.settings.key_id} endpoint={self.settings.endpoint or DEFAULT_ENDPOINT}>"

    def _call(self, method: str, request: Any) -> Any:
        from Tea.exceptions import TeaException

        try:
            return getattr(self._client, method)(request).body
        except TeaException as exc:
            code = getattr(exc, "code", None)
            if code and getattr(exc, "status_code", None):  # the provider answered with an error
                data = getattr(exc, "data", None) or {}
                raise _refusal(str(code), data.get("RequestId") if isinstance(data, dict) else None) from None
            raise _transport_failure(exc) from None
        except Exception as exc:  # the SDK's transport layer: requests' exceptions, possibly unwrapped
            raise _transport_failure(exc) from None

    def send(self, phone: str, template: str, params: Mapping[str, str], *, business_id: str | None = None,
             text: str = "") -> Receipt:
        template_code = self.settings.template_id(template)
        if not template_code:
            raise SmsError(f"no Alibaba Cloud template configured for {template}", provider_code="no_template",
                           permanent=True)
        request = models.SendSmsRequest(phone_numbers=phone, sign_name=self.settings.sign_name,
                                        template_code=template_code,
                                        template_param=json.dumps(dict(params), ensure_ascii=False),
                                        out_id=business_id)
        body = self._call("send_sms", request)
        if body.code != "OK":
            raise _refusal(str(body.code), body.request_id)
        return Receipt(self.name, provider_id=body.biz_id, provider_code=body.code, request_id=body.request_id)

    def confirm(self, phone: str, business_id: str, *, since: datetime) -> Confirmation:
        """Look for ``business_id`` among the OutIds of the messages sent to ``phone`` from ``since``'s day (the
        provider counts days in China time) to today."""
        day, last = clock.to_local(since).date(), clock.today()
        while day <= last:
            page = 1
            while True:
                body = self._call("query_send_details", models.QuerySendDetailsRequest(
                    phone_number=phone, send_date=day.strftime("%Y%m%d"), page_size=50, current_page=page))
                if body.code != "OK":
                    raise _refusal(str(body.code), body.request_id)
                details = body.sms_send_detail_dtos.sms_send_detail_dto if body.sms_send_detail_dtos else []
                for detail in details or []:
                    if detail.out_id == business_id:
                        return Confirmation(Found.SENT, Receipt(self.name, provider_code=detail.err_code,
                                                                request_id=body.request_id))
                if not details or page * 50 >= int(body.total_count or 0):
                    break
                page += 1
            day += timedelta(days=1)
        return Confirmation(Found.NOT_SENT)

    def health(self) -> Health:
        missing = [name for name, value in (("key", self.settings.key_id and self.settings.key_secret),
                                            ("sign name", self.settings.sign_name)) if not value]
        if missing:
            return Health(False, f"Alibaba Cloud SMS lacks its {' and '.join(missing)}")
        return Health(True, f"Alibaba Cloud SMS via {self.settings.endpoint or DEFAULT_ENDPOINT}")
