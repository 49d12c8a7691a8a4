"""Babel-backed formatting of dates, money and numbers for templates (Chinese first)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel.lists import format_list
from babel.numbers import format_currency
from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal

from . import clock
from .translation import is_english, locale_name

FORMATTED_KEPT = 20_000  # formatted dates and amounts kept per process (a page formats the same ones again and again)


def money(amount: Decimal | int | None) -> str:
    """¥1,234.50 in the user's locale; amounts are Decimal yuan."""
    if amount is None:
        return ""
    return _money(locale_name(), Decimal(amount))


@lru_cache(maxsize=FORMATTED_KEPT)
def _money(locale: str, amount: Decimal) -> str:
    return format_currency(amount, "CNY", locale=locale)


def local_date(value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = clock.to_local(value).date()
    return _date(locale_name(), value, fmt)


@lru_cache(maxsize=FORMATTED_KEPT)
def _date(locale: str, value: date, fmt: str) -> str:
    """One date in one language, formatted once (the locale is part of the key: a page in English never gets the
    Chinese text). Flask-Babel's own formatting, called with that request's locale active."""
    return format_date(value, fmt)


def local_datetime(value: datetime | None) -> str:
    """A moment as every page shows it: the date as ``local_date`` writes it, then hours and minutes in China's
    time (2026年12月6日 20:17; Dec 6, 2026, 20:17). One format everywhere, so seconds never appear."""
    if value is None:
        return ""
    return format_datetime(value, _DATETIME_PATTERNS["en" if is_english() else "zh"])


_DATETIME_PATTERNS = {"zh": "y年M月d日 HH:mm", "en": "MMM d, y, HH:mm"}


def join_list(values) -> str:
    """Items as a list in the reader's language: 甲、乙和丙 in Chinese, "a, b, and c" in English."""
    items = [str(v) for v in values]
    return format_list(items, locale=locale_name()) if items else ""


def number(value: int | Decimal | None) -> str:
    return "" if value is None else format_decimal(value)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["date"] = local_date
    app.jinja_env.filters["datetime"] = local_datetime
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["join_list"] = join_list
