"""Bad configuration fails before any resource exists, naming the full key and the fix."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from auth0_org_assignment.config import (
    PROJECT,
    StackConfig,
    load_resolved_config,
    load_stack_file,
    parse_config,
)
from devtools import ROOT
from devtools.localstack.pulumi_mocks import build_stack


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
    ("auth0:domain", "https://acme.eu.auth0.com/", "auth0:domain: 'https://acme.eu.auth0.com/' is"),
    ("auth0:domain", "acme.eu.auth0.com.evil.io", "not a tenant's canonical domain"),
    ("auth0:domain", "localhost:8443", "not a tenant's canonical domain"),
    ("auth0:domain", "login.acme.com", "A custom domain cannot be used"),
    ("organization.branding.colors", {"primary": "#000000"}, "set both primary and pageBackground"),
    ("organization.branding.colors", {"pageBackground": "#000000"}, "or neither"),
    ("organization.branding.logoUrl", "https:///logo.png", "absolute https:// URL with a host"),
    ("organization.branding.logoUrl", "https://x.io/a logo.png", "no spaces"),
    ("organization.displayName", "   ", f"{PROJECT}:organization.displayName: String should match"),
    ("organization.metadata", {"k" * 256: "v"}, f"{PROJECT}:organization.metadata.{'k' * 256}"),
    ("organization.metadata", {"tier": "v" * 256}, "at most 255 characters"),
    ("connections", ["  "], f"{PROJECT}:connections[0]: String should match"),
    ("connections", [f"c{i}" for i in range(11)], "at most 10 items"),
    ("action.name", " ", f"{PROJECT}:action.name: String should match"),
    ("action.timeBudgetMs", "3000", "a whole number of milliseconds from 500 to 15000"),
    ("action.denyMessage", "\t", "1 to 200 characters, not only spaces"),
    ("action.appMetadataKey", "__proto__", "__proto__ is a JavaScript object's own property"),
    ("action.appMetadataKey", "constructor", "constructor is a JavaScript object's own property"),
    ("action.appMetadataKey", "prototype", "prototype is a JavaScript object's own property"),
    ("assignMembershipOnLogin", "yes", f"{PROJECT}:assignMembershipOnLogin: Input should be"),
    ("domainKind", "vanity", "use 'auth0' or 'local'"),
    ("domainKind", "custom", "the Management API's host and audience are always the tenant's"),
]


def test_hints_name_the_rule_of_their_own_key(stack_config: dict[str, Any]) -> None:
    stack_config["action"] = {"name": " "}
    with pytest.raises(pulumi.RunError) as raised:
        parse_config(stack_config, "test")
    assert "lowercase letters" not in str(raised.value)  # the organization name's hint


def test_huge_inputs_are_not_echoed(stack_config: dict[str, Any]) -> None:
    stack_config["organization"]["name"] = "X" * 10_000
    with pytest.raises(pulumi.RunError) as raised:
        parse_config(stack_config, "test")
    assert len(str(raised.value)) < 400


def test_a_custom_domain_is_refused_and_a_local_one_needs_its_kind(
    stack_config: dict[str, Any],
) -> None:
    # The Management API's audience is always https://<tenant>.<region>.auth0.com/api/v2/: a
    # grant or a token request naming a custom domain is refused (Auth0's Custom Domains).
    stack_config.update({"auth0:domain": "login.acme.com", "domainKind": "custom"})
    with pytest.raises(pulumi.RunError, match="set auth0:domain to the tenant's domain"):
        parse_config(stack_config, "test")
    stack_config.update({"auth0:domain": "localhost:8443", "domainKind": "local"})
    assert parse_config(stack_config, "test").domain_kind == "local"
    stack_config["auth0:domain"] = "acme.eu.auth0.com"
    with pytest.raises(pulumi.RunError, match="is not localhost:<port>"):
        parse_config(stack_config, "test")


def write_stack(tmp_path: Path, config: dict[str, Any]) -> Path:
    path = tmp_path / "Pulumi.t.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


FILE_CONFIG = {
    "auth0:domain": "acme.eu.auth0.com",
    f"{PROJECT}:organization": {
        "name": "acme",
        "displayName": "Acme",
        "allowAnyUserOfConnection": True,
    },
    f"{PROJECT}:connections": ["Username-Password-Authentication"],
}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("auth0:clientSecret", "s3cr3t", "auth0:clientSecret: stored in plain text"),
        ("auth0:domian", "acme.eu.auth0.com", "did you mean auth0:domain?"),
        ("auth0-org-assigment:connections", ["a"], "unknown namespace 'auth0-org-assigment'"),
        (f"{PROJECT}:assignMembershipOnLogin", {"secure": "AAAA"}, "set as a secret"),
        ("auth0:debug", True, "auth0:debug: the auth0 provider then logs whole Management API"),
        ("auth0:debug", "on", "auth0:debug: the auth0 provider then logs whole Management API"),
    ],
)
def test_stack_file_mistakes_are_rejected_before_anything_runs(
    tmp_path: Path, key: str, value: Any, message: str
) -> None:
    write_stack(tmp_path, {**FILE_CONFIG, key: value})
    with pytest.raises(pulumi.RunError, match="invalid configuration") as raised:
        load_stack_file("t", tmp_path)
    assert message in str(raised.value)
    assert "s3cr3t" not in str(raised.value)


def test_the_providers_debug_turned_off_is_accepted(tmp_path: Path) -> None:
    write_stack(tmp_path, {**FILE_CONFIG, "auth0:debug": False})
    assert load_stack_file("t", tmp_path).organizations[0].name == "acme"


@pytest.mark.parametrize("key", ["auth0:clientSecret", "auth0:apiToken"])
def test_an_encrypted_provider_secret_is_refused_too(tmp_path: Path, key: str) -> None:
    """Pulumi records the provider's configuration in the stack's state, which a pull
    request's preview decrypts: the deployer's credentials belong in the environment."""
    write_stack(tmp_path, {**FILE_CONFIG, key: {"secure": "v1:abc"}})
    with pytest.raises(pulumi.RunError, match=f"{key}: set as a secret") as raised:
        load_stack_file("t", tmp_path)
    assert f"pulumi config rm {key}" in str(raised.value)
    assert "AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET" in str(raised.value)


def test_a_stack_file_importing_esc_environments_is_refused(tmp_path: Path) -> None:
    """ESC may set the rule's keys; only the CLI knows what they are."""
    (tmp_path / "Pulumi.t.yaml").write_text(
        yaml.safe_dump({"environment": ["acme/prod"], "config": FILE_CONFIG})
    )
    with pytest.raises(pulumi.RunError, match="imports Pulumi ESC environments") as raised:
        load_stack_file("t", tmp_path)
    assert "pulumi config --stack t --json > config.json" in str(raised.value)


