"""Apply (issue 4 §1) end to end against the real Master, sshd, socket-proxy and LiteLLM.

Every test ends by asserting the invariant of issue 4 §5: either config.yaml == render(applied)
with nothing staged, or config.yaml, applied and staged are all as they were.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from llmproxy_desktop.core.items import Item, ItemKind
from llmproxy_desktop.core.validate import render_checked
from llmproxy_desktop.ops.apply import (
    ApplyLocked,
    ApplyResult,
    Outcome,
    Step,
    apply,
)
from llmproxy_desktop.ops.apply_lock import apply_lock
from llmproxy_desktop.ops.apply_outcome import latest_attempt
from llmproxy_desktop.ops.apply_target import (
    ApplyTarget,
    ConfigFile,
    LocalConfigFile,
    SftpConfigFile,
)
from llmproxy_desktop.remote.docker_control import DockerControl
from llmproxy_desktop.remote.sftp_atomic import TEMP_SUFFIX
from llmproxy_desktop.remote.ssh_session import SshSession
from llmproxy_desktop.store import Master
from tests.fixtures.docker_stack import TestStack

from .conftest import ALICE, BOB

pytestmark = pytest.mark.integration

NEW_GROUP = "apply-mock"
NEW_ANSWER = "answered by the applied model"


@dataclass
class Recorder:
    """A progress callback that remembers every report."""

    calls: list[tuple[Step, float, str]] = field(default_factory=list)

    def __call__(self, step: Step, fraction: float, message: str) -> None:
        self.calls.append((step, fraction, message))


def new_model() -> Item:
    model_id = str(uuid.uuid4())
    return Item(
        ItemKind.MODEL,
        model_id,
        {
            "model_name": NEW_GROUP,
            "litellm_params": {"model": f"openai/{NEW_GROUP}", "mock_response": NEW_ANSWER},
            "model_info": {"id": model_id},
        },
    )


def config_bytes(stack: TestStack) -> bytes:
    return (stack.config_dir / "config.yaml").read_bytes()


def started_at(stack: TestStack) -> object:
    with DockerControl(stack.socket_proxy_url, stack.container_name) as control:
        return control.litellm_state().started_at


def rendered_applied(master: Master) -> bytes:
    """What the Master says the file must hold once nothing is staged."""
    assert master.staged_count() == 0
    text, _findings = render_checked(master.effective())
    return text.encode("utf-8")


def temp_files(stack: TestStack) -> list[Path]:
    return [p for p in stack.config_dir.iterdir() if p.name.endswith(TEMP_SUFFIX)]


def run_apply(
    master: Master, target: ApplyTarget, cancel: threading.Event | None = None
) -> tuple[ApplyResult, Recorder]:
    """Alice's Apply with a recording progress callback."""
    recorder = Recorder()
    result = apply(
        master,
        target,
        progress=recorder,
        cancel=cancel or threading.Event(),
        actor=ALICE,
        verify_timeout=60.0,
    )
    return result, recorder


def over(transport: str, target: ApplyTarget, stack: TestStack) -> ApplyTarget:
    """`target` with config.yaml reached over SFTP (as built) or as a local file (a stack with
    the `local` transport: the same directory, on this machine)."""
    if transport == "sftp":
        return target
    local = LocalConfigFile(stack.config_dir / "config.yaml")
    return ApplyTarget(local, target.docker, target.litellm, target.master_engine)


TRANSPORTS = pytest.mark.parametrize("transport", ["sftp", "local"])


def outcomes(result: ApplyResult) -> dict[Step, Outcome]:
    return {s.step: s.outcome for s in result.steps}


