"""Binds the main window to the selected stack: one StackController, the pages it feeds, the
Apply bar and the sheets behind it.

Switching stacks closes the old controller's connection (on its own worker) and opens the new
one; every page is fed from the controller's `StackStatus` snapshots only, so what a page shows
is always what the store said last.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from llmproxy_desktop.core.items import Item, ItemKey
from llmproxy_desktop.remote.host_keys import HostKeyStore
from llmproxy_desktop.remote.keyring_secrets import KeyringError, KeyringSecrets
from llmproxy_desktop.remote.profiles import SecretKind, StackProfile
from llmproxy_desktop.remote.profiles_store import ProfileNotFound, ProfileStore
from llmproxy_desktop.remote.ssh_session import SessionStatus
from llmproxy_desktop.ui.job_runner import JobRunner
from llmproxy_desktop.ui.main_window import MainWindow
from llmproxy_desktop.ui.pages.models import ModelsPage
from llmproxy_desktop.ui.sheets.host_key_sheet import HostKeyPrompt
from llmproxy_desktop.ui.stack_controller import StackController
from llmproxy_desktop.ui.staging import Done

if TYPE_CHECKING:  # heavy (store, ops): imported when first used, not at start-up
    from llmproxy_desktop.ops.stack_status import StackStatus
    from llmproxy_desktop.ui.sheets.stack_sheet import StackSheet
    from llmproxy_desktop.ui.sheets.vault_sheet import VaultSheet

__all__ = ["StackWorkspace"]

_log = logging.getLogger(__name__)

CONFIGURATION = "Configuration"
OVERVIEW = "Overview"


def keyring_secrets_loader(
    keyring: KeyringSecrets, stack: str
) -> Callable[[], Mapping[SecretKind, str]]:
    """Read `stack`'s saved secrets when called (on the stack's worker): a keyring that fails
    gives none, and the connect then names what is missing."""

    def load() -> Mapping[SecretKind, str]:
        found: dict[SecretKind, str] = {}
        try:
            for kind in SecretKind:
                value = keyring.get(stack, kind)
                if value:
                    found[kind] = value
        except KeyringError as error:
            _log.warning("keyring: %s", error.args[0])
        return found

    return load


class _ControllerEditor:
    """The pages' StagingEditor: forwards to whichever controller is current, or says why not."""

    def __init__(self, workspace: StackWorkspace) -> None:
        self._workspace = workspace

    def stage(self, changes: Sequence[tuple[Item, int]], done: Done) -> None:
        controller = self._workspace.controller
        if controller is None:
            done("No stack is connected.")
            return
        controller.stage(changes, done)

    def delete(self, keys: Sequence[tuple[ItemKey, int]], done: Done) -> None:
        controller = self._workspace.controller
        if controller is None:
            done("No stack is connected.")
            return
        controller.delete(keys, done)

    def discard(self, keys: Sequence[ItemKey], done: Done) -> None:
        controller = self._workspace.controller
        if controller is None:
            done("No stack is connected.")
            return
        controller.discard(keys, done)


