"""`llmproxy-desktop stacks ...` and `doctor`: the profile life cycle on the command line, secrets
only through hidden prompts after --save-secrets, one-line errors and the documented exit codes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmproxy_desktop.cli import main
from llmproxy_desktop.remote.keyring_secrets import SERVICE
from llmproxy_desktop.remote.profiles_store import default_profiles_path

from .fake_keyrings import MemoryKeyring

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("pw-ssh-4711", "pw-db-4711", "sk-master-4711", "vault-pp-4711")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert len(err.strip().splitlines()) <= 1, err  # every error is one line
    return code, out, err


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Answers for getpass, in prompt order; the prompts are recorded after them."""
    queue: list[str] = []
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return queue.pop(0)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    yield queue
    assert queue == [], f"unasked answers left; prompts were {prompts}"


def stacks_file() -> dict[str, object]:
    loaded: dict[str, object] = json.loads(default_profiles_path().read_text())
    return loaded


def test_add_list_edit_remove(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        *("stacks", "add", "prod", "--host", "gw.example", "--user", "admin"),
        *("--port", "2222", "--compose-dir", "/opt/llm", "--jump-host", "ann@bastion:2200"),
    )
    assert code == 0 and "added stack 'prod'" in out
    run(capsys, "stacks", "add", "laptop", "--transport", "local", "--compose-dir", "/srv/llm")

    code, out, _ = run(capsys, "stacks", "list")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["NAME", "TRANSPORT", "TARGET", "AUTH"]
    assert lines[1].split() == ["laptop", "local", "this", "machine", "-"]
    assert lines[2].split() == [
        "prod",
        "ssh",
        "admin@gw.example:2222",
        "via",
        "ann@bastion:2200",
        "agent",
    ]

    code, out, _ = run(
        capsys,
        *("stacks", "edit", "prod", "--key-file", "/keys/id_ed25519", "--jump-host", ""),
        *("--litellm-port", "14000", "--port", ""),
    )
    assert code == 0
    (prod,) = [s for s in stacks_file()["stacks"] if s["name"] == "prod"]  # type: ignore[attr-defined]
    assert prod["auth"] == "key-file" and prod["key_file"] == "/keys/id_ed25519"
    assert prod["jump"] is None and prod["port"] is None and prod["litellm_port"] == 14000
    assert stat.S_IMODE(default_profiles_path().stat().st_mode) == 0o600

    code, out, _ = run(capsys, "stacks", "remove", "prod", "--yes")
    assert code == 0 and "removed stack 'prod'" in out
    assert [s["name"] for s in stacks_file()["stacks"]] == ["laptop"]  # type: ignore[attr-defined]


def test_edit_to_local_drops_the_ssh_settings(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "stacks", "add", "p", "--host", "h", "--user", "u", "--compose-dir", "/x")
    code, out, _ = run(capsys, "stacks", "edit", "p", "--transport", "local")
    assert code == 0 and "local, this machine" in out


def test_relative_key_files_become_absolute_and_tilde_stays(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run(capsys, "stacks", "add", "a", "--host", "h", "--key-file", "id", "--compose-dir", "/x")
    run(
        capsys,
        "stacks",
        "add",
        "b",
        "--host",
        "h",
        "--key-file",
        "~/.ssh/id",
        "--compose-dir",
        "/x",
    )
    stored = {s["name"]: s["key_file"] for s in stacks_file()["stacks"]}  # type: ignore[attr-defined]
    assert stored == {"a": str(tmp_path / "id"), "b": "~/.ssh/id"}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("stacks", "add", "p", "--compose-dir", "/x"), "--host: an SSH stack needs a host"),
        (("stacks", "add", "p", "--host", "h"), "--compose-dir: must not be empty"),
        (("stacks", "add", "p", "--host", "h", "--compose-dir", "/x", "--port", "x"), "--port"),
        (("stacks", "add", "p", "--host", "h", "--compose-dir", "/x", "--port", "0"), "--port"),
        (("stacks", "add", "p", "--host", "h", "--compose-dir", "/x", "--auth", "x"), "--auth"),
        (
            ("stacks", "add", "p", "--host", "h", "--compose-dir", "/x", "--jump-host", "@"),
            "--jump",
        ),
        (
            ("stacks", "add", "p", "--host", "h", "--compose-dir", "/x", "--jump-auth", "agent"),
            "--jump",
        ),
        (("stacks", "add", "p", "--host", "h", "--compose-dir", "/x", "--password", "pw"), "unrec"),
        (("stacks", "edit", "nope", "--host", "h"), "no stack named 'nope' (no stacks yet)"),
        (("stacks", "remove", "nope", "--yes"), "no stack named 'nope'"),
        (("stacks",), "required"),
    ],
)
def test_bad_input_is_a_one_line_usage_error(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], expected: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and expected in err


