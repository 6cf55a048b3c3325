"""The workspace without a reachable stack: the welcome view's Add Stack opens the sheet, an
unreachable server ends in a failed indicator naming the layer and the address (never a
traceback), and the Stack menu carries the stack commands. The happy path against the real stack
is tests/apply/test_window_e2e.py."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.items import EffectiveItem, Flag, Item, ItemKind
from llmproxy_desktop.ops import review as review_module
from llmproxy_desktop.ops.review import ReviewContent
from llmproxy_desktop.ops.stack_status import StackStatus, VaultState
from llmproxy_desktop.remote.host_keys import HostKeyStore
from llmproxy_desktop.remote.keyring_secrets import KeyringSecrets
from llmproxy_desktop.remote.profiles import StackProfile
from llmproxy_desktop.remote.profiles_store import ProfileStore
from llmproxy_desktop.remote.ssh_session import SessionStatus
from llmproxy_desktop.ui.job_runner import JobRunner
from llmproxy_desktop.ui.main_window import MainWindow
from llmproxy_desktop.ui.sheets.review_sheet import ReviewChangesSheet
from llmproxy_desktop.ui.sidebar import Sidebar
from llmproxy_desktop.ui.stack_workspace import StackWorkspace
from tests.profiles.fake_keyrings import MemoryKeyring


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def store(tmp_path: Path) -> ProfileStore:
    return ProfileStore(tmp_path / "stacks.json")


def open_workspace(qtbot: QtBot, tmp_path: Path, store: ProfileStore) -> Iterator[StackWorkspace]:
    """A shown window with the real workspace over `store`, not started (nothing connects)."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, profile_store=store)
    qtbot.addWidget(window)
    runner = JobRunner()
    built = StackWorkspace(
        window,
        runner,
        profile_store=store,
        keyring_secrets=KeyringSecrets(MemoryKeyring()),
        host_keys=HostKeyStore(
            app_known_hosts=tmp_path / "app_known_hosts", user_known_hosts=tmp_path / "known"
        ),
    )
    window.show()
    yield built
    built.close()
    assert runner.shutdown()


@pytest.fixture
def workspace(qtbot: QtBot, tmp_path: Path, store: ProfileStore) -> Iterator[StackWorkspace]:
    yield from open_workspace(qtbot, tmp_path, store)


@pytest.fixture
def stocked_workspace(
    qtbot: QtBot, tmp_path: Path, store: ProfileStore
) -> Iterator[StackWorkspace]:
    """The workspace with one stack stored before the window opens (so the sidebar shows)."""
    store.add(StackProfile(name="prod", compose_dir="/srv", host="127.0.0.1", port=closed_port()))
    yield from open_workspace(qtbot, tmp_path, store)


def test_add_stack_from_the_welcome_view_opens_the_stack_sheet(
    qtbot: QtBot, workspace: StackWorkspace
) -> None:
    workspace.start()
    assert workspace.controller is None  # no stack, nothing to connect
    workspace.window.welcome_page.add_stack_requested.emit()
    sheet = workspace.stack_sheet
    assert sheet is not None
    qtbot.waitUntil(sheet.isVisible)
    assert sheet.windowTitle() == "Add Stack"
    sheet.reject()


def test_an_unreachable_server_fails_the_indicator_naming_the_layer(
    qtbot: QtBot, store: ProfileStore, stocked_workspace: StackWorkspace
) -> None:
    workspace, window = stocked_workspace, stocked_workspace.window
    (profile,) = store.load()
    port = profile.port
    workspace.start()
    indicator = window.connection_indicator
    qtbot.waitUntil(lambda: indicator.state is SessionStatus.FAILED, timeout=20_000)
    reason = indicator.reason or ""
    assert reason.startswith("Connect failed: [ssh-connect]"), reason
    assert f"127.0.0.1:{port}" in reason and "Traceback" not in reason
    assert workspace.models_page.table_model.rowCount() == 0
    # The edit path stays usable: the pages get a sentence, not a crash.
    answers: list[str | None] = []
    workspace.current.stage([], answers.append)
    qtbot.waitUntil(lambda: bool(answers), timeout=10_000)
    assert answers[0] is not None and "not connected" in answers[0]
    # Refresh after a failed connect tries to connect again (the server may be back).
    controller = workspace.controller
    assert controller is not None
    seen: list[object] = []
    controller.session_status.connect(lambda status, _reason: seen.append(status))
    workspace.refresh()
    qtbot.waitUntil(lambda: seen[-1:] == [SessionStatus.FAILED], timeout=20_000)
    assert SessionStatus.CONNECTING in seen


