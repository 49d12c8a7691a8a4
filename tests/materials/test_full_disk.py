"""A disk full (ENOSPC) while an upload is stored: 503 with Retry-After in the API's envelope, and nothing is kept
(no file row, no half-written body)."""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Iterator

import pytest

from portal.integrations.storage.local import LocalStorage
from tests.applications.conftest import request_context  # noqa: F401 (autouse: messages need a request)

from . import fixtures as make
from .upload_support import MATERIAL


@pytest.fixture
def full_disk(tmp_path) -> Iterator[str]:
    """A directory on a filesystem with no space left: a real 64 KiB tmpfs filled to the brim where the machine
    lets us mount one, else a directory whose writes fail as a full disk's do (ENOSPC)."""
    mount = tmp_path / "full"
    mount.mkdir()
    if os.system(f"mount -t tmpfs -o size=64k tmpfs {mount} 2>/dev/null") != 0:  # noqa: S605 (fixed arguments)
        real_put = LocalStorage.put

        def put(self, key, chunks):
            if self.root == mount:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_put(self, key, chunks)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(LocalStorage, "put", put)
            yield str(mount)
        return
    try:
        with open(mount / "filler", "wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 4096)
            except OSError as error:
                assert error.errno == errno.ENOSPC
        yield str(mount)
    finally:
        os.system(f"umount {mount}")  # noqa: S605 (fixed arguments)


def test_a_full_disk_while_storing_an_upload_gives_503_and_saves_nothing(app, api_for, full_disk, monkeypatch,
                                                                          citizen, draft):
    monkeypatch.setitem(app.config, "PORTAL_STORAGE_DIR", full_disk)
    client, headers = api_for(citizen)
    response = client.post(f"/api/v1/applications/{draft.id}/materials/{MATERIAL}", headers=headers,
                           content_type="multipart/form-data", data={"file": (io.BytesIO(make.pdf(1)), "证明.pdf")})
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["error"]["code"] == "service_unavailable"
    assert response.headers["Retry-After"] == "30"
    assert client.get(f"/api/v1/applications/{draft.id}/files", headers=headers).get_json() == {"files": []}
    assert [p.name for p in os.scandir(full_disk) if p.name != "filler"] == []  # no half-written file left
