"""Reading the State Council's yearly holiday notice (国务院办公厅关于20XX年部分节假日安排的通知) into days.

The notice lists each holiday in a numbered item of a fixed shape, e.g.::

    一、元旦：1月1日（周五）至3日（周日）放假，共3天。
    二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。
    四、劳动节：5月1日放假，与周末连休。
    一、元旦：1月1日放假，1月2日（星期一）补休。

and, exceptionally, a later notice that changes a holiday already announced, pasted after the first one::

    一、延长2020年春节假期至2月2日（农历正月初九，星期日），2月3日（星期一）起正常上班。
    现将调整2019年劳动节放假安排通知如下。一、2019年5月1日至4日放假调休，共4天。4月28日（星期日）…上班。

Every date in a clause with 放假 is a holiday (a range with 至 covers every day between), every date in a
clause with 补休 too, and every date in a clause with 上班 is an adjusted working day (调休). The weekday the
notice prints next to a date, and the day count (共N天), are checked against the calendar: a notice that
does not add up is refused with the line at fault, never half read. Texts may use full-width or ASCII
punctuation (copies on the web differ). A plain list of dates (CSV or YAML) is read by ``parse_plain``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

import yaml

ONE_DAY = timedelta(days=1)
_NUMERALS = "一二三四五六七八九十"
_ITEM = re.compile(rf"(?:^|(?<=[\s。]))[{_NUMERALS}]{{1,3}}、")
_END = re.compile(r"节假日期间|鼓励单位和个人|国务院办公厅")
_PAREN = re.compile(r"\(([^()]*)\)")
_DATE = re.compile(r"(?:(?P<y>\d{4})年)?(?:(?P<m>\d{1,2})月)?(?P<d>\d{1,2})日(?:\((?P<note>[^()]*)\))?")
_WEEKDAY = re.compile(r"(?:星期|周)([一二三四五六日天])")
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_COUNT = re.compile(r"共(\d{1,2})天")
_EXTEND = re.compile(r"^延长(?:(?P<y>\d{4})年)?(?P<name>[^\d(),:]+?)假期至")
_ADJUST = re.compile(r"调整(?:\d{4}年)?([^\d\s,。]+?)(?:假期|放假)安排")
MIN_HOLIDAYS = 11  # the statutory holidays of a year (13 from 2025): fewer cannot be a whole year's schedule


class NoticeError(ValueError):
    """The text cannot be read as a holiday schedule; ``str()`` says where and why, in Chinese and English."""


@dataclass
class Schedule:
    """The days a notice (or a plain file) sets for ``year``: {day: (is_workday, name)}.

    Days of the previous year may appear (元旦 starting on 31 December); every other day of the year is a
    working day from Monday to Friday.
    """

    year: int
    days: dict[date, tuple[bool, str]] = field(default_factory=dict)

    def set(self, day: date, is_workday: bool, name: str, where: str) -> None:
        known = self.days.get(day)
        if known is not None and known[0] != is_workday:
            raise NoticeError(f"{where}：{day.isoformat()} 既是放假日又是上班日 / both a holiday and a working day")
        self.days[day] = (is_workday, name[:64])

    def is_workday(self, day: date) -> bool:
        entry = self.days.get(day)
        return entry[0] if entry is not None else day.weekday() < 5

    @property
    def holidays(self) -> list[date]:
        return sorted(d for d, (work, _n) in self.days.items() if not work)

    @property
    def workdays(self) -> list[date]:
        return sorted(d for d, (work, _n) in self.days.items() if work)

    def check_complete(self) -> None:
        """Refuse a schedule that cannot be a whole year's: 1 January must be a holiday, and there must be
        at least the statutory number of holidays (a single day, or a fragment, never counts as a year)."""
        in_year = [d for d in self.holidays if d.year == self.year]
        if date(self.year, 1, 1) not in self.days or self.days[date(self.year, 1, 1)][0]:
            raise NoticeError(f"{self.year}年1月1日（元旦）不在放假日中：这不是全年的安排 / "
                              f"1 January {self.year} is not a holiday: this is not a whole year's schedule")
        if len(in_year) < MIN_HOLIDAYS:
            raise NoticeError(f"只有 {len(in_year)} 个放假日，全年至少 {MIN_HOLIDAYS} 个 / only {len(in_year)} "
                              f"holidays in {self.year}; a whole year has at least {MIN_HOLIDAYS}")


def normalize(text: str) -> str:
    """Full-width punctuation to ASCII (NFKC), Windows line ends to \\n, no blanks inside a line."""
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(re.sub(r"[ \t\u3000]+", "", line) for line in text.split("\n"))


def _items(text: str) -> list[tuple[int, str]]:
    """The numbered items (一、… 二、…) of the notice with where they start, each up to the next item or the
    closing paragraph."""
    starts = [m.start() for m in _ITEM.finditer(text)]
    items = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        body = text[start:end]
        closing = _END.search(body)
        items.append((start, (body[:closing.start()] if closing else body).strip()))
    return items


def _check_weekday(day: date, note: str | None, where: str) -> None:
    found = _WEEKDAY.search(note or "")
    if found and _WEEKDAYS[found.group(1)] != day.weekday():
        raise NoticeError(f"{where}：{day.isoformat()} 不是{found.group(0)} / is not the weekday the notice says")


def _dates(clause: str, year: int, where: str, month: int | None = None) -> list[date]:
    """The dates of a clause, in order; a date without a month or year takes the previous one's."""
    out: list[date] = []
    for m in _DATE.finditer(clause):
        y = int(m.group("y")) if m.group("y") else (out[-1].year if out else year)
        mo = int(m.group("m")) if m.group("m") else (out[-1].month if out else month)
        if mo is None:
            raise NoticeError(f"{where}：日期缺少月份 / a date without its month: {m.group(0)}")
        try:
            day = date(y, mo, int(m.group("d")))
        except ValueError as exc:
            raise NoticeError(f"{where}：没有这一天 / no such day: {m.group(0)}") from exc
        if out and day < out[-1] and not m.group("y"):  # "12月31日至1月2日": the range runs into the next year
            day = date(day.year + 1, day.month, day.day)
        _check_weekday(day, m.group("note"), where)
        out.append(day)
    return out


