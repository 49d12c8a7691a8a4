"""Demo cases at scale (``portal demo --cases N``): applications in every state, written in bulk beside the persons.

Each case is filed by a citizen account bound to a generated person (by phone on record, as binding by the
registered phone does: an active ``person_binding``), for an individual item of the region's catalog that is
filed online, and has gone through the lifecycle's own moves (lifecycle.TRANSITIONS) up to its state: one
timeline event per move, the stamps ``transition`` sets, the acceptance and due dates counted on the
working-day calendar, an open notice while corrections are awaited, a reason where the state needs one. The
form is prefilled from the person's records as a new draft is; the sealed columns are sealed by the bulk write
(core/bulk.py). The documented demo logins get no account here (they still log in and bind as the README says).
Drawn from a random stream of its own, so the persons are the same with or without cases.
"""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from flask import current_app

from ..accounts.models import Account, AccountKind, PersonBinding, citizen_login_key
from ..catalog.schema import Audience, HandlingType
from ..core import clock
from ..core.bulk import allocate_ids, insert_rows
from ..services import handler_for
from . import deadlines, fields, numbers
from .constants import FORM_ENTRY, Action, Defect, MaterialMode, State
from .models import Application, ApplicationEvent, CorrectionNotice
from .operations.notices import CORRECTION_WORKING_DAYS

A = Action
# the moves that lead to each state (after acceptance a notice stops the clock; before it, it does not)
PATHS: dict[State, tuple[tuple[Action, ...], ...]] = {
    State.DRAFT: ((),),
    State.SUBMITTED: ((A.SUBMIT,),),
    State.WITHDRAWN: ((A.SUBMIT, A.WITHDRAW),),
    State.NOT_ACCEPTED: ((A.SUBMIT, A.REFUSE),),
    State.CORRECTION_REQUESTED: ((A.SUBMIT, A.REQUEST_CORRECTION),
                                 (A.SUBMIT, A.ACCEPT, A.START_REVIEW, A.REQUEST_CORRECTION)),
    State.RESUBMITTED: ((A.SUBMIT, A.REQUEST_CORRECTION, A.RESUBMIT),
                        (A.SUBMIT, A.ACCEPT, A.START_REVIEW, A.REQUEST_CORRECTION, A.RESUBMIT)),
    State.ACCEPTED: ((A.SUBMIT, A.ACCEPT),),
    State.UNDER_REVIEW: ((A.SUBMIT, A.ACCEPT, A.START_REVIEW),),
    State.APPROVED: ((A.SUBMIT, A.ACCEPT, A.START_REVIEW, A.APPROVE),),
    State.DENIED: ((A.SUBMIT, A.ACCEPT, A.START_REVIEW, A.DENY),),
    State.PAYING: ((A.SUBMIT, A.ACCEPT, A.START_REVIEW, A.APPROVE, A.START_PAYMENT),),
    State.COMPLETED: ((A.SUBMIT, A.ACCEPT, A.START_REVIEW, A.APPROVE, A.COMPLETE),),
    State.DELIVERED: ((A.SUBMIT, A.ACCEPT, A.START_REVIEW, A.APPROVE, A.COMPLETE, A.DELIVER),),
}
# how often each state is drawn (a working agency: most cases done, a live queue at every step)
STATE_WEIGHTS = {State.DRAFT: 4, State.SUBMITTED: 10, State.WITHDRAWN: 2, State.NOT_ACCEPTED: 3,
                 State.CORRECTION_REQUESTED: 6, State.RESUBMITTED: 3, State.ACCEPTED: 8, State.UNDER_REVIEW: 12,
                 State.APPROVED: 4, State.DENIED: 3, State.PAYING: 3, State.COMPLETED: 30, State.DELIVERED: 12}
CITIZEN_MOVES = frozenset({A.SUBMIT, A.WITHDRAW, A.RESUBMIT})
STAFF_ROLE = {A.ACCEPT: "acceptor", A.REFUSE: "acceptor", A.REQUEST_CORRECTION: "acceptor",
              A.START_REVIEW: "reviewer", A.APPROVE: "reviewer", A.DENY: "reviewer",
              A.START_PAYMENT: "finance", A.COMPLETE: "reviewer", A.DELIVER: "acceptor"}
REASONS = {A.REFUSE: "（演示）申请事项不属于本机构职权范围。", A.DENY: "（演示）经审核，申请人不符合办理条件。",
           A.WITHDRAW: None}
