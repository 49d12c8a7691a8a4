"""The STREAM construction: round trips, bounded memory, and every kind of tampering refused."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portal.materials import stream
from portal.materials.stream import HEADER_SIZE, SEGMENT_SIZE, TAG_SIZE, TamperedError

pytestmark = pytest.mark.no_db

SIZES = [0, 1, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 3 * SEGMENT_SIZE + 17]
SMALL = 64  # a small segment size, so tamper tests can address every byte


def encrypt(data: bytes, dek: bytes, segment_size: int = SEGMENT_SIZE) -> bytes:
    return b"".join(stream.encrypt_stream([data], dek, segment_size=segment_size))


def decrypt(ciphertext: bytes, dek: bytes) -> bytes:
    return b"".join(stream.decrypt_stream([ciphertext], dek))


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def split(ciphertext: bytes, segment_size: int) -> tuple[bytes, list[bytes]]:
    """The header and the ciphertext segments of a stream."""
    body = ciphertext[HEADER_SIZE:]
    size = segment_size + TAG_SIZE
    return ciphertext[:HEADER_SIZE], [body[i:i + size] for i in range(0, len(body), size)]


@pytest.fixture
def dek() -> bytes:
    return stream.new_data_key()


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_keeps_every_byte(size: int, dek: bytes) -> None:
    data = os.urandom(size)
    ciphertext = encrypt(data, dek)
    assert len(ciphertext) == stream.ciphertext_size(size)
    assert decrypt(ciphertext, dek) == data


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("chunk", [1000, 65_537, 10**6])
def test_round_trip_does_not_depend_on_how_input_is_cut(size: int, chunk: int, dek: bytes) -> None:
    data = os.urandom(size)
    ciphertext = b"".join(stream.encrypt_stream(pieces(data, chunk), dek))
    assert b"".join(stream.decrypt_stream(pieces(ciphertext, chunk), dek)) == data


@pytest.mark.parametrize("size", SIZES)
def test_decrypts_from_a_binary_file(size: int, dek: bytes) -> None:
    data = os.urandom(size)
    assert b"".join(stream.decrypt_stream(io.BytesIO(encrypt(data, dek)), dek)) == data


def test_pieces_read_from_a_file_can_be_kept(dek: bytes) -> None:
    """The file path reads into two reused buffers; what it yields must still be the caller's to keep."""
    data = os.urandom(5 * SMALL + 3)
    kept = list(stream.decrypt_stream(io.BytesIO(encrypt(data, dek, SMALL)), dek))
    assert len(kept) == 6 and b"".join(kept) == data


def test_a_reused_output_buffer_gives_the_same_stream(dek: bytes) -> None:
    data = os.urandom(3 * SMALL + 17)
    written = io.BytesIO()
    for chunk in stream.encrypt_stream(pieces(data, SMALL), dek, segment_size=SMALL, reuse_buffer=True):
        written.write(chunk)  # used at once, as Storage.put does
    assert decrypt(written.getvalue(), dek) == data


def test_encrypts_from_a_binary_file(dek: bytes) -> None:
    data = os.urandom(2 * SEGMENT_SIZE + 5)
    assert decrypt(b"".join(stream.encrypt_stream(io.BytesIO(data), dek)), dek) == data


def test_decrypts_input_cut_one_byte_at_a_time(dek: bytes) -> None:
    data = os.urandom(3 * SMALL + 17)
    ciphertext = encrypt(data, dek, SMALL)
    assert b"".join(stream.decrypt_stream(pieces(ciphertext, 1), dek)) == data


def test_an_empty_file_is_one_empty_last_segment(dek: bytes) -> None:
    ciphertext = encrypt(b"", dek)
    assert len(ciphertext) == HEADER_SIZE + TAG_SIZE
    assert decrypt(ciphertext, dek) == b""


def test_header_and_nonces_follow_the_documented_layout(dek: bytes) -> None:
    data = os.urandom(SMALL + 3)
    ciphertext = encrypt(data, dek, SMALL)
    header, (first, last) = split(ciphertext, SMALL)
    assert header[0] == stream.VERSION
    assert int.from_bytes(header[1:5], "big") == SMALL
    prefix = header[5:12]
    aead = AESGCM(dek)
    assert aead.decrypt(prefix + (0).to_bytes(4, "big") + b"\x00", first, header) == data[:SMALL]
    assert aead.decrypt(prefix + (1).to_bytes(4, "big") + b"\x01", last, header) == data[SMALL:]


