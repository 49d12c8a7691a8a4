"""The shared PDF machinery (``documents.pdf``): line breaking in the bundled font, and the font itself."""

from __future__ import annotations

import re
from datetime import UTC

from portal.documents import pdf


def test_wrap_keeps_lines_within_the_width_and_words_whole():
    text = "已受理，办理时限为 20 个工作日，可扫描右上方二维码查询办理进度。Scan the QR code at the top right."
    lines = pdf.wrap(text, 10, 120)
    assert len(lines) > 2 and "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert all(pdf.text_width(line, 10) <= 120 + 10 for line in lines)  # closing punctuation may hang
    assert not any(line.startswith(("，", "。")) for line in lines)
    for word in ("Scan", "the", "QR", "code", "at", "top", "right."):
        assert any(re.search(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", line) for line in lines), word
    assert pdf.wrap("X" * 200, 10, 50)[0] != "X" * 200  # a token longer than a line is cut
    assert pdf.wrap("", 10, 50) == [""]


def test_the_font_is_registered_once():
    from reportlab.pdfbase import pdfmetrics

    font = pdf.pdf_font()
    assert pdf.pdf_font() is font and pdfmetrics.getFont(pdf.FONT_NAME) is font


def test_documents_write_dates_as_the_pages_do_in_chinese(app):
    from datetime import date, datetime

    from portal.certificates.documents import _ym

    with app.app_context():
        assert pdf.chinese_date(date(2027, 3, 1)) == "2027年3月1日"
        # a moment is a date in China's time: 2026-12-06 20:17 UTC is already the 7th in Beijing
        assert pdf.chinese_date(datetime(2026, 12, 6, 20, 17, tzinfo=UTC)) == "2026年12月7日"
        assert pdf.chinese_date("2026-12-06") == "2026年12月6日"  # a form's date field
        assert pdf.chinese_date("下周一") == "下周一" and pdf.chinese_date(None) == ""
        assert _ym("2024-03") == "2024年3月" and _ym("") == ""
