"""Enumerations of the system of record, stored as text, with lazily translated labels.

Message ids are English; the Chinese terms of the seeds are given in comments so translators and readers
can match them.
"""

from __future__ import annotations

from enum import StrEnum

from ..core.translation import lazy_gettext as _l


class _Labelled(StrEnum):
    """A text enum whose members carry a translated ``label`` (looked up lazily, at render time)."""

    @property
    def label(self):  # -> LazyString
        return _LABELS[type(self)][self]


class PersonCategory(_Labelled):
    """人员类别."""

    EMPLOYEE = "employee"  # 在职职工
    RETIREE = "retiree"  # 退休人员
    RETIRED_CADRE = "retired_cadre"  # 离休人员
    FLEXIBLE = "flexible"  # 灵活就业人员
    RESIDENT = "resident"  # 城乡居民
    STUDENT = "student"  # 学生 / 中小学生
    NEWBORN = "newborn"  # 新生儿

    @property
    def is_employee_scheme(self) -> bool:
        """Categories covered by 职工基本医疗保险 (the others by 城乡居民基本医疗保险)."""
        return self in EMPLOYEE_SCHEME_CATEGORIES


EMPLOYEE_SCHEME_CATEGORIES = frozenset({
    PersonCategory.EMPLOYEE, PersonCategory.RETIREE, PersonCategory.RETIRED_CADRE, PersonCategory.FLEXIBLE,
})


class HukouType(_Labelled):
    """户籍类型."""

    URBAN = "urban"  # 城镇
    RURAL = "rural"  # 农村
    UNIFIED = "unified"  # 居民户口 (统一城乡户口登记)
    OTHER = "other"  # 港澳台 / 外籍 / 未落户


class HealthCareLevel(_Labelled):
    """保健对象 level (干部保健): the level decides the designated hospitals and the settlement rules."""

    LEVEL_1 = "level_1"  # 一级保健
    LEVEL_2 = "level_2"  # 二级保健
    LEVEL_3 = "level_3"  # 三级保健


class UnitNature(_Labelled):
    """单位性质."""

    GOVERNMENT = "government"  # 机关
    PUBLIC_INSTITUTION = "public_institution"  # 事业单位
    ENTERPRISE = "enterprise"  # 企业
    SOCIAL_ORGANISATION = "social_organisation"  # 社会团体
    PRIVATE_NON_ENTERPRISE = "private_non_enterprise"  # 民办非企业单位
    INDIVIDUAL_BUSINESS = "individual_business"  # 个体工商户


class UnitStatus(_Labelled):
    """单位参保状态."""

    ACTIVE = "active"  # 正常
    SUSPENDED = "suspended"  # 暂停
    CANCELLED = "cancelled"  # 注销
    # 待参保登记: registered its first agent online (portal.organisations) but its 单位参保登记 is not completed
    PENDING = "pending"


class InsuranceType(_Labelled):
    """险种."""

    EMPLOYEE_MEDICAL = "employee_medical"  # 职工基本医疗保险 (含生育保险)
    RESIDENT_MEDICAL = "resident_medical"  # 城乡居民基本医疗保险
    LARGE_EXPENSE = "large_expense"  # 补充医疗保险: 职工大额医疗费用补助
    CIVIL_SERVANT = "civil_servant"  # 补充医疗保险: 公务员医疗补助
    LONG_TERM_CARE = "long_term_care"  # 长期护理保险

    @property
    def is_annual(self) -> bool:
        """Contributions of these types are one row per year (period month = January), covering 12 months."""
        return self in ANNUAL_TYPES


ANNUAL_TYPES = frozenset({InsuranceType.RESIDENT_MEDICAL, InsuranceType.LARGE_EXPENSE})


class EnrolmentStatus(_Labelled):
    """参保状态. A terminated enrolment has an end date (database CHECK)."""

    ACTIVE = "active"  # 参保缴费
    SUSPENDED = "suspended"  # 暂停缴费 / 中断
    TERMINATED = "terminated"  # 终止参保