def test_the_resolved_configuration_is_read_as_pulumi_config_json_prints_it(
    tmp_path: Path,
) -> None:
    printed = {
        "auth0:domain": {"value": "acme.eu.auth0.com", "secret": False},
        "auth0:clientId": {"value": "deployer", "secret": False},
        f"{PROJECT}:organization": {
            "value": json.dumps(FILE_CONFIG[f"{PROJECT}:organization"]),
            "objectValue": FILE_CONFIG[f"{PROJECT}:organization"],
            "secret": False,
        },
        f"{PROJECT}:connections": {"value": '["Username-Password-Authentication"]'},
        f"{PROJECT}:assignMembershipOnLogin": {"value": "false", "secret": False},
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(printed))
    config = load_resolved_config(path)
    assert config.organizations[0].name == "acme"
    assert config.connections == ["Username-Password-Authentication"]
    path.write_text("not json")
    with pytest.raises(pulumi.RunError, match="not the output of pulumi config --json"):
        load_resolved_config(path)


def test_a_key_set_as_a_secret_is_refused_without_its_value_in_any_message(
    tmp_path: Path,
) -> None:
    """A value set as a secret is refused unread: an error about it would echo part of it
    into a preview's output, which a pull request's comment carries."""
    secret = "billing-" + "x" * 300
    organization = {
        "name": "acme",
        "displayName": "Acme",
        "allowAnyUserOfConnection": True,
        "metadata": {"key": secret},
    }
    # A value one key's error would echo, one a rule across keys would quote (a name listed
    # twice), and a data file's path, which its reader would quote.
    for key, value in (
        ("organization", organization),
        ("organizations", [{**organization, "name": "billing-x"}] * 2),
        ("organizationsFile", "billing-missing.csv"),
    ):
        printed = {
            "auth0:domain": {"value": "acme.eu.auth0.com", "secret": False},
            f"{PROJECT}:{key}": {"value": json.dumps(value), "objectValue": value, "secret": True},
            f"{PROJECT}:connections": {"value": '["Username-Password-Authentication"]'},
        }
        path = tmp_path / "config.json"
        path.write_text(json.dumps(printed))
        with pytest.raises(pulumi.RunError, match=f"{key}: set as a secret") as raised:
            load_resolved_config(path)
        assert "billing-" not in str(raised.value), key


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("config:\n  auth0:domain: [unclosed\n", r"Pulumi\.t\.yaml:\d+: YAML syntax error"),
        ("config: just-a-string\n", "config: must be a mapping"),
        ("- a list\n", "must be a mapping with a config: key"),
    ],
)
def test_a_broken_stack_file_is_one_line_naming_it(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "Pulumi.t.yaml").write_text(text)
    with pytest.raises(pulumi.RunError, match=message) as raised:
        load_stack_file("t", tmp_path)
    assert "\n" not in str(raised.value)


