"""Each guardrail rule: it fires on the bad shape, names the path, and stays quiet on the good."""

from __future__ import annotations

import textwrap

import pytest

from llmproxy_desktop.core.findings import Finding, Severity, has_errors
from llmproxy_desktop.core.items import EffectiveItem, Flag, Item, ItemKind, Secret
from llmproxy_desktop.core.validate import (
    ALLOWED_ROUTING_STRATEGIES,
    validate_config,
    validate_items,
    validate_text,
)

GOOD = {
    "model_list": [
        {
            "model_name": "gpt",
            "litellm_params": {"model": "openai/gpt-4o", "api_key": "os.environ/OPENAI_API_KEY"},
        },
        {
            "model_name": "claude",
            "litellm_params": {
                "model": "anthropic/claude-3-5-sonnet",
                "litellm_credential_name": "anthropic",
            },
        },
    ],
    "credential_list": [
        {
            "credential_name": "anthropic",
            "credential_values": {"api_key": Secret("sk-ant-1")},
            "credential_info": {},
        },
    ],
    "router_settings": {
        "routing_strategy": "simple-shuffle",
        "fallbacks": [{"gpt": ["claude"]}],
        "model_group_alias": {"gpt-4": "gpt"},
    },
    "litellm_settings": {
        "cache": True,
        "cache_params": {
            "type": "redis",
            "host": "os.environ/REDIS_HOST",
            "password": "os.environ/REDIS_PASSWORD",
        },
    },
    "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
}


def _with(**sections: object) -> dict[str, object]:
    config = {k: v for k, v in GOOD.items()}
    config.update(sections)
    return config


def _rules(findings: list[Finding]) -> dict[str, Finding]:
    return {f"{f.rule}@{f.path}": f for f in findings}


def test_a_clean_config_has_no_findings() -> None:
    assert validate_config(GOOD) == []


@pytest.mark.parametrize("strategy", ALLOWED_ROUTING_STRATEGIES)
def test_every_allowed_routing_strategy_passes(strategy: str) -> None:
    config = _with(router_settings={"routing_strategy": strategy})
    assert validate_config(config) == []


@pytest.mark.parametrize("strategy", ["lowest-cost", "provider-budget-routing", "lar1", 3, None])
def test_routing_strategy_outside_the_allowed_set_is_an_error(strategy: object) -> None:
    found = _rules(validate_config(_with(router_settings={"routing_strategy": strategy})))
    finding = found["routing.strategy-invalid@router_settings.routing_strategy"]
    assert finding.severity is Severity.ERROR
    if strategy == "lowest-cost":
        assert "lowest-cost" in finding.message and "known mistake" in finding.message


def test_routing_group_strategy_and_overlap_are_checked() -> None:
    router = {
        "routing_groups": [
            {"group_name": "a", "models": ["gpt"], "routing_strategy": "lowest-cost"},
            {"group_name": "b", "models": ["gpt", "claude"], "routing_strategy": "least-busy"},
        ]
    }
    found = _rules(validate_config(_with(router_settings=router)))
    assert "routing.strategy-invalid@router_settings.routing_groups[0].routing_strategy" in found
    assert "routing.group-overlap@router_settings.routing_groups[1].models[0]" in found
    assert not any(
        k.startswith("routing.strategy-invalid@router_settings.routing_groups[1]") for k in found
    )


@pytest.mark.parametrize("key", ["ssl", "ssl_check_hostname", "ssl_cert_reqs"])
def test_any_ssl_key_in_cache_params_is_an_error_even_when_false(key: str) -> None:
    params = {**GOOD["litellm_settings"]["cache_params"], key: False}  # type: ignore[index]
    found = _rules(validate_config(_with(litellm_settings={"cache": True, "cache_params": params})))
    assert found[f"cache.ssl-key@litellm_settings.cache_params.{key}"].severity is Severity.ERROR


