"""What encrypting uploaded files costs on the local backend, against the same backend without encryption.

    python bench/encryption.py [--mib 200] [--runs 7] [--chunk-kib 1024] [--segment-kib 1024] [--dir DIR]

For one body of MIB MiB of random bytes, arriving in chunks of CHUNK-KIB KiB as from a request stream, in
the same run and with the runs of each pair interleaved:

1. raw AES-256-GCM: ``AESGCM.encrypt``/``decrypt`` of the body in SEGMENT-KIB pieces in memory, no STREAM
   framing and no I/O: the ceiling;
2. store: ``LocalStorage.put`` of the plain bytes (temporary file, fsync, rename, fsync of the directory)
   against ``EncryptedStore.save`` over a ``LocalStorage`` in the same directory (the same, plus a data key,
   its wrapping and STREAM encryption);
3. read: draining ``LocalStorage.open`` against draining ``EncryptedStore.read`` (decryption and checks), both
   with the file in the page cache (just written) and cold (evicted with ``posix_fadvise(DONTNEED)`` before
   each run, as for a file staff open days after it was uploaded);
4. memory: each of the four operations once more in a fresh subprocess, reporting the growth of the resident
   set's high-water mark (``VmHWM`` from /proc, reset through ``clear_refs``; ``ru_maxrss`` elsewhere) over the
   resident set before the operation, and, in another fresh subprocess, the ``tracemalloc`` peak. The input
   there is generated chunk by chunk, so the body is never whole in memory.

Prints medians of RUNS runs in MB/s (10⁶ bytes per second) and, for the acceptance line, each encrypted
throughput as a ratio to the plain one (target ≥ 0.7), with the lowest and highest ratio of a single run's pair
beside it (a wide range means a noisy machine: rerun), and each memory growth (target < 32 MiB).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.backends.openssl import backend as openssl
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portal.integrations.storage.local import LocalStorage
from portal.materials import stream
from portal.materials.keys import FileKeyring
from portal.materials.storage import EncryptedStore, StoredFile

MIB = 1024 * 1024
RATIO_TARGET = 0.7
MEMORY_TARGET = 32 * MIB


def chunks(data: memoryview, size: int) -> Iterator[memoryview]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def generated(total: int, size: int) -> Iterator[bytes]:
    """``total`` bytes in chunks of ``size``, each a fresh object made from one random block (for the memory
    runs: the body never exists whole, and every chunk is allocated as a request's would be)."""
    block = os.urandom(size)
    for start in range(0, total, size):
        yield bytes(memoryview(block)[:min(size, total - start)])  # a new object each time, as a request's


def drain(pieces: Iterable[bytes]) -> int:
    """The null sink: consume everything, keep nothing."""
    total = 0
    for piece in pieces:
        total += len(piece)
    return total


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


SPREAD: dict[str, tuple[float, float]] = {}  # label -> (lowest, highest) ratio of one run's pair


def interleaved(runs: int, plain: Callable[[], object], encrypted: Callable[[], object],
                before: Callable[[], object] = lambda: None, label: str = "") -> tuple[float, float]:
    """Median seconds of ``plain`` and of ``encrypted``, run alternately and in alternating order (ABBA), so
    drift (other load, the disk's write-back) hits both alike; ``before`` runs untimed before each. The range of
    the ratios of each run's pair goes to SPREAD[label], to show how noisy the machine was."""
    times: dict[str, list[float]] = {"plain": [], "encrypted": []}
    for run in range(runs):
        pair = [("plain", plain), ("encrypted", encrypted)]
        for name, work in pair if run % 2 == 0 else pair[::-1]:
            before()
            times[name].append(timed(work))
    ratios = [p / e for p, e in zip(times["plain"], times["encrypted"], strict=True)]
    SPREAD[label] = (min(ratios), max(ratios))
    return statistics.median(times["plain"]), statistics.median(times["encrypted"])


def mb_s(size: int, seconds: float) -> float:
    return size / seconds / 1e6


def keyring() -> FileKeyring:
    return FileKeyring({"k1": base64.b64encode(os.urandom(32)).decode()})


def evict(path: Path) -> None:
    """Drop a (synced, so clean) file's pages from the page cache, so the next read comes from the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


# -- 1. raw AES-GCM -----------------------------------------------------------------------------------------

def bench_raw(data: memoryview, runs: int, segment: int) -> tuple[float, float]:
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    nonce = os.urandom(12)
    sealed = [aead.encrypt(nonce, piece, None) for piece in chunks(data, segment)]

    def encrypt() -> None:
        for piece in chunks(data, segment):
            aead.encrypt(nonce, piece, None)

    def decrypt() -> None:
        for piece in sealed:
            aead.decrypt(nonce, piece, None)

    encrypt_s, decrypt_s = interleaved(runs, encrypt, decrypt)
    return mb_s(len(data), encrypt_s), mb_s(len(data), decrypt_s)


# -- 2 and 3. store and read on the local backend -----------------------------------------------------------

def bench_local(data: memoryview, runs: int, chunk: int, segment: int, folder: Path) -> dict[str, tuple[float, float]]:
    """``{operation: (plain MB/s, encrypted MB/s)}`` for store, warm read and cold read."""
    local = LocalStorage(folder)
    encrypted = EncryptedStore(local, keyring(), segment_size=segment)
    size = len(data)

    def store_plain() -> None:
        local.put("stored-plain", chunks(data, chunk))

    def store_encrypted() -> None:
        encrypted.save(chunks(data, chunk))

    def clear() -> None:  # untimed: both stores write a new file, neither replaces or deletes one
        for key in list(local.list_keys()):
            local.delete(key)

    store = interleaved(runs, store_plain, store_encrypted, before=clear, label="store")
    clear()
    local.put("plain", chunks(data, chunk))
    meta = encrypted.save(chunks(data, chunk))
    plain_path, encrypted_path = folder / "plain", folder / meta.storage_key

    def read_plain() -> None:
        assert drain(local.open("plain")) == size

    def read_encrypted() -> None:
        assert drain(encrypted.read(meta)) == size

    warm = interleaved(runs, read_plain, read_encrypted, label="read, page cache")
    cold = interleaved(runs, read_plain, read_encrypted, before=lambda: (evict(plain_path), evict(encrypted_path)),
                       label="read, cold")
    return {"store": (mb_s(size, store[0]), mb_s(size, store[1])),
            "read, page cache": (mb_s(size, warm[0]), mb_s(size, warm[1])),
            "read, cold": (mb_s(size, cold[0]), mb_s(size, cold[1]))}


# -- 4. memory, in fresh subprocesses -----------------------------------------------------------------------

def memory_child(spec: dict) -> None:
    """Run one operation as told by the parent; print its memory growth as JSON."""
    folder, size, chunk = Path(spec["dir"]), spec["size"], spec["chunk"]
    local = LocalStorage(folder)
    encrypted = EncryptedStore(local, FileKeyring(spec["keys"]), segment_size=spec["segment"])
    meta = StoredFile(spec["key"], "k1", base64.b64decode(spec["wrapped"]), size, 0, bytes.fromhex(spec["header"]))
    operations = {
        "store plain": lambda: local.put("memory-plain", generated(size, chunk)),
        "store encrypted": lambda: encrypted.save(generated(size, chunk)),
        "read plain": lambda: drain(local.open("plain")),
        "read encrypted": lambda: drain(encrypted.read(meta)),
    }
    work = operations[spec["operation"]]
    if spec["trace"]:
        tracemalloc.start()
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        work()
        growth = tracemalloc.get_traced_memory()[1] - before
    else:
        before = _reset_high_water()
        work()
        growth = _high_water() - before
    print(json.dumps({"growth": growth}))


def _reset_high_water() -> int:
    """The resident set now, after resetting the high-water mark to it where Linux allows."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # a high-water mark that cannot reset
    return _status("VmRSS")


def _high_water() -> int:
    try:
        return _status("VmHWM")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise OSError(f"no {field} in /proc/self/status")


def bench_memory(size: int, chunk: int, segment: int, folder: Path) -> dict[str, tuple[int, int]]:
    """``{operation: (resident high-water growth, tracemalloc peak)}`` in bytes, each from a fresh process."""
    keys = {"k1": base64.b64encode(os.urandom(32)).decode()}
    local = LocalStorage(folder)
    local.put("plain", generated(size, chunk))
    meta = EncryptedStore(local, FileKeyring(keys), segment_size=segment).save(generated(size, chunk))
    spec = {"dir": str(folder), "size": size, "chunk": chunk, "segment": segment, "keys": keys,
            "key": meta.storage_key, "wrapped": base64.b64encode(meta.wrapped_dek).decode(),
            "header": meta.stream_header.hex()}
    results = {}
    for operation in ("store plain", "store encrypted", "read plain", "read encrypted"):
        measured = []
        for trace in (False, True):
            output = subprocess.run([sys.executable, __file__, "--memory-child"], check=True, capture_output=True,
                                    text=True, input=json.dumps({**spec, "operation": operation, "trace": trace}))
            measured.append(json.loads(output.stdout)["growth"])
        results[operation] = (measured[0], measured[1])
    return results


# -- report -------------------------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--chunk-kib", type=int, default=1024)
    parser.add_argument("--segment-kib", type=int, default=stream.SEGMENT_SIZE // 1024)
    parser.add_argument("--dir", type=Path, default=None, help="where LocalStorage writes (default: a temp dir)")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(json.loads(sys.stdin.read()))
        return
    chunk, segment, size = args.chunk_kib * 1024, args.segment_kib * 1024, args.mib * MIB
    folder = Path(tempfile.mkdtemp(prefix="portal-bench-", dir=args.dir))
    print(f"python {platform.python_version()}, {openssl.openssl_version_text()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs; {args.mib} MiB body in {args.chunk_kib} KiB chunks, "
          f"{args.segment_kib} KiB segments, LocalStorage in {folder}; medians of {args.runs} runs")
    try:
        data = memoryview(os.urandom(size))
        encrypt, decrypt = bench_raw(data, args.runs, segment)
        print(f"\nraw AES-256-GCM in memory: encrypt {encrypt:6.0f} MB/s, decrypt {decrypt:6.0f} MB/s")
        print(f"\n{'local backend':<18} {'plain':>10} {'encrypted':>10} {'ratio':>7} {'(runs)':>11}   "
              f"target ≥ {RATIO_TARGET}")
        for label, (plain, encrypted) in bench_local(data, args.runs, chunk, segment, folder / "time").items():
            ratio = encrypted / plain
            low, high = SPREAD[label]
            ok = verdict(ratio >= RATIO_TARGET)
            print(f"{label:<18} {plain:6.0f} MB/s {encrypted:5.0f} MB/s {ratio:7.2f} ({low:4.2f}-{high:4.2f})   {ok}")
        del data
        print(f"\n{'memory growth':<18} {'RSS high-water':>15} {'tracemalloc peak':>17}   target < "
              f"{MEMORY_TARGET // MIB} MiB")
        for label, (rss, traced) in bench_memory(size, chunk, segment, folder / "memory").items():
            ok = max(rss, traced) < MEMORY_TARGET
            print(f"{label:<18} {rss / MIB:11.1f} MiB {traced / MIB:13.1f} MiB   {verdict(ok)}")
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
