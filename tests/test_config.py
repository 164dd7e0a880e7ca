"""Bad configuration fails before any resource exists, naming the full key and the fix."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
import yaml

from infra.config import PROJECT, ROOT, load_stack_file, parse_config
from tests.support.pulumi_mocks import build_stack


def set_path(config: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = config
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value


BAD_CONFIGS = [
    ("organization.nmae", "acme", f"{PROJECT}:organization.nmae: unknown key"),
    ("organization.name", "Acme Corp", f"{PROJECT}:organization.name: String should match"),
    ("organization.name", "a" * 51, f"{PROJECT}:organization.name: String should have at most 50"),
    ("organization.branding.logoUrl", "http://x/logo.png", "organization.branding.logoUrl"),
    ("organization.branding.colors.primary", "blue", "use #RRGGBB"),
    ("organization.metadata", {"tier": 3}, f"{PROJECT}:organization.metadata.tier"),
    ("connections", [], f"{PROJECT}:connections: List should have at least 1 item"),
    ("connections", "google-oauth2", f"{PROJECT}:connections: Input should be a valid list"),
    ("connections", ["a", "a"], f"{PROJECT}:connections: lists a more than once"),
    ("action.timeBudgetMs", 60000, f"{PROJECT}:action.timeBudgetMs: Input should be less"),
    ("action.timeBudgetMs", "fast", f"{PROJECT}:action.timeBudgetMs: Input should be a valid"),
    ("action.failurePolicy", "strict", "use 'open' or 'closed'"),
    ("action.connectionCheck", "none", "use 'static' or 'api'"),
    ("action.retries", 3, f"{PROJECT}:action.retries: unknown key"),
    ("organisation", {}, f"{PROJECT}:organisation: unknown key"),
    ("auth0:domain", "https://acme.eu.auth0.com/", "auth0:domain: String should match"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD_CONFIGS)
def test_bad_value_is_rejected_naming_its_key(
    stack_config: dict[str, Any], path: str, value: Any, message: str
) -> None:
    if path.startswith("auth0:"):
        stack_config[path] = value
    else:
        set_path(stack_config, path, value)
    with pytest.raises(pulumi.RunError, match="invalid configuration") as raised:
        parse_config(stack_config, "test")
    assert message in str(raised.value)


@pytest.mark.parametrize("key", ["organization", "connections", "auth0:domain"])
def test_missing_required_key_says_how_to_set_it(stack_config: dict[str, Any], key: str) -> None:
    del stack_config[key]
    with pytest.raises(pulumi.RunError, match="required; set it"):
        parse_config(stack_config, "test")


def test_every_problem_is_reported_at_once(stack_config: dict[str, Any]) -> None:
    stack_config["organization"]["name"] = "UPPER"
    stack_config["connections"] = []
    with pytest.raises(pulumi.RunError) as raised:
        parse_config(stack_config, "test")
    assert "organization.name" in str(raised.value)
    assert f"{PROJECT}:connections" in str(raised.value)


def test_bad_config_registers_nothing(stack_config: dict[str, Any]) -> None:
    stack_config["organization"]["name"] = "Not Valid"
    with pytest.raises(pulumi.RunError, match=r"organization\.name"):
        build_stack(stack_config)


def test_engine_config_round_trips_through_the_model(stack_config: dict[str, Any]) -> None:
    stack_config["assignMembershipOnLogin"] = "true"  # the engine passes scalars as text
    mocks, _ = build_stack(stack_config)
    assert mocks.of_type("auth0:index/organizationConnection:OrganizationConnection")


def test_defaults(stack_config: dict[str, Any]) -> None:
    config = parse_config(stack_config, "test")
    assert config.action_name == "assign-to-acme"
    assert config.action.connection_check == "static"
    assert config.action.time_budget_ms == 3000
    assert config.action.failure_policy == "open"
    assert config.assign_membership_on_login is False


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_shipped_stack_files_are_valid_and_hold_no_plain_secret(stack: str) -> None:
    path = ROOT / f"Pulumi.{stack}.yaml"
    config = load_stack_file(stack)
    assert config.organization.name
    document = yaml.safe_load(path.read_text())
    for key, value in document["config"].items():
        if "secret" in key.lower():
            assert isinstance(value, dict) and "secure" in value, key


def test_unknown_stack_file_is_a_clear_error() -> None:
    with pytest.raises(pulumi.RunError, match=r"no stack file Pulumi\.nope\.yaml"):
        load_stack_file("nope")


def test_pulumi_yaml_declares_only_types_the_cli_accepts() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == PROJECT
    assert project["main"] == "infra/"
    for key, declaration in project["config"].items():
        assert ":" not in key, f"{key}: Pulumi.yaml may not type another namespace's key"
        assert declaration["type"] in {"string", "integer", "boolean", "array"}, key
        assert declaration["description"], key
