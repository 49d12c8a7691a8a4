"""The portal as ``wsgi:app`` builds it, plus one test-only route that tells what the app sees of a request.

Served by gunicorn in tests/deploy (``tests.deploy.seen_app:app``): the address, scheme and host come through the
portal's own middleware (PORTAL_PROXY_HOPS), exactly as every view reads them.
"""

from flask import jsonify, request

from portal import create_app

app = create_app()


@app.get("/_test/seen")
def seen():
    return jsonify({"remote_addr": request.remote_addr, "scheme": request.scheme, "host": request.host})
