"""Templates translated when they are compiled: one compiled copy of each template per language.

Jinja's i18n extension compiles ``{{ _("Log out") }}`` and ``{% trans %}…{% endtrans %}`` into a call that looks the
message up on every render: the context's call machinery, the request's translations, ``Markup`` and a %-format,
about 6 µs each, and a logged-in page says about a hundred of them. Both the message and the language are known
before the page is rendered. So the application's environment keeps a linked copy of itself (``Environment.overlay``:
the same loader, globals and filters, a template cache of its own) for each language, and a template is loaded from
the copy of the language in force. That copy compiles every call with constant arguments to its translated text:
``_``/``gettext`` of one string, ``pgettext`` of two, with or without keyword variables. The text is marked safe when
autoescaping is on and %-formatted with the variables (escaped), as Jinja's "newstyle" gettext does at run time, so
a page reads exactly as before. What is not constant (a message held in a variable, plurals by a count) is still
translated at run time.

The copy of a language is made anew when Flask-Babel hands out other translations for it (a reload). Outside an
application context, and in an overlay made by anyone else, templates are compiled as Jinja compiles them.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import has_app_context
from flask.templating import Environment as FlaskEnvironment
from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.visitor import NodeTransformer

from .translation import get_translations, locale_name

_SIMPLE = {"_": 1, "gettext": 1, "pgettext": 2}  # the function and how many constant strings it takes


def _shadowed(template: nodes.Template) -> bool:
    """Whether the template gives one of the translating names another meaning (a variable, a parameter, an import)."""
    for name in template.find_all(nodes.Name):
        if name.ctx != "load" and name.name in _SIMPLE:
            return True
    for imported in template.find_all(nodes.FromImport):
        for entry in imported.names:
            if (entry[1] if isinstance(entry, tuple) else entry) in _SIMPLE:
                return True
    if any(imported.target in _SIMPLE for imported in template.find_all(nodes.Import)):
        return True
    return any(macro.name in _SIMPLE for macro in template.find_all(nodes.Macro))


class _Translate(NodeTransformer):
    def __init__(self, translations: Any) -> None:
        self.translations = translations

    def visit_Call(self, node: nodes.Call) -> nodes.Node:
        node = self.generic_visit(node)
        function = node.node
        if not (isinstance(function, nodes.Name) and function.name in _SIMPLE) or node.dyn_args or node.dyn_kwargs:
            return node
        if len(node.args) != _SIMPLE[function.name]:
            return node
        if not all(isinstance(arg, nodes.Const) and isinstance(arg.value, str) for arg in node.args):
            return node
        strings = [arg.value for arg in node.args]
        if function.name == "pgettext":
            text = self.translations.upgettext(*strings)
            implied = [nodes.Pair(nodes.Const("context"), nodes.Const(strings[0]))]
        else:
            text = self.translations.ugettext(strings[0])
            implied = []
        given = {keyword.key for keyword in node.kwargs}
        pairs = [pair for pair in implied if pair.key.value not in given]
        pairs += [nodes.Pair(nodes.Const(keyword.key), keyword.value) for keyword in node.kwargs]
        marked = nodes.MarkSafeIfAutoescape(nodes.Const(text), lineno=node.lineno)
        if node.kwargs:
            return nodes.Mod(marked, nodes.Dict(pairs, lineno=node.lineno), lineno=node.lineno)
        try:  # newstyle gettext always %-formats, so "%%" reads "%"; a text that needs variables fails as it would
            formatted = text % {pair.key.value: pair.value.value for pair in pairs}
        except (KeyError, TypeError, ValueError):
            return node
        return nodes.MarkSafeIfAutoescape(nodes.Const(formatted), lineno=node.lineno)


class _TranslatingCodeGenerator(CodeGenerator):
    def visit_Template(self, node: nodes.Template, frame: Any = None) -> None:
        translations = getattr(self.environment, "translations", None)
        if translations is not None and not _shadowed(node):
            node = _Translate(translations).visit(node)
        super().visit_Template(node, frame)


def _capacity(cache: Any) -> int:
    if cache is None:
        return 0
    return getattr(cache, "capacity", -1)  # Jinja's LRU cache, or a plain dict (no limit)


class Environment(FlaskEnvironment):
    """Flask's environment, loading each template from the copy of the language in force."""

    code_generator_class = _TranslatingCodeGenerator
    translations: Any = None  # set on a language's copy only

    def __init__(self, app: Any, **options: Any) -> None:
        super().__init__(app, **options)
        self._languages: dict[str, Environment] = {}
        self._making = threading.Lock()

    def in_language(self) -> Environment:
        """The copy of this environment for the language in force (this one outside an application context)."""
        if self.translations is not None or self.overlayed or not has_app_context():
            return self
        translations = get_translations()
        name = locale_name()
        copy = self._languages.get(name)
        if copy is None or copy.translations is not translations:
            with self._making:
                copy = self._languages.get(name)
                if copy is None or copy.translations is not translations:
                    copy = self.overlay(cache_size=_capacity(self.cache))
                    copy.translations = translations
                    self._languages[name] = copy
        return copy

    def get_template(self, name: Any, parent: str | None = None, globals: Any = None) -> Any:
        copy = self.in_language()
        if copy is self:
            return super().get_template(name, parent, globals)
        return copy.get_template(name, parent, globals)

    def select_template(self, names: Any, parent: str | None = None, globals: Any = None) -> Any:
        copy = self.in_language()
        if copy is self:
            return super().select_template(names, parent, globals)
        return copy.select_template(names, parent, globals)


__all__ = ["Environment"]
