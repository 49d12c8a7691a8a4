"""Every GET route × every role × every locale renders without a server error (issue 25, point 4).

The world is built once per role through the real operations: a citizen with records, a case, a certificate, a
remote-care filing, a rated case with its rectification and a sampling draw; a unit agent with a case; staff of
each role; the agent of a 定点医药机构. Each role's browser then opens every GET rule of ``app.url_map`` with those
ids, in Chinese and in English, and the status must be the one the rules of that area give (never 5xx). A
translation that breaks a page (a stray ``%`` in a msgstr, a missing placeholder) fails here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser

import pytest
from argon2 import PasswordHasher
from flask import Flask

from portal.accounts import binding as binding_ops
from portal.accounts import operations as account_ops
from portal.accounts import passwords
from portal.accounts.models import Role
from portal.accounts.tokens import issue_token
from portal.applications import operations as ops
from portal.applications.constants import MaterialMode
from portal.certificates import operations as certificates
from portal.certificates.constants import CertificateKind
from portal.core import clock
from portal.core.audit import Actor
from portal.core.quoting import CHINESE
from portal.core.web import LOCALES
from portal.insurance.filings import RemoteCareFiling
from portal.ratings import operations as ratings
from portal.sampling import operations as sampling
from tests.applications.conftest import UNIT_ITEM, sample_value
from tests.certificates.conftest import login as sms_login
from tests.certificates.records import build_insured
from tests.conftest import csrf_from
from tests.factories import STAFF_PASSWORD, log_in_by_code

SYSTEM = Actor.system()
NOW = datetime(2026, 12, 1, 10, 0)  # local time, a Tuesday
COMMITMENT_ITEM = "G002036004001"  # 异地安置退休人员备案: a commitment may replace the proof
STAFF_ROLES = {"acceptor": Role.ACCEPTOR, "reviewer": Role.REVIEWER, "finance": Role.FINANCE, "chief": Role.CHIEF,
               "admin": Role.ADMIN}
CHINESE_DOCUMENTS = {"certificates.show"}  # the printed certificate is an official document, in Chinese only
HTML_LANG = {"zh_Hans_CN": "zh-Hans", "en": "en"}
ROLES = ("anonymous", "citizen", "agent", *STAFF_ROLES, "institution")  # institution: a 定点医药机构's agent


def _file(item, by, materials_mode=MaterialMode.AT_WINDOW, commitment: str | None = None):
    case = ops.start_application(item, by=by, actor=SYSTEM)
    data = dict(case.form_data)
    for spec in ops.specs_for(case, item):
        if spec.required and spec.key not in data:
            data[spec.key] = sample_value(spec)
    materials = {m.id: (MaterialMode.DATA_SHARING if m.data_sharing else materials_mode).value for m in item.materials}
    if commitment:
        materials[commitment] = MaterialMode.COMMITMENT.value
    ops.save_draft(case, ops.DraftInput(form=data, materials=materials), by=by, actor=SYSTEM)
    ops.submit_application(case, by=by, actor=SYSTEM)
    return case


@pytest.fixture
def world(app: Flask, db_session, make_person, make_unit, make_staff, make_first_agent, make_institution,
          make_institution_agent, monkeypatch):
    monkeypatch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    catalog = app.extensions["portal_catalog"]
    with clock.frozen(NOW), app.test_request_context("/", headers={"Cookie": "lang=en"}):
        insured = build_insured(db_session, make_person, make_unit)
        staff = {name: make_staff(f"m{name}", roles={role}) for name, role in STAFF_ROLES.items()}
        code = account_ops.request_login_code(account_ops.CodeRequest(insured.phone), actor=SYSTEM,
                                              client_ip="10.0.0.1")
        citizen = account_ops.login_with_code(account_ops.CodeLogin(code.code, handle=code.handle), actor=SYSTEM,
                                              client_ip="10.0.0.1")
        binding_ops.bind_real_name(citizen, binding_ops.RealNameBinding(insured.person.name,
                                                                         insured.person.id_number), actor=SYSTEM)
        agent = make_first_agent(insured.unit, name="赵经办")
        clinic_agent = make_institution_agent(make_institution("长春矩阵诊所"), name="孙经办")
        open_case = _file(catalog.get("G002036005000_01_001"), citizen)
        token = ops.issue_progress_token(open_case)
        agent_case = _file(catalog.get(UNIT_ITEM), agent)
        checked = _file(catalog.get(COMMITMENT_ITEM), citizen, commitment="filing_proof")
        acceptor = staff["acceptor"][0]
        ops.accept_application(checked, by=acceptor, actor=SYSTEM)
        ops.complete_application(checked, by=acceptor, actor=SYSTEM)
        rating = ratings.rate_case(checked, ratings.RatingInput("very_dissatisfied", {}, "等了太久"), by=citizen,
                                   actor=SYSTEM)
        certificate_case = certificates.request_certificate(CertificateKind.PERSON_PROOF, by=citizen, actor=SYSTEM)
        certificate = certificates.issued_by(certificate_case)
        sampling.set_rate(COMMITMENT_ITEM, 100, by=staff["chief"][0], actor=SYSTEM)
        draw = sampling.draw_sample(sampling.DrawInput(NOW.date(), NOW.date(), "matrix"), by=staff["chief"][0],
                                    by_label="matrix", actor=SYSTEM)
        db_session.flush()
        filing = db_session.query(RemoteCareFiling).one()
        values = {"case_id": open_case.id, "certificate_id": certificate.id, "filing_id": filing.id,
                  "rect_id": rating.rectification.id, "check_id": draw.checks[0].id, "draw_id": draw.id,
                  "code": "G002036005000_01_001", "token": token, "state": "on", "name": "intake",
                  "category": "resettled_retiree", "filename": "css/portal.css", "file_id": 987654,
                  "agent_id": agent.id, "registration_id": 987654, "what": "staff", "fmt": "pdf",
                  "unit_id": insured.unit.id}
        by_endpoint = {"pages.set_language": {"code": "en"}, "certificates.verify": {"code": certificate.code},
                       "api.verify_certificate": {"code": certificate.code}}
        accounts = {"citizen": citizen, "agent": agent, "institution": clinic_agent,
                    **{name: made[0] for name, made in staff.items()}}
        secrets = {name: made[1] for name, made in staff.items()}
        bearer = {name: issue_token(account)[0] for name, account in accounts.items()}
        db_session.commit()
    return World(values, by_endpoint, {"agent": {"case_id": agent_case.id}}, insured, accounts, secrets, bearer)


@dataclass
class World:
    values: dict
    by_endpoint: dict
    by_role: dict
    insured: object
    accounts: dict
    secrets: dict
    bearer: dict

    def url(self, rule, role: str) -> str:
        args = {name: self.by_endpoint.get(rule.endpoint, {}).get(name, self.by_role.get(role, {}).get(
            name, self.values[name])) for name in rule.arguments}
        return rule.build(args)[1]


def browser_for(role: str, world: World, make_client, db_session):
    browser = make_client()
    if role == "citizen":
        sms_login(browser, db_session, world.insured.phone)
    elif role == "agent":
        sms_login(browser, db_session, world.accounts["agent"].phone, unit=world.insured.unit)
    elif role == "institution":
        clinic_agent = world.accounts["institution"]
        log_in_by_code(browser, db_session, clinic_agent.phone, institution=clinic_agent.institution)
    elif role != "anonymous":
        token = csrf_from(browser.get("/login/staff").get_data(as_text=True))
        response = browser.post("/login/staff", data={
            "csrf_token": token, "username": world.accounts[role].username, "password": STAFF_PASSWORD,
            "totp": passwords.current_totp(world.secrets[role], clock.now())})
        assert response.status_code == 302, response.get_data(as_text=True)
    return browser


# What each role gets on each GET route, in the order of ROLES:
#   anonymous citizen agent | acceptor reviewer finance chief admin | institution
# Rules: public pages 200 to all; a page that needs a login sends the anonymous to it (302; the API says 401);
# a citizen's or agent's own page is 404 to everyone else; every /staff URL is 404 to citizens and agents and
# 403 to staff whose roles do not open it (accounts.staff_area); no material file exists (987654): 404. The
# institution's agent (a 定点医药机构's) has no unit: a unit's records, roster and agents' API are 404 to them.
EXPECTED = {
    "pages.home": "200 200 200 200 200 200 200 200 200",
    "api.list_applications": "401 200 200 200 200 200 200 200 200",
    "api.get_application": "401 200 200 404 404 404 404 404 404",
    "api.list_material_files": "401 200 200 404 404 404 404 404 404",
    "api.api_rating": "401 200 200 404 404 404 404 404 404",
    "api.application_receipt": "401 200 200 404 404 404 404 404 404",
    "api.application_receipt_pdf": "401 200 200 404 404 404 404 404 404",
    "api.application_timeline": "401 200 200 404 404 404 404 404 404",
    "api.list_filing_items": "401 200 200 200 200 200 200 200 200",
    "api.list_items": "200 200 200 200 200 200 200 200 200",
    "api.get_item": "200 200 200 200 200 200 200 200 200",
    "api.list_certificates": "401 200 200 200 200 200 200 200 200",
    "api.get_certificate": "401 200 404 404 404 404 404 404 404",
    "api.certificate_pdf": "401 200 404 404 404 404 404 404 404",
    "api.verify_certificate": "200 200 200 200 200 200 200 200 200",
    "api.get_material_file": "401 404 404 404 404 404 404 404 404",
    "api.api_inbox": "401 200 200 200 200 200 200 200 200",
    "api.account_me": "401 200 200 200 200 200 200 200 200",
    "api.openapi_document": "200 200 200 200 200 200 200 200 200",
    "api.progress_by_token": "200 200 200 200 200 200 200 200 200",
    "api.my_records": "401 200 404 404 404 404 404 404 404",
    "api.my_account": "401 200 404 404 404 404 404 404 404",
    "api.my_contributions": "401 200 404 404 404 404 404 404 404",
    "api.unit_records": "401 404 200 404 404 404 404 404 404",
    "api.unit_contributions": "401 404 200 404 404 404 404 404 404",
    "api.unit_staff": "401 404 200 404 404 404 404 404 404",
    "api.remote_care_categories": "200 200 200 200 200 200 200 200 200",
    "api.remote_care_divisions": "200 200 200 200 200 200 200 200 200",
    "api.remote_care_filings": "401 200 200 200 200 200 200 200 200",
    "api.remote_care_filing": "401 200 404 404 404 404 404 404 404",
    "api.remote_care_form_pdf": "401 200 404 404 404 404 404 404 404",
    "applications.mine": "302 200 200 404 404 404 404 404 200",
    "applications.detail": "302 200 200 404 404 404 404 404 404",
    "applications.correct": "302 302 302 404 404 404 404 404 404",
    "applications.edit": "302 302 302 404 404 404 404 404 404",
    "ratings.rate": "302 200 200 404 404 404 404 404 404",
    "applications.receipt": "302 200 200 404 404 404 404 404 404",
    "applications.receipt_pdf": "302 200 200 404 404 404 404 404 404",
    "applications.start": "200 200 200 200 200 200 200 200 200",
    "api.get_roster": "401 404 404 404 404 404 404 404 404",
    "rosters.page": "302 404 200 404 404 404 404 404 404",  # the agent's 缴费基数申报 takes a roster
    "rosters.template_xlsx": "302 404 200 404 404 404 404 404 404",
    "workbench.case_roster": "302 404 404 404 404 404 404 403 404",
    "accounts.bind": "302 302 404 404 404 404 404 404 404",
    "accounts.bind_proof": "302 302 404 404 404 404 404 404 404",
    "accounts.disown": "404 404 404 404 404 404 404 404 404",  # a forged "不是我" link
    "workbench.bindings": "302 404 404 200 200 200 200 403 404",
    "calendar.index": "302 404 404 403 403 403 403 200 404",
    "catalog_notes.index": "302 404 404 200 200 200 200 200 404",
    "certificates.mine": "302 200 200 404 404 404 404 404 200",
    "certificates.show": "302 200 404 404 404 404 404 404 404",
    "certificates.pdf": "302 200 404 404 404 404 404 404 404",
    "accounts.dev_outbox": "404 404 404 404 404 404 404 404 404",
    "pages.set_elder_mode": "302 302 302 302 302 302 302 302 302",
    "materials.view": "302 404 404 404 404 404 404 404 404",
    "catalog.index": "200 200 200 200 200 200 200 200 200",
    "catalog.contacts": "200 200 200 200 200 200 200 200 200",
    "institutions.directory": "200 200 200 200 200 200 200 200 200",
    "catalog.item": "200 200 200 200 200 200 200 200 200",
    "catalog.checklist": "200 200 200 200 200 200 200 200 200",
    "pages.healthz": "200 200 200 200 200 200 200 200 200",
    "notifications.inbox": "302 200 200 200 200 200 200 200 200",
    "pages.set_language": "302 302 302 302 302 302 302 302 302",
    "accounts.login": "200 302 302 302 302 302 302 302 302",
    "accounts.login_agent": "200 200 200 200 200 200 200 200 200",
    "accounts.login_citizen": "200 200 200 200 200 200 200 200 200",
    "accounts.login_ecredential": "200 200 200 200 200 200 200 200 200",
    "accounts.enter_code": "302 302 302 302 302 302 302 302 302",
    "accounts.login_staff": "200 200 200 200 200 200 200 200 200",
    "accounts.home": "302 200 200 200 200 200 200 200 200",
    "organisations.agents": "302 404 200 404 404 404 404 404 200",
    "api.list_unit_agents": "401 404 200 404 404 404 404 404 404",
    "organisations.agent": "302 404 404 404 404 404 404 404 404",
    "organisations.register": "200 200 200 200 200 200 200 200 200",
    "organisations.license_return": "404 404 404 404 404 404 404 404 404",
    "organisations.registered": "302 302 302 302 302 302 302 302 302",
    "organisations_staff.index": "302 404 404 200 200 200 200 403 404",
    "organisations_staff.show": "302 404 404 404 404 404 404 403 404",
    "organisations_staff.letter": "302 404 404 404 404 404 404 403 404",
    "organisations_window.index": "302 404 404 200 403 403 200 200 404",
    "organisations_window.show": "302 404 404 200 403 403 200 200 404",
    "insurance.person_records": "302 200 404 404 404 404 404 404 404",
    "insurance.person_account": "302 200 404 404 404 404 404 404 404",
    "insurance.person_benefits": "302 200 404 404 404 404 404 404 404",
    "insurance.person_contributions": "302 200 404 404 404 404 404 404 404",
    "progress.show": "200 200 200 200 200 200 200 200 200",
    "progress.details": "302 302 302 302 302 302 302 302 302",
    "progress.lookup": "200 200 200 200 200 200 200 200 200",
    "progress.enter_code": "302 302 302 302 302 302 302 302 302",
    "phone_change.start": "302 404 404 404 404 404 404 404 404",  # 四川 SC07 only: the suite serves jilin
    "phone_change.code": "302 404 404 404 404 404 404 404 404",
    "remote_care.index": "200 200 200 200 200 200 200 200 200",
    "remote_care.divisions_index": "200 200 200 200 200 200 200 200 200",
    "remote_care.file": "302 200 200 200 200 200 200 200 200",
    "remote_care.mine": "302 200 200 200 200 200 200 200 200",
    "remote_care.detail": "302 200 404 404 404 404 404 404 404",
    "remote_care.change": "302 200 404 404 404 404 404 404 404",
    "remote_care.pdf": "302 200 404 404 404 404 404 404 404",
    "workbench.index": "302 404 404 302 302 302 302 403 404",
    "workbench.case": "302 404 404 200 200 200 200 403 404",
    "dashboard.index": "302 404 404 403 403 403 200 403 404",
    "national.index": "302 404 404 200 200 200 200 403 404",
    "transfer.index": "302 404 404 200 200 200 200 403 404",
    "transfer.show": "302 404 404 404 404 404 404 403 404",
    "transfer.letter": "302 404 404 404 404 404 404 403 404",
    "transfer.mine": "302 200 200 200 200 200 200 200 200",
    "dashboard.export": "302 404 404 403 403 403 200 403 404",
    "claims.payments": "302 404 404 403 403 200 403 403 404",
    # the world's case is no claim: no payment notice for anyone; the staff copy is for case workers only
    "claims.payment_notice": "302 404 404 404 404 404 404 404 404",
    "claims.staff_payment_notice": "302 404 404 404 404 404 404 403 404",
    # the world's case is no settlement: no statement for anyone; the staff copy is for case workers only
    "settlement.statement": "302 404 404 404 404 404 404 404 404",
    "settlement.staff_statement": "302 404 404 404 404 404 404 403 404",
    "accounts.staff_password": "302 404 404 200 200 200 200 200 404",
    "workbench.queue": "302 404 404 200 200 200 200 403 404",
    "ratings.statistics": "302 404 404 403 403 403 200 403 404",
    "ratings.rectifications": "302 404 404 403 403 403 200 403 404",
    "ratings.rectification": "302 404 404 403 403 403 200 403 404",
    "sampling.index": "302 404 404 403 200 403 200 200 404",
    "sampling.show_check": "302 404 404 403 200 403 200 200 404",
    "sampling.show_draw": "302 404 404 403 200 403 200 200 404",
    "static": "200 200 200 200 200 200 200 200 200",
    "insurance.unit_records": "302 404 200 404 404 404 404 404 404",
    "insurance.unit_contributions": "302 404 200 404 404 404 404 404 404",
    "insurance.unit_contributions_csv": "302 404 200 404 404 404 404 404 404",
    "insurance.unit_staff": "302 404 200 404 404 404 404 404 404",
    "insurance.unit_staff_csv": "302 404 200 404 404 404 404 404 404",
    "insurance.unit_statement": "302 404 200 404 404 404 404 404 404",
    "certificates.verify_form": "200 200 200 200 200 200 200 200 200",
    "certificates.verify": "200 200 200 200 200 200 200 200 200",
}


def test_every_get_route_is_covered(app):
    """A new GET route must be added to EXPECTED, so it is rendered in every locale for every role."""
    routes = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert routes == set(EXPECTED)


def test_every_get_route_renders_in_every_locale_for_every_role(world, app, make_client, db_session):
    rules = sorted((r for r in app.url_map.iter_rules() if "GET" in r.methods), key=lambda r: r.rule)
    wrong = []
    with clock.frozen(NOW):
        for index, role in enumerate(ROLES):
            browser = browser_for(role, world, make_client, db_session)
            for locale in LOCALES:
                for rule in rules:
                    browser.set_cookie("lang", locale)  # again each time: /lang/<code> changes it
                    url = world.url(rule, role)
                    bearer = world.bearer.get(role) if url.startswith("/api/") else None
                    with browser.get(url, headers={"Authorization": f"Bearer {bearer}"} if bearer else {}) as got:
                        expected = int(EXPECTED[rule.endpoint].split()[index])
                        if got.status_code != expected:
                            wrong.append(f"{role:9} {locale:10} {url}: {got.status_code}, expected {expected}")
                        elif got.mimetype == "text/html" and got.status_code == 200 and rule.endpoint not in \
                                CHINESE_DOCUMENTS and \
                                f'<html lang="{HTML_LANG[locale]}"' not in got.get_data(as_text=True):
                            wrong.append(f"{role:9} {locale:10} {url}: not in {locale}")
    assert not wrong, "\n".join(wrong)


# --- English pages speak English (issue 17) -----------------------------------------------------------------------
# Beyond each GET rule with the world's ids, pages whose content depends on a query: a guide search, a destination
# chosen in the 备案 form (its city list), every workbench queue.
MORE_URLS = {
    "anonymous": ["/?q=%E5%BC%82%E5%9C%B0", "/guide/?q=yidi", "/guide/?q=%E5%87%AD%E8%AF%81"],
    "citizen": ["/remote-care/file/resettled_retiree?province=440000&city=440100"],
    "acceptor": [f"/staff/queues/{name}" for name in ("correction", "review", "payment", "due_soon", "overdue",
                                                      "done")] + ["/staff/queues/intake?item=G002036005000_01_001"],
}
DRAFT_OF = {"citizen": "G002036005000_01_001", "agent": UNIT_ITEM,
            "institution": "J002036009001"}  # 医疗机构服务协议续签: the clinic is in its agreement
SHOWN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")  # attributes a reader sees or hears
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class ChineseOutsideLang(HTMLParser):
    """Walks a page: text (and shown attributes) with Chinese characters outside an element marked
    ``lang="zh…"``, and whether ``<main>`` quotes Chinese (then the page must say once that the region publishes
    in Chinese). Script and style contents are not text a reader meets (the 备案 form's division data is JSON)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = []
        self.stray: list[str] = []
        self.quotes_in_main = False
        self.notes = 0

    def _where(self) -> str:
        return " > ".join(tag for tag, _ in self.stack[-3:])

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        lang = attributes.get("lang") or (self.stack[-1][1] if self.stack else "")
        if attributes.get("id") == "chinese-note":
            self.notes += 1
        if not lang.startswith("zh"):
            for name in SHOWN_ATTRIBUTES:
                if CHINESE.search(attributes.get(name) or ""):
                    self.stray.append(f"{self._where()} > {tag}[{name}]: {attributes[name]}")
        if tag not in VOID:
            self.stack.append((tag, lang))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        if not self.stack or self.stack[-1][0] in ("script", "style") or not CHINESE.search(data):
            return
        if not self.stack[-1][1].startswith("zh"):
            text = " ".join(data.split())
            first = CHINESE.search(text).start()
            self.stray.append(f"{self._where()}: {text[max(0, first - 60):first + 60]}")
        elif any(tag == "main" for tag, _ in self.stack):
            self.quotes_in_main = True


def test_english_pages_show_chinese_only_where_marked_as_quoted(world, app, make_client, db_session):
    """On every English page of every role, Chinese characters (Han and CJK punctuation) appear only inside an
    element marked ``lang="zh…"``: the portal's own words are English; what it quotes (the region's guide, names and
    addresses in the records, what people typed) is shown as written and marked. A page that quotes Chinese in its
    content says once that the region publishes its guide in Chinese. No exceptions: the printed certificate
    (an official document in Chinese only) passes because its whole page is ``<html lang="zh-Hans">``."""
    rules = sorted((r for r in app.url_map.iter_rules() if "GET" in r.methods and r.endpoint != "static"),
                   key=lambda r: r.rule)
    codes = [item.code for item in app.extensions["portal_catalog"].items]
    every_item = [f"/guide/items/{code}{page}" for code in codes for page in ("", "/checklist")] + [
        f"/apply/{code}" for code in codes]
    wrong, pages = [], 0
    with clock.frozen(NOW):
        for role in ROLES:
            browser = browser_for(role, world, make_client, db_session)
            urls = [world.url(rule, role) for rule in rules] + MORE_URLS.get(role, [])
            urls += every_item if role == "anonymous" else []
            if role in DRAFT_OF:  # the filing form itself: a draft of the role's item
                token = csrf_from(browser.get(f"/apply/{DRAFT_OF[role]}").get_data(as_text=True))
                urls.append(browser.post(f"/apply/{DRAFT_OF[role]}", data={"csrf_token": token}).location)
            for url in urls:
                browser.set_cookie("lang", "en")
                with browser.get(url) as got:
                    if url in MORE_URLS.get(role, []) and got.status_code != 200:  # (a mistyped one checked nothing)
                        wrong.append(f"{role:9} {url}: {got.status_code}, expected 200")
                    if got.mimetype != "text/html":
                        continue
                    pages += 1
                    walk = ChineseOutsideLang()
                    walk.feed(got.get_data(as_text=True))
                wrong += [f"{role:9} {url}: {stray}" for stray in walk.stray]
                if walk.notes > 1 or (walk.quotes_in_main and not walk.notes):
                    wrong.append(f"{role:9} {url}: {walk.notes} notes that the region publishes in Chinese")
    assert pages > 500, pages
    assert not wrong, f"{len(wrong)} places:\n" + "\n".join(wrong)
