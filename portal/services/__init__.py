"""Item-specific behaviour, found by the handler name that the catalog gives an item.

The filing engine is generic: any item can be filed. A handler adds what one family of items needs:
pre-checks that explain which rule applies, whether the item pays money (and so passes through 拨付),
whether a 即办件 may complete the moment it is submitted, and (with the workbench) the effect on the
system of record when a case completes. ``handler_for(item)`` returns the handler for an item; a name
that has no module of its own gets the generic handler, which has no special rules.
"""

from __future__ import annotations

from .base import Finding, Handler, Severity, handler_for, register

__all__ = ["Finding", "Handler", "Severity", "handler_for", "register"]
