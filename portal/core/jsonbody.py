"""Reading a JSON request body at the boundary, before anything else sees it.

``json.loads`` accepts two things the rest of the portal must never meet:

- lone UTF-16 surrogates (``"\\ud800"``): a valid JSON escape that gives a Python string no codec can encode;
  it made a database statement fail further in, and the failure printed the statement's parameters (names,
  ID numbers, phones) into the log;
- deep nesting: 3,000 nested brackets exhaust the parser's recursion (``RecursionError``, a 500).

Both are refused here with ``BadJson``, which the API turns into its 400 envelope in the user's language.
"""

from __future__ import annotations

import json
from typing import Any

from .translation import gettext as _

MAX_DEPTH = 32  # the deepest API body (a form with a table of rows) is 4 levels


class BadJson(ValueError):
    """A body that is not JSON the portal accepts; ``message`` says why, in the user's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _check(value: Any) -> None:
    """Walk ``value`` without recursion: refuse nesting deeper than MAX_DEPTH and strings with lone surrogates."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            strings = (item,)
        elif isinstance(item, dict):
            strings = tuple(item)
        else:
            strings = ()
        for text in strings:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise BadJson(_("The request contains characters that are not valid text.")) from None
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise BadJson(_("The request body is nested too deeply."))
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def parse(raw: bytes | str) -> Any:
    """The JSON value of ``raw``, or ``BadJson`` (not JSON, not UTF-8, too deep, lone surrogates)."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise BadJson(_("The request body is nested too deeply.")) from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        raise BadJson(_("The request body is not valid JSON.")) from None
    _check(value)
    return value