class EnrolmentEventKind(_Labelled):
    """Kinds of 参保状态 change; a transfer names both units (database CHECK)."""

    ADDED = "added"  # 增加 (新参保)
    INTERRUPTED = "interrupted"  # 中断 (暂停缴费)
    RESUMED = "resumed"  # 恢复
    TERMINATED = "terminated"  # 终止
    RETIRED = "retired"  # 在职转退休
    TRANSFERRED = "transferred"  # 统筹区内转移 (from unit → to unit)


class ContributionStatus(_Labelled):
    """A month's contribution is paid (with a payment time) or in arrears (none) — database CHECK."""

    PAID = "paid"  # 已实缴
    ARREARS = "arrears"  # 欠缴


class AccountTransactionKind(_Labelled):
    """Personal-account movements. Credits are positive, debits negative (database CHECK)."""

    CARRIED_FORWARD = "carried_forward"  # 期初结转 (balance brought over from the previous system)
    CREDIT = "credit"  # 划入 (contribution credit)
    OUTPATIENT = "outpatient"  # 门诊支出
    PHARMACY = "pharmacy"  # 药店购药
    FAMILY_MUTUAL_AID = "family_mutual_aid"  # 家庭共济
    LUMP_SUM_WITHDRAWAL = "lump_sum_withdrawal"  # 一次性支取
    TRANSFER_IN = "transfer_in"  # 转入
    TRANSFER_OUT = "transfer_out"  # 转出

    @property
    def is_credit(self) -> bool:
        return self in CREDIT_KINDS


CREDIT_KINDS = frozenset({
    AccountTransactionKind.CARRIED_FORWARD, AccountTransactionKind.CREDIT, AccountTransactionKind.TRANSFER_IN,
})


class BenefitKind(_Labelled):
    """Benefit records that the service features fill."""

    REMOTE_CARE_FILING = "remote_care_filing"  # 异地就医备案
    CHRONIC_DISEASE = "chronic_disease"  # 门诊慢特病
    SPECIAL_DRUG = "special_drug"  # 特药 / 特治特药
    MATERNITY = "maternity"  # 生育待遇
    LONG_TERM_CARE = "long_term_care"  # 长期护理保险 失能评估认定 (the level in ``Benefit.level``)
    OTHER = "other"


class BenefitStatus(_Labelled):
    """Standing of a benefit record."""

    PENDING = "pending"  # 待审核
    ACTIVE = "active"  # 有效
    EXPIRED = "expired"  # 已过期
    CANCELLED = "cancelled"  # 已撤销
    REJECTED = "rejected"  # 未通过


