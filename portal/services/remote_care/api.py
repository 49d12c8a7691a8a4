"""``/api/v1/remote-care``: 异地就医备案 from the mini-program — the categories the region offers with their
materials, 温馨提示 and commitment text; the destination lists; filing; my filings; change, cancel, extend; the
printable form. The same operations as the pages; another person's filing answers 404 (S6).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from flask import current_app, request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from ...api import current_account, endpoint
from ...applications.models import Application
from ...commitments.texts import REMOTE_CARE_FILING, current_text
from ...core.audit import actor_of
from ...core.db import db
from ...core.downloads import file_response
from ...core.errors import ValidationFailed
from ...core.masking import mask_phone
from ...core.translation import gettext as _
from ...insurance.filings import RemoteCareFiling
from . import divisions, document, operations, sheets
from .policy import BY_KEY, policy_for, proof_materials

TAGS = ("remote-care",)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FilingIn(_In):
    category: str = Field(max_length=32, description="a key from GET /remote-care/categories")
    destination_code: str = Field(max_length=6, description="GB/T 2260 code of the province, city or county")
    start_date: str = Field(default="", max_length=10, description="YYYY-MM-DD")
    care_address: str = Field(default="", max_length=200)
    care_phone: str = Field(default="", max_length=20)
    method: str = Field(default=operations.METHOD_COMMITMENT, max_length=16,
                        description="commitment | upload | at_window")
    commitment_consent: bool = False
    signed_name: str = Field(default="", max_length=64, description="the full name, typed, to sign the commitment")
    insured_address: str = Field(default="", max_length=200)
    emergency_date: str = Field(default="", max_length=10)
    admitted_on: str = Field(default="", max_length=10)
    discharged: bool = False
    referral_hospital: str = Field(default="", max_length=200)
    care_phone2: str = Field(default="", max_length=20, description="联系电话2, where the region's 备案表 has it")
    insurance_type: str = Field(default="", max_length=8, description="险种: 职工医保 | 城乡居民医保, where the "
                                "region's 备案表 asks (see `sheet` in GET /remote-care/categories)")
    signer: str = Field(default="", max_length=8, description="本人 | 被委托人, where the region's 备案表 asks")
    lower_rate_acknowledged: bool = Field(default=False, description="ignored: no region's published form asks "
                                          "for it (accepted for older clients)")


class ChangeIn(_In):
    destination_code: str = Field(max_length=6)
    care_address: str = Field(default="", max_length=200)
    care_phone: str = Field(default="", max_length=20)


class DivisionsQuery(_In):
    parent: str = Field(default="", max_length=6, pattern=r"^(\d{6})?$")


class FilingOut(BaseModel):
    id: int
    number: str
    status: str
    status_label: str
    category: str
    category_name: str
    term: str
    destination_code: str
    destination_name: str
    start_date: date
    end_date: date | None
    lock_until: date | None
    care_phone: str = Field(description="masked")
    self_service: bool
    commitment_hash: str | None
    application_id: int | None
    extension_opens: date | None
    ended_on: date | None
    end_reason: str | None


class FilingList(BaseModel):
    count: int
    filings: list[FilingOut]


class FiledOut(BaseModel):
    application_id: int
    application_number: str | None
    application_state: str
    filing: FilingOut | None


def to_api(filing: RemoteCareFiling) -> FilingOut:
    category = BY_KEY.get(filing.category)
    return FilingOut(
        id=filing.id, number=filing.number, status=filing.status, status_label=filing.status_enum.label,
        category=filing.category, category_name=category.zh if category else filing.category, term=filing.term,
        destination_code=filing.destination_code, destination_name=filing.destination_name,
        start_date=filing.start_date, end_date=filing.end_date, lock_until=filing.lock_until,
        care_phone=mask_phone(filing.care_phone or ""), self_service=filing.self_service,
        commitment_hash=filing.commitment_hash, application_id=filing.application_id,
        extension_opens=operations.extension_opens(filing), ended_on=filing.ended_on, end_reason=filing.end_reason)


@contextmanager
def _committing() -> Iterator[None]:
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def _filing(filing_id: int) -> RemoteCareFiling:
    return operations.get_filing(filing_id, for_account=current_account())


@endpoint("/remote-care/categories", summary="The categories this region offers, each with its item, materials "
          "and whether a commitment may replace the proof; the 温馨提示; the commitment text", tags=TAGS, auth=False)
def remote_care_categories():
    region = current_app.config["PORTAL_REGION"]
    text = current_text(region, REMOTE_CARE_FILING)
    policy = policy_for(region)
    out = []
    for category, item in operations.offered_categories():
        out.append({
            "key": category.key, "name": category.zh, "label": str(category.label), "term": category.term.value,
            "item_code": item.code, "commitment_allowed": bool(proof_materials(item)),
            "materials": [{"id": m.id, "name": m.name.zh, "requirement": m.requirement.value,
                           "commitment": m.commitment.zh if m.commitment else None,
                           "provided_with_filing": m.provided_without_upload} for m in item.materials],
            "tips": document.tips(item),
        })
    sheet = sheets.sheet_for(region)
    return {"region": region, "lock_months": policy.lock_months, "long_term_months": policy.long_term_months,
            "categories": out,
            "sheet": {"title": sheet.title, "ref": sheet.ref, "borrowed": sheet.borrowed, "note": str(sheet.note),
                      "fields": [{"key": f.key, "label": f.label, "required": f.required, "automatic": f.automatic}
                                 for f in sheet.fields]},
            "commitment": None if text is None else {"version": text.version, "title": text.title,
                                                     "paragraphs": list(text.paragraphs), "basis": list(text.basis)}}


@endpoint("/remote-care/divisions", summary="Destinations: provinces, or the children of ``parent`` (cities of a "
          "province, counties of a city); province-level-only places have no cities", tags=TAGS, auth=False,
          query=DivisionsQuery)
def remote_care_divisions(query: DivisionsQuery):
    parent = query.parent
    if not parent:
        rows = divisions.provinces()
    elif parent.endswith("0000"):
        rows = divisions.cities(parent)
    else:
        rows = divisions.counties(parent)
    source, generated = divisions.source()
    return {"parent": parent or None, "source": source, "generated": generated,
            "divisions": [{"code": d.code, "name": d.name, "level": d.level,
                           "province_level_only": d.code in divisions.PROVINCE_LEVEL_ONLY} for d in rows]}


@endpoint("/remote-care/filings", method="POST", summary="File (Idempotency-Key header recommended): with a "
          "commitment the filing takes effect at once; on paper it waits for the agency; upload leaves a draft for "
          "the files (then POST /applications/<id>/submit)", tags=TAGS, body=FilingIn, response=FiledOut, status=201,
          errors=(403, 409, 422))
def remote_care_file(body: FilingIn):
    key = request.headers.get("Idempotency-Key") or None
    if key is not None and not 8 <= len(key) <= 64:
        raise ValidationFailed([(None, _("The Idempotency-Key must have 8 to 64 characters."))])
    with _committing():
        stated = operations.FilingInput(**body.model_dump(exclude={"lower_rate_acknowledged"}))
        case = operations.file_remote_care(stated, by=current_account(), actor=actor_of(current_account()),
                                           idempotency_key=key)
    return _filed(case)


def _filed(case: Application) -> FiledOut:
    filing = db.session.execute(
        select(RemoteCareFiling).where(RemoteCareFiling.application_id == case.id)).scalar_one_or_none()
    return FiledOut(application_id=case.id, application_number=case.number, application_state=case.state,
                    filing=to_api(filing) if filing else None)


@endpoint("/remote-care/filings", summary="My filings, newest first", tags=TAGS, response=FilingList)
def remote_care_filings():
    filings = operations.filings_of(current_account())
    return FilingList(count=len(filings), filings=[to_api(f) for f in filings])


@endpoint("/remote-care/filings/<int:filing_id>", summary="One of my filings", tags=TAGS, response=FilingOut,
          errors=(404,))
def remote_care_filing(filing_id: int):
    return to_api(_filing(filing_id))


@endpoint("/remote-care/filings/<int:filing_id>/change", method="POST", summary="Change the destination, address "
          "or phone (refused during the lock: 409 filing_locked)", tags=TAGS, body=ChangeIn, response=FilingOut,
          errors=(404, 409, 422))
def remote_care_change(filing_id: int, body: ChangeIn):
    filing = _filing(filing_id)
    with _committing():
        operations.change_filing(filing, operations.ChangeInput(**body.model_dump()), by=current_account(),
                                 actor=actor_of(current_account()))
    return to_api(filing)


@endpoint("/remote-care/filings/<int:filing_id>/cancel", method="POST", summary="Cancel (refused during the lock: "
          "409 filing_locked, the message says the date it lifts)", tags=TAGS, response=FilingOut, errors=(404, 409))
def remote_care_cancel(filing_id: int):
    filing = _filing(filing_id)
    with _committing():
        operations.cancel_filing(filing, by=current_account(), actor=actor_of(current_account()))
    return to_api(filing)


@endpoint("/remote-care/filings/<int:filing_id>/extend", method="POST", summary="Extend before the end date",
          tags=TAGS, response=FilingOut, errors=(404, 409))
def remote_care_extend(filing_id: int):
    filing = _filing(filing_id)
    with _committing():
        operations.extend_filing(filing, by=current_account(), actor=actor_of(current_account()))
    return to_api(filing)


@endpoint("/remote-care/filings/<int:filing_id>/form.pdf", summary="The 异地就医登记备案表 as a PDF",
          tags=TAGS, errors=(404,))
def remote_care_form_pdf(filing_id: int):
    filing = _filing(filing_id)
    item = current_app.extensions["portal_catalog"].get(filing.item_code)
    return file_response(document.render_filing_pdf(filing, item), mimetype="application/pdf",
                         filename=f"{filing.number}.pdf")

