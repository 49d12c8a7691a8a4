"""Horizontal scale, run for real: two gunicorn instances on two ports (standing for two app hosts behind a load
balancer) with nothing shared but one PostgreSQL database, Redis and an S3-compatible store (moto's server).

A citizen logs in and files alternately on both, a file uploaded through one is read through the other, and the SMS
code limit holds across both. Each instance has its own instance folder, so nothing passes through a local disk.

Needs PORTAL_TEST_DATABASE_URL=postgresql… (a database of its own is created beside that one and dropped after) and
Redis (PORTAL_TEST_REDIS_URL); skipped with the reason otherwise. Every wait is bounded; the servers are stopped.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal.config import new_keyset
from portal.core.masking import mask_phone
from portal.insurance.demo import DEMO_CITIZENS
from tests import servers
from tests.integrations.s3_server import running_s3
from tests.materials import fixtures as make

URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
pytestmark = [pytest.mark.postgres, pytest.mark.no_db,
              pytest.mark.skipif(not URL.startswith("postgresql"),
                                 reason="horizontal scale needs PostgreSQL: set PORTAL_TEST_DATABASE_URL=postgresql…")]
RETIREE = next(c for c in DEMO_CITIZENS if c.key == "retiree")
ITEM = "G002036005000_01_001"  # 门诊慢性病病种待遇认定, filed by a retiree, with materials to upload
BUCKET = "portal-scale-files"
TIMEOUT = 30  # seconds, for any one request


@pytest.fixture
def scale_database() -> Iterator[str]:
    """A fresh database beside the test database (its name says so), migrated by the instances' first step."""
    url = make_url(URL)
    name = f"{url.database}_hscale_test"[-63:]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    yield from running_s3()


@dataclass
class Cluster:
    a: str  # base URLs of the two instances
    b: str
    s3: object  # a boto3 client of the shared store

    def objects(self) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


@pytest.fixture
def cluster(tmp_path: Path, scale_database: str, shared_redis, s3_endpoint: str) -> Iterator[Cluster]:
    import boto3

    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    s3.create_bucket(Bucket=BUCKET)
    keys = tmp_path / "keys.json"  # the secrets every host of a deployment shares
    keys.write_text(json.dumps(new_keyset()))
    shared = {
        "PORTAL_DATABASE_URL": scale_database, "PORTAL_KEYS_FILE": str(keys),
        "PORTAL_RATELIMIT_STORAGE_URI": shared_redis.url, "PORTAL_RATELIMIT_KEY_PREFIX": shared_redis.prefix,
        "PORTAL_STORAGE_BACKEND": "s3", "PORTAL_S3_BUCKET": BUCKET, "PORTAL_S3_PREFIX": "files/",
        "PORTAL_S3_ENDPOINT_URL": s3_endpoint, "PORTAL_S3_REGION": "us-east-1",
        "PORTAL_S3_ACCESS_KEY": "testing", "PORTAL_S3_SECRET_KEY": "testing",
    }
    envs = [servers.portal_env(tmp_path / f"host-{n}", **shared) for n in "ab"]
    servers.migrate(envs[0])
    demo = subprocess.run([sys.executable, "-m", "portal", "demo", "--persons", "20", "--units", "5"],
                          cwd=servers.ROOT, env=envs[0], capture_output=True, text=True, timeout=300, check=False)
    assert demo.returncode == 0, demo.stderr
    ports = [servers.free_port() for _ in envs]
    with ThreadPoolExecutor(len(envs)) as pool:  # both start at once: each spends seconds building the app
        starting = [pool.submit(servers.start_gunicorn, env, port, Path(env["PORTAL_INSTANCE_PATH"] + ".log"),
                                timeout=120) for env, port in zip(envs, ports, strict=True)]
    started = [future.result() for future in starting if future.exception() is None]
    try:
        for future in starting:
            future.result()  # a server that did not start fails the test, with its log
        yield Cluster(*(f"http://{servers.HOST}:{port}" for port in ports), s3)
    finally:
        for server in started:
            servers.stop(server)


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def form_token(browser: requests.Session, url: str) -> str:
    page = browser.get(url, timeout=TIMEOUT)
    assert page.status_code == 200, (url, page.status_code)
    return CSRF.search(page.text).group(1)


def post_form(browser: requests.Session, page_url: str, url: str, data: dict) -> requests.Response:
    response = browser.post(url, data={"csrf_token": form_token(browser, page_url), **data}, timeout=TIMEOUT,
                            allow_redirects=False)
    assert response.status_code == 302, (url, response.status_code, response.text[-2000:])
    return response


def code_from_outbox(browser: requests.Session, base: str, phone: str) -> str:
    page = browser.get(f"{base}/dev/outbox", timeout=TIMEOUT).text
    return re.search(rf"<td>{re.escape(mask_phone(phone))}</td><td>[^<]*?(?<!\d)(\d{{6}})(?!\d)", page).group(1)


def test_two_instances_share_sessions_files_and_limits(cluster: Cluster):
    a, b = cluster.a, cluster.b
    browser = requests.Session()  # cookies go to both: same host, as behind one load balancer

    # log in on A, enter the code on B, bind the real name on A, and carry on on B
    post_form(browser, f"{a}/login/citizen", f"{a}/login/citizen", {"phone": RETIREE.phone})
    code = code_from_outbox(browser, b, RETIREE.phone)
    post_form(browser, f"{b}/login/code", f"{b}/login/code", {"code": code})
    post_form(browser, f"{a}/bind", f"{a}/bind", {"name": RETIREE.name, "id_number": RETIREE.id_number})
    me = browser.get(f"{b}/me", timeout=TIMEOUT, allow_redirects=False)
    assert me.status_code == 200 and RETIREE.name[0] in me.text

    # start a draft on B, upload a file to it on A, read it back on B
    started = post_form(browser, f"{b}/apply/{ITEM}", f"{b}/apply/{ITEM}", {})
    edit_path = started.headers["Location"]
    edit = browser.get(f"{a}{edit_path}", timeout=TIMEOUT)
    upload_path = re.search(r'action="(/applications/\d+/materials/[^"]+)"', edit.text).group(1)
    body = make.pdf()
    uploaded = browser.post(f"{a}{upload_path}", timeout=TIMEOUT, headers={"Accept": "application/json"},
                            data={"csrf_token": CSRF.search(edit.text).group(1)},
                            files={"file": ("处方.pdf", body, "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    stored = uploaded.json()["files"][0]
    read = browser.get(f"{b}{stored['url']}", timeout=TIMEOUT)
    assert read.status_code == 200 and read.content == body
    objects = cluster.objects()
    assert objects and all(key.startswith("files/") for key in objects)  # in the shared store, not on a host
    assert all(body not in cluster.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in objects)

    # one code a minute per phone, whichever instance is asked
    api = requests.Session()
    assert api.post(f"{b}/api/v1/auth/sms/request", json={"phone": RETIREE.phone}, timeout=TIMEOUT).status_code == 429
    other = f"139{secrets.randbelow(10**8):08d}"
    assert api.post(f"{b}/api/v1/auth/sms/request", json={"phone": other}, timeout=TIMEOUT).status_code == 202
    assert api.post(f"{a}/api/v1/auth/sms/request", json={"phone": other}, timeout=TIMEOUT).status_code == 429