def test_a_duplicate_name_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "stacks", "add", "Prod", "--host", "h", "--compose-dir", "/x")
    code, _, err = run(capsys, "stacks", "add", "prod", "--host", "h", "--compose-dir", "/x")
    assert code == 2 and "already exists" in err


def test_edit_without_changes_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "stacks", "add", "p", "--host", "h", "--compose-dir", "/x")
    code, _, err = run(capsys, "stacks", "edit", "p")
    assert code == 2 and "nothing to change" in err


def test_a_corrupt_stacks_file_is_one_line_and_left_alone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = default_profiles_path()
    path.parent.mkdir(parents=True)
    path.write_text('{"version": 1, "stacks": [')
    for args in (
        ("stacks", "list"),
        ("stacks", "add", "p", "--host", "h", "--compose-dir", "/x"),
    ):
        code, _, err = run(capsys, *args)
        assert code == 2 and str(path) in err and "left as it is" in err
    assert path.read_text() == '{"version": 1, "stacks": ['


@pytest.mark.parametrize(
    "content",
    ["[" * 100_000 + "]" * 100_000, '{"version": 1, "stacks": [{"port": ' + "9" * 5000 + "}]}"],
    ids=["deep", "huge-number"],
)
def test_a_pathological_stacks_file_is_one_line_too(
    capsys: pytest.CaptureFixture[str], content: str
) -> None:
    path = default_profiles_path()
    path.parent.mkdir(parents=True)
    path.write_text(content)
    code, _, err = run(capsys, "stacks", "list")
    assert code == 2 and "left as it is" in err and "unexpected" not in err
    assert path.read_text() == content


@pytest.mark.parametrize("port", ["²", "٣"])
def test_non_ascii_digits_are_not_numbers(capsys: pytest.CaptureFixture[str], port: str) -> None:
    code, _, err = run(
        capsys, "stacks", "add", "a", "--host", "h", "--compose-dir", "/srv", "--port", port
    )
    assert code == 2 and "not a whole number" in err


def test_save_secrets_asks_with_hidden_prompts_and_keeps_them_out_of_every_output(
    capsys: pytest.CaptureFixture[str], answers: list[str], memory_keyring: MemoryKeyring
) -> None:
    # Password auth: SSH password, DB password, master key, vault passphrase, in that order.
    answers.extend(SECRETS)
    code, out, err = run(
        capsys,
        *("stacks", "add", "prod", "--host", "h", "--auth", "password", "--compose-dir", "/x"),
        "--save-secrets",
    )
    assert code == 0
    assert "saved in the keyring: SSH password, database password" in out
    assert dict(memory_keyring.entries) == {
        (SERVICE, "prod:ssh-password"): SECRETS[0],
        (SERVICE, "prod:db-password"): SECRETS[1],
        (SERVICE, "prod:litellm-master-key"): SECRETS[2],
        (SERVICE, "prod:vault-passphrase"): SECRETS[3],
    }
    run(capsys, "stacks", "list")
    code, out2, err2 = run(capsys, "doctor")
    everything = out + err + out2 + err2 + default_profiles_path().read_text()
    assert not [s for s in SECRETS if s in everything]


