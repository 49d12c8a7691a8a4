"""Login pages (citizen, unit agent, staff), real-name binding, the account page, agents, staff password.

Thin views: load → check permission → one operation → commit → respond. Login refusals commit their
counters and audit rows (``commit_failures``) before the form is shown again.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required

from ..core import masking
from ..core.audit import actor_of
from ..core.db import db
from ..core.errors import DomainError
from ..core.redirects import safe_target
from ..core.translation import gettext as _
from ..insurance import queries
from ..integrations import sms
from . import auth, ecredential_login, operations, otp, staff_login
from . import binding as binding_ops
from .forms import (
    AgentPhoneForm,
    BindForm,
    CitizenPhoneForm,
    CodeForm,
    ConfirmForm,
    ECredentialForm,
    FaceProofForm,
    PasswordChangeForm,
    StaffLoginForm,
    apply_errors,
)
from .models import Account, AccountKind, BindingStatus, OtpPurpose
from .permissions import can_manage_agents, can_read_outbox, is_staff

bp = Blueprint("accounts", __name__)
bp.record_once(lambda state: masking.init_app(state.app))  # mask_* filters for every template (S12)
OTP_KEY = "otp"  # the flask session keeps the challenge's random handle, never the phone
NEXT_KEY = "next"
PASSWORD_EXEMPT = {"accounts.staff_password", "accounts.logout", "static", "pages.set_language",
                   "pages.set_elder_mode"}


def _ip() -> str:
    return request.remote_addr or "unknown"


def _refused(template: str, form, error: DomainError, **context):
    apply_errors(form, error)
    return render_template(template, form=form, **context), error.status


def _after_login(account: Account):
    target = safe_target(session.get(NEXT_KEY))
    auth.login_browser(account)
    if account.kind == AccountKind.CITIZEN and account.person is None:
        return redirect(url_for("accounts.bind"))
    if operations.password_expired(account):
        return redirect(url_for("accounts.staff_password"))
    return redirect(target or _landing(account))


def _landing(account: Account) -> str:
    """Citizens and agents land on their account page; staff on the first back-office page their roles open (the
    case queues, the administrator's holiday schedule), never on the citizen's /me."""
    if account.kind == AccountKind.STAFF:
        from ..workbench.menu import landing_url

        return landing_url(account)
    return url_for("accounts.home")


@bp.before_app_request
def _force_password_change():
    """Staff whose password is older than 90 days may only change it (等保)."""
    if request.endpoint in PASSWORD_EXEMPT or request.path.startswith("/api/"):
        return None
    if is_staff(current_user) and operations.password_expired(current_user):
        return redirect(url_for("accounts.staff_password"))
    return None


@bp.get("/login")
def login():
    if current_user.is_authenticated:
        return redirect(_landing(current_user))
    session[NEXT_KEY] = safe_target(request.args.get("next"))
    return render_template("accounts/login.html")


@bp.route("/login/citizen", methods=["GET", "POST"])
def login_citizen():
    form = CitizenPhoneForm()
    return _request_code(form, "accounts/login_citizen.html", AccountKind.CITIZEN)


@bp.route("/login/agent", methods=["GET", "POST"])
def login_agent():
    """A unit's agent, or with ``?org=institution`` (or the form's ``org_kind``) a designated institution's."""
    form = AgentPhoneForm()
    if request.method == "GET" and request.args.get("org") == "institution":
        form.org_kind.data = "institution"
    if form.org_kind.data == "institution":
        form.credit_code.label.text = _("Unified social credit code or designated institution code")
    return _request_code(form, "accounts/login_agent.html", AccountKind.AGENT)


def _request_code(form, template: str, kind: str):
    if not form.validate_on_submit():
        return render_template(template, form=form, **_code_just_sent(kind)), 422 if form.is_submitted() else 200
    data = operations.CodeRequest(phone=form.phone.data, kind=kind,
                                  credit_code=getattr(form, "credit_code", None) and form.credit_code.data,
                                  org_kind=(getattr(form, "org_kind", None) and form.org_kind.data) or "unit")
    try:
        with operations.commit_failures():
            issued = operations.request_login_code(data, actor=actor_of(current_user), client_ip=_ip())
    except DomainError as error:
        return _refused(template, form, error)
    db.session.commit()
    session[OTP_KEY] = issued.handle
    return redirect(url_for("accounts.enter_code"))


def _code_just_sent(kind: str) -> dict[str, Any]:
    """The code this browser was sent last for this way of logging in, while the one-code-a-minute wait lasts: the
    form's "send the code" button counts it down (countdown.js) and says where the code went."""
    handle = session.get(OTP_KEY)
    challenge = otp.find_by_handle(handle) if isinstance(handle, str) else None
    purpose = OtpPurpose.AGENT_LOGIN if kind == AccountKind.AGENT else OtpPurpose.CITIZEN_LOGIN
    if challenge is None or challenge.purpose != purpose or challenge.used_at is not None:
        return {"resend_in": 0}
    return {"resend_in": operations.seconds_until_new_code(challenge.created_at), "sent_to": challenge.phone}


