"""deploy/nginx/portal.conf, run: Debian's nginx terminating HTTPS (a self-signed certificate made here) in front of
gunicorn serving the portal with PORTAL_PROXY_HOPS=1, everything on 127.0.0.1.

The client connects from 127.0.0.2 (another loopback address), so the client and the proxy have different
addresses. Without nginx installed the live tests are skipped (apt-get install nginx-light), unless
PORTAL_REQUIRE_NGINX=1 (CI), where that fails.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import create_engine, text

from portal.config import SETTINGS
from tests import servers

pytestmark = pytest.mark.no_db
CONF = servers.ROOT / "deploy" / "nginx" / "portal.conf"
NAME = "portal.example.gov.cn"
CLIENT = "127.0.0.2"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def _megabytes(directive: str) -> int:
    match = re.search(rf"^\s*{directive}\s+(\d+)m;", CONF.read_text(), re.MULTILINE)
    assert match, f"{directive} not found in {CONF}"
    return int(match.group(1)) * 1024 * 1024


def test_the_body_limit_lets_the_app_refuse_uploads_and_keeps_bodies_in_memory():
    upload_cap = SETTINGS["UPLOAD_MAX_REQUEST_BYTES"][1]
    body_limit = _megabytes("client_max_body_size")
    # the app, not nginx, answers an upload a little over its cap (in the user's language)
    assert upload_cap < body_limit <= upload_cap + 4 * 1024 * 1024
    assert _megabytes("client_body_buffer_size") >= body_limit  # never a temporary file in clear (S11)
    assert re.search(r"^\s*proxy_max_temp_file_size 0;", CONF.read_text(), re.MULTILINE)


# --- the live stack --------------------------------------------------------------------------------------------


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_path, cert_path = folder / "privkey.pem", folder / "fullchain.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def rendered(replacements: list[tuple[str, str, int]]) -> str:
    """The example config with its SET values replaced; each must occur as often as expected, so that a change
    of the example's shape fails here instead of silently testing something else."""
    config = CONF.read_text()
    for old, new, count in replacements:
        assert config.count(old) == count, f"{old!r} occurs {config.count(old)} times in {CONF}, expected {count}"
        config = config.replace(old, new)
    return config


def https_connection(port: int, cafile: Path, *, server_name: str = NAME, timeout: float = 10):
    """An HTTPS connection from the client's address to nginx on 127.0.0.1, for ``server_name`` (SNI and Host)."""
    context = ssl.create_default_context(cafile=str(cafile))

    class Connection(http.client.HTTPSConnection):
        def connect(self) -> None:
            raw = socket.create_connection((servers.HOST, self.port), self.timeout, (CLIENT, 0))
            self.sock = context.wrap_socket(raw, server_hostname=self.host)

    return Connection(server_name, port, timeout=timeout, context=context)


@dataclass
class Stack:
    https: int
    http: int
    cert: Path
    access_log: Path
    database: str

    def request(self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None):
        connection = https_connection(self.https, self.cert)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    nginx = nginx_binary()
    if nginx is None:
        if os.environ.get("PORTAL_REQUIRE_NGINX") == "1":
            pytest.fail("PORTAL_REQUIRE_NGINX=1 but no nginx binary was found")
        pytest.skip("no nginx installed (apt-get install nginx-light) — the nginx example config is not run")
    folder = tmp_path_factory.mktemp("nginx")
    instance = folder / "instance"
    env = servers.portal_env(instance, PORTAL_PROXY_HOPS="1", PORTAL_SECURE_COOKIES="1")
    servers.migrate(env)
    app_port, https_port, http_port = servers.free_port(), servers.free_port(), servers.free_port()
    app = servers.start_gunicorn(env, app_port, folder / "gunicorn.log", app="tests.deploy.seen_app:app")
    proxy = None
    try:
        key, cert = self_signed(folder)
        access_log = folder / "portal.access.log"
        site = folder / "portal.conf"
        site.write_text(rendered([
            ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};", 1),
            ("listen 80;", f"listen 127.0.0.1:{http_port};", 1),
            ("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl", 2),
            ("/etc/ssl/portal/fullchain.pem", str(cert), 1),
            ("/etc/ssl/portal/privkey.pem", str(key), 1),
            ("/srv/portal/static/", f"{servers.ROOT / 'static'}/", 1),
            ("/var/log/nginx/portal.access.log", str(access_log), 2),
        ]))
        for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (folder / temp).mkdir()
        mime = Path("/etc/nginx/mime.types")
        main = folder / "nginx.conf"
        main.write_text(f"""
{'user root;' if os.geteuid() == 0 else ''}
worker_processes 1;
daemon off;
pid {folder / 'nginx.pid'};
error_log {folder / 'error.log'} warn;
events {{ worker_connections 64; }}
http {{
    {f'include {mime};' if mime.exists() else ''}
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {folder / 'body'};
    proxy_temp_path {folder / 'proxy'};
    fastcgi_temp_path {folder / 'fastcgi'};
    uwsgi_temp_path {folder / 'uwsgi'};
    scgi_temp_path {folder / 'scgi'};
    include {site};
}}
""")
        command = [nginx, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(main)]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False,  # noqa: S603
                                 timeout=30)
        assert checked.returncode == 0, f"nginx -t refused the example config:\n{checked.stderr}"
        stack = Stack(https_port, http_port, cert, access_log, env["PORTAL_DATABASE_URL"])

        def _ready() -> bool:
            try:
                return stack.request("GET", "/healthz")[0] == 200
            except (OSError, ssl.SSLError):
                return False

        proxy = servers.start(command, env=env, log=folder / "nginx.out", port=https_port, ready=_ready, timeout=30)
        yield stack
    finally:
        if proxy is not None:
            servers.stop(proxy)
        servers.stop(app)


