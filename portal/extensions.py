"""Extension singletons, created unbound and bound in ``create_app``."""

from flask import request
from flask_babel import Babel
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from .core.db import db
from .core.ratelimits import CountingLimiter

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = CountingLimiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def client_ip() -> str:
    return request.remote_addr or "unknown"


__all__ = ["babel", "client_ip", "csrf", "db", "limiter", "login_manager"]
