"""The handler interface and its registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..catalog.schema import Item


class Severity(StrEnum):
    INFO = "info"  # the rule applies and is met, or a hint worth reading
    WARNING = "warning"  # the rule may not be met: the applicant may still continue
    BLOCKING = "blocking"  # the rule is not met and the item cannot be filed


@dataclass(frozen=True)
class Finding:
    """What a pre-check found: which rule applies (``rule``, e.g. a catalog rule key) and what it means."""

    severity: Severity
    message: str
    rule: str | None = None
    requires: Any = None  # the catalog item the rule requires first, when it is unmet (the page links to it)


@dataclass(frozen=True)
class FilingContext:
    """What a handler may look at when it checks a filing: the item, the filer, the subject and the form."""

    item: Item
    person: Any = None  # portal.insurance.models.Person the case is about, if any
    unit: Any = None  # portal.insurance.models.Unit the case is about, if any
    data: dict[str, Any] = field(default_factory=dict)
    case: Any = None  # portal.applications.models.Application, once there is a case


class Handler:
    """Generic behaviour; families override what they need.

    ``is_money``: the case pays money to the applicant after approval (拨付), so it passes through
    ``paying`` before it completes. ``completes_at_once``: a 即办件 whose online filing needs no person to
    look at anything may complete at submission, provided no pre-check finding blocks or warns.
    """

    name = "generic"
    is_money = False
    completes_at_once = False

    def precheck(self, context: FilingContext) -> list[Finding]:
        """Which of the item's published rules apply, and whether they are met where the portal can tell.

        Every catalog rule becomes a finding carrying its published text, so the applicant reads which rule
        applies before filing. An application window (``annual_window``) outside today's date warns.
        Families add their own checks by extending this list.
        """
        return [self._rule_finding(rule) for rule in context.item.rules]

    def _rule_finding(self, rule: Any) -> Finding:
        from ..core import clock
        from ..core.translation import get_locale

        text = rule.text.get(str(get_locale() or "zh"))
        if rule.key == "annual_window" and not _inside_window(clock.today(), rule.params):
            return Finding(Severity.WARNING, text, rule.key)
        return Finding(Severity.INFO, text, rule.key)

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        """Change the system of record as the completed ``case`` says, in the caller's transaction.

        Called once, when the case completes (办结), before the transaction commits: raising here leaves
        the case uncompleted and the records unchanged. Items without an effect on the records do nothing.
        """

    def revoke_effect(self, case: Any, reason: str) -> None:
        """Undo what ``apply_effect`` did, because post-hoc checking (事后核查) found the commitment false.

        Called in the caller's transaction; the person's record keeps a note of why (``reason``).
        """

    def acceptance_problem(self, case: Any) -> str | None:
        """Why ``case`` cannot be accepted now, checked again at acceptance (e.g. a required record that has
        lapsed since filing); None when nothing stands in the way."""
        return None

    def before_approve(self, case: Any, *, by: Any, actor: Any) -> None:
        """Called as the agency approves ``case``, before the move (e.g. a claim takes its amount); raising refuses
        the approval."""

    def before_complete(self, case: Any, *, by: Any, actor: Any) -> None:
        """Called as ``case`` completes, before the move and the effect (e.g. a claim's payment is confirmed);
        raising leaves the case uncompleted."""

    def check_form(self, context: FilingContext, *, complete: bool) -> list[tuple[str, str]]:
        """Problems of the cleaned form that only the family knows, each as (field key, message) for the field
        (e.g. a card's check digit, an invoice already claimed). ``complete`` at submission; a draft may be
        partial. Nothing is stored when there is one."""
        return []

    def form_specs(self, item: Item, audience: str) -> list[Any] | None:
        """The fields of the online form when the family defines its own (``applications.fields.FieldSpec``);
        None keeps the fields of the item's published form."""
        return None

    def shown_specs(self, case: Any, item: Item, specs: list[Any]) -> list[Any]:
        """The fields of ``specs`` (the case's form) that the applicant is shown now, with their help: a family
        may show a field only where it applies (a claim's 逾期申报原因 only once its dates are past the deadline).
        Saving still takes every field of ``specs``; what a stored value fills stays shown, so nothing is lost."""
        return specs

    def web_entry(self, item: Item) -> str | None:
        """The URL of the family's own filing page for ``item``, where the generic form cannot do the job
        (e.g. signing a commitment); None files through the generic form."""
        return None

    def upload_kinds(self, item: Item, material: Any) -> frozenset[str] | None:
        """The kinds of file (``materials.checks.SUPPORTED``) a material takes online when the family widens the
        default PDF, JPEG and PNG (a claim's invoices also take OFD e-receipts); None keeps the default."""
        return None

    def read_upload(self, case: Any, material: Any, invoice: dict[str, str]) -> int | None:
        """A file uploaded to ``material`` of the draft ``case`` carried invoice data (an e-receipt): put it into
        the draft's form for the applicant to check. Returns the (1-based) row it is in, or None when the family
        has no use for it. Called in the upload's transaction; it never commits."""
        return None

    def provided_online(self, material: Any, case: Any) -> bool:
        """True when filing online itself provides this required ``material`` (e.g. the identity document of a
        self-service print, which the real-name binding stands for); the generic handler says no."""
        return False

    def may_complete_at_once(self, context: FilingContext) -> bool:
        """True when this filing completes at submission (即办件 whose rules all pass)."""
        from ..catalog.schema import HandlingType

        # only a 即办件 proper: the lifecycle completes straight from acceptance only a case filed as one
        # (``is_instant``), and a mixed item (即办件(承诺件)) is filed as a promise
        if not self.completes_at_once or context.item.handling.type is not HandlingType.instant:
            return False
        return not any(f.severity is not Severity.INFO for f in self.precheck(context))


# Where a case's table of persons may come from besides its form: functions of the case answering its rows, or None
# when they have none for it. ``portal.rosters`` adds the uploaded roster (the lower layer defines the hook).
TABLE_SOURCES: list[Any] = []


def case_table(case: Any) -> list[dict[str, Any]]:
    """The rows of persons a case lists: from a registered source (an uploaded roster) when it has them, else the
    form's table whose rows name persons by ``id_number``; [] when it has neither."""
    for source in TABLE_SOURCES:
        rows = source(case)
        if rows is not None:
            return rows
    return next((v for v in case.form_data.values() if isinstance(v, list) and v and isinstance(v[0], dict)
                 and "id_number" in v[0]), [])


def _inside_window(day: Any, params: dict[str, Any]) -> bool:
    """True when ``day`` lies in the yearly window ``start``..``end`` (MM-DD, both ends included; may wrap)."""
    try:
        start = tuple(int(x) for x in str(params["start"]).split("-"))
        end = tuple(int(x) for x in str(params["end"]).split("-"))
    except (KeyError, ValueError):
        return True  # a window we cannot read is not held against the applicant
    here = (day.month, day.day)
    return start <= here <= end if start <= end else (here >= start or here <= end)


_REGISTRY: dict[str, Handler] = {}
_GENERIC = Handler()


def register(*names: str):
    """Class decorator: register one handler instance under each catalog handler name (``family.kind``)."""

    def wrap(cls: type[Handler]) -> type[Handler]:
        instance = cls()
        for name in names:
            _REGISTRY[name] = instance
        return cls

    return wrap


def has_effect(item: Item) -> bool:
    """Whether completing ``item`` changes the system of record: its handler has an effect (``apply_effect``) or
    pays money (the claim and its payment are the record). Items without one say so in the catalog
    (``decision_only``)."""
    handler = handler_for(item)
    return type(handler).apply_effect is not Handler.apply_effect or handler.is_money


def handler_for(item: Item) -> Handler:
    _load_families()
    return _REGISTRY.get(item.handler, _GENERIC)


_loaded = False


def _load_families() -> None:
    global _loaded
    if _loaded:
        return
    import importlib

    for module in FAMILY_MODULES:
        importlib.import_module(f"{__package__}.{module}")
    _loaded = True


FAMILY_MODULES = ("claims", "instant", "remote_care", "benefits", "transfer", "certificates", "enrolment",
                  "record_changes", "contributions", "long_term_care", "settlement",
                  "institutions")
