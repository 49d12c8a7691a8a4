"""Certificate items: 职工开具参保凭证, 参保单位开具参保证明, and the person's 参保信息查询 (whose completion slip
"按查询内容出具相关明细" is a 参保证明). 即办件 that complete at submission and issue the certificate in the
same transaction (``apply_effect``), so the certificate exists exactly when the case is completed.

Online, the identity documents the seeds ask for at the window are the account itself: the citizen's
real-name binding, or the unit agent's login for the unit (seed 000: 网上大厅自助办理系统自动受理). A filing
on someone else's behalf still provides them.
"""

from __future__ import annotations

from typing import Any

from .base import FilingContext, register
from .instant import SelfServiceItem


@register("certificates.person_voucher", "certificates.person_proof", "certificates.unit_proof", "queries.person")
class CertificateItem(SelfServiceItem):
    name = "certificate"

    def provided_online(self, material: Any, case: Any) -> bool:
        """A required material the account stands for, when the applicant files for themselves online."""
        return not case.on_behalf

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        from ..certificates.constants import KIND_OF_HANDLER
        from ..certificates.operations import issue_for_case

        issue_for_case(case, KIND_OF_HANDLER[context.item.handler])
