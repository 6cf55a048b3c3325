"""The LiteLLM client against the real LiteLLM 1.108.7 container (no restarts here)."""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from llmproxy_desktop.remote.errors import Layer, LiteLLMDown, MasterKeyRefused
from llmproxy_desktop.remote.litellm_client import LiteLLMClient
from tests.fixtures.docker_stack import MOCK_GROUP, MOCK_RESPONSE, TestStack, free_port

pytestmark = pytest.mark.integration


def test_readiness_and_liveliness_of_a_running_litellm(litellm: LiteLLMClient) -> None:
    readiness = litellm.readiness()

    assert readiness.ready
    assert readiness.status == "healthy"
    assert readiness.db == "Not connected"  # config-only: no database
    assert readiness.version is None  # the public answer no longer says which LiteLLM
    assert litellm.version() == "1.108.7"  # the authenticated details do
    assert litellm.liveliness() is True


def test_models_lists_the_configured_groups(
    litellm: LiteLLMClient, docker_stack: TestStack
) -> None:
    assert sorted(litellm.models()) == sorted(docker_stack.model_groups)


def test_cache_ping_is_healthy_with_the_redis_cache(litellm: LiteLLMClient) -> None:
    cache = litellm.cache_ping()

    assert cache.healthy
    assert cache.cache_type == "redis"


def _chat(stack: TestStack, model: str, text: str) -> str:
    response = httpx.post(
        f"{stack.litellm_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {stack.master_key}"},
        json={"model": model, "messages": [{"role": "user", "content": text}]},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    content: str = response.json()["choices"][0]["message"]["content"]
    return content


def test_a_chat_completion_through_litellm_reaches_the_fake_upstream(
    docker_stack: TestStack,
) -> None:
    text = f"hello {secrets.token_hex(4)}"  # unique: never a cache hit

    answer = _chat(docker_stack, docker_stack.model_groups[0], text)

    assert answer == f"fake upstream heard: {text}"
    [request] = [
        r
        for r in docker_stack.upstream.requests
        if r.path == "/v1/chat/completions" and r.body["messages"][-1]["content"] == text
    ]
    assert request.body["model"] == docker_stack.model_groups[0]
    # LiteLLM resolved the os.environ/ reference to the upstream's key.
    assert request.authorization == f"Bearer {docker_stack.upstream.api_key}"


def test_a_mock_group_is_answered_by_litellm_itself(docker_stack: TestStack) -> None:
    before = len(docker_stack.upstream.requests)

    assert _chat(docker_stack, MOCK_GROUP, f"hi {secrets.token_hex(4)}") == MOCK_RESPONSE
    assert len(docker_stack.upstream.requests) == before


def test_wrong_master_key_is_refused_clearly(docker_stack: TestStack) -> None:
    wrong = "sk-wrong-" + secrets.token_hex(8)
    with LiteLLMClient(docker_stack.litellm_url, wrong) as client:
        with pytest.raises(MasterKeyRefused) as info:
            client.models()
        with pytest.raises(MasterKeyRefused):
            client.cache_ping()

    assert info.value.layer is Layer.LITELLM
    assert "refused the master key" in str(info.value)
    assert wrong not in str(info.value)


def test_litellm_down_is_a_litellm_error() -> None:
    address = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with LiteLLMClient(address, "sk-any") as client:
        with pytest.raises(LiteLLMDown) as info:
            client.readiness()
        with pytest.raises(LiteLLMDown):
            client.models()
        with pytest.raises(LiteLLMDown) as waited:
            client.wait_until_ready(timeout=0.3, poll=0.05)

    assert info.value.layer is Layer.LITELLM
    assert "connection refused" in str(info.value)
    assert "not ready after 0.3 s" in str(waited.value)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung LiteLLM, a stalled tunnel)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_litellm_that_does_not_answer_in_time_is_down(silent_port: int) -> None:
    started = time.monotonic()
    with (
        LiteLLMClient(f"http://127.0.0.1:{silent_port}", "sk-any", timeout=0.3) as client,
        pytest.raises(LiteLLMDown) as info,
    ):
        client.liveliness()

    assert "no answer in time" in str(info.value)
    assert time.monotonic() - started < 5