def test_project_keys_set_as_secrets_are_refused_by_the_engine_path(
    stack_config: dict[str, Any],
) -> None:
    with pytest.raises(pulumi.RunError, match="set as a secret"):
        build_stack(stack_config, secret_keys=[f"{PROJECT}:connections"])


@pytest.mark.parametrize("value", ["1", "true", "TRUE"])
def test_the_providers_debug_variable_is_refused_by_the_engine_path(
    stack_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """The auth0 provider reads AUTH0_DEBUG from the deploy's environment, as auth0:debug."""
    monkeypatch.setenv("AUTH0_DEBUG", value)
    with pytest.raises(pulumi.RunError, match=f"AUTH0_DEBUG={value!r} in the environment"):
        build_stack(stack_config)
    for off in ("false", "0", "off"):
        monkeypatch.setenv("AUTH0_DEBUG", off)
        build_stack(stack_config)


def test_plain_text_deployer_secret_is_refused_by_the_engine_path(
    stack_config: dict[str, Any],
) -> None:
    stack_config["auth0:clientSecret"] = "s3cr3t"
    with pytest.raises(pulumi.RunError, match="stored in plain text"):
        build_stack(stack_config)


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


def test_missing_required_key_says_how_to_set_it(stack_config: dict[str, Any]) -> None:
    del stack_config["auth0:domain"]
    with pytest.raises(pulumi.RunError, match="required; set it"):
        parse_config(stack_config, "test")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"organization": None}, "set either auth0-org-assignment:organization"),
        ({"connections": None}, "connections: required with auth0-org-assignment:organization"),
        (
            {"organizations": [{"name": "b", "displayName": "B", "emailDomains": ["b.io"]}]},
            "not both",
        ),
    ],
)
def test_one_organization_or_many_never_both(
    stack_config: dict[str, Any], change: dict[str, Any], message: str
) -> None:
    for key, value in change.items():
        if value is None:
            del stack_config[key]
        else:
            stack_config[key] = value
    with pytest.raises(pulumi.RunError, match=re.escape(message)):
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


STACKS = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_stack_files_are_valid_and_hold_no_plain_secret(stack: str) -> None:
    path = ROOT / f"Pulumi.{stack}.yaml"
    config = load_stack_file(stack, ROOT)
    assert config.organizations[0].name
    document = yaml.safe_load(path.read_text())
    for key, value in document["config"].items():
        if "secret" in key.lower():
            assert isinstance(value, dict), key
            assert "secure" in value, key


