"""Bad inputs found in review: each one once crashed, leaked a secret or lost data."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmproxy_desktop.cli import main
from llmproxy_desktop.core.diff import diff_items, unified_config_diff
from llmproxy_desktop.core.findings import Finding, Severity, has_errors
from llmproxy_desktop.core.importer import import_config
from llmproxy_desktop.core.items import EffectiveItem, Flag, Item, ItemKind, Secret
from llmproxy_desktop.core.render import render
from llmproxy_desktop.core.validate import render_checked, validate_config, validate_text


def _rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


@pytest.mark.parametrize(
    "text",
    [
        "model_list:\n  - model_name: [1]\n    litellm_params: {model: openai/x}\n",
        "litellm_settings:\n  cache: true\n  cache_params: {type: [redis]}\n",
        'x: !!int "abc"\n',
        "x: " + "9" * 5000 + "\n",
        "x: !!binary aGVsbG8=\n",
        "x: !!set {a, b}\n",
        "router_settings: {1: a, '1': b, ~: c, true: d}\n",
        "model_list:\n  - model_name: m\n    litellm_params:\n      model: openai/x\n"
        "      litellm_credential_name: [x]\n",
    ],
)
def test_readable_but_odd_files_give_findings_not_crashes(text: str, tmp_path: Path) -> None:
    assert validate_text(text)
    result = import_config(text)  # must not raise
    render(result.items)  # nor must rendering what was imported
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 1
    assert main(["import", "--dry-run", str(path)]) in (0, 1)


@pytest.mark.parametrize(
    "text",
    [
        "released: 2024-13-45\n",
        "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, 1: a}\n",
        "credential_list:\n  - {credential_name: c, credential_values: {}, credential_info: {},"
        " 1: two}\n",
    ],
)
def test_odd_keys_and_impossible_dates_stay_text(text: str, tmp_path: Path) -> None:
    result = import_config(text)
    assert not result.has_errors
    render(result.items)
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 0


def test_dates_stay_text_and_render_back() -> None:
    text = (
        "model_list:\n  - model_name: m\n    litellm_params: {model: openai/x}\n"
        "    model_info: {added: 2024-01-01}\n"
    )
    (item,) = import_config(text).items
    assert item.data["model_info"]["added"] == "2024-01-01"
    assert '"2024-01-01"' in render([item])


def test_duplicate_keys_are_an_error_not_a_silent_loss() -> None:
    text = "model_list: []\nrouter_settings: {num_retries: 1}\nmodel_list: []\n"
    findings = validate_text(text)
    assert "config.key-duplicate" in _rules(findings) and has_errors(findings)
    assert "Line 3" in next(f.message for f in findings if f.rule == "config.key-duplicate")


def test_non_text_keys_are_read_as_text_with_a_warning() -> None:
    findings = validate_text("router_settings: {1: a}\n")
    assert {(f.rule, f.severity) for f in findings} == {("config.key-type", Severity.WARNING)}


@pytest.mark.parametrize(
    ("section", "value"),
    [("litellm_params", 12345), ("litellm_params", {"private_key": "CRED-PK"})],
)
def test_numbers_and_mappings_in_secret_fields_are_literal_secrets(
    section: str, value: object
) -> None:
    field = "api_key" if isinstance(value, int) else "vertex_credentials"
    config = {"model_list": [{"model_name": "m", section: {"model": "vertex_ai/x", field: value}}]}
    assert "secret.literal" in _rules(validate_config(config))


def test_import_vaults_numeric_and_inline_mapping_credentials() -> None:
    text = (
        "credential_list:\n  - credential_name: c\n    credential_values:\n"
        "      api_key: 55555555555\n      vertex_credentials: {private_key: CRED-PK}\n"
        "    credential_info: {}\n"
    )
    (cred,) = import_config(text).items
    values = cred.data["credential_values"]
    assert values["api_key"] == Secret("55555555555")
    assert isinstance(values["vertex_credentials"], Secret)
    assert "CRED-PK" in values["vertex_credentials"].reveal()


SECRETS = (
    "1234567890123",
    "98765432109876",
    "424242",
    "313131",
    "777777777",
    "CRED-PK",
    "hooks.slack.com",
    "tok-bearer",
)
LEAKY = f"""\
model_list:
  - model_name: m
    litellm_params:
      model: bedrock/x
      api_key: {SECRETS[0]}
      aws_secret_access_key: {SECRETS[1]}
      vertex_credentials: {{private_key: {SECRETS[5]}}}
      extra_headers: {{Authorization: "Bearer {SECRETS[7]}"}}
router_settings:
  redis_password: {SECRETS[2]}
litellm_settings:
  cache_params: {{type: local, password: {SECRETS[3]}}}
general_settings:
  master_key: {SECRETS[4]}
  alert_to_webhook_url: {{budget_alerts: "https://{SECRETS[6]}/T/B/x"}}
