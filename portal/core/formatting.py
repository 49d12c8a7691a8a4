"""Babel-backed formatting of dates, money and numbers for templates (Chinese first)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.numbers import format_currency
from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, get_locale

from . import clock


def money(amount: Decimal | int | None) -> str:
    """¥1,234.50 in the user's locale; amounts are Decimal yuan."""
    if amount is None:
        return ""
    return format_currency(Decimal(amount), "CNY", locale=str(get_locale() or "zh_Hans_CN"))


def local_date(value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = clock.to_local(value).date()
    return format_date(value, fmt)


def local_datetime(value: datetime | None, fmt: str = "medium") -> str:
    return "" if value is None else format_datetime(value, fmt)


def number(value: int | Decimal | None) -> str:
    return "" if value is None else format_decimal(value)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["date"] = local_date
    app.jinja_env.filters["datetime"] = local_datetime
    app.jinja_env.filters["number"] = number
