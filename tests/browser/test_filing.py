"""Online filing on a phone, from the service guide to the receipt's QR code.

A citizen files an individual item and a unit agent files a unit item: each opens the item in the service
guide, presses "Apply online", fills the draft, saves it, comes back to it, submits it, opens the receipt
and downloads its PDF. The PDF is rendered, its text read, and its QR code read back from the rendered
pixels (decoded below: no zbar here). Opening that address in a new browser, logged in as nobody, shows the
progress with the number and the applicant masked, and no personal number anywhere in the page.

The pages' wording is being translated, so the steps find things by form names, ids, links and values, and
check data (catalog names, numbers, masks) rather than sentences.
"""

from __future__ import annotations

import re
from itertools import product
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from qrcode.base import rs_blocks
from qrcode.util import pattern_position

from portal.applications import numbers
from portal.applications.progress import mask_unit_name
from portal.core.masking import mask_name
from portal.documents import receipts
from portal.documents.qr import qr_matrix
from portal.insurance.demo import DEMO_CITIZENS, DEMO_UNIT, DEMO_UNIT_AGENT_PHONE

# the shared steps under the names the browser tests import them by from here (new code: tests.browser.steps)
from tests.browser.steps import log_in_agent as _log_in_agent
from tests.browser.steps import log_in_citizen as _log_in_citizen
from tests.browser.steps import no_horizontal_scrolling as _no_horizontal_scrolling
from tests.browser.steps import path as _path

pytestmark = pytest.mark.browser

EMPLOYEE = next(c for c in DEMO_CITIZENS if c.key == "employee")
PHONE = {"width": 390, "height": 844}  # as tests/browser/conftest.py
# An individual promise item of the Jilin catalog (15 fields of its published form) and a unit item.
CITIZEN_ITEM = "G002036005000_01_001"  # 门诊慢性病病种待遇认定
UNIT_ITEM = "J002036011001"  # 单位缴费基数申报(年度)
MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
PDF_SCALE = 4  # pixels per point when rendering the receipt


# --- filing ----------------------------------------------------------------------------------------------


def _file(page, code: str, texts: dict[str, str], choices: dict[str, str]) -> tuple[str, str]:
    """From the guide's item page to a submitted case; returns the item's name and the 受理编号.

    ``texts`` are typed into the boxes of those names, ``choices`` pick the radio button of that value. Each
    material is answered as the applicant of a simple case would: a required one (it never offers "does not
    apply") is brought on paper, the others do not apply.
    """
    page.goto(f"/guide/items/{code}")
    item_name = page.locator("main h1").inner_text().strip()
    page.locator(f"main a.button[href='/apply/{code}']").click()  # 在线办理 / Apply online
    page.wait_for_url(f"**/apply/{code}")
    with page.expect_navigation(url=re.compile(r"/applications/\d+/edit$")):
        page.locator(f"main form[action='/apply/{code}'] button[type=submit]").click()  # start the draft
    edit_path = _path(page)
    form = page.locator(f"main form[action='{edit_path}']")
    _no_horizontal_scrolling(page)

    for name, value in texts.items():
        box = form.locator(f"[name='{name}']")
        if box.evaluate("e => e.tagName") == "SELECT":  # a list (e.g. the diseases of a recognition)
            box.select_option(value)
        else:
            box.fill(value)
    for name, value in choices.items():
        form.locator(f"input[type=radio][name='{name}'][value='{value}']").check()
    materials = page.eval_on_selector_all("main input[type=radio][name^='m_']",
                                          "inputs => [...new Set(inputs.map(i => i.name))]")
    assert materials, "the item asks for no material"
    modes = {}
    for name in materials:
        offered = page.eval_on_selector_all(f"main input[type=radio][name='{name}']",
                                            "inputs => inputs.map(i => i.value)")
        modes[name] = "not_applicable" if "not_applicable" in offered else "at_window"
        page.locator(f"main input[type=radio][name='{name}'][value='{modes[name]}']").check()
    assert "at_window" in modes.values(), "no required material"

    with page.expect_navigation():
        form.locator("button[name=action][value=save]:not([aria-hidden=true])").click()  # save the draft
    assert _path(page) == edit_path
    assert page.locator(".error-summary").count() == 0, page.locator(".error-summary").inner_text()

    # the draft is kept on the server: back to it from "My applications", everything is as it was left
    page.goto("/applications/")
    with page.expect_navigation():
        page.locator(f"main a[href='{edit_path}']").click()
    assert _path(page) == edit_path
    for name, value in texts.items():
        assert form.locator(f"[name='{name}']").input_value() == value, name
    for name, value in {**choices, **modes}.items():
        assert form.locator(f"input[type=radio][name='{name}'][value='{value}']").is_checked(), name
    _no_horizontal_scrolling(page)

    with page.expect_navigation(url=re.compile(r"/applications/\d+$")):
        form.locator("button[name=action][value=submit]").click()
    number = page.locator("main .case-number").first.inner_text().strip()
    assert numbers.is_valid(number), number
    assert number in page.locator(".flashes").inner_text()  # "… submitted. Its number is …"
    assert page.locator("main h1").inner_text().strip() == item_name
    _no_horizontal_scrolling(page)
    return item_name, number