@pytest.mark.parametrize(
    ("path", "config"),
    [
        (
            "model_list[0].litellm_params.api_key",
            {
                "model_list": [
                    {
                        "model_name": "m",
                        "litellm_params": {"model": "openai/x", "api_key": "sk-live"},
                    }
                ]
            },
        ),
        (
            "model_list[0].litellm_params.aws_access_key_id",
            {
                "model_list": [
                    {
                        "model_name": "m",
                        "litellm_params": {"model": "bedrock/x", "aws_access_key_id": "AKIAXXXX"},
                    }
                ]
            },
        ),
        (
            "model_list[0].litellm_params.aws_secret_access_key",
            {
                "model_list": [
                    {
                        "model_name": "m",
                        "litellm_params": {"model": "bedrock/x", "aws_secret_access_key": "abc"},
                    }
                ]
            },
        ),
        (
            "model_list[0].litellm_params.vertex_credentials",
            {
                "model_list": [
                    {
                        "model_name": "m",
                        "litellm_params": {
                            "model": "vertex_ai/x",
                            "vertex_credentials": '{"type": "service_account"}',
                        },
                    }
                ]
            },
        ),
        (
            "litellm_settings.cache_params.password",
            {"litellm_settings": {"cache_params": {"type": "local", "password": "pw"}}},
        ),
        (
            "litellm_settings.cache_params.s3_aws_secret_access_key",
            {
                "litellm_settings": {
                    "cache_params": {"type": "local", "s3_aws_secret_access_key": "pw"}
                }
            },
        ),
        ("router_settings.redis_password", {"router_settings": {"redis_password": "pw"}}),
        ("router_settings.redis_url", {"router_settings": {"redis_url": "redis://:pw@h:6379"}}),
        ("general_settings.master_key", {"general_settings": {"master_key": "sk-1234"}}),
        (
            "general_settings.database_url",
            {"general_settings": {"database_url": "postgresql://u:p@h/db"}},
        ),
        (
            "general_settings.alert_to_webhook_url.budget_alerts",
            {
                "general_settings": {
                    "alert_to_webhook_url": {
                        "budget_alerts": "https://hooks.slack.com/services/T/B/x"
                    }
                }
            },
        ),
    ],
)
def test_literal_secrets_in_secret_fields_are_errors(path: str, config: dict[str, object]) -> None:
    found = _rules(validate_config(config))
    assert found[f"secret.literal@{path}"].severity is Severity.ERROR


@pytest.mark.parametrize("value", ["os.environ/OPENAI_API_KEY", Secret("sk-from-vault"), ""])
def test_env_references_vault_secrets_and_blanks_are_not_literals(value: object) -> None:
    config = {
        "model_list": [
            {"model_name": "m", "litellm_params": {"model": "openai/x", "api_key": value}}
        ]
    }
    assert not any(f.rule == "secret.literal" for f in validate_config(config))


def test_placeholder_api_keys_for_local_servers_are_accepted() -> None:
    config = {
        "model_list": [
            {
                "model_name": "m",
                "litellm_params": {
                    "model": "ollama/llama3",
                    "api_key": "none",
                    "api_base": "http://ollama:11434",
                },
            }
        ]
    }
    assert validate_config(config) == []


def test_unknown_cache_type_and_missing_cache_params_are_errors() -> None:
    unknown = validate_config(
        {"litellm_settings": {"cache": True, "cache_params": {"type": "memcached"}}}
    )
    assert [f.rule for f in unknown] == ["cache.type-unknown"]
    missing = validate_config({"litellm_settings": {"cache": True, "cache_params": {"type": "s3"}}})
    assert [f.rule for f in missing] == ["cache.params-missing"]
    assert "s3_bucket_name" in missing[0].message
    default_redis = validate_config({"litellm_settings": {"cache": True}})
    assert [f.rule for f in default_redis] == ["cache.params-missing"]
    off = validate_config({"litellm_settings": {"cache": False, "cache_params": {"type": "s3"}}})
    assert off == []


def test_models_need_a_name_and_an_upstream_model() -> None:
    config = {
        "model_list": [
            {"litellm_params": {"model": "openai/x"}},
            {"model_name": "b", "litellm_params": {"api_base": "http://x"}},
            {"model_name": "c"},
        ]
    }
    found = _rules(validate_config(config))
    assert "model.name-missing@model_list[0].model_name" in found
    assert "model.model-missing@model_list[1].litellm_params.model" in found
    assert "model.model-missing@model_list[2].litellm_params" in found


def test_an_unknown_provider_prefix_is_a_warning_only() -> None:
    config = {"model_list": [{"model_name": "m", "litellm_params": {"model": "nosuchai/x"}}]}
    findings = validate_config(config)
    expected = [("model.provider-unknown", Severity.WARNING)]
    assert [(f.rule, f.severity) for f in findings] == expected
    assert not has_errors(findings)