@bp.route("/login/code", methods=["GET", "POST"])
def enter_code():
    handle = session.get(OTP_KEY)
    challenge = otp.find_by_handle(handle) if isinstance(handle, str) else None
    if challenge is None:
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    context = {"challenge": challenge, "is_agent": challenge.purpose == OtpPurpose.AGENT_LOGIN,
               "ttl_minutes": current_app.config["PORTAL_OTP_TTL_SECONDS"] // 60,
               "resend_in": operations.seconds_until_new_code(challenge.created_at)}
    if not form.validate_on_submit():
        return render_template("accounts/code.html", form=form, **context), 422 if form.is_submitted() else 200
    try:
        with operations.commit_failures():
            account = operations.login_with_code(operations.CodeLogin(code=form.code.data, handle=handle),
                                                 actor=actor_of(current_user), client_ip=_ip())
    except DomainError as error:
        return _refused("accounts/code.html", form, error, **context)
    response = _after_login(account)
    db.session.commit()
    return response


@bp.route("/login/ecredential", methods=["GET", "POST"])
def login_ecredential():
    """The 医保电子凭证 as the login and the real-name proof at once (``ecredential_login``)."""
    form = ECredentialForm()
    if not form.validate_on_submit():
        return render_template("accounts/login_ecredential.html", form=form), 422 if form.is_submitted() else 200
    try:
        with operations.commit_failures():
            account = ecredential_login.login_with_ecredential(ecredential_login.ECredentialLogin(form.code.data),
                                                               actor=actor_of(current_user), client_ip=_ip())
    except DomainError as error:
        return _refused("accounts/login_ecredential.html", form, error)
    response = _after_login(account)
    db.session.commit()
    return response


@bp.route("/login/staff", methods=["GET", "POST"])
def login_staff():
    form = StaffLoginForm()
    if request.method == "GET" and request.args.get("next"):
        session[NEXT_KEY] = safe_target(request.args.get("next"))  # from the /staff rule: back there afterwards
    if not form.validate_on_submit():
        return render_template("accounts/login_staff.html", form=form), 422 if form.is_submitted() else 200
    data = operations.StaffLogin(form.username.data, form.password.data, form.totp.data)
    try:
        with operations.commit_failures():
            account = staff_login.login_staff(data, actor=actor_of(current_user), client_ip=_ip())
    except DomainError as error:
        return _refused("accounts/login_staff.html", form, error)
    response = _after_login(account)
    db.session.commit()
    return response


def _citizen_to_bind():
    """The logged-in citizen not yet bound (else 404 for other kinds; the bound go home)."""
    if current_user.kind != AccountKind.CITIZEN:
        abort(404)
    if current_user.person is not None:
        return redirect(url_for("accounts.home"))
    return None


def _bound(binding):
    if binding.status == BindingStatus.ACTIVE:
        flash(_("Your account is now bound to your insurance records."), "success")
        return redirect(url_for("accounts.home"))
    return redirect(url_for("accounts.bind_proof"))


@bp.route("/bind", methods=["GET", "POST"])
@login_required
def bind():
    if (elsewhere := _citizen_to_bind()) is not None:
        return elsewhere
    form = BindForm()
    if not form.validate_on_submit():
        if not form.is_submitted() and binding_ops.pending_binding(current_user) is not None:
            return redirect(url_for("accounts.bind_proof"))
        return render_template("accounts/bind.html", form=form), 422 if form.is_submitted() else 200
    data = binding_ops.RealNameBinding(form.name.data, form.id_number.data)
    try:
        with operations.commit_failures():
            binding = binding_ops.bind_real_name(current_user, data, actor=actor_of(current_user), client_ip=_ip())
    except DomainError as error:
        return _refused("accounts/bind.html", form, error)
    db.session.commit()
    return _bound(binding)


def _proof_page(status: int = 200, **forms):
    binding = binding_ops.pending_binding(current_user)
    if binding is None:
        return redirect(url_for("accounts.bind"))
    face_form = forms.get("face_form") or FaceProofForm()
    if face_form.live_token.data is None:  # the provider's face page hands its result token back in the URL
        face_form.live_token.data = request.args.get("live_token", "")[:512] or None
    context = {"face_form": face_form,
               "ecredential_form": forms.get("ecredential_form") or ECredentialForm(),
               "cancel_form": ConfirmForm(), "locked": binding_ops.is_locked(binding.person),
               "proofs": binding_ops.available_proofs()}
    return render_template("accounts/bind_proof.html", **context), status


@bp.get("/bind/proof")
@login_required
def bind_proof():
    return _citizen_to_bind() or _proof_page()