def test_the_stack_menu_carries_the_stack_commands(workspace: StackWorkspace) -> None:
    texts = [a.text() for a in workspace.window.stack_menu.actions() if a.text()]
    for command in ("Edit Stack…", "Refresh", "Review Changes…", "Apply", "History…"):
        assert command in texts


def sidebar_entries(sidebar: Sidebar) -> list[tuple[str, list[str]]]:
    """What the sidebar shows: each section's title and its pages' titles, top to bottom."""
    model = sidebar.model()
    entries: list[tuple[str, list[str]]] = []
    for row in range(model.rowCount()):
        section = model.index(row, 0)
        pages = [model.index(i, 0, section).data() for i in range(model.rowCount(section))]
        entries.append((section.data(), pages))
    return entries


def test_the_sidebar_shows_every_page_under_its_section_in_order(
    qtbot: QtBot, stocked_workspace: StackWorkspace
) -> None:
    window = stocked_workspace.window
    qtbot.waitExposed(window)
    assert window.current_stack() is not None
    assert window.sidebar.isVisible()  # a stack exists: the sidebar, not the welcome view
    assert sidebar_entries(window.sidebar) == [
        ("Overview", ["Dashboard"]),
        (
            "Configuration",
            ["Models", "Provider Keys", "Routing", "Caching", "Advanced", "Rendered Config"],
        ),
        ("Operations", ["Virtual Keys", "Usage & Spend", "Housekeeping", "Logs"]),
    ]
    assert window.page_keys() == [
        "dashboard",
        "models",
        "keys",
        "routing",
        "caching",
        "advanced",
        "rendered",
        "virtual-keys",
        "usage",
        "housekeeping",
        "logs",
    ]


def test_deploy_opens_the_wizard_and_runs_jobs_without_a_connection(
    qtbot: QtBot, stocked_workspace: StackWorkspace
) -> None:
    from llmproxy_desktop.ui.sheets.deploy_sheet import DeploySheet
    from llmproxy_desktop.ui.stack_workspace import _DetachedRunner

    workspace, window = stocked_workspace, stocked_workspace.window
    workspace.start()  # the server is not there: the connect fails, the stack is selected
    assert workspace.controller is not None
    texts = [a.text() for a in window.stack_menu.actions()]
    assert "Deploy to Server…" in texts
    workspace.deploy()
    sheet = workspace.sheet
    assert isinstance(sheet, DeploySheet) and sheet.windowTitle() == "Deploy prod"
    qtbot.waitUntil(sheet.isVisible)
    sheet.reject()

    # The wizard's jobs run on the stack's queue with no connection at all.
    results: list[object] = []
    _DetachedRunner(workspace.controller).run(
        "Probe", lambda _progress, _cancel: 42, results.append, results.append
    )
    qtbot.waitUntil(lambda: bool(results), timeout=10_000)
    assert results == [42]


def test_secrets_typed_this_session_win_over_saved_ones_and_fill_the_gaps() -> None:
    from llmproxy_desktop.remote.keyring_secrets import SERVICE
    from llmproxy_desktop.remote.profiles import SecretKind
    from llmproxy_desktop.ui.stack_workspace import keyring_secrets_loader

    memory = MemoryKeyring()
    memory.set_password(SERVICE, "s1:db-password", "saved-db")
    memory.set_password(SERVICE, "s1:litellm-master-key", "saved-key")
    typed = {SecretKind.DB_PASSWORD: "typed-db", SecretKind.SSH_PASSWORD: "typed-ssh"}

    loaded = keyring_secrets_loader(KeyringSecrets(memory), "s1", typed)()

    assert loaded == {
        SecretKind.DB_PASSWORD: "typed-db",
        SecretKind.LITELLM_MASTER_KEY: "saved-key",
        SecretKind.SSH_PASSWORD: "typed-ssh",
    }
    assert keyring_secrets_loader(KeyringSecrets(memory), "s1")()[SecretKind.DB_PASSWORD] == (
        "saved-db"
    )


