"""The notice parser against the real notices of 2017–2026 (tests/calendar/notices/, see README.md there)."""

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from portal.calendar.notice import NoticeError, parse_any, parse_notice, parse_plain

NOTICES = Path(__file__).parent / "notices"
YEARS = range(2017, 2027)


def notice_text(year: int) -> str:
    """The year's notice, followed by the notice that later changed it (2019: 劳动节 adjusted; 2020: 春节 extended)."""
    texts = [(NOTICES / f"{year}.txt").read_text(encoding="utf-8")]
    texts += [path.read_text(encoding="utf-8") for path in sorted(NOTICES.glob(f"{year}-*.txt"))]
    return "\n".join(texts)


def days_of(year: int):
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)


@pytest.mark.no_db
@pytest.mark.parametrize("year", YEARS)
def test_real_notice_agrees_with_chinesecalendar_for_every_day(year):
    schedule = parse_notice(notice_text(year), year)
    following = parse_notice(notice_text(year + 1), year + 1) if (NOTICES / f"{year + 1}.txt").exists() else None
    mismatches = []
    for day in days_of(year):
        # the next year's notice may start 元旦 in this year's December (2019: 2018-12-29 to 31)
        source = following if following is not None and day in following.days else schedule
        if source.is_workday(day) != chinese_calendar.is_workday(day):
            mismatches.append(day)
    assert mismatches == []


@pytest.mark.no_db
def test_2025_form_with_weekdays_and_lunar_notes():
    schedule = parse_notice(notice_text(2025), 2025)
    assert schedule.holidays[:9] == [date(2025, 1, 1)] + [date(2025, 1, 28) + timedelta(days=i) for i in range(8)]
    assert date(2025, 1, 26) in schedule.workdays and date(2025, 2, 8) in schedule.workdays
    assert schedule.days[date(2025, 2, 8)] == (True, "春节调休")


@pytest.mark.no_db
def test_encouragement_to_rest_is_not_a_holiday():
    schedule = parse_notice(notice_text(2024), 2024)  # 鼓励…安排职工在除夕（2月9日）休息
    assert date(2024, 2, 9) not in schedule.days and schedule.is_workday(date(2024, 2, 9))


@pytest.mark.no_db
def test_full_width_punctuation_reads_the_same():
    text = notice_text(2026)
    full = text.replace("(", "（").replace(")", "）").replace(":", "：").replace(",", "，")
    assert parse_notice(full, 2026).days == parse_notice(text, 2026).days


@pytest.mark.no_db
def test_extension_without_the_original_is_refused():
    with pytest.raises(NoticeError, match="先导入原通知"):
        parse_notice((NOTICES / "2020-extension.txt").read_text(encoding="utf-8"), 2020)


@pytest.mark.no_db
@pytest.mark.parametrize(("bad", "message"), [
    ("1月1日(周四)至3日(周六)", "1月1日(周五)至3日(周六)"),  # wrong weekday
    ("放假调休,共3天。1月4日", "放假调休,共4天。1月4日"),  # wrong count
])
def test_a_notice_that_does_not_add_up_is_refused(bad, message):
    text = notice_text(2026).replace(bad, message)
    with pytest.raises(NoticeError, match="第一条"):
        parse_notice(text, 2026)


@pytest.mark.no_db
def test_a_fragment_is_not_a_year():
    with pytest.raises(NoticeError, match="1月1日"):
        parse_notice("二、春节：2月15日（周日）至23日（周一）放假调休，共9天。", 2026)
    with pytest.raises(NoticeError, match="放假日"):
        parse_notice("一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。", 2026)
    with pytest.raises(NoticeError):
        parse_any("no schedule here", 2027)


@pytest.mark.no_db
def test_plain_csv_and_yaml():
    rows = ["date,kind,name"] + [f"{d.isoformat()},holiday,假" for d in sorted(
        parse_notice(notice_text(2026), 2026).holidays)] + ["2026-01-04,workday,元旦调休"]
    from_csv = parse_plain("\n".join(rows), 2026)
    assert not from_csv.is_workday(date(2026, 2, 16)) and from_csv.is_workday(date(2026, 1, 4))
    yaml_text = "holidays:\n" + "".join(f"  {d.isoformat()}: 假\n" for d in from_csv.holidays) + \
        "workdays:\n  2026-01-04: 元旦调休\n"
    assert parse_any(yaml_text, 2026).days == from_csv.days
    with pytest.raises(NoticeError, match="第2行"):
        parse_plain("date,kind\n2026-13-01,holiday\n", 2026)
    with pytest.raises(NoticeError, match="不属于"):
        parse_plain("2025-06-01,holiday,x\n", 2026)