# --- reading the receipt's QR code -----------------------------------------------------------------------

_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_MASKS = (
    lambda r, c: (r + c) % 2 == 0,
    lambda r, c: r % 2 == 0,
    lambda r, c: c % 3 == 0,
    lambda r, c: (r + c) % 3 == 0,
    lambda r, c: (r // 2 + c // 3) % 2 == 0,
    lambda r, c: (r * c) % 2 + (r * c) % 3 == 0,
    lambda r, c: ((r * c) % 2 + (r * c) % 3) % 2 == 0,
    lambda r, c: ((r + c) % 2 + (r * c) % 3) % 2 == 0,
)


def _format_word(data: int) -> int:
    """The 15-bit format information for 5 bits of error-correction level and mask (ISO/IEC 18004, 7.9)."""
    remainder = data << 10
    for shift in range(4, -1, -1):
        if remainder & (1 << (shift + 10)):
            remainder ^= 0x537 << shift
    return ((data << 10) | remainder) ^ 0x5412


def _trim(matrix: list[list[bool]]) -> list[list[bool]]:
    """The symbol without its quiet zone: the rows and columns from the first dark module to the last."""
    rows = [r for r, row in enumerate(matrix) if any(row)]
    columns = [c for c in range(len(matrix[0])) if any(row[c] for row in matrix)]
    return [row[columns[0]:columns[-1] + 1] for row in matrix[rows[0]:rows[-1] + 1]]


def decode_qr(matrix: list[list[bool]]) -> str:
    """The text of a QR code given module by module (``True`` is dark, quiet zone trimmed), read without error
    correction, which a code drawn as vectors and rendered at a few pixels a module never needs. Numeric,
    alphanumeric and byte segments; the block layout comes from the ``qrcode`` package's table."""
    n = len(matrix)
    version = (n - 17) // 4
    assert n == 4 * version + 17 and all(len(row) == n for row in matrix), f"not a QR symbol: {n} modules"
    # the format information beside the top-left finder pattern (and down the bottom-left one)
    cells = [(i, 8) if i < 6 else (i + 1, 8) if i < 8 else (n - 15 + i, 8) for i in range(15)]
    seen = sum(matrix[r][c] << i for i, (r, c) in enumerate(cells))
    fmt = min(range(32), key=lambda data: bin(_format_word(data) ^ seen).count("1"))
    assert _format_word(fmt) == seen, "unreadable format information"
    level, mask = fmt >> 3, _MASKS[fmt & 7]

    def in_finder(r: int, c: int) -> bool:  # a finder pattern, its separator and the format information
        return (r < 9 and (c < 9 or c >= n - 8)) or (r >= n - 8 and c < 9)

    reserved = [[in_finder(r, c) or r == 6 or c == 6 for c in range(n)] for r in range(n)]
    for ar, ac in product(pattern_position(version), repeat=2):
        if not in_finder(ar, ac):
            for r, c in product(range(ar - 2, ar + 3), range(ac - 2, ac + 3)):
                reserved[r][c] = True
    if version >= 7:
        for a, b in product(range(6), range(n - 11, n - 8)):
            reserved[a][b] = reserved[b][a] = True
    # the data modules, two columns at a time from the bottom right, up and down in turn
    bits, upward = [], True
    for right in range(n - 1, 0, -2):
        right -= right <= 6  # the vertical timing pattern takes column 6
        for r in range(n - 1, -1, -1) if upward else range(n):
            for c in (right, right - 1):
                if not reserved[r][c]:
                    bits.append(int(matrix[r][c] ^ mask(r, c)))
        upward = not upward
    codewords = iter(int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits) - 7, 8))
    blocks = rs_blocks(version, level)
    data: list[list[int]] = [[] for _ in blocks]
    for i in range(max(b.data_count for b in blocks)):  # the data codewords are interleaved block by block
        for block, out in zip(blocks, data, strict=True):
            if i < block.data_count:
                out.append(next(codewords))
    stream = "".join(f"{byte:08b}" for out in data for byte in out)
    position = 0

    def take(count: int) -> int:
        nonlocal position
        position += count
        return int(stream[position - count:position] or "0", 2)

    size = 0 if version < 10 else 1 if version < 27 else 2
    text = bytearray()
    while position + 4 <= len(stream):
        mode = take(4)
        if mode == 0:  # terminator
            break
        if mode == 1:  # numeric: 3 digits in 10 bits
            count, digits = take((10, 12, 14)[size]), ""
            while len(digits) < count:
                width = min(3, count - len(digits))
                digits += str(take((4, 7, 10)[width - 1])).zfill(width)
            text += digits.encode()
        elif mode == 2:  # alphanumeric: 2 characters in 11 bits
            count, chars = take((9, 11, 13)[size]), ""
            while len(chars) < count:
                if count - len(chars) >= 2:
                    pair = take(11)
                    chars += _ALPHANUMERIC[pair // 45] + _ALPHANUMERIC[pair % 45]
                else:
                    chars += _ALPHANUMERIC[take(6)]
            text += chars.encode()
        elif mode == 4:  # bytes
            count = take((8, 16, 16)[size])
            text += bytes(take(8) for _ in range(count))
        else:
            raise AssertionError(f"unexpected QR segment mode {mode}")
    return text.decode("utf-8")


def _svg_matrix(svg: str) -> list[list[bool]]:
    """The modules of the receipt page's inline SVG code: one unit a module, dark runs ``M{c} {r}h{w}v1h-{w}z``."""
    n = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    path = re.search(r'<path[^>]* d="([^"]+)"', svg).group(1)
    runs = re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path)
    assert runs and len(runs) == path.count("M")
    matrix = [[False] * n for _ in range(n)]
    for c, r, w in runs:
        for i in range(int(w)):
            matrix[int(r)][int(c) + i] = True
    return matrix


