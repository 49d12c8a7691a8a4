"""Extension singletons, created unbound and bound in ``create_app``."""

from flask import current_app, request
from flask_babel import Babel
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from .core.db import db
from .core.ratelimits import CountingLimiter


class MethodFirstCSRF(CSRFProtect):
    """Flask-WTF's CSRF protection, asking the request's method first: a GET (most requests) is never checked, so
    it needs no look-up of its view's exemption either (the library looks that up first). The same answers."""

    def protect(self, apply_exemptions: bool = False) -> None:
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return
        super().protect(apply_exemptions=apply_exemptions)


babel = Babel()
csrf = MethodFirstCSRF()
login_manager = LoginManager()
limiter = CountingLimiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def client_ip() -> str:
    return request.remote_addr or "unknown"


__all__ = ["babel", "client_ip", "csrf", "db", "limiter", "login_manager"]
