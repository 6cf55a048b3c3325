"""The Master in Postgres: typed models in the app's own schema, migrations, the repository
(`Master`) over applied/staged items, revisions and audit, and the credential vault.

See GUIDE: arrows point inwards only; this package imports `core`, never `ops` or `ui`.
"""

from __future__ import annotations

from .actor import Actor, current_actor
from .engine import create_master_engine
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
from .master import Master
from .migrate import head_revision, migrate
from .models import DEFAULT_SCHEMA
from .records import AuditEntry, InitialisedMarker, ItemChange, Revision, RevisionInfo

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