def _pdf_qr_matrix(image) -> list[list[bool]]:
    """Read the code top right of the rendered first page back, module by module: its width in modules
    from the finder pattern (7 modules), then the colour at the centre of every module."""
    size = receipts.QR_SIZE
    left, top = receipts.PAGE_WIDTH - receipts.MARGIN - size, receipts.MARGIN  # points from the top left
    box = image.crop(tuple(round(v * PDF_SCALE) for v in (left - 4, top - 4, left + size + 4, top + size)))
    x0, y0, x1, _y1 = box.point(lambda v: 255 if v < 64 else 0).getbbox()
    finder = 0
    while box.getpixel((x0 + finder, y0)) < 128:
        finder += 1
    n = round((x1 - x0) * 7 / finder)
    module = (x1 - x0) / n
    return [[box.getpixel((int(x0 + (c + .5) * module), int(y0 + (r + .5) * module))) < 128 for c in range(n)]
            for r in range(n)]


def _receipt(page, number: str, live_server: str) -> tuple[str, str, str]:
    """From the case page to the receipt and its PDF; returns the progress addresses of the page's QR code
    and of the PDF's (each print has its own token), and the PDF's text."""
    case_path = _path(page)
    with page.expect_navigation():
        page.locator(f"main a[href='{case_path}/receipt']").click()  # Receipt (print)
    assert page.locator(".slip .number").inner_text().strip() == number
    _no_horizontal_scrolling(page)  # the printable receipt also reads on the phone
    page_url = decode_qr(_trim(_svg_matrix(page.locator("figure.qr-box svg").evaluate("svg => svg.outerHTML"))))
    assert page_url.startswith(f"{live_server}/q/"), page_url

    with page.expect_download() as download_info:
        page.locator(f"a[href='{case_path}/receipt.pdf']").click()  # Download as PDF
    download = download_info.value
    assert download.suggested_filename == f"{number}.pdf"
    pdf = Path(download.path()).read_bytes()
    assert pdf.startswith(b"%PDF")

    document = pdfium.PdfDocument(pdf)
    try:
        first = document[0]
        image = first.render(scale=PDF_SCALE).to_pil().convert("L")
        dark = sum(image.histogram()[:100])
        assert dark > 20_000, f"the first page is blank ({dark} dark pixels)"
        text = first.get_textpage().get_text_range()
    finally:
        document.close()
    assert number in text
    matrix = _trim(_pdf_qr_matrix(image))
    pdf_url = decode_qr(matrix)
    assert pdf_url.startswith(f"{live_server}/q/"), pdf_url
    assert matrix == _trim(qr_matrix(pdf_url))  # exactly the portal's code of that address, module for module
    return page_url, pdf_url, text


