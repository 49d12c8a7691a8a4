"""Every message template renders in Chinese and English with exactly its declared fields, and none is missing."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from portal.core.i18n import po_path
from portal.notifications.constants import Event
from portal.notifications.messages import TEMPLATES, render
from portal.notifications.operations import notify

SAMPLES = {
    "item": {"zh": "门诊慢性病病种待遇认定", "en": "Outpatient chronic disease recognition"},
    "number": "JL20261122K7M3QX",
    "due_on": "2026-10-13",
    "respond_by_on": "2026-10-21",
    "materials": [{"zh": "诊断证明", "en": "Diagnosis certificate"}, {"zh": "病历", "en": "Medical records"}],
    "reason": "不属于受理范围",
    "result": "审核通过",
    "destination": "海南省",
    "expires_on": "2026-12-31",
    "failures": "5",
    "last_on": "2026-12-06",
    "unit": "长春新创科技有限公司",
    "days": 2,
    "due_soon": 3,
    "overdue": 1,
    "numbers": ["JL20261122K7M3QX", "JL20261122ABCDEF"],
    "level": {"zh": "不满意", "en": "Dissatisfied"},
    "outcome": "已向窗口人员核实并整改",
    "what": "糖尿病",
    "left_yuan": "1234.50",
}
# how each sample shows in the message, per language
SHOWN = {
    "zh_Hans_CN": {"item": "门诊慢性病病种待遇认定", "materials": "诊断证明、病历", "due_on": "2026", "level": "不满意",
                   "numbers": "JL20261122K7M3QX、JL20261122ABCDEF", "left_yuan": "¥1,234.50"},
    "en": {"item": "Outpatient chronic disease recognition", "materials": "Diagnosis certificate, Medical records",
           "due_on": "2026", "level": "Dissatisfied", "numbers": "JL20261122K7M3QX, JL20261122ABCDEF",
           "left_yuan": "CN¥1,234.50"},
}
FIELD_RE = re.compile(r"%\((\w+)\)s")


def test_every_event_has_a_template():
    assert set(TEMPLATES) == set(Event)


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
@pytest.mark.parametrize("event", list(Event))
def test_each_template_renders_with_its_fields(app, event, locale):
    template = TEMPLATES[event]
    assert set(FIELD_RE.findall(template.body._args[0])) == set(template.fields)  # the msgid's fields
    context = {f: SAMPLES[f] for f in template.fields}
    with app.test_request_context("/"):
        message = render(event, context, locale)
    assert message.subject and message.body
    assert "%(" not in message.body and "{" not in message.body
    for field in template.fields:
        shown = SHOWN[locale].get(field, str(SAMPLES[field]))
        if field.endswith("_on"):
            shown = "2026"
        assert shown in message.body, (field, message.body)


@pytest.mark.parametrize("event", list(Event))
def test_a_missing_field_is_refused_when_written_not_when_sent(app, citizen, event):
    template = TEMPLATES[event]
    context = {f: SAMPLES[f] for f in template.fields[1:]}
    with pytest.raises(ValueError, match=template.fields[0]):
        notify(citizen, event, context)
    with pytest.raises(KeyError), app.test_request_context("/"):
        render(event, context, "en")


def test_chinese_translations_keep_every_field():
    """Where the Chinese catalog translates a template, the translation uses the same fields (a field lost in
    translation would raise when a message is rendered in Chinese)."""
    with po_path("zh_Hans_CN").open("rb") as fh:
        catalog = read_po(fh, locale="zh_Hans_CN")
    for template in TEMPLATES.values():
        msgid = template.body._args[0]
        message = catalog.get(msgid)
        if message is not None and message.string:
            assert set(FIELD_RE.findall(message.string)) == set(FIELD_RE.findall(msgid)), msgid


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_a_value_ending_its_sentence_does_not_double_the_full_stop(app, locale):
    """A result written as a sentence ("已备案。") meets the template's own full stop: one is shown, not "。。"."""
    context = dict(SAMPLES, result="已备案：YDJL20261122K7M3QX，长期有效。", reason="材料不属于本机构受理范围。")
    with app.test_request_context("/"):
        for event in (Event.COMPLETED, Event.REFUSED):
            message = render(event, {k: context[k] for k in TEMPLATES[event].fields}, locale=locale)
            assert not re.search(r"[。.]{2}", message.body), message.body
            assert "长期有效。" in message.body or "受理范围。" in message.body
