"""Seeded generator of realistic, VALID LiteLLM configs for the oracle.

Valid by construction: every secret is an `os.environ/` reference, every reference (fallbacks,
aliases, credentials, routing groups) names something that exists, every routing strategy is one
both LiteLLM and our validator allow. Deterministic: the same seed gives the same text, so a
failing seed can be replayed (`generate_config(seed)`).

A seeded generator instead of Hypothesis because every config has to go through ONE batch run
of LiteLLM (seconds of imports), which Hypothesis' one-example-at-a-time loop cannot do.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import yaml

from llmproxy_desktop.core.validate import ALLOWED_ROUTING_STRATEGIES

# provider -> (model names, extra litellm_params the provider needs)
PROVIDERS: dict[str, tuple[list[str], dict[str, Any]]] = {
    "openai": (["gpt-4o", "gpt-4o-mini", "o3-mini", "gpt-4.1"], {}),
    "anthropic": (["claude-3-5-sonnet-20241022", "claude-3-haiku-20240307"], {}),
    "azure": (
        ["gpt-4o-prod", "gpt-4o-mini-eu"],
        {"api_base": "os.environ/AZURE_API_BASE", "api_version": "2024-10-21"},
    ),
    "bedrock": (
        ["anthropic.claude-3-haiku-20240307-v1:0", "meta.llama3-1-70b-instruct-v1:0"],
        {
            "aws_access_key_id": "os.environ/AWS_ACCESS_KEY_ID",
            "aws_secret_access_key": "os.environ/AWS_SECRET_ACCESS_KEY",
            "aws_region_name": "us-east-1",
        },
    ),
    "vertex_ai": (
        ["gemini-1.5-pro", "gemini-2.0-flash"],
        {
            "vertex_project": "acme-llm",
            "vertex_location": "europe-west4",
            "vertex_credentials": "os.environ/VERTEX_CREDENTIALS",
        },
    ),
    "gemini": (["gemini-2.0-flash", "gemini-1.5-flash"], {}),
    "groq": (["llama-3.1-8b-instant", "llama-3.3-70b-versatile"], {}),
    "mistral": (["mistral-large-latest", "mistral-small-latest"], {}),
    "deepseek": (["deepseek-chat", "deepseek-reasoner"], {}),
    "openrouter": (["anthropic/claude-3.5-sonnet", "meta-llama/llama-3.1-70b-instruct"], {}),
    "ollama_chat": (["llama3.1", "qwen2.5:7b"], {"api_base": "http://ollama:11434"}),
    "hosted_vllm": (["meta-llama/Llama-3.1-8B-Instruct"], {"api_base": "http://vllm:8000/v1"}),
}
# Providers reached with an api_key (the others use cloud credentials or none).
KEYED = {"openai", "anthropic", "azure", "gemini", "groq", "mistral", "deepseek", "openrouter"}
GROUP_WORDS = ["fast", "smart", "cheap", "coder", "vision", "chat", "long", "local", "eu", "batch"]


def _env(rng: random.Random, base: str) -> str:
    return f"os.environ/{base}_{rng.choice(['KEY', 'API_KEY', 'TOKEN'])}_{rng.randint(1, 3)}"


def _model(rng: random.Random, group: str, credentials: dict[str, str]) -> dict[str, Any]:
    provider = rng.choice(sorted(PROVIDERS))
    names, extra = PROVIDERS[provider]
    params: dict[str, Any] = {"model": f"{provider}/{rng.choice(names)}", **extra}
    if provider in KEYED:
        if provider in credentials and rng.random() < 0.7:
            params["litellm_credential_name"] = credentials[provider]
        else:
            params["api_key"] = _env(rng, provider.upper())
    if rng.random() < 0.3:
        params["rpm"] = rng.choice([60, 500, 1000])
        params["tpm"] = rng.choice([10_000, 100_000])
    if rng.random() < 0.2:
        params["timeout"] = rng.choice([30, 60, 600])
        params["max_retries"] = rng.randint(0, 3)
    if rng.random() < 0.2:
        params["mock_response"] = f"mock answer from {group}"
    if rng.random() < 0.15:
        params["tags"] = rng.sample(["free", "paid", "eu", "beta"], k=2)
    entry: dict[str, Any] = {"model_name": group, "litellm_params": params}
    if rng.random() < 0.6:
        info: dict[str, Any] = {"id": str(uuid.UUID(int=rng.getrandbits(128), version=4))}
        if rng.random() < 0.5:
            info["mode"] = "chat"
        if rng.random() < 0.3:
            info["input_cost_per_token"] = rng.choice([1e-7, 2.5e-6, 1.5e-5])
            info["output_cost_per_token"] = rng.choice([4e-7, 1e-5, 6e-5])
        entry["model_info"] = info
    return entry


def generate_config(seed: int) -> dict[str, Any]:
    """One valid config as a mapping."""
    rng = random.Random(seed)
    config: dict[str, Any] = {}
    credentials: dict[str, str] = {}
    credential_list: list[dict[str, Any]] = []
    for provider in rng.sample(sorted(KEYED), k=rng.randint(0, 2)):
        name = f"{provider}-{rng.choice(['prod', 'team', 'shared'])}"
        credentials[provider] = name
        values: dict[str, Any] = {"api_key": _env(rng, provider.upper())}
        if provider == "azure":
            values["api_base"] = "os.environ/AZURE_API_BASE"
        credential_list.append(
            {
                "credential_name": name,
                "credential_values": values,
                "credential_info": {"description": f"{provider} key"} if rng.random() < 0.5 else {},
            }
        )
    groups = rng.sample(GROUP_WORDS, k=rng.randint(1, 4))
    models = [
        _model(rng, group, credentials) for group in groups for _ in range(rng.choice([1, 1, 2, 3]))
    ]
    rng.shuffle(models)
    config["model_list"] = models
    used = {m["litellm_params"].get("litellm_credential_name") for m in models}
    credential_list = [c for c in credential_list if c["credential_name"] in used]
    if credential_list:
        config["credential_list"] = credential_list

    router: dict[str, Any] = {}
    if rng.random() < 0.8:
        router["routing_strategy"] = rng.choice(ALLOWED_ROUTING_STRATEGIES)
    if rng.random() < 0.4:
        router["num_retries"] = rng.randint(0, 3)
        router["timeout"] = rng.choice([30, 120])
    if rng.random() < 0.3:
        router["allowed_fails"] = rng.randint(1, 5)
        router["cooldown_time"] = rng.choice([10, 60])
    if rng.random() < 0.3:
        alias = f"{rng.choice(groups)}-alias"
        router["model_group_alias"] = {alias: rng.choice(groups)}
    if rng.random() < 0.2:
        # Router state in redis; a literal loopback host fails fast (no DNS wait) in the oracle.
        router |= {
            "redis_host": "127.0.0.1",
            "redis_port": "os.environ/REDIS_PORT",
            "redis_password": "os.environ/REDIS_PASSWORD",
        }
    if router:
        config["router_settings"] = router

    settings: dict[str, Any] = {}
    if rng.random() < 0.5:
        settings["drop_params"] = True
    if rng.random() < 0.3:
        settings["num_retries"] = rng.randint(1, 3)
        settings["request_timeout"] = rng.choice([60, 600])
    if len(groups) > 1 and rng.random() < 0.6:
        primary, *others = rng.sample(groups, k=len(groups))
        settings["fallbacks"] = [{primary: others[: rng.randint(1, len(others))]}]
        if rng.random() < 0.4:
            settings["context_window_fallbacks"] = [{others[0]: [primary]}]
        if rng.random() < 0.3:
            settings["default_fallbacks"] = [others[-1]]
    cache = rng.random()
    if cache < 0.2:
        settings["cache"] = True
        settings["cache_params"] = {"type": "local", "ttl": rng.choice([60, 600])}
    elif cache < 0.4:
        settings["cache"] = True
        settings["cache_params"] = {
            "type": "redis",
            "host": "127.0.0.1",
            "port": "os.environ/REDIS_PORT",
            "password": "os.environ/REDIS_PASSWORD",
            "namespace": "litellm",
            "ttl": 300,
        }
    if settings:
        config["litellm_settings"] = settings

    general: dict[str, Any] = {}
    if rng.random() < 0.7:
        general["master_key"] = "os.environ/LITELLM_MASTER_KEY"
    if rng.random() < 0.3:
        general["database_url"] = "os.environ/DATABASE_URL"
        general["store_model_in_db"] = False
    if rng.random() < 0.2:
        general["alerting"] = ["slack"]
        general["alert_to_webhook_url"] = {"llm_exceptions": "os.environ/SLACK_WEBHOOK_URL"}
    if rng.random() < 0.2:
        general["background_health_checks"] = False
        general["health_check_interval"] = 300
    if general:
        config["general_settings"] = general
    return config


def generate_text(seed: int) -> str:
    """One valid config as config.yaml text."""
    header = f"# generated by tests/oracle/config_generator.py, seed {seed}\n"
    return header + yaml.safe_dump(generate_config(seed), sort_keys=False, allow_unicode=True)
