"""Search over a region's catalog: names, materials, rules and notes; pinyin initials of names.

Chinese has no spaces, so terms match as substrings; every whitespace-separated term must match.
Results whose name matches come first.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pypinyin import Style, lazy_pinyin

from .loader import Catalog
from .schema import Item, Text


def _texts(*values: Text | None) -> list[str]:
    out: list[str] = []
    for value in values:
        if value is not None:
            out.append(value.zh)
            if value.en:
                out.append(value.en)
    return out


def initials(text: str) -> str:
    """Pinyin initials of the Chinese characters in ``text`` (异地就医备案 → ydjyba)."""
    letters = lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore")
    return "".join(letters).lower()


@dataclass(frozen=True)
class Entry:
    item: Item
    name: str  # zh + en name, lower-cased
    body: str  # everything else, lower-cased
    initials: str


def _entry(item: Item) -> Entry:
    body: list[str] = [item.code, item.seed_code or "", item.national_code or ""]
    body += _texts(item.service_object, item.conditions, item.channel_text, item.fee, *item.notes, *item.hints)
    for material in item.materials:
        body += _texts(material.name, material.condition, material.commitment, material.note, *material.alternatives)
    for rule in item.rules:
        body += _texts(rule.text)
    for form in item.forms:
        body += _texts(form.title)
    return Entry(item, f"{item.name.zh} {item.name.en}".lower(), " ".join(body).lower(), initials(item.name.zh))


@cache
def _index(catalog: Catalog) -> tuple[Entry, ...]:
    return tuple(_entry(item) for item in catalog.items)


def search(catalog: Catalog, query: str, limit: int = 200) -> list[Item]:
    """Items matching every term of ``query``; name matches rank first, then catalog order."""
    terms = [t for t in query.lower().split() if t][:10]
    if not terms:
        return []
    scored: list[tuple[int, int, Item]] = []
    for position, entry in enumerate(_index(catalog)):
        score = 0
        for term in terms:
            if term in entry.name:
                score += 3
            elif term.isascii() and term.isalpha() and entry.initials.startswith(term) and len(term) >= 2:
                score += 2
            elif term in entry.body:
                score += 1
            else:
                break
        else:
            scored.append((-score, position, entry.item))
    scored.sort(key=lambda s: (s[0], s[1]))
    return [item for _s, _p, item in scored[:limit]]
