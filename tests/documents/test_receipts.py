"""Receipts (业务单): which slip a case gets, what each says (English and Chinese), masking (S12), the QR code,
and the PDF: Chinese that renders and can be searched, the QR drawn module for module.

Requests are English (the ``request_context`` fixture); Chinese is checked under ``force_locale``.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

import pypdfium2
import pytest
from flask import g
from flask_babel import force_locale

from portal.applications import operations as ops
from portal.applications.constants import State
from portal.applications.models import Application
from portal.core import clock
from portal.core.errors import InvalidTransition
from portal.core.formatting import local_date
from portal.core.masking import mask_id_number, mask_phone
from portal.documents import receipts
from portal.documents.pdf import text_width
from portal.documents.qr import BORDER, dark_runs, draw_qr, qr_matrix, qr_svg
from tests.applications.conftest import PROMISE_ITEM, SYSTEM, UNIT_ITEM, all_materials, sample_value

ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
TITLE_ZH = "吉林省医疗保障业务单"
ITEM_ZH = "门诊慢性病病种待遇认定"
SCALE = 2


@pytest.fixture
def url() -> str:
    return f"https://hall.example.gov.cn/q/{secrets.token_urlsafe(16)}"


def _sweep(text: str) -> None:
    """No 身份证-shaped or mobile-shaped number anywhere (S12)."""
    assert not ID_RE.search(text), ID_RE.search(text).group()
    assert not MOBILE_RE.search(text), MOBILE_RE.search(text).group()


def _secrets_of(case: Application) -> list[str]:
    person = case.person
    values = [case.applicant.phone, person.id_number if person else None, person.phone if person else None,
              case.principal_id_number]
    return [v for v in values if v]


def zh(text: str) -> str:
    """Chinese quoted on an English page, as the page marks it (portal/core/quoting.py)."""
    return f'<span lang="zh-Hans">{text}</span>'


def _html(case: Application, url: str) -> str:
    html = receipts.render_receipt_html(case, progress_url=url)
    _sweep(html)
    for value in _secrets_of(case):
        assert value not in html
    return html


def _pdf_text(pdf: bytes) -> tuple[str, dict]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        text = "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
        return text, document.get_metadata_dict()
    finally:
        document.close()


# --- which slip ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("state", "variant", "accepted", "kind"), [
    ("submitted", "promise", False, "submission"),
    ("correction_requested", "promise", False, "submission"),
    ("resubmitted", "promise", False, "submission"),
    ("withdrawn", "promise", False, "submission"),
    ("accepted", "promise", False, "acceptance"),
    ("correction_requested", "promise", True, "acceptance"),
    ("resubmitted", "promise", True, "acceptance"),
    ("under_review", "promise", False, "acceptance"),
    ("approved", "promise", False, "acceptance"),
    ("paying", "money", False, "acceptance"),
    ("not_accepted", "promise", False, "refusal"),
    ("denied", "promise", False, "completion"),
    ("completed", "promise", False, "completion"),
    ("completed", "instant", False, "completion"),
    ("delivered", "money", False, "completion"),
])
def test_the_slip_follows_where_the_case_stands(case_in, url, state, variant, accepted, kind):
    case = case_in(state, variant, accepted=accepted)
    assert receipts.receipt_kind(case) == kind
    context = receipts.receipt_context(case, progress_url=url)
    assert context["kind"] == kind and context["number"] == case.number
    _html(case, url)


def test_a_draft_has_no_receipt(case_in, url):
    case = case_in("draft")
    with pytest.raises(InvalidTransition):
        receipts.receipt_kind(case)
    with pytest.raises(InvalidTransition):
        receipts.render_receipt_pdf(case, progress_url=url)


# --- what each slip says ---------------------------------------------------------------------------------


def test_submission_slip_says_it_waits_for_acceptance(case_in, url):
    case = case_in("submitted")
    html = _html(case, url)
    assert "Application receipt" in html and case.number in html
    assert f"By {local_date(case.accept_by)} the agency accepts it, or tells you at once everything" in html
    assert "Materials declared" in html and "Diagnosis certificate" in html and "Provided on paper" in html
    assert "Acceptor" not in html  # nobody has accepted it yet


def test_submission_slip_waiting_for_corrections_gives_the_date_to_answer_by(case_in, url):
    case = case_in("correction_requested")
    html = _html(case, url)
    assert "The agency has asked you for corrections. Supply everything the one-time notice lists by " \
           f"{local_date(case.open_notice.respond_by)}" in html


def test_acceptance_slip_restates_the_promise(case_in, url, citizen):
    case = case_in("accepted")
    html = _html(case, url)
    assert "Acceptance slip" in html and f'<dd class="number">{case.number}</dd>' in html
    assert f"<dt>Accepted on</dt><dd>{local_date(case.accepted_at)}</dd>" in html
    assert ("Accepted. The time limit is 20 working days; scan the QR code at the top right to follow the "
            "progress.") in html
    assert f"<dt>Due by</dt><dd>{local_date(case.due_date)}</dd>" in html
    assert "<dt>Item code</dt><dd>G002036005000_01_001</dd>" in html and ITEM_ZH in html
    # basic information: the name in full, 身份证 and phone masked
    person = citizen.person
    assert f"<dd>{zh(person.name)}</dd>" in html  # quoted Chinese on an English slip: marked as such
    assert f"<dd>{mask_id_number(person.id_number)}</dd>" in html
    assert f"<dd>{mask_phone(person.phone)}</dd>" in html
    # the materials and how they were provided, and who accepted it
    assert "<td>Diagnosis certificate</td><td>Provided on paper</td>" in html
    assert f"<dt>Applicant / agent</dt><dd>{zh('王晓明')}</dd>" in html
    assert "<dt>Acceptor</dt><dd>Tacceptor</dd>" in html
    assert "Reviewer" not in html


def test_acceptance_slip_says_when_the_clock_is_paused(case_in, url):
    case = case_in("correction_requested", accepted=True)
    html = _html(case, url)
    assert "the time limit is paused until you supply them" in html
    assert "<dt>Current status</dt><dd>Waiting for your corrections</dd>" in html


@pytest.mark.parametrize(("kind", "value", "sentence"), [
    ("working_days", 1, "Accepted. The time limit is 1 working day; scan the QR code"),
    ("working_days", 5, "Accepted. The time limit is 5 working days; scan the QR code"),
    ("natural_days", 30, "Accepted. The time limit is 30 days; scan the QR code"),
    ("months", 3, "Accepted. The time limit is 3 months; scan the QR code"),
    ("immediate", None, "Accepted and handled on the spot; scan the QR code"),
    ("same_day", None, "Accepted and completed the same day; scan the QR code"),
    ("none", None, "Accepted; scan the QR code at the top right to follow the progress."),
])
def test_acceptance_sentence_follows_the_time_limit_filed(case_in, url, kind, value, sentence):
    case = case_in("accepted")
    case.limit_kind, case.limit_value = kind, value
    assert receipts.receipt_context(case, progress_url=url)["statement"].startswith(sentence)


def test_refusal_slip_gives_the_reason_with_any_id_or_phone_in_it_masked(case_in, staff, url):
    case = case_in("submitted")
    reason = "身份证号 34052419800101001X 与申请表不一致，请致电 13912345678 核实"
    ops.refuse_application(case, reason, by=staff["acceptor"], actor=SYSTEM)
    html = _html(case, url)
    assert receipts.receipt_kind(case) == "refusal"
    assert "Notice of non-acceptance" in html
    assert ("Not eligible for acceptance. Reason: 身份证号 3***************1X 与申请表不一致，请致电 139****5678 "
            "核实") in html
    assert "34052419800101001X" not in html and "13912345678" not in html
    assert f"<dt>Decided on</dt><dd>{local_date(case.decided_at)}</dd>" in html
    assert "<dt>Acceptor</dt><dd>Tacceptor</dd>" in html


def test_completion_slip_shows_result_hints_acceptor_and_reviewer(case_in, catalog, url):
    case = case_in("completed")
    html = _html(case, url)
    assert "Completion slip" in html and "Handling number" in html and case.number in html
    assert f"<dt>Completed on</dt><dd>{local_date(case.completed_at)}</dd>" in html
    assert f"<dt>Result</dt><dd>{zh('审核通过')}</dd>" in html
    assert "Your application for “Outpatient chronic disease benefit recognition (门诊慢性病病种待遇认定)” has " \
           "been completed." in html
    hints = catalog.get(PROMISE_ITEM).hints
    assert hints and all(f"<li>{hint.get('en')}</li>" in html for hint in hints)
    assert "<dt>Acceptor</dt><dd>Tacceptor</dd>" in html and "<dt>Reviewer</dt><dd>Treviewer</dd>" in html


def test_instant_item_completed_on_submission_names_the_system(catalog, make_case, citizen, url):
    case = make_case("G002036003001_01", citizen)  # 职工开具参保凭证: completes on submission
    assert case.state == State.COMPLETED
    html = _html(case, url)
    assert "<dt>Acceptor</dt><dd>Accepted automatically by the system</dd>" in html
    assert "<dt>Reviewer</dt><dd>Handled automatically by the system</dd>" in html


def test_denied_slip_gives_the_reason(case_in, url):
    case = case_in("denied")
    html = _html(case, url)
    assert receipts.receipt_kind(case) == "completion"
    assert "Not approved after review. Reason: 材料不符合规定" in html
    assert "<dt>Result</dt><dd>Denied</dd>" in html
    assert f"<dt>Completed on</dt><dd>{local_date(case.decided_at)}</dd>" in html


def test_unit_slip_shows_the_unit_and_masks_the_agents_phone(agent, make_case, url):
    case = make_case(UNIT_ITEM, agent)
    html = _html(case, url)
    assert f"<dd>{zh(agent.unit.name)}</dd>" in html and f"<dd>{agent.unit.credit_code}</dd>" in html
    assert f"<dt>Agent</dt><dd>{zh(agent.display_name)}</dd>" in html
    assert f"<dd>{mask_phone(agent.phone)}</dd>" in html


def test_slip_filed_on_someones_behalf_shows_the_principal_masked(catalog, citizen, url):
    item = catalog.get(PROMISE_ITEM)
    case = ops.start_application(item, by=citizen, actor=SYSTEM)
    principal = ops.Principal("李秀英", "34052419800101001X", "parent")
    ops.save_draft(case, ops.DraftInput(principal=principal), by=citizen, actor=SYSTEM)
    form = dict(case.form_data)
    specs = ops.specs_for(case, item)
    form |= {spec.key: sample_value(spec) for spec in specs if spec.required and spec.key not in form}
    ops.save_draft(case, ops.DraftInput(form=form, materials=all_materials(item), principal=principal), by=citizen,
                   actor=SYSTEM)
    ops.submit_application(case, by=citizen, actor=SYSTEM)
    html = _html(case, url)
    assert f"<dt>Name</dt><dd>{zh('李秀英')}</dd>" in html
    assert f"<dd>{mask_id_number('34052419800101001X')}</dd>" in html
    assert f"<dt>Filed by</dt><dd>{zh('王晓明')}</dd>" in html and "<dd>Parent</dd>" in html
    assert f"<dd>{mask_phone(citizen.phone)}</dd>" in html


# --- Chinese ---------------------------------------------------------------------------------------------


def test_chinese_slip_carries_the_regions_title_and_chinese_data(case_in, url):
    case = case_in("completed")
    with force_locale("zh_Hans_CN"):
        html = _html(case, url)
        accepted_on = local_date(case.accepted_at)
    assert '<html lang="zh-Hans">' in html
    # the title, its last two characters kept together (no line with its last character alone, e.g. "单")
    assert f'<h1>{TITLE_ZH[:-2]}<span class="keep">{TITLE_ZH[-2:]}</span></h1>' in html
    assert "《" not in html.split("<h1>")[1].split("</h1>")[0] and ".keep { white-space: nowrap; }" in html
    assert f"<dd>{ITEM_ZH}</dd>" in html  # the Chinese name alone, as filed
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", accepted_on) and accepted_on in html
    assert "<td>诊断书</td>" in html and "<li>扫描登记单右上方的二维码可查询此项业务。</li>" in html
    assert "吉林省社会医疗保险管理局制" in html


def test_chinese_slip_reads_as_the_published_form(case_in, url):
    case = case_in("accepted")
    with force_locale("zh_Hans_CN"):
        html = _html(case, url)
        text, _meta = _pdf_text(receipts.render_receipt_pdf(case, progress_url=url))
    for page in (html, text.replace("\r\n", "")):
        assert "受理编号" in page and "受理日期" in page and "基本信息" in page and "提供材料" in page
        assert "已受理，办理时限为 20 个工作日，可扫描右上方二维码查询办理进度" in page


# --- the page --------------------------------------------------------------------------------------------


def test_page_is_standalone_and_fits_the_csp(case_in, url):
    case = case_in("accepted")
    g.csp_nonce = "n0nce-receipt"
    html = _html(case, url)
    assert html.startswith("<!doctype html>") and "site-header" not in html
    assert '<style nonce="n0nce-receipt">' in html and html.count("<style") == 1
    assert "<script" not in html and " style=" not in html and "onload=" not in html
    assert '<meta name="robots" content="noindex, nofollow">' in html


def test_page_qr_svg_holds_the_progress_url_and_nothing_else(case_in, url):
    case = case_in("accepted")
    html = _html(case, url)
    svg = re.search(r"<svg.*?</svg>", html, re.DOTALL).group()
    matrix = qr_matrix(url)
    assert f'viewBox="0 0 {len(matrix)} {len(matrix)}"' in svg
    assert 'role="img"' in svg and "<title>QR code to follow the progress of this application</title>" in svg
    assert _svg_modules(svg) == {(r, c) for r, row in enumerate(matrix) for c, dark in enumerate(row) if dark}
    assert url not in html  # the link is only in the code: the page is printed, not clicked
    assert "Scan to follow the progress" in html


def _svg_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules an SVG path of ``M{c} {r}h{w}v1h-{w}z`` runs covers."""
    path = re.search(r'<path fill="#000" d="([^"]+)"', svg).group(1)
    cells = set()
    for c, r, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path):
        cells |= {(int(r), int(c) + i) for i in range(int(w))}
    assert len(re.findall(r"M", path)) == len(re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path))
    return cells


