"""Demo units (参保单位): nature, status, bank, address, and the weights employees are drawn with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..constants import UnitNature, UnitStatus
from .common import WINDOW, cumulative
from .identities import Identities
from .regions import STREETS, UNIT_NATURE_WEIGHTS


@dataclass
class UnitTraits:
    """What the builders need to know of a unit while drawing: its position in the plan, nature and status, how
    likely it is to employ the next person, and when it stopped paying or which months it owes."""

    index: int
    nature: UnitNature
    status: UnitStatus
    weight: float
    suspended_from: date | None = None
    arrears_months: frozenset[date] = frozenset()


class Units(Identities):
    """Adds the units, the demo unit first, and picks an employer by weight."""

    def add_units(self, count: int) -> None:
        r, region = self.rng, self.region
        natures = [n for n, _w in UNIT_NATURE_WEIGHTS]
        nature_cum = cumulative(w for _n, w in UNIT_NATURE_WEIGHTS)
        for index in range(count):
            demo = self.logins.unit
            area, district = (demo.division_code, demo.district) if index == 0 else self.district()
            if index == 0:
                nature, status, name, credit, code = (demo.nature, UnitStatus.ACTIVE, demo.name, demo.credit_code,
                                                      demo.code)
            else:
                nature = r.choices(natures, cum_weights=nature_cum)[0]
                roll = r.random()
                status = (UnitStatus.CANCELLED if roll < 0.04
                          else UnitStatus.SUSPENDED if roll < 0.09 else UnitStatus.ACTIVE)
                name, credit = self.unit_name(nature, district), self.credit_code(nature, area)
                code = f"{region.code}{index:06d}"
            weight = {
                UnitNature.GOVERNMENT: 25.0, UnitNature.PUBLIC_INSTITUTION: 30.0, UnitNature.SOCIAL_ORGANISATION: 4.0,
                UnitNature.PRIVATE_NON_ENTERPRISE: 6.0, UnitNature.INDIVIDUAL_BUSINESS: 1.5,
            }.get(nature, r.uniform(4, 60))
            unit = UnitTraits(index, nature, status, 0.0 if status is UnitStatus.CANCELLED else weight)
            if index == 0:
                unit.weight = 40.0
            if status is UnitStatus.SUSPENDED:
                unit.suspended_from = r.choice(WINDOW[-18:-2])
            elif status is UnitStatus.ACTIVE and index and r.random() < 0.08:
                unit.arrears_months = frozenset(WINDOW[-r.randint(1, 4):])
            self.units.append(unit)
            rep_gender = r.choice("MF")
            established = (date(r.randint(1950, 2000), r.randint(1, 12), 1)
                           if nature in (UnitNature.GOVERNMENT, UnitNature.PUBLIC_INSTITUTION)
                           else date(r.randint(1995, 2021), r.randint(1, 12), r.randint(1, 28)))
            self.plan.units.append({
                "code": code, "credit_code": credit, "name": name, "nature": nature, "status": status,
                "legal_rep_name": self.name(rep_gender),
                "legal_rep_id_number": self.id_number(self.district()[0], self.birth_date(1960, 1990), rep_gender),
                "legal_rep_phone": self.phone(),
                "bank_name": f"{r.choice(region.banks)}{region.short}{district}支行",
                "bank_account": "".join(str(r.randrange(10)) for _ in range(19)),
                "address": (demo.address if index == 0
                            else f"{self.place(district)}{r.choice(STREETS)}{r.randint(1, 2999)}号"),
                "postcode": region.postcode,
                "contact_phone": f"{region.phone_area}-8{r.randrange(10**6, 10**7)}",
                "agency_name": region.agency, "division_code": area, "established_on": established,
            })

    def pick_unit(self, *, exclude: int | None = None, active_only: bool = False) -> UnitTraits:
        weights = [0.0 if u.index == exclude or (active_only and u.status is not UnitStatus.ACTIVE) else u.weight
                   for u in self.units]
        return self.rng.choices(self.units, weights=weights)[0]
