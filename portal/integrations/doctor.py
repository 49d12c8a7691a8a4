"""The doctor's checks of the external systems: each adapter the configuration picked says whether it can work.

No message is sent, no file scanned and no person verified: ``health()`` asks each adapter what it can find out
harmlessly (the SMS gateways: what they need and lack; WeChat: an access token; the identity providers: a
connection; the national platform: a signed ping; clamd: PING; the file store: the directory or HeadBucket), so
``portal doctor`` can be run at any time, including right after a restore.
"""

from __future__ import annotations

from flask import current_app

from ..core.doctor import Outcome, check
from . import Health, antivirus, business_license, identity, sms, storage, wechat


def _outcome(*named: tuple[str, Health]) -> Outcome:
    summary = "; ".join(f"{name}: {health.detail}" if name else health.detail for name, health in named)
    return Outcome(summary, tuple(f"{name}: {h.detail}" if name else h.detail for name, h in named if not h.ok))


@check("sms", "the configured SMS gateway has what it needs to send")
def sms_gateway() -> Outcome:
    return _outcome(("", sms.get_gateway().health()))


@check("wechat", "the configured WeChat adapter is accepted by WeChat")
def wechat_api() -> Outcome:
    return _outcome(("", wechat.get_wechat(current_app).health()))


@check("identity", "the configured face-verification and 医保电子凭证 providers can be reached")
def identity_providers() -> Outcome:
    app = current_app._get_current_object()
    named = []
    for label, verifier in (("face", identity.face_verifier(app)), ("ecredential", identity.ecredential_verifier(app))):
        named.append((label, verifier.health() if verifier is not None else Health(True, "off")))
    return _outcome(*named)


@check("national", "the configured national medical-security platform answers and accepts this area")
def national_platform() -> Outcome:
    from .national import get_national

    adapter = get_national(current_app._get_current_object())
    return _outcome(("", adapter.health() if adapter is not None else Health(True, "off")))


@check("business_license", "the configured 电子营业执照 service can be reached")
def business_license_service() -> Outcome:
    service = business_license.license_service(current_app._get_current_object())
    return _outcome(("", service.health() if service is not None else Health(True, "off")))


@check("antivirus", "the configured virus scanner answers")
def virus_scanner() -> Outcome:
    return _outcome(("", antivirus.scanner_from_settings(antivirus.settings_reader(current_app.config)).health()))


@check("storage", "the configured file store can be reached")
def file_store() -> Outcome:
    return _outcome(("", storage.storage_from_config(current_app._get_current_object()).health()))


@check("bank", "the configured bank file layout can write payment batches and read return files")
def bank_files() -> Outcome:
    from .bank import get_bank_files

    return _outcome(("", get_bank_files(current_app._get_current_object()).health()))
