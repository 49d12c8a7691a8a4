"""Each region's 异地就医备案 form follows that region's own 备案表 (issue 24 item 7).

- every field the sheet takes from a seed quotes words that occur in that seed file;
- 岳阳's and 商洛's online form has every field their printed form has (the catalog transcribed it from the seed);
- the filing page of every region offers the sheet's fields, marks as required exactly the fields a seed asks for,
  labels every other field as this service's optional addition, and has no invented required checkbox;
- a 岳阳 filing needs 险种 and 本人/被委托人 and records them with 登记类别 新增; a 吉林 filing needs neither, nor an
  address (附件1 has none); the printed form carries 联系电话2 and 本人/被委托人 where the sheet has them.
"""

from __future__ import annotations

import re

import pytest

from portal.applications.constants import State
from portal.core.errors import ValidationFailed
from portal.services.remote_care import document, sheets
from portal.services.remote_care import operations as rc
from tests.catalog.test_regions import seeds_dir

from .remote_care_support import GUANGZHOU, TIANHE, file
from .test_remote_care import filing_of

REGIONS = ("jilin", "yueyang", "linkou", "sichuan", "shangluo")
# the online fields of the filing page (input names) standing for each sheet field the applicant fills in
INPUTS = {"insurance_type": "insurance_type", "insured_address": "insured_address", "care_address": "care_address",
          "care_phone": "care_phone", "care_phone2": "care_phone2", "destination_code": "province",
          "signer": "signer", "signed_name": "signed_name"}
OWN_MARK = "(optional; asked by this service, not by the published form)"

@pytest.mark.no_db
@pytest.mark.parametrize("region", REGIONS)
def test_every_field_a_sheet_takes_from_a_seed_quotes_that_seed(region):
    folder = seeds_dir()
    if folder is None:
        pytest.skip("the seeds (../shared/seeds or /work/shared/seeds) are not available")
    sheet = sheets.sheet_for(region)
    assert all(f.source is not None for f in sheet.fields if f.required)  # nothing required without a seed source
    for field in sheet.fields:
        text = (folder / field.source.seed).read_text(encoding="utf-8")
        assert field.source.quote in text, (region, field.key, field.source.quote)


# 岳阳 参考样表15–19 and 商洛 表12 as the catalog transcribed them from the seeds: label → sheet field
PRINTED = {"姓名": "name", "性别": "gender", "险种": "insurance_type", "人员类别": "person_category",
           "其他：": "person_category", "登记类别": "registration_type", "身份证件号码": "id_number",
           "参保地联系地址": "insured_address", "就医地联系地址": "care_address", "联系电话1": "care_phone",
           "联系电话2": "care_phone2", "转往省(市、区)": "destination_code", "省（市、区）": "destination_code",
           "地区(市、州)": "destination_code", "县（区）": "destination_code", "县(区)": "destination_code",
           "本人/被委托人": "signer", "签名": "signed_name", "填表日期": "fill_date"}


@pytest.mark.parametrize("region_name", ["yueyang", "shangluo"])
def test_the_printed_forms_fields_are_all_asked(region_name, region):
    region(region_name)
    sheet = sheets.sheet_for(region_name)
    for category, item in rc.offered_categories():
        form = next(f for f in item.forms if f.kind.value == "application")
        applicant = [f for f in form.fields if f.party.value == "applicant"]
        assert applicant, (category.key, form.title.zh)
        for field in applicant:
            key = PRINTED[field.label.zh.replace(" ", "")]
            assert sheet.asks(key), (category.key, field.label.zh)


def _required_inputs(html: str) -> set[str]:
    pattern = r'<(?:input|select|textarea)[^>]*name="([a-z_0-9]+)"[^>]*\brequired\b'
    return {m.group(1) for m in re.finditer(pattern, html)}


