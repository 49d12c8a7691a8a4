"""A setting that maps names to a provider's template ids as a JSON object (``PORTAL_SMS_TEMPLATES``,
``PORTAL_WECHAT_TEMPLATES``): read one way, and refused with the same kind of sentence when it is anything else."""

from __future__ import annotations

import json


def template_ids(raw: str, *, setting: str, meaning: str, example: str, allow_empty: bool) -> dict[str, str]:
    """``raw`` as {name: template id}; ``{}`` when unset. A ValueError names ``setting``, says what it maps
    (``meaning``, e.g. "message name → template id") and shows ``example``, when ``raw`` is no JSON object of ids
    (an empty id only where ``allow_empty``: the SMS setting's way of saying "send this one without text")."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(
            (isinstance(v, str) and (v or allow_empty)) or (isinstance(v, int) and not isinstance(v, bool))
            for v in value.values()):
        raise ValueError(f"{setting} must be a JSON object of {meaning}, e.g. {example}")
    return {str(k): str(v) for k, v in value.items()}
