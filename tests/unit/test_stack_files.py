"""Invariants of the stack files at the repository root: docker-compose.yml, .env.example,
config/config.yaml.example and the socket-proxy policy. Each guards against a failure seen in the
reference deployment. What the policy allows and refuses is tested for real in tests/stack/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmproxy_desktop.remote.docker_control import DEFAULT_LITELLM_CONTAINER
from tests.fixtures import docker_stack

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
CONFIG_EXAMPLE = REPO_ROOT / "config" / "config.yaml.example"
POLICY_DIR = REPO_ROOT / "socket-proxy"
POLICY_FILE = POLICY_DIR / "haproxy.cfg"

# Compose interpolation: $$ is an escaped dollar; ${VAR}, ${VAR:-default}, ${VAR?err} and $VAR
# read the environment (.env).
_INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_SECRET_KEYS = {"master_key", "database_url", "password", "api_key", "redis_password"}


def _load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name} is not a mapping"
    return data


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _load_yaml(COMPOSE_FILE)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose["services"]
    assert isinstance(found, dict)
    return found


@pytest.fixture(scope="module")
def litellm(services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return services["litellm"]


@pytest.fixture(scope="module")
def config_example() -> dict[str, Any]:
    return _load_yaml(CONFIG_EXAMPLE)


def _strings(node: object) -> Iterator[str]:
    """Every string in a parsed YAML tree, keys included (comments are gone by then)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _walk(node: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    """Every (key path, value) pair of a parsed YAML tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, str(key)), value
            yield from _walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, (*path, str(index)))


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a dict, from either the mapping or the list form."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(entry.split("=", 1) if "=" in entry else (entry, "") for entry in env)
    return {str(key): str(value) for key, value in env.items()}


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command") or []
    return command.split() if isinstance(command, str) else [str(part) for part in command]


def _healthcheck_text(service: dict[str, Any]) -> str:
    return " ".join(str(part) for part in service["healthcheck"]["test"])


def _bind_mounts(service: dict[str, Any]) -> list[dict[str, Any]]:
    """A service's volumes as long-form dicts (short "src:dst[:ro]" strings converted)."""
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            mounts.append(volume)
        else:
            source, target, *mode = str(volume).split(":")
            mounts.append({"source": source, "target": target, "read_only": mode == ["ro"]})
    return mounts


def _env_example_keys() -> set[str]:
    keys = set()
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, _ = line.partition("=")
            assert sep, f".env.example line without '=': {line!r}"
            keys.add(key.strip())
    return keys


def test_litellm_image_is_pinned_to_a_release(litellm: dict[str, Any]) -> None:
    image = litellm["image"]
    assert image.startswith("ghcr.io/berriai/litellm:")
    tag = image.rsplit(":", 1)[1]
    # A release (v1.108.7, v1.83.10-stable), never a floating tag (main-stable, latest).
    assert re.match(r"^v?\d+\.\d+\.\d+", tag), f"not a release tag: {tag}"


def test_litellm_config_is_mounted_as_a_read_only_directory(litellm: dict[str, Any]) -> None:
    mounts = [m for m in litellm["volumes"] if isinstance(m, dict)]
    short = [m for m in litellm["volumes"] if isinstance(m, str)]
    config_mounts = [m for m in mounts if str(m.get("target", "")).startswith("/etc/litellm")]
    config_mounts += [
        {"source": s.split(":")[0], "target": s.split(":")[1], "read_only": s.endswith(":ro")}
        for s in short
        if s.split(":")[1].startswith("/etc/litellm")
    ]

    assert len(config_mounts) == 1
    mount = config_mounts[0]
    assert mount["target"] == "/etc/litellm"
    assert mount["source"] == "./config"
    assert mount["read_only"] is True
    assert (REPO_ROOT / "config").is_dir()
    command = _command(litellm)
    assert command[command.index("--config") + 1] == "/etc/litellm/config.yaml"
    assert command[command.index("--port") + 1] == "4000"


def test_every_compose_variable_is_defined_in_env_example(compose: dict[str, Any]) -> None:
    used = {
        match.group(1) or match.group(2)
        for text in _strings(compose)
        for match in _INTERPOLATION.finditer(text)
        if match.group(0) != "$$"
    }

    assert used, "no ${VAR} found: the pattern is broken"
    assert used <= _env_example_keys(), f"missing from .env.example: {used - _env_example_keys()}"


def test_no_service_publishes_beyond_loopback(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert service.get("network_mode") != "host", name
        for port in service.get("ports") or []:
            if isinstance(port, dict):
                assert port.get("host_ip") == "127.0.0.1", f"{name}: {port}"
            else:
                assert str(port).startswith("127.0.0.1:"), f"{name}: {port}"


def test_litellm_keeps_the_v2_migration_resolver(litellm: dict[str, Any]) -> None:
    env = _environment(litellm)
    command = _command(litellm)

    assert env.get("USE_V2_MIGRATION_RESOLVER", "true").lower() == "true"
    assert "--use_legacy_migration_resolver" not in command
    assert "--use_prisma_db_push" not in command


def test_litellm_disables_the_aiohttp_transport(litellm: dict[str, Any]) -> None:
    assert _environment(litellm)["DISABLE_AIOHTTP_TRANSPORT"] == "true"


def test_litellm_healthcheck_polls_readiness_without_curl(litellm: dict[str, Any]) -> None:
    test = " ".join(str(part) for part in litellm["healthcheck"]["test"])

    assert "/health/readiness" in test
    assert "python" in test
    assert "curl" not in test and "wget" not in test


def test_valkey_persists_and_requires_a_password(services: dict[str, dict[str, Any]]) -> None:
    command = " ".join(_command(services["valkey"]))

    assert "--appendonly yes" in command
    assert "--requirepass" in command
    assert any(str(v).endswith(":/data") for v in services["valkey"]["volumes"])


def test_example_cache_params_have_no_ssl_keys(config_example: dict[str, Any]) -> None:
    cache_params = config_example["litellm_settings"]["cache_params"]

    assert cache_params["type"] == "redis"
    assert not [key for key, _ in _walk(cache_params) if "ssl" in key[-1].lower()]


def test_example_config_holds_no_literal_secrets(config_example: dict[str, Any]) -> None:
    secrets = [(path, value) for path, value in _walk(config_example) if path[-1] in _SECRET_KEYS]

    assert secrets, "the seed names no secret at all: the key list is stale"
    for path, value in secrets:
        assert isinstance(value, str) and value.startswith("os.environ/"), ".".join(path)


def test_example_config_environment_is_provided_by_compose(
    config_example: dict[str, Any], litellm: dict[str, Any]
) -> None:
    referenced = {
        text.removeprefix("os.environ/")
        for text in _strings(config_example)
        if text.startswith("os.environ/")
    }

    assert referenced <= set(_environment(litellm))


# --- issue #3: the socket-proxy, the seed, health checks -----------------------------------------


def test_the_socket_proxy_is_haproxy_with_the_repository_policy(
    services: dict[str, dict[str, Any]],
) -> None:
    proxy = services["socket-proxy"]
    # The 2.6 LTS line: the same config syntax as Debian 12's haproxy that the tests run.
    assert re.fullmatch(r"haproxy:2\.6(\.\d+)?", proxy["image"]), proxy["image"]
    policy_mounts = [m for m in _bind_mounts(proxy) if m["target"] == "/usr/local/etc/haproxy"]

    assert len(policy_mounts) == 1
    assert policy_mounts[0]["source"] == "./socket-proxy"
    assert policy_mounts[0]["read_only"] is True
    assert POLICY_FILE.is_file()


def test_tests_run_the_same_policy_file_as_compose() -> None:
    assert docker_stack.POLICY_FILE.resolve() == POLICY_FILE.resolve()
    assert docker_stack.COMPOSE_FILE.resolve() == COMPOSE_FILE.resolve()


def test_no_service_uses_the_tecnativa_proxy(services: dict[str, dict[str, Any]]) -> None:
    images = {name: str(service.get("image", "")) for name, service in services.items()}

    assert not [name for name, image in images.items() if "tecnativa" in image], images


def test_only_the_socket_proxy_mounts_the_docker_socket_and_read_only(
    services: dict[str, dict[str, Any]],
) -> None:
    holders = {
        name: mount
        for name, service in services.items()
        for mount in _bind_mounts(service)
        if str(mount["source"]).endswith("docker.sock")
    }

    assert list(holders) == ["socket-proxy"]
    assert holders["socket-proxy"]["read_only"] is True


def test_the_socket_proxy_runs_without_capabilities(services: dict[str, dict[str, Any]]) -> None:
    proxy = services["socket-proxy"]

    assert proxy["cap_drop"] == ["ALL"]
    assert proxy["read_only"] is True
    assert "no-new-privileges:true" in proxy["security_opt"]


def test_the_litellm_container_name_comes_from_one_variable(
    services: dict[str, dict[str, Any]], litellm: dict[str, Any]
) -> None:
    reference = "${LITELLM_CONTAINER:-" + DEFAULT_LITELLM_CONTAINER + "}"
    proxy_env = _environment(services["socket-proxy"])

    assert litellm["container_name"] == reference
    assert proxy_env["LITELLM_CONTAINER"] == reference
    # The policy pins the container by that variable, never by a literal name.
    policy = POLICY_FILE.read_text("utf-8")
    assert '"/containers/${LITELLM_CONTAINER}/restart"' in policy
    assert DEFAULT_LITELLM_CONTAINER not in policy
    assert f"LITELLM_CONTAINER={DEFAULT_LITELLM_CONTAINER}" in ENV_EXAMPLE.read_text("utf-8")


def test_the_policy_reads_only_the_variables_compose_gives_it(
    services: dict[str, dict[str, Any]],
) -> None:
    used = set(re.findall(r"\$\{([A-Z_]+)\}", POLICY_FILE.read_text("utf-8")))

    assert used == {"LITELLM_CONTAINER", "DOCKER_SOCKET", "PROXY_LISTEN"}
    assert used <= set(_environment(services["socket-proxy"]))


def test_postgres_socket_proxy_and_litellm_publish_on_loopback_only(
    services: dict[str, dict[str, Any]],
) -> None:
    published = {name for name, service in services.items() if service.get("ports")}

    assert published == {"litellm", "postgres", "socket-proxy"}
    for name in published:
        for port in services[name]["ports"]:
            assert str(port).startswith("127.0.0.1:"), f"{name}: {port}"


def test_a_one_shot_seed_creates_config_yaml_before_litellm_starts(
    services: dict[str, dict[str, Any]], litellm: dict[str, Any]
) -> None:
    seed = services["config-seed"]
    script = " ".join(_command(seed))

    assert seed["restart"] == "no"
    assert seed.get("network_mode") == "none"
    assert "config.yaml.example" in script and "/config/config.yaml" in script
    assert "-e /config/config.yaml" in script  # never overwrites an existing config
    [mount] = _bind_mounts(seed)
    assert (mount["source"], mount["target"]) == ("./config", "/config")
    assert litellm["depends_on"]["config-seed"] == {"condition": "service_completed_successfully"}


def test_every_long_running_service_has_a_healthcheck_without_curl(
    services: dict[str, dict[str, Any]],
) -> None:
    long_running = {name for name, service in services.items() if service.get("restart") != "no"}

    assert long_running == {"litellm", "postgres", "valkey", "socket-proxy"}
    for name in long_running:
        test = _healthcheck_text(services[name])
        assert "curl" not in test and "wget" not in test, name
    assert "pg_isready" in _healthcheck_text(services["postgres"])
    assert "ping" in _healthcheck_text(services["valkey"])
    assert "/_ping" in _healthcheck_text(services["socket-proxy"])


def test_litellm_healthcheck_never_calls_plain_health(litellm: dict[str, Any]) -> None:
    paths = re.findall(r"/health[\w/]*", _healthcheck_text(litellm))

    assert paths and all(path == "/health/readiness" for path in paths), paths


def test_litellm_is_started_with_the_v2_migration_resolver(litellm: dict[str, Any]) -> None:
    assert "--use_v2_migration_resolver" in _command(litellm)
    assert "USE_V2_MIGRATION_RESOLVER" not in _environment(litellm)


def test_no_other_container_can_reach_the_socket_proxy(
    services: dict[str, dict[str, Any]],
) -> None:
    # Its inspect call answers LiteLLM's environment (master key, database URL): only SSH users
    # may reach it, through the loopback port, never a neighbouring container.
    def networks(service: dict[str, Any]) -> set[str]:
        declared = service.get("networks", ["default"])
        return set(declared)  # a list of names or a mapping keyed by name

    proxy_networks = networks(services["socket-proxy"])
    assert "default" not in proxy_networks
    for name, service in services.items():
        if name != "socket-proxy" and service.get("network_mode") != "none":
            assert not networks(service) & proxy_networks, name
