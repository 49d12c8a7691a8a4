"""Each deployment is its own region: a 参保凭证 issued to a region's demo citizen carries that region's province
and pooling code (统筹区), from the region data — never the holder's 户籍 — and the demo people are that region's."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.certificates.constants import CertificateKind
from portal.certificates.operations import issued_by, request_certificate
from portal.core.validators import id_check_digit
from portal.insurance.demo import demo_citizens, demo_unit, generate_demo_data
from portal.insurance.models import Person, id_number_index
from tests.services.conftest import region  # noqa: F401 (a fixture)

from .conftest import bind
from .records import SYSTEM

EXPECTED = {  # region: (province, pooling code, the first four digits of its people's 身份证 numbers)
    "jilin": ("吉林省", "220100", "2201"),
    "yueyang": ("湖南省", "430600", "4306"),
    "linkou": ("黑龙江省", "231025", "2310"),
    "sichuan": ("四川省", "510100", "5101"),
    "shangluo": ("陕西省", "611000", "6110"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_voucher_to_a_demo_citizen_carries_the_regions_province_and_pooling_code(name, region, db_session, app):  # noqa: F811
    province, pool, prefix = EXPECTED[name]
    region(name)
    generate_demo_data(seed=7, persons=30, units=3)
    citizen = next(c for c in demo_citizens(name) if c.key == "employee")
    person = db_session.execute(select(Person).where(
        Person.id_number_index == id_number_index(citizen.id_number))).scalar_one()
    assert person.id_number.startswith(prefix) and person.hukou_place.startswith(province)
    with app.test_request_context("/"):
        account = bind(citizen.phone, person)
        case = request_certificate(CertificateKind.PERSON_VOUCHER, by=account, actor=SYSTEM)
    certificate = issued_by(case)
    assert certificate is not None, case.state
    assert certificate.number.startswith(f"({province})({pool})({certificate.year})(第")
    assert certificate.pool_code == pool
    assert certificate.facts["agency"]["division_code"] == pool
    others = {p for _name, (_prov, p, _pre) in EXPECTED.items() if p != pool}
    assert not any(other in certificate.number for other in others)


def test_a_holder_registered_elsewhere_does_not_change_the_pooling_code(region, db_session, app):  # noqa: F811
    """商洛's certificate for a person whose 户籍 is in 长春 still reads 611000 (the deployment's pooling area)."""
    region("shangluo")
    generate_demo_data(seed=7, persons=30, units=3)
    citizen = next(c for c in demo_citizens("shangluo") if c.key == "flexible")
    person = db_session.execute(select(Person).where(
        Person.id_number_index == id_number_index(citizen.id_number))).scalar_one()
    person.hukou_division_code, person.hukou_place = "220102", "吉林省长春市南关区"
    db_session.flush()
    with app.test_request_context("/"):
        case = request_certificate(CertificateKind.PERSON_VOUCHER, by=bind(citizen.phone, person), actor=SYSTEM)
    certificate = issued_by(case)
    assert certificate.number.startswith("(陕西省)(611000)")
    assert certificate.facts["agency"]["division_code"] == "611000"


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.no_db
def test_each_regions_demo_logins_belong_to_that_region(name):
    province, _pool, prefix = EXPECTED[name]
    citizens, unit = demo_citizens(name), demo_unit(name)
    for citizen in citizens:
        assert citizen.id_number.startswith(prefix), citizen
        assert citizen.id_number[17] == id_check_digit(citizen.id_number[:17])
        assert citizen.hukou_division_code == citizen.id_number[:6]
        assert citizen.hukou_place.startswith(province)
    assert unit.credit_code[2:6] == prefix and unit.address.startswith(province)
    assert unit.division_code.startswith(prefix)
