"""The baselines of bench/http_load.py, served by the same gunicorn as the portal.

- ``/ping``: a bare Flask app with one route.
- ``/floor/<page>``: the floor of a portal page on this stack: the SQL statements the portal ran for that page
  (captured by bench/http_load.py as the page was served, with their parameters; ``BENCH_FLOORS``, a pickle),
  run again by psycopg on one connection per worker and committed, and HTML of the page's size rendered by Jinja
  with every row fetched. No ORM, no session, no translation, no layout: what the page cannot go below on Flask,
  psycopg and Jinja, whatever the portal's own code does.
"""

import os
import pickle
from pathlib import Path

from flask import Flask
from jinja2 import Environment
from markupsafe import Markup

app = Flask(__name__)
FLOORS = pickle.loads(Path(os.environ["BENCH_FLOORS"]).read_bytes()) if os.environ.get("BENCH_FLOORS") else {}
PAGE = Environment(autoescape=True).from_string(
    "{{ page }}<table>{% for row in rows %}<tr>{% for value in row %}<td>{{ value }}</td>{% endfor %}</tr>"
    "{% endfor %}</table>")
_connection = None


@app.get("/ping")
def ping() -> str:
    return "ok"


@app.get("/floor/<name>")
def floor(name: str) -> str:
    global _connection
    if _connection is None:  # one per worker, opened on its first request
        import psycopg

        _connection = psycopg.connect(os.environ["BENCH_FLOOR_DSN"])
    captured = FLOORS[name]
    rows = []
    with _connection.cursor() as cursor:
        for statement, parameters in captured["statements"]:
            cursor.execute(statement, parameters)
            if cursor.description is not None:
                rows.extend(cursor.fetchall())
    _connection.commit()
    return PAGE.render(page=Markup(captured["html"]), rows=rows)
