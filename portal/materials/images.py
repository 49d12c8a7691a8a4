"""Uploaded images (JPEG, PNG): dimensions from the header before any decoding, metadata cut out, and a clean
re-encoded copy (see ``checks`` for the order of the rules)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from flask_babel import format_decimal
from PIL import Image, ImageCms

from ..core.translation import gettext as _
from .refusals import Limits, UploadRefused, log

JPEG_QUALITY = 88
# zlib's default. Level 9 (Pillow's optimize=True) saves some 15 % on photographic PNGs but takes 3 to 7 s for
# 3 to 6 megapixels instead of 0.5 to 1 s; screenshots compress well at either level.
PNG_COMPRESS_LEVEL = 6


def _image_too_large(width: int, height: int, limits: Limits) -> UploadRefused:
    return UploadRefused("image_too_large", _(
        "This image is %(width)s × %(height)s pixels. We accept at most %(side)s pixels on each side and "
        "%(megapixels)s megapixels in all. Please send a smaller photo, or scan at 300 dpi.",
        width=format_decimal(width), height=format_decimal(height), side=format_decimal(limits.max_image_side),
        megapixels=format_decimal(limits.max_pixels / 1_000_000, format="#,##0.#")))


def _image_unreadable() -> UploadRefused:
    return UploadRefused("image_unreadable", _(
        "We could not read this image; it may be damaged or incomplete. Please take the photo or make the scan "
        "again."))


_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_PNG_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA", "I;16"})
# What Pillow needs to decode correctly; everything else (EXIF, XMP, comments, text, thumbnails, animation,
# maker notes, MPF) is dropped before Pillow parses anything, so its metadata parsers are never reached.
_PNG_KEPT_CHUNKS = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"iCCP", b"pHYs"})
_JPEG_KEPT_APP = {0xE0: b"JFIF\x00", 0xE2: b"ICC_PROFILE\x00", 0xEE: b"Adobe"}  # dpi, colours, CMYK/YCCK flag
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class _Stripped:
    """An image reduced to what decoding needs, with the size and orientation its header and EXIF state."""

    data: bytes
    width: int
    height: int
    orientation: int


def _exif_orientation(tiff: bytes) -> int:
    """The Orientation tag (1 to 8) of IFD0 of an EXIF block (a TIFF header onwards); 1 if absent or broken."""
    endian = {b"II*\x00": "<", b"MM\x00*": ">"}.get(tiff[:4])
    if endian is None:
        return 1
    try:
        (ifd,) = struct.unpack_from(endian + "I", tiff, 4)
        (count,) = struct.unpack_from(endian + "H", tiff, ifd)
        for entry in range(ifd + 2, ifd + 2 + 12 * min(count, 1000), 12):
            tag, type_, number = struct.unpack_from(endian + "HHI", tiff, entry)
            if tag == 0x0112 and type_ == 3 and number >= 1:  # Orientation, SHORT
                (value,) = struct.unpack_from(endian + "H", tiff, entry + 8)
                return value if value in _ORIENTATION else 1
    except struct.error:
        return 1
    return 1


def _strip_png(data: bytes) -> _Stripped | None:
    """The PNG with only the chunks decoding needs, up to IEND; None if its chunk structure is broken."""
    if data[8:16] != b"\x00\x00\x00\rIHDR" or len(data) < 33:
        return None
    width, height = struct.unpack(">II", data[16:24])
    kept, pos, orientation = [data[:8]], 8, 1
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            return None
        if kind in _PNG_KEPT_CHUNKS:
            kept.append(data[pos:end])
        elif kind == b"eXIf":
            orientation = _exif_orientation(data[pos + 8 : end - 4])
        pos = end
        if kind == b"IEND":
            break
    else:
        return None  # no IEND: cut short
    return _Stripped(b"".join(kept), width, height, orientation) if width and height else None


def _strip_jpeg(data: bytes) -> _Stripped | None:
    """The JPEG with only the segments decoding needs before its first scan, and everything from that scan on;
    None if its marker structure is broken.

    The size is the largest of the frame headers before the scan, so it is never less than what Pillow
    allocates (Pillow reads on past an end-of-image marker and keeps the last frame header it saw). Where
    Pillow would skip junk between markers this gives up.
    """
    kept, sizes, orientation = [data[:2]], [], 1
    pos, end = 2, len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x00, 0x01) or 0xD0 <= marker <= 0xD9:  # markers without a length: nothing to keep
            pos += 2
            continue
        if marker == 0xDA:  # start of scan: the compressed image data follows
            kept.append(data[pos:])
            break
        segment_end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if segment_end < pos + 4 or segment_end > end:
            return None
        body = data[pos + 4 : segment_end]
        if marker in _SOF_MARKERS:
            if len(body) < 5:
                return None
            height, width = struct.unpack(">HH", body[1:5])
            sizes.append((width, height))
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:  # APPn and comments
            if marker == 0xE1 and body.startswith(b"Exif\x00\x00") and orientation == 1:
                orientation = _exif_orientation(body[6:])
            prefix = _JPEG_KEPT_APP.get(marker)
            if prefix and body.startswith(prefix):
                kept.append(data[pos:segment_end])
        else:
            kept.append(data[pos:segment_end])
        pos = segment_end
    else:
        return None  # no scan
    if not sizes:
        return None
    width, height = max(sizes, key=lambda size: size[0] * size[1])
    return _Stripped(b"".join(kept), width, height, orientation) if width and height else None


def image_header_size(data: bytes, kind: str) -> tuple[int, int] | None:
    """(width, height) of a JPEG or PNG read from its header without decoding, or None if the header is broken."""
    stripped = _strip_jpeg(data) if kind == "jpeg" else _strip_png(data)
    return (stripped.width, stripped.height) if stripped else None


def _check_dimensions(width: int, height: int, limits: Limits) -> None:
    if width > limits.max_image_side or height > limits.max_image_side or width * height > limits.max_pixels:
        raise _image_too_large(width, height, limits)


def clean_image(data: bytes, kind: str, limits: Limits) -> tuple[bytes, int, int]:
    """Re-encode a JPEG or PNG upright, in sRGB and without metadata; return (bytes, width, height).

    Metadata segments are cut out before Pillow parses the file (so none of it can reach the output, Pillow's
    EXIF and text parsers are never exposed to it, and no Pillow warning depends on it); the orientation is read
    from EXIF here. Raises image_too_large before decoding when the header says the image is too large,
    image_unreadable when the file cannot be decoded.
    """
    stripped = _strip_jpeg(data) if kind == "jpeg" else _strip_png(data)
    if stripped is None:
        raise _image_unreadable()
    _check_dimensions(stripped.width, stripped.height, limits)
    try:
        with Image.open(BytesIO(stripped.data), formats=["JPEG" if kind == "jpeg" else "PNG"]) as opened:
            _check_dimensions(*opened.size, limits)  # Pillow read the header the same way
            opened.load()
            dpi = _sane_dpi(opened.info.get("dpi"))
            image = _for_output(_to_srgb(opened), kind)
            if stripped.orientation in _ORIENTATION:
                image = image.transpose(_ORIENTATION[stripped.orientation])
            image.info = {}  # the encoders fall back to info for ICC profiles and transparency
            width, height = image.size
            out = BytesIO()
            if kind == "jpeg":
                image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, **({"dpi": dpi} if dpi else {}))
            else:
                image.save(out, "PNG", compress_level=PNG_COMPRESS_LEVEL, **({"dpi": dpi} if dpi else {}))
            del image
    except UploadRefused:
        raise
    except Image.DecompressionBombError:
        raise _image_too_large(stripped.width, stripped.height, limits) from None
    except Exception as exc:  # Pillow signals a broken file with many exception types (OSError, SyntaxError, ...)
        log.info("image could not be decoded: %s", type(exc).__name__)  # messages may quote the file's bytes
        raise _image_unreadable() from None
    return out.getvalue(), width, height


def _sane_dpi(dpi: Any) -> tuple[int, int] | None:
    try:
        x, y = (round(float(v)) for v in dpi)
    except (TypeError, ValueError, OverflowError):
        return None
    return (x, y) if 1 <= x <= 10_000 and 1 <= y <= 10_000 else None


def _to_srgb(image: Image.Image) -> Image.Image:
    """Colours converted from an embedded ICC profile (Display P3 from iPhones, Adobe RGB or CMYK from scanners)
    to sRGB, so the profile can be dropped. Grey images keep their values; a broken profile is ignored."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        profile = ImageCms.ImageCmsProfile(BytesIO(icc))
        if image.mode != "CMYK" and "srgb" in ImageCms.getProfileDescription(profile).lower():
            return image
        srgb = ImageCms.createProfile("sRGB")  # per call: LittleCMS profiles are not for sharing across threads
        return ImageCms.profileToProfile(image, profile, srgb, outputMode="RGBA" if image.mode == "RGBA" else "RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        log.info("ICC profile ignored: %s", type(exc).__name__)
        return image


def _for_output(image: Image.Image, kind: str) -> Image.Image:
    """A mode the output format stores plainly: JPEG in L or RGB; PNG keeps its mode, except that palette
    images with transparency become RGBA (the transparency lives in the metadata we drop)."""
    if kind == "jpeg":
        return image if image.mode in ("L", "RGB") else image.convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        return image.convert("RGBA")
    if image.mode in _PNG_MODES:
        return image
    return image.convert("RGBA" if "A" in image.mode or "transparency" in image.info else "RGB")