ON_BEHALF_SHARE = 0.08
CASES_PER_APPLICANT = (1, 4)  # an applicant files between these many cases


class CaseMaker:
    """Files ``total`` cases over ``persons`` persons as their chunks are written (``file_for``)."""

    def __init__(self, seed: int, region: str, total: int, persons: int, documented: set[str]):
        """``documented``: the ID numbers of the documented demo citizens (README), who get no generated cases."""
        self.rng = random.Random(f"{seed}-cases")
        self.region, self.total, self.persons = region, total, max(persons, 1)
        self.seen = self.made = self.events_made = self.drawn = 0
        self.units: dict[int, dict[str, Any]] = {}
        self.documented = documented
        self.today = clock.today()
        self.numbers: set[str] = set()
        self._accept_by: dict[date, date] = {}
        self._due: dict[tuple[str, int | None, date], date | None] = {}
        self.items = [] if total <= 0 else self._items()
        self.states = list(STATE_WEIGHTS)
        self.weights = list(STATE_WEIGHTS.values())

    def _items(self) -> list[Any]:
        catalog = current_app.extensions["portal_catalog"]
        items = [i for i in catalog.items if i.online and Audience.individual in i.audience
                 and i.handling.type is not HandlingType.instant]
        if not items:
            raise ValueError(f"the catalog of {self.region} has no individual item filed online")
        return items

    # --- the persons of one written chunk --------------------------------------------------------------

    def file_for(self, persons: list[dict[str, Any]]) -> None:
        """Cases for the persons of a chunk just written (rows with their database ids), in proportion to the
        persons seen so far."""
        if self.total <= 0:
            return
        self.seen += len(persons)
        wanted = round(self.total * min(self.seen, self.persons) / self.persons) - self.made
        if wanted <= 0:
            return
        r = self.rng
        people = [p for p in persons
                  if p["phone"] and p["death_date"] is None and p["id_number"] not in self.documented]
        if not people:
            return
        plans: list[tuple[dict[str, Any], int]] = []
        left = wanted
        for person in r.sample(people, len(people)):
            if left <= 0:
                break
            count = min(left, r.randint(*CASES_PER_APPLICANT))
            plans.append((person, count))
            left -= count
        if left > 0:  # fewer persons than cases: the ones chosen file more
            plans = [(p, n + left // len(plans) + (1 if i < left % len(plans) else 0))
                     for i, (p, n) in enumerate(plans)]
        accounts = self._accounts([p for p, _n in plans])
        cases, events, notices = [], [], []
        for (person, count), account_id in zip(plans, accounts, strict=True):
            for _ in range(count):
                case, case_events, notice = self._case(person, account_id)
                cases.append(case)
                events.append(case_events)
                notices.append(notice)
        ids = allocate_ids(Application.__table__, len(cases))
        for case, case_id, case_events, notice in zip(cases, ids, events, notices, strict=True):
            case["id"] = case_id
            for event in case_events:
                event["application_id"] = case_id
            if notice:
                notice["application_id"] = case_id
        insert_rows(Application.__table__, cases)
        flat = [e for case_events in events for e in case_events]
        insert_rows(ApplicationEvent.__table__, flat)
        insert_rows(CorrectionNotice.__table__, [n for n in notices if n])
        self.made += len(cases)
        self.events_made += len(flat)

    def _accounts(self, persons: list[dict[str, Any]]) -> list[int]:
        """A citizen account bound to each person by the phone on record (as the binding by phone makes it)."""
        now = clock.now()
        ids = allocate_ids(Account.__table__, len(persons))
        accounts, bindings = [], []
        for person, account_id in zip(persons, ids, strict=True):
            accounts.append({"id": account_id, "kind": AccountKind.CITIZEN.value,
                             "login_key": citizen_login_key(person["phone"]), "display_name": person["name"],
                             "phone": person["phone"], "phone_index": person["phone_index"],
                             "person_id": person["id"], "created_at": now, "last_login_at": None})
            bindings.append({"account_id": account_id, "person_id": person["id"], "status": "active",
                             "method": "phone", "created_at": now, "proven_at": now})
        insert_rows(Account.__table__, accounts)
        insert_rows(PersonBinding.__table__, bindings)
        return ids

    # --- one case --------------------------------------------------------------------------------------

    def _case(self, person: dict[str, Any], account_id: int) -> tuple[dict[str, Any], list[dict[str, Any]],
                                                                         dict[str, Any] | None]:
        r = self.rng
        item = r.choice(self.items)
        handler = handler_for(item)
        # the first cases go through every state once, so even a small set has each; then by weight
        state = (self.states[self.drawn] if self.drawn < len(self.states)
                 else r.choices(self.states, weights=self.weights)[0])
        self.drawn += 1
        if state is State.PAYING and not handler.is_money:
            state = State.APPROVED
        path = r.choice(PATHS[state])
        if handler.is_money and state in (State.COMPLETED, State.DELIVERED):
            at = path.index(A.COMPLETE)
            path = (*path[:at], A.START_PAYMENT, *path[at:])
        on_behalf = item.proxy != "not_allowed" and (item.proxy == "required" or r.random() < ON_BEHALF_SHARE)
        principal = self._principal(person) if on_behalf else None
        case = self._row(item, handler, person, account_id, principal)
        # the moves, a few days apart, ending no later than today
        step_days = [r.randint(1, 6) for _ in path]
        moment = clock.now() - timedelta(days=sum(step_days) + r.randint(0, 120), minutes=r.randint(0, 600))
        case["created_at"] = case["updated_at"] = moment - timedelta(days=r.randint(0, 3))
        events, notice = [], None
        for action, days in zip(path, step_days, strict=True):
            before = case["state"]
            after = _next(before, action)
            self._stamp(case, action, after, moment)
            if action is A.REQUEST_CORRECTION:
                notice = self._notice(item, case, moment)
            elif action is A.RESUBMIT and notice is not None:
                self._resolve(case, notice, moment)
            events.append({
                "action": action.value, "from_state": before.value, "to_state": after.value, "at": moment,
                "actor_id": account_id if action in CITIZEN_MOVES else None,
                "actor_kind": AccountKind.CITIZEN.value if action in CITIZEN_MOVES else AccountKind.STAFF.value,
                "actor_role": "citizen" if action in CITIZEN_MOVES else STAFF_ROLE[action],
                "reason": REASONS.get(action), "detail_json": self._detail(action, case, notice)})
            case["state"] = after
            case["updated_at"] = moment
            moment += timedelta(days=days, minutes=r.randint(0, 300))
        case["state"] = case["state"].value
        case["queue"], case["work_due"] = _queue(case)
        return case, events, notice

    def _row(self, item: Any, handler: Any, person: dict[str, Any], account_id: int,
             principal: dict[str, Any] | None) -> dict[str, Any]:
        unit = self.units.get(person["unit_id"]) if person["unit_id"] else None
        specs = fields.field_specs(item, "individual")
        if principal:
            values = fields.record_values(item=item) | {"person.name": principal["name"],
                                                         "person.id_number": principal["id_number"]}
        else:
            values = fields.record_values(person=SimpleNamespace(**person),
                                          unit=SimpleNamespace(**unit) if unit else None, item=item)
        form = fields.prefill(specs, values)
        return {
            "number": None, "region": self.region, "item_code": item.code, "item_name": item.name.zh,
            "handler": item.handler, "audience": "individual", "is_money": handler.is_money, "is_instant": False,
            "limit_kind": item.time_limit.kind.value, "limit_value": item.time_limit.value,
            "limit_wording": item.time_limit.wording[:100], "applicant_id": account_id,
            "person_id": None if principal else person["id"], "unit_id": None,
            "applicant_name": person["name"], "on_behalf": bool(principal),
            "principal_name": principal["name"] if principal else None,
            "principal_id_number": principal["id_number"] if principal else None,
            "principal_id_index": principal["id_number_index"] if principal else None,
            "principal_relation": principal["relation"] if principal else None,
            "form_json": json.dumps(form, ensure_ascii=False, sort_keys=True, default=str),
            "materials_json": json.dumps({m.id: MaterialMode.DATA_SHARING.value for m in item.materials
                                          if m.provided_without_upload}, sort_keys=True),
            "state": State.DRAFT, "version": 1, "idempotency_key": None, "assignee_id": None, "assigned_at": None,
            "submitted_at": None, "accepted_at": None, "decided_at": None, "completed_at": None,
            "delivered_at": None, "closed_at": None, "accept_by": None, "due_date": None,
            "paused_working_days": 0, "decision_reason": None, "result_text": None,
        }

    def _principal(self, person: dict[str, Any]) -> dict[str, Any]:
        """Someone the applicant files for: a parent of theirs, with a 身份证 of the same district (valid check
        digit); the person filed for need not be insured here."""
        from ..core.validators import id_check_digit
        from ..insurance.models import id_number_index

        r = self.rng
        birth = date(r.randint(1935, 1960), r.randint(1, 12), r.randint(1, 28))
        first17 = f"{person['hukou_division_code'] or '220102'}{birth:%Y%m%d}{r.randrange(1000):03d}"
        number = first17 + id_check_digit(first17)
        return {"name": person["name"][0] + r.choice("建秀国兰志桂"), "id_number": number,
                "id_number_index": id_number_index(number), "relation": r.choice(("父母", "配偶"))}

    def _stamp(self, case: dict[str, Any], action: Action, after: State, now: datetime) -> None:
        """What ``operations.base._stamp`` sets for the move (the number at submission, dates, the reason)."""
        local = clock.to_local(now).date()
        if action is A.SUBMIT:
            case["submitted_at"] = now
            case["number"] = self._number(local)
            if local not in self._accept_by:
                self._accept_by[local] = deadlines.accept_by(local)
            case["accept_by"] = self._accept_by[local]
        elif action is A.ACCEPT:
            case["accepted_at"] = now
            key = (case["limit_kind"], case["limit_value"], local)
            if key not in self._due:
                self._due[key] = deadlines.due_date(*key)
            case["due_date"] = self._due[key]
        elif action in (A.APPROVE, A.DENY, A.REFUSE):
            case["decided_at"] = now
            if action is not A.APPROVE:
                case["decision_reason"] = REASONS[action]
        elif action is A.COMPLETE:
            case["completed_at"] = now
            case["result_text"] = "（演示）已按申请办结。"
        elif action is A.DELIVER:
            case["delivered_at"] = now
        if after.is_final:
            case["closed_at"] = now

    def _number(self, day: date) -> str:
        while True:
            number = numbers.new_number(self.region, day)
            if number not in self.numbers:
                self.numbers.add(number)
                return number

    def _notice(self, item: Any, case: dict[str, Any], now: datetime) -> dict[str, Any]:
        local = clock.to_local(now).date()
        material = self.rng.choice(item.materials).id if item.materials else FORM_ENTRY
        return {"sequence": 1, "issued_at": now, "issued_by_id": None, "issued_on": local,
                "respond_by": deadlines.correction_due(local, CORRECTION_WORKING_DAYS),
                "pauses_clock": case["accepted_at"] is not None,
                "entries_json": json.dumps([{"material": material, "defect": Defect.DEFECTIVE.value,
                                             "note": "（演示）复印件不清晰，请重新上传。"}], ensure_ascii=False),
                "note": None, "resolved_at": None, "resolved_on": None, "response_note": None, "new_defect": False}

    def _resolve(self, case: dict[str, Any], notice: dict[str, Any], now: datetime) -> None:
        """A resubmission answers the notice; after acceptance the paused days move the due date."""
        local = clock.to_local(now).date()
        notice.update(resolved_at=now, resolved_on=local, response_note="（演示）已重新上传。")
        if notice["pauses_clock"] and case["accepted_at"] is not None:
            accepted_on = clock.to_local(case["accepted_at"]).date()
            interval = deadlines.pause_interval(notice["issued_on"], local)
            if interval:
                paused = [interval]
                case["due_date"] = deadlines.due_date(case["limit_kind"], case["limit_value"], accepted_on, paused)
                case["paused_working_days"] = deadlines.paused_days(case["limit_kind"], case["limit_value"], paused,
                                                                    accepted_on)

    @staticmethod
    def _detail(action: Action, case: dict[str, Any], notice: dict[str, Any] | None) -> str:
        detail: dict[str, Any] = {}
        if action is A.ACCEPT:
            detail = {"due": case["due_date"].isoformat() if case["due_date"] else None}
        elif action is A.REQUEST_CORRECTION and notice is not None:
            detail = {"notice": 1, "respond_by": notice["respond_by"].isoformat(),
                      "materials": [e["material"] for e in json.loads(notice["entries_json"])],
                      "pauses_clock": notice["pauses_clock"]}
        return json.dumps(detail, ensure_ascii=False, sort_keys=True)


def _queue(case: dict[str, Any]) -> tuple[str, date | None]:
    """The workbench queue and the day to act by, as its flush listener sets them (workbench/queues.py)."""
    from ..workbench.queues import queue_of, work_due_of

    queue = queue_of(case["state"], accepted=case["accepted_at"] is not None, is_money=case["is_money"])
    return queue, work_due_of(queue, accept_by=case["accept_by"], due_date=case["due_date"])


def _next(state: State, action: Action) -> State:
    from .lifecycle import TRANSITIONS

    return TRANSITIONS[(state, action)]
