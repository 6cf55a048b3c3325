"""Everything the window shows about a connected stack, read in one go on the stack's worker.

`read_status` never raises for the Servant's side: LiteLLM or Docker being down is a state to
show, not a failure of the refresh. Only the Master's own database failing propagates (without
it there is nothing to show).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from enum import StrEnum

from ..core.items import EffectiveItem, Item, live_items
from ..core.render import render
from ..remote.container_state import ContainerState
from ..remote.errors import RemoteError
from ..remote.litellm_client import CacheStatus, Readiness
from ..store import RevisionInfo, VaultLocked
from .apply_outcome import ApplyAttempt, latest_attempt
from .drift import DriftReport, check_drift, redact_config_text, secret_literals
from .stack_connection import StackConnection

__all__ = ["StackStatus", "VaultState", "read_items", "read_status"]


class VaultState(StrEnum):
    NONE = "none"  # this Master has no vault (no credential was ever stored)
    LOCKED = "locked"
    UNLOCKED = "unlocked"


@dataclass(frozen=True)
class StackStatus:
    """A snapshot for the pages. `effective` and `applied` are None when the vault is locked and
    an item holds secrets (the pages then say so); each `*_error` is a sentence when that part
    failed."""

    stack: str
    effective: tuple[EffectiveItem, ...] | None
    applied: tuple[Item, ...] | None  # what the last Apply made live (for the review's diff)
    staged_count: int
    vault: VaultState
    initialised: bool
    last_revision: RevisionInfo | None
    drift: DriftReport | None
    drift_error: str | None
    readiness: Readiness | None
    served_models: tuple[str, ...] | None
    litellm_error: str | None
    container: ContainerState | None
    container_error: str | None
    cache: CacheStatus | None
    cache_error: str | None
    rendered_redacted: str | None  # what an Apply would write, every secret as ***
    remote_redacted: str | None  # the server's config.yaml as it is, every secret as ***
    remote_error: str | None
    last_attempt: ApplyAttempt | None = None  # how the newest recorded Apply ended


def read_items(
    connection: StackConnection,
) -> tuple[tuple[EffectiveItem, ...] | None, tuple[Item, ...] | None, int]:
    """The effective and the applied items (None while the vault is locked and secrets are
    involved) and the staged count, which needs no vault."""
    master = connection.master
    try:
        effective: tuple[EffectiveItem, ...] | None = tuple(master.effective())
        applied: tuple[Item, ...] | None = tuple(master.applied())
    except VaultLocked:
        effective = applied = None
    return effective, applied, master.staged_count()


def read_status(connection: StackConnection) -> StackStatus:
    """Read the Master, the file's drift state, LiteLLM and the container (in that order)."""
    master = connection.master
    effective, applied, staged = read_items(connection)
    vault = (
        VaultState.NONE
        if not master.has_vault()
        else VaultState.UNLOCKED
        if master.vault is not None
        else VaultState.LOCKED
    )
    revisions = master.revisions(1)
    drift, drift_error = _drift(connection)
    readiness, served, litellm_error = _litellm(connection)
    container, container_error = _container(connection)
    cache, cache_error = _cache(connection)
    remote, remote_error = _remote_text(connection, effective, applied)
    return StackStatus(
        stack=connection.profile.name,
        effective=effective,
        applied=applied,
        staged_count=staged,
        vault=vault,
        initialised=master.initialised() is not None,
        last_revision=revisions[0] if revisions else None,
        drift=drift,
        drift_error=drift_error,
        readiness=readiness,
        served_models=served,
        litellm_error=litellm_error,
        container=container,
        container_error=container_error,
        cache=cache,
        cache_error=cache_error,
        rendered_redacted=None if effective is None else render(live_items(effective), redact=True),
        remote_redacted=remote,
        remote_error=remote_error,
        last_attempt=latest_attempt(master),
    )


def _drift(connection: StackConnection) -> tuple[DriftReport | None, str | None]:
    try:
        return check_drift(connection.master, connection.config_file), None
    except VaultLocked:
        return None, "config.yaml differs from the last revision; unlock the vault to compare it."
    except RemoteError as error:
        return None, f"config.yaml could not be read: {error}"


def _litellm(
    connection: StackConnection,
) -> tuple[Readiness | None, tuple[str, ...] | None, str | None]:
    client = connection.target.litellm
    try:
        readiness = client.readiness()
        served = tuple(client.models()) if readiness.ready else None
    except RemoteError as error:
        return None, None, str(error)
    if readiness.ready and readiness.version is None:
        # The version is a detail: readiness and models are what matter.
        with contextlib.suppress(RemoteError):
            readiness = replace(readiness, version=client.version())
    return readiness, served, None


def _container(connection: StackConnection) -> tuple[ContainerState | None, str | None]:
    try:
        return connection.target.docker.litellm_state(), None
    except RemoteError as error:
        return None, str(error)


def _cache(connection: StackConnection) -> tuple[CacheStatus | None, str | None]:
    try:
        return connection.target.litellm.cache_ping(), None
    except RemoteError as error:
        return None, str(error)


def _remote_text(
    connection: StackConnection,
    effective: tuple[EffectiveItem, ...] | None,
    applied: tuple[Item, ...] | None,
) -> tuple[str | None, str | None]:
    """The server's file, redacted: the Master's secret values are masked wherever they appear
    (a hand edit may have moved one), and every secret-looking value besides."""
    try:
        data = connection.config_file.read()
    except RemoteError as error:
        return None, f"config.yaml could not be read: {error}"
    if data is None:
        return None, f"There is no {connection.config_file.location} yet."
    known = secret_literals(e.item for e in effective or ()) | secret_literals(applied or ())
    return redact_config_text(data, known), None
