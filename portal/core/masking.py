"""Masking of personal data for display (S12): done on the server, before anything reaches a page,
an API answer, a PDF or a log line. Every function accepts None and short or odd input and never
reveals more than its rule says; when a value is too short to hide anything, all of it is hidden.
"""

from __future__ import annotations

import re

from flask import Flask

MASK = "*"

# Common two-character surnames (复姓), from the 百家姓 and present-day usage. A name starting with one
# of these keeps both characters (欧阳修 → 欧阳*). Left out on purpose: 单于 and 第五, whose first
# character is also a common single surname (单, 第), so treating them as compound would reveal the
# first character of a given name. Keep the list in sync with what the service hall sees.
COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "令狐", "钟离", "闾丘", "独孤", "南宫", "西门", "澹台", "公冶", "宗政", "濮阳",
    "淳于", "太叔", "申屠", "仲孙", "万俟", "司空", "端木", "百里", "呼延", "东郭", "赫连", "拓跋",
    "子车", "羊舌", "微生", "梁丘", "左丘", "东门", "公良", "乐正", "漆雕", "壤驷", "公西", "巫马",
    "谷梁", "颛孙", "段干", "亓官", "司寇", "鲜于", "闻人", "完颜", "爱新觉罗", "叶赫那拉",
})
# Names written in several words: Latin-script names, and transcribed minority or foreign names
# joined by a middle dot (阿卜杜拉·买买提).
_WORD_SEPARATOR_RE = re.compile(r"\s+|[·•・.]")
_SEPARATORS_RE = re.compile(r"[\s\-]+")


def _keep(value: str, first: int, last: int) -> str:
    """Keep ``first`` and ``last`` characters, starring the middle; all stars when nothing would be hidden."""
    hidden = len(value) - first - last
    if hidden <= 0:
        return MASK * len(value)
    return value[:first] + MASK * hidden + (value[-last:] if last else "")


def mask_id_number(value: str | None, style: str = "short") -> str:
    """身份证 number: ``short`` keeps the first 1 and last 2 characters (lists, receipts, public lookups);
    ``long`` keeps the first 6 (area code) and last 4, for staff who need to tell people apart.
    """
    if not value:
        return ""
    if style not in ("short", "long"):
        raise ValueError(f"unknown masking style {style!r} (use 'short' or 'long')")
    compact = _SEPARATORS_RE.sub("", str(value))
    return _keep(compact, 1, 2) if style == "short" else _keep(compact, 6, 4)


def mask_phone(value: str | None) -> str:
    """Phone number: the first 3 and last 4 digits of a mobile (138****1234); prefixes and separators dropped."""
    if not value:
        return ""
    compact = _SEPARATORS_RE.sub("", str(value))
    for prefix in ("+86", "0086"):
        if compact.startswith(prefix):
            compact = compact[len(prefix):]
    return _keep(compact, 3, 4)


def _surname_length(name: str) -> int:
    for length in (4, 2):
        if len(name) > length and name[:length] in COMPOUND_SURNAMES:
            return length
    return 1


def mask_name(value: str | None) -> str:
    """Person's name: the surname and one star (张三 → 张*, 欧阳修 → 欧阳*), which also hides the length of
    the given name. A one-character name stays as it is; a name in several words keeps its first word
    (John Smith → John *, 阿卜杜拉·买买提 → 阿卜杜拉·*); a single Latin word keeps its first letter.
    """
    if not value:
        return ""
    name = str(value).strip()
    words = [w for w in _WORD_SEPARATOR_RE.split(name) if w]
    if len(words) > 1:
        separator = _WORD_SEPARATOR_RE.search(name[len(words[0]):])
        joiner = " " if separator is None or separator.group().isspace() else separator.group()
        return f"{words[0]}{joiner}{MASK}"
    if len(name) <= 1:
        return name
    if name.isascii():
        return name[0] + MASK
    return name[: _surname_length(name)] + MASK


def mask_bank_account(value: str | None) -> str:
    """Bank account or card number: four stars and the last 4 digits (the length is not shown)."""
    if not value:
        return ""
    compact = _SEPARATORS_RE.sub("", str(value))
    if len(compact) <= 4:
        return MASK * len(compact)
    return MASK * 4 + compact[-4:]


def init_app(app: Flask) -> None:
    """Register the masking functions as Jinja filters of the same names."""
    for function in (mask_id_number, mask_phone, mask_name, mask_bank_account):
        app.jinja_env.filters[function.__name__] = function
