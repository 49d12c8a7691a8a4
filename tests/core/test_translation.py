"""Messages are translated with the translations remembered for the request (portal.core.translation): the same
text as Flask-Babel's for every message of the catalogs, and never the text of a language no longer in force
(force_locale for an SMS in the recipient's language, refresh after the language cookie changes)."""

from __future__ import annotations

import flask_babel
from babel.messages.pofile import read_po
from flask import render_template_string
from flask_babel import force_locale, refresh

from portal.core import translation
from portal.core.i18n import po_path


def _catalog_ids(locale: str) -> list:
    with po_path(locale).open("rb") as fh:
        return [m.id for m in read_po(fh, locale=locale) if m.id]


def test_every_message_is_translated_as_flask_babel_translates_it(app):
    ids = _catalog_ids("zh_Hans_CN")
    singles = [i for i in ids if isinstance(i, str) and "%(" not in i]
    plurals = [i for i in ids if isinstance(i, tuple) and "%(" not in i[0].replace("%(num)", "")]
    assert len(singles) > 500 and plurals
    for locale in ("zh_Hans_CN", "en"):
        with app.test_request_context("/"), force_locale(locale):
            ours = [translation.gettext(i) for i in singles]
            theirs = [flask_babel.gettext(i) for i in singles]
            assert ours == theirs
            for singular, plural in plurals:
                for n in (1, 3):
                    assert translation.ngettext(singular, plural, n) == flask_babel.ngettext(singular, plural, n)
    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        assert translation.gettext("Please log in first.") == "请先登录。"


def test_the_language_in_force_is_always_the_one_translated(app):
    message = "Please log in first."
    with app.test_request_context("/"):
        first = translation.gettext(message)  # the request's own language: Chinese (no cookie)
        assert first == "请先登录。" and translation.locale_name() == "zh_Hans_CN" and not translation.is_english()
        with force_locale("en"):
            assert translation.gettext(message) == message
            assert translation.locale_name() == "en" and translation.is_english()
            assert render_template_string("{{ _('Please log in first.') }}") == message
            lazy = translation.lazy_gettext(message)
            assert str(lazy) == message
        assert translation.gettext(message) == first  # back in Chinese once the SMS is written
        assert render_template_string("{{ _('Please log in first.') }}") == first
        assert str(lazy) == first  # a lazy text is translated when it is read, in the language then in force
        assert translation.locale_name() == "zh_Hans_CN"


def test_a_refreshed_locale_is_chosen_again(app):
    message = "Please log in first."
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        assert translation.gettext(message) == message
        with force_locale("zh_Hans_CN"):
            assert translation.gettext(message) == "请先登录。"
            refresh()  # Flask-Babel forgets its choice; a forced locale stays in force
            assert translation.gettext(message) == flask_babel.gettext(message) == "请先登录。"
        refresh()  # chosen again from the request: English, its cookie
        assert translation.gettext(message) == flask_babel.gettext(message) == message
        assert translation.get_locale() is flask_babel.get_locale()


def test_pages_in_each_language_carry_that_languages_words(make_client):
    client = make_client()
    client.set_cookie("lang", "zh_Hans_CN")
    zh = client.get("/guide/")
    client.set_cookie("lang", "en")
    en = client.get("/guide/")
    assert zh.status_code == en.status_code == 200
    assert "办事指南" in zh.get_data(as_text=True)
    assert "Service guide" in en.get_data(as_text=True)


def test_outside_a_request_the_default_language_is_used(app):
    with app.app_context():  # a command or a background job
        assert translation.gettext("Please log in first.") == "请先登录。"
        assert translation.locale_name() == "zh_Hans_CN"
