"""One app instance in its own process, for tests/deploy/test_redis_limits.py.

Builds the portal from its ``PORTAL_*`` environment (its own SQLite database), then for each phone number read
from stdin asks for a login code through the API and prints the HTTP status, one line each.
"""

import json
import sys

from portal import create_app
from portal.core.db import Base, db
from portal.core.models_registry import import_all_models

app = create_app()
import_all_models()
with app.app_context():
    Base.metadata.create_all(db.engine)
client = app.test_client()
print("ready", flush=True)
for line in sys.stdin:
    response = client.post("/api/v1/auth/sms/request", json={"phone": line.strip()})
    error = (response.get_json() or {}).get("error", {})
    print(json.dumps([response.status_code, response.headers.get("Retry-After"), error.get("code")]), flush=True)