# --- QR --------------------------------------------------------------------------------------------------


def test_qr_matrix_has_the_quiet_zone_and_finder_patterns(url):
    matrix = qr_matrix(url)
    n = len(matrix)
    assert all(len(row) == n for row in matrix)
    assert (n - 2 * BORDER - 17) % 4 == 0  # 21, 25, 29 … modules: version 1, 2, 3 …
    assert not any(matrix[0]) and not any(matrix[n - 1]) and not any(row[0] or row[n - 1] for row in matrix)
    for top, left in ((BORDER, BORDER), (BORDER, n - BORDER - 7), (n - BORDER - 7, BORDER)):
        assert all(matrix[top][left + i] and matrix[top + 6][left + i] for i in range(7))  # finder's outer ring
        assert all(matrix[top + 2 + i][left + 2 + j] for i in range(3) for j in range(3))  # and its centre
    assert qr_matrix(url) == matrix  # deterministic: the page and the PDF draw the same code


def test_qr_svg_counts_every_dark_module(url):
    svg = str(qr_svg(url, size_px=200, label='5 > 4 & "quoted"'))
    matrix = qr_matrix(url)
    assert len(_svg_modules(svg)) == sum(map(sum, matrix))
    assert 'width="200"' in svg and 'aria-label="5 &gt; 4 &amp; &#34;quoted&#34;"' in svg