def test_an_empty_answer_saves_nothing_for_that_secret(
    capsys: pytest.CaptureFixture[str], answers: list[str], memory_keyring: MemoryKeyring
) -> None:
    run(capsys, "stacks", "add", "p", "--host", "h", "--compose-dir", "/x")
    answers.extend(["", "sk-only-this", ""])  # agent auth: DB password, master key, vault
    code, out, _ = run(capsys, "stacks", "edit", "p", "--save-secrets")
    assert code == 0 and "saved in the keyring: LiteLLM master key" in out
    assert list(memory_keyring.entries) == [(SERVICE, "p:litellm-master-key")]


def test_without_save_secrets_nothing_is_asked_or_saved(
    capsys: pytest.CaptureFixture[str], answers: list[str], memory_keyring: MemoryKeyring
) -> None:
    run(capsys, "stacks", "add", "p", "--host", "h", "--auth", "password", "--compose-dir", "/x")
    assert memory_keyring.entries == {}  # and `answers` asserts no prompt consumed anything


def test_remove_forgets_the_saved_secrets_and_edit_can_forget_them(
    capsys: pytest.CaptureFixture[str], memory_keyring: MemoryKeyring
) -> None:
    run(capsys, "stacks", "add", "p", "--host", "h", "--compose-dir", "/x")
    run(capsys, "stacks", "add", "q", "--host", "h", "--compose-dir", "/x")
    memory_keyring.set_password(SERVICE, "p:db-password", "x")
    memory_keyring.set_password(SERVICE, "q:db-password", "y")

    code, out, _ = run(capsys, "stacks", "edit", "q", "--forget-secrets")
    assert code == 0 and "forgot 1 saved secret(s)" in out
    code, out, _ = run(capsys, "stacks", "remove", "p", "--yes")
    assert code == 0 and "forgot 1 saved secret(s)" in out
    assert memory_keyring.entries == {}


def test_a_new_stack_never_inherits_secrets_left_by_a_removed_one_of_the_same_name(
    capsys: pytest.CaptureFixture[str], memory_keyring: MemoryKeyring
) -> None:
    # Left behind by `stacks remove prod` in a session where no keyring was reachable.
    memory_keyring.set_password(SERVICE, "prod:ssh-password", "old-host-password")
    memory_keyring.set_password(SERVICE, "prod:litellm-master-key", "sk-old")

    code, out, _ = run(
        capsys, "stacks", "add", "prod", "--host", "other.example", "--compose-dir", "/srv"
    )

    assert code == 0 and "removed 2 secret(s) left in the keyring" in out
    assert memory_keyring.entries == {}
    assert "old-host-password" not in out and "sk-old" not in out


def test_remove_asks_first_and_refuses_without_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "stacks", "add", "p", "--host", "h", "--compose-dir", "/x")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    code, _, err = run(capsys, "stacks", "remove", "p")
    assert code == 2 and "--yes" in err

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    code, _, err = run(capsys, "stacks", "remove", "p")
    assert code == 0 and "not removed" in err
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    code, out, _ = run(capsys, "stacks", "remove", "p")
    assert code == 0 and "removed stack 'p'" in out


def test_no_option_takes_a_secret_value(capsys: pytest.CaptureFixture[str]) -> None:
    for action in ("add", "edit"):
        with pytest.raises(SystemExit):
            main(["stacks", action, "--help"])
        help_text = capsys.readouterr().out
        options = [word for word in help_text.split() if word.startswith("--")]
        assert options, help_text
        for option in options:
            assert not any(w in option for w in ("password", "passphrase", "secret=", "key=")), (
                option
            )
        assert "--save-secrets" in options


def test_an_empty_list_points_to_add(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "stacks", "list")
    assert code == 0 and out == "" and "stacks add" in err