def test_unknown_stack_file_is_a_clear_error() -> None:
    with pytest.raises(pulumi.RunError, match=r"no stack file Pulumi\.nope\.yaml"):
        load_stack_file("nope", ROOT)


def test_pulumi_yaml_declares_only_types_the_cli_accepts() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == PROJECT
    assert project["main"] == "infra/"
    for key, declaration in project["config"].items():
        assert ":" not in key, f"{key}: Pulumi.yaml may not type another namespace's key"
        assert declaration["type"] in {"string", "integer", "boolean", "array", "object"}, key
        if declaration["type"] == "array":
            assert declaration["items"]["type"] in {"string", "object"}, key
        assert declaration["description"], key
    # Every top-level key the model reads is declared, objects included.
    model_keys = {
        field.alias or name
        for name, field in StackConfig.model_fields.items()
        if not (field.alias or "").startswith("auth0:")
    }
    # organizationsFile is read before the model: the organizations it lists are the model's.
    assert set(project["config"]) == model_keys | {"organizationsFile"}
    # A scalar's default is the model's own: the CLI hands the program the one declared here.
    fields = {field.alias or name: field for name, field in StackConfig.model_fields.items()}
    for key, declaration in project["config"].items():
        if declaration["type"] in {"string", "integer", "boolean"} and key in fields:
            assert declaration["default"] == fields[key].get_default(), key


def trusting(stack_config: dict[str, Any], limits: dict[str, Any]) -> dict[str, Any]:
    """tests/conftest.py's configuration with acme.com, *.acme.com and partner.com, trusting
    google-oauth2, with these limits."""
    organization = stack_config["organization"]
    organization.pop("allowAnyUserOfConnection", None)
    organization["emailDomains"] = ["acme.com", "*.acme.com", "Partner.COM"]
    organization["trustEmailVerifiedFrom"] = ["google-oauth2"]
    organization["trustedConnectionDomains"] = limits
    return stack_config


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (
            {"acme-okta": ["acme.com"]},
            f"{PROJECT}:organization: trustedConnectionDomains names acme-okta, which "
            "trustEmailVerifiedFrom does not list",
        ),
        (
            {"google-oauth2": ["globex.com"]},
            "trustedConnectionDomains.google-oauth2 lists globex.com, not among emailDomains "
            "(acme.com, *.acme.com, partner.com)",
        ),
        ({"google-oauth2": ["eu.acme.com"]}, "lists eu.acme.com, not among emailDomains"),
        ({"google-oauth2": []}, "trustedConnectionDomains.google-oauth2: List should have at"),
        ({"google-oauth2": ["not a domain"]}, "'not a domain' is not a domain name"),
        ({"google-oauth2": "acme.com"}, "trustedConnectionDomains.google-oauth2: Input should"),
    ],
)
def test_a_trusted_connections_limit_names_trusted_connections_and_their_domains(
    stack_config: dict[str, Any], limits: dict[str, Any], message: str
) -> None:
    with pytest.raises(pulumi.RunError) as raised:
        parse_config(trusting(stack_config, limits), "test")
    assert message in str(raised.value)
    assert "trustedConnectionDomains" in str(raised.value)


def test_a_trusted_connections_limit_is_kept_as_its_domains_are_written(
    stack_config: dict[str, Any],
) -> None:
    limits = {"google-oauth2": ["*.ACME.com", "partner.com"]}
    config = parse_config(trusting(stack_config, limits), "test")
    (organization,) = config.organizations
    assert organization.trusted_connection_domains == {
        "google-oauth2": ["*.acme.com", "partner.com"]
    }
    assert organization.rule_clauses() == {
        "trustedConnectionDomains": {"google-oauth2": ["*.acme.com", "partner.com"]}
    }


