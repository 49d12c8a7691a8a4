"""``portal doctor``: a registry of named checks that a deployment (or a restore) is whole.

A check is a function returning an ``Outcome`` (a one-line summary and the list of what failed, each item named);
a feature registers its own with ``@doctor.check("name", "what it proves")`` in a module listed in
``CHECK_MODULES``, so the command knows nothing about the features. The built-in checks (schema, keys, audit chain,
calendar) are in ``portal.core.doctor_checks``; stored files in ``portal.materials.doctor``; certificates in
``portal.certificates.doctor``; the external systems' adapters in ``portal.integrations.doctor``; the notification
events' SMS templates in ``portal.notifications.doctor``.

``portal doctor`` runs every check (or those named with ``--only``), prints one line per check and one per problem,
and exits 1 when any check failed. A check that raises counts as failed, with the exception named, and the others
still run. It starts even when the keys do not match the database, since it exists to say so.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import click
from flask.cli import with_appcontext

CHECK_MODULES = (
    "portal.core.doctor_checks",
    "portal.materials.doctor",
    "portal.certificates.doctor",
    "portal.integrations.doctor",
    "portal.notifications.doctor",
)
MAX_LISTED = 50  # problems listed per check; the rest are counted


@dataclass(frozen=True)
class Outcome:
    summary: str
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    run: Callable[[], Outcome]


@dataclass(frozen=True)
class Result:
    name: str
    outcome: Outcome

    @property
    def ok(self) -> bool:
        return self.outcome.ok


_checks: dict[str, Check] = {}


def check(name: str, description: str) -> Callable[[Callable[[], Outcome]], Callable[[], Outcome]]:
    """Register a check under ``name`` (unique)."""

    def decorate(function: Callable[[], Outcome]) -> Callable[[], Outcome]:
        existing = _checks.get(name)
        if existing is not None and existing.run is not function:
            raise ValueError(f"a doctor check named {name!r} is already registered")
        _checks[name] = Check(name, description, function)
        return function

    return decorate


def checks() -> dict[str, Check]:
    """Every registered check, in registration order (importing ``CHECK_MODULES`` first)."""
    for module in CHECK_MODULES:
        importlib.import_module(module)
    return dict(_checks)


def run(names: Iterable[str] | None = None) -> list[Result]:
    """Run the named checks (default: all); a check that raises is a failed check naming the exception."""
    from .db import db

    available = checks()
    chosen = list(names) if names else list(available)
    unknown = [n for n in chosen if n not in available]
    if unknown:
        raise click.BadParameter(f"unknown check {', '.join(unknown)} (known: {', '.join(available)})")
    results = []
    for name in chosen:
        try:
            outcome = available[name].run()
        except Exception as exc:  # doctor reports any failure of a check instead of stopping
            db.session.rollback()
            outcome = Outcome("could not run", (f"{type(exc).__name__}: {exc}",))
        results.append(Result(name, outcome))
    return results


def listed(problems: list[str]) -> tuple[str, ...]:
    """At most ``MAX_LISTED`` problems, then how many more."""
    if len(problems) <= MAX_LISTED:
        return tuple(problems)
    return (*problems[:MAX_LISTED], f"... and {len(problems) - MAX_LISTED} more")


def register(group: click.Group) -> None:
    """Add ``portal doctor`` to the ``portal`` group."""
    from ..cli import diagnostic

    @group.command("doctor")
    @click.option("--only", "only", multiple=True, help="Run only this check (repeatable); `--list` names them.")
    @click.option("--list", "list_only", is_flag=True, help="List the checks and exit.")
    @diagnostic
    @with_appcontext
    def doctor(only: tuple[str, ...], list_only: bool) -> None:
        """Check that the database, stored files, keys and certificates belong together; exit 1 listing what
        failed (run it after every restore, and regularly)."""
        if list_only:
            for item in checks().values():
                click.echo(f"{item.name}: {item.description}")
            return
        results = run(only or None)
        for result in results:
            click.echo(f"{'ok  ' if result.ok else 'FAIL'} {result.name}: {result.outcome.summary}")
        failed = [r for r in results if not r.ok]
        if not failed:
            click.echo("doctor: all checks passed")
            return
        click.echo(f"doctor: {len(failed)} of {len(results)} checks failed:", err=True)
        for result in failed:
            for problem in result.outcome.problems:
                click.echo(f"  - {result.name}: {problem}", err=True)
        sys.exit(1)
