"""医疗保险关系转移接续 (transferring the insurance relationship between pooling areas): ``transfer.in`` and
``transfer.out``.

``transfer.in`` is the national procedure as the seeds describe it ("由转入地经办机构受理并负责办结"; 林口: the 联系函
within 5 working days of acceptance, the 信息表 and the funds within 10 of its receipt, completion within 5 of both):
the applicant names the area they were insured in and attaches the 参保凭证 that area's portal issued by its check
code (no upload); after acceptance the agency issues the 《联系函》 (``operations.issue_contact_letter``), the other
area answers through the national platform, and completing the application credits the history and the balance
(``apply_effect``), refused until both have arrived (``before_complete``). ``transfer.out`` (吉林's 转出 item, filed at
the sending agency's window with the letter on paper) stays on the generic machinery; letters that come through the
platform are cases on the transfers page (``views.py``) without an application.
"""

from __future__ import annotations

from typing import Any

from ...catalog.schema import FieldType, Item, Name
from ..base import FilingContext, Handler, register


def _n(zh: str, en: str) -> Name:
    return Name(zh=zh, en=en)


def transfer_specs(item: Item, audience: str) -> list[Any]:
    """The published form's fields, then what the 联系函 needs that it does not ask (this service's fields)."""
    from ...applications.fields import FieldSpec, published_specs

    published = published_specs(item, audience)
    keys = {spec.key for spec in published}
    extra = [
        FieldSpec("from_area_code", _n("转出地（原参保统筹区）", "Area you were insured in"), FieldType.division, True,
                  help=_n("本服务增设：用于向转出地发出《联系函》。",
                          "This service's field: the 联系函 is sent there.")),
        FieldSpec("insurance_type", _n("原参加的基本医疗保险类型", "Insurance you had there"), FieldType.choice, True,
                  options=(_n("职工医保", "Employee medical insurance"),
                           _n("城乡居民医保", "Urban-rural resident medical insurance"))),
        FieldSpec("transfer_account", _n("是否需要转移个人账户", "Transfer the personal account"), FieldType.boolean),
        FieldSpec("certificate_code", _n("《参保凭证》校验码（16位）", "Check code of the 参保凭证 (16 characters)"),
                  FieldType.text, False,
                  help=_n("本服务增设：转出地网上服务大厅开具的《参保凭证》上印有校验码，填写后无需再上传凭证。",
                          "This service's field: the 参保凭证 from the other area's online hall carries a check code; "
                          "with it, no upload is needed.")),
    ]
    return published + [spec for spec in extra if spec.key not in keys]


@register("transfer.in")
class TransferInItem(Handler):
    name = "transfer"

    def form_specs(self, item: Item, audience: str) -> list[Any] | None:
        return transfer_specs(item, audience)

    def provided_online(self, material: Any, case: Any) -> bool:
        """The 参保凭证 is attached by reference: its check code on the form stands for the paper (the other area checks
        it against the certificate it issued)."""
        named = "参保凭证" in material.name.zh
        return named and bool(str((case.form_data or {}).get("certificate_code") or "").strip())

    def check_form(self, context: FilingContext, *, complete: bool) -> list[tuple[str, str]]:
        from .operations import letter_reasons

        reasons = letter_reasons(context.data)
        return reasons if complete else [r for r in reasons if context.data.get(r[0])]

    def before_complete(self, case: Any, *, by: Any, actor: Any) -> None:
        from ...core.errors import InvalidTransition
        from .operations import case_of_application, completion_problem

        problem = completion_problem(case_of_application(case))
        if problem:
            raise InvalidTransition(problem, code="transfer_not_ready")

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        from .operations import credit_transfer

        credit_transfer(case)


@register("transfer.out")
class TransferOutItem(Handler):
    name = "transfer_out"
