"""Uploading materials on a phone, in real Chromium against ``portal up``.

A citizen starts a draft of the chronic-disease item and, on the filing page: picks two files at once (the script
sends each with a progress bar of its own), drops a file onto the slot (a real ``drop`` event carrying a
DataTransfer built in the page), sees a renamed program refused in Chinese next to the material, and, in a browser
with JavaScript turned off, uploads with the plain form. The file inputs offer PDFs and images, and the camera.
"""

from __future__ import annotations

import base64
import re

import pytest

from portal.insurance.demo import DEMO_CITIZENS
from tests.browser.conftest import PHONE
from tests.browser.steps import log_in_citizen as _log_in_citizen
from tests.browser.steps import no_horizontal_scrolling as _no_horizontal_scrolling
from tests.browser.steps import path as _path
from tests.browser.test_filing import CITIZEN_ITEM
from tests.materials import fixtures as make

pytestmark = pytest.mark.browser

RETIREE = next(c for c in DEMO_CITIZENS if c.key == "retiree")
CJK = re.compile(r"[\u4e00-\u9fff]")


def sized_pdf(size: int) -> bytes:
    """A valid one-page PDF of about ``size`` bytes: big enough for the upload to report progress."""
    content = b"% padding line\n" * (size // 15)
    return make.raw_pdf(make.CATALOG, make.PAGES,
                        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
                        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))


def _start_draft(page) -> str:
    page.goto(f"/apply/{CITIZEN_ITEM}")
    with page.expect_navigation(url=re.compile(r"/applications/\d+/edit$")):
        page.locator(f"main form[action='/apply/{CITIZEN_ITEM}'] button[type=submit]").click()
    return _path(page)


def _listed(slot) -> list[str]:
    return [name.strip() for name in slot.locator("[data-files] li.file a").all_inner_texts()]


def _watch_progress(page, slot_selector: str) -> None:
    """Record every row with a progress bar the script adds to the slot's list (it removes them when done)."""
    page.evaluate("""(selector) => {
        window.uploadRows = [];
        const list = document.querySelector(selector + " [data-files]");
        new MutationObserver((changes) => changes.forEach((change) => change.addedNodes.forEach((node) => {
            if (node.querySelector && node.querySelector("progress")) { window.uploadRows.push(node); }
        }))).observe(list, {childList: true});
    }""", slot_selector)


def _progress_rows(page) -> list[dict]:
    return page.evaluate("""() => window.uploadRows.map((row) => ({
        text: row.textContent.trim(), value: row.querySelector("progress").value,
        max: row.querySelector("progress").max, attached: document.body.contains(row)}))""")


