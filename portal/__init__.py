"""The portal: online service hall of a medical-security agency (医疗保障经办机构网上服务大厅)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.local import LocalProxy

from .config import ROOT, build_config
from .core.templating import Environment as TemplateEnvironment

# Feature modules that define a blueprint ``bp``; API modules attach routes to ``portal.api.bp``.
BLUEPRINTS = (
    "portal.pages.views",
    "portal.accounts.views",
    "portal.insurance.views",
    "portal.catalog.views",
    "portal.catalog.notes",
    "portal.applications.views",
    "portal.rosters.views",
    "portal.applications.progress",
    "portal.materials.views",
    "portal.services.remote_care.views",
    "portal.services.claims.views",
    "portal.services.settlement.views",
    "portal.services.record_changes.views",
    "portal.certificates.views",
    "portal.sampling.views",
    "portal.dashboard.views",
    "portal.notifications.views",
    "portal.ratings.views",
    "portal.workbench.views",
    "portal.organisations.views",
    "portal.organisations.staff_views",
    "portal.organisations.directory",
    "portal.organisations.window_agents",
    "portal.calendar.views",
    "portal.national.views",
    "portal.services.transfer.views",
)
API_MODULES = (
    "portal.api.meta",
    "portal.accounts.api",
    "portal.insurance.api",
    "portal.catalog.api",
    "portal.applications.api",
    "portal.rosters.api",
    "portal.materials.api",
    "portal.services.remote_care.api",
    "portal.certificates.api",
    "portal.notifications.api",
    "portal.ratings.api",
    "portal.organisations.api",
)


class Portal(Flask):
    """Flask, except that whether a hook or view is ``async`` is worked out once per function: Flask asks
    ``inspect.iscoroutinefunction`` of each of the dozen hooks again on every request, and the answer never
    changes; and that templates are compiled once per language, translated (``core.templating``)."""

    jinja_environment = TemplateEnvironment

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._synced: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            return self._synced[func]
        except KeyError:
            synced = self._synced[func] = super().ensure_sync(func)
            return synced
        except TypeError:  # not hashable: asked each time, as Flask does
            return super().ensure_sync(func)


def create_app(overrides: dict[str, Any] | None = None, *, check_keys: bool | None = None,
               load_catalog: bool = True) -> Flask:
    """Build the app: config → extensions → keys checked against the database → blueprints → errors → CLI.

    ``check_keys`` (default: outside the test suite's ``testing`` environment) refuses to start, with
    ``KeyCheckFailed``, when the keys are not the ones that wrote the data (``portal.core.keycheck``); the
    commands that diagnose exactly that (``portal keys status``, ``portal doctor``) start without it.
    The region's catalog is read and checked here (a server refuses to start on bad catalog data); with
    ``load_catalog=False`` (the command line) it is read on first use instead.
    """
    config = build_config(overrides)
    app = Portal(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=config["PORTAL_INSTANCE_PATH"],
        instance_relative_config=False,
    )
    app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.getLogger("portal").setLevel(app.config["PORTAL_LOG_LEVEL"])

    from .core import crypto, fragments, pagecache, proxies, ratelimits, translation, web
    from .extensions import babel, csrf, db, limiter

    crypto.install_keyring(app.config["PORTAL_KEYS"])
    db.init_app(app)
    babel.init_app(app, locale_selector=web.select_locale)
    translation.install(app)
    csrf.init_app(app)
    limiter.init_app(app)
    web.init_app(app)
    pagecache.init_app(app)
    fragments.init_app(app)
    proxies.init_app(app)
    ratelimits.init_app(app)
    from .core.models_registry import import_all_models

    # every mapper known before anything builds a statement: the key check reads the database through the models,
    # and ``accounts.auth`` builds its session query when imported (a command that skips the key check, such as
    # ``portal doctor``, crashed there on a relationship to a model not imported yet)
    import_all_models()
    if check_keys if check_keys is not None else app.config["PORTAL_ENV"] != "testing":
        from .core import keycheck

        with app.app_context():
            try:
                keycheck.verify_at_start(app.config["PORTAL_KEYS"])
            except keycheck.KeyCheckFailed:
                db.engine.dispose()  # refused: leave no connection open behind
                raise

    from .accounts import auth
    from .catalog.loader import get_catalog
    from .core import formatting, masking, quoting

    auth.init_app(app)
    formatting.init_app(app)
    masking.init_app(app)
    quoting.init_app(app)
    region = app.config["PORTAL_REGION"]
    app.extensions["portal_catalog"] = get_catalog(region) if load_catalog else LocalProxy(partial(get_catalog, region))

    from .applications import attachments
    from .materials import operations as material_files

    attachments.install(app, material_files)  # the case operations count and claim files through this port

    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(name).bp)
    from . import api

    for name in API_MODULES:
        importlib.import_module(name)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)  # the API takes bearer tokens only (S8)

    from . import cli

    cli.init_app(app)
    return app