def _clauses(body: str) -> list[str]:
    # commas inside a date's note (农历正月初九，星期日) do not split a clause
    depth, clause, out = 0, [], []
    for ch in body:
        depth += ch == "("
        depth -= ch == ")"
        if ch in ",;。" and depth == 0:
            out.append("".join(clause))
            clause = []
        else:
            clause.append(ch)
    out.append("".join(clause))
    return [c for c in out if c]


def _holiday_item(schedule: Schedule, name: str, body: str, where: str) -> None:
    counted: list[date] = []
    for clause in _clauses(body):
        days = _dates(clause, schedule.year, where)
        if not days:
            expected = _COUNT.search(clause)
            if expected and counted and int(expected.group(1)) != len(counted):
                raise NoticeError(f"{where}：写明共{expected.group(1)}天，日期却是{len(counted)}天 / "
                                  f"the notice says {expected.group(1)} days, its dates give {len(counted)}")
            continue
        if "上班" in clause:
            for day in days:
                schedule.set(day, True, f"{name}调休", where)
        elif "补休" in clause:
            for day in days:
                schedule.set(day, False, name, where)
        elif "放假" in clause:
            if "至" in clause and len(days) == 2:
                first, last = days
                span = [first + ONE_DAY * i for i in range((last - first).days + 1)]
            else:
                span = days
            if len(span) > 15:
                raise NoticeError(f"{where}：放假超过15天 / a holiday of more than 15 days")
            for day in span:
                schedule.set(day, False, name, where)
            counted = span
            expected = _COUNT.search(clause)
            if expected and int(expected.group(1)) != len(span):
                raise NoticeError(f"{where}：写明共{expected.group(1)}天，日期却是{len(span)}天 / "
                                  f"the notice says {expected.group(1)} days, its dates give {len(span)}")
        # a clause with dates but none of 放假, 补休, 上班 (e.g. 鼓励…在除夕（2月9日）休息) sets nothing


def _extension_item(schedule: Schedule, body: str, where: str) -> None:
    found = _EXTEND.match(body)
    assert found is not None
    name = found.group("name")
    clauses = _clauses(body[found.end():])
    days = _dates(clauses[0], int(found.group("y") or schedule.year), where)
    if len(days) != 1:
        raise NoticeError(f"{where}：读不出延长到哪一天 / cannot read the day the holiday is extended to")
    last = days[0]
    already = [d for d, (work, n) in schedule.days.items() if not work and name in n and d <= last]
    if not already:
        raise NoticeError(f"{where}：先导入原通知，再导入延长{name}假期的通知 / import the notice that set the "
                          f"{name} holiday first, then the one that extends it")
    day = max(already) + ONE_DAY
    while day <= last:
        schedule.days[day] = (False, name)  # an extension turns the 调休 working days in it into holidays too
        day += ONE_DAY