def _console(
    args: list[str], env_extra: dict[str, str], home: Path
) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("llmproxy-desktop")
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "PYTHONPATH": str(REPO_ROOT),
        **env_extra,
    }
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    return subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # no controlling terminal: getpass could not ask anyway
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        ("keyring.backends.fail.Keyring", "No system keyring is available"),
        ("tests.profiles.fake_keyrings.PlaintextFileKeyring", "not a recommended secure store"),
    ],
)
def test_doctor_and_save_secrets_refuse_unsafe_keyrings_in_a_real_process(
    isolated_home: Path, tmp_path: Path, backend: str, reason: str
) -> None:
    plaintext = tmp_path / "plaintext.json"
    env = {"PYTHON_KEYRING_BACKEND": backend, "FAKE_PLAINTEXT_FILE": str(plaintext)}

    doctor = _console(["doctor"], env, isolated_home)
    assert doctor.returncode == 1
    keyring_line = doctor.stdout.splitlines()[0]
    assert keyring_line.startswith("keyring: NOT SAFE: ") and reason in keyring_line
    assert "the app will ask for them each time" in keyring_line

    add = _console(
        ["stacks", "add", "p", "--host", "h", "--compose-dir", "/x", "--save-secrets"],
        env,
        isolated_home,
    )
    assert add.returncode == 2
    assert add.stderr.startswith("error: --save-secrets refused: ") and reason in add.stderr
    # Refused before anything happened: no profile, no prompt, no plaintext file.
    assert not (isolated_home / ".config" / "llmproxy-desktop" / "stacks.json").exists()
    assert "for p" not in add.stderr
    assert not plaintext.exists()


def test_doctor_reports_a_safe_keyring_and_the_stacks_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run(capsys, "stacks", "add", "p", "--host", "h", "--compose-dir", "/x")
    code, out, _ = run(capsys, "doctor")
    keyring_line, file_line = out.splitlines()
    assert code == 0
    assert keyring_line.startswith("keyring: ok: ") and "MemoryKeyring" in keyring_line
    assert file_line == f"stacks file: ok: {default_profiles_path()} (1 stack(s))"


def _write_key(path: Path, passphrase: bytes | None) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    encryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    path.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, encryption
        )
    )
    return path


@pytest.mark.parametrize("encrypted", [True, False])
def test_stacks_test_asks_on_a_terminal_only_for_the_secrets_it_needs(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    answers: list[str],
    memory_keyring: MemoryKeyring,
    encrypted: bool,
) -> None:
    from llmproxy_desktop.ops import stack_check
    from llmproxy_desktop.remote.profiles import SecretKind

    key = _write_key(tmp_path / "id", b"key-pp-4711" if encrypted else None)
    run(capsys, "stacks", "add", "p", "--host", "h", "--key-file", str(key), "--compose-dir", "/x")
    memory_keyring.set_password(SERVICE, "p:db-password", "saved-db-pw-4711")
    seen: dict[SecretKind, str] = {}

    def fake_check(profile: object, secrets: dict[SecretKind, str], **kwargs: object) -> tuple[()]:
        seen.update(secrets)
        return ()

    monkeypatch.setattr(stack_check, "check_stack", fake_check)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    # The saved DB password is not asked again; an unencrypted key needs no passphrase.
    answers.extend(["key-pp-4711", "sk-typed-4711"] if encrypted else ["sk-typed-4711"])

    code, out, err = run(capsys, "stacks", "test", "p")

    assert code == 0
    expected = {
        SecretKind.DB_PASSWORD: "saved-db-pw-4711",
        SecretKind.LITELLM_MASTER_KEY: "sk-typed-4711",
    }
    if encrypted:
        expected[SecretKind.SSH_KEY_PASSPHRASE] = "key-pp-4711"
    assert seen == expected
    assert memory_keyring.entries == {(SERVICE, "p:db-password"): "saved-db-pw-4711"}  # not saved
    assert "4711" not in out + err


def test_a_bad_accept_host_key_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "stacks", "add", "p", "--host", "h", "--compose-dir", "/x")
    code, _, err = run(capsys, "stacks", "test", "p", "--accept-host-key", "MD5:aa:bb")
    assert code == 2 and "--accept-host-key" in err and "SHA-256" in err