class RecordingCanvas:
    """Records what ``draw_qr`` asks of a ReportLab canvas."""

    def __init__(self):
        self.calls: list[tuple] = []

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.calls.append((name, args, kwargs))


def test_draw_qr_draws_exactly_the_matrix(url):
    canvas = RecordingCanvas()
    draw_qr(canvas, url, 400, 700, 74)
    matrix = qr_matrix(url)
    n = len(matrix)
    names = [c[0] for c in canvas.calls]
    assert names == ["saveState", "setFillGray", "rect", "setFillGray", "transform", "addLiteral", "restoreState"]
    assert canvas.calls[2][1] == (400, 700, 74, 74)  # white background: the quiet zone
    assert canvas.calls[4][1] == pytest.approx((74 / n, 0, 0, -74 / n, 400, 774))  # one unit per module, y down
    literal = canvas.calls[5][1][0]
    assert literal.endswith(" f")
    drawn = set()
    for c, r, w in re.findall(r"(\d+) (\d+) (\d+) 1 re", literal):
        drawn |= {(int(r), int(c) + i) for i in range(int(w))}
    assert literal.count(" re") == len(list(dark_runs(matrix)))
    assert drawn == {(r, c) for r in range(n) for c in range(n) if matrix[r][c]}


# --- PDF -------------------------------------------------------------------------------------------------


