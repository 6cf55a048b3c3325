"""Builders shared by the drift and history tests (plain functions, no fixtures)."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine

from llmproxy_desktop.core.items import Item, ItemKind, live_items
from llmproxy_desktop.core.render import render
from llmproxy_desktop.ops.apply_target import ConfigFile
from llmproxy_desktop.ops.drift import finish_pending_apply
from llmproxy_desktop.store import Actor, Master

# Argon2 at its minimum: drift and history are under test here, not the KDF's cost.
FAST_KDF: dict[str, int] = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


def mock_model(group: str) -> Item:
    """A model LiteLLM serves without an upstream (mock_response)."""
    model_id = str(uuid.uuid4())
    return Item(
        ItemKind.MODEL,
        model_id,
        {
            "model_name": group,
            "litellm_params": {"model": f"openai/{group}", "mock_response": f"from {group}"},
            "model_info": {"id": model_id},
        },
    )


def commit_without_fold(master: Master, config_file: ConfigFile) -> bytes:
    """What an Apply does up to its commit point (issue 4 §1 steps 3-4): the effective render
    replaces config.yaml through the same atomic recipe, and then nothing is recorded."""
    data = render(live_items(master.effective())).encode("utf-8")
    config_file.replace(data, lambda: None)
    return data


def record_revision(master: Master, config_file: ConfigFile, actor: Actor, engine: Engine) -> int:
    """A revision without a LiteLLM restart: commit the render, then finish the pending Apply."""
    commit_without_fold(master, config_file)
    return finish_pending_apply(master, config_file, actor, lock_engine=engine)