@pytest.mark.parametrize(
    "declared",
    [
        {
            "dnsResolvers": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["203.0.113.5:53"],
            }
        },
        {f"{PROJECT}:dnsResolvers": {"value": ["203.0.113.5:53"]}},
        {"dnsResolvers": ["203.0.113.5:53"]},
    ],
)
def test_a_stack_file_is_read_with_the_project_config_pulumi_gives_the_program(
    tmp_path: Path, declared: dict[str, Any]
) -> None:
    """The CLI gives the program each key Pulumi.yaml's config sets (a declared key's default,
    a value) that the stack file does not (`pulumi config --json` shows them): render, impact
    and explain, which read the files, must judge by the same keys, or a change to Pulumi.yaml
    (resolvers that prove any domain, say) deploys what none of them shows."""
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump({"name": PROJECT, "config": declared}))
    stack = {
        "auth0:domain": "acme.eu.auth0.com",
        f"{PROJECT}:organization": {
            "name": "acme",
            "displayName": "Acme",
            "emailDomains": ["acme.com"],
        },
        f"{PROJECT}:connections": ["Username-Password-Authentication"],
    }
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump({"config": stack}))
    assert load_stack_file("prod", tmp_path).dns_resolvers == ["203.0.113.5:53"]
    # The stack file's own value wins, as in the CLI.
    stack[f"{PROJECT}:dnsResolvers"] = ["192.0.2.1:53"]
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump({"config": stack}))
    assert load_stack_file("prod", tmp_path).dns_resolvers == ["192.0.2.1:53"]


def test_a_project_that_moves_its_stack_files_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack_config: dict[str, Any]
) -> None:
    """Pulumi.yaml's stackConfigDir moves the stack files the CLI reads (`pulumi config --json`
    shows cfg/'s), while render, impact and the pipeline read Pulumi.<stack>.yaml beside
    Pulumi.yaml: a pull request could deploy cfg/'s wider rule and show the stale one. The
    deploy and the commands refuse it, naming the key."""
    (tmp_path / "Pulumi.yaml").write_text(f"name: {PROJECT}\nstackConfigDir: cfg\n")
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump({"config": stack_config}))
    with pytest.raises(pulumi.RunError, match=r"Pulumi\.yaml: stackConfigDir: 'cfg'"):
        load_stack_file("prod", tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pulumi, "get_root_directory", lambda: str(tmp_path))
    with pytest.raises(pulumi.RunError, match="remove stackConfigDir"):
        build_stack(stack_config)


NARROW = {"name": "acme", "displayName": "Acme", "emailDomains": ["acme.com"]}
WIDE = {
    "name": "acme",
    "displayName": "Acme",
    "emailDomains": ["acme.com", "wide-open.example"],
}


def _stack(organization: dict[str, Any]) -> dict[str, Any]:
    return {
        "auth0:domain": "acme.eu.auth0.com",
        f"{PROJECT}:organization": organization,
        f"{PROJECT}:connections": ["Username-Password-Authentication"],
    }


@pytest.mark.parametrize("keep_pulumi_yaml", [True, False])
def test_a_project_file_the_cli_prefers_to_pulumi_yaml_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep_pulumi_yaml: bool
) -> None:
    """The CLI looks for Pulumi.json before Pulumi.yaml (and Pulumi.yml where there is none),
    and then reads the stack file of the same extension: with Pulumi.json and Pulumi.prod.json
    added, `pulumi config --stack prod --json` shows Pulumi.prod.json's keys and none of
    Pulumi.prod.yaml's, which render, impact and action-code-diff read. The deploy and the
    commands refuse a project file other than Pulumi.yaml."""
    (tmp_path / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime: python\nmain: infra/\n")
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump({"config": _stack(NARROW)}))
    (tmp_path / "Pulumi.json").write_text(
        json.dumps({"name": PROJECT, "runtime": "python", "main": "infra/"})
    )
    (tmp_path / "Pulumi.prod.json").write_text(json.dumps({"config": _stack(WIDE)}))
    (tmp_path / "infra").mkdir()
    if not keep_pulumi_yaml:
        (tmp_path / "Pulumi.yaml").unlink()
    with pytest.raises(pulumi.RunError, match=r"Pulumi\.json"):
        load_stack_file("prod", tmp_path)
    monkeypatch.chdir(tmp_path / "infra")
    monkeypatch.setattr(pulumi, "get_root_directory", lambda: str(tmp_path))
    with pytest.raises(pulumi.RunError, match=r"Pulumi\.json"):
        build_stack(_stack(WIDE))


