"""Each region's 异地就医登记备案表: the fields its seed's form asks for, each with the seed's words as its source.

The online filing form and the printable form follow the sheet of the deployment's region:

- 岳阳 (seed 001, 参考样表15–19) and 商洛 (seed 004, 表12) print the form; its fields are asked as printed
  (性别, 险种, 人员类别, 登记类别 新增/变更, 联系电话1 and 2, 转往, 本人/被委托人 签名, 填表日期).
- 林口 (seed 002) and 四川 (seed 003) list a "备案表" without printing one: this service uses the same reference
  form that 岳阳 and 商洛 publish, and says so (``borrowed``).
- 吉林 (seed 000) attaches no 备案表: the fields are those of its 附件1《基本医疗保险异地就医备案个人承诺书》
  (姓名, 性别, 联系电话, 身份证号, 参保地, 就医地, 人员类别).

A field is required only when a sheet asks for it (``source`` holds the seed file and a quote that occurs in it,
checked by the tests); what no seed asks for (a start date, an admission date, the address where the seed's form
has none) is optional and labelled as this service's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...core.translation import lazy_gettext as _l

SEED_JILIN = "000_1d2df00bb6bedf03.txt"
SEED_YUEYANG = "001_95652beca88010f2.txt"
SEED_SHANGLUO = "004_de03b1b8c53aadfd.txt"


@dataclass(frozen=True)
class Source:
    seed: str  # a file in shared/seeds
    quote: str  # words that occur in it


@dataclass(frozen=True)
class SheetField:
    key: str  # the online form's field (FilingInput) or a value the service fills in
    label: str  # as the seed prints it; this service's own label for fields no seed asks for
    required: bool
    source: Source | None = None  # None: this service's own, optional
    automatic: bool = False  # filled by the service (the records, the account, the day of filing)


@dataclass(frozen=True)
class Sheet:
    title: str
    ref: str  # how the seed names it
    fields: tuple[SheetField, ...]
    categories: tuple[str, ...]  # the 人员类别 boxes as printed
    borrowed: bool = False  # the region's seed names a 备案表 without printing one: the reference form is used
    note: object = ""  # what the page says about where the fields come from

    def field(self, key: str) -> SheetField | None:
        return next((f for f in self.fields if f.key == key), None)

    def asks(self, key: str) -> bool:
        return self.field(key) is not None

    def requires(self, key: str) -> bool:
        field = self.field(key)
        return field is not None and field.required


def _reference(seed: str, quotes: dict[str, str], title: str, ref: str, categories: tuple[str, ...],
               borrowed: bool = False, note: object = "") -> Sheet:
    """The reference 异地就医登记备案表 as printed in ``seed`` (the same layout in seeds 001 and 004)."""
    def s(key: str) -> Source:
        return Source(seed, quotes[key])

    return Sheet(title, ref, (
        SheetField("name", "姓名", True, s("name"), automatic=True),
        SheetField("gender", "性别", True, s("gender"), automatic=True),
        SheetField("insurance_type", "险种", True, s("insurance_type")),
        SheetField("person_category", "人员类别", True, s("person_category"), automatic=True),
        SheetField("registration_type", "登记类别", True, s("registration_type"), automatic=True),
        SheetField("id_number", "身份证件号码", True, s("id_number"), automatic=True),
        SheetField("insured_address", "参保地联系地址", False, s("insured_address")),
        SheetField("care_address", "就医地联系地址", True, s("care_address")),
        SheetField("care_phone", "联系电话1", True, s("care_phone")),
        SheetField("care_phone2", "联系电话2", False, s("care_phone2")),
        SheetField("destination_code", "转往省（市、区）/ 地区（市、州）/ 县（区）", True, s("destination_code")),
        SheetField("signer", "本人 / 被委托人", True, s("signer")),
        SheetField("signed_name", "签名", True, s("signed_name")),
        SheetField("fill_date", "填表日期", True, s("fill_date"), automatic=True),
    ), categories, borrowed, note)


YUEYANG_QUOTES = {
    "name": "姓   名", "gender": "性  别", "insurance_type": "□职工医保\n□城乡居民医保",
    "person_category": "□异地安置退休人员", "registration_type": "□新增\n□变更", "id_number": "身份证件号码",
    "insured_address": "参保地       联系地址", "care_address": "就医地联系地址", "care_phone": "联系电话1",
    "care_phone2": "联系电话2", "destination_code": "转往省", "signer": "□本人\n□被委托人", "signed_name": "   签名",
    "fill_date": "填表日期",
}
SHANGLUO_QUOTES = {
    "name": "姓 名", "gender": "性 别", "insurance_type": '<input type="checkbox"/> 职工医保',
    "person_category": '<input type="checkbox"/> 异地安置退休人员',
    "registration_type": '<input type="checkbox"/> 新增',
    "id_number": "身份证件号码", "insured_address": "参保地 联系地址", "care_address": "就医地联系地址",
    "care_phone": "联系电话 1", "care_phone2": "联系电话 2", "destination_code": "转往省 (市、区)",
    "signer": '<input type="checkbox"/> 本人 <input type="checkbox"/> 被委托人', "signed_name": "被委托人 签名",
    "fill_date": "填表日期",
}
SAMPLE_CATEGORIES = ("异地安置退休人员", "异地长期居住人员", "常驻异地工作人员", "异地转诊人员", "其他")

BORROWED_NOTE = _l("This region's guide lists a 备案表 (filing form) but does not print one. This service asks for "
                   "the fields of the reference 异地就医登记备案表 that other regions' guides print (岳阳, 商洛).")
JILIN_NOTE = _l("Jilin's guide attaches no 备案表 (filing form). This service asks for the fields of its 附件1 "
                "《基本医疗保险异地就医备案个人承诺书》; everything else is optional.")

JILIN = Sheet("异地就医备案信息", "附件1 基本医疗保险异地就医备案个人承诺书", (
    SheetField("name", "姓名", True, Source(SEED_JILIN, "基本医疗保险异地就医备案个人承诺书"), automatic=True),
    SheetField("gender", "性别", True, Source(SEED_JILIN, "性别"), automatic=True),
    SheetField("care_phone", "联系电话", True, Source(SEED_JILIN, "联系电话")),
    SheetField("id_number", "身份证号", True, Source(SEED_JILIN, "身份证号"), automatic=True),
    SheetField("insured_place", "参保地", True, Source(SEED_JILIN, "参保地"), automatic=True),
    SheetField("destination_code", "就医地", True, Source(SEED_JILIN, "就医地")),
    SheetField("person_category", "人员类别", True, Source(SEED_JILIN, "□跨省异地长期居住人员"), automatic=True),
), ("跨省异地长期居住人员", "跨省临时外出就医人员"), note=JILIN_NOTE)

SHEETS: dict[str, Sheet] = {
    "jilin": JILIN,
    "yueyang": _reference(SEED_YUEYANG, YUEYANG_QUOTES, "岳阳市异地就医登记备案表", "参考样表15–19",
                          ("异地安置退休人员", "异地长期居住人员", "常驻异地工作人员", "异地转诊（急诊）人员", "其他")),
    "shangluo": _reference(SEED_SHANGLUO, SHANGLUO_QUOTES, "异地就医登记备案表", "表12", SAMPLE_CATEGORIES),
    "linkou": _reference(SEED_SHANGLUO, SHANGLUO_QUOTES, "异地就医登记备案表", "备案表", SAMPLE_CATEGORIES,
                         borrowed=True, note=BORROWED_NOTE),
    "sichuan": _reference(SEED_SHANGLUO, SHANGLUO_QUOTES, "异地就医登记备案表", "备案表", SAMPLE_CATEGORIES,
                          borrowed=True, note=BORROWED_NOTE),
}

# The fields this service adds (never required): what it asks beyond the sheet, and why.
OWN_FIELDS = ("start_date", "care_address", "insured_address", "care_phone2", "admitted_on", "discharged",
              "referral_hospital", "emergency_date")
INSURANCE_TYPES = ("职工医保", "城乡居民医保")
SIGNERS = ("本人", "被委托人")
NEW, CHANGE = "新增", "变更"


def sheet_for(region: str) -> Sheet:
    return SHEETS.get(region, SHEETS["shangluo"])


def category_box(sheet: Sheet, category_key: str, term: str) -> str:
    """The 人员类别 box of ``sheet`` a category ticks (吉林: long-term or temporary; the reference form: the five)."""
    if sheet is JILIN:
        return sheet.categories[0] if term == "long_term" else sheet.categories[1]
    by_key = {"resettled_retiree": 0, "long_term_resident": 1, "stationed_worker": 2, "referral": 3}
    if category_key == "emergency" and "急诊" in sheet.categories[3]:
        return sheet.categories[3]
    return sheet.categories[by_key.get(category_key, 4)]
