"""The input objects of the case operations: what a filer or a staff member sends, frozen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..constants import Defect


@dataclass(frozen=True)
class Principal:
    """The person a filing is made for (委托), as the filer states them."""

    name: str
    id_number: str
    relation: str


@dataclass(frozen=True)
class DraftInput:
    form: dict[str, Any] = field(default_factory=dict)
    materials: dict[str, str] = field(default_factory=dict)  # material id → MaterialMode
    principal: Principal | None = None


@dataclass(frozen=True)
class NoticeEntry:
    material: str  # a material id of the item, or FORM_ENTRY for the form itself
    defect: Defect
    note: str = ""


@dataclass(frozen=True)
class NoticeInput:
    entries: tuple[NoticeEntry, ...]
    note: str = ""
    new_defect: bool = False  # a second notice is allowed only for a defect the resubmission brought


@dataclass(frozen=True)
class Resubmission:
    form: dict[str, Any] = field(default_factory=dict)  # only fields, if the notice listed the form
    materials: dict[str, str] = field(default_factory=dict)  # only materials the notice listed
    note: str = ""
