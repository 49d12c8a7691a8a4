"""Configuration: defaults, then ``PORTAL_*`` environment variables, then ``create_app`` overrides.

Development creates its secrets under ``instance/`` on first start. Production (``PORTAL_ENV=production``)
refuses to start without explicit secrets, keys, a non-SQLite database and with debug on (S16).
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shlex
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = ROOT / "instance"
REGIONS = ("jilin", "yueyang", "linkou", "sichuan", "shangluo")


class ConfigError(RuntimeError):
    """The configuration cannot run the portal; the message says what to set."""


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"not a boolean: {value!r} (use 1/0, true/false, yes/no, on/off)")


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"not a whole number: {value!r}") from exc


_SIZE = re.compile(r"\s*([0-9]+)\s*(|B|KB|KIB|MB|MIB|GB|GIB)\s*", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "B": 1, "KB": 1000, "KIB": 1024, "MB": 1000**2, "MIB": 1024**2, "GB": 1000**3, "GIB": 1024**3}


def _size(value: str) -> int:
    """A positive number of bytes, bare or with a unit: ``10485760``, ``10MB`` (10⁷), ``10MiB`` (10 × 2²⁰)."""
    match = _SIZE.fullmatch(value)
    if match is None:
        raise ConfigError(f"not a size: {value!r} (write bytes, or e.g. 10MB or 10MiB)")
    size = int(match.group(1)) * _SIZE_UNITS[match.group(2).upper()]
    if size < 1:
        raise ConfigError(f"must be more than 0 bytes, not {value!r}")
    return size


def _seconds(value: str) -> int:
    number = _int(value)
    if number < 0:
        raise ConfigError(f"must be 0 (off) or more seconds, not {number}")
    return number


def _count(value: str) -> int:
    number = _int(value)
    if number < 1:
        raise ConfigError(f"must be at least 1, not {number}")
    return number


def _hops(value: str) -> int:
    number = _int(value)
    if not 0 <= number <= MAX_PROXY_HOPS:
        raise ConfigError(f"must be between 0 (no proxy) and {MAX_PROXY_HOPS}, not {number}")
    return number


MAX_PROXY_HOPS = 5


# name -> (parser, default). Every setting can be given as PORTAL_<NAME>.
SETTINGS: dict[str, tuple[Any, Any]] = {
    "ENV": (str, "development"),
    "REGION": (str, "jilin"),
    "DATABASE_URL": (str, None),
    "INSTANCE_PATH": (str, None),
    "SECRET_KEY": (str, None),
    "KEYS_FILE": (str, None),
    "DEBUG": (_bool, False),
    "BASE_URL": (str, "http://127.0.0.1:5000"),
    "RATELIMIT_STORAGE_URI": (str, "memory://"),
    # several portals (e.g. regions) sharing one Redis keep their counters apart under their own prefix
    "RATELIMIT_KEY_PREFIX": (str, "portal"),
    # production with memory:// limits: the operator declares that exactly one process serves the portal
    "SINGLE_PROCESS": (_bool, False),
    # reverse proxies in front of the app whose X-Forwarded-For/Proto/Host are believed (0: none, serve directly)
    "PROXY_HOPS": (_hops, 0),
    # SMS gateway (portal/integrations/sms): outbox (development), aliyun or tencent, and what those need
    "SMS_BACKEND": (str, "outbox"),
    "SMS_KEY_ID": (str, ""),
    "SMS_KEY_SECRET": (str, ""),
    "SMS_SIGN_NAME": (str, ""),
    "SMS_APP_ID": (str, ""),
    "SMS_REGION": (str, ""),
    "SMS_ENDPOINT": (str, ""),
    "SMS_TEMPLATES": (str, ""),
    "SMS_TIMEOUT_SECONDS": (_count, 10),
    "WECHAT_BACKEND": (str, "fake"),
    "WECHAT_APPID": (str, ""),
    "WECHAT_SECRET": (str, ""),
    "WECHAT_API_BASE": (str, "https://api.weixin.qq.com"),
    "MAX_CONTENT_LENGTH": (_int, 16 * 1024 * 1024),
    "DEFAULT_LOCALE": (str, "zh_Hans_CN"),
    "TIMEZONE": (str, "Asia/Shanghai"),
    "SECURE_COOKIES": (_bool, None),
    "LOG_LEVEL": (str, "INFO"),
    "CALENDAR_FALLBACK_WARN": (_bool, True),
    # post-hoc checking (事后核查): share of commitment-based cases drawn per item, unless a chief sets one
    "SAMPLING_RATE_PERCENT": (_int, 5),
    # uploaded files (portal/integrations/storage/): "local" (STORAGE_DIR, default <instance>/files) or "s3"
    "STORAGE_BACKEND": (str, "local"),
    "BANK_FILE_FORMAT": (str, "csv"),
    "STORAGE_DIR": (str, None),
    "S3_BUCKET": (str, ""),
    "S3_PREFIX": (str, ""),
    "S3_ENDPOINT_URL": (str, ""),
    "S3_REGION": (str, ""),
    "S3_ACCESS_KEY": (str, ""),
    "S3_SECRET_KEY": (str, ""),
    # uploads (portal/materials): caps on one file, on one upload request (all its files, held in memory while
    # it is checked: S11), on all files of one case, and on the files of one material
    "UPLOAD_MAX_FILE_BYTES": (_size, 10 * 1024 * 1024),
    "UPLOAD_MAX_REQUEST_BYTES": (_size, 32 * 1024 * 1024),
    "UPLOAD_MAX_CASE_BYTES": (_size, 50 * 1024 * 1024),
    "UPLOAD_MAX_FILES_PER_MATERIAL": (_count, 20),
    # certificate signing (portal/certificates/signing.py): PEM private key and certificate of the agency
    "SIGNING_KEY_FILE": (str, None),
    "SIGNING_CERT_FILE": (str, None),
    "SIGNING_CHAIN_FILE": (str, None),
    "SIGNING_KEY_PASSWORD": (str, None),
    # notifications (portal/notifications) and 好差评 (portal/ratings)
    "NOTIFY_MAX_ATTEMPTS": (_int, 6),
    "NOTIFY_BACKOFF_SECONDS": (_int, 30),
    # a delivery left "sending" this long by a worker is taken to be abandoned (see notifications/worker.py)
    "NOTIFY_LEASE_SECONDS": (_count, 300),
    "WECHAT_TEMPLATES": (str, ""),
    "REMIND_CORRECTION_WORKING_DAYS": (_int, 3),
    "REMIND_ACCOUNT_LEFT_OPEN_DAYS": (_count, 30),
    "RATING_CHANGE_DAYS": (_int, 7),
    "RECTIFICATION_WORKING_DAYS": (_int, 15),
    # failures (portal/core/failures.py, portal/core/db.py): what a 503 tells clients to wait, and the PostgreSQL
    # timeouts that keep a frozen or locked database from holding every worker (seconds; 0 turns one off)
    "RETRY_AFTER_SECONDS": (_count, 30),
    "DB_CONNECT_TIMEOUT": (_seconds, 5),
    "DB_STATEMENT_TIMEOUT": (_seconds, 30),
    "DB_LOCK_TIMEOUT": (_seconds, 10),
    "DB_POOL_TIMEOUT": (_seconds, 10),
    # real-name binding proofs (portal/integrations/identity): "local" (development), "http" or "off"
    "FACE_BACKEND": (str, "local"),
    "FACE_API_BASE": (str, ""),
    "FACE_APP_ID": (str, ""),
    "FACE_SECRET": (str, ""),
    "FACE_MIN_SCORE": (_int, 80),
    "ECREDENTIAL_BACKEND": (str, "local"),
    "ECREDENTIAL_API_BASE": (str, ""),
    "ECREDENTIAL_APP_ID": (str, ""),
    "ECREDENTIAL_SECRET": (str, ""),
    "BUSINESS_LICENSE_BACKEND": (str, "local"),
    "BUSINESS_LICENSE_API_BASE": (str, ""),
    "BUSINESS_LICENSE_APP_ID": (str, ""),
    "BUSINESS_LICENSE_SECRET": (str, ""),
    # the "不是我" link sent to a person's phone on record when an account is bound to them: days it works
    "BINDING_DISOWN_DAYS": (_int, 30),
    # the national medical-security platform (portal/integrations/national): "local" (a hub in a shared SQLite
    # file), "http" (the platform, or `portal national hub`) or "off"; the node is this area's code there
    "NATIONAL_BACKEND": (str, "local"),
    "NATIONAL_URL": (str, ""),
    "NATIONAL_NODE": (str, ""),
    "NATIONAL_SECRET": (str, ""),
    "NATIONAL_HUB_PATH": (str, ""),
    "NATIONAL_MAX_ATTEMPTS": (_int, 12),
}


def _environment() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, (parser, default) in SETTINGS.items():
        raw = os.environ.get(f"PORTAL_{name}")
        try:
            values[name] = parser(raw) if raw is not None else default
        except ConfigError as exc:
            raise ConfigError(f"PORTAL_{name}: {exc}") from exc
    return values


def _dev_keys(instance: Path, database_url: str, *, throwaway: bool) -> dict[str, Any]:
    """Read, or create on first start, the development secrets under instance/.

    New keys are never created over a database that already holds data (sealed under the lost keys, with blind
    indexes the new keys would not find): that refuses and says how to restore them. ``throwaway`` (the test
    suite's own database, dropped and rebuilt by the fixture) skips that check.
    """
    path = instance / "keys.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    if not throwaway:
        _refuse_new_keys_over_data(path, database_url)
    instance.mkdir(parents=True, exist_ok=True)
    keys = new_keyset()
    tmp = path.with_suffix(".tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as fh:
        json.dump(keys, fh, indent=2)
    os.replace(tmp, path)
    return keys


def _refuse_new_keys_over_data(path: Path, database_url: str) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from .core.keycheck import database_holds_data

    try:
        holds_data = database_holds_data(database_url)
    except SQLAlchemyError as exc:
        raise ConfigError(f"{path} is missing and the database cannot be read to make sure it holds no data, so no "
                          f"new keys were generated: {exc.__class__.__name__}") from exc
    if holds_data:
        raise ConfigError(f"{path} is missing but the database already holds data sealed under its keys, so no new "
                          "keys were generated (they would not open that data, and citizens would get duplicate "
                          f"accounts). Restore keys.json from the backup taken with this database to {path}, or "
                          "point PORTAL_KEYS_FILE at it; to start afresh, use an empty database.")


def check_private_file(setting: str, path: Path) -> str | None:
    """A problem when a key file can be read by its group or by anyone (production keeps keys owner-only)."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return None  # reported as unreadable where the file is read
    if mode & 0o077:
        return (f"{setting}: {path} has mode {mode:04o}, so its group or anyone on the machine can read it; "
                f"make it readable by its owner only: chmod 600 {path}")
    return None


def new_keyset() -> dict[str, Any]:
    """A fresh set of secrets: the session secret, field-encryption keys and the blind-index key."""

    def b64(n: int) -> str:
        return base64.b64encode(secrets.token_bytes(n)).decode()

    return {
        "development": True,
        "secret_key": secrets.token_urlsafe(48),
        "field_keys": {"f1": b64(32)},
        "index_key": b64(32),
        "file_keys": {"k1": b64(32)},
    }


def load_keys(path: Path) -> dict[str, Any]:
    try:
        keys = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"PORTAL_KEYS_FILE: cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"PORTAL_KEYS_FILE: {path} is not valid JSON: {exc}") from exc
    missing = [k for k in ("field_keys", "index_key", "file_keys") if not keys.get(k)]
    if missing:
        raise ConfigError(f"PORTAL_KEYS_FILE: {path} lacks {', '.join(missing)}")
    return keys


def build_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the Flask config mapping. Raise ConfigError for a configuration that must not run."""
    overrides = dict(overrides or {})
    env = _environment()
    # overrides may use either PORTAL names (REGION) or Flask names (SECRET_KEY)
    for name in list(overrides):
        if name in SETTINGS:
            env[name] = overrides.pop(name)
    production = env["ENV"] == "production"
    if env["ENV"] not in {"development", "production", "testing"}:
        raise ConfigError(f"PORTAL_ENV must be development, testing or production, not {env['ENV']!r}")
    if env["REGION"] not in REGIONS:
        raise ConfigError(f"PORTAL_REGION must be one of {', '.join(REGIONS)}, not {env['REGION']!r}")
    instance = Path(env["INSTANCE_PATH"]) if env["INSTANCE_PATH"] else DEFAULT_INSTANCE
    _check_upload_limits(env)

    problems: list[str] = []
    if production:
        if not env["SECRET_KEY"] or len(env["SECRET_KEY"]) < 32:
            problems.append("PORTAL_SECRET_KEY must be set to a random string of at least 32 characters")
        if not env["KEYS_FILE"]:
            problems.append("PORTAL_KEYS_FILE must name the JSON file holding the encryption keys")
        if not env["DATABASE_URL"] or env["DATABASE_URL"].startswith("sqlite"):
            problems.append("PORTAL_DATABASE_URL must name a PostgreSQL database (postgresql+psycopg://...)")
        if env["DEBUG"]:
            problems.append("PORTAL_DEBUG must be off")
        if env["WECHAT_BACKEND"] == "fake":
            problems.append("PORTAL_WECHAT_BACKEND must be http in production")
        elif env["WECHAT_BACKEND"] == "http" and not (env["WECHAT_APPID"] and env["WECHAT_SECRET"]):
            problems.append("PORTAL_WECHAT_BACKEND=http needs PORTAL_WECHAT_APPID and PORTAL_WECHAT_SECRET")
        if env["STORAGE_BACKEND"] == "s3" and not env["S3_BUCKET"]:
            problems.append("PORTAL_STORAGE_BACKEND=s3 needs PORTAL_S3_BUCKET")
        if env["SECURE_COOKIES"] is False:
            problems.append("PORTAL_SECURE_COOKIES must be on: production is served over HTTPS only")
        if env["NOTIFY_LEASE_SECONDS"] <= 3 * env["SMS_TIMEOUT_SECONDS"]:
            problems.append("PORTAL_NOTIFY_LEASE_SECONDS must be more than three times PORTAL_SMS_TIMEOUT_SECONDS, "
                            "or a slow send is taken for an abandoned one")
        for proof in ("FACE", "ECREDENTIAL", "BUSINESS_LICENSE"):
            if env[f"{proof}_BACKEND"] == "local":
                problems.append(f"PORTAL_{proof}_BACKEND must be http (or off) in production, not the local one")
        if env["NATIONAL_BACKEND"] == "local":
            problems.append("PORTAL_NATIONAL_BACKEND must be http (or off) in production, not the local hub")
        elif env["NATIONAL_BACKEND"] == "http" and not (env["NATIONAL_URL"] and env["NATIONAL_SECRET"]):
            problems.append("PORTAL_NATIONAL_BACKEND=http needs PORTAL_NATIONAL_URL and PORTAL_NATIONAL_SECRET")
        problems += _signing_problems(env)
        problems += _rate_limit_storage_problems(env)
    wechat_problems = _wechat_problems(env)
    if wechat_problems and not production:
        raise ConfigError(wechat_problems[0])
    problems += wechat_problems
    sms_problems = _sms_problems(env, production)
    if sms_problems and not production:
        raise ConfigError(sms_problems[0])
    problems += sms_problems
    keys: dict[str, Any] | None = None
    if env["KEYS_FILE"]:
        try:
            keys = load_keys(Path(env["KEYS_FILE"]))
        except ConfigError as exc:
            problems.append(str(exc))
        else:
            if production and keys.get("development"):
                problems.append("PORTAL_KEYS_FILE holds development keys; "
                                "generate production keys with `portal keys new`")
            if production:
                problems += filter(None, [check_private_file("PORTAL_KEYS_FILE", Path(env["KEYS_FILE"]))])
    if problems:
        raise ConfigError("the portal cannot start in production:\n  - " + "\n  - ".join(problems))
    database_url = env["DATABASE_URL"] or f"sqlite:///{instance / 'portal.db'}"
    if keys is None:
        keys = _dev_keys(instance, database_url, throwaway=env["ENV"] == "testing")

    signing = _signing_files(env, instance)
    secure = env["SECURE_COOKIES"] if env["SECURE_COOKIES"] is not None else production
    config: dict[str, Any] = {
        "PORTAL_ENV": env["ENV"],
        "PORTAL_REGION": env["REGION"],
        "PORTAL_BASE_URL": env["BASE_URL"].rstrip("/"),
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_KEYS": keys,
        **{f"PORTAL_{name}": env[name] for name in SETTINGS if name.startswith("SMS_")},
        "PORTAL_WECHAT_BACKEND": env["WECHAT_BACKEND"],
        "PORTAL_WECHAT_APPID": env["WECHAT_APPID"],
        "PORTAL_WECHAT_SECRET": env["WECHAT_SECRET"],
        "PORTAL_WECHAT_API_BASE": env["WECHAT_API_BASE"],
        "PORTAL_TIMEZONE": env["TIMEZONE"],
        "PORTAL_LOG_LEVEL": env["LOG_LEVEL"],
        "PORTAL_CALENDAR_FALLBACK_WARN": env["CALENDAR_FALLBACK_WARN"],
        "PORTAL_STORAGE_BACKEND": env["STORAGE_BACKEND"],
        "PORTAL_BANK_FILE_FORMAT": env["BANK_FILE_FORMAT"],
        "PORTAL_STORAGE_DIR": env["STORAGE_DIR"],
        "PORTAL_S3_BUCKET": env["S3_BUCKET"],
        "PORTAL_S3_PREFIX": env["S3_PREFIX"],
        "PORTAL_S3_ENDPOINT_URL": env["S3_ENDPOINT_URL"],
        "PORTAL_S3_REGION": env["S3_REGION"],
        "PORTAL_S3_ACCESS_KEY": env["S3_ACCESS_KEY"],
        "PORTAL_S3_SECRET_KEY": env["S3_SECRET_KEY"],
        "PORTAL_UPLOAD_MAX_FILE_BYTES": env["UPLOAD_MAX_FILE_BYTES"],
        "PORTAL_UPLOAD_MAX_REQUEST_BYTES": env["UPLOAD_MAX_REQUEST_BYTES"],
        "PORTAL_UPLOAD_MAX_CASE_BYTES": env["UPLOAD_MAX_CASE_BYTES"],
        "PORTAL_UPLOAD_MAX_FILES_PER_MATERIAL": env["UPLOAD_MAX_FILES_PER_MATERIAL"],
        "PORTAL_SIGNING": signing,
        "PORTAL_PROXY_HOPS": env["PROXY_HOPS"],
        **{f"PORTAL_{name}": env[name] for name in ("NOTIFY_MAX_ATTEMPTS", "NOTIFY_BACKOFF_SECONDS",
                                                    "NOTIFY_LEASE_SECONDS", "WECHAT_TEMPLATES",
                                                    "REMIND_CORRECTION_WORKING_DAYS",
                                                    "REMIND_ACCOUNT_LEFT_OPEN_DAYS", "RATING_CHANGE_DAYS",
                                                    "RECTIFICATION_WORKING_DAYS", "RETRY_AFTER_SECONDS",
                                                    "DB_CONNECT_TIMEOUT", "DB_STATEMENT_TIMEOUT", "DB_LOCK_TIMEOUT",
                                                    "DB_POOL_TIMEOUT", "FACE_BACKEND", "FACE_API_BASE",
                                                    "FACE_APP_ID", "FACE_SECRET", "FACE_MIN_SCORE",
                                                    "ECREDENTIAL_BACKEND", "ECREDENTIAL_API_BASE", "ECREDENTIAL_APP_ID",
                                                    "ECREDENTIAL_SECRET", "BINDING_DISOWN_DAYS",
                                                    "NATIONAL_BACKEND", "NATIONAL_URL", "NATIONAL_NODE",
                                                    "NATIONAL_SECRET", "NATIONAL_HUB_PATH",
                                                    "NATIONAL_MAX_ATTEMPTS",
                                                    "BUSINESS_LICENSE_BACKEND", "BUSINESS_LICENSE_API_BASE",
                                                    "BUSINESS_LICENSE_APP_ID", "BUSINESS_LICENSE_SECRET")},
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": env["SECRET_KEY"] or keys["secret_key"],
        "DEBUG": env["DEBUG"],
        "TESTING": env["ENV"] == "testing",
        "MAX_CONTENT_LENGTH": env["MAX_CONTENT_LENGTH"],
        # S1: cookies
        "SESSION_COOKIE_NAME": "portal_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": secure,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        # S3: idle and absolute timeouts, by kind of account
        "PORTAL_SESSION_IDLE": {"staff": timedelta(minutes=15), "citizen": timedelta(minutes=30),
                                "agent": timedelta(minutes=30)},
        "PORTAL_SESSION_ABSOLUTE": {"staff": timedelta(hours=8), "citizen": timedelta(hours=12),
                                    "agent": timedelta(hours=12)},
        "PORTAL_API_TOKEN_LIFETIME": timedelta(days=7),
        # S4
        "PORTAL_STAFF_MAX_FAILURES": 5,
        "PORTAL_STAFF_LOCK_MINUTES": 30,  # the longest wait between staff login attempts (accounts.throttling)
        "PORTAL_STAFF_THROTTLE_BASE_SECONDS": 30,  # the first wait, doubling with each further failure
        "PORTAL_STAFF_PASSWORD_MAX_AGE_DAYS": 90,
        "PORTAL_OTP_TTL_SECONDS": 300,
        "PORTAL_OTP_MAX_ATTEMPTS": 5,
        "RATELIMIT_STORAGE_URI": env["RATELIMIT_STORAGE_URI"],
        "RATELIMIT_STORAGE_OPTIONS": _rate_limit_storage_options(env),
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the (server-side bounded) session
        "WTF_CSRF_SSL_STRICT": secure,
        "BABEL_DEFAULT_LOCALE": env["DEFAULT_LOCALE"],
        "BABEL_DEFAULT_TIMEZONE": env["TIMEZONE"],
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "i18n"),
        "PORTAL_LOCALES": ("zh_Hans_CN", "en"),
        "JSON_SORT_KEYS": False,
    }
    config.update(_rate_limits())
    config.update(overrides)
    return config


def _check_upload_limits(env: dict[str, Any]) -> None:
    """Caps that contradict each other would refuse every file of the largest allowed size: refuse to start."""
    file_bytes = env["UPLOAD_MAX_FILE_BYTES"]
    for other in ("UPLOAD_MAX_REQUEST_BYTES", "UPLOAD_MAX_CASE_BYTES"):
        if env[other] < file_bytes:
            raise ConfigError(f"PORTAL_{other} ({env[other]} bytes) must be at least PORTAL_UPLOAD_MAX_FILE_BYTES "
                              f"({file_bytes} bytes): a file of the allowed size could never be uploaded")
def _rate_limit_storage_problems(env: dict[str, Any]) -> list[str]:
    """Counters in memory are per process: with several workers or hosts each counts on its own, and a limit of
    one code per minute becomes one per worker. Production needs a shared storage (Redis), unless the operator
    declares a single process (PORTAL_SINGLE_PROCESS=1) and nothing in the environment says otherwise."""
    if not env["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        return []
    if not env["SINGLE_PROCESS"]:
        return ["PORTAL_RATELIMIT_STORAGE_URI is memory://, which every worker counts on its own: use Redis "
                "(redis://host:6379/0), or set PORTAL_SINGLE_PROCESS=1 if exactly one process serves the portal"]
    workers = gunicorn_workers(os.environ)
    if workers is not None and workers > 1:
        return [f"PORTAL_SINGLE_PROCESS=1 but gunicorn is set to run {workers} workers (WEB_CONCURRENCY or "
                "GUNICORN_CMD_ARGS): memory:// limits would be counted per worker; use Redis"]
    return []


def gunicorn_workers(environ: Mapping[str, str]) -> int | None:
    """The worker count gunicorn takes from its environment (``GUNICORN_CMD_ARGS`` wins over ``WEB_CONCURRENCY``),
    or None when the environment does not say."""
    args = shlex.split(environ.get("GUNICORN_CMD_ARGS", ""))
    count: str | None = None
    for index, arg in enumerate(args):
        if arg in {"-w", "--workers"} and index + 1 < len(args):
            count = args[index + 1]
        elif arg.startswith("--workers="):
            count = arg.partition("=")[2]
        elif arg.startswith("-w") and len(arg) > 2:
            count = arg[2:]
    count = count if count is not None else environ.get("WEB_CONCURRENCY")
    if count is None:
        return None
    try:
        return int(count)
    except ValueError:
        return None


def _rate_limit_storage_options(env: dict[str, Any]) -> dict[str, Any]:
    """Redis: counters under the deployment's prefix, and short timeouts so that a Redis that stops answering
    fails a request quickly (503, portal/core/ratelimits.py) instead of holding every worker."""
    if env["RATELIMIT_STORAGE_URI"].split(":", 1)[0] in {"redis", "rediss", "redis+unix"}:
        return {"key_prefix": env["RATELIMIT_KEY_PREFIX"], "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS, "wrap_exceptions": True}
    return {}


REDIS_TIMEOUT_SECONDS = 2


def _sms_problems(env: dict[str, Any], production: bool) -> list[str]:
    """The SMS gateway's own checks (portal/integrations/sms): an unknown backend is refused everywhere, a real
    one without its credentials, signature or login templates, and the outbox in production."""
    from .integrations import sms

    return sms.problems({f"PORTAL_{name}": value for name, value in env.items() if name.startswith("SMS_")},
                        production=production)


def _wechat_problems(env: dict[str, Any]) -> list[str]:
    """A ``PORTAL_WECHAT_TEMPLATES`` that is no JSON object of template ids (``notifications.wechat``)."""
    from .notifications.wechat import parse_templates

    try:
        parse_templates(env["WECHAT_TEMPLATES"])
    except ValueError as exc:
        return [str(exc)]
    return []


def _signing_problems(env: dict[str, Any]) -> list[str]:
    """Production signs certificates with the agency's own key and certificate, never a development pair."""
    from .certificates.signing import is_development_certificate

    key, cert = env["SIGNING_KEY_FILE"], env["SIGNING_CERT_FILE"]
    if not key or not cert:
        return ["PORTAL_SIGNING_KEY_FILE and PORTAL_SIGNING_CERT_FILE must name the agency's signing key and "
                "certificate (PEM) for certificate PDFs"]
    problems = [f"{name}: cannot read {path}" for name, path in
                (("PORTAL_SIGNING_KEY_FILE", key), ("PORTAL_SIGNING_CERT_FILE", cert)) if not Path(path).is_file()]
    if not problems and is_development_certificate(Path(cert)):
        problems.append("PORTAL_SIGNING_CERT_FILE is the development certificate; use the agency's own")
    if not problems:
        problems += filter(None, [check_private_file("PORTAL_SIGNING_KEY_FILE", Path(key))])
    return problems


def _signing_files(env: dict[str, Any], instance: Path) -> dict[str, Any]:
    """The signing key and certificate: as configured, or (outside production) a development pair under
    instance/, created on first start like the other development secrets."""
    if env["SIGNING_KEY_FILE"] and env["SIGNING_CERT_FILE"]:
        return {"key": env["SIGNING_KEY_FILE"], "cert": env["SIGNING_CERT_FILE"],
                "chain": env["SIGNING_CHAIN_FILE"], "password": env["SIGNING_KEY_PASSWORD"], "development": False}
    from .certificates.signing import ensure_development_pair

    key, cert = ensure_development_pair(instance / "signing")
    return {"key": str(key), "cert": str(cert), "chain": None, "password": None, "development": True}


def _rate_limits() -> dict[str, str]:
    """Every ``PORTAL_LIMIT_<NAME>`` environment variable (e.g. ``PORTAL_LIMIT_PROGRESS_IP=60/minute``), checked.

    Each feature names its limits and their defaults where it applies them; the environment overrides them.
    """
    from limits import parse_many

    out: dict[str, str] = {}
    for name, value in os.environ.items():
        if name.startswith("PORTAL_LIMIT_"):
            try:
                parse_many(value)
            except ValueError as exc:
                raise ConfigError(f"{name}: not a rate limit: {value!r} (write e.g. '60/minute;1000/day')") from exc
            out[name] = value
    return out
