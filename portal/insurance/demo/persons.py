"""Demo persons: the row of one insured person, a documented login or drawn at random."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from ..constants import HukouType, PersonCategory
from .identities import Identities
from .logins import DemoCitizen

if TYPE_CHECKING:
    from .units import UnitTraits


class Persons(Identities):
    """Adds persons (their 户籍, address and phone drawn, or a demo login's fixed identity)."""

    def add_person(self, category: PersonCategory, *, citizen: DemoCitizen | None = None,
                   gender: str | None = None, birth: date | None = None, unit: UnitTraits | None = None,
                   **extra: Any) -> int:
        r = self.rng
        gender = citizen.gender if citizen else (gender or r.choice("MF"))
        if citizen:
            area, place = citizen.hukou_division_code, citizen.hukou_place
            hukou_type, name, id_number, phone = citizen.hukou_type, citizen.name, citizen.id_number, citizen.phone
            birth, insured_no = citizen.birth_date, citizen.insured_no
        else:
            area, district = self.district()
            place = self.place(district)
            rural = category in (PersonCategory.RESIDENT, PersonCategory.STUDENT, PersonCategory.NEWBORN)
            hukou_type = r.choices((HukouType.RURAL, HukouType.URBAN, HukouType.UNIFIED),
                                   weights=(70, 20, 10) if rural else (10, 80, 10))[0]
            assert birth is not None
            name = self.name(gender)
            id_number = self.id_number(area, birth, gender)
            phone = None if category is PersonCategory.NEWBORN else self.phone()
            insured_no = f"{self.region.code}{self.persons_before + len(self.plan.persons) + 1:08d}"
        index = len(self.plan.persons)
        ethnicity = r.choices(self._ethnicities, cum_weights=self._ethnicity_cum)[0] if r.random() < 0.7 else None
        self.plan.persons.append({
            "insured_no": insured_no, "name": name, "id_number": id_number, "gender": gender, "birth_date": birth,
            "phone": phone, "unit_id": unit.index if unit else None, "category": category,
            "is_retired_cadre": category is PersonCategory.RETIRED_CADRE, "is_model_worker": False,
            "health_care_level": None, "is_extreme_poverty": False, "is_subsistence_allowance": False,
            "is_severely_disabled": False, "is_disabled_veteran": False,
            "hukou_division_code": area, "hukou_place": place, "hukou_type": hukou_type,
            "address": self.address(place, hukou_type is HukouType.RURAL),
            "ethnicity": ethnicity, "death_date": None, "notes": None,
        } | extra)
        return index