def test_a_citizen_uploads_on_a_phone_with_progress_drag_and_drop_camera_and_without_javascript(browser, phone,
                                                                                             live_server):
    page = phone
    _log_in_citizen(page, RETIREE)
    edit_path = _start_draft(page)
    slot = page.locator("[data-upload-slot]").first
    form_id = slot.get_attribute("data-form")
    material = form_id.removeprefix("upload-")
    slot_selector = f"[data-upload-slot][data-form='{form_id}']"
    _no_horizontal_scrolling(page)

    # the inputs: documents and images from the phone's files, or a photo straight from the camera
    chooser = slot.locator(f"input[type=file][id='{form_id}-files']")
    camera = slot.locator(f"input[type=file][id='{form_id}-photo']")
    accept = chooser.get_attribute("accept")
    assert "application/pdf" in accept and "image/*" in accept and chooser.get_attribute("multiple") is not None
    assert camera.get_attribute("accept") == "image/*" and camera.get_attribute("capture") == "environment"
    assert slot.locator("[data-upload-button]").is_hidden()  # with the script, files go as soon as chosen

    # two files at once: one request and one progress bar each, the files listed, the material set to "online"
    _watch_progress(page, slot_selector)
    chooser.set_input_files([
        {"name": "诊断证明.pdf", "mimeType": "application/pdf", "buffer": sized_pdf(3 * 1024 * 1024)},
        {"name": "病历首页.png", "mimeType": "image/png", "buffer": make.png((800, 600))},
    ])
    page.wait_for_function("(selector) => document.querySelectorAll(selector + ' [data-files] li.file a').length === 2"
                           " && !document.querySelector(selector + ' li.uploading')", arg=slot_selector)
    rows = _progress_rows(page)
    assert sorted(row["text"] for row in rows) == ["病历首页.png", "诊断证明.pdf"]
    assert all(row["max"] == 100 and row["value"] == 100 and not row["attached"] for row in rows), rows
    assert sorted(_listed(slot)) == ["病历首页.png", "诊断证明.pdf"]
    assert page.locator(f"input[type=radio][name='m_{material}'][value='upload']").is_checked()
    assert slot.locator("[data-errors]").inner_text().strip() == ""

    # drag and drop: a real drop event whose DataTransfer carries a file made in the page
    page.evaluate("""([selector, b64, name]) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, {type: "image/png"}));
        const slot = document.querySelector(selector);
        for (const kind of ["dragenter", "dragover", "drop"]) {
            slot.dispatchEvent(new DragEvent(kind, {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }
    }""", [slot_selector, base64.b64encode(make.png((300, 200))).decode(), "拖进来的照片.png"])
    slot.locator("[data-files] li.file a", has_text="拖进来的照片.png").wait_for()
    assert len(_listed(slot)) == 3

    # a program renamed to look like a PDF: refused next to the material, in Chinese, and not listed
    chooser.set_input_files([{"name": "扫描件.pdf", "mimeType": "application/pdf", "buffer": make.windows_exe()}])
    errors = slot.locator("[data-errors] .field-error")
    errors.first.wait_for()
    refusal = errors.first.inner_text()
    assert "Windows程序" in refusal and CJK.search(refusal), refusal
    assert len(_listed(slot)) == 3
    _no_horizontal_scrolling(page)

    # without JavaScript (same session): the Upload button posts the plain form, and the page comes back with it
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, base_url=live_server,
                                  locale="zh-CN", java_script_enabled=False, storage_state=page.context.storage_state())
    try:
        plain = context.new_page()
        plain.set_default_timeout(15000)
        plain.goto(page.url.split("#")[0])
        plain_slot = plain.locator(slot_selector)
        assert plain_slot.locator("[data-upload-button]").is_visible()
        plain_slot.locator(f"input[type=file][id='{form_id}-files']").set_input_files(
            [{"name": "无脚本上传.pdf", "mimeType": "application/pdf", "buffer": make.pdf(2)}])
        with plain.expect_navigation():
            plain_slot.locator("[data-upload-button]").click()
        assert _path(plain) == edit_path
        assert "无脚本上传.pdf" in _listed(plain.locator(slot_selector))
        assert len(_listed(plain.locator(slot_selector))) == 4
        # and a refusal without JavaScript comes back next to the material too, in Chinese
        plain.locator(slot_selector).locator(f"input[type=file][id='{form_id}-files']").set_input_files(
            [{"name": "发票.pdf", "mimeType": "application/pdf", "buffer": make.windows_exe()}])
        with plain.expect_navigation():
            plain.locator(slot_selector).locator("[data-upload-button]").click()
        refusal = plain.locator(slot_selector).locator("[data-errors] .field-error").first.inner_text()
        assert "Windows程序" in refusal, refusal
        assert len(_listed(plain.locator(slot_selector))) == 4
    finally:
        context.close()


def test_upload_controls_follow_the_materials_choice_and_the_hint_fits_the_page(browser, phone, live_server):
    """Paper or "does not apply": nothing to upload, so no upload controls; the hint says what happens on upload
    (with the script nothing reloads; without it the page does, so save first)."""
    page = phone
    _log_in_citizen(page, RETIREE)
    page.goto(f"/apply/{CITIZEN_ITEM}")
    draft = page.locator("main a.button[href$='/edit']")
    if draft.count():  # the test above left a draft of this item: continue it
        with page.expect_navigation():
            draft.click()
    else:
        _start_draft(page)
    slot = page.locator("[data-upload-slot]").first
    material = slot.get_attribute("data-form").removeprefix("upload-")
    controls = slot.locator("[data-upload-controls]")
    assert controls.is_visible()
    assert slot.locator("[data-hint-script]").is_visible() and slot.locator("[data-hint-plain]").is_hidden()
    assert "立即上传" in slot.locator("[data-hint-script]").inner_text()
    page.locator(f"input[type=radio][name='m_{material}'][value='at_window']").check()
    assert controls.is_hidden()
    page.locator(f"input[type=radio][name='m_{material}'][value='upload']").check()
    assert controls.is_visible()
    not_applicable = page.locator(f"input[type=radio][name='m_{material}'][value='not_applicable']")
    if not_applicable.count():
        not_applicable.check()
        assert controls.is_hidden()
    # saved as paper, the page comes back without the controls, also without JavaScript
    page.locator(f"input[type=radio][name='m_{material}'][value='at_window']").check()
    with page.expect_navigation():
        page.locator("main form.filing button[name=action][value=save]").last.click()
    assert page.locator(f"[data-upload-slot][data-form='upload-{material}'] [data-upload-controls]").is_hidden()
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, base_url=live_server,
                                  locale="zh-CN", java_script_enabled=False, storage_state=page.context.storage_state())
    try:
        plain = context.new_page()
        plain.goto(page.url.split("#")[0])
        plain_slot = plain.locator(f"[data-upload-slot][data-form='upload-{material}']")
        assert plain_slot.locator("[data-upload-controls]").is_hidden()
        shown = plain.locator("[data-upload-slot] [data-upload-controls]:visible [data-hint-plain]")
        if shown.count():  # another material still to be uploaded: its hint is the one for a page that reloads
            assert shown.first.is_visible() and plain.locator("[data-hint-script]:visible").count() == 0
    finally:
        context.close()