def _raster(pdf: bytes, scale: float = SCALE):
    document = pypdfium2.PdfDocument(pdf)
    try:
        return document[0].render(scale=scale).to_pil().convert("L")
    finally:
        document.close()


def _dark_pixels(image, box_pt: tuple[float, float, float, float], scale: float = SCALE) -> int:
    """Dark pixels inside ``(left, top, right, bottom)`` given in points from the page's top-left corner."""
    left, top, right, bottom = (round(v * scale) for v in box_pt)
    return sum(image.crop((left, top, right, bottom)).histogram()[:100])


def test_pdf_embeds_the_bundled_font_and_no_other(case_in, url):
    pdf = receipts.render_receipt_pdf(case_in("accepted"), progress_url=url)
    assert pdf.startswith(b"%PDF-")
    assert b"/FontFile2" in pdf and b"/ToUnicode" in pdf
    names = set(re.findall(rb"/BaseFont /([^\s/]+)", pdf))
    assert names and all(re.fullmatch(rb"[A-Z]{6}\+WenQuanYiMicroHei-0", name) for name in names), names


def test_pdf_chinese_renders_and_is_searchable(case_in, url, citizen):
    case = case_in("accepted")
    with force_locale("zh_Hans_CN"):
        pdf = receipts.render_receipt_pdf(case, progress_url=url)
    text, metadata = _pdf_text(pdf)
    assert TITLE_ZH in text and ITEM_ZH in text and case.number in text and "诊断书" in text
    assert mask_id_number(citizen.person.id_number) in text and mask_phone(citizen.person.phone) in text
    assert metadata["Title"] == f"{TITLE_ZH} {case.number}"
    _sweep(text)
    _sweep(" ".join(metadata.values()))
    for value in _secrets_of(case):
        assert value not in text and value.encode() not in pdf
    # the page is not blank, and the title is drawn where the layout puts it
    image = _raster(pdf)
    assert image.getextrema()[0] < 50
    width = text_width(TITLE_ZH, 18)
    baseline = receipts.MARGIN + 24
    centre = receipts.PAGE_WIDTH / 2
    assert _dark_pixels(image, (centre - width / 2, baseline - 17, centre + width / 2, baseline + 3)) > 500
    assert _dark_pixels(image, (0, 0, receipts.MARGIN - 4, receipts.PAGE_HEIGHT)) == 0  # the margin stays white


