"""``portal units agent add`` and ``portal institutions agent add``: register a unit's or a designated institution's
first agent at the service window, from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from ..core.audit import Actor
from ..core.db import db
from ..core.errors import DomainError, ValidationFailed
from ..core.masking import mask_phone


def _demo_institutions(region: str) -> str | None:
    from .demo import ensure_demo_institution_agent, ensure_demo_institutions

    made = ensure_demo_institutions(region)
    ensure_demo_institution_agent(region)
    return f"demo institutions: {len(made)} ({', '.join(made)})" if made else None


def _register_at_window(data):
    """Register the first agent ``data`` describes, as the window does, and commit; a refusal is printed with its
    reasons and ends the command with status 1."""
    from .registration import register_at_window

    try:
        agent = register_at_window(data, by=None, actor=Actor("cli", None, "window"))
    except ValidationFailed as exc:
        for field, message in exc.reasons:
            click.echo(f"error: {field or ''}: {message}", err=True)
        sys.exit(1)
    except DomainError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    db.session.commit()
    return agent


def register(group: click.Group) -> None:
    """Attach this feature's commands to the ``portal`` group (and the demo institutions to ``portal demo``)."""
    from ..insurance.commands import DEMO_EXTRAS

    if _demo_institutions not in DEMO_EXTRAS:
        DEMO_EXTRAS.append(_demo_institutions)

    @group.group("units")
    def units_group() -> None:
        """Units (参保单位) and their agents."""

    @units_group.group("agent")
    def agent_group() -> None:
        """A unit's agents."""

    @agent_group.command("add")
    @click.option("--credit-code", required=True, help="The unit's 统一社会信用代码.")
    @click.option("--unit-name", required=True, help="The unit's registered name.")
    @click.option("--legal-rep", required=True, help="The legal representative's name.")
    @click.option("--name", required=True, help="The agent's name.")
    @click.option("--id-number", prompt=True, hide_input=True, help="The agent's 身份证 (prompted, hidden).")
    @click.option("--phone", required=True, help="The agent's mobile number (their login).")
    @with_appcontext
    def agent_add(credit_code: str, unit_name: str, legal_rep: str, name: str, id_number: str, phone: str) -> None:
        """Make the first agent (the administrator) of a unit whose papers were checked at the window. A unit the
        records do not know yet is created awaiting its 单位参保登记."""
        from .registration import FirstAgentRequest

        data = FirstAgentRequest(credit_code, unit_name, legal_rep, name, id_number, phone)
        agent = _register_at_window(data)
        click.echo(f"agent {agent.id} ({mask_phone(agent.phone)}) is the administrator of {agent.unit.name} "
                   f"({agent.unit.credit_code}, {agent.unit.status.value})")

    @group.group("institutions")
    def institutions_group() -> None:
        """Designated medical institutions and pharmacies (定点医药机构) and their agents."""

    @institutions_group.group("agent")
    def institution_agent_group() -> None:
        """An institution's agents."""

    @institution_agent_group.command("add")
    @click.option("--credit-code", required=True, help="The institution's 统一社会信用代码.")
    @click.option("--name", "org_name", required=True, help="The institution's registered name.")
    @click.option("--kind", type=click.Choice(["medical", "pharmacy"]), required=True,
                  help="medical (医疗机构) or pharmacy (零售药店).")
    @click.option("--code", "institution_code", default=None, help="Its 12-character 医保机构编码, if it has one.")
    @click.option("--legal-rep", required=True, help="The legal representative's name.")
    @click.option("--agent-name", required=True, help="The agent's name.")
    @click.option("--id-number", prompt=True, hide_input=True, help="The agent's 身份证 (prompted, hidden).")
    @click.option("--phone", required=True, help="The agent's mobile number (their login).")
    @with_appcontext
    def institution_agent_add(credit_code: str, org_name: str, kind: str, institution_code: str | None,
                              legal_rep: str, agent_name: str, id_number: str, phone: str) -> None:
        """Make the first agent (the administrator) of a designated institution whose papers were checked at the
        window. An institution the register does not know yet is entered, not designated."""
        from .registration import FirstAgentRequest

        data = FirstAgentRequest(credit_code, org_name, legal_rep, agent_name, id_number, phone,
                                 org_kind="institution", institution_kind=kind, institution_code=institution_code)
        agent = _register_at_window(data)
        institution = agent.institution
        click.echo(f"agent {agent.id} ({mask_phone(agent.phone)}) is the administrator of {institution.name} "
                   f"({institution.credit_code}, {institution.code or 'no national code yet'}, "
                   f"{institution.agreement_status})")
