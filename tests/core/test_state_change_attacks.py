"""S8 over every route: a state change is a POST (or, in the bearer-token API, PUT/PATCH/DELETE) and no HTML form
route takes one without its CSRF token: a logged-in user lured to a forged form (another site posting into the
portal with the user's cookie) changes nothing. The matrix is the app's own URL map, so a new route is covered the
day it is added (agents, rosters, payment batches, transfers, phone change...)."""

from __future__ import annotations

from tests.factories import log_in_by_code, mobile

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _url(app, rule) -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        items = getattr(converter, "items", None)
        values[name] = sorted(items)[0] if items else (1 if type(converter).__name__ == "IntegerConverter" else "x")
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=next(iter(rule.methods & UNSAFE)))


def _html_rules(app):
    """Every route outside the API (the only blueprint exempt from CSRF: it takes bearer tokens only)."""
    return [r for r in app.url_map.iter_rules() if r.methods & UNSAFE and not r.rule.startswith("/api/")]


def test_outside_the_api_only_post_changes_state(app):
    wrong = [(r.rule, sorted(r.methods & UNSAFE)) for r in app.url_map.iter_rules()
             if not r.rule.startswith("/api/") and r.methods & (UNSAFE - {"POST"})]
    assert not wrong


def test_every_form_route_refuses_a_post_without_its_csrf_token(app, make_client, db_session):
    browser = log_in_by_code(make_client(), db_session, mobile())
    rules = _html_rules(app)
    assert len(rules) > 50 and any(r.rule.startswith("/me/agents") for r in rules)
    accepted = []
    for rule in rules:
        got = browser.post(_url(app, rule), data={"anything": "1"})
        if got.status_code != 400:
            accepted.append(f"{rule.rule}: {got.status_code}")
    assert not accepted, "\n".join(accepted)