def test_dangling_fallbacks_and_aliases_are_errors() -> None:
    router = {
        "fallbacks": [{"gpt": ["gone"]}],
        "context_window_fallbacks": [{"missing": ["claude"]}],
        "content_policy_fallbacks": [{"gpt": ["nope"]}],
        "default_fallbacks": ["claude", "ghost"],
        "model_group_alias": {"old": "vanished", "ok": {"model": "gpt", "hidden": True}},
    }
    found = _rules(validate_config(_with(router_settings=router)))
    dangling = sorted(k for k in found if k.startswith("ref.dangling"))
    assert dangling == [
        "ref.dangling@router_settings.content_policy_fallbacks[0].gpt[0]",
        "ref.dangling@router_settings.context_window_fallbacks[0].missing",
        "ref.dangling@router_settings.default_fallbacks[1]",
        "ref.dangling@router_settings.fallbacks[0].gpt[0]",
        "ref.dangling@router_settings.model_group_alias.old",
    ]


def test_fallbacks_may_target_aliases_and_wildcard_groups() -> None:
    config = {
        "model_list": [
            {"model_name": "openai/*", "litellm_params": {"model": "openai/*"}},
            {"model_name": "gpt", "litellm_params": {"model": "openai/gpt-4o"}},
        ],
        "router_settings": {
            "model_group_alias": {"smart": "gpt"},
            "fallbacks": [{"gpt": ["smart", "openai/gpt-4o-mini"]}],
        },
        "litellm_settings": {"default_fallbacks": ["smart"]},
    }
    assert validate_config(config) == []


def test_a_model_naming_a_missing_credential_is_an_error() -> None:
    config = {
        "model_list": [
            {
                "model_name": "m",
                "litellm_params": {"model": "openai/x", "litellm_credential_name": "nowhere"},
            }
        ]
    }
    found = _rules(validate_config(config))
    assert "ref.credential-missing@model_list[0].litellm_params.litellm_credential_name" in found


def test_duplicate_model_ids_are_errors() -> None:
    entry = {"model_name": "m", "litellm_params": {"model": "openai/x"}, "model_info": {"id": "1"}}
    found = _rules(validate_config({"model_list": [entry, dict(entry)]}))
    assert found["model.id-duplicate@model_list[1].model_info.id"].severity is Severity.ERROR


@pytest.mark.parametrize("value", [True, "true", "True"])
def test_store_model_in_db_true_is_an_error(value: object) -> None:
    found = _rules(validate_config({"general_settings": {"store_model_in_db": value}}))
    assert "general.store-model-in-db@general_settings.store_model_in_db" in found


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("model_list: [\n", "config.yaml-syntax"),
        ("- a\n- b\n", "config.not-mapping"),
        ("just a string\n", "config.not-mapping"),
        ("model_list: {a: 1}\n", "config.type"),
        ("model_list:\n  - model_name: m\n    litellm_params: openai/x\n", "config.type"),
        ("router_settings: [1, 2]\n", "config.type"),
        ("model_list:\n  - model_name: 5\n    litellm_params: {model: openai/x}\n", "config.type"),
        ("[" * 5000 + "]" * 5000, "config.yaml-syntax"),  # libyaml's own depth limit
        ("a:\n" + "".join("  " * i + "b:\n" for i in range(1, 200)), "config.too-deep"),
        (
            "a: &a [1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
            "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
            "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
            "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
            "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
            "h: [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n",
            "config.too-deep",
        ),
    ],
)
def test_bad_input_becomes_findings_not_exceptions(text: str, rule: str) -> None:
    findings = validate_text(text)
    assert rule in {f.rule for f in findings}
    assert has_errors(findings)


def test_yaml_syntax_errors_name_the_line() -> None:
    text = textwrap.dedent("""\
        model_list:
          - model_name: a
            litellm_params: {model: openai/x
        """)
    (finding,) = validate_text(text)
    assert finding.rule == "config.yaml-syntax" and "line" in finding.message


# -- item-level rules ---------------------------------------------------------------------------


def _model(name: str, group: str, credential: str | None = None) -> Item:
    params: dict[str, object] = {"model": "openai/gpt-4o"}
    if credential:
        params["litellm_credential_name"] = credential
    return Item(ItemKind.MODEL, name, {"model_name": group, "litellm_params": params})


