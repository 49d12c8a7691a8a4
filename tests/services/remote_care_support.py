"""Helpers of the 异地就医备案 tests: places and a filing with sample values."""

from __future__ import annotations

from portal.core.audit import Actor
from portal.services.remote_care import operations as rc

SYSTEM = Actor.system()
HAIKOU = "460100"  # 海南省海口市: 海南 files to the province
GUANGZHOU = "440100"  # 广东省广州市
TIANHE = "440106"  # 广东省广州市天河区
WUZHISHAN = "469001"  # 海南省五指山市 (county-level city under the province)



def filing_input(**overrides) -> rc.FilingInput:
    values = {"category": "resettled_retiree", "destination_code": HAIKOU, "start_date": "2026-12-01",
              "care_address": "海口市美兰区海甸岛1号", "care_phone": "13912345678", "method": rc.METHOD_COMMITMENT,
              "commitment_consent": True, "signed_name": "李秀兰", "insurance_type": "职工医保", "signer": "本人"}
    values.update(overrides)
    return rc.FilingInput(**values)


def file(by, **overrides):
    return rc.file_remote_care(filing_input(**overrides), by=by, actor=SYSTEM)
