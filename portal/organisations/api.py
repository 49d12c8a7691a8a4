"""``/api/v1/unit/agents…``: the unit administrator's agent management, as on the pages.

Only the unit's administrator reaches these (anyone else: 404, S6). Names and numbers are masked; changes are
audited by the same operations the pages use.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field

from ..accounts import operations as account_ops
from ..accounts.models import Account
from ..accounts.permissions import can_manage_agents
from ..api import current_account, endpoint
from ..core.audit import actor_of
from ..core.db import db
from ..core.errors import NotFound
from ..core.masking import mask_name, mask_phone
from ..core.translation import gettext as _
from .models import AgentStatus

TAGS = ("unit agents",)
MAX_ID = 2**31 - 1


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ScopeIn(_In):
    items: list[str] = Field(default_factory=list, max_length=500, description="Item codes of the region's guide")
    parts: list[str] = Field(default_factory=list, max_length=50, description="Groups of items (the guide's parts)")


class AgentIn(_In):
    name: str = Field(max_length=64)
    phone: str = Field(max_length=32, description="The agent's mobile number: their login")
    id_number: str | None = Field(default=None, max_length=40)
    scope: ScopeIn | None = Field(default=None, description="null: every item of the unit")
    expires_on: date | None = Field(default=None, description="The last day the agent may act; null: no end")


class AgentChangeIn(_In):
    scope: ScopeIn | None = Field(description="null: every item of the unit")
    expires_on: date | None = None


class AgentStatusIn(_In):
    status: Literal["active", "suspended"]


class ScopeOut(BaseModel):
    items: list[str]
    parts: list[str]


class AgentOut(BaseModel):
    id: int
    name_masked: str
    phone_masked: str
    is_administrator: bool
    status: Literal["active", "suspended", "expired"]
    scope: ScopeOut | None = Field(description="null: every item of the unit")
    expires_on: date | None


class AgentList(BaseModel):
    agents: list[AgentOut]


def _to_api(agent: Account) -> AgentOut:
    mandate = agent.mandate
    suspended = mandate is not None and mandate.status == AgentStatus.SUSPENDED
    scope = None if agent.is_unit_admin or mandate is None else mandate.scope
    return AgentOut(id=agent.id, name_masked=mask_name(agent.display_name), phone_masked=mask_phone(agent.phone),
                    is_administrator=agent.is_unit_admin,
                    status="suspended" if suspended else ("active" if agent.is_active else "expired"),
                    scope=ScopeOut(**scope) if scope is not None else None,
                    expires_on=mandate.expires_on if mandate else None)


def _unit():
    account = current_account()
    if not can_manage_agents(account, account.unit):
        raise NotFound(_("The page or record you asked for does not exist, or you may not see it."))
    return account, account.unit


def _agent(agent_id: int) -> tuple[Account, Account]:
    account, unit = _unit()
    agent = db.session.get(Account, agent_id) if 0 < agent_id <= MAX_ID else None
    if agent is None or agent.unit_id != unit.id or not agent.is_enabled:
        raise NotFound(_("No such agent."))
    return account, agent


@endpoint("/unit/agents", summary="The unit's agents (administrator only)", tags=TAGS, response=AgentList,
          errors=(401, 404))
def list_unit_agents():
    _account, unit = _unit()
    return AgentList(agents=[_to_api(a) for a in account_ops.unit_agents(unit)])


@endpoint("/unit/agents", method="POST", summary="Add an agent with the items they may file and a last day",
          tags=TAGS, body=AgentIn, response=AgentOut, status=201, errors=(400, 401, 404, 422))
def add_unit_agent(body: AgentIn):
    account, unit = _unit()
    data = account_ops.NewAgent(body.phone, body.name, body.id_number,
                                body.scope.model_dump() if body.scope is not None else None, body.expires_on)
    agent = account_ops.add_agent(unit, data, by=account, actor=actor_of(account))
    db.session.commit()
    return _to_api(agent)


@endpoint("/unit/agents/<int:agent_id>", method="PUT", summary="Change an agent's items and last day", tags=TAGS,
          body=AgentChangeIn, response=AgentOut, errors=(400, 401, 404, 422))
def change_unit_agent(agent_id: int, body: AgentChangeIn):
    account, agent = _agent(agent_id)
    account_ops.change_agent(agent, account_ops.AgentChange(
        body.scope.model_dump() if body.scope is not None else None, body.expires_on), by=account,
        actor=actor_of(account))
    db.session.commit()
    return _to_api(agent)


@endpoint("/unit/agents/<int:agent_id>/status", method="PUT", summary="Suspend or resume an agent", tags=TAGS,
          body=AgentStatusIn, response=AgentOut, errors=(400, 401, 404, 422))
def set_unit_agent_status(agent_id: int, body: AgentStatusIn):
    account, agent = _agent(agent_id)
    operation = account_ops.suspend_agent if body.status == "suspended" else account_ops.resume_agent
    operation(agent, by=account, actor=actor_of(account))
    db.session.commit()
    return _to_api(agent)


@endpoint("/unit/agents/<int:agent_id>", method="DELETE", summary="Remove an agent (logged out everywhere)",
          tags=TAGS, status=204, errors=(400, 401, 404, 422))
def remove_unit_agent(agent_id: int):
    account, agent = _agent(agent_id)
    account_ops.remove_agent(agent, by=account, actor=actor_of(account))
    db.session.commit()
    return current_app.response_class(status=204)
