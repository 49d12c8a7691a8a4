"""Paper materials (issue 17, point 4): where to bring or post them, to whom, by when, and what if they don't
arrive — said on the case page, the receipt (HTML and PDF) and in the message shown when the case is submitted.

Where and to whom come from the region's data, and only as far as its seed publishes them: the service windows
(name, address, window, hours, note), the agency's name and address, and the general hotlines with their notes
(Jilin publishes no window address, only "医保经办服务窗口" and that 12393 tells where they are). By when is this
service's own rule, the one the agency keeps anyway: a submitted case is accepted, or the applicant is sent a
one-time notice, within ``deadlines.ACCEPT_WITHIN_WORKING_DAYS`` working days (``case.accept_by``, counted on the
portal's calendar of Chinese working days); the paper has to be there by then. If it is not, the case cannot be
accepted: the agency sends a one-time notice (一次性告知) listing what is missing, with a new date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .constants import MaterialMode, State

WAITING = frozenset({State.SUBMITTED})  # after a notice, the notice itself says what to bring and by when


@dataclass(frozen=True)
class Place:
    name: str
    address: str
    window: str
    hours: str
    note: str

    def line(self, zh: bool) -> str:
        """The place on one line, in the order one looks for it: name, address, window, hours, then the note."""
        colon, comma, semicolon = ("：", "，", "；") if zh else (": ", ", ", "; ")
        where = [self.address] if self.address else []
        if self.window and self.window not in self.address:  # Linkou's addresses already name their windows
            where.append(self.window)
        extra = [part for part in (self.hours, self.note) if part]
        return self.name + (colon + comma.join(where) if where else "") + (semicolon + semicolon.join(extra)
                                                                             if extra else "")


@dataclass(frozen=True)
class Hotline:
    name: str
    phone: str
    note: str


@dataclass(frozen=True)
class PaperPlan:
    materials: tuple[str, ...]
    places: tuple[Place, ...]
    hotlines: tuple[Hotline, ...]
    recipient: str
    recipient_address: str
    bring_by: date | None
    number: str


def paper_material_ids(case: Any) -> list[str]:
    return [key for key, mode in (case.materials or {}).items() if mode == MaterialMode.AT_WINDOW.value]


def plan(case: Any, item: Any, region: Any, locale: str) -> PaperPlan | None:
    """What the applicant of ``case`` needs to know to bring or post its paper materials, or None when the case
    has none, or is no longer waiting for them (accepted, refused, withdrawn, or a draft)."""
    ids = paper_material_ids(case)
    if not ids or case.state_enum not in WAITING or case.accepted_at is not None:
        return None
    names = {m.id: m.name.get(locale) for m in item.materials} if item is not None else {}
    text = _text(locale)
    places = tuple(Place(text(w.name), w.address or "", w.window or "", w.hours or "", text(w.note))
                   for w in region.windows)
    hotlines = tuple(Hotline(text(c.name), c.phone, text(c.note)) for c in region.consultation
                     if c.in_footer and c.phone)
    agency = region.agency
    return PaperPlan(tuple(names.get(i, i) for i in ids), places, hotlines, agency.name.get(locale),
                     agency.address or "", case.accept_by, case.number or "")


def _text(locale: str):
    def text(value: Any) -> str:
        return value.get(locale) if value is not None else ""
    return text


def where_text(plan_: PaperPlan, zh: bool) -> str:
    """Every place on one line each, then the hotlines that tell where the windows are."""
    colon = "：" if zh else ": "
    lines = [place.line(zh) for place in plan_.places]
    lines += [f"{h.name}{colon}{h.phone}" + (f" — {h.note}" if h.note else "") for h in plan_.hotlines]
    return "\n".join(lines)


def recipient_text(plan_: PaperPlan, zh: bool) -> str:
    return plan_.recipient + (("，" if zh else ", ") + plan_.recipient_address if plan_.recipient_address else "")
