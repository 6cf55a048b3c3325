"""The Master in Postgres: typed models in the app's own schema, migrations, the repository
(`Master`) over applied/staged items, revisions and audit, and the credential vault.

See GUIDE: arrows point inwards only; this package imports `core`, never `ops` or `ui`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .actor import Actor, current_actor
from .errors import (
    Conflict,
    InvalidSchemaName,
    MasterNotEmpty,
    MasterWasInitialised,
    ReservedKeyInData,
    RevisionNotFound,
    SchemaTooNew,
    ServedModelsMissing,
    StagingConflict,
    StoreError,
    UnknownItem,
    UnstorableValue,
    VaultAlreadyInitialised,
    VaultKeyMismatch,
    VaultLocked,
    VaultNotInitialised,
)
from .records import AuditEntry, InitialisedMarker, ItemChange, Revision, RevisionInfo

# The SQLAlchemy side (~0.5 s of imports with alembic) loads on first use, so the window and the
# plain records and errors above can be imported without it (PEP 562).
if TYPE_CHECKING:
    from .engine import create_master_engine
    from .master import Master
    from .models import DEFAULT_SCHEMA
    from .schema_migration import head_revision, migrate

_LAZY = {
    "create_master_engine": ".engine",
    "Master": ".master",
    "head_revision": ".schema_migration",
    "migrate": ".schema_migration",
    "DEFAULT_SCHEMA": ".models",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


__all__ = [
    "DEFAULT_SCHEMA",
    "Actor",
    "AuditEntry",
    "Conflict",
    "InitialisedMarker",
    "InvalidSchemaName",
    "ItemChange",
    "Master",
    "MasterNotEmpty",
    "MasterWasInitialised",
    "ReservedKeyInData",
    "Revision",
    "RevisionInfo",
    "RevisionNotFound",
    "SchemaTooNew",
    "ServedModelsMissing",
    "StagingConflict",
    "StoreError",
    "UnknownItem",
    "UnstorableValue",
    "VaultAlreadyInitialised",
    "VaultKeyMismatch",
    "VaultLocked",
    "VaultNotInitialised",
    "create_master_engine",
    "current_actor",
    "head_revision",
    "migrate",
]
