"""The window's StackController against the real stack: connect over SSH, stage through the job
runner, Apply with progress, and the per-model Test through the proxy; the GUI thread only
submits and listens."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.items import Flag, Item, ItemKind
from llmproxy_desktop.ops.apply import ApplyResult
from llmproxy_desktop.ops.stack_status import StackStatus, VaultState
from llmproxy_desktop.remote.host_keys import HostKeyStore
from llmproxy_desktop.remote.litellm_client import ChatTest
from llmproxy_desktop.remote.profiles import SecretKind, StackProfile
from llmproxy_desktop.remote.ssh_session import SessionStatus
from llmproxy_desktop.store import Master
from llmproxy_desktop.ui.job_runner import JobRunner
from llmproxy_desktop.ui.stack_controller import StackController
from tests.fixtures.docker_stack import TestStack
from tests.fixtures.sshd import ClientKeys, SshdServer

from .conftest import ALICE, stack_profile

pytestmark = [pytest.mark.integration, pytest.mark.gui]

GROUP = "controller-mock"
ANSWER = "answered after a window apply"
APPLY_TIMEOUT_MS = 120_000


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[JobRunner]:
    jobs = JobRunner()
    yield jobs
    assert jobs.shutdown()


@pytest.fixture
def profile(
    stack_host_sshd: SshdServer,
    client_keys: ClientKeys,
    pg_cluster: Any,
    master_db: str,
    stack_restored: TestStack,
) -> StackProfile:
    return stack_profile(
        "window-stack", stack_host_sshd, client_keys, pg_cluster, master_db, stack_restored
    )


@pytest.fixture
def host_keys(stack_host_sshd: SshdServer, tmp_path: Path) -> HostKeyStore:
    known = tmp_path / "known_hosts"
    known.write_text(stack_host_sshd.known_hosts_line())
    return HostKeyStore(app_known_hosts=tmp_path / "app_known_hosts", user_known_hosts=known)


def secrets(pg_cluster: Any, stack: TestStack, **extra: str) -> dict[SecretKind, str]:
    values = {SecretKind.DB_PASSWORD: pg_cluster.password}
    values[SecretKind.LITELLM_MASTER_KEY] = stack.master_key
    return {**values, **{SecretKind(k.replace("_", "-")): v for k, v in extra.items()}}


@pytest.fixture
def controller(
    runner: JobRunner,
    profile: StackProfile,
    pg_cluster: Any,
    stack_restored: TestStack,
    host_keys: HostKeyStore,
    master: Master,
) -> Iterator[StackController]:
    opened = StackController(
        runner, profile, secrets(pg_cluster, stack_restored), host_keys=host_keys
    )
    yield opened
    opened.close()


def connect(qtbot: QtBot, controller: StackController) -> StackStatus:
    with qtbot.waitSignal(controller.status_changed, timeout=30_000) as blocker:
        controller.open()
    status = blocker.args[0]
    assert isinstance(status, StackStatus)
    return status


def new_model() -> Item:
    model_id = str(uuid.uuid4())
    return Item(
        ItemKind.MODEL,
        model_id,
        {
            "model_name": GROUP,
            "litellm_params": {"model": f"openai/{GROUP}", "mock_response": ANSWER},
            "model_info": {"id": model_id},
        },
    )


def test_connect_reports_the_session_and_a_status_snapshot(
    qtbot: QtBot, controller: StackController, stack_restored: TestStack
) -> None:
    states: list[object] = []
    controller.session_status.connect(lambda status, _reason: states.append(status))

    status = connect(qtbot, controller)

    assert SessionStatus.CONNECTED in states
    assert status.effective is not None and status.staged_count == 0
    assert status.vault is VaultState.NONE and status.initialised
    assert status.readiness is not None and status.readiness.ready
    assert status.readiness.version == "1.108.7"  # for the Dashboard's proxy figure
    assert sorted(status.served_models or ()) == sorted(stack_restored.model_groups)
    assert status.container is not None and status.container.status.value == "running"
    assert status.drift is not None and status.drift.state.value == "unknown file"


def test_stage_apply_and_test_a_model_from_the_window(
    qtbot: QtBot, controller: StackController, master: Master
) -> None:
    connect(qtbot, controller)
    answers: list[str | None] = []
    with qtbot.waitSignal(controller.status_changed, timeout=30_000) as staged:
        controller.stage([(new_model(), 0)], answers.append)
    assert answers == [None]
    flags = {
        e.item.data["model_name"]: e.flag
        for e in staged.args[0].effective
        if e.item.kind is ItemKind.MODEL
    }
    assert flags[GROUP] is Flag.NEW and staged.args[0].staged_count == 1

    steps: list[str] = []
    results: list[ApplyResult] = []
    errors: list[str] = []
    busy: list[bool] = []
    controller.busy_changed.connect(busy.append)
    controller.apply(lambda step, _f, _m: steps.append(step), results.append, errors.append)
    qtbot.waitUntil(lambda: bool(results or errors), timeout=APPLY_TIMEOUT_MS)
    assert errors == [] and results[0].ok, results[0].advice
    assert busy == [True, False]
    assert "verify" in steps and "restart LiteLLM" in steps
    # The refresh after an Apply clears the flag: it comes from the store, not the widget.
    qtbot.waitUntil(
        lambda: controller.last_status is not None and controller.last_status.staged_count == 0,
        timeout=30_000,
    )
    assert master.staged_count() == 0

    answered: list[ChatTest] = []
    controller.test_model(GROUP, answered.append, errors.append)
    qtbot.waitUntil(lambda: bool(answered or errors), timeout=60_000)
    assert errors == [] and answered[0].reply == ANSWER
    assert answered[0].latency_seconds > 0


def test_a_stale_version_comes_back_as_a_sentence_and_stages_nothing(
    qtbot: QtBot, controller: StackController, master: Master
) -> None:
    status = connect(qtbot, controller)
    assert status.effective is not None
    model = next(e for e in status.effective if e.item.kind is ItemKind.MODEL)
    master.stage(model.item, model.version, ALICE)  # another admin edits it first

    answers: list[str | None] = []
    controller.stage([(model.item, model.version)], answers.append)
    qtbot.waitUntil(lambda: bool(answers), timeout=30_000)

    assert answers[0] is not None and answers[0].startswith("Stage failed:")
    assert "alice@alice-laptop" in answers[0]
    assert master.staged_count() == 1


def test_a_wrong_database_password_fails_connect_naming_postgres(
    qtbot: QtBot,
    runner: JobRunner,
    profile: StackProfile,
    stack_restored: TestStack,
    host_keys: HostKeyStore,
    master: Master,
    pg_cluster: Any,
) -> None:
    wrong = "wrong-" + uuid.uuid4().hex[:10]
    values = secrets(pg_cluster, stack_restored)
    values[SecretKind.DB_PASSWORD] = wrong
    controller = StackController(runner, profile, values, host_keys=host_keys)
    states: list[tuple[object, object]] = []
    controller.session_status.connect(lambda status, reason: states.append((status, reason)))

    with qtbot.waitSignal(controller.connect_failed, timeout=30_000) as failed:
        controller.open()

    sentence = failed.args[0]
    assert sentence.startswith("Connect failed: [postgres]") and wrong not in sentence
    assert states[-1] == (SessionStatus.FAILED, sentence)


def test_run_hands_any_operation_the_connection_on_the_stacks_worker(
    qtbot: QtBot, controller: StackController, master: Master
) -> None:
    connect(qtbot, controller)
    master.stage(new_model(), 0, ALICE)
    results: list[object] = []
    errors: list[str] = []

    controller.run(
        "Count", lambda c, _p, _x: c.master.staged_count(), results.append, errors.append
    )
    controller.run("Break", lambda c, _p, _x: 1 / 0, results.append, errors.append)
    qtbot.waitUntil(lambda: len(results) + len(errors) == 2, timeout=30_000)

    assert results == [1]
    assert errors == ["Break failed: division by zero."]
