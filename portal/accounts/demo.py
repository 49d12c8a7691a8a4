"""Demo logins for development and acceptance testing (never in production).

Staff: one account per role, all with the password ``DEMO_STAFF_PASSWORD`` and a FIXED, documented TOTP
secret, so a tester can compute codes with any authenticator app or ``portal staff totp USERNAME``.
The demo unit's first agent uses ``DEMO_UNIT_AGENT_PHONE``. Citizen accounts are created on first
login (any demo citizen's phone + the code from the SMS outbox), then bound with name + 身份证.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from ..core import clock
from ..core.audit import Actor
from ..core.db import db
from . import operations
from .models import Account, Role, staff_login_key

DEMO_STAFF_PASSWORD = "Yibao#Demo2025"  # noqa: S105 (documented demo password; never in production)
DEMO_STAFF = (
    # username, display name, roles, fixed base32 TOTP secret (160 bits)
    ("shouli", "受理员（演示）", frozenset({Role.ACCEPTOR}), "SHOULIDEMOTOTPAAAAAAAAAAAAAAAAAA"),
    ("shenhe", "审核员（演示）", frozenset({Role.REVIEWER}), "SHENHEDEMOTOTPAAAAAAAAAAAAAAAAAA"),
    ("caiwu", "财务（演示）", frozenset({Role.FINANCE}), "CAIWUDEMOTOTPAAAAAAAAAAAAAAAAAAA"),
    ("kezhang", "科长（演示）", frozenset({Role.CHIEF}), "KEZHANGDEMOTOTPAAAAAAAAAAAAAAAAA"),
    ("admin", "管理员（演示）", frozenset({Role.ADMIN}), "ADMINDEMOTOTPAAAAAAAAAAAAAAAAAAA"),
)


def _is_production() -> bool:
    return current_app.config["PORTAL_ENV"] == "production"


def _demo_unit():
    from ..insurance.demo import demo_unit
    from ..insurance.models import Unit

    credit_code = demo_unit(current_app.config["PORTAL_REGION"]).credit_code
    return db.session.execute(select(Unit).where(Unit.credit_code == credit_code)).scalar_one_or_none()


def ensure_demo_accounts() -> list[str]:
    """Create the demo staff and the demo unit's first agent if missing; returns what was created.

    Flushes and commits nothing itself (the CLI commits). Refuses to run in production.
    """
    if _is_production():
        raise RuntimeError("demo accounts are never created in production")
    created: list[str] = []
    system = Actor.system()
    for username, name, roles, secret in DEMO_STAFF:
        if db.session.execute(select(Account.id).where(Account.login_key == staff_login_key(username))).first():
            continue
        account, _secret = operations.create_staff(
            operations.NewStaff(username, name, DEMO_STAFF_PASSWORD, roles, totp_secret=secret), actor=system)
        account.password_changed_at = clock.now()
        created.append(f"staff {username}")
    unit = _demo_unit()
    if unit is not None:
        from ..insurance.demo import DEMO_UNIT_AGENT_PHONE

        has_first = db.session.execute(
            select(Account.id).where(Account.unit_id == unit.id, Account.is_unit_admin)).first()
        if not has_first:
            from ..organisations.models import ProofMethod

            operations.register_first_agent(unit, operations.NewAgent(DEMO_UNIT_AGENT_PHONE, "单位经办人（演示）"),
                                            actor=system, proof=ProofMethod.DEMO)
            created.append(f"agent of {unit.name}")
    from ..organisations.demo import ensure_demo_institution_agent, ensure_demo_institutions

    region = current_app.config["PORTAL_REGION"]
    created += [f"institution {name}" for name in ensure_demo_institutions(region)]
    institution = ensure_demo_institution_agent(region)
    if institution:
        created.append(f"agent of {institution}")
    db.session.flush()
    return created


def describe_demo_logins() -> str:
    """The demo logins, for ``portal up`` (empty in production or when the demo accounts do not exist)."""
    if _is_production():
        return ""
    present = set(db.session.execute(select(Account.username).where(Account.kind == "staff")).scalars())
    lines: list[str] = []
    staff = [row for row in DEMO_STAFF if row[0] in present]
    if staff:
        lines.append(f"Demo staff (login at /login/staff), password {DEMO_STAFF_PASSWORD!r}:")
        for username, _name, roles, secret in staff:
            role = ", ".join(sorted(r.value for r in roles))
            lines.append(f"  {username:<8} {role:<9} TOTP secret {secret}  "
                         f"(current code: portal staff totp {username})")
    unit = _demo_unit()
    if unit is not None:
        from ..insurance.demo import DEMO_UNIT_AGENT_PHONE

        lines.append(f"Demo unit agent (login at /login/agent): credit code {unit.credit_code}, "
                     f"mobile {DEMO_UNIT_AGENT_PHONE}")
    from ..organisations.demo import DEMO_INSTITUTION_AGENT_PHONE
    from ..organisations.models import Institution

    agent = db.session.execute(select(Account).join(Institution, Institution.id == Account.institution_id).where(
        Institution.is_demo, Account.is_unit_admin)).scalars().first()
    if agent is not None:
        lines.append(f"Demo institution agent (login at /login/agent?org=institution): code "
                     f"{agent.institution.code}, mobile {DEMO_INSTITUTION_AGENT_PHONE}")
    from ..insurance.demo import demo_citizens
    from ..insurance.models import Person, id_number_index

    loaded = [c for c in demo_citizens(current_app.config["PORTAL_REGION"])
              if db.session.execute(select(Person.id).where(Person.id_number_index == id_number_index(c.id_number)))
              .first()]
    if loaded:
        lines.append("Demo citizens (login at /login/citizen with the phone, then bind with name + ID number; "
                     "fictitious people):")
        for citizen in loaded:
            lines.append(f"  {citizen.phone}  {citizen.name}  {citizen.id_number}  ({citizen.key})")
    if lines:
        lines.append("SMS codes: `portal sms outbox` or http://127.0.0.1:5000/dev/outbox (development only)")
    return "\n".join(lines)
