"""Schema of the service catalog (办事指南) data.

Each region lives in ``portal/catalog/data/<region>/``: ``region.yaml`` describes the region and its
agency, and every ``items/*.yaml`` file holds a list of service items. The loader validates every file
against these models at start-up and in tests; an error names the file, the item and the field.

Text that is published in Chinese keeps the seed's wording in ``zh``; ``en`` is our English gloss.
A plain string where a ``Text`` is expected is read as ``{zh: <string>}``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CODE_RE = re.compile(r"^[A-Z]?[0-9A-Za-z_\-]+$")
KEY_RE = r"^[a-z][a-z0-9_]*$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Text(_Model):
    """A published Chinese text with an optional English gloss."""

    zh: str = Field(min_length=1)
    en: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"zh": value}
        return value

    def get(self, locale: str) -> str:
        """The text in ``locale`` ("zh…" or "en…"), falling back to Chinese when no gloss exists."""
        if locale.startswith("en") and self.en:
            return self.en
        return self.zh

    def __str__(self) -> str:
        return self.zh


class Name(Text):
    """A name: the English gloss is required (English pages show it)."""

    en: str = Field(min_length=1)


class Audience(StrEnum):
    individual = "individual"  # 参保人员 / 个人
    unit = "unit"  # 参保单位 (filed by its 经办人)
    institution = "institution"  # 定点医药机构 and other designated institutions
    agency = "agency"  # handled inside the agency or by data sharing; nobody files it online


class HandlingType(StrEnum):
    instant = "instant"  # 即办件
    promise = "promise"  # 承诺件
    mixed = "mixed"  # 即办件(承诺件): instant when complete, otherwise a promise


class LimitKind(StrEnum):
    immediate = "immediate"  # 即时办理 / 即时办结 / 当场
    same_day = "same_day"  # 当日 / 当天
    working_days = "working_days"  # N 个工作日
    natural_days = "natural_days"  # N 日 / N 天 (calendar days)
    months = "months"  # N 个月
    none = "none"  # no time limit published (or left blank in a template seed)


class TimeLimit(_Model):
    kind: LimitKind
    value: int | None = Field(default=None, ge=1, le=366)
    wording: str = Field(min_length=1, description="the seed's own wording, e.g. '5 个工作日'")
    note: Text | None = None

    @model_validator(mode="after")
    def _value_matches_kind(self) -> TimeLimit:
        needs_value = self.kind in {LimitKind.working_days, LimitKind.natural_days, LimitKind.months}
        if needs_value and self.value is None:
            raise ValueError(f"time limit of kind {self.kind.value} needs a value")
        if not needs_value and self.value is not None:
            raise ValueError(f"time limit of kind {self.kind.value} takes no value")
        return self


class Handling(_Model):
    """How the case is handled. ``type`` drives the portal (a case of an instant item may complete at once);
    ``wording`` is the seed's 办件类型 exactly as printed, and absent where the seed publishes none (then the
    type is derived from the time limit and the page shows no 办件类型)."""

    type: HandlingType
    wording: str | None = Field(default=None, min_length=1, description="e.g. '承诺件', '即办件(承诺件)'")

    @model_validator(mode="after")
    def _wording_is_a_handling_type(self) -> Handling:
        if self.wording is not None and not ("即办件" in self.wording or "承诺件" in self.wording):
            raise ValueError(f"handling wording {self.wording!r} is not a 办件类型 (即办件/承诺件) the seed prints")
        return self


class Channel(StrEnum):
    online = "online"  # 网上大厅 / 网上办理
    window = "window"  # 窗口
    app = "app"  # 手机 APP / 国家医保服务平台
    mini_program = "mini_program"  # 微信小程序 / 公众号
    phone = "phone"  # 电话
    mail = "mail"  # 邮寄
    self_service = "self_service"  # 自助终端
    data_sharing = "data_sharing"  # 部门推送 / 数据共享, no applicant action


class StepKey(StrEnum):
    apply = "apply"  # 申请
    receive = "receive"  # 接收 (information pushed by another department)
    accept = "accept"  # 受理
    review = "review"  # 审核 / 审批 / 复核
    evaluate = "evaluate"  # 评估
    publicise = "publicise"  # 公示
    agreement = "agreement"  # 签订协议
    pay = "pay"  # 拨付 / 支付
    mark = "mark"  # 标记
    complete = "complete"  # 办结 / 决定
    deliver = "deliver"  # 送达
    other = "other"


class Step(_Model):
    key: StepKey
    name: Text = Field(description="the step's published name, e.g. 受理")
    text: Text | None = Field(default=None, description="what the seed says happens in the step")


class Requirement(StrEnum):
    required = "required"
    optional = "optional"
    conditional = "conditional"  # required only in the case named by ``condition``


class Form(StrEnum):
    original = "original"  # 原件
    copy = "copy"  # 复印件
    original_and_copy = "original_and_copy"
    original_or_copy = "original_or_copy"
    electronic = "electronic"
    unspecified = "unspecified"


class SealBy(StrEnum):
    """Who seals a material, as the seed states it."""

    unit = "unit"  # the applicant unit or institution: 单位公章, 申请单位公章, 财务章 …
    school = "school"  # 学校公章
    hospital = "hospital"  # the hospital or pharmacy that issued it: 医院印章, 医药机构印章
    social_security = "social_security"  # 社保局盖章
    unspecified = "unspecified"  # 有效印章, (盖章), (印章): a seal, the seed does not say whose


class Seal(_Model):
    by: SealBy
    wording: str = Field(min_length=1, description="the seed's words for the seal, e.g. '加盖医院印章'")
    quote: str = Field(min_length=1, description="the seed passage that states it (occurs in the seed file)")

    @model_validator(mode="after")
    def _wording_in_quote(self) -> Seal:
        if _squash(self.wording) not in _squash(self.quote):
            raise ValueError(f"seal wording {self.wording!r} is not in its quote")
        return self


class OnlineSubstitute(StrEnum):
    """This service's own choice (not the seed's): what stands for a material when the case is filed online."""

    real_name = "real_name"  # the account's real-name binding stands for the ID document
    online_form = "online_form"  # the form filled in online is the material (e.g. the 备案表)


FORM_WORDS = {
    "original": ("原件",),
    "copy": ("复印件",),
    "original_and_copy": ("原件", "复印件"),
    "original_or_copy": ("原件", "复印件"),
    "electronic": ("电子",),
}


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


class Material(_Model):
    id: str = Field(pattern=KEY_RE, description="unique within the item, e.g. 'application_form'")
    name: Name
    requirement: Requirement = Requirement.required
    condition: Text | None = Field(default=None, description="the case in which it is needed (conditional)")
    condition_key: str | None = Field(
        default=None,
        pattern=KEY_RE,
        description="machine key of the case: flexible_worker, hmt, foreigner, proxy, death, non_local, ...",
    )
    alternatives: tuple[Name, ...] = Field(
        default=(), description="any one of these satisfies the material (e.g. a licence by unit type)"
    )
    form_ref: str | None = Field(default=None, description="id of the attached form in ``forms``")
    commitment: Text | None = Field(default=None, description="named commitment (承诺书) that may replace it")
    data_sharing: bool = Field(default=False, description="the seed says the agency obtains it by data sharing")
    data_sharing_quote: str | None = Field(default=None, description="the seed passage that says so")
    online_substitute: OnlineSubstitute | None = Field(
        default=None, description="this service's choice: what stands for it when filed online (not the seed's)"
    )
    form: Form = Form.unspecified
    form_quote: str | None = Field(default=None, description="the seed passage that says 原件/复印件/电子")
    copies: int | None = Field(default=None, ge=1, le=20)
    seal: Seal | None = Field(default=None, description="who seals it, as the seed states it")
    note: Text | None = None

    @model_validator(mode="after")
    def _conditional_has_condition(self) -> Material:
        if self.requirement is Requirement.conditional and self.condition is None:
            raise ValueError("a conditional material needs a condition")
        return self

    @model_validator(mode="after")
    def _attributes_have_their_seed_source(self) -> Material:
        if self.form is not Form.unspecified:
            if self.form_quote is None:
                raise ValueError(f"material {self.id}: form {self.form.value} needs the seed's words (form_quote)")
            missing = [w for w in FORM_WORDS[self.form.value] if w not in _squash(self.form_quote)]
            if missing:
                raise ValueError(f"material {self.id}: form_quote does not say {'、'.join(missing)}")
        elif self.form_quote is not None:
            raise ValueError(f"material {self.id}: form_quote without a form")
        if self.data_sharing != (self.data_sharing_quote is not None):
            raise ValueError(f"material {self.id}: data_sharing and data_sharing_quote go together")
        return self

    @property
    def seal_required(self) -> bool:
        return self.seal is not None

    @property
    def provided_without_upload(self) -> bool:
        """Nothing to upload when filed here: the agency obtains it (seed) or this service stands in for it."""
        return self.data_sharing or self.online_substitute is not None


class FieldType(StrEnum):
    text = "text"
    textarea = "textarea"
    number = "number"
    money = "money"
    date = "date"
    month = "month"  # 年 月
    choice = "choice"  # one of options (□ … □ …)
    multichoice = "multichoice"
    boolean = "boolean"  # a single checkbox / 是否
    id_number = "id_number"  # 身份证件号码
    credit_code = "credit_code"  # 统一社会信用代码
    phone = "phone"
    bank_account = "bank_account"
    address = "address"
    division = "division"  # administrative division (省/市/县)
    email = "email"
    postcode = "postcode"
    table = "table"  # repeated rows, see ``columns``
    signature = "signature"  # 签字 / 签章
    seal = "seal"  # 盖章
    static = "static"  # printed text such as a declaration (单位声明)


class Party(StrEnum):
    applicant = "applicant"
    agency = "agency"  # 经办机构意见, 审核意见 ...
    third_party = "third_party"  # e.g. a hospital's opinion, the transfer-in agency


class FormField(_Model):
    key: str = Field(pattern=KEY_RE)
    label: Name
    type: FieldType = FieldType.text
    required: bool = False
    party: Party = Party.applicant
    group: Text | None = Field(default=None, description="the block the field sits in, e.g. 法定代表人")
    options: tuple[Name, ...] = ()
    columns: tuple[FormField, ...] = Field(default=(), description="for type table: the columns of a row")
    max_rows: int | None = Field(default=None, ge=1, le=10000)
    prefill: str | None = Field(
        default=None, description="where the portal can prefill it from: person.name, unit.credit_code, ..."
    )
    help: Text | None = None

    @model_validator(mode="after")
    def _shape(self) -> FormField:
        if self.type in {FieldType.choice, FieldType.multichoice} and not self.options:
            raise ValueError(f"field {self.key}: a {self.type.value} field needs options")
        if self.type is FieldType.table and not self.columns:
            raise ValueError(f"field {self.key}: a table field needs columns")
        if self.type is not FieldType.table and self.columns:
            raise ValueError(f"field {self.key}: only a table field has columns")
        return self


class FormKind(StrEnum):
    application = "application"  # 登记表 / 申请表 filled by the applicant
    receipt_accept = "receipt_accept"  # 业务单 (受理)
    receipt_complete = "receipt_complete"  # 业务单 (办结)
    detail = "detail"  # 明细表 printed by the agency
    certificate = "certificate"  # 参保凭证 / 参保证明
    commitment = "commitment"  # 承诺书
    letter = "letter"  # 联系函 / 介绍信
    other = "other"


class AttachedForm(_Model):
    id: str = Field(pattern=KEY_RE)
    ref: str | None = Field(default=None, description="the seed's label, e.g. '附件1'")
    title: Name
    kind: FormKind = FormKind.application
    fields: tuple[FormField, ...] = ()
    notes: tuple[Text, ...] = ()

    @field_validator("fields")
    @classmethod
    def _unique_keys(cls, fields: tuple[FormField, ...]) -> tuple[FormField, ...]:
        seen: set[str] = set()
        for f in fields:
            if f.key in seen:
                raise ValueError(f"field key {f.key!r} is used twice")
            seen.add(f.key)
        return fields


class LegalBasis(_Model):
    title: str = Field(min_length=1, description="e.g. 《社会保险法》")
    article: str | None = None
    text: str | None = None


class Contact(_Model):
    name: Text | None = None
    address: str | None = None
    window: str | None = None
    hours: str | None = None
    phone: str | None = None
    note: Text | None = None
    in_footer: bool = Field(default=False, description="a general hotline the seed publishes, shown on every page")


class Rule(_Model):
    """A special rule as structured parameters a later feature reads, with its published text.

    Known keys (add to RULE_KEYS when a feature reads a new one):
    """

    key: str = Field(pattern=KEY_RE)
    params: dict[str, int | float | str | bool] = Field(default_factory=dict)
    text: Text


RULE_KEYS: dict[str, str] = {
    "register_within_days": "a party must register within `days` (`unit`: natural_days|working_days) of an event",
    "newborn_enrol_within_days": "a newborn must be enrolled within `days` of birth",
    "emergency_filing_within_working_days": "emergency care must be filed within `days` working days after it",
    "filing_valid_until_year_end": "the filing is valid until 31 December of the filing year",
    "filing_valid_months": "the filing is valid `months` months",
    "filing_change_lock_months": "change or cancellation is locked for `months` months after filing",
    "claim_deadline": "claims must be made by `month`/`day` of the year `year_offset` after the expense",
    "apply_within_days": "the application must be made within `days` (`unit`) of an event (`event`)",
    "requires_item": "the item needs an earlier item `code` (e.g. a long-term filing) to exist",
    "handled_with_item": "the item is handled together with item `code`",
    "mail_within_working_days": "results are mailed within `days` working days",
    "annual_window": "applications are taken from `start` to `end` (MM-DD) each year",
    "validity_months": "the result is valid `months` months",
    "other": "a rule kept as text only",
}


class Audit(_Model):
    """A recorded note about a defect of the seed and how the data resolves it."""

    kind: str = Field(pattern=KEY_RE, description="duplicate_code, malformed_code, shifted_columns, merged_block, ...")
    text: str = Field(min_length=1)


class Item(_Model):
    code: str = Field(description="unique key within the region (normalised)")
    seed_code: str | None = Field(default=None, description="the code exactly as the seed prints it, if any")
    national_code: str | None = Field(default=None, description="12-digit national item code, e.g. 002036004001")
    name: Name
    part: str = Field(description="id of a part declared in region.yaml")
    seed_lines: str | None = Field(default=None, pattern=r"^L\d+(-\d+)?$", description="e.g. L1-271")
    audience: tuple[Audience, ...] = Field(min_length=1)
    proxy: str = Field(default="allowed", pattern=r"^(allowed|required|not_allowed)$")
    service_object: Text | None = None
    conditions: Text | None = None
    accepting_unit: Text | None = None
    handling: Handling
    time_limit: TimeLimit
    legal_time_limit: TimeLimit | None = None
    channels: tuple[Channel, ...] = ()
    channel_text: Text | None = None
    steps: tuple[Step, ...] = ()
    materials: tuple[Material, ...] = ()
    forms: tuple[AttachedForm, ...] = ()
    legal_basis: tuple[LegalBasis, ...] = ()
    fee: Text | None = None
    contacts: tuple[Contact, ...] = ()
    rules: tuple[Rule, ...] = ()
    notes: tuple[Text, ...] = Field(default=(), description="其他事项 and other published notes, as text")
    hints: tuple[Text, ...] = Field(default=(), description="提示信息 printed on the completion slip")
    handler: str = Field(default="generic", pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")
    decision_only: bool = Field(default=False, description=(
        "completing the item records nothing, by design: its result is a decision or a document (a query's result, "
        "a 核定 of an amount paid through another channel, a settlement at the institution). Every fileable item "
        "either has an effect (its handler changes the records at completion, services.base.has_effect) or says "
        "so here; tests/services/test_effects_walk.py walks all regions"))
    online: bool | None = Field(
        default=None, description="this deployment files it online; unset: the region's online_filing default"
    )
    audit: tuple[Audit, ...] = ()

    @field_validator("code", "seed_code")
    @classmethod
    def _code_shape(cls, value: str | None) -> str | None:
        if value is not None and not CODE_RE.match(value):
            raise ValueError(f"code {value!r} has characters outside letters, digits, '_' and '-'")
        return value

    @model_validator(mode="after")
    def _references(self) -> Item:
        form_ids = [f.id for f in self.forms]
        if len(set(form_ids)) != len(form_ids):
            raise ValueError("form ids must be unique within the item")
        material_ids = [m.id for m in self.materials]
        if len(set(material_ids)) != len(material_ids):
            raise ValueError("material ids must be unique within the item")
        for material in self.materials:
            if material.form_ref is not None and material.form_ref not in form_ids:
                raise ValueError(f"material {material.id} refers to unknown form {material.form_ref!r}")
        # 即办件 with a multi-day limit happens in the seeds (e.g. '即办件', '1 个工作日'); it is kept,
        # but the limit must then be short.
        if self.handling.type is HandlingType.instant and (
            self.time_limit.kind is LimitKind.months
            or (self.time_limit.kind is LimitKind.working_days and (self.time_limit.value or 0) > 5)
        ):
            raise ValueError("an instant item (即办件) cannot promise more than 5 working days")
        return self

    @property
    def online_is_addition(self) -> bool:
        """Filed online here although the seed publishes no online channel: this service's addition."""
        return bool(self.online) and Channel.online not in self.channels

    @property
    def internal(self) -> bool:
        """Handled inside the agency (经办机构内部办理): nobody files it."""
        return Audience.agency in self.audience

    @property
    def application_form(self) -> AttachedForm | None:
        """The first form the applicant fills, if the item has one."""
        return next((f for f in self.forms if f.kind is FormKind.application), None)