class StackWorkspace(QObject):
    """The window's live side: owns the current StackController and feeds every page from it."""

    def __init__(
        self,
        window: MainWindow,
        runner: JobRunner,
        *,
        profile_store: ProfileStore | None = None,
        keyring_secrets: KeyringSecrets | None = None,
        host_keys: HostKeyStore | None = None,
        controller_factory: Callable[[StackProfile], StackController] | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.runner = runner
        self._store = profile_store or ProfileStore()
        self._keyring = keyring_secrets or KeyringSecrets()
        self._host_keys = host_keys or HostKeyStore()
        self._host_key_prompt = HostKeyPrompt(window)
        self._factory = controller_factory or self._new_controller
        self.controller: StackController | None = None
        self.editor = _ControllerEditor(self)
        self.vault_sheet: VaultSheet | None = None
        self.stack_sheet: StackSheet | None = None
        self._register_pages()
        window.stack_changed.connect(self.switch_to)
        window.add_stack_requested.connect(self.add_stack)

    def start(self) -> None:
        """Connect to the window's current stack, if any. Called once the window shows, so it
        appears (and answers) before the connect job's imports and handshakes compete for it."""
        current = self.window.current_stack()
        if current is not None and self.controller is None:
            self.switch_to(current)

    # -- pages ---------------------------------------------------------------------------------

    def _register_pages(self) -> None:
        self.models_page = ModelsPage(self.editor)
        self.window.add_page(CONFIGURATION, "models", "Models", self.models_page)

    def _feed(self, status: StackStatus) -> None:
        """Hand one snapshot to every page and bar."""
        from llmproxy_desktop.ops.stack_status import VaultState

        if status.effective is not None:
            self.models_page.set_items(list(status.effective))
        if status.vault is VaultState.LOCKED and status.effective is None:
            self.ask_vault_passphrase()

    # -- stacks --------------------------------------------------------------------------------

    def _new_controller(self, profile: StackProfile) -> StackController:
        return StackController(
            self.runner,
            profile,
            keyring_secrets_loader(self._keyring, profile.name),
            host_keys=self._host_keys,
            confirm=self._host_key_prompt,
            parent=self,
        )

    def switch_to(self, name: str) -> None:
        """Close the current stack's connection and connect to `name`."""
        old, self.controller = self.controller, None
        if old is not None:
            old.close()
            old.status_changed.disconnect(self._feed)
        try:
            profile = self._store.get(name)
        except ProfileNotFound:
            self.window.connection_indicator.set_state(
                SessionStatus.FAILED, f"There is no stack named {name!r} any more."
            )
            return
        controller = self._factory(profile)
        self.controller = controller
        indicator = self.window.connection_indicator
        indicator.set_state(SessionStatus.CONNECTING)
        controller.session_status.connect(self._on_session_status)
        controller.status_changed.connect(self._feed)
        controller.open()

    def _on_session_status(self, status: object, reason: object) -> None:
        if self.sender() is not self.controller:
            return  # a previous stack's session closing
        assert isinstance(status, SessionStatus)
        self.window.connection_indicator.set_state(
            status, reason if isinstance(reason, str) else None
        )

    def add_stack(self) -> None:
        """Open the Add Stack sheet; a saved stack becomes the current one."""
        self._open_stack_sheet(None)

    def edit_stack(self) -> None:
        """Open the Edit Stack sheet on the current stack; saving reconnects it."""
        if self.controller is not None:
            self._open_stack_sheet(self.controller.profile)

    def _open_stack_sheet(self, profile: StackProfile | None) -> None:
        from llmproxy_desktop.ui.sheets.stack_sheet import StackSheet

        sheet = StackSheet(
            self.runner,
            self.window,
            profile=profile,
            store=self._store,
            keyring_secrets=self._keyring,
            host_keys=self._host_keys,
        )
        sheet.saved.connect(self._stack_saved)
        self.stack_sheet = sheet
        sheet.open()

    def _stack_saved(self, profile: object) -> None:
        assert isinstance(profile, StackProfile)
        self.window.refresh_stacks()
        if self.window.current_stack() == profile.name:
            self.switch_to(profile.name)  # same name: reconnect with the new fields
        else:
            self.window.select_stack(profile.name)

    def ask_vault_passphrase(self) -> None:
        """The vault is locked and the items need it: ask (once at a time)."""
        from llmproxy_desktop.ui.sheets.vault_sheet import VaultSheet

        controller = self.controller
        if controller is None or self.vault_sheet is not None:
            return
        sheet = VaultSheet(
            self.runner,
            controller.name,
            controller.unlock_vault,
            self.window,
            keyring_secrets=self._keyring,
        )
        sheet.unlocked.connect(lambda _result: controller.refresh())
        sheet.finished.connect(lambda _code: self._vault_sheet_closed(sheet))
        self.vault_sheet = sheet
        sheet.open()

    def _vault_sheet_closed(self, sheet: QWidget) -> None:
        if self.vault_sheet is sheet:
            self.vault_sheet = None

    def close(self) -> None:
        """Close the current connection (the runner's shutdown waits for it)."""
        self._host_key_prompt.abandon()
        if self.controller is not None:
            self.controller.close()
            self.controller = None
