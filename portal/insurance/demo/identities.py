"""Identities drawn for the demo: names, places, 身份证 numbers, phones, 统一社会信用代码, unit names."""

from __future__ import annotations

from datetime import date, timedelta

from ...core.validators import USCC_ALPHABET, credit_code_check_char, id_check_digit
from ..constants import UnitNature
from .codes import organisation_code
from .common import BuilderState
from .regions import (
    BRANDS,
    BUREAUS,
    CREDIT_PREFIX,
    FEMALE_CHARS,
    INDUSTRIES,
    MALE_CHARS,
    PHONE_PREFIXES,
    SHOPS,
    STREETS,
    TOWNS,
)


class Identities(BuilderState):
    """Draws identities, each unique within the plan."""

    def surname(self) -> str:
        return self.rng.choices(self._surnames, cum_weights=self._surname_cum)[0]

    def name(self, gender: str, surname: str | None = None) -> str:
        chars = MALE_CHARS if gender == "M" else FEMALE_CHARS
        given = self.rng.choice(chars) + (self.rng.choice(chars) if self.rng.random() < 0.72 else "")
        return (surname or self.surname()) + given

    def district(self) -> tuple[str, str]:
        return self.rng.choice(self.region.districts)

    def id_number(self, area: str, birth: date, gender: str) -> str:
        while True:
            seq = self.rng.randrange(0, 500) * 2 + (1 if gender == "M" else 0)
            first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
            number = first17 + id_check_digit(first17)
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return number

    def phone(self) -> str:
        while True:
            number = self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def birth_date(self, first_year: int, last_year: int) -> date:
        start = date(first_year, 1, 1)
        return start + timedelta(days=self.rng.randrange((date(last_year, 12, 31) - start).days + 1))

    def place(self, district: str) -> str:
        """Province, city and district as written on a 户籍 record (a county-level region names itself once)."""
        region = self.region
        return region.province + region.city + ("" if region.city.endswith(district) else district)

    def address(self, place: str, rural: bool) -> str:
        r = self.rng
        if rural:
            return f"{place}{r.choice(TOWNS)}镇{r.choice(TOWNS)}村{r.randint(1, 9)}组"
        return (f"{place}{r.choice(STREETS)}{r.randint(1, 999)}号"
                f"{r.randint(1, 30)}栋{r.randint(1, 6)}单元{r.randint(1, 28)}{r.randint(1, 4):02d}室")

    def credit_code(self, nature: UnitNature, area: str) -> str:
        while True:
            if nature in (UnitNature.ENTERPRISE, UnitNature.INDIVIDUAL_BUSINESS, UnitNature.PRIVATE_NON_ENTERPRISE):
                body = "MA" + "".join(self.rng.choice(USCC_ALPHABET) for _ in range(6))
            else:
                body = f"{self.rng.randrange(10**8):08d}"
            first17 = CREDIT_PREFIX[nature] + area + organisation_code(body)
            code = first17 + credit_code_check_char(first17)
            if code not in self.credit_codes:
                self.credit_codes.add(code)
                return code

    def unit_name(self, nature: UnitNature, district: str) -> str:
        r, city, short = self.rng, self.region.city, self.region.short
        for attempt in range(50):
            if nature is UnitNature.GOVERNMENT:
                name = r.choice((f"{city}{r.choice(BUREAUS)}", f"{district}{r.choice(BUREAUS)}",
                                 f"{district}人民政府办公室"))
            elif nature is UnitNature.PUBLIC_INSTITUTION:
                name = r.choice((f"{city}第{r.randint(1, 40)}中学", f"{district}实验小学", f"{district}人民医院",
                                 f"{city}中医院", f"{city}疾病预防控制中心", f"{district}{r.choice(TOWNS)}镇卫生院",
                                 f"{city}图书馆", f"{short}职业技术学院"))
            elif nature is UnitNature.ENTERPRISE:
                name = (f"{short}{r.choice(BRANDS)}{r.choice(INDUSTRIES)}"
                        f"{r.choice(('有限公司', '有限责任公司', '股份有限公司'))}")
            elif nature is UnitNature.SOCIAL_ORGANISATION:
                trade = r.choice(("个体劳动者", "餐饮行业", "书法家", "摄影家", "老年体育", "软件行业"))
                name = r.choice((f"{city}{trade}协会",
                                 f"{city}{r.choice(INDUSTRIES)}商会"))
            elif nature is UnitNature.PRIVATE_NON_ENTERPRISE:
                kind = r.choice(("职业培训学校", "养老院", "幼儿园", "社会工作服务中心", "康复中心"))
                name = f"{short}{r.choice(BRANDS)}{kind}"
            else:
                name = f"{district}{self.surname()}记{r.choice(SHOPS)}"
            if attempt > 40:
                name += f"（{attempt}）"
            if name not in self.unit_names:
                self.unit_names.add(name)
                return name
        raise RuntimeError("could not make a unique unit name")
