"""Login wiring (replaced by the accounts feature)."""

from flask import Flask

from ..extensions import login_manager


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"

    @login_manager.user_loader
    def _load(_user_id: str):
        return None
