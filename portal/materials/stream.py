"""Segmented AES-256-GCM for file bodies: the STREAM construction, as in Tink's streaming AEAD.

A file is ``header ‖ segment₀ ‖ segment₁ ‖ … ‖ segmentₙ``. The header is

    version (1 byte) ‖ plaintext segment size (4 bytes, big-endian) ‖ random nonce prefix (7 bytes)

and is the associated data of every segment, so changing any header byte breaks every tag. Each segment
is ``AESGCM(data key).encrypt(nonce, plaintext segment, header)`` with the 12-byte nonce

    nonce prefix (7) ‖ segment counter (4, big-endian) ‖ last-segment flag (1: 0x01 on the last, else 0x00)

Every plaintext segment has the fixed size except the last, which holds 0 to ``segment size`` bytes (an
empty file is one empty last segment). The counter makes reordering fail, the flag makes truncation at a
segment boundary and appending fail, and the per-file random data key and prefix make splicing segments
from another file fail. Each segment is decrypted with the one-shot ``AESGCM.decrypt``, which checks the
tag before returning anything, so no unverified plaintext is ever released. Memory stays bounded by about
three segments plus one input chunk, whatever the file size.

Segments are 1 MiB by default (Tink's ``AES256_GCM_HKDF_1MB`` uses the same size): at 64 KiB, the Python
work per segment (a call, a nonce, a fresh output object) cost more than the AES-GCM itself. The reader takes
the size from the header, so files written with another segment size (64 KiB before) read the same.

The header is random per file (its nonce prefix) and authenticated by every tag, so a caller that records it
beside the wrapped data key can check, for 12 bytes of storage and no extra pass over the data, that a body is
the one the record was written for (``expected_header`` of ``decrypt_stream``).
"""

from __future__ import annotations

import itertools
import os
import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 1
SEGMENT_SIZE = 1024 * 1024
MIN_SEGMENT_SIZE = 16
MAX_SEGMENT_SIZE = 4 * 1024 * 1024  # bounds what a (not yet authenticated) header can make the reader buffer
KEY_SIZE = 32
PREFIX_SIZE = 7
TAG_SIZE = 16
READ_SIZE = 1024 * 1024  # how much of a binary file ``decrypt_stream`` reads at once when it has no readinto
_HEADER = struct.Struct(">BI7s")
HEADER_SIZE = _HEADER.size  # 12
MAX_SEGMENTS = 2**32  # the counter has 4 bytes


class TamperedError(ValueError):
    """The ciphertext does not decrypt: altered, truncated, extended, reordered, spliced or under another key."""


def new_data_key() -> bytes:
    """A random 256-bit data key; one per file, never reused."""
    return AESGCM.generate_key(bit_length=256)