def test_apply_of_a_staged_model_makes_litellm_serve_and_answer_it(
    master: Master, target: ApplyTarget, stack_restored: TestStack
) -> None:
    master.stage(new_model(), 0, ALICE)
    before_start = started_at(stack_restored)

    result, progress = run_apply(master, target)

    assert result.ok, result
    assert outcomes(result) == dict.fromkeys(Step, Outcome.OK)
    assert [s.step for s in result.steps] == list(Step)
    assert all(s.seconds >= 0 for s in result.steps)
    assert result.committed and not result.noop and result.advice is None
    assert result.missing_groups == () and result.unexpected_groups == ()
    # Every step reported its start and end, with a fraction that never goes back.
    assert {step for step, _f, _m in progress.calls} == set(Step)
    fractions = [f for _s, f, _m in progress.calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0

    # The invariant: the file is the render of what is now applied; the revision has its hash.
    on_disk = config_bytes(stack_restored)
    assert on_disk == rendered_applied(master)
    (revision, *_older) = master.revisions()
    assert revision.id == result.revision_id
    assert revision.rendered_sha256 == hashlib.sha256(on_disk).hexdigest()
    assert revision.created_by == ALICE
    assert revision.summary == "1 new, 0 changed, 0 deleted"
    assert (stack_restored.config_dir / "config.yaml").stat().st_mode & 0o777 == 0o600
    assert temp_files(stack_restored) == []
    # The outcome is in the Master for every client's Dashboard and `status`.
    attempt = latest_attempt(master)
    assert attempt is not None and attempt.ok and attempt.failed_step is None
    assert attempt.by == ALICE and attempt.revision_id == result.revision_id

    # LiteLLM was restarted on the new file: it lists the group and answers through it.
    assert started_at(stack_restored) != before_start
    served = target.litellm.models()
    assert sorted(served) == sorted([*stack_restored.model_groups, NEW_GROUP])
    response = httpx.post(
        f"{stack_restored.litellm_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {stack_restored.master_key}"},
        json={"model": NEW_GROUP, "messages": [{"role": "user", "content": "hello"}]},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == NEW_ANSWER


def test_apply_keeps_staged_items_and_the_file_when_validation_fails(
    master: Master, target: ApplyTarget, stack_restored: TestStack
) -> None:
    master.stage(new_model(), 0, ALICE)
    master.stage(Item(ItemKind.ROUTER_SETTING, "routing_strategy", "fastest-please"), 0, ALICE)
    staged = master.staged_versions()
    before, before_start = config_bytes(stack_restored), started_at(stack_restored)

    result, _progress = run_apply(master, target)

    assert not result.ok and not result.committed
    assert outcomes(result)[Step.RENDER] is Outcome.FAILED
    assert all(outcomes(result)[s] is Outcome.SKIPPED for s in list(Step)[2:])
    assert "routing.strategy-invalid" in {f.rule for f in result.findings}
    assert result.advice is not None and "staged items kept" in result.advice
    # Invariant, second form: file, applied and staged all as they were.
    assert config_bytes(stack_restored) == before
    assert master.staged_versions() == staged
    assert master.revisions() == []
    assert started_at(stack_restored) == before_start
    attempt = latest_attempt(master)  # recorded although nothing changed: it was refused
    assert attempt is not None and not attempt.ok and attempt.failed_step == "RENDER"
    assert attempt.revision_id is None and attempt.by == ALICE


class CancelAtTheLastMoment:
    """Wraps the config file: sets the cancel token once the temp file is written and read back,
    i.e. at the latest point where a cancel is still honoured (just before the rename)."""

    def __init__(self, inner: ConfigFile, cancel: threading.Event) -> None:
        self.inner = inner
        self.cancel = cancel
        self.temp_was_complete = False

    @property
    def location(self) -> str:
        return self.inner.location

    def read(self) -> bytes | None:
        return self.inner.read()

    def replace(self, data: bytes, before_swap: Callable[[], None]) -> None:
        def cancel_then_swap() -> None:
            self.temp_was_complete = True
            self.cancel.set()
            before_swap()

        self.inner.replace(data, cancel_then_swap)


@TRANSPORTS
def test_cancel_before_the_commit_point_writes_nothing(
    master: Master, target: ApplyTarget, stack_restored: TestStack, transport: str
) -> None:
    target = over(transport, target, stack_restored)
    master.stage(new_model(), 0, ALICE)
    staged = master.staged_versions()
    before = config_bytes(stack_restored)
    cancel = threading.Event()
    wrapped = CancelAtTheLastMoment(target.config, cancel)
    cancelling = ApplyTarget(wrapped, target.docker, target.litellm, target.master_engine)

    result, _progress = run_apply(master, cancelling, cancel=cancel)

    assert wrapped.temp_was_complete
    assert result.cancelled and not result.committed
    assert outcomes(result)[Step.UPLOAD] is Outcome.CANCELLED
    assert all(outcomes(result)[s] is Outcome.SKIPPED for s in list(Step)[3:])
    assert config_bytes(stack_restored) == before
    assert temp_files(stack_restored) == []  # the complete temp file was removed
    assert master.staged_versions() == staged
    assert master.revisions() == []
    assert latest_attempt(master) is None  # a cancelled Apply changed nothing: not recorded


def test_cancel_set_before_the_apply_stops_at_render(
    master: Master, target: ApplyTarget, stack_restored: TestStack
) -> None:
    master.stage(new_model(), 0, ALICE)
    staged = master.staged_versions()
    before = config_bytes(stack_restored)
    cancel = threading.Event()
    cancel.set()

    result, _progress = run_apply(master, target, cancel=cancel)

    assert result.cancelled
    assert outcomes(result)[Step.LOCK] is Outcome.OK
    assert outcomes(result)[Step.RENDER] is Outcome.CANCELLED
    assert config_bytes(stack_restored) == before
    assert master.staged_versions() == staged


def write_render_of_master(master: Master, stack: TestStack) -> bytes:
    """Make the file already hold what the Master renders (as after an earlier Apply)."""
    data = rendered_applied(master)
    (stack.config_dir / "config.yaml").write_bytes(data)
    return data


def test_noop_apply_skips_the_write_and_the_restart_and_says_so(
    master: Master, target: ApplyTarget, stack_restored: TestStack
) -> None:
    data = write_render_of_master(master, stack_restored)
    mtime = (stack_restored.config_dir / "config.yaml").stat().st_mtime_ns
    before_start = started_at(stack_restored)

    result, _progress = run_apply(master, target)

    assert result.ok and result.noop and not result.committed
    assert outcomes(result) == {
        Step.LOCK: Outcome.OK,
        Step.RENDER: Outcome.OK,
        Step.UPLOAD: Outcome.SKIPPED,
        Step.COMMIT: Outcome.SKIPPED,
        Step.FOLD: Outcome.SKIPPED,
        Step.RESTART: Outcome.SKIPPED,
        Step.VERIFY: Outcome.OK,
    }
    details = {s.step: s.detail for s in result.steps}
    assert "already holds this render" in details[Step.UPLOAD]
    assert "no-op" in details[Step.RESTART]
    assert started_at(stack_restored) == before_start
    assert config_bytes(stack_restored) == data
    assert (stack_restored.config_dir / "config.yaml").stat().st_mtime_ns == mtime
    assert master.revisions() == []
    assert latest_attempt(master) is None  # nor is a no-op


def test_second_apply_fails_fast_naming_the_holder(
    master: Master, target: ApplyTarget, stack_restored: TestStack, other_engine: Engine
) -> None:
    master.stage(new_model(), 0, ALICE)
    staged = master.staged_versions()
    before = config_bytes(stack_restored)

    # Bob's Apply holds the stack's lock (from his own engine, i.e. his own desktop).
    with apply_lock(other_engine, master.schema, BOB), pytest.raises(ApplyLocked) as refused:
        run_apply(master, target)

    assert refused.value.holder == "bob@bob-desktop"
    assert str(refused.value) == "Apply in progress by bob@bob-desktop"
    assert config_bytes(stack_restored) == before
    assert master.staged_versions() == staged


def test_apply_waits_for_the_holder_when_asked_to_and_then_runs(
    master: Master, target: ApplyTarget, stack_restored: TestStack, other_engine: Engine
) -> None:
    write_render_of_master(master, stack_restored)  # a no-op Apply: no restart needed here
    told_to_wait = threading.Event()
    messages: list[str] = []
    results: list[ApplyResult] = []

    def progress(step: Step, fraction: float, message: str) -> None:
        messages.append(message)
        if "Apply in progress by" in message:
            told_to_wait.set()

    def alice_applies() -> None:
        results.append(
            apply(
                master,
                target,
                progress=progress,
                cancel=threading.Event(),
                actor=ALICE,
                verify_timeout=60.0,
                lock_wait=60.0,
            )
        )

    with apply_lock(other_engine, master.schema, BOB):
        worker = threading.Thread(target=alice_applies)
        worker.start()
        assert told_to_wait.wait(timeout=30)
        assert not results  # still waiting while Bob holds the lock
    worker.join(timeout=60)
    assert not worker.is_alive()

    assert "Apply in progress by bob@bob-desktop; waiting up to 60 s" in messages
    (result,) = results
    assert result.ok and result.noop


@TRANSPORTS
def test_restart_refused_after_the_commit_point_reports_what_to_do(
    master: Master, misnamed_target: ApplyTarget, stack_restored: TestStack, transport: str
) -> None:
    misnamed_target = over(transport, misnamed_target, stack_restored)
    master.stage(new_model(), 0, ALICE)
    before_start = started_at(stack_restored)

    result, _progress = run_apply(master, misnamed_target)

    assert not result.ok and result.committed
    assert outcomes(result) == {
        Step.LOCK: Outcome.OK,
        Step.RENDER: Outcome.OK,
        Step.UPLOAD: Outcome.OK,
        Step.COMMIT: Outcome.OK,
        Step.FOLD: Outcome.OK,
        Step.RESTART: Outcome.FAILED,
        Step.VERIFY: Outcome.SKIPPED,
    }
    restart = next(s for s in result.steps if s.step is Step.RESTART)
    assert restart.detail.startswith("[socket-proxy] The socket-proxy refused POST")
    assert result.advice is not None
    assert f"revision {result.revision_id}" in result.advice
    assert "restart the container not-the-litellm-container" in result.advice
    # Nothing rolled back: the file is the render of the new applied state, nothing staged.
    assert config_bytes(stack_restored) == rendered_applied(master)
    assert result.revision_id is not None
    assert master.revisions()[0].id == result.revision_id
    assert started_at(stack_restored) == before_start  # LiteLLM still runs the old file
    assert (stack_restored.config_dir / "config.yaml").stat().st_mode & 0o777 == 0o600
    assert temp_files(stack_restored) == []


def test_upload_failure_stops_before_anything_is_folded(
    master: Master, ssh_session: SshSession, target: ApplyTarget, stack_restored: TestStack
) -> None:
    master.stage(new_model(), 0, ALICE)
    staged = master.staged_versions()
    before, before_start = config_bytes(stack_restored), started_at(stack_restored)
    # A real SFTP failure: the profile names a config directory the server does not have.
    missing = SftpConfigFile(ssh_session, str(stack_restored.config_dir / "gone" / "config.yaml"))
    broken = ApplyTarget(missing, target.docker, target.litellm, target.master_engine)

    result, _progress = run_apply(master, broken)

    assert not result.ok and not result.committed
    assert outcomes(result)[Step.UPLOAD] is Outcome.FAILED
    assert all(outcomes(result)[s] is Outcome.SKIPPED for s in list(Step)[3:])
    upload = next(s for s in result.steps if s.step is Step.UPLOAD)
    assert upload.detail.startswith("[sftp]")
    assert result.advice is not None and "staged items are kept" in result.advice
    assert config_bytes(stack_restored) == before
    assert master.staged_versions() == staged
    assert master.revisions() == []
    assert started_at(stack_restored) == before_start


class StageAfterTheRename:
    """Wraps the config file: once config.yaml is replaced, `then()` runs, i.e. between the
    commit point and the fold (another admin staging at the worst moment)."""

    def __init__(self, inner: ConfigFile, then: Callable[[], None]) -> None:
        self.inner = inner
        self.then = then

    @property
    def location(self) -> str:
        return self.inner.location

    def read(self) -> bytes | None:
        return self.inner.read()

    def replace(self, data: bytes, before_swap: Callable[[], None]) -> None:
        self.inner.replace(data, before_swap)
        self.then()


def test_fold_refused_after_the_commit_point_is_fixed_forward_by_the_next_apply(
    master: Master,
    misnamed_target: ApplyTarget,
    stack_restored: TestStack,
    other_engine: Engine,
) -> None:
    # The restart is refused throughout (misnamed container): LiteLLM never reloads here, so
    # the test is about the file and the Master only.
    bobs_master = Master.open(other_engine)
    master.stage(new_model(), 0, ALICE)

    def bob_stages() -> None:
        bobs_master.stage(new_model(), 0, BOB)

    racing = StageAfterTheRename(misnamed_target.config, bob_stages)
    first_target = ApplyTarget(
        racing, misnamed_target.docker, misnamed_target.litellm, misnamed_target.master_engine
    )

    first, _progress = run_apply(master, first_target)

    assert first.committed and not first.ok
    assert outcomes(first)[Step.FOLD] is Outcome.FAILED
    assert outcomes(first)[Step.RESTART] is Outcome.SKIPPED
    assert "staged" in next(s.detail for s in first.steps if s.step is Step.FOLD).lower()
    assert first.advice is not None
    assert "did not record it" in first.advice and "Apply again" in first.advice
    assert master.revisions() == []
    assert len(master.staged_versions()) == 2  # Alice's and Bob's changes, nothing lost

    second, _progress = run_apply(master, misnamed_target)

    assert second.committed
    assert outcomes(second)[Step.FOLD] is Outcome.OK
    assert master.revisions()[0].summary == "2 new, 0 changed, 0 deleted"
    assert config_bytes(stack_restored) == rendered_applied(master)


def test_verify_names_the_missing_group_when_litellm_runs_an_older_file(
    master: Master,
    misnamed_target: ApplyTarget,
    target: ApplyTarget,
    stack_restored: TestStack,
) -> None:
    # An Apply whose restart was refused leaves LiteLLM on the previous file ...
    master.stage(new_model(), 0, ALICE)
    first, _progress = run_apply(master, misnamed_target)
    assert outcomes(first)[Step.RESTART] is Outcome.FAILED

    # ... so the next Apply is a no-op for the file, and its verify tells the truth.
    second, _progress = run_apply(master, target)

    assert second.noop and not second.ok
    assert outcomes(second)[Step.RESTART] is Outcome.SKIPPED
    assert outcomes(second)[Step.VERIFY] is Outcome.FAILED
    assert second.missing_groups == (NEW_GROUP,)
    assert second.unexpected_groups == ()
    assert second.advice is not None and "restart it" in second.advice
    assert config_bytes(stack_restored) == rendered_applied(master)
