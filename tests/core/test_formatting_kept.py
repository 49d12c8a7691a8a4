"""Dates and amounts are formatted once per language and kept: the same value in another language is never the
first language's text, and what is kept is what Babel writes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from flask_babel import force_locale, format_currency, format_date

from portal.core import formatting


def test_a_kept_date_or_amount_is_never_another_languages_text(app):
    day = date(2026, 12, 6)
    with app.test_request_context("/"):
        with force_locale("zh_Hans_CN"):
            zh_day, zh_money = formatting.local_date(day), formatting.money(Decimal("1234.5"))
        with force_locale("en"):
            en_day, en_money = formatting.local_date(day), formatting.money(Decimal("1234.5"))
            assert (en_day, en_money) == (format_date(day, "medium"), format_currency(Decimal("1234.5"), "CNY"))
            assert formatting.local_date(day, "long") == format_date(day, "long")  # the format is part of the key
        with force_locale("zh_Hans_CN"):
            assert formatting.local_date(day) == zh_day == format_date(day, "medium")
            assert formatting.money(Decimal("1234.50")) == zh_money
    assert zh_day == "2026年12月6日" and en_day == "Dec 6, 2026"
    assert zh_day != en_day


def test_a_moment_is_kept_as_its_local_day(app):
    late = datetime(2026, 12, 6, 17, 30, tzinfo=UTC)  # 01:30 on 7 December in China
    with app.test_request_context("/"), force_locale("en"):
        assert formatting.local_date(late) == "Dec 7, 2026"