def test_a_stack_file_key_without_namespace_is_the_projects(tmp_path: Path) -> None:
    """The CLI reads a stack file's key without a namespace as the project's (`organization:`
    is `auth0-org-assignment:organization`), the last of the two spellings winning: a pull
    request adding `organization:` below the namespaced one deployed it while render, impact
    and action-code-diff read the namespaced one alone. Read as the project's; both refused."""
    (tmp_path / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime: python\n")
    stack = _stack(NARROW)
    stack["organization"] = WIDE
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump({"config": stack}, sort_keys=False))
    with pytest.raises(pulumi.RunError, match=f"{PROJECT}:organization.*both"):
        load_stack_file("prod", tmp_path)
    del stack[f"{PROJECT}:organization"]
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump({"config": stack}))
    assert load_stack_file("prod", tmp_path).organizations[0].email_domains == WIDE["emailDomains"]


def test_a_project_config_key_given_with_and_without_namespace_is_refused(
    tmp_path: Path,
) -> None:
    """In Pulumi.yaml's config the key without a namespace wins whatever the order (`pulumi
    config --json`): `dnsResolvers: {default: [evil]}` then `auth0-org-assignment:dnsResolvers:
    []` deployed the resolvers render, impact and domains did not read. Refused."""
    (tmp_path / "Pulumi.yaml").write_text(
        f"name: {PROJECT}\nruntime: python\nconfig:\n"
        "  dnsResolvers:\n    type: array\n    items:\n      type: string\n"
        "    default: ['203.0.113.5:53']\n"
        f"  {PROJECT}:dnsResolvers: []\n"
    )
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump({"config": _stack(NARROW)}))
    with pytest.raises(pulumi.RunError, match=r"dnsResolvers.*both"):
        load_stack_file("prod", tmp_path)


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (
            {"name": "acme", "connections": ["corp-saml"], "allowAnyUserOfConnection": True},
            {"name": "acme-corp", "connections": ["saml"], "allowAnyUserOfConnection": True},
            "acme's connection corp-saml and acme-corp's connection saml would both be named "
            "…-connection-acme-corp-saml",
        ),
        (
            {"name": "acme", "connections": ["email"], "emailDomains": ["*.corp-acme.com"]},
            {"name": "acme-corp", "connections": ["email"], "emailDomains": ["acme.com"]},
            "acme's discovery domain corp-acme.com and acme-corp's discovery domain acme.com "
            "would both be named …-discovery-domain-acme-corp-acme.com",
        ),
    ],
)
def test_two_organizations_whose_resources_would_share_a_name_are_refused(
    stack_config: dict[str, Any], first: dict[str, Any], second: dict[str, Any], message: str
) -> None:
    """An organization's connections and discovery domains are named `<organization>-<name>`,
    and both may hold hyphens: Pulumi refuses two resources of one name only when the second
    registers, after the deploy started creating the others (`up --skip-preview`)."""
    del stack_config["organization"], stack_config["connections"]
    stack_config["organizations"] = [
        {"displayName": entry["name"], **entry} for entry in (first, second)
    ]
    with pytest.raises(pulumi.RunError, match="invalid configuration") as raised:
        parse_config(stack_config, "test")
    assert message in str(raised.value)


def test_hyphens_that_name_resources_apart_are_accepted(stack_config: dict[str, Any]) -> None:
    del stack_config["organization"], stack_config["connections"]
    stack_config["organizations"] = [
        {"name": name, "displayName": name, "connections": connections, **rule}
        for name, connections, rule in (
            ("acme", ["corp-saml"], {"emailDomains": ["acme.com", "*.acme.com"]}),
            ("acme-corp", ["okta"], {"emailDomains": ["acme.org"]}),
        )
    ]
    assert [o.name for o in parse_config(stack_config, "test").organizations] == [
        "acme",
        "acme-corp",
    ]