def test_pdf_qr_module_for_module(case_in, url):
    """Read the code back from the rendered page: every module centre is dark exactly where the matrix is."""
    pdf = receipts.render_receipt_pdf(case_in("accepted"), progress_url=url)
    scale = 4
    image = _raster(pdf, scale)
    matrix = qr_matrix(url)
    n = len(matrix)
    module = receipts.QR_SIZE / n
    left = receipts.PAGE_WIDTH - receipts.MARGIN - receipts.QR_SIZE
    top = receipts.MARGIN
    seen = [[image.getpixel((int((left + (c + .5) * module) * scale), int((top + (r + .5) * module) * scale))) < 128
             for c in range(n)] for r in range(n)]
    assert seen == matrix


@pytest.mark.parametrize("state", ["submitted", "not_accepted", "denied", "completed"])
def test_pdf_of_every_slip_masks_and_states(case_in, url, state):
    case = case_in(state)
    text, metadata = _pdf_text(receipts.render_receipt_pdf(case, progress_url=url))
    _sweep(text)
    assert case.number in text and metadata["Subject"] == str(receipts.KIND_LABELS[receipts.receipt_kind(case)])
    expected = {"submitted": "Submitted, waiting for acceptance", "not_accepted": "Not eligible for acceptance. "
                "Reason: 不属于受理范围", "denied": "Not approved after review. Reason: 材料不符合规定",
                "completed": "扫描登记单右上方的二维码可查询此项业务。"}[state]
    assert expected in text.replace("\r\n", "").replace("\n", "")


def test_a_long_slip_continues_on_a_second_page(case_in, url):
    case = case_in("completed")
    context = receipts.receipt_context(case, progress_url=url)
    many = receipts.Section("hints", "Hints", items=tuple(f"第{i}条提示：" + "请您仔细核对信息内容。" * 6
                                                        for i in range(1, 31)))
    context["sections"] = [*context["sections"], many]
    pdf = receipts.pdf_from_context(context)
    document = pypdfium2.PdfDocument(pdf)
    try:
        pages = [document[i].get_textpage().get_text_range().replace("\r\n", "") for i in range(len(document))]
    finally:
        document.close()
    assert len(pages) >= 2
    assert all(f"Handling number {case.number} ({i})" in page for i, page in enumerate(pages[1:], 2))
    assert all("Printed on" in page for page in pages)  # every page has its footer
    assert "第30条提示" in pages[-1] and "has been completed." in pages[-1] and "Treviewer" in pages[-1]


def test_dates_are_shown_in_china_time(case_in, url):
    """Accepted at 17:30 UTC on 30 April is 1 May in China: the slip says 1 May."""
    with clock.frozen(datetime.fromisoformat("2026-04-30T17:30:00+00:00")):
        case = case_in("accepted")
    context = receipts.receipt_context(case, progress_url=url)
    assert context["date"] == "May 1, 2026"


def test_pdf_is_a4_with_one_page_for_a_usual_slip(case_in, url):
    pdf = receipts.render_receipt_pdf(case_in("completed"), progress_url=url)
    document = pypdfium2.PdfDocument(pdf)
    try:
        assert len(document) == 1
        assert document[0].get_size() == pytest.approx((595.28, 841.89), abs=0.01)
    finally:
        document.close()
