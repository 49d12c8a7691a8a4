"""Import every module that defines tables, so metadata is complete (Alembic, create_all, tests)."""

import importlib

MODEL_MODULES = (
    "portal.core.audit",
    "portal.core.keycheck",
    "portal.insurance.models",
    "portal.organisations.models",
    "portal.accounts.models",
    "portal.accounts.throttling",
    "portal.calendar.models",
    "portal.applications.models",
    "portal.materials.models",
    "portal.commitments.models",
    "portal.insurance.filings",
    "portal.certificates.models",
    "portal.services.models",
    "portal.services.claims.models",
    "portal.services.settlement.models",
    "portal.sampling.models",
    "portal.notifications.models",
    "portal.ratings.models",
    "portal.integrations.token_cache",
    "portal.rosters.models",
    "portal.services.contributions.models",
    "portal.national.models",
    "portal.services.transfer.models",
)


def import_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