@bp.post("/bind/face")
@login_required
def bind_face():
    if (elsewhere := _citizen_to_bind()) is not None:
        return elsewhere
    form = FaceProofForm()
    if not form.validate_on_submit():
        return _proof_page(422, face_form=form)
    return _prove(form, "face_form", binding_ops.prove_by_face, binding_ops.FaceProof(form.live_token.data))


@bp.post("/bind/ecredential")
@login_required
def bind_ecredential():
    if (elsewhere := _citizen_to_bind()) is not None:
        return elsewhere
    form = ECredentialForm()
    if not form.validate_on_submit():
        return _proof_page(422, ecredential_form=form)
    return _prove(form, "ecredential_form", binding_ops.prove_by_ecredential,
                  binding_ops.ECredentialProof(form.code.data))


def _prove(form, form_name: str, prove, data):
    try:
        with operations.commit_failures():
            binding = prove(current_user, data, actor=actor_of(current_user), client_ip=_ip())
    except DomainError as error:
        apply_errors(form, error)
        return _proof_page(error.status, **{form_name: form})
    db.session.commit()
    return _bound(binding)


@bp.post("/bind/cancel")
@login_required
def bind_cancel():
    if (elsewhere := _citizen_to_bind()) is not None:
        return elsewhere
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        binding_ops.cancel_binding(current_user, actor=actor_of(current_user))
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("accounts.bind"))
    db.session.commit()
    return redirect(url_for("accounts.bind"))


@bp.route("/b/<token>", methods=["GET", "POST"])
def disown(token: str):
    """The "不是我" link of the SMS sent to a person's phone on record: one tap ends a binding that was not theirs."""
    form = ConfirmForm()
    try:
        if not form.validate_on_submit():
            binding = binding_ops.binding_of_link(token)
            return render_template("accounts/disown.html", form=form, binding=binding, token=token)
        with operations.commit_failures():
            binding_ops.disown(token, actor=actor_of(current_user), client_ip=_ip())
    except DomainError as error:
        return render_template("accounts/disown.html", error=error.message), error.status
    db.session.commit()
    return render_template("accounts/disown.html", done=True)


@bp.get("/me")
@login_required
def home():
    if current_user.kind == AccountKind.CITIZEN and current_user.person is None:
        return redirect(url_for("accounts.bind"))
    from ..organisations.permissions import registration_item_code

    return render_template("accounts/home.html", **_overview(current_user), registration_item=registration_item_code(),
                           can_manage_agents=can_manage_agents(current_user, current_user.organisation),
                           **_institution_context(current_user),
                           password_expired=operations.password_expired(current_user))


def _institution_context(account: Account) -> dict:
    """An institution's agent: the items they may file (the institution's, as far as their mandate goes)."""
    if account.institution_id is None:
        return {}
    from ..applications.permissions import cannot_file
    from ..organisations import institutions

    items = [i for i in current_app.extensions["portal_catalog"].items if cannot_file(account, i) is None]
    return {"institution_items": items, "institution_labels": institutions}


def _overview(account: Account) -> dict:
    """The insurance partial of the account page: the person's records for citizens, the unit's for agents."""
    if account.person is not None:
        return {"overview_template": "insurance/_person_overview.html",
                "person_overview": queries.person_overview(account.person)}
    if account.unit is not None:
        return {"overview_template": "insurance/_unit_overview.html",
                "unit_overview": queries.unit_overview(account.unit)}
    return {"overview_template": None}


@bp.post("/logout")
def logout():
    staff = is_staff(current_user)
    if current_user.is_authenticated:
        operations.logout(current_user, actor=actor_of(current_user))
        db.session.commit()
    auth.forget_browser()
    flash(_("You have logged out."), "success")
    return redirect(url_for("accounts.login_staff" if staff else "pages.home"))


@bp.route("/staff/password", methods=["GET", "POST"])
@login_required
def staff_password():
    if not is_staff(current_user):
        abort(404)
    form = PasswordChangeForm()
    expired = operations.password_expired(current_user)
    if not form.validate_on_submit():
        return (render_template("accounts/password.html", form=form, expired=expired),
                422 if form.is_submitted() else 200)
    data = operations.PasswordChange(form.current_password.data, form.new_password.data)
    try:
        with operations.commit_failures():
            operations.change_password(current_user, data, actor=actor_of(current_user), client_ip=_ip())
    except DomainError as error:
        return _refused("accounts/password.html", form, error, expired=expired)
    db.session.commit()
    auth.forget_browser()
    flash(_("Your password was changed. Please log in again with the new password."), "success")
    return redirect(url_for("accounts.login_staff"))


@bp.get("/dev/outbox")
def dev_outbox():
    """The development SMS outbox (404 outside development)."""
    if not can_read_outbox(current_app.config["PORTAL_ENV"]):
        abort(404)
    return render_template("accounts/outbox.html", messages=sms.outbox_messages(limit=30))
