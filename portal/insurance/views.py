from flask import Blueprint

bp = Blueprint("insurance", __name__)