def _public_progress(browser, url: str, *, item_name: str, number: str, applicant: str,
                     secrets: list[str]) -> None:
    """Open the QR's address in a new browser (nobody logged in): the progress, masked, and nothing more."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    try:
        page = context.new_page()
        response = page.goto(url)
        assert response.status == 200
        assert response.headers.get("referrer-policy") == "no-referrer"
        assert page.locator("header form[action='/logout']").count() == 0  # not logged in
        card = page.locator("main section.card").first
        assert card.locator("h2").inner_text().strip() == item_name
        facts = card.locator("dl.facts dd").all_inner_texts()
        assert numbers.mask(number) in facts and applicant in facts, facts
        current = page.locator("ol.progress-steps li[aria-current=step]")
        assert current.count() == 1 and current.get_attribute("data-stage") == "application"  # submitted
        assert "step-current" in current.get_attribute("class")
        html = page.content()
        for secret in [number, *secrets]:
            assert secret not in html, secret
        assert not MOBILE_RE.search(html), MOBILE_RE.search(html).group()
        assert not ID_NUMBER_RE.search(html), ID_NUMBER_RE.search(html).group()
        _no_horizontal_scrolling(page)
    finally:
        context.close()


# --- the tests -------------------------------------------------------------------------------------------


def test_citizen_files_an_individual_item_and_its_receipt_qr_shows_the_masked_progress(phone, browser, live_server):
    _log_in_citizen(phone, EMPLOYEE)
    item_name, number = _file(
        phone, CITIZEN_ITEM,
        texts={"f_pooling_area": "长春市", "f_scope": "高血压"},  # 统筹区, 申报保障范围
        # 参保类型, 申报类别, and this service's 本地/异地 (at home: no long-term filing needed)
        choices={"f_insurance_type": "职工医保", "f_category": "门诊慢病", "f_recognition_place": "本地"},
    )
    assert item_name == "门诊慢性病病种待遇认定"
    page_url, pdf_url, text = _receipt(phone, number, live_server)
    assert EMPLOYEE.id_number not in text and EMPLOYEE.phone not in text  # masked on the slip too

    secrets = [EMPLOYEE.name, EMPLOYEE.id_number, EMPLOYEE.phone]
    _public_progress(browser, pdf_url, item_name=item_name, number=number, applicant=mask_name(EMPLOYEE.name),
                     secrets=secrets)
    _public_progress(browser, page_url, item_name=item_name, number=number, applicant=mask_name(EMPLOYEE.name),
                     secrets=secrets)


def test_unit_agent_files_a_unit_item_and_its_receipt_qr_shows_the_masked_progress(phone, browser, live_server):
    _log_in_agent(phone)
    item_name, number = _file(
        phone, UNIT_ITEM,
        texts={"f_year": "2026", "f_total_staff": "12", "f_active": "10", "f_retired": "2",
               "f_last_year_avg_wage": "6500.00", "f_base_total": "65000.00"},
        choices={},
    )
    assert item_name == "单位缴费基数申报(年度)"
    _page_url, pdf_url, text = _receipt(phone, number, live_server)
    assert DEMO_UNIT.name in text and DEMO_UNIT_AGENT_PHONE not in text

    _public_progress(browser, pdf_url, item_name=item_name, number=number, applicant=mask_unit_name(DEMO_UNIT.name),
                     secrets=[DEMO_UNIT.name, DEMO_UNIT.credit_code, DEMO_UNIT_AGENT_PHONE])