def test_every_file_gets_a_fresh_nonce_prefix(dek: bytes) -> None:
    prefixes = {encrypt(b"same", dek)[5:12] for _ in range(20)}
    assert len(prefixes) == 20


def test_memory_stays_bounded_for_a_50_mib_file(dek: bytes) -> None:
    total = 50 * 1024 * 1024
    source_hash, plain_hash = hashlib.sha256(), hashlib.sha256()

    def source() -> Iterator[bytes]:
        block = 100_003  # not a multiple of the segment size: the encryptor has to re-cut
        for start in range(0, total, block):
            chunk = os.urandom(min(block, total - start))
            source_hash.update(chunk)
            yield chunk

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        size = 0
        for piece in stream.decrypt_stream(stream.encrypt_stream(source(), dek), dek):
            size += len(piece)
            plain_hash.update(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size == total
    assert plain_hash.digest() == source_hash.digest()
    assert peak < 8 * SEGMENT_SIZE, f"peak {peak / 2**20:.1f} MiB"  # a few segments, not the 50 MiB


# -- tampering ------------------------------------------------------------------------------------------

@pytest.fixture
def sample(dek: bytes) -> tuple[bytes, bytes]:
    """Plaintext of 3 segments and 17 bytes (small segments), and its ciphertext."""
    data = os.urandom(3 * SMALL + 17)
    return data, encrypt(data, dek, SMALL)


def refused(ciphertext: bytes, dek: bytes, expected_header: bytes | None = None) -> bool:
    """Whether decryption refuses ``ciphertext``, read as one chunk, as 7-byte chunks and from a binary file
    (``readinto``: the local backend's path); the three must agree."""
    sources = {"one chunk": lambda: [ciphertext], "7-byte chunks": lambda: pieces(ciphertext, 7),
               "file": lambda: io.BytesIO(ciphertext)}
    outcomes = {}
    for name, source in sources.items():
        try:
            b"".join(stream.decrypt_stream(source(), dek, expected_header=expected_header))
        except TamperedError:
            outcomes[name] = True
        else:
            outcomes[name] = False
    assert len(set(outcomes.values())) == 1, outcomes
    return outcomes["file"]


@pytest.mark.parametrize("dropped", [1, 2, 3, 4])
def test_dropping_final_segments_is_refused(sample: tuple[bytes, bytes], dek: bytes, dropped: int) -> None:
    header, segments = split(sample[1], SMALL)
    assert refused(header + b"".join(segments[:-dropped]), dek)


@pytest.mark.parametrize("cut", [1, 16, 17, SMALL + TAG_SIZE])
def test_cutting_bytes_off_the_end_is_refused(sample: tuple[bytes, bytes], dek: bytes, cut: int) -> None:
    assert refused(sample[1][:-cut], dek)


@pytest.mark.parametrize("length", [0, 1, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + TAG_SIZE - 1])
def test_a_file_cut_inside_its_header_or_first_tag_is_refused(sample: tuple[bytes, bytes], dek: bytes,
                                                               length: int) -> None:
    assert refused(sample[1][:length], dek)


def test_appending_is_refused(sample: tuple[bytes, bytes], dek: bytes) -> None:
    _, segments = split(sample[1], SMALL)
    assert refused(sample[1] + b"\x00", dek)
    assert refused(sample[1] + segments[0], dek)


@pytest.mark.parametrize(("i", "j"), [(0, 1), (1, 2), (0, 2), (2, 3)])
def test_reordering_segments_is_refused(sample: tuple[bytes, bytes], dek: bytes, i: int, j: int) -> None:
    header, segments = split(sample[1], SMALL)
    segments[i], segments[j] = segments[j], segments[i]
    assert refused(header + b"".join(segments), dek)


def test_duplicating_a_segment_is_refused(sample: tuple[bytes, bytes], dek: bytes) -> None:
    header, segments = split(sample[1], SMALL)
    assert refused(header + b"".join([segments[0], segments[0], *segments[2:]]), dek)


def test_splicing_segments_from_another_file_under_another_key_is_refused(sample: tuple[bytes, bytes],
                                                                           dek: bytes) -> None:
    other_dek = stream.new_data_key()
    _, other = split(encrypt(sample[0], other_dek, SMALL), SMALL)
    header, segments = split(sample[1], SMALL)
    segments[1] = other[1]
    assert refused(header + b"".join(segments), dek)


def test_splicing_across_files_under_the_same_key_is_refused(sample: tuple[bytes, bytes], dek: bytes) -> None:
    """Even if two files shared a data key (they never do), their nonce prefixes and headers differ."""
    other_header, other = split(encrypt(sample[0], dek, SMALL), SMALL)
    header, segments = split(sample[1], SMALL)
    assert refused(header + b"".join([segments[0], other[1], *segments[2:]]), dek)
    assert refused(other_header + b"".join(segments), dek)


def test_flipping_any_single_bit_is_refused(sample: tuple[bytes, bytes], dek: bytes) -> None:
    ciphertext = sample[1]
    accepted = []
    for position in range(len(ciphertext)):
        for bit in (0x01, 0x80):
            altered = bytearray(ciphertext)
            altered[position] ^= bit
            if not refused(bytes(altered), dek):
                accepted.append((position, bit))
    assert accepted == []


def test_another_key_is_refused(sample: tuple[bytes, bytes]) -> None:
    assert refused(sample[1], stream.new_data_key())


def test_swapping_the_bodies_of_two_files_is_refused() -> None:
    """Two files, each under its own data key, as stored: each body read with the other's key."""
    data_one, data_two = os.urandom(3 * SMALL + 17), os.urandom(3 * SMALL + 17)
    dek_one, dek_two = stream.new_data_key(), stream.new_data_key()
    body_one, body_two = encrypt(data_one, dek_one, SMALL), encrypt(data_two, dek_two, SMALL)
    assert not refused(body_one, dek_one, body_one[:HEADER_SIZE])
    assert refused(body_two, dek_one, body_one[:HEADER_SIZE])
    assert refused(body_one, dek_two, body_two[:HEADER_SIZE])
    assert refused(body_two, dek_one)  # without the recorded header too: the tags alone refuse it


def test_the_recorded_header_refuses_a_swap_even_under_one_key(dek: bytes) -> None:
    """Were a data key ever shared, a whole body (header included) would verify under it; the recorded
    header still tells the two files apart."""
    body_one, body_two = encrypt(b"first file", dek, SMALL), encrypt(b"other file", dek, SMALL)
    assert not refused(body_two, dek)
    assert refused(body_two, dek, expected_header=body_one[:HEADER_SIZE])
    with pytest.raises(TamperedError, match="header differs"):
        list(stream.decrypt_stream(io.BytesIO(body_two), dek, expected_header=body_one[:HEADER_SIZE]))


def _stream_with_flags(data: bytes, dek: bytes, flags: list[int]) -> bytes:
    """A stream built by hand with the given last-segment flags (one per segment of SMALL bytes)."""
    header = stream._HEADER.pack(stream.VERSION, SMALL, os.urandom(stream.PREFIX_SIZE))
    aead, prefix = AESGCM(dek), header[-stream.PREFIX_SIZE:]
    parts = [header]
    for counter, flag in enumerate(flags):
        nonce = prefix + counter.to_bytes(4, "big") + bytes([flag])
        parts.append(aead.encrypt(nonce, data[counter * SMALL:(counter + 1) * SMALL], header))
    return b"".join(parts)


def test_a_stream_without_a_last_segment_flag_is_refused(dek: bytes) -> None:
    data = os.urandom(3 * SMALL + 17)
    assert decrypt(_stream_with_flags(data, dek, [0, 0, 0, 1]), dek) == data  # the builder is right
    assert refused(_stream_with_flags(data, dek, [0, 0, 0, 0]), dek)


def test_a_last_segment_flag_in_the_middle_is_refused(dek: bytes) -> None:
    data = os.urandom(3 * SMALL + 17)
    assert refused(_stream_with_flags(data, dek, [0, 1, 0, 1]), dek)


def test_no_plaintext_is_released_from_a_segment_that_does_not_verify(sample: tuple[bytes, bytes],
                                                                      dek: bytes) -> None:
    data, ciphertext = sample
    altered = bytearray(ciphertext)
    altered[HEADER_SIZE + (SMALL + TAG_SIZE) + 5] ^= 1  # inside the second segment
    for source in ([bytes(altered)], io.BytesIO(bytes(altered))):
        released = []
        with pytest.raises(TamperedError):
            for piece in stream.decrypt_stream(source, dek):
                released.append(bytes(piece))
        assert released == [data[:SMALL]]


def test_a_data_key_must_have_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        list(stream.encrypt_stream([b"x"], b"k" * 16))


@pytest.mark.parametrize("size", [0, 15, stream.MAX_SEGMENT_SIZE + 1])
def test_segment_sizes_out_of_range_are_refused(dek: bytes, size: int) -> None:
    with pytest.raises(ValueError, match="segment size"):
        list(stream.encrypt_stream([b"x"], dek, segment_size=size))
