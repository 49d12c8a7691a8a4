"""Templates are translated when they are compiled, one compiled copy per language (portal.core.templating): a page
reads exactly as it read when every message was looked up at render time, in the language in force, with variables
escaped, and without a look-up at render time."""

from __future__ import annotations

import re
import threading

import pytest
from flask import render_template, render_template_string
from flask_babel import force_locale

from portal.core import templating

from .test_translation import _catalog_ids

_PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?([sdifr])")
_SEPARATOR = "\n@@\n"


def _source_and_values(ids: list[str]) -> tuple[str, dict]:
    """One template saying every message, with a variable for each placeholder (markup in the text ones)."""
    parts, values = [], {}
    for index, message in enumerate(ids):
        kwargs = []
        for name, kind in dict(_PLACEHOLDER.findall(message)).items():
            values[f"v{index}_{name}"] = '<b title="x">&amp;</b>' if kind == "s" else (1.5 if kind == "f" else 3)
            kwargs.append(f", {name}=v{index}_{name}")
        parts.append("{{ _(" + repr(message) + "".join(kwargs) + ") }}")
    return _SEPARATOR.join(parts), values


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_every_message_reads_the_same_compiled_as_looked_up(app, locale):
    ids = [i for i in _catalog_ids("zh_Hans_CN") if isinstance(i, str)]
    assert len(ids) > 1000
    source, values = _source_and_values(ids)
    with app.test_request_context("/"), force_locale(locale):
        compiled = app.jinja_env.in_language()
        assert compiled is not app.jinja_env and compiled.translations is not None
        looked_up = app.jinja_env.from_string(source).render(**values).split(_SEPARATOR)
        ours = compiled.from_string(source).render(**values).split(_SEPARATOR)
    assert len(ours) == len(looked_up) == len(ids)
    assert ours == looked_up
    if locale == "zh_Hans_CN":
        assert ours[ids.index("Please log in first.")] == "请先登录。"
    escaped = [text for text, message in zip(ours, ids, strict=True) if "%(" in message and "s" in message]
    assert escaped and all("<b" not in text for text in escaped)


def test_nothing_is_looked_up_while_a_page_renders(app):
    source = '{{ _("Please log in first.") }}|{{ _("Hello %(name)s", name=who) }}|{% trans %}Log out{% endtrans %}'

    def refuse(*_args, **_kwargs):
        raise AssertionError("looked up at render time")

    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        compiled = app.jinja_env.in_language()
        template = compiled.from_string(source)
        saved = {key: app.jinja_env.globals[key] for key in ("gettext", "_")}
        app.jinja_env.globals.update(gettext=refuse, _=refuse)
        try:
            assert template.render(who="<me>") == "请先登录。|Hello &lt;me&gt;|退出登录"
            with pytest.raises(AssertionError, match="render time"):
                app.jinja_env.from_string(source).render(who="<me>")  # as Jinja compiles it: a call each time
        finally:
            app.jinja_env.globals.update(saved)


def test_variables_are_escaped_and_autoescape_off_is_kept(app):
    with app.test_request_context("/"), force_locale("en"):
        compiled = app.jinja_env.in_language()
        for env in (app.jinja_env, compiled):
            assert env.from_string('{{ _("%(a)s & %(b)s", a=x, b=y) }}').render(x="<i>", y="1 < 2") \
                == "&lt;i&gt; & 1 &lt; 2"
            assert env.from_string('{% trans a=x %}A {{ a }} B{% endtrans %}').render(x="<i>") == "A &lt;i&gt; B"
            assert env.from_string('{% autoescape false %}{{ _("%(a)s!", a=x) }}{% endautoescape %}').render(
                x="<i>") == "<i>!"
            assert env.from_string('{{ pgettext("menu", "Log out %(context)s") }}').render() == "Log out menu"
            assert env.from_string('{{ _("100%% sure") }}').render() == "100% sure"


def test_a_template_that_names_its_own_gettext_is_left_as_it_is(app):
    source = '{% macro say(gettext) %}{{ gettext("Log out") }}{% endmacro %}{{ say(shout) }}'
    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        compiled = app.jinja_env.in_language()
        assert compiled.from_string(source).render(shout=str.upper) == "LOG OUT"
        assert compiled.from_string('{% for _ in [1] %}{{ _ }}{% endfor %}').render() == "1"
        assert compiled.from_string('{% macro gettext(s) %}[{{ s }}]{% endmacro %}{{ gettext("Log out") }}'
                                    ).render() == "[Log out]"
        imported = compiled.from_string('{% from "applications/_macros.html" import required_mark as _ %}'
                                        '{{ _("Log out") }}')  # the macro, called with a text that is not required
        assert imported.render() == ""


def test_each_language_has_its_own_compiled_page(app):
    with app.test_request_context("/"):
        with force_locale("zh_Hans_CN"):
            zh_env = app.jinja_env.in_language()
            zh = render_template("errors/error.html", code=404, title=None, message=None)
        with force_locale("en"):
            en_env = app.jinja_env.in_language()
            en = render_template("errors/error.html", code=404, title=None, message=None)
        with force_locale("zh_Hans_CN"):
            assert app.jinja_env.in_language() is zh_env
            again = render_template("errors/error.html", code=404, title=None, message=None)
    assert zh_env is not en_env
    assert zh_env.get_template("errors/error.html") is not en_env.get_template("errors/error.html")
    assert "退出登录" not in en and "办事指南" in zh and "Service guide" in en and "办事指南" not in en
    assert again == zh or re.sub(r'value="[^"]+"', "", again) == re.sub(r'value="[^"]+"', "", zh)


def test_a_language_switch_between_requests_shows_the_new_language(make_client):
    client = make_client()
    for lang, words, other in (("zh_Hans_CN", "办事指南", "Service guide"), ("en", "Service guide", "办事指南"),
                               ("zh_Hans_CN", "办事指南", "Service guide")):
        client.set_cookie("lang", lang)
        html = client.get("/login").get_data(as_text=True)
        assert words in html and other not in html


def test_outside_an_app_context_and_in_others_overlays_templates_compile_as_jinja_does(app):
    outside = []
    thread = threading.Thread(target=lambda: outside.append(app.jinja_env.in_language()))  # no context of ours
    thread.start()
    thread.join()
    assert outside == [app.jinja_env]
    own = app.jinja_env.overlay(cache_size=0)
    with app.app_context():
        assert own.in_language() is own
        assert render_template_string('{{ _("Please log in first.") }}') == "请先登录。"
    assert isinstance(app.jinja_env, templating.Environment)