_LABELS: dict[type, dict] = {
    PersonCategory: {
        PersonCategory.EMPLOYEE: _l("In-service employee"),
        PersonCategory.RETIREE: _l("Retiree"),
        PersonCategory.RETIRED_CADRE: _l("Retired cadre (pre-1949 service)"),
        PersonCategory.FLEXIBLE: _l("Flexible worker"),
        PersonCategory.RESIDENT: _l("Urban-rural resident"),
        PersonCategory.STUDENT: _l("Student"),
        PersonCategory.NEWBORN: _l("Newborn"),
    },
    HukouType: {
        HukouType.URBAN: _l("Urban household registration"),
        HukouType.RURAL: _l("Rural household registration"),
        HukouType.UNIFIED: _l("Resident household registration"),
        HukouType.OTHER: _l("Other household registration"),
    },
    HealthCareLevel: {
        HealthCareLevel.LEVEL_1: _l("Health-care object, level 1"),
        HealthCareLevel.LEVEL_2: _l("Health-care object, level 2"),
        HealthCareLevel.LEVEL_3: _l("Health-care object, level 3"),
    },
    UnitNature: {
        UnitNature.GOVERNMENT: _l("Government organ"),
        UnitNature.PUBLIC_INSTITUTION: _l("Public institution"),
        UnitNature.ENTERPRISE: _l("Enterprise"),
        UnitNature.SOCIAL_ORGANISATION: _l("Social organisation"),
        UnitNature.PRIVATE_NON_ENTERPRISE: _l("Private non-enterprise unit"),
        UnitNature.INDIVIDUAL_BUSINESS: _l("Individual business"),
    },
    UnitStatus: {
        UnitStatus.ACTIVE: _l("Normal"),
        UnitStatus.SUSPENDED: _l("Suspended"),
        UnitStatus.CANCELLED: _l("Cancelled"),
        UnitStatus.PENDING: _l("Awaiting enrolment registration"),
    },
    InsuranceType: {
        InsuranceType.EMPLOYEE_MEDICAL: _l("Employee basic medical insurance (incl. maternity)"),
        InsuranceType.RESIDENT_MEDICAL: _l("Urban-rural resident basic medical insurance"),
        InsuranceType.LARGE_EXPENSE: _l("Supplementary insurance: large medical expenses"),
        InsuranceType.CIVIL_SERVANT: _l("Supplementary insurance: civil-servant medical subsidy"),
        InsuranceType.LONG_TERM_CARE: _l("Long-term care insurance"),
    },
    EnrolmentStatus: {
        EnrolmentStatus.ACTIVE: _l("Insured and contributing"),
        EnrolmentStatus.SUSPENDED: _l("Contributions suspended"),
        EnrolmentStatus.TERMINATED: _l("Terminated"),
    },
    EnrolmentEventKind: {
        EnrolmentEventKind.ADDED: _l("Enrolled"),
        EnrolmentEventKind.INTERRUPTED: _l("Interrupted"),
        EnrolmentEventKind.RESUMED: _l("Resumed"),
        EnrolmentEventKind.TERMINATED: _l("Terminated"),
        EnrolmentEventKind.RETIRED: _l("Retired from employment"),
        EnrolmentEventKind.TRANSFERRED: _l("Transferred within the pooling area"),
    },
    ContributionStatus: {
        ContributionStatus.PAID: _l("Paid"),
        ContributionStatus.ARREARS: _l("In arrears"),
    },
    AccountTransactionKind: {
        AccountTransactionKind.CARRIED_FORWARD: _l("Balance carried forward"),
        AccountTransactionKind.CREDIT: _l("Contribution credit"),
        AccountTransactionKind.OUTPATIENT: _l("Outpatient spending"),
        AccountTransactionKind.PHARMACY: _l("Pharmacy spending"),
        AccountTransactionKind.FAMILY_MUTUAL_AID: _l("Family mutual aid"),
        AccountTransactionKind.LUMP_SUM_WITHDRAWAL: _l("Lump-sum withdrawal"),
        AccountTransactionKind.TRANSFER_IN: _l("Transferred in"),
        AccountTransactionKind.TRANSFER_OUT: _l("Transferred out"),
    },
    BenefitKind: {
        BenefitKind.REMOTE_CARE_FILING: _l("Filing for medical care outside the insured area"),
        BenefitKind.CHRONIC_DISEASE: _l("Outpatient chronic or special disease"),
        BenefitKind.SPECIAL_DRUG: _l("Special drug"),
        BenefitKind.MATERNITY: _l("Maternity benefit"),
        BenefitKind.LONG_TERM_CARE: _l("Long-term care insurance"),
        BenefitKind.OTHER: _l("Other benefit"),
    },
    BenefitStatus: {
        BenefitStatus.PENDING: _l("Pending review"),
        BenefitStatus.ACTIVE: _l("Valid"),
        BenefitStatus.EXPIRED: _l("Expired"),
        BenefitStatus.CANCELLED: _l("Cancelled"),
        BenefitStatus.REJECTED: _l("Rejected"),
    },
}
