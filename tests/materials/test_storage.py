"""File keys, storage backends (a local directory and a real S3-speaking server) and the encrypted store."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask

from portal.config import ConfigError, build_config
from portal.integrations import storage
from portal.integrations.storage import ObjectNotFound, Storage
from portal.integrations.storage import local as local_adapter
from portal.integrations.storage.local import LocalStorage
from portal.integrations.storage.s3 import S3_MIN_PART_SIZE, S3Storage
from portal.materials import commands, stream
from portal.materials import storage as materials_storage
from portal.materials.keys import FileKeyError, FileKeyring, key_number, keyring_from_config
from portal.materials.storage import EncryptedStore, StoredFile
from portal.materials.stream import SEGMENT_SIZE, TamperedError
from tests.integrations.s3_server import running_s3

pytestmark = pytest.mark.no_db

MIB = 1024 * 1024
MARKER = "MARKER-身份证-3405241980".encode()
SIZES = [0, 1, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 3 * SEGMENT_SIZE + 17]


def b64key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def pieces(data: bytes, size: int = 100_003) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def failing_after(data: bytes, limit: int) -> Iterator[bytes]:
    """The chunks of ``data`` up to about ``limit`` bytes, then an error (a client that went away)."""
    sent = 0
    for piece in pieces(data, 64 * 1024):
        if sent >= limit:
            raise ConnectionError("client went away")
        sent += len(piece)
        yield piece


def marked_body(size: int) -> bytes:
    """Random bytes with the marker at the start, across a segment boundary, and at the end."""
    body = bytearray(os.urandom(size))
    for offset in (0, SEGMENT_SIZE - 10, size // 2, size - len(MARKER)):
        body[offset:offset + len(MARKER)] = MARKER
    return bytes(body)


@pytest.fixture
def k1() -> dict[str, str]:
    return {"k1": b64key()}


@pytest.fixture
def keyring(k1: dict[str, str]) -> FileKeyring:
    return FileKeyring(k1)


@pytest.fixture
def local(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "files")


@pytest.fixture
def store(local: LocalStorage, keyring: FileKeyring) -> EncryptedStore:
    return EncryptedStore(local, keyring)


# -- file keys ------------------------------------------------------------------------------------------

def test_the_newest_key_is_the_highest_number_not_the_last_in_text_order() -> None:
    keyring = FileKeyring({"k9": b64key(), "k10": b64key(), "k2": b64key()})
    assert keyring.current_id == "k10"
    assert keyring.key_ids == ["k2", "k9", "k10"]
    assert keyring.wrap(stream.new_data_key())[0] == "k10"


@pytest.mark.parametrize("kid", ["k0", "k01", "K1", "f1", "k", "k1a", "1", ""])
def test_key_ids_other_than_k_n_refuse_to_load(kid: str) -> None:
    with pytest.raises(FileKeyError, match="k<n>"):
        FileKeyring({kid: b64key()})


@pytest.mark.parametrize("value", [base64.b64encode(b"x" * 16).decode(), "not base64!", "", "密钥"])
def test_keys_that_are_not_32_bytes_of_base64_refuse_to_load(value: str) -> None:
    with pytest.raises(FileKeyError, match="k1"):
        FileKeyring({"k1": value})


def test_no_file_key_refuses_to_load() -> None:
    with pytest.raises(FileKeyError, match="no file key"):
        FileKeyring({})


def test_key_number_orders_numerically() -> None:
    assert sorted(["k10", "k9", "k1"], key=key_number) == ["k1", "k9", "k10"]


def test_wrap_and_unwrap_use_aes_key_wrap(keyring: FileKeyring) -> None:
    dek = stream.new_data_key()
    kid, wrapped = keyring.wrap(dek)
    assert (kid, len(wrapped)) == ("k1", 40)  # RFC 3394: the key plus 8 bytes
    assert keyring.unwrap(kid, wrapped) == dek


def test_an_altered_wrapped_key_or_an_unknown_id_does_not_unwrap(keyring: FileKeyring) -> None:
    kid, wrapped = keyring.wrap(stream.new_data_key())
    with pytest.raises(FileKeyError, match="does not unwrap"):
        keyring.unwrap(kid, bytes([wrapped[0] ^ 1]) + wrapped[1:])
    with pytest.raises(FileKeyError, match="not loaded"):
        keyring.unwrap("k7", wrapped)


def test_the_app_config_supplies_the_file_keys(tmp_path: Path) -> None:
    config = build_config({"ENV": "testing", "INSTANCE_PATH": str(tmp_path)})
    keyring = keyring_from_config(SimpleNamespace(config=config))
    assert keyring.key_ids == ["k1"]


# -- local storage --------------------------------------------------------------------------------------

def test_local_storage_round_trip(local: LocalStorage) -> None:
    data = os.urandom(3 * MIB + 5)
    assert local.put("abc", pieces(data)) == len(data)
    assert b"".join(local.open("abc")) == data
    assert local.exists("abc") and not local.exists("abd")
    assert sorted(local.list_keys()) == ["abc"]
    local.delete("abc")
    local.delete("abc")  # deleting what is gone is not an error
    assert not local.exists("abc")
    assert list(local.list_keys()) == []


def test_local_storage_is_private(local: LocalStorage) -> None:
    local.put("abc", [b"x"])
    assert stat.S_IMODE(local.root.stat().st_mode) == 0o700
    assert stat.S_IMODE((local.root / "abc").stat().st_mode) == 0o600


def test_list_keys_filters_by_prefix(local: LocalStorage) -> None:
    for key in ("aa1", "aa2", "ab1"):
        local.put(key, [b"x"])
    assert sorted(local.list_keys("aa")) == ["aa1", "aa2"]


def test_opening_a_missing_key_raises_object_not_found(local: LocalStorage) -> None:
    with pytest.raises(ObjectNotFound):
        list(local.open("missing"))


@pytest.mark.parametrize("key", ["", "../etc", "a/b", ".tmp-x", "a.b", "x" * 129, "身份证"])
def test_keys_that_could_name_another_path_are_refused(local: LocalStorage, key: str) -> None:
    with pytest.raises(ValueError, match="storage key"):
        local.put(key, [b"x"])
    with pytest.raises(ValueError, match="storage key"):
        list(local.open(key))


def test_a_put_failing_midway_leaves_nothing_under_the_root(local: LocalStorage) -> None:
    with pytest.raises(ConnectionError):
        local.put("abc", failing_after(os.urandom(MIB), 500_000))
    assert list(local.root.iterdir()) == []


def test_a_put_failing_at_the_rename_leaves_nothing(local: LocalStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(local_adapter.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk gone"):
        local.put("abc", [b"x" * 1000])
    assert list(local.root.iterdir()) == []


def test_a_failed_put_keeps_the_previous_object_whole(local: LocalStorage) -> None:
    local.put("abc", [b"old body"])
    with pytest.raises(ConnectionError):
        local.put("abc", failing_after(os.urandom(MIB), 200_000))
    assert b"".join(local.open("abc")) == b"old body"
    assert [p.name for p in local.root.iterdir()] == ["abc"]


def test_sweep_removes_temporary_files_left_by_a_crash(local: LocalStorage) -> None:
    stale, fresh = local.root / ".tmp-stale", local.root / ".tmp-fresh"
    stale.write_bytes(b"ciphertext")
    fresh.write_bytes(b"ciphertext")
    day_ago = datetime.now(UTC) - timedelta(days=1, minutes=1)
    os.utime(stale, (day_ago.timestamp(), day_ago.timestamp()))
    local.put("abc", [b"x"])
    assert sorted(local.list_keys()) == ["abc"]  # temporary files are never listed
    assert local.sweep_incomplete(datetime.now(UTC) - timedelta(days=1)) == 1
    assert sorted(p.name for p in local.root.iterdir()) == [".tmp-fresh", "abc"]


def test_local_storage_satisfies_the_interface(local: LocalStorage) -> None:
    assert isinstance(local, storage.Storage)


# -- configuration --------------------------------------------------------------------------------------

def _app(tmp_path: Path, **overrides: str) -> SimpleNamespace:
    config = build_config({"ENV": "testing", "INSTANCE_PATH": str(tmp_path / "instance"), **overrides})
    return SimpleNamespace(config=config, instance_path=config["PORTAL_INSTANCE_PATH"])


def test_local_storage_is_the_default_under_the_instance_folder(tmp_path: Path) -> None:
    backend = storage.storage_from_config(_app(tmp_path))
    assert isinstance(backend, LocalStorage)
    assert backend.root == tmp_path / "instance" / "files"
    assert stat.S_IMODE(backend.root.stat().st_mode) == 0o700


def test_storage_dir_setting_moves_local_storage(tmp_path: Path) -> None:
    backend = storage.storage_from_config(_app(tmp_path, STORAGE_DIR=str(tmp_path / "elsewhere")))
    assert backend.root == tmp_path / "elsewhere"


def test_s3_settings_come_from_portal_environment_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"STORAGE_BACKEND": "s3", "S3_BUCKET": "portal-files", "S3_PREFIX": "jilin/",
                        "S3_ENDPOINT_URL": "http://127.0.0.1:9", "S3_REGION": "cn-north-1",
                        "S3_ACCESS_KEY": "AK", "S3_SECRET_KEY": "SK"}.items():
        monkeypatch.setenv(f"PORTAL_{name}", value)
    backend = storage.storage_from_config(_app(tmp_path))
    assert isinstance(backend, S3Storage)
    assert (backend.bucket, backend.prefix) == ("portal-files", "jilin/")
    assert backend.client.meta.endpoint_url == "http://127.0.0.1:9"
    assert backend.client.meta.region_name == "cn-north-1"
    backend.client.close()


def test_s3_without_a_bucket_or_an_unknown_backend_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PORTAL_S3_BUCKET"):
        storage.storage_from_config(_app(tmp_path, STORAGE_BACKEND="s3"))
    with pytest.raises(ConfigError, match="local or s3"):
        storage.storage_from_config(_app(tmp_path, STORAGE_BACKEND="ftp"))


def test_the_encrypted_store_of_an_app(tmp_path: Path) -> None:
    encrypted = materials_storage.encrypted_store_from_config(_app(tmp_path))
    meta = encrypted.save([b"hello"])
    assert b"".join(encrypted.read(meta)) == b"hello"


# -- the encrypted store --------------------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES)
def test_encrypted_store_round_trip(store: EncryptedStore, size: int) -> None:
    data = os.urandom(size)
    meta = store.save(pieces(data))
    assert meta.size_plain == size
    assert meta.size_stored == stream.ciphertext_size(size) == (store.storage.root / meta.storage_key).stat().st_size
    assert meta.stream_header == (store.storage.root / meta.storage_key).read_bytes()[:stream.HEADER_SIZE]
    assert meta.kid == "k1"
    assert b"".join(store.read(meta)) == data


def test_storage_keys_are_random_and_say_nothing(store: EncryptedStore) -> None:
    keys = {store.save([b"same"]).storage_key for _ in range(10)}
    assert len(keys) == 10
    assert all(len(key) == 32 and int(key, 16) >= 0 for key in keys)


def test_each_file_has_its_own_data_key(store: EncryptedStore) -> None:
    one, two = store.save([b"same"]), store.save([b"same"])
    assert store.keyring.unwrap(one.kid, one.wrapped_dek) != store.keyring.unwrap(two.kid, two.wrapped_dek)


def test_a_new_key_wraps_new_files_and_old_files_still_open(local: LocalStorage, k1: dict[str, str]) -> None:
    old = EncryptedStore(local, FileKeyring(k1)).save([b"old file"])
    both = EncryptedStore(local, FileKeyring({**k1, "k2": b64key()}))
    new = both.save([b"new file"])
    assert (old.kid, new.kid) == ("k1", "k2")
    assert b"".join(both.read(old)) == b"old file"
    assert b"".join(both.read(new)) == b"new file"


def test_rewrap_moves_a_file_to_the_new_key_without_touching_its_body(local: LocalStorage,
                                                                       k1: dict[str, str]) -> None:
    data = os.urandom(3 * SEGMENT_SIZE + 17)
    meta = EncryptedStore(local, FileKeyring(k1)).save([data])
    body_before = (local.root / meta.storage_key).read_bytes()
    stat_before = (local.root / meta.storage_key).stat()
    k2 = {"k2": b64key()}
    kid, wrapped = EncryptedStore(local, FileKeyring({**k1, **k2})).rewrap(meta)
    assert kid == "k2" and wrapped != meta.wrapped_dek
    assert (local.root / meta.storage_key).read_bytes() == body_before
    assert (local.root / meta.storage_key).stat().st_mtime_ns == stat_before.st_mtime_ns
    moved = StoredFile(meta.storage_key, kid, wrapped, meta.size_plain, meta.size_stored, meta.stream_header)
    only_k2 = EncryptedStore(local, FileKeyring(k2))  # k1 retired
    assert b"".join(only_k2.read(moved)) == data
    with pytest.raises(FileKeyError, match="not loaded"):
        only_k2.read(meta)


def test_a_row_pointing_at_another_files_body_does_not_read(store: EncryptedStore) -> None:
    one, two = store.save([b"first file"]), store.save([b"other file"])  # the same size
    body_swapped = StoredFile(two.storage_key, one.kid, one.wrapped_dek, one.size_plain, 0, one.stream_header)
    with pytest.raises(TamperedError, match="header differs"):
        list(store.read(body_swapped))
    key_and_body_swapped = StoredFile(two.storage_key, two.kid, two.wrapped_dek, one.size_plain, 0,
                                      one.stream_header)
    with pytest.raises(TamperedError, match="not the recorded file"):
        list(store.read(key_and_body_swapped))


def test_an_altered_stored_body_does_not_read(store: EncryptedStore) -> None:
    meta = store.save([os.urandom(2 * SEGMENT_SIZE)])
    path = store.storage.root / meta.storage_key
    body = bytearray(path.read_bytes())
    body[SEGMENT_SIZE + 100] ^= 1
    path.write_bytes(bytes(body))
    with pytest.raises(TamperedError):
        list(store.read(meta))


def test_a_missing_body_raises_object_not_found(store: EncryptedStore) -> None:
    meta = store.save([b"x"])
    store.delete(meta)
    with pytest.raises(ObjectNotFound):
        list(store.read(meta))


def test_a_save_whose_source_fails_stores_nothing(store: EncryptedStore) -> None:
    with pytest.raises(ConnectionError):
        store.save(failing_after(os.urandom(MIB), 300_000))
    assert list(store.storage.root.iterdir()) == []


def _files_under(root: str) -> dict[str, tuple[int, int]]:
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            try:
                info = os.stat(path, follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                found[path] = (info.st_mtime_ns, info.st_size)
    return found


def _contains_marker(path: str) -> bool:
    """Whether the file holds the marker, read 1 MiB at a time (files in the temp dir can be large)."""
    tail = b""
    try:
        with open(path, "rb") as fh:
            while block := fh.read(MIB):
                if MARKER in tail + block:
                    return True
                tail = block[-(len(MARKER) - 1):]
    except OSError:  # unreadable (another user's) or gone meanwhile
        return False
    return False


def test_no_plaintext_reaches_the_storage_root_or_the_temp_dir(store: EncryptedStore) -> None:
    temp_before = _files_under(tempfile.gettempdir())
    bodies = [marked_body(size) for size in (len(MARKER), SEGMENT_SIZE + 100, 3 * MIB)]
    metas = [store.save(pieces(body)) for body in bodies]
    assert [b"".join(store.read(meta)) for meta in metas] == bodies  # the marker is really in the plaintext

    stored = _files_under(str(store.storage.root))
    assert len(stored) == 3
    assert [path for path in stored if _contains_marker(path)] == []
    temp_after = _files_under(tempfile.gettempdir())
    touched = [path for path, seen in temp_after.items() if temp_before.get(path) != seen]
    assert [path for path in touched if _contains_marker(path)] == []


# -- S3: a real S3-speaking server (moto's standalone server, over HTTP) --------------------------------

@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    yield from running_s3()


@pytest.fixture
def s3(s3_endpoint: str) -> Iterator[S3Storage]:
    bucket = f"portal-{uuid.uuid4().hex[:12]}"
    backend = S3Storage(bucket, endpoint_url=s3_endpoint, region="us-east-1", access_key="testing",
                        secret_key="testing", prefix="files/", part_size=S3_MIN_PART_SIZE)
    backend.client.create_bucket(Bucket=bucket)
    yield backend
    backend.client.close()


def _objects(s3: S3Storage) -> list[str]:
    listing = s3.client.list_objects_v2(Bucket=s3.bucket)
    return [item["Key"] for item in listing.get("Contents", ())]


def _uploads(s3: S3Storage) -> list[str]:
    return [u["Key"] for u in s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", ())]


def test_s3_storage_round_trip(s3: S3Storage) -> None:
    assert s3.put("abc", [b"hello ", b"world"]) == 11
    assert b"".join(s3.open("abc")) == b"hello world"
    assert s3.exists("abc") and not s3.exists("abd")
    assert list(s3.list_keys()) == ["abc"]
    assert _objects(s3) == ["files/abc"]  # under the prefix
    s3.delete("abc")
    assert not s3.exists("abc") and _objects(s3) == []
    with pytest.raises(ObjectNotFound):
        list(s3.open("abc"))


@pytest.mark.parametrize("size", SIZES)
def test_encrypted_store_round_trip_on_s3(s3: S3Storage, keyring: FileKeyring, size: int) -> None:
    encrypted = EncryptedStore(s3, keyring)
    data = os.urandom(size)
    meta = encrypted.save(pieces(data))
    head = s3.client.head_object(Bucket=s3.bucket, Key=f"files/{meta.storage_key}")
    assert head["ContentLength"] == meta.size_stored == stream.ciphertext_size(size)
    assert b"".join(encrypted.read(meta)) == data


def test_large_files_go_as_multipart_uploads(s3: S3Storage, keyring: FileKeyring) -> None:
    encrypted = EncryptedStore(s3, keyring)
    data = os.urandom(12 * MIB)
    meta = encrypted.save(pieces(data))
    head = s3.client.head_object(Bucket=s3.bucket, Key=f"files/{meta.storage_key}")
    assert head["ETag"].strip('"').endswith("-3")  # 5 + 5 + 2 MiB parts
    assert head["ContentLength"] == meta.size_stored
    assert hashlib.sha256(b"".join(encrypted.read(meta))).digest() == hashlib.sha256(data).digest()
    assert _uploads(s3) == []


def test_a_multipart_upload_failing_midway_is_aborted(s3: S3Storage, keyring: FileKeyring) -> None:
    encrypted = EncryptedStore(s3, keyring)
    with pytest.raises(ConnectionError):
        encrypted.save(failing_after(os.urandom(12 * MIB), 11 * MIB))  # after two parts went up
    assert _objects(s3) == []
    assert _uploads(s3) == []


def test_a_small_put_failing_midway_sends_nothing(s3: S3Storage) -> None:
    with pytest.raises(ConnectionError):
        s3.put("abc", failing_after(os.urandom(MIB), 300_000))
    assert _objects(s3) == []


def test_s3_sweep_aborts_stale_multipart_uploads(s3: S3Storage) -> None:
    s3.client.create_multipart_upload(Bucket=s3.bucket, Key="files/orphan")
    # moto reports every upload as initiated on 2010-11-10, so "recent" here means after that date
    assert s3.sweep_incomplete(datetime(2010, 1, 1, tzinfo=UTC)) == 0
    assert s3.sweep_incomplete(datetime.now(UTC) + timedelta(minutes=1)) == 1
    assert _uploads(s3) == []


def test_no_plaintext_reaches_the_bucket(s3: S3Storage, keyring: FileKeyring) -> None:
    encrypted = EncryptedStore(s3, keyring)
    bodies = [marked_body(size) for size in (len(MARKER), SEGMENT_SIZE + 100, 12 * MIB)]
    metas = [encrypted.save(pieces(body)) for body in bodies]
    assert [b"".join(encrypted.read(meta)) for meta in metas] == bodies
    names = _objects(s3)
    assert sorted(names) == sorted(f"files/{meta.storage_key}" for meta in metas)
    for name in names:
        assert MARKER not in s3.client.get_object(Bucket=s3.bucket, Key=name)["Body"].read(), name


def test_s3_storage_satisfies_the_interface(s3: S3Storage) -> None:
    assert isinstance(s3, storage.Storage)


# -- key rotation ---------------------------------------------------------------------------------------

@pytest.fixture
def table(store: EncryptedStore) -> dict[int, StoredFile]:
    """Stand-in for the file table: three files wrapped under k1."""
    return {n: store.save([f"file {n}".encode()]) for n in (1, 2, 3)}


def _rows(table: dict[int, StoredFile]) -> list[commands.Row]:
    return [(file_id, meta.kid, meta.wrapped_dek) for file_id, meta in table.items()]


def _saver(table: dict[int, StoredFile]):
    def save(file_id: int, kid: str, wrapped: bytes) -> None:
        old = table[file_id]
        table[file_id] = StoredFile(old.storage_key, kid, wrapped, old.size_plain, old.size_stored, old.stream_header)

    return save


def test_rotate_all_rewraps_every_file_under_the_newest_key(store: EncryptedStore, table: dict[int, StoredFile],
                                                            k1: dict[str, str]) -> None:
    k2 = {"k2": b64key()}
    bodies = {n: (store.storage.root / meta.storage_key).read_bytes() for n, meta in table.items()}
    report = commands.rotate_all(_rows(table), _saver(table), FileKeyring({**k1, **k2}))
    assert (report.rewrapped, report.already_current, report.failed) == (3, 0, [])
    assert {meta.kid for meta in table.values()} == {"k2"}
    only_k2 = EncryptedStore(store.storage, FileKeyring(k2))
    for n, meta in table.items():
        assert (store.storage.root / meta.storage_key).read_bytes() == bodies[n]
        assert b"".join(only_k2.read(meta)) == f"file {n}".encode()
    again = commands.rotate_all(_rows(table), _saver(table), FileKeyring({**k1, **k2}))
    assert (again.rewrapped, again.already_current) == (0, 3)


def test_rotate_all_reports_rows_that_do_not_unwrap_and_rotates_the_rest(table: dict[int, StoredFile],
                                                                          k1: dict[str, str]) -> None:
    rows = _rows(table)
    rows[0] = (1, "k1", b"\x00" * 40)
    rows[1] = (2, "k5", rows[1][2])
    report = commands.rotate_all(rows, _saver(table), FileKeyring({**k1, "k2": b64key()}))
    assert report.rewrapped == 1
    assert [file_id for file_id, _ in report.failed] == [1, 2]


def test_status_counts_files_per_key_and_names_missing_keys(table: dict[int, StoredFile],
                                                            k1: dict[str, str]) -> None:
    rows = [*_rows(table), (4, "k10", b""), (5, "k9", b"")]
    result = commands.status(rows, FileKeyring({**k1, "k2": b64key()}))
    assert result.current_id == "k2"
    assert result.files_by_key == {"k1": 3, "k9": 1, "k10": 1}
    assert result.outdated == 5
    assert result.missing_ids == ["k9", "k10"]


def test_key_commands_rotate_then_report_status(table: dict[int, StoredFile], k1: dict[str, str]) -> None:
    app = Flask(__name__)
    app.config["PORTAL_KEYS"] = {"file_keys": {**k1, "k2": b64key()}}
    commits = []
    status_command, rotate_command = commands.key_commands(lambda: _rows(table), _saver(table),
                                                           lambda: commits.append(True))
    runner = app.test_cli_runner()
    before = runner.invoke(status_command)
    assert before.exit_code == 0, before.output
    assert "k1: 3 files" in before.output and "3 files to rotate to k2" in before.output
    rotated = runner.invoke(rotate_command)
    assert rotated.exit_code == 0, rotated.output
    assert "re-wrapped 3 data keys" in rotated.output and commits == [True]
    after = runner.invoke(status_command)
    assert "k2: 3 files" in after.output and "0 files to rotate" in after.output


def test_status_command_fails_when_files_use_a_key_that_is_not_loaded(table: dict[int, StoredFile]) -> None:
    app = Flask(__name__)
    app.config["PORTAL_KEYS"] = {"file_keys": {"k2": b64key()}}
    status_command, _ = commands.key_commands(lambda: _rows(table), _saver(table), lambda: None)
    result = app.test_cli_runner().invoke(status_command)
    assert result.exit_code == 1
    assert "k1: 3 files  NOT LOADED" in result.output


# -- damage to stored bodies, on both backends: reading fails with a clear error and releases nothing ---------

DAMAGE_SEGMENT = 4096  # small segments, so a few kilobytes make a multi-segment file


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "files")
    return request.getfixturevalue("s3")


def _raw(backend: Storage, key: str) -> bytes:
    return b"".join(backend.open(key))


def _released(store: EncryptedStore, meta: StoredFile) -> tuple[list[bytes], str]:
    """The pieces a read released before it failed, and its error message (the test fails if it does not fail)."""
    released = []
    with pytest.raises(TamperedError) as failure:
        for piece in store.read(meta):
            released.append(bytes(piece))
    return released, str(failure.value)


def _segments_of(body: bytes) -> tuple[bytes, list[bytes]]:
    size = DAMAGE_SEGMENT + stream.TAG_SIZE
    rest = body[stream.HEADER_SIZE:]
    return body[:stream.HEADER_SIZE], [rest[i:i + size] for i in range(0, len(rest), size)]


def test_swapping_the_bodies_of_two_stored_files_makes_both_reads_fail(backend: Storage,
                                                                       keyring: FileKeyring) -> None:
    store = EncryptedStore(backend, keyring, segment_size=DAMAGE_SEGMENT)
    one, two = store.save([os.urandom(3 * DAMAGE_SEGMENT)]), store.save([os.urandom(3 * DAMAGE_SEGMENT)])
    body_one, body_two = _raw(backend, one.storage_key), _raw(backend, two.storage_key)
    backend.put(one.storage_key, [body_two])
    backend.put(two.storage_key, [body_one])
    for meta in (one, two):
        released, message = _released(store, meta)
        assert released == []
        assert "not the recorded file" in message and "header differs" in message


def test_a_swapped_body_fails_even_without_a_recorded_header(backend: Storage, keyring: FileKeyring) -> None:
    """Rows stored before the header was recorded: the data key of one file does not open another's body."""
    store = EncryptedStore(backend, keyring, segment_size=DAMAGE_SEGMENT)
    one, two = store.save([b"first file"]), store.save([b"other file"])
    backend.put(one.storage_key, [_raw(backend, two.storage_key)])
    legacy = StoredFile(one.storage_key, one.kid, one.wrapped_dek, one.size_plain, one.size_stored, None)
    released, message = _released(store, legacy)
    assert released == [] and "segment 0 does not verify" in message


