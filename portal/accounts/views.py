from flask import Blueprint, abort

bp = Blueprint("accounts", __name__)


@bp.get("/login")
def login():
    abort(404)


@bp.post("/logout")
def logout():
    abort(404)


@bp.get("/me")
def home():
    abort(404)