def _credential(name: str) -> Item:
    return Item(ItemKind.CREDENTIAL, name, {"credential_values": {"api_key": Secret("k")}})


def test_deleting_a_credential_a_model_still_uses_names_the_models() -> None:
    effective = [
        EffectiveItem(_model("1", "gpt", "prod")),
        EffectiveItem(_model("2", "gpt-mini", "prod")),
        EffectiveItem(_credential("prod"), Flag.DELETED),
    ]
    found = _rules(validate_items(effective))
    finding = found["ref.credential-in-use@credential_list.prod"]
    assert finding.severity is Severity.ERROR
    assert "gpt" in finding.message and "gpt-mini" in finding.message


def test_deleting_an_unused_credential_is_fine() -> None:
    effective = [EffectiveItem(_model("1", "gpt")), EffectiveItem(_credential("old"), Flag.DELETED)]
    assert validate_items(effective) == []


def test_passthrough_must_be_a_yaml_mapping() -> None:
    for text, rule in (("- a\n", "passthrough.not-mapping"), ("a: [\n", "config.yaml-syntax")):
        effective = [EffectiveItem(Item(ItemKind.PASSTHROUGH, "_", text))]
        assert rule in {f.rule for f in validate_items(effective)}


def test_passthrough_keys_that_collide_with_managed_ones_warn_and_managed_wins() -> None:
    passthrough = Item(
        ItemKind.PASSTHROUGH,
        "_",
        "router_settings:\n  routing_strategy: least-busy\n  num_retries: 2\nmodel_list: []\n",
    )
    strategy = Item(ItemKind.ROUTER_SETTING, "routing_strategy", "simple-shuffle")
    findings = validate_items([EffectiveItem(passthrough), EffectiveItem(strategy)])
    assert {(f.rule, f.severity, f.path) for f in findings} == {
        ("passthrough.collision", Severity.WARNING, "passthrough.router_settings.routing_strategy"),
        ("passthrough.collision", Severity.WARNING, "passthrough.model_list"),
    }


def test_literal_credentials_in_the_passthrough_are_errors() -> None:
    passthrough = Item(
        ItemKind.PASSTHROUGH,
        "_",
        "credential_list:\n  - credential_name: x\n    credential_values:\n"
        "      api_key: sk-live\n    credential_info: {}\n",
    )
    rules = {f.rule for f in validate_items([EffectiveItem(passthrough)])}
    assert "passthrough.credential-list" in rules


def test_a_staged_new_model_with_a_bad_reference_blocks_apply() -> None:
    fallback = Item(ItemKind.ROUTER_SETTING, "fallbacks", [{"gpt": ["claude"]}])
    effective = [EffectiveItem(_model("1", "gpt")), EffectiveItem(fallback, Flag.NEW)]
    assert has_errors(validate_items(effective))
    with_target = [*effective, EffectiveItem(_model("2", "claude"), Flag.NEW)]
    assert not has_errors(validate_items(with_target))


def test_webhook_urls_anywhere_must_not_be_literals() -> None:
    config = {"environment_variables": {"SLACK_WEBHOOK_URL": "https://hooks.slack.com/T/B/x"}}
    found = _rules(validate_config(config))
    assert "secret.literal@environment_variables.SLACK_WEBHOOK_URL" in found


def test_urls_with_passwords_and_secret_looking_keys_warn() -> None:
    config = {
        "callback_settings": {"otel": {"endpoint": "https://user:pw@collector:4318"}},
        "guardrails": [{"litellm_params": {"auth_token": "abc123"}}],
    }
    found = _rules(validate_config(config))
    assert found["secret.url-password@callback_settings.otel.endpoint"].severity is Severity.WARNING
    assert "secret.literal-suspicious@guardrails[0].litellm_params.auth_token" in found


def test_no_secret_value_reaches_a_repr_or_a_finding() -> None:
    item = Item(ItemKind.CREDENTIAL, "c", {"credential_values": {"api_key": Secret("sk-hidden")}})
    assert "sk-hidden" not in repr(item) and "sk-hidden" not in str(item)
    assert "sk-hidden" not in f"{Secret('sk-hidden')}"
    config = {
        "model_list": [
            {"model_name": "m", "litellm_params": {"model": "openai/x", "api_key": "sk-hidden"}}
        ]
    }
    assert all("sk-hidden" not in f.line() for f in validate_config(config))