def parse_notice(text: str, year: int) -> Schedule:
    """The holidays and 调休 working days of ``year`` set by the notice ``text`` (and any notice that amends it,
    pasted after it). Raises ``NoticeError`` naming the item at fault; the result is checked to be a whole year."""
    text = normalize(text)
    schedule = Schedule(year)
    items = _items(text)
    if not items:
        raise NoticeError("没有找到“一、元旦：…”这样的条目 / no numbered items such as “一、元旦：…” were found")
    for start, item in items:
        numeral, _sep, rest = item.partition("、")
        where = f"第{numeral}条"
        if _EXTEND.match(rest):
            _extension_item(schedule, rest, where)
            continue
        name, colon, body = rest.partition(":")
        if colon and name and len(name) <= 20 and not _DATE.search(name):
            _holiday_item(schedule, name, body, where)
        elif _DATE.search(rest) and re.search(r"放假|上班|补休", rest):
            # a notice that changes one holiday (2019: 关于调整2019年劳动节假期安排的通知) names it before its items
            adjusted = _ADJUST.findall(text[:start])
            if not adjusted:
                raise NoticeError(f"{where}：读不懂这一条 / cannot read this item: {rest[:60]}")
            name = adjusted[-1]
            for day in [d for d, (_w, n) in schedule.days.items() if n in (name, f"{name}调休")]:
                del schedule.days[day]  # the adjustment replaces the holiday's days as first announced
            _holiday_item(schedule, name, rest, where)
        # an item without dates (e.g. 推迟开学) sets no day
    schedule.check_complete()
    return schedule


_KINDS = {"holiday": False, "放假": False, "休": False, "workday": True, "上班": True, "班": True}


def _plain_row(schedule: Schedule, raw_day: object, kind: object, name: object, where: str) -> None:
    try:
        day = raw_day if isinstance(raw_day, date) else date.fromisoformat(str(raw_day).strip())
    except ValueError as exc:
        raise NoticeError(f"{where}：日期应写成 YYYY-MM-DD / a date must read YYYY-MM-DD: {raw_day}") from exc
    if isinstance(kind, bool):
        is_workday = kind
    elif str(kind).strip().lower() in _KINDS:
        is_workday = _KINDS[str(kind).strip().lower()]
    else:
        raise NoticeError(f"{where}：类型应为 holiday（放假）或 workday（上班） / the kind must be holiday or workday")
    if day.year not in (schedule.year, schedule.year - 1) or (day.year < schedule.year and day.month != 12):
        raise NoticeError(f"{where}：{day.isoformat()} 不属于 {schedule.year} 年 / is not in {schedule.year}")
    label = str(name or "").strip() or ("调休" if is_workday else "节假日")
    schedule.set(day, is_workday, label, where)


def parse_plain(text: str, year: int) -> Schedule:
    """A schedule from a plain list: CSV rows ``date,kind,name`` (kind: holiday/放假 or workday/上班; a header
    row is skipped), or YAML, either a list of {date, kind, name} or {holidays: {date: name}, workdays: {…}}."""
    schedule = Schedule(year)
    stripped = text.lstrip("\ufeff").strip()
    if not stripped:
        raise NoticeError("文件是空的 / the file is empty")
    first = stripped.splitlines()[0]
    if "," in first and ":" not in first:
        for n, row in enumerate(csv.reader(io.StringIO(stripped)), start=1):
            if not row or not row[0].strip() or (n == 1 and not row[0].strip()[:1].isdigit()):
                continue
            if len(row) < 2:
                raise NoticeError(f"第{n}行：应为 日期,类型,名称 / line {n}: expected date,kind,name")
            _plain_row(schedule, row[0], row[1], row[2] if len(row) > 2 else "", f"第{n}行")
    else:
        try:
            data = yaml.safe_load(stripped)
        except yaml.YAMLError as exc:
            raise NoticeError(f"YAML 格式错误 / not valid YAML: {exc}") from exc
        if isinstance(data, dict) and ("holidays" in data or "workdays" in data):
            for key, is_workday in (("holidays", False), ("workdays", True)):
                entries = data.get(key) or {}
                pairs = entries.items() if isinstance(entries, dict) else ((d, "") for d in entries)
                for day, name in pairs:
                    _plain_row(schedule, day, is_workday, name, f"{key} {day}")
        elif isinstance(data, list):
            for n, entry in enumerate(data, start=1):
                if not isinstance(entry, dict):
                    raise NoticeError(f"第{n}项：应为 {{date, kind, name}} / entry {n}: expected date, kind, name")
                _plain_row(schedule, entry.get("date"), entry.get("kind"), entry.get("name"), f"第{n}项")
        else:
            raise NoticeError("读不懂这个文件：应为通知全文、CSV 或 YAML / not a notice, CSV or YAML")
    schedule.check_complete()
    return schedule


def is_notice(text: str) -> bool:
    """Whether ``text`` reads as a notice (numbered items 一、…) rather than a plain list of dates."""
    return _ITEM.search(normalize(text)) is not None


def parse_any(text: str, year: int) -> Schedule:
    """A notice when the text has numbered items (一、…), otherwise a plain CSV/YAML list."""
    return parse_notice(text, year) if is_notice(text) else parse_plain(text, year)
