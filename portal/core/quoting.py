"""Chinese quoted on pages in another language (issue 17).

On an English page the portal's own words are English. What it quotes is shown as written: the region's guide
(published in Chinese), names and addresses in the records, what people typed. Such text is marked
``lang="zh-Hans"`` so browsers pick Chinese fonts and screen readers switch voice, and the page then says once,
at its foot, that the region publishes in Chinese (``base.html`` reads :func:`quoted_chinese`).
"""

from __future__ import annotations

import re

from flask import Flask, g, has_request_context
from jinja2 import pass_context
from markupsafe import Markup, escape

# Han ideographs (the unified blocks, extension A, compatibility) and the CJK and full-width punctuation that
# travels with them; a page test (tests/test_english_pages.py) uses the same pattern.
HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
CJK_PUNCTUATION = r"\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
CHINESE = re.compile(f"[{HAN}{CJK_PUNCTUATION}]")
# a Chinese run: Chinese characters, and digits, spaces or brackets only where more Chinese follows them
_RUN = re.compile(f"[{HAN}{CJK_PUNCTUATION}]+(?:[\\s\\d()\\-_.·]*[{HAN}{CJK_PUNCTUATION}]+)*")


def _english_page() -> bool:
    from .translation import is_english

    return has_request_context() and is_english()


def _span(text: str) -> Markup:
    g.quoted_chinese = True
    return Markup('<span lang="zh-Hans">%s</span>') % text


def quote_zh(value) -> Markup:
    """``value`` (quoted Chinese: guide text, a name, an address) marked as Chinese on a non-Chinese page."""
    text = "" if value is None else str(value)
    if not (_english_page() and CHINESE.search(text)):
        return escape(text)
    return _span(text)


def quote_zh_runs(value) -> Markup:
    """English prose that quotes Chinese (maintainers' notes on the seeds): each Chinese run marked as such."""
    text = "" if value is None else str(value)
    if not (_english_page() and CHINESE.search(text)):
        return escape(text)
    out, last = Markup(), 0
    for match in _RUN.finditer(text):
        if match.start() < last:  # inside the run before, which took its closing bracket
            continue
        end = match.end()
        while end < len(text) and text[end] in ")）" and text.count("(", match.start(), end) + text.count(
                "（", match.start(), end) > text.count(")", match.start(), end) + text.count("）", match.start(), end):
            end += 1  # the bracket the run opened: 工作日(法定节假日、休息日除外)
        out += escape(text[last:match.start()]) + _span(text[match.start():end])
        last = end
    return out + escape(text[last:])


def zh_lang() -> Markup:
    """`` lang="zh-Hans"`` for an element a template marks as quoted Chinese itself (a block of the guide's tips)."""
    if _english_page():
        g.quoted_chinese = True
    return Markup(' lang="zh-Hans"')


def quoting_chinese() -> str:
    """Note that the page quotes Chinese a template cannot mark itself (options WTForms renders): says nothing."""
    if _english_page():
        g.quoted_chinese = True
    return ""


def quoted_chinese() -> bool:
    """Whether this page has quoted Chinese so far (read at the page's foot, after its content)."""
    return bool(g.get("quoted_chinese"))


@pass_context
def _zh_filter(_context, value) -> Markup:
    # takes the context so that Jinja never folds ``"异地"|zh`` into a constant when compiling: marking depends on
    # the request's language and notes the quote for the page's foot
    return quote_zh(value)


@pass_context
def _zh_runs_filter(_context, value) -> Markup:
    return quote_zh_runs(value)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["zh"] = _zh_filter
    app.jinja_env.filters["zh_runs"] = _zh_runs_filter
    app.jinja_env.globals["quoted_chinese"] = quoted_chinese
    app.jinja_env.globals["zh_lang"] = zh_lang
    app.jinja_env.globals["quoting_chinese"] = quoting_chinese
