"""Tencent Cloud SMS (短信, API 2021-01-11) through its official SDK ``tencentcloud-sdk-python-sms``.

``SendSms`` takes PhoneNumberSet (``+86…``), SmsSdkAppId, SignName, TemplateId, TemplateParamSet (strings, in
the template's order) and **SessionContext**, which carries our business id and comes back with the answer and
in delivery receipts. The answer has one SendStatus per number: ``Code`` ``Ok`` with a ``SerialNo``, or an
error code (``PERMANENT`` / temporary); a request-level error comes as ``Response.Error``.

Tencent Cloud offers no query of one message by our id (receipts are pushed, or pulled once through an API that
must be enabled by the provider and hands each receipt out once), so :meth:`TencentGateway.confirm` answers
``UNKNOWN``: a message lost in a crash is left for a person to settle rather than sent twice.

Configuration (``PORTAL_SMS_*``): KEY_ID and KEY_SECRET (SecretId/SecretKey of a CAM user), APP_ID
(SmsSdkAppId), SIGN_NAME, TEMPLATES (message name → template id), REGION (default ``ap-guangzhou``), ENDPOINT
(default ``https://sms.tencentcloudapi.com``; tests point it at a local server), TIMEOUT_SECONDS.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlsplit

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from . import Confirmation, Found, Health, Receipt, SmsError, SmsSettings

log = logging.getLogger("portal.integrations.sms.tencent")
DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com"
DEFAULT_REGION = "ap-guangzhou"

# Codes a retry cannot cure (the number, template, signature, content or the app itself is refused); every
# other code (per-number frequency limits ``LimitExceeded.*``, an empty package, internal errors) may pass.
PERMANENT = frozenset({
    "InvalidParameterValue.IncorrectPhoneNumber", "FailedOperation.PhoneNumberInBlacklist",
    "FailedOperation.PhoneNumberParseFail", "FailedOperation.TemplateIncorrectOrUnapproved",
    "FailedOperation.SignatureIncorrectOrUnapproved", "FailedOperation.ContainSensitiveWord",
    "FailedOperation.MissingTemplateToModify", "InvalidParameterValue.TemplateParameterFormatError",
    "InvalidParameterValue.TemplateParameterLengthLimit", "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
    "InvalidParameterValue.ContentLengthLimit", "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber", "UnsupportedOperation.UnsupportedRegion",
})


class TencentGateway:
    name = "tencent"
    transactional = False

    def __init__(self, settings: SmsSettings):
        self.settings = settings
        url = urlsplit(settings.endpoint or DEFAULT_ENDPOINT)
        profile = ClientProfile(httpProfile=HttpProfile(endpoint=url.netloc, protocol=url.scheme or "https",
                                                        reqTimeout=max(int(settings.timeout), 1)))
        self._client = sms_client.SmsClient(credential.Credential(settings.key_id, settings.key_secret),
                                            settings.region or DEFAULT_REGION, profile)

    def __repr__(self) -> str:
        return f"<TencentGateway app_id={self.settings.app_id} endpoint={self.settings.endpoint or DEFAULT_ENDPOINT}>"

    def send(self, phone: str, template: str, params: Mapping[str, str], *, business_id: str | None = None,
             text: str = "") -> Receipt:
        template_id = self.settings.template_id(template)
        if not template_id:
            raise SmsError(f"no Tencent Cloud template configured for {template}", provider_code="no_template",
                           permanent=True)
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [phone if phone.startswith("+") else f"+86{phone}"]
        request.SmsSdkAppId = self.settings.app_id
        request.SignName = self.settings.sign_name
        request.TemplateId = template_id
        request.TemplateParamSet = [str(value) for value in params.values()]
        if business_id:
            request.SessionContext = business_id
        try:
            answer = self._client.SendSms(request)
        except TencentCloudSDKException as exc:
            raise self._failure(exc) from None
        statuses = answer.SendStatusSet or []
        if not statuses:
            raise SmsError("Tencent Cloud SMS answered without a send status", provider_code="no_status",
                           uncertain=True, request_id=answer.RequestId)
        status = statuses[0]
        if status.Code != "Ok":
            code = str(status.Code)
            raise SmsError(f"Tencent Cloud SMS refused: {code}"[:200], provider_code=code[:64],
                           permanent=code in PERMANENT, request_id=answer.RequestId)
        return Receipt(self.name, provider_id=status.SerialNo, provider_code=status.Code,
                       request_id=answer.RequestId)

    @staticmethod
    def _failure(exc: TencentCloudSDKException) -> SmsError:
        code = str(exc.get_code() or "unknown")
        if code == "ClientNetworkError":  # no answer: a timeout after sending may hide an accepted message
            text = str(exc.get_message() or "")
            unsent = any(mark in text for mark in ("Failed to establish", "Connection refused", "ConnectTimeout"))
            log.warning("Tencent Cloud SMS unreachable (%s)", "no connection" if unsent else "no answer")
            return SmsError("Tencent Cloud SMS unreachable", provider_code="unreachable", uncertain=not unsent)
        if code.startswith("Client") or code in {"KeyError", "ValueError"}:  # an answer the SDK could not read
            log.warning("Tencent Cloud SMS gave an unreadable answer (%s)", code)
            return SmsError("Tencent Cloud SMS gave an unreadable answer", provider_code=code[:64], uncertain=True)
        log.warning("Tencent Cloud SMS refused the request: %s", code)
        return SmsError(f"Tencent Cloud SMS refused: {code}"[:200], provider_code=code[:64],
                        permanent=code in PERMANENT, request_id=exc.get_request_id())

    def confirm(self, phone: str, business_id: str, *, since: datetime) -> Confirmation:
        return Confirmation(Found.UNKNOWN)

    def health(self) -> Health:
        missing = [name for name, value in (("key", self.settings.key_id and self.settings.key_secret),
                                            ("SmsSdkAppId", self.settings.app_id),
                                            ("sign name", self.settings.sign_name)) if not value]
        if missing:
            return Health(False, f"Tencent Cloud SMS lacks its {' and '.join(missing)}")
        return Health(True, f"Tencent Cloud SMS via {self.settings.endpoint or DEFAULT_ENDPOINT}")
