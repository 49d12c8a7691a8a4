"""What every upload check shares: the refusal (with its stable code and the user's message), the limits, the
clean file, and megabytes as people read them."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from flask_babel import format_decimal
from PIL import Image

from ..core.errors import ValidationFailed

log = logging.getLogger("portal.materials")

MiB = 1024 * 1024
_REFUSAL_STATUS = {"too_large": 413, "scan_unavailable": 503}


class UploadRefused(ValidationFailed):
    """An upload was refused. ``code`` is stable and machine-readable; ``message`` tells the user, in their
    language, what was wrong and what to do. A ValidationFailed, so forms show it like any other field error."""

    def __init__(self, code: str, message: str, *, field: str | None = None):
        super().__init__([(field, message)], message)
        self.code = code
        self.status = _REFUSAL_STATUS.get(code, 422)


@dataclass(frozen=True)
class Limits:
    """Caps for one upload and for all files of one case (bytes, pages, pixels)."""

    max_file_bytes: int = 10 * MiB
    max_case_bytes: int = 50 * MiB
    max_pages: int = 50
    max_pixels: int = 40_000_000
    max_image_side: int = 10_000

    def __post_init__(self) -> None:
        for name in ("max_file_bytes", "max_case_bytes", "max_pages", "max_pixels", "max_image_side"):
            if getattr(self, name) < 1:
                raise ValueError(f"Limits.{name} must be positive")
        # Our header check refuses larger images before Pillow opens them, so Pillow never warns (S18).
        if Image.MAX_IMAGE_PIXELS is not None and self.max_pixels > Image.MAX_IMAGE_PIXELS:
            raise ValueError(f"Limits.max_pixels may not exceed Pillow's MAX_IMAGE_PIXELS ({Image.MAX_IMAGE_PIXELS})")


@dataclass(frozen=True)
class CleanFile:
    """A file that passed every check. ``data`` is what to store: the re-encoded image, or the PDF as sent."""

    kind: str  # "pdf", "jpeg", "png" or "ofd"
    media_type: str
    data: bytes = field(repr=False)
    pages: int | None
    width: int | None
    height: int | None
    original_name: str = field(repr=False)  # for display only; its extension matches ``kind``
    size: int
    invoice: dict[str, str] | None = field(default=None, repr=False)  # what an OFD e-receipt says (ofd.py)


def _mb(n_bytes: int) -> str:
    """Megabytes (MiB, as people mean them) with one decimal, rounded up so a file just over a limit never
    appears to equal it."""
    return format_decimal(math.ceil(n_bytes * 10 / MiB) / 10, format="#,##0.#")