def ciphertext_size(plain_size: int, segment_size: int = SEGMENT_SIZE) -> int:
    """The stored size of a body of ``plain_size`` bytes: header plus one tag per segment."""
    segments = max(1, -(-plain_size // segment_size))
    return HEADER_SIZE + plain_size + segments * TAG_SIZE


def encrypt_stream(src: BinaryIO | Iterable[bytes], dek: bytes, *, segment_size: int = SEGMENT_SIZE,
                   reuse_buffer: bool = False) -> Iterator[bytes]:
    """Yield the header, then one ciphertext segment at a time, of the bytes read from ``src``.

    ``src`` is a binary file object or any iterable of bytes-like chunks of any sizes. With ``reuse_buffer``,
    every segment is encrypted into the same buffer and yielded as a view of it, valid only until the next
    is asked for: for a consumer that writes each chunk out at once (``Storage.put``), it saves allocating
    and faulting in a fresh segment of memory each time. Raise ValueError for a data key that is not 32
    bytes, a segment size out of range, or more than 2³² segments.
    """
    aead = _aead(dek)
    _check_segment_size(segment_size)
    header = _HEADER.pack(VERSION, segment_size, os.urandom(PREFIX_SIZE))
    prefix = header[-PREFIX_SIZE:]
    output = memoryview(bytearray(segment_size + TAG_SIZE)) if reuse_buffer else None
    yield header
    for counter, (segment, is_last) in enumerate(_segments(as_chunks(src, segment_size), segment_size)):
        if counter >= MAX_SEGMENTS:
            raise ValueError("file too large for one stream: more than 2**32 segments")
        nonce = _nonce(prefix, counter, is_last)
        if output is None:
            yield aead.encrypt(nonce, segment, header)
        else:
            sealed = output[:len(segment) + TAG_SIZE]
            aead.encrypt_into(nonce, segment, header, sealed)
            yield sealed


def decrypt_stream(src: BinaryIO | Iterable[bytes], dek: bytes, *,
                   expected_header: bytes | None = None) -> Iterator[bytes]:
    """Yield the plaintext of a stream written by ``encrypt_stream``, one verified segment at a time.

    ``src`` is an iterable of chunks cut anywhere, or a binary file object: one with ``readinto`` (a local file)
    is read straight into two reused segment buffers, with no copying and no allocation per segment. Raise
    TamperedError when the header is malformed or is not ``expected_header`` (when given), or when any segment
    does not verify, including a missing, extra or moved segment; plaintext already yielded belongs to
    segments that verified, in order, but the file as a whole is only proven intact once this iterator
    is exhausted without an error. Every piece yielded is a new ``bytes`` object the caller may keep.
    """
    aead = _aead(dek)
    if hasattr(src, "readinto"):
        header = _read_header(src)
        segment_size, prefix = _parse_header(header, expected_header)
        segments = _file_segments(src, segment_size + TAG_SIZE)
    else:
        pieces = iter(as_chunks(src, READ_SIZE))
        header, rest = _read_exactly(pieces, HEADER_SIZE)
        segment_size, prefix = _parse_header(header, expected_header)
        segments = _segments(pieces, segment_size + TAG_SIZE, rest)
    for counter, (segment, is_last) in enumerate(segments):
        if len(segment) < TAG_SIZE:
            raise TamperedError("the file ends inside a segment (truncated)")
        if counter >= MAX_SEGMENTS:
            raise TamperedError("more than 2**32 segments (altered)")
        try:
            plaintext = aead.decrypt(_nonce(prefix, counter, is_last), segment, header)
        except InvalidTag:
            raise TamperedError(f"segment {counter} does not verify "
                                "(altered, truncated, reordered or spliced)") from None
        yield plaintext


def _aead(dek: bytes) -> AESGCM:
    if len(dek) != KEY_SIZE:
        raise ValueError(f"a data key has {KEY_SIZE} bytes, not {len(dek)}")
    return AESGCM(dek)


def _check_segment_size(segment_size: int) -> None:
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
        raise ValueError(f"segment size must be {MIN_SEGMENT_SIZE} to {MAX_SEGMENT_SIZE} bytes, not {segment_size}")


def _parse_header(header: bytes, expected: bytes | None = None) -> tuple[int, bytes]:
    if len(header) < HEADER_SIZE:
        raise TamperedError("the file is shorter than its header (truncated)")
    if expected is not None and header != bytes(expected):
        raise TamperedError("the stored body is not the recorded file (its header differs: "
                            "another file's body, or altered)")
    version, segment_size, prefix = _HEADER.unpack(header)
    if version != VERSION:
        raise TamperedError(f"unknown stream version {version} (altered, or written by a newer portal)")
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
        raise TamperedError(f"impossible segment size {segment_size} in the header (altered)")
    return segment_size, prefix


def _nonce(prefix: bytes, counter: int, is_last: bool) -> bytes:
    return prefix + counter.to_bytes(4, "big") + (b"\x01" if is_last else b"\x00")


def as_chunks(src: BinaryIO | Iterable[bytes], read_size: int) -> Iterator[bytes]:
    """The chunks of an iterable of bytes, or of a binary file read ``read_size`` bytes at a time."""
    if hasattr(src, "read"):
        return iter(lambda: src.read(read_size), b"")
    return iter(src)


def _read_exactly(pieces: Iterator[bytes], size: int) -> tuple[bytes, bytes]:
    """The first ``size`` bytes (fewer at the end of input) and whatever of the last chunk came after them."""
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        if len(buffer) >= size:
            break
    return bytes(buffer[:size]), bytes(buffer[size:])


def _segments(pieces: Iterable[bytes], size: int, pending: bytes = b"") -> Iterator[tuple[bytes, bool]]:
    """Cut the input into ``(segment, is_last)`` of ``size`` bytes; the last one has 0 to ``size`` bytes.

    A full segment is only released once a byte after it has arrived (or the input ended), since only
    then is it known whether it is the last one. Whole segments inside a piece are handed out as views of
    that piece without copying; the consumer must use each before asking for the next. A whole segment at the
    end of an immutable piece (``bytes``, so safe to hold) waits as a view for the next piece; only segments
    that straddle pieces, or end a mutable piece the source may reuse, are copied.
    """
    buffer = bytearray()  # an incomplete segment, or a full one not yet known to be the last
    held: memoryview | None = None  # a full segment at the end of an immutable piece, not yet known to be last
    for piece in itertools.chain((pending,), pieces):
        view = memoryview(piece).cast("B")
        if not len(view):
            continue
        if held is not None:
            yield held, False
            held = None
        start = 0
        if buffer:
            start = min(size - len(buffer), len(view))
            buffer += view[:start]
            if len(buffer) == size and start < len(view):
                yield bytes(buffer), False
                buffer.clear()
        while len(view) - start > size:
            yield view[start:start + size], False
            start += size
        if not buffer and len(view) - start == size and _immutable(piece):
            held = view[start:]
        else:
            buffer += view[start:]
    if held is not None:
        yield held, True
    else:
        yield bytes(buffer), True


def _immutable(piece: object) -> bool:
    """Whether a chunk's bytes can never change under a view of them: ``bytes``, or a view of ``bytes``."""
    return isinstance(piece, bytes) or (isinstance(piece, memoryview) and isinstance(piece.obj, bytes))


def _read_header(fh: BinaryIO) -> bytes:
    header = bytearray(HEADER_SIZE)
    return bytes(header[:_fill(fh, memoryview(header))])


def _file_segments(fh: BinaryIO, size: int) -> Iterator[tuple[memoryview, bool]]:
    """``(segment, is_last)`` read from a file into two reused buffers: while one segment is being used, the
    next is read to learn whether the first was the last. Each view is valid until the next is asked for."""
    buffers = (memoryview(bytearray(size)), memoryview(bytearray(size)))
    current = 0
    filled = _fill(fh, buffers[current])
    while True:
        following = _fill(fh, buffers[1 - current]) if filled == size else 0
        yield buffers[current][:filled], following == 0
        if following == 0:
            return
        current, filled = 1 - current, following


def _fill(fh: BinaryIO, buffer: memoryview) -> int:
    """Read into ``buffer`` until it is full or the file ends; return how many bytes were read."""
    filled = 0
    while filled < len(buffer):
        count = fh.readinto(buffer[filled:])
        if not count:
            break
        filled += count
    return filled
