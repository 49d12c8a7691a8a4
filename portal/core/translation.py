"""Flask-Babel's ``gettext`` family and ``get_locale``, remembered for the request.

Flask-Babel finds the translations anew for every message: several context look-ups and a locale-to-string
conversion each time, about 30 µs, and a staff queue page translates some 200 messages and labels. Here the
locale and translations Flask-Babel chose are kept on its own per-request namespace (``g._flask_babel``) beside
the locale they belong to, and reused while that locale is still the one in force: ``force_locale`` (an SMS in
the recipient's language) and ``refresh`` change or drop Flask-Babel's locale object, so the remembered pair no
longer matches and is looked up again. Outside an application context everything is Flask-Babel's own.

The same answers as Flask-Babel's functions of the same names; the application's code and templates use these.
"""

from __future__ import annotations

from typing import Any

import flask_babel
from babel import Locale
from flask.globals import _cv_app
from flask_babel.speaklater import LazyString


def _namespace():
    ctx = _cv_app.get(None)
    if ctx is None:
        return None
    namespace = ctx.g.__dict__.get("_flask_babel")
    if namespace is None or getattr(namespace, "babel_locale", None) is None:
        flask_babel.get_locale()  # lets Flask-Babel make its namespace and choose the locale
        namespace = ctx.g.__dict__.get("_flask_babel")
    return namespace


def get_locale() -> Locale | None:
    """The locale of the request (or of the app context), as Flask-Babel chose it."""
    namespace = _namespace()
    if namespace is None:
        return flask_babel.get_locale()
    return namespace.babel_locale


def locale_name() -> str:
    """``str(get_locale())``, remembered with it ("zh_Hans_CN", "en"); the default locale's name outside a request."""
    namespace = _namespace()
    if namespace is None:
        return str(flask_babel.get_locale() or "zh_Hans_CN")
    locale = namespace.babel_locale
    remembered = getattr(namespace, "portal_locale_name", None)
    if remembered is not None and remembered[0] is locale:
        return remembered[1]
    name = str(locale)
    namespace.portal_locale_name = (locale, name)
    return name


def is_english() -> bool:
    return locale_name().startswith("en")


def get_translations():
    namespace = _namespace()
    if namespace is None:
        return flask_babel.get_translations()
    locale = namespace.babel_locale
    remembered = getattr(namespace, "portal_translations", None)
    if remembered is not None and remembered[0] is locale:
        return remembered[1]
    translations = flask_babel.get_translations()
    namespace.portal_translations = (locale, translations)
    return translations


def gettext(string: str, **variables: Any) -> str:
    text = get_translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return get_translations().ungettext(singular, plural, num) % variables


def pgettext(context: str, string: str, **variables: Any) -> str:
    text = get_translations().upgettext(context, string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    return LazyString(gettext, string, **variables)


def install(app) -> None:
    """Templates translate through these functions (after ``babel.init_app``, which installed Flask-Babel's)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: get_translations().ugettext(s),
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n),
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


__all__ = ["get_locale", "get_translations", "gettext", "install", "is_english", "lazy_gettext", "locale_name",
           "ngettext", "pgettext"]
