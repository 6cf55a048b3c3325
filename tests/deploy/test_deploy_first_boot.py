"""`deploy_profile` end to end, the first-boot import included: SSH to the real sshd, compose
(v1) on the private dockerd (not the shared stack's), then the full connection through SSH
forwards to the throwaway Postgres (the Master) and the real LiteLLM container of the shared test
stack, whose config.yaml is the one imported."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from llmproxy_desktop.core.env_file import merge_env
from llmproxy_desktop.ops.deploy import DeployFiles, DeployStep, deploy_profile, secrets_with_env
from llmproxy_desktop.remote.host_keys import HostKeyStore
from llmproxy_desktop.remote.profiles import StackProfile
from llmproxy_desktop.remote.ssh_target import AuthMethod
from llmproxy_desktop.stack_files import (
    CONFIG_SEED,
    ENV_TEMPLATE,
    SOCKET_PROXY_POLICY,
    read_bundled,
)
from llmproxy_desktop.store import Master
from tests.fixtures.docker_stack import Dockerd, TestStack
from tests.fixtures.sshd import ClientKeys, SshdServer

from .test_deploy_over_ssh import _COMPOSE, Recorder

pytestmark = pytest.mark.integration


def test_deploy_imports_the_servers_config_into_an_empty_master_once(
    tmp_path: Path,
    server_sshd: SshdServer,
    client_keys: ClientKeys,
    docker_stack: TestStack,
    dockerd: Dockerd,
    pg_cluster: Any,
    master_db: str,
    engine: Engine,
) -> None:
    env = merge_env(
        read_bundled(ENV_TEMPLATE).decode(),
        f"POSTGRES_PASSWORD={pg_cluster.password}\nLITELLM_MASTER_KEY={docker_stack.master_key}\n",
        lambda n: "ab" * n,
    ).text
    files = DeployFiles(
        {
            "docker-compose.yml": _COMPOSE.replace("{seed_exit}", "0").encode(),
            ".env": env.encode(),
            CONFIG_SEED: read_bundled(CONFIG_SEED),
            SOCKET_PROXY_POLICY: read_bundled(SOCKET_PROXY_POLICY),
        }
    )
    profile = StackProfile(
        name="fresh",
        compose_dir=str(tmp_path / "srv" / "firstboot"),
        host="127.0.0.1",
        port=server_sshd.port,
        user="root",
        auth=AuthMethod.KEY_FILE,
        key_file=client_keys.plain,
        config_path=str(docker_stack.config_dir / "config.yaml"),
        postgres_port=pg_cluster.port,
        socket_proxy_port=docker_stack.socket_proxy_port,
        litellm_port=docker_stack.litellm_port,
        litellm_container=docker_stack.container_name,
        db_name=master_db,
        db_user="llmproxy",
    )
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(server_sshd.known_hosts_line())
    host_keys = HostKeyStore(app_known_hosts=tmp_path / "app_hosts", user_known_hosts=known_hosts)
    secrets = secrets_with_env({}, files)

    def run() -> Any:
        progress = Recorder()
        result = deploy_profile(
            profile,
            secrets,
            files,
            progress,
            threading.Event(),
            host_keys=host_keys,
            vault_passphrase=lambda: "a passphrase nobody needs",
            # The compose services run on the private dockerd: the shared stack's daemon must
            # keep only its own containers (tests/stack checks exactly which exist).
            remote_env={"DOCKER_HOST": dockerd.url},
            health_timeout=60,
        )
        return result, progress

    first, progress = run()

    assert first.first_boot is not None
    assert first.first_boot.imported >= len(docker_stack.model_groups)
    assert not first.first_boot.created_vault  # the test config holds os.environ/ refs only
    assert progress.messages(DeployStep.IMPORT)[-1].startswith("imported")
    assert Master.open(engine).initialised() is not None

    again, _progress = run()
    assert again.first_boot is None
    assert again.first_boot_skipped == "the Master already holds configuration"
    assert again.uploaded == ()
