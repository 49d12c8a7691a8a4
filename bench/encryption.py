"""What encrypting uploaded files costs: STREAM AES-256-GCM next to plain SHA-256, and on local storage.

    python bench/encryption.py [--mib 256] [--runs 5] [--chunk-kib 1024] [--storage-mib 64] [--dir DIR]

1. Encrypts and decrypts MIB MiB of random bytes held in memory through ``portal.materials.stream``
   (64 KiB segments), discarding the output, and hashes the same bytes with SHA-256 in the same run as a
   baseline; prints the median MB/s (10⁶ bytes per second) of RUNS runs and the ratio to SHA-256.
2. Puts and reads back a STORAGE-MIB MiB body on ``LocalStorage`` (in DIR, default the system temp dir;
   each put ends with fsync): as is, through the STREAM functions only, and through ``EncryptedStore``
   (which also counts and SHA-256-hashes the plaintext on save and on read); prints the median ms and MB/s.
Input arrives in chunks of CHUNK-KIB KiB, as from a request stream.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.backends.openssl import backend as openssl

from portal.materials import stream
from portal.materials.keys import FileKeyring
from portal.materials.storage import EncryptedStore, LocalStorage

MIB = 1024 * 1024


def chunks(data: memoryview, size: int) -> Iterator[memoryview]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def drain(pieces: Iterable[bytes]) -> int:
    """The null sink: consume everything, keep nothing."""
    total = 0
    for piece in pieces:
        total += len(piece)
    return total


def median_seconds(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def mb_per_s(size: int, seconds: float) -> float:
    return size / seconds / 1e6


def bench_stream(size_mib: int, runs: int, chunk: int) -> None:
    data = memoryview(os.urandom(size_mib * MIB))
    dek = stream.new_data_key()
    ciphertext = list(stream.encrypt_stream(chunks(data, chunk), dek))  # kept for the decryption runs
    joined = memoryview(b"".join(ciphertext))
    del ciphertext

    hashing = median_seconds(runs, lambda: hashlib.sha256(data).digest())
    encrypting = median_seconds(runs, lambda: drain(stream.encrypt_stream(chunks(data, chunk), dek)))
    decrypting = median_seconds(runs, lambda: drain(stream.decrypt_stream(chunks(joined, chunk), dek)))

    size = len(data)
    print(f"STREAM AES-256-GCM, {size_mib} MiB in memory, {stream.SEGMENT_SIZE // 1024} KiB segments, "
          f"{chunk // 1024} KiB input chunks, median of {runs}")
    baseline = mb_per_s(size, hashing)
    for label, seconds in (("encrypt", encrypting), ("decrypt", decrypting), ("sha-256 (baseline)", hashing)):
        speed = mb_per_s(size, seconds)
        print(f"  {label:<20} {speed:9.0f} MB/s   {seconds * 1000:8.1f} ms   {speed / baseline:5.2f} × sha-256")


def bench_storage(size_mib: int, runs: int, chunk: int, folder: Path) -> None:
    data = memoryview(os.urandom(size_mib * MIB))
    plain = LocalStorage(folder / "plain")
    encrypted = EncryptedStore(LocalStorage(folder / "encrypted"),
                               FileKeyring({"k1": base64.b64encode(os.urandom(32)).decode()}))

    def plain_round_trip() -> None:
        plain.put("bench", chunks(data, chunk))
        assert drain(plain.open("bench")) == len(data)
        plain.delete("bench")

    def stream_round_trip() -> None:
        dek = stream.new_data_key()
        plain.put("bench", stream.encrypt_stream(chunks(data, chunk), dek))
        assert drain(stream.decrypt_stream(plain.open("bench"), dek)) == len(data)
        plain.delete("bench")

    def encrypted_round_trip() -> None:
        meta = encrypted.save(chunks(data, chunk))
        assert drain(encrypted.read(meta)) == len(data)
        encrypted.delete(meta)

    plain_s = median_seconds(runs, plain_round_trip)
    stream_s = median_seconds(runs, stream_round_trip)
    encrypted_s = median_seconds(runs, encrypted_round_trip)
    print(f"LocalStorage put (fsync) + read of {size_mib} MiB in {folder}, median of {runs}")
    for label, seconds, note in (
        ("plain", plain_s, ""),
        ("STREAM only", stream_s, "encryption and decryption"),
        ("EncryptedStore", encrypted_s, "the same, plus counting and SHA-256 of the plaintext both ways"),
    ):
        extra = f"   {(seconds / plain_s - 1) * 100:+5.0f} % ({note})" if note else ""
        print(f"  {label:<20} {mb_per_s(len(data), seconds):9.0f} MB/s   {seconds * 1000:8.1f} ms{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chunk-kib", type=int, default=1024)
    parser.add_argument("--storage-mib", type=int, default=64)
    parser.add_argument("--dir", type=Path, default=None, help="where LocalStorage writes (default: a temp dir)")
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {openssl.openssl_version_text()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs")
    chunk = args.chunk_kib * 1024
    bench_stream(args.mib, args.runs, chunk)
    folder = Path(tempfile.mkdtemp(prefix="portal-bench-", dir=args.dir))
    try:
        bench_storage(args.storage_mib, args.runs, chunk, folder)
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
