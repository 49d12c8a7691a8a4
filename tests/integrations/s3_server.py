"""A real S3-speaking server on 127.0.0.1 (moto's standalone server, over HTTP), for the S3 storage adapter."""

from __future__ import annotations

from collections.abc import Iterator


def running_s3() -> Iterator[str]:
    """The endpoint URL of a started server, stopped when the generator is closed (use as a fixture body)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        server._server.server_close()  # stop() leaves the listening socket open
