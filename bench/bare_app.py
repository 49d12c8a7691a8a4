"""The baseline of bench/http_load.py: a bare Flask app with one route, served by the same gunicorn."""

from flask import Flask

app = Flask(__name__)


@app.get("/ping")
def ping() -> str:
    return "ok"
