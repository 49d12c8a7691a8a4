"""医疗保险关系转移接续 (transferring the insurance relationship between pooling areas): ``transfer.in`` and
``transfer.out``.

The family's handler is registered here so that its rules, forms and effects have one home as they come. Today it
adds nothing to the generic handler: the published rules (e.g. "由转入地经办机构受理并负责办结") are shown to the
applicant before filing, and the case runs on the generic filing machinery.
"""

from __future__ import annotations

from ..base import Handler, register


@register("transfer.in", "transfer.out")
class TransferItem(Handler):
    name = "transfer"
