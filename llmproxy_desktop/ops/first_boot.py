"""First boot: import the server's config.yaml into an empty Master (issue #4 §4, issue #7 §2).

The same use-case behind `--stack NAME init` and the last step of a deploy. Literal credentials
in the file go into the credential vault; when the Master has none, one is created with the
passphrase `vault_passphrase()` returns (asked only when needed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ..core.findings import Finding
from ..core.importer import import_config
from ..core.items import Item
from ..core.yamltext import decode_config_bytes
from ..store import ServedModelsMissing
from ..store.sealing import contains_secret
from .stack_connection import StackConnection

__all__ = [
    "FirstBootFailed",
    "FirstBootProblem",
    "FirstBootResult",
    "first_boot_import",
    "master_is_empty",
]


class FirstBootProblem(StrEnum):
    """Why an import did not happen: the file's content (fix it on the server), or the
    circumstances (no file, no passphrase)."""

    NO_FILE = "no file"
    UNREADABLE = "unreadable"
    FILE_ERRORS = "file has errors"
    SERVED_MISSING = "served groups missing"
    VAULT = "vault"


class FirstBootFailed(Exception):
    """The import did not happen; the message says why in one sentence. `findings` lists the
    file's problems when they are the reason."""

    def __init__(
        self, problem: FirstBootProblem, message: str, findings: Sequence[Finding] = ()
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.findings = tuple(findings)


@dataclass(frozen=True)
class FirstBootResult:
    """What the import did."""

    imported: int
    location: str
    findings: tuple[Finding, ...]  # warnings of the import (errors raise instead)
    created_vault: bool


def master_is_empty(connection: StackConnection) -> bool:
    """True when the Master never received configuration (a first boot is due)."""
    return connection.master.initialised() is None


def first_boot_import(
    connection: StackConnection, vault_passphrase: Callable[[], str | None]
) -> FirstBootResult:
    """Import the stack's config.yaml as the applied configuration.

    Raises FirstBootFailed when there is no file, it cannot be read or has errors, a vault is
    needed and locked or no passphrase is given, or LiteLLM serves groups the file lacks; the
    Master's own refusals (MasterNotEmpty, MasterWasInitialised) pass through as StoreError."""
    location = connection.config_file.location
    data = connection.config_file.read()
    if data is None:
        raise FirstBootFailed(FirstBootProblem.NO_FILE, f"there is no {location} to import")
    text, problem = decode_config_bytes(data)
    if problem is not None or text is None:
        raise FirstBootFailed(
            FirstBootProblem.UNREADABLE,
            f"{location}: {problem.message if problem else 'unreadable'}",
        )
    imported = import_config(text)
    if imported.has_errors:
        raise FirstBootFailed(
            FirstBootProblem.FILE_ERRORS,
            "the file has errors; fix them on the server, then import again",
            imported.findings,
        )
    served = set(connection.target.litellm.models())
    created = _vault_for_import(connection, imported.items, vault_passphrase)
    try:
        count = connection.master.seed_from_import(imported.items, connection.actor, served)
    except ServedModelsMissing as error:
        raise FirstBootFailed(
            FirstBootProblem.SERVED_MISSING, " ".join(str(error).split())
        ) from None
    return FirstBootResult(count, location, tuple(imported.findings), created)


def _vault_for_import(
    connection: StackConnection,
    items: Sequence[Item],
    vault_passphrase: Callable[[], str | None],
) -> bool:
    """Literal secrets need an unlocked vault: create one if the Master has none."""
    master = connection.master
    if master.vault is not None or not any(contains_secret(item.data) for item in items):
        return False
    if master.has_vault():
        raise FirstBootFailed(
            FirstBootProblem.VAULT,
            "the file holds credentials and the vault is locked: give its passphrase",
        )
    passphrase = vault_passphrase()
    if not passphrase:
        raise FirstBootFailed(
            FirstBootProblem.VAULT, "the file holds credentials: a vault passphrase is needed"
        )
    master.init_vault(passphrase, connection.actor)
    return True
