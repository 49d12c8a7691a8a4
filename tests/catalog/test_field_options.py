"""身份证件类型 and 险种 are chosen from a list, not typed (issue 17, point 6): the lists come from the seeds
(the regions' 有效身份证件 definition; the region's own 险种 boxes), and a value outside them is refused."""

from __future__ import annotations

import pytest

from portal.applications import fields
from portal.catalog.field_options import ID_DOCUMENT_TYPES, insurance_options
from portal.catalog.loader import load_region
from portal.catalog.schema import FieldType
from portal.core.errors import ValidationFailed

STAFF_ITEM = "G002036001005_02_02"  # Jilin 职工停保变更: 险种 above a table of staff with 身份证件类型


def _field(form, key):
    return next(f for f in form.fields if f.key == key)


def test_jilin_staff_form_offers_lists_for_id_type_and_insurance_type():
    catalog = load_region("jilin")
    form = catalog.get(STAFF_ITEM).application_form
    insurance = _field(form, "insurance_type")
    assert insurance.type is FieldType.choice
    # the boxes Jilin's own unit forms print for 险种
    assert [o.zh for o in insurance.options] == ["职工基本医疗保险", "生育保险", "补充医疗保险", "其他"]
    id_type = next(c for c in _field(form, "staff").columns if c.key == "id_type")
    assert id_type.type is FieldType.choice and id_type.options == ID_DOCUMENT_TYPES
    assert {"居民身份证", "户口簿", "护照", "港澳台居民居住证", "其他"} <= {o.zh for o in id_type.options}


@pytest.mark.parametrize("region", ["jilin", "shangluo", "yueyang"])
def test_no_blank_id_type_or_insurance_type_is_left_in_a_region_that_publishes_the_lists(region):
    catalog = load_region(region)
    assert insurance_options(catalog.items)
    left = []
    for item in catalog.items:
        for form in item.forms:
            for f in form.fields:
                for g in (f, *f.columns):
                    if g.key in {"id_type", "insurance_type"} and g.type is FieldType.text:
                        left.append((item.code, g.key))
    assert not left


def test_a_typed_value_outside_the_list_is_refused():
    item = load_region("jilin").get(STAFF_ITEM)
    specs = fields.field_specs(item, "unit")
    row = {"name": "张三", "id_type": "身份证号", "id_number": "220102198503151237", "change_category": "中断"}
    with pytest.raises(ValidationFailed) as refused:
        fields.clean_form(specs, {"insurance_type": "职工基本医疗保险", "staff": [row]}, complete=False)
    assert [key for key, _message in refused.value.reasons] == ["staff.1.id_type"]
    row["id_type"] = "居民身份证"
    cleaned = fields.clean_form(specs, {"insurance_type": "职工基本医疗保险", "staff": [row]}, complete=False)
    assert cleaned["staff"][0]["id_type"] == "居民身份证"
