"""The public list of designated institutions (定点医药机构名单) of the region, on the guide: /guide/institutions.

Only institutions whose agreement is in force or suspended are listed (a suspended one says so, with the day);
nothing personal is shown (no legal representative, no ID number): name, kind, grade, district, address and the
agreement's standing. Searchable by name, district, grade and kind; 20 a page. The list is this service's own
addition to the guide (the seeds publish no such list): the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Any

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import func, select

from ..core.db import db
from . import institutions
from .models import AgreementStatus, Institution, InstitutionKind, InstitutionLevel

bp = Blueprint("institutions", __name__)
PER_PAGE = 20
MAX_QUERY = 50
LISTED = (AgreementStatus.IN_FORCE.value, AgreementStatus.SUSPENDED.value)


@dataclass(frozen=True)
class Search:
    query: str = ""
    area: str = ""
    level: str = ""
    kind: str = ""
    status: str = ""  # in_force | suspended | "" (both)

    @classmethod
    def from_args(cls, args: Any) -> Search:
        def pick(name: str, allowed: set[str]) -> str:
            value = args.get(name, "")
            return value if value in allowed else ""

        return cls(query=" ".join(args.get("q", "").split())[:MAX_QUERY], area=args.get("area", "").strip()[:64],
                   level=pick("level", set(InstitutionLevel)), kind=pick("kind", set(InstitutionKind)),
                   status=pick("status", set(LISTED)))

    def args(self) -> dict[str, str]:
        return {k: v for k, v in (("q", self.query), ("area", self.area), ("level", self.level),
                                  ("kind", self.kind), ("status", self.status)) if v}


def _where(search: Search, region: str) -> list[Any]:
    statuses = (search.status,) if search.status else LISTED
    conditions = [Institution.region == region, Institution.agreement_status.in_(statuses)]
    if search.query:
        escaped = search.query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(Institution.name.like(f"%{escaped}%", escape="\\"))
    if search.area:
        conditions.append(Institution.area == search.area)
    if search.level:
        conditions.append(Institution.level == search.level)
    if search.kind:
        conditions.append(Institution.kind == search.kind)
    return conditions


def listed(search: Search, page: int, region: str) -> tuple[list[Institution], int]:
    """One page of the listed institutions matching ``search`` (by name), and how many match."""
    where = _where(search, region)
    total = db.session.execute(select(func.count()).select_from(Institution).where(*where)).scalar_one()
    rows = db.session.execute(select(Institution).where(*where).order_by(Institution.name, Institution.id)
                              .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).scalars().all()
    return list(rows), total


def areas(region: str) -> list[str]:
    """The districts of the listed institutions (for the search's choice)."""
    return list(db.session.execute(
        select(Institution.area).distinct().where(Institution.region == region, Institution.area.isnot(None),
                                                 Institution.agreement_status.in_(LISTED))
        .order_by(Institution.area)).scalars())


@bp.get("/guide/institutions")
def directory():
    region = current_app.config["PORTAL_REGION"]
    search = Search.from_args(request.args)
    try:
        page = max(1, min(int(request.args.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    rows, total = listed(search, page, region)
    pages = max(1, ceil(total / PER_PAGE))
    return render_template("organisations/directory.html", rows=rows, total=total, page=page, pages=pages,
                           search=search, areas=areas(region), labels=institutions, Level=InstitutionLevel,
                           Kind=InstitutionKind, region=current_app.extensions["portal_catalog"].region)
