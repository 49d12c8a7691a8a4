"""Form values in API answers and back: what is masked on the way out (S12), and how a masked value sent back
unchanged keeps the stored one (``restore_masked``); free text scrubbed of any ID or mobile number.
"""

from __future__ import annotations

from typing import Any

from ..catalog.schema import FieldType
from ..core.audit import scrub
from ..core.masking import mask_name
from . import fields

NAME_SOURCES = frozenset({"person.name", "agent.name"})


def masked(spec: fields.FieldSpec, value: Any) -> str:
    """A value as answers show it: numbers masked by ``fields.masked_value``, names from the records too."""
    if spec.prefill in NAME_SOURCES and value:
        return mask_name(str(value))
    return fields.masked_value(spec, value)


def shown(spec: fields.FieldSpec, value: Any, *, locked: bool) -> Any:
    """A form value as answered: locked and sensitive values masked, table cells one by one."""
    if spec.type is FieldType.table and isinstance(value, list):
        return [{c.key: shown(c, row[c.key], locked=False) for c in spec.columns if c.key in row}
                for row in value if isinstance(row, dict)]
    if locked or spec.type in fields.SENSITIVE_TYPES:
        return masked(spec, value)
    return value


def restore_masked(specs: list[fields.FieldSpec], sent: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """``sent`` with every value equal to the masked form of the stored one replaced by the stored value.

    Answers carry such values masked; a client that sends the form back as it received it keeps them.
    """
    out = dict(sent)
    for spec in specs:
        if spec.key not in out:
            continue
        if spec.type is FieldType.table:
            rows, before = out[spec.key], stored.get(spec.key)
            if isinstance(rows, list) and isinstance(before, list):
                out[spec.key] = [_restore_row(spec, row, before[i] if i < len(before) else None)
                                 for i, row in enumerate(rows)]
        else:
            out[spec.key] = _restore_value(spec, out[spec.key], stored.get(spec.key))
    return out


def _restore_row(spec: fields.FieldSpec, row: Any, before: Any) -> Any:
    if not isinstance(row, dict) or not isinstance(before, dict):
        return row
    out = dict(row)
    for column in spec.columns:
        if column.key in out:
            out[column.key] = _restore_value(column, out[column.key], before.get(column.key))
    return out


def _restore_value(spec: fields.FieldSpec, value: Any, before: Any) -> Any:
    if not (spec.locked or spec.type in fields.SENSITIVE_TYPES):
        return value  # answered as stored: whatever comes back is what the applicant typed
    if isinstance(before, str) and before and isinstance(value, str):
        as_answered = masked(spec, before)
        if as_answered != before and value == as_answered:
            return before
    return value


def scrubbed(text: str | None) -> str | None:
    """Free text typed by staff or applicants, with any ID or mobile number in it masked (S12)."""
    return scrub(text) if text else text