def _flip(body: bytes) -> bytes:
    altered = bytearray(body)
    altered[stream.HEADER_SIZE + DAMAGE_SEGMENT + stream.TAG_SIZE + 7] ^= 0x01  # inside the second segment
    return bytes(altered)


def _reorder(body: bytes) -> bytes:
    header, segments = _segments_of(body)
    return header + b"".join([segments[1], segments[0], *segments[2:]])


def _drop_last_segment(body: bytes) -> bytes:
    header, segments = _segments_of(body)
    return header + b"".join(segments[:-1])


DAMAGE = {
    "a flipped byte": (_flip, "segment 1 does not verify", 1),
    "reordered segments": (_reorder, "segment 0 does not verify", 0),
    "cut inside a segment": (lambda body: body[:-5], "segment 3 does not verify", 3),
    "cut at a segment boundary": (_drop_last_segment, "segment 2 does not verify", 2),
    "cut inside the first tag": (lambda body: body[:stream.HEADER_SIZE + 9], "truncated", 0),
    "an appended segment": (lambda body: body + _segments_of(body)[1][0], "segment 3 does not verify", 3),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_stored_body_fails_with_a_clear_error_and_no_wrong_bytes(backend: Storage, keyring: FileKeyring,
                                                                          damage: str) -> None:
    alter, expected, verified_segments = DAMAGE[damage]
    store = EncryptedStore(backend, keyring, segment_size=DAMAGE_SEGMENT)
    data = os.urandom(3 * DAMAGE_SEGMENT + 17)  # four segments
    meta = store.save([data])
    backend.put(meta.storage_key, [alter(_raw(backend, meta.storage_key))])
    released, message = _released(store, meta)
    assert expected in message
    assert b"".join(released) == data[:verified_segments * DAMAGE_SEGMENT]  # only verified segments, in order
