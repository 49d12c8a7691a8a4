"""Real servers for tests and benchmarks: free ports on 127.0.0.1, a clean portal environment, migrations, and
processes (``portal up``, gunicorn, nginx) started, awaited until they answer, and stopped.

Used by the browser tests, the deployment tests (nginx, several gunicorn instances) and ``bench/``.
"""

from __future__ import annotations

import http.client
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# settings a developer's shell or CI may carry that would change what a started server does
INHERITED_OUT = ("GUNICORN_CMD_ARGS", "WEB_CONCURRENCY")


class ServerFailed(RuntimeError):
    """A server exited or did not answer in time; the message ends with its log."""


def in_thread(server: socketserver.BaseServer) -> Iterator:
    """Serve ``server`` (an in-process server on 127.0.0.1) from a daemon thread; yield it; shut it down and close
    its socket when the generator is closed (use as a fixture body: ``yield from in_thread(MyServer())``)."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def portal_env(instance: Path, **settings: str) -> dict[str, str]:
    """This process's environment without any ``PORTAL_*`` (or gunicorn) setting, then a development portal on
    ``instance`` (its own SQLite database unless ``PORTAL_DATABASE_URL`` is given), then ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_") and k not in INHERITED_OUT}
    env.update({
        "PORTAL_ENV": "development",
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_DATABASE_URL": f"sqlite:///{instance / 'portal.db'}",
        "PORTAL_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    })
    env.update(settings)
    return env


def migrate(env: Mapping[str, str]) -> None:
    """``portal db upgrade`` with ``env``: the schema a real deployment has."""
    done = subprocess.run([sys.executable, "-m", "portal", "db", "upgrade"], cwd=ROOT, env=dict(env),
                          capture_output=True, text=True, check=False, timeout=300)
    if done.returncode != 0:
        raise ServerFailed(f"portal db upgrade failed:\n{done.stdout}{done.stderr}")


def get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def start(command: Sequence[str], *, env: Mapping[str, str], log: Path, port: int,
          ready: str | Callable[[], bool] = "/healthz", timeout: float = 60) -> subprocess.Popen:
    """Run ``command`` (output to ``log``) and wait until ``GET ready`` on ``port`` answers 200 (or, when ``ready``
    is a function, until it returns true).

    Raises ServerFailed, after stopping the process, when it exits or does not answer within ``timeout`` seconds.
    """
    with log.open("w") as out:
        server = subprocess.Popen(list(command), cwd=ROOT, env=dict(env),  # noqa: S603 (commands built here)
                                  stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ServerFailed(f"{command[0]} exited with {server.returncode}:\n{log.read_text()}")
        try:
            if ready() if callable(ready) else get(port, ready, timeout=2)[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    stop(server)
    raise ServerFailed(f"{' '.join(command)} did not answer {ready} within {timeout:.0f} s:\n{log.read_text()}")


def gunicorn_command(port: int, *, workers: int = 1, app: str = "wsgi:app",
                     extra: Sequence[str] = ()) -> list[str]:
    """gunicorn as production runs it, on 127.0.0.1, without an access log (it would write tokens, S14)."""
    return [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"{HOST}:{port}", "--log-level", "warning",
            *extra, app]


def start_gunicorn(env: Mapping[str, str], port: int, log: Path, *, workers: int = 1, app: str = "wsgi:app",
                   extra: Sequence[str] = (), timeout: float = 60) -> subprocess.Popen:
    return start(gunicorn_command(port, workers=workers, app=app, extra=extra), env=env, log=log, port=port,
                 timeout=timeout)


def stop(server: subprocess.Popen, timeout: float = 15) -> None:
    """Terminate ``server`` (gunicorn stops its workers on SIGTERM), killing it if it does not end in time."""
    if server.poll() is None:
        server.terminate()
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