@pytest.mark.parametrize("region_name", REGIONS)
def test_the_filing_page_requires_what_the_sheet_asks_and_marks_the_rest_as_ours(region_name, region, citizen,
                                                                                   browser_for, at):
    at(2026, 12, 1)
    region(region_name)
    sheet = sheets.sheet_for(region_name)
    browser = browser_for(citizen)
    html = browser.get("/remote-care/file/resettled_retiree", headers={"Cookie": "lang=en"}).get_data(as_text=True)
    for key, name in INPUTS.items():
        if sheet.asks(key):
            assert f'name="{name}"' in html, (region_name, key)
    expected = {INPUTS[f.key] for f in sheet.fields if f.required and f.key in INPUTS}
    assert _required_inputs(html) == expected, region_name
    assert "lower_rate" not in html and "lower rate" not in html
    # what no seed asks for is labelled as this service's own
    ours = [k for k in ("care_address", "insured_address", "care_phone2") if not sheet.asks(k)]
    for name in ["start_date", *ours]:
        label = re.search(rf'<label for="{name}">(.*?)</label>', html, re.S).group(1)
        assert OWN_MARK in label, (region_name, name)
    zh = browser.get("/remote-care/file/resettled_retiree", headers={"Cookie": "lang=zh"}).get_data(as_text=True)
    assert sheet.title in zh and sheet.ref in zh


def test_yueyang_asks_insurance_and_signer_and_records_the_sheet(region, citizen, at):
    region("yueyang")
    at(2026, 12, 1)
    with pytest.raises(ValidationFailed) as error:
        file(citizen, destination_code=TIANHE, insurance_type="", signer="")
    assert {"insurance_type", "signer"} <= set(error.value.fields)
    with pytest.raises(ValidationFailed) as error:
        file(citizen, destination_code=TIANHE, care_address="")
    assert "care_address" in error.value.fields
    case = file(citizen, destination_code=TIANHE, insurance_type="城乡居民医保", care_phone2="0730-8888888",
                start_date="")
    filing = filing_of(case)
    assert case.state == State.COMPLETED and filing.start_date.isoformat() == "2026-12-01"  # no date: from today
    form = case.form_data
    assert (form["insurance_type"], form["signer"], form["registration_type"], form["signature"]) == (
        "城乡居民医保", "本人", "新增", "李秀兰")
    rows = dict(document.rows(filing))
    assert rows["险种"] == "□职工医保  ■城乡居民医保" and rows["登记类别"] == "■新增  □变更"
    assert rows["本人 / 被委托人"] == "■本人  □被委托人" and rows["联系电话2"] == "073****8888"  # masked (S12)
    assert rows["人员类别"].startswith("■异地安置退休人员") and "异地转诊（急诊）人员" in rows["人员类别"]
    assert rows["转往省（市、区）"] == "广东省" and rows["地区（市、州）"] == "广州市" and rows["县（区）"] == "天河区"


def test_a_proxy_signs_with_their_own_name_but_the_person_must_type_theirs(region, citizen, at):
    region("shangluo")
    at(2026, 12, 1)
    with pytest.raises(ValidationFailed) as error:
        file(citizen, destination_code=GUANGZHOU, method=rc.METHOD_PAPER, signed_name="王五")
    assert "signed_name" in error.value.fields
    case = file(citizen, destination_code=GUANGZHOU, method=rc.METHOD_PAPER, signer="被委托人", signed_name="王五")
    assert case.state == State.SUBMITTED and case.form_data["signer"] == "被委托人"


def test_jilin_asks_only_what_its_attachment_1_has(citizen, at):
    at(2026, 12, 1)
    case = file(citizen, destination_code=GUANGZHOU, care_address="", insurance_type="", signer="", start_date="")
    assert case.state == State.COMPLETED
    assert not {"insurance_type", "signer", "registration_type"} & set(case.form_data)
    labels = [label for label, _value in document.rows(filing_of(case))]
    assert labels[:7] == ["姓名", "性别", "联系电话", "身份证号", "参保地", "就医地", "人员类别"]