def _status_with(applied: list[Item], effective: list[EffectiveItem]) -> StackStatus:
    """A snapshot with just the items (as a refresh of a connected stack hands it over)."""
    return StackStatus(
        stack="prod",
        effective=tuple(effective),
        applied=tuple(applied),
        staged_count=sum(e.flag is not None for e in effective),
        vault=VaultState.NONE,
        initialised=True,
        last_revision=None,
        drift=None,
        drift_error=None,
        readiness=None,
        served_models=None,
        litellm_error=None,
        container=None,
        container_error=None,
        cache=None,
        cache_error=None,
        rendered_redacted=None,
        remote_redacted=None,
        remote_error=None,
    )


def _model(group: str) -> Item:
    return Item(
        ItemKind.MODEL,
        str(uuid.uuid5(uuid.NAMESPACE_OID, group)),
        {"model_name": group, "litellm_params": {"model": f"openai/{group}"}},
    )


def test_review_is_computed_off_the_gui_thread_and_opens_when_ready(
    qtbot: QtBot, stocked_workspace: StackWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied = [_model("gpt-4o"), _model("legacy")]
    effective = [
        EffectiveItem(applied[0]),
        EffectiveItem(applied[1], Flag.DELETED),
        EffectiveItem(_model("gpt-4.1"), Flag.NEW),
    ]
    # A connected stack's controller, as far as Review reads it (its last snapshot).
    connected = SimpleNamespace(last_status=_status_with(applied, effective), close=lambda: None)
    stocked_workspace.controller = connected  # type: ignore[assignment]
    threads: list[str] = []
    original = review_module.review_content

    def recording(applied: list[Item], effective: list[EffectiveItem]) -> ReviewContent:
        threads.append(threading.current_thread().name)
        return original(applied, effective)

    monkeypatch.setattr(review_module, "review_content", recording)

    stocked_workspace.review()
    assert stocked_workspace.sheet is None  # the click only submits the work
    qtbot.waitUntil(lambda: isinstance(stocked_workspace.sheet, ReviewChangesSheet))

    sheet = stocked_workspace.sheet
    assert isinstance(sheet, ReviewChangesSheet) and sheet.isVisible()
    assert threads == ["background-check"]  # computed off the GUI thread
    assert QApplication.overrideCursor() is None  # the busy cursor is gone again
    diff = sheet.diff_view.toPlainText()
    assert "+  - model_name: gpt-4.1" in diff and "-  - model_name: legacy" in diff


def test_a_refresh_during_the_review_computation_is_reviewed_instead(
    qtbot: QtBot, stocked_workspace: StackWorkspace
) -> None:
    applied = [_model("gpt-4o")]
    before = _status_with(applied, [EffectiveItem(applied[0])])
    connected = SimpleNamespace(last_status=before, close=lambda: None)
    stocked_workspace.controller = connected  # type: ignore[assignment]

    stocked_workspace.review()
    # A refresh lands before the answer is delivered (delivery needs the event loop): someone
    # staged a model meanwhile. The sheet must show that, since its Apply applies it.
    connected.last_status = _status_with(
        applied, [EffectiveItem(applied[0]), EffectiveItem(_model("o3-mini"), Flag.NEW)]
    )
    qtbot.waitUntil(lambda: isinstance(stocked_workspace.sheet, ReviewChangesSheet))

    sheet = stocked_workspace.sheet
    assert isinstance(sheet, ReviewChangesSheet)
    assert "+  - model_name: o3-mini" in sheet.diff_view.toPlainText()
    assert QApplication.overrideCursor() is None