class Part(_Model):
    id: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    name: Name


class Agency(_Model):
    name: Name
    address: str | None = None
    postcode: str | None = Field(default=None, pattern=r"^\d{6}$")
    division_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    phone: str | None = None
    website: str | None = None
    hours: str | None = None


class Region(_Model):
    id: str = Field(pattern=r"^[a-z]+$")
    name: Name
    level: str = Field(pattern=r"^(province|city|county)$")
    province: Name
    pooling_code: str | None = Field(default=None, pattern=r"^\d{6}$", description=(
        "the deployment's pooling area (统筹区, GB/T 2260): the 统筹区 of certificate numbers and documents; "
        "for a province-wide guide it is the pooling area this deployment serves, this service's setting"))
    seed_file: str
    title: Name = Field(description="the guide's published title")
    agency: Agency
    receipt_title: Text | None = Field(default=None, description="e.g. 《吉林省医疗保障业务单》")
    receipt_issuer: Text | None = None
    parts: tuple[Part, ...] = Field(min_length=1)
    consultation: tuple[Contact, ...] = ()
    supervision: tuple[Contact, ...] = ()
    evaluation: tuple[Contact, ...] = Field(default=(), description="好差评 / evaluation channels")
    query_channels: tuple[Contact, ...] = ()
    windows: tuple[Contact, ...] = ()
    notes: tuple[Text, ...] = ()
    audit: tuple[Audit, ...] = ()
    expected_item_count: int = Field(ge=1, description="the number of items the seed publishes")
    online_filing: bool = Field(
        default=True, description="this deployment's default for filing an item online (an item's `online` overrides)"
    )

    @field_validator("parts")
    @classmethod
    def _unique_parts(cls, parts: tuple[Part, ...]) -> tuple[Part, ...]:
        ids = [p.id for p in parts]
        if len(set(ids)) != len(ids):
            raise ValueError("part ids must be unique")
        return parts


ItemList = Annotated[list[Item], Field(min_length=1)]
