from flask import Blueprint, abort

bp = Blueprint("catalog", __name__, url_prefix="/guide")


@bp.get("/")
def index():
    abort(404)
