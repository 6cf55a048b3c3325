"""Binds the main window to the selected stack: one StackController, the pages it feeds, the
Apply bar and the sheets behind it.

Switching stacks closes the old controller's connection (on its own worker) and opens the new
one; every page is fed from the controller's `StackStatus` snapshots only, so what a page shows
is always what the store said last. Modules that pull in the database or Docker side are
imported where first used (their jobs have loaded them by then), so the window opens fast.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox, QVBoxLayout, QWidget

from llmproxy_desktop.core.items import Item, ItemKey
from llmproxy_desktop.ops.dashboard import DashboardSummary, build_summary
from llmproxy_desktop.remote.host_keys import HostKeyStore
from llmproxy_desktop.remote.keyring_secrets import KeyringError, KeyringSecrets
from llmproxy_desktop.remote.profiles import SecretKind, StackProfile
from llmproxy_desktop.remote.profiles_store import ProfileNotFound, ProfileStore
from llmproxy_desktop.remote.ssh_session import SessionStatus
from llmproxy_desktop.ui.apply_bar import ApplyBar
from llmproxy_desktop.ui.background_check import BackgroundCheck
from llmproxy_desktop.ui.interpreter_tuning import freeze_heap_once
from llmproxy_desktop.ui.job_runner import JobProgress, JobRunner, error_sentence
from llmproxy_desktop.ui.keys_service import StackKeysService
from llmproxy_desktop.ui.main_window import MainWindow
from llmproxy_desktop.ui.maintenance_services import (
    Operation,
    StackHousekeepingService,
    StackLogsService,
)
from llmproxy_desktop.ui.pages.advanced import AdvancedPage
from llmproxy_desktop.ui.pages.caching import CachingPage
from llmproxy_desktop.ui.pages.dashboard import DashboardPage
from llmproxy_desktop.ui.pages.housekeeping import HousekeepingPage
from llmproxy_desktop.ui.pages.logs import LogsPage
from llmproxy_desktop.ui.pages.models import ModelsPage
from llmproxy_desktop.ui.pages.provider_keys import ProviderKeysPage
from llmproxy_desktop.ui.pages.rendered_config import RenderedConfigPage, differences
from llmproxy_desktop.ui.pages.routing import RoutingPage
from llmproxy_desktop.ui.pages.usage import UsagePage
from llmproxy_desktop.ui.pages.virtual_keys import VirtualKeysPage
from llmproxy_desktop.ui.sheets.discard_sheet import ask_discard
from llmproxy_desktop.ui.sheets.host_key_sheet import HostKeyPrompt
from llmproxy_desktop.ui.stack_controller import StackController
from llmproxy_desktop.ui.staging import Done, TestAnswer
from llmproxy_desktop.ui.usage_service import StackUsageService
from llmproxy_desktop.ui.widgets.usage_cards import UsageCards

if TYPE_CHECKING:
    from llmproxy_desktop.ops.apply import ApplyResult
    from llmproxy_desktop.ops.drift_report import DriftReport
    from llmproxy_desktop.ops.review import ReviewContent
    from llmproxy_desktop.ops.stack_connection import StackConnection
    from llmproxy_desktop.ops.stack_status import StackStatus
    from llmproxy_desktop.remote.litellm_status import ChatTest
    from llmproxy_desktop.store import RevisionInfo
    from llmproxy_desktop.ui.sheets.apply_progress_sheet import ApplyProgressSheet
    from llmproxy_desktop.ui.sheets.history_sheet import HistorySheet
    from llmproxy_desktop.ui.sheets.stack_sheet import StackSheet
    from llmproxy_desktop.ui.sheets.vault_sheet import VaultSheet

__all__ = ["StackWorkspace", "keyring_secrets_loader"]

_log = logging.getLogger(__name__)

OVERVIEW = "Overview"
CONFIGURATION = "Configuration"
OPERATIONS = "Operations"
NOT_CONNECTED = "No stack is connected."


def keyring_secrets_loader(
    keyring: KeyringSecrets, stack: str, typed: Mapping[SecretKind, str] | None = None
) -> Callable[[], Mapping[SecretKind, str]]:
    """Read `stack`'s saved secrets when called (on the stack's worker): a keyring that fails
    gives none, and the connect then names what is missing. `typed` (secrets typed in the stack
    sheet this session and not saved) win over saved ones: they are the newest."""

    def load() -> Mapping[SecretKind, str]:
        found: dict[SecretKind, str] = {}
        try:
            for kind in SecretKind:
                value = keyring.get(stack, kind)
                if value:
                    found[kind] = value
        except KeyringError as error:
            _log.warning("keyring: %s", error.args[0])
        found.update(typed or {})
        return found

    return load


class _CurrentStack:
    """The pages' StagingEditor and ModelTester: forwards to whichever controller is current,
    or answers at once that no stack is connected."""

    def __init__(self, workspace: StackWorkspace) -> None:
        self._workspace = workspace

    def stage(self, changes: Sequence[tuple[Item, int]], done: Done) -> None:
        controller = self._workspace.controller
        if controller is None:
            done(NOT_CONNECTED)
        else:
            controller.stage(changes, done)

    def delete(self, keys: Sequence[tuple[ItemKey, int]], done: Done) -> None:
        controller = self._workspace.controller
        if controller is None:
            done(NOT_CONNECTED)
        else:
            controller.delete(keys, done)

    def discard(self, keys: Sequence[ItemKey], done: Done) -> None:
        controller = self._workspace.controller
        if controller is None:
            done(NOT_CONNECTED)
        else:
            controller.discard(keys, done)

    def run(
        self,
        name: str,
        operation: Operation,
        on_result: Callable[[object], None],
        on_error: Callable[[str], None],
        *,
        on_progress: Callable[[str, float, str], None] | None = None,
        cancellable: bool = True,
        refresh_after: bool = False,
    ) -> str:
        """StackController.run on the current stack (the operations pages' services)."""
        controller = self._workspace.controller
        if controller is None:
            on_error(NOT_CONNECTED)
            return ""
        return controller.run(
            name,
            operation,
            on_result,
            on_error,
            on_progress=on_progress,
            cancellable=cancellable,
            refresh_after=refresh_after,
        )

    def cancel(self, job_id: str) -> bool:
        controller = self._workspace.controller
        return controller is not None and controller.cancel(job_id)

    def test_model(self, model_group: str, answer: TestAnswer) -> None:
        controller = self._workspace.controller
        if controller is None:
            answer(NOT_CONNECTED, "")
            return

        def answered(result: ChatTest) -> None:
            reply = f": “{result.reply}”" if result.reply else ""
            answer(None, f"answered in {result.latency_seconds:.2f} s{reply}")

        controller.test_model(model_group, answered, lambda sentence: answer(sentence, ""))


class _DetachedRunner:
    """The deploy sheet's runner: `StackController.run_detached` (no connection needed)."""

    def __init__(self, controller: StackController) -> None:
        self._controller = controller

    def run(
        self,
        name: str,
        operation: Callable[[JobProgress, threading.Event], object],
        on_result: Callable[[object], None],
        on_error: Callable[[str], None],
        *,
        on_progress: Callable[[str, float, str], None] | None = None,
        cancellable: bool = True,
    ) -> str:
        return self._controller.run_detached(
            name, operation, on_result, on_error, on_progress=on_progress, cancellable=cancellable
        )

    def cancel(self, job_id: str) -> bool:
        return self._controller.cancel(job_id)


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
        self._typed_secrets: dict[str, dict[SecretKind, str]] = {}
        self._import_offered: set[str] = set()
        self._rollup_started: set[str] = set()
        self.current = _CurrentStack(self)
        self.last_apply: ApplyResult | None = None
        # Open sheets, kept so that one of each is open at a time (and for tests).
        self.vault_sheet: VaultSheet | None = None
        self.stack_sheet: StackSheet | None = None
        self.progress_sheet: ApplyProgressSheet | None = None
        self.history_sheet: HistorySheet | None = None
        self.sheet: QWidget | None = None  # review, drift or passphrase sheet
        self._review_check = BackgroundCheck(window)
        self._register_pages()
        self._build_apply_bar()
        self._build_actions()
        window.stack_changed.connect(self.switch_to)
        window.add_stack_requested.connect(self.add_stack)

    def start(self) -> None:
        """Connect to the window's current stack, if any. Called once the window shows, so it
        appears (and answers) before the connect job's imports and handshakes compete for it."""
        current = self.window.current_stack()
        if current is not None and self.controller is None:
            self.switch_to(current)

    # -- building --------------------------------------------------------------------------------

    def _register_pages(self) -> None:
        self.dashboard_page = DashboardPage()
        self.usage_cards = UsageCards()
        self.usage_service = StackUsageService(self.current)
        self._usage_read_at: datetime | None = None
        dashboard = QWidget()  # the config-side figures over the usage cards
        dashboard_layout = QVBoxLayout(dashboard)
        dashboard_layout.setContentsMargins(0, 0, 0, 0)
        dashboard_layout.addWidget(self.dashboard_page)
        dashboard_layout.addWidget(self.usage_cards)
        dashboard_layout.addStretch(1)
        self.models_page = ModelsPage(self.current, tester=self.current)
        self.keys_page = ProviderKeysPage(self.current)
        self.routing_page = RoutingPage(self.current)
        self.caching_page = CachingPage()
        self.advanced_page = AdvancedPage(self.current)
        self.rendered_page = RenderedConfigPage()
        add = self.window.add_page
        add(OVERVIEW, "dashboard", "Dashboard", dashboard)
        add(CONFIGURATION, "models", "Models", self.models_page)
        add(CONFIGURATION, "keys", "Provider Keys", self.keys_page)
        add(CONFIGURATION, "routing", "Routing", self.routing_page)
        add(CONFIGURATION, "caching", "Caching", self.caching_page)
        add(CONFIGURATION, "advanced", "Advanced", self.advanced_page)
        add(CONFIGURATION, "rendered", "Rendered Config", self.rendered_page)
        self.keys_service = StackKeysService(self.current)
        self.virtual_keys_page = VirtualKeysPage(self.keys_service)
        self.housekeeping_page = HousekeepingPage(
            StackHousekeepingService(self.current), self.current
        )
        self.logs_page = LogsPage(StackLogsService(self.current, self), self.current)
        self.usage_page = UsagePage(self.usage_service)
        add(OPERATIONS, "virtual-keys", "Virtual Keys", self.virtual_keys_page)
        add(OPERATIONS, "usage", "Usage & Spend", self.usage_page)
        add(OPERATIONS, "housekeeping", "Housekeeping", self.housekeeping_page)
        add(OPERATIONS, "logs", "Logs", self.logs_page)
        self.window.page_changed.connect(self._page_shown)
        self.housekeeping_page.delete_expired_keys_requested.connect(self.delete_expired_keys)
        self.rendered_page.set_diff_runner(self._compute_diff)
        for page in (self.dashboard_page, self.caching_page, self.rendered_page):
            page.refresh_requested.connect(self.refresh)
        self.keys_page.unlock_requested.connect(self.ask_vault_passphrase)
        self.keys_page.change_passphrase_requested.connect(self.change_passphrase)
        self.keys_page.rotate_data_key_requested.connect(self.rotate_data_key)

    def _build_apply_bar(self) -> None:
        bar = ApplyBar()
        self.apply_bar = bar
        self.window.set_footer(bar)
        bar.apply_requested.connect(self.apply)
        bar.review_requested.connect(self.review)
        bar.discard_requested.connect(self.discard_all)
        bar.history_requested.connect(self.history)
        bar.drift_details_requested.connect(self.drift_details)
        bar.progress_requested.connect(self._show_progress)

    def _build_actions(self) -> None:
        """Stack-menu commands (HIG: every command lives in a menu)."""
        specs: tuple[tuple[str, str | QKeySequence.StandardKey | None, Callable[[], None]], ...] = (
            ("Edit Stack…", None, self.edit_stack),
            ("Deploy to Server…", None, self.deploy),
            ("Refresh", QKeySequence.StandardKey.Refresh, self.refresh),
            ("Review Changes…", None, self.review),
            ("Apply", "Ctrl+Shift+Return", self.apply),
            ("History…", "Ctrl+Y", self.history),
        )
        self.actions: dict[str, QAction] = {}
        for text, shortcut, slot in specs:
            action = QAction(text, self.window)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda _checked=False, run=slot: run())
            self.window.add_stack_command(action)
            self.actions[text] = action

    # -- feeding the pages -----------------------------------------------------------------------

    def _feed(self, status: StackStatus) -> None:
        """Hand one snapshot to every page and bar."""
        from llmproxy_desktop.ops.stack_status import VaultState

        effective = list(status.effective) if status.effective is not None else None
        if effective is not None:
            self.models_page.set_items(effective)
            self.keys_page.set_items(effective)
            self.routing_page.set_items(effective)
            self.advanced_page.set_items(effective)
            self.caching_page.set_settings(effective)
        self.keys_page.set_vault_state(status.vault is VaultState.LOCKED)
        self.caching_page.set_ping(status.cache, status.cache_error)
        if status.rendered_redacted is not None:
            self.rendered_page.set_render(status.rendered_redacted)
        self.rendered_page.set_remote(status.remote_redacted, status.drift)
        self.dashboard_page.set_summary(self._summary(status))
        self.housekeeping_page.set_items(effective or [])
        self.logs_page.set_items(effective or [])
        self.virtual_keys_page.set_model_groups(sorted(status.served_models or ()))
        self.apply_bar.set_staged_count(status.staged_count)
        self.apply_bar.set_drift(status.drift)
        if status.vault is VaultState.LOCKED and effective is None:
            self.ask_vault_passphrase()
        if self.window.current_page_key() == "dashboard":
            self._read_dashboard_usage()
        if status.stack not in self._rollup_started:
            self._rollup_started.add(status.stack)
            self._catch_up_usage()
        if effective is not None:
            # Every heavy module is imported by the first snapshot: collections skip them.
            freeze_heap_once()
        if not status.initialised and status.stack not in self._import_offered:
            self._import_offered.add(status.stack)
            self.offer_first_boot_import()

    def _catch_up_usage(self) -> None:
        """Bring the usage rollup up to date in short jobs (~1 s each, re-queued until done) so
        an Apply or a page read never waits long behind a first catch-up of millions of rows."""

        def run(connection: StackConnection, _p: JobProgress, _c: threading.Event) -> object:
            from llmproxy_desktop.ops.usage_rollup import catch_up

            return catch_up(
                connection.target.master_engine,
                datetime.now(UTC),
                schema=connection.master.schema,
                max_seconds=1.0,
                wait=False,
            )

        def done(result: object) -> None:
            complete = getattr(result, "complete", True) or getattr(result, "skipped", False)
            if not complete and getattr(result, "batches", 0) > 0:
                self._catch_up_usage()

        self.current.run("Usage rollup", run, done, lambda _sentence: None)

    def offer_first_boot_import(self) -> None:
        """The Master is empty (a stack set up by hand): offer to import the server's file."""
        controller = self.controller
        if controller is None:
            return
        box = QMessageBox(self.window)
        box.setIcon(QMessageBox.Icon.Question)
        box.setText(f"Import the configuration of {controller.name}?")
        box.setInformativeText(
            "The app holds no configuration for this stack yet. Importing makes the server's "
            "config.yaml the applied configuration (credentials written in it go into the "
            "encrypted vault); from then on the app owns it."
        )
        import_button = box.addButton("Import", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Not Now", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(import_button)
        box.finished.connect(
            lambda _r: self.first_boot_import() if box.clickedButton() is import_button else None
        )
        self.sheet = box
        box.open()

    def first_boot_import(self) -> None:
        """Run the first-boot import on the stack's worker, then refresh every page."""
        controller = self.controller
        if controller is None:
            return
        passphrase = keyring_secrets_loader(
            self._keyring, controller.name, self._typed_secrets.get(controller.name)
        )

        def run(connection: StackConnection, _p: JobProgress, _c: threading.Event) -> object:
            from llmproxy_desktop.ops.first_boot import first_boot_import

            return first_boot_import(
                connection, lambda: passphrase().get(SecretKind.VAULT_PASSPHRASE)
            )

        def imported(result: object) -> None:
            count = getattr(result, "imported", 0)
            self.window.statusBar().showMessage(
                f"Imported {count} item(s) from the server's config.yaml.", 10_000
            )

        self.current.run("Import", run, imported, self._report_error_box, refresh_after=True)

    def _report_error_box(self, sentence: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Import failed", sentence, parent=self.window)
        self.sheet = box
        box.open()

    def _summary(self, status: StackStatus) -> DashboardSummary:
        return build_summary(
            status.effective or (),
            status.staged_count,
            status.readiness,
            status.served_models,
            status.container,
            status.last_revision,
            None if self.last_apply is None else self.last_apply.ok,
            now=datetime.now(UTC),
            readiness_error=status.litellm_error,
            served_error=status.litellm_error,
            container_error=status.container_error,
            applied=status.applied,
            last_attempt=status.last_attempt,
        )

    def refresh(self) -> None:
        """Re-read everything the pages show."""
        if self.controller is not None:
            self.controller.refresh()

    # -- stacks ----------------------------------------------------------------------------------

    def _new_controller(self, profile: StackProfile) -> StackController:
        return StackController(
            self.runner,
            profile,
            keyring_secrets_loader(
                self._keyring, profile.name, self._typed_secrets.get(profile.name)
            ),
            host_keys=self._host_keys,
            confirm=self._host_key_prompt,
            parent=self,
        )

    def switch_to(self, name: str) -> None:
        """Close the current stack's connection and connect to `name`."""
        old, self.controller = self.controller, None
        if old is not None:
            self._set_connected(False)
            old.status_changed.disconnect(self._feed)
            old.busy_changed.disconnect(self.apply_bar.set_busy)
            old.close()
        self.last_apply = None
        self._usage_read_at = None
        self._rollup_started.discard(name)
        try:
            profile = self._store.get(name)
        except ProfileNotFound:
            self.window.connection_indicator.set_state(
                SessionStatus.FAILED, f"There is no stack named {name!r} any more."
            )
            return
        controller = self._factory(profile)
        self.controller = controller
        self.window.connection_indicator.set_state(SessionStatus.CONNECTING)
        controller.session_status.connect(self._on_session_status)
        controller.status_changed.connect(self._feed)
        controller.busy_changed.connect(self.apply_bar.set_busy)
        controller.open()

    def _on_session_status(self, status: object, reason: object) -> None:
        if self.sender() is not self.controller:
            return  # a previous stack's session closing
        assert isinstance(status, SessionStatus)
        self.window.connection_indicator.set_state(
            status, reason if isinstance(reason, str) else None
        )
        self._set_connected(status is SessionStatus.CONNECTED)

    def _set_connected(self, connected: bool) -> None:
        """Pages that act on the live stack follow the connection (Logs stops and resumes)."""
        self.housekeeping_page.set_connected(connected)
        self.logs_page.set_connected(connected)

    def _page_shown(self, key: str) -> None:
        """Read-on-demand pages load when first shown (they cost a query or an API call)."""
        if self.controller is None:
            return
        if key == "housekeeping":
            self.housekeeping_page.refresh()
        elif key == "virtual-keys":
            self.virtual_keys_page.reload()
        elif key == "usage":
            self.usage_page.refresh()
        elif key == "dashboard":
            self._read_dashboard_usage()

    def _read_dashboard_usage(self) -> None:
        """The Dashboard's usage cards: one aggregate query, at most every 30 s."""
        now = datetime.now(UTC)
        if self._usage_read_at is not None and (now - self._usage_read_at).total_seconds() < 30:
            return
        self._usage_read_at = now
        self.usage_service.load_dashboard(now, self.usage_cards.set_usage, self._report)

    def _compute_diff(
        self,
        render: str,
        remote: str | None,
        report: DriftReport | None,
        done: Callable[[str], None],
    ) -> None:
        """The Rendered Config page's diff, on the stack's worker (seconds for big files)."""
        self.current.run(
            "Compare",
            lambda _connection, _p, _c: differences(render, remote, report),
            lambda diff: done(str(diff)),
            lambda sentence: done(sentence),
        )

    def delete_expired_keys(self) -> None:
        """Count the expired keys, ask naming the count, then delete them (audited)."""

        def counted(result: object) -> None:
            expired = list(result) if isinstance(result, list) else []
            if not expired:
                self.window.statusBar().showMessage("No virtual key has expired.", 10_000)
                return
            box = QMessageBox(self.window)
            box.setIcon(QMessageBox.Icon.Warning)
            box.setText(f"Delete {len(expired)} expired virtual key(s)?")
            box.setInformativeText("Clients using them are refused already; this removes them.")
            delete = box.addButton(
                f"Delete {len(expired)} Keys", QMessageBox.ButtonRole.DestructiveRole
            )
            cancel = box.addButton(QMessageBox.StandardButton.Cancel)
            box.setDefaultButton(cancel)
            box.finished.connect(
                lambda _r: (
                    self._delete_expired_confirmed() if box.clickedButton() is delete else None
                )
            )
            self.sheet = box
            box.open()

        def listed(connection: StackConnection, _p: JobProgress, _c: threading.Event) -> object:
            from llmproxy_desktop.ops.keys import delete_expired_keys

            return delete_expired_keys(connection.target.litellm, dry_run=True)

        self.current.run("Find expired keys", listed, counted, self._report)

    def _delete_expired_confirmed(self) -> None:
        self.keys_service.delete_expired(
            lambda count: self.window.statusBar().showMessage(
                f"Deleted {count} expired virtual key(s).", 10_000
            ),
            self._report,
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
        sheet = self.stack_sheet
        if sheet is not None:
            # Typed but not saved in the keyring: kept in memory for this session only, so the
            # window connects without a keyring (never written anywhere).
            typed = {
                kind: text
                for kind, field in sheet.secret_fields.items()
                if (text := field.edit.text())
            }
            if typed:
                self._typed_secrets[profile.name] = typed
        self.window.refresh_stacks()
        if self.window.current_stack() == profile.name:
            self.switch_to(profile.name)  # same name: reconnect with the new fields
        else:
            self.window.select_stack(profile.name)

    def deploy(self) -> None:
        """The deploy wizard for the current stack (its services need not run yet)."""
        from llmproxy_desktop.ui.sheets.deploy_sheet import DeploySheet

        controller = self.controller
        if controller is None:
            return
        profile = controller.profile
        load_secrets = keyring_secrets_loader(
            self._keyring, profile.name, self._typed_secrets.get(profile.name)
        )
        host_keys, confirm = self._host_keys, self._host_key_prompt

        def deploy_job(directory: Path) -> Callable[[JobProgress, threading.Event], object]:
            def job(progress: JobProgress, cancel: threading.Event) -> object:
                from llmproxy_desktop.ops.deploy import (
                    DeployFiles,
                    deploy_profile,
                    secrets_with_env,
                )

                files = DeployFiles.from_dir(directory)
                saved = load_secrets()
                return deploy_profile(
                    profile,
                    secrets_with_env(saved, files),
                    files,
                    progress,
                    cancel,
                    host_keys=host_keys,
                    confirm=confirm,
                    vault_passphrase=lambda: saved.get(SecretKind.VAULT_PASSPHRASE),
                )

            return job

        sheet = DeploySheet(
            profile.name,
            profile.compose_dir,
            _DetachedRunner(controller),
            deploy_job,
            parent=self.window,
        )
        sheet.deployed.connect(lambda _result: controller.refresh())
        sheet.show_dashboard.connect(lambda: self.window.show_page("dashboard"))
        self.sheet = sheet
        sheet.open()

    # -- vault -----------------------------------------------------------------------------------

    def ask_vault_passphrase(self) -> None:
        """The vault is locked and the items need it: ask (one sheet at a time)."""
        controller = self.controller
        if controller is not None:
            self._open_vault_sheet(controller, controller.unlock_vault)

    def rotate_data_key(self) -> None:
        """Ask for the passphrase, then re-encrypt every secret under a new data key."""
        controller = self.controller
        if controller is None:
            return
        self._open_vault_sheet(
            controller,
            controller.rotate_data_key,
            title="Rotate Data Key",
            intro=(
                f"A new data key re-encrypts every credential of {controller.name}, in applied "
                "and staged items and in the history. Enter the vault passphrase to go ahead."
            ),
            action_text="Rotate Key",
        )

    def _open_vault_sheet(
        self,
        controller: StackController,
        action: Callable[[str], object],
        **texts: str,
    ) -> None:
        from llmproxy_desktop.ui.sheets.vault_sheet import VaultSheet

        if self.vault_sheet is not None:
            return
        sheet = VaultSheet(
            self.runner,
            controller.name,
            action,
            self.window,
            keyring_secrets=self._keyring,
            **texts,
        )
        sheet.unlocked.connect(lambda _result: controller.refresh())
        sheet.finished.connect(lambda _code: self._vault_sheet_closed(sheet))
        self.vault_sheet = sheet
        sheet.open()

    def _vault_sheet_closed(self, sheet: QWidget) -> None:
        if self.vault_sheet is sheet:
            self.vault_sheet = None

    def change_passphrase(self) -> None:
        """Ask for the old and the new passphrase and re-wrap the vault's key."""
        from llmproxy_desktop.ui.sheets.passphrase_sheet import PassphraseSheet

        controller = self.controller
        if controller is None:
            return
        sheet = PassphraseSheet(self.window)
        keyring, stack = self._keyring, controller.name

        def update_saved(new: str) -> None:
            # On the worker, after the change: a passphrase saved in the keyring follows it.
            try:
                if SecretKind.VAULT_PASSPHRASE in keyring.saved_kinds(stack):
                    keyring.save(stack, SecretKind.VAULT_PASSPHRASE, new)
            except KeyringError as error:
                _log.warning("keyring: %s", error.args[0])

        def answered(error: str | None) -> None:
            if error is None:
                sheet.succeeded()
            else:
                sheet.show_error(error)

        sheet.submitted.connect(
            lambda old, new: controller.change_passphrase(
                old, new, answered, on_changed=update_saved
            )
        )
        self.sheet = sheet
        sheet.open()

    # -- Apply bar -------------------------------------------------------------------------------

    def review(self) -> None:
        """The staged changes per item, the rendered YAML's diff and the findings. Computed on
        a background thread (seconds for a big stack with many changes); the sheet opens when
        ready, unless the stack was switched meanwhile."""
        from llmproxy_desktop.ops.review import review_content

        controller = self.controller
        status = controller.last_status if controller else None
        if status is None or status.effective is None or status.applied is None:
            return
        if self._review_check.is_pending():
            return  # one review at a time; it opens when ready
        applied, effective = list(status.applied), list(status.effective)
        QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)

        def done(content: ReviewContent) -> None:
            QApplication.restoreOverrideCursor()
            if self.controller is not controller or controller is None:
                return  # another stack is shown now
            if controller.last_status is not status:
                self.review()  # a refresh came in meanwhile: review what is staged now
                return
            self._open_review(content)

        def failed(error: Exception) -> None:
            QApplication.restoreOverrideCursor()
            QMessageBox.warning(self.window, "Review Changes", error_sentence("Review", error))

        self._review_check.submit(lambda: review_content(applied, effective), done, failed)

    def _open_review(self, content: ReviewContent) -> None:
        from llmproxy_desktop.ui.sheets.review_sheet import ReviewChangesSheet

        sheet = ReviewChangesSheet(
            content.changes, content.labels, content.config_diff, content.findings, self.window
        )
        sheet.apply_requested.connect(self.apply)
        sheet.discard_requested.connect(lambda keys: self._discard_keys(sheet, keys))
        self.sheet = sheet
        sheet.open()

    def _discard_keys(self, sheet: QWidget, keys: list[ItemKey]) -> None:
        def done(error: str | None) -> None:
            show = getattr(sheet, "show_message", None)
            if callable(show):
                show(error or f"Discarded {len(keys)} change(s).")

        self.current.discard(keys, done)

    def discard_all(self) -> None:
        """Ask, then discard every staged change."""
        controller = self.controller
        if controller is None or controller.last_status is None:
            return
        count = controller.last_status.staged_count
        if count == 0:
            return
        ask_discard(self.window, count, lambda: controller.discard_all(self._report))

    def _report(self, error: str | None) -> None:
        if error is not None:
            self.window.statusBar().showMessage(error, 10_000)

    def apply(self, *, force_restart: bool = False) -> None:
        """Run the Apply with the progress sheet (one at a time)."""
        from llmproxy_desktop.ops.apply import Outcome, Step
        from llmproxy_desktop.ui.sheets.apply_progress_sheet import ApplyProgressSheet

        controller = self.controller
        if controller is None or controller.apply_job is not None:
            return
        sheet = ApplyProgressSheet(self.window)
        sheet.cancel_requested.connect(controller.cancel_apply)
        self.progress_sheet = sheet

        def progress(step: str, fraction: float, message: str) -> None:
            sheet.on_progress(step, fraction, message)
            self.apply_bar.on_progress(step, fraction, message)

        def finished(result: ApplyResult) -> None:
            self.last_apply = result
            sheet.on_finished(result)
            if result.outcome(Step.RESTART) is Outcome.OK:
                self.logs_page.follow()  # Docker ended the log stream with the restart

        controller.apply(progress, finished, sheet.on_failed, force_restart=force_restart)
        sheet.open()

    def _show_progress(self) -> None:
        if self.progress_sheet is not None:
            self.progress_sheet.show()

    def history(self) -> None:
        """The applied revisions, with Restore."""
        from llmproxy_desktop.ui.sheets.history_sheet import HistorySheet

        controller = self.controller
        if controller is None:
            return

        def listed(result: tuple[list[RevisionInfo], str | None]) -> None:
            revisions, current = result
            sheet = HistorySheet(revisions, current, self.window)
            sheet.restore_requested.connect(lambda revision: self._restore(sheet, revision))
            self.history_sheet = sheet
            sheet.open()

        controller.revisions(listed, self._report)

    def _restore(self, sheet: HistorySheet, revision_id: int) -> None:
        controller = self.controller
        if controller is None:
            return

        def staged(count: int) -> None:
            sheet.show_message(
                f"Staged {count} change(s) that restore revision {revision_id}. Review and "
                "Apply them to make it live."
                if count
                else f"The configuration already is revision {revision_id}: nothing staged."
            )

        controller.restore(revision_id, staged, sheet.show_message)

    def drift_details(self) -> None:
        """The drift report with its diff and what resolves it."""
        from llmproxy_desktop.ui.sheets.drift_sheet import DriftSheet

        controller = self.controller
        status = controller.last_status if controller else None
        if controller is None or status is None or status.drift is None:
            return
        sheet = DriftSheet(status.drift, self.window)
        sheet.rerender_requested.connect(self.apply)
        sheet.finish_requested.connect(self.finish_interrupted_apply)
        self.sheet = sheet
        sheet.open()

    def finish_interrupted_apply(self) -> None:
        """Record the revision an interrupted Apply left, then restart and verify."""
        from llmproxy_desktop.ui.sheets.apply_progress_sheet import ApplyProgressSheet

        controller = self.controller
        if controller is None:
            return
        sheet = ApplyProgressSheet(self.window)
        self.progress_sheet = sheet

        def finished(result: ApplyResult) -> None:
            self.last_apply = result
            sheet.on_finished(result)

        controller.finish_interrupted_apply(sheet.on_progress, finished, sheet.on_failed)
        sheet.open()

    def close(self) -> None:
        """Close the current connection (the runner's shutdown waits for it)."""
        self._host_key_prompt.abandon()
        self.logs_page.stop()
        if self.controller is not None:
            self.controller.close()
            self.controller = None
