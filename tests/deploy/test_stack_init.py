"""`stack init DIR` on this disk: bundled files copied, .env 0600 with fresh secrets, nothing
real overwritten without asking."""

from __future__ import annotations

import stat
from pathlib import Path

from llmproxy_desktop.core.env_file import SECRET_KEYS, EnvFile, is_placeholder
from llmproxy_desktop.ops.stack_init import init_stack_dir
from llmproxy_desktop.stack_files import STACK_FILES, bundled_stack_dir, read_bundled


def never(_name: str, _reason: str) -> bool:
    return False


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_bundled_files_are_found_in_the_source_checkout() -> None:
    for relative in STACK_FILES:
        assert (bundled_stack_dir() / relative).is_file()


def test_init_writes_the_stack_files_and_a_private_env(tmp_path: Path) -> None:
    target = tmp_path / "stack"
    result = init_stack_dir(target, never)

    assert set(result.written) == {
        "docker-compose.yml",
        "config/config.yaml.example",
        "socket-proxy/haproxy.cfg",
        ".env",
    }
    assert (target / "docker-compose.yml").read_bytes() == read_bundled("docker-compose.yml")
    env = target / ".env"
    assert mode(env) == 0o600
    values = EnvFile.parse(env.read_text()).values()
    assert not any(is_placeholder(values[key]) for key in SECRET_KEYS)
    assert result.generated == SECRET_KEYS
    assert any("LITELLM_SALT_KEY" in line for line in result.advice)
    assert sorted(p.name for p in target.iterdir()) == [
        ".env",
        "config",
        "docker-compose.yml",
        "socket-proxy",
    ]  # no temp files left behind


def test_init_twice_changes_nothing(tmp_path: Path) -> None:
    init_stack_dir(tmp_path, never)
    before = (tmp_path / ".env").read_bytes()
    asked: list[str] = []

    def ask(name: str, _why: str) -> bool:
        asked.append(name)
        return False

    second = init_stack_dir(tmp_path, ask)

    assert second.written == ()
    assert (tmp_path / ".env").read_bytes() == before
    assert second.kept == SECRET_KEYS
    assert asked == [f".env: {key}" for key in SECRET_KEYS]


def test_a_real_secret_is_replaced_only_when_the_answer_is_yes(tmp_path: Path) -> None:
    init_stack_dir(tmp_path, never)
    old = EnvFile.parse((tmp_path / ".env").read_text()).values()
    reasons: dict[str, str] = {}

    def ask(name: str, reason: str) -> bool:
        reasons[name] = reason
        return name == ".env: LITELLM_MASTER_KEY"

    result = init_stack_dir(tmp_path, ask)

    new = EnvFile.parse((tmp_path / ".env").read_text()).values()
    assert result.replaced == ("LITELLM_MASTER_KEY",)
    assert new["LITELLM_MASTER_KEY"] != old["LITELLM_MASTER_KEY"]
    assert new["LITELLM_SALT_KEY"] == old["LITELLM_SALT_KEY"]
    assert "unreadable" in reasons[".env: LITELLM_SALT_KEY"]
    assert mode(tmp_path / ".env") == 0o600


def test_a_changed_compose_file_is_kept_unless_allowed(tmp_path: Path) -> None:
    init_stack_dir(tmp_path, never)
    compose = tmp_path / "docker-compose.yml"
    compose.write_text("# my own\n")

    kept = init_stack_dir(tmp_path, never)
    assert compose.read_text() == "# my own\n"
    assert "docker-compose.yml" in kept.unchanged

    replaced = init_stack_dir(tmp_path, lambda name, _why: name == "docker-compose.yml")
    assert compose.read_bytes() == read_bundled("docker-compose.yml")
    assert replaced.written == ("docker-compose.yml",)


def test_an_existing_env_with_placeholders_is_completed_and_tightened(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("# hand-made\nPOSTGRES_PASSWORD=change-me\nLITELLM_PORT=4100\n")
    env.chmod(0o644)

    result = init_stack_dir(tmp_path, never)

    values = EnvFile.parse(env.read_text()).values()
    assert env.read_text().startswith("# hand-made\n")
    assert values["LITELLM_PORT"] == "4100"
    assert not is_placeholder(values["POSTGRES_PASSWORD"])
    assert "POSTGRES_PASSWORD" in result.generated
    assert mode(env) == 0o600


def test_the_products_compose_file_takes_every_variable_from_the_generated_env(
    tmp_path: Path,
) -> None:
    """docker-compose (v1, the one Debian 12 has) resolves the real compose file against the
    .env that init wrote: no variable unset, no placeholder left, the secrets in place."""
    import shutil
    import subprocess

    import yaml

    init_stack_dir(tmp_path, never)
    compose = shutil.which("docker-compose")
    assert compose, "docker-compose missing: apt-get install docker-compose (scripts/test.sh)"
    resolved = subprocess.run(
        [compose, "config"], cwd=tmp_path, capture_output=True, text=True, check=False
    )

    assert resolved.returncode == 0, resolved.stderr
    assert "is not set" not in resolved.stderr
    assert "change-me" not in resolved.stdout
    values = EnvFile.parse((tmp_path / ".env").read_text()).values()
    litellm = yaml.safe_load(resolved.stdout)["services"]["litellm"]["environment"]
    assert litellm["LITELLM_SALT_KEY"] == values["LITELLM_SALT_KEY"]
    assert f":{values['POSTGRES_PASSWORD']}@postgres:" in litellm["DATABASE_URL"]