environment_variables:
  SLACK_WEBHOOK_URL: "https://{SECRETS[6]}/T/B/y"
"""


def test_previews_mask_every_literal_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "leaky.yaml"
    path.write_text(LEAKY)
    main(["import", "--dry-run", str(path)])
    out, err = capsys.readouterr()
    for secret in SECRETS:
        assert secret not in out + err


def test_diffs_mask_literal_secrets_by_field_name() -> None:
    applied = list(import_config(LEAKY).items)
    master = next(i for i in applied if i.name == "master_key")
    changed = Item(master.kind, master.name, "sk-NEWLITERAL")
    effective = [
        EffectiveItem(changed, Flag.CHANGED) if i.key == master.key else EffectiveItem(i)
        for i in applied
    ]
    (change,) = diff_items(applied, effective)
    assert [(f.before, f.after, f.secret) for f in change.fields] == [("***", "***", True)]
    text = unified_config_diff(applied, effective)
    for secret in (*SECRETS, "sk-NEWLITERAL"):
        assert secret not in text


def test_cache_rules_follow_what_litellm_loads() -> None:
    def cache(params: dict[str, object] | None, cache: object = True) -> set[str]:
        settings: dict[str, object] = {"cache": cache}
        if params is not None:
            settings["cache_params"] = params
        return _rules(validate_config({"litellm_settings": settings}))

    assert "cache.params-missing" in cache({"type": "redis", "redis_url": "os.environ/R"})
    assert cache({"type": "redis", "url": "os.environ/REDIS_URL"}) == set()
    assert "cache.type-missing" in cache({"host": "os.environ/REDIS_HOST"})
    assert "cache.not-boolean" in cache({"type": "local"}, "true")
    assert "cache.type-unusable" in cache(
        {"type": "valkey-semantic", "redis_url": "x", "similarity_threshold": 0.8}
    )
    assert (
        cache(
            {
                "type": "redis-semantic",
                "host": "h",
                "port": 1,
                "password": "os.environ/P",
                "similarity_threshold": 0.8,
            }
        )
        == set()
    )


def test_alias_chains_are_dangling() -> None:
    config = {
        "model_list": [{"model_name": "real", "litellm_params": {"model": "openai/x"}}],
        "router_settings": {"model_group_alias": {"a": "b", "b": "a", "ok": "real"}},
    }
    findings = [f for f in validate_config(config) if f.rule == "ref.dangling"]
    assert sorted(f.path for f in findings) == [
        "router_settings.model_group_alias.a",
        "router_settings.model_group_alias.b",
    ]
    assert all("another alias" in f.message for f in findings)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (float("inf"), "config.number"),
        (float("nan"), "config.number"),
        ("sk-\x00x", "config.nul-character"),
    ],
)
def test_values_no_store_can_hold_block_apply(value: object, rule: str) -> None:
    model = Item(
        ItemKind.MODEL,
        "1",
        {"model_name": "m", "litellm_params": {"model": "openai/x", "rpm": 1, "extra": value}},
    )
    _, findings = render_checked([EffectiveItem(model)])
    assert rule in _rules(findings)


def test_non_numeric_limits_are_errors() -> None:
    config = {
        "model_list": [{"model_name": "m", "litellm_params": {"model": "openai/x", "rpm": "lots"}}]
    }
    assert "model.param-type" in _rules(validate_config(config))


def test_finding_lines_cannot_be_forged_by_keys_with_newlines() -> None:
    config = {"router_settings": {"fallbacks": [{"ghost\nsecret.literal\terror\tfake": ["x"]}]}}
    for finding in validate_config(config):
        assert "\n" not in finding.line() and finding.line().count("\t") == 3


def test_empty_and_comment_only_files_are_errors() -> None:
    assert "config.empty" in _rules(validate_text(""))
    assert "config.empty" in _rules(validate_text("# nothing\n"))


def test_validate_reads_at_most_the_limit_from_an_endless_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["validate", "/dev/zero"]) == 2
    assert "too large" in capsys.readouterr().err


def test_secret_values_do_not_leave_through_dataclass_helpers() -> None:
    import dataclasses

    item = Item(ItemKind.GENERAL_SETTING, "master_key", Secret("sk-hidden"))
    assert "sk-hidden" not in repr(dataclasses.asdict(item))


def test_yaml_merge_keys_and_aliases_load_as_pyyaml_does_without_false_duplicates() -> None:
    import yaml

    text = (
        "base: &x {k: 1, j: [1, 2]}\nalias: *x\nmerged:\n  <<: *x\n  k: 2\n"
        "hex: 0x1F\nunderscored: 1_000\nnothing: ~\n"
    )
    findings = validate_text(text)
    assert "config.key-duplicate" not in {f.rule for f in findings}
    from llmproxy_desktop.core.yamltext import parse_yaml

    assert parse_yaml(text).value == yaml.safe_load(text)