def test_the_app_sees_the_client_address_https_and_the_public_name(stack):
    # whatever the client writes into the forwarded headers itself is not believed
    status, _headers, body = stack.request("GET", "/_test/seen", headers={
        "X-Forwarded-For": "203.0.113.66", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example"})
    assert status == 200
    assert json.loads(body) == {"remote_addr": CLIENT, "scheme": "https", "host": f"{NAME}:{stack.https}"}


def test_audit_records_carry_the_client_not_nginx_and_nginx_request_id(stack):
    status, headers, _body = stack.request("POST", "/api/v1/auth/sms/request", body=b'{"phone": "13912340001"}',
                                           headers={"Content-Type": "application/json"})
    assert status == 202
    engine = create_engine(stack.database)
    try:
        with engine.connect() as connection:
            row = connection.execute(text("SELECT ip, request_id FROM audit_event WHERE action = 'otp.sent' "
                                          "ORDER BY id DESC")).first()
    finally:
        engine.dispose()
    assert row.ip == CLIENT
    assert row.request_id == headers["X-Request-ID"] and re.fullmatch(r"[0-9a-f]{32}", row.request_id)  # nginx's


def test_plain_http_is_sent_to_https(stack):
    connection = http.client.HTTPConnection(servers.HOST, stack.http, timeout=10, source_address=(CLIENT, 0))
    try:
        connection.request("GET", "/guide/?x=1", headers={"Host": NAME})
        response = connection.getresponse()
        assert response.status == 301 and response.getheader("Location") == f"https://{NAME}/guide/?x=1"
    finally:
        connection.close()


def test_other_names_are_refused_at_the_handshake(stack):
    connection = https_connection(stack.https, stack.cert, server_name="other.example.com")
    with pytest.raises(ssl.SSLError):
        connection.request("GET", "/healthz")
    connection.close()


def test_static_files_are_served_by_nginx(stack):
    status, headers, body = stack.request("GET", "/static/css/portal.css")
    assert status == 200 and body == (servers.ROOT / "static" / "css" / "portal.css").read_bytes()
    assert "X-Request-ID" not in headers  # the app answers every request it serves with one


def test_fingerprinted_static_files_are_kept_for_a_year_and_pages_are_compressed(stack):
    import gzip
    import re

    status, _headers, page = stack.request("GET", "/guide/")
    linked = re.search(r'href="(/static/css/portal\.css\?v=[0-9a-f]{12})"', page.decode()).group(1)
    _status, fingerprinted, _body = stack.request("GET", linked)
    _status, plain, _body = stack.request("GET", "/static/css/portal.css")
    assert "max-age=31536000" in fingerprinted["Cache-Control"] and plain["Cache-Control"] == "max-age=86400"
    status, headers, body = stack.request("GET", "/guide/", headers={"Accept-Encoding": "gzip"})
    unnonced = re.compile(r'nonce="[^"]+"')
    assert status == 200 and headers.get("Content-Encoding") == "gzip"
    assert unnonced.sub("", gzip.decompress(body).decode()) == unnonced.sub("", page.decode())


def test_the_app_answers_bodies_up_to_nginx_limit_and_nginx_beyond(stack):
    over_app = SETTINGS["UPLOAD_MAX_REQUEST_BYTES"][1] + 1
    status, headers, body = stack.request("POST", "/api/v1/auth/sms/request", body=b"x" * over_app,
                                          headers={"Content-Type": "application/json"})
    assert status == 413 and json.loads(body)["error"]["code"] == "too_large"  # the app's own answer
    status, headers, _body = stack.request("POST", "/api/v1/auth/sms/request",
                                           body=b"x" * (_megabytes("client_max_body_size") + 1),
                                           headers={"Content-Type": "application/json"})
    assert status == 413 and "X-Request-ID" not in headers  # refused by nginx before the app


def test_the_access_log_holds_no_progress_token(stack):
    token = "TokenThatMustNotBeLogged1"
    assert stack.request("GET", f"/q/{token}")[0] == 404
    deadline = time.monotonic() + 10  # nginx writes the line once the response is sent
    while '"GET /q/' not in (log := stack.access_log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f'{CLIENT} ' in log and '"GET /q/-" 404' in log and token not in log
