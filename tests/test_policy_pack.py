"""The policy pack's rules on resource inputs as the engine passes them, without the engine
(tests/test_policy_pack_lifecycle.py runs them through ``pulumi preview``)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from auth0_org_assignment.action_code import (
    grant_scopes,
    management_calls,
    organization_rule,
    render_action,
)
from auth0_org_assignment.component import COMPONENT_TYPE
from auth0_org_assignment.config import parse_config
from policy_pack import policies
from policy_pack.analyzer import SecretNotingAnalyzer, secret_inputs

AUDIENCE = "https://acme.eu.auth0.com/api/v2/"
OPTIONS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def urn(type_: str, name: str, parents: tuple[str, ...] = ()) -> str:
    return f"urn:pulumi:dev::project::{'$'.join((*parents, type_))}::{name}"


def validate(
    validation: Any,
    type_: str,
    props: dict[str, Any],
    name: str = "resource",
    parents: tuple[str, ...] = (),
    config: dict[str, Any] | None = None,
) -> list[str]:
    """The violations a resource validation reports for these inputs."""
    reported: list[str] = []
    args = ResourceValidationArgs(
        type_,
        unknown_checking_proxy(props),
        urn(type_, name, parents),
        name,
        OPTIONS,
        None,
        config,
    )
    validation(args, lambda message, _urn=None: reported.append(message))
    return reported


def resource(
    type_: str, name: str, props: dict[str, Any], dependencies: dict[str, Any] | None = None
) -> PolicyResource:
    return PolicyResource(
        type_,
        unknown_checking_proxy(props),
        urn(type_, name),
        name,
        OPTIONS,
        None,
        None,
        [],
        dependencies or {},
    )


def validate_stack(
    resources: list[PolicyResource], config: dict[str, Any] | None = None
) -> list[str]:
    reported: list[str] = []
    args = StackValidationArgs(resources, config)

    def report(message: str, _urn: str | None = None) -> None:
        reported.append(message)

    policies.validate_open_organizations(args, report)
    return reported


# --- grants ------------------------------------------------------------------------------------


def test_the_components_default_list_is_every_scope_its_actions_code_calls(
    stack_config: dict[str, Any],
) -> None:
    assert {
        COMPONENT_TYPE: sorted({call.scope for call in management_calls()})
    } == policies.DEFAULT_ALLOWED_SCOPES
    # The most the component's grant ever holds: every call made (api check, roles).
    stack_config["action"] = {"connectionCheck": "api"}
    stack_config["organization"]["roles"] = ["auditor"]
    widest = grant_scopes(parse_config(stack_config, "test"))
    assert list(widest) == policies.DEFAULT_ALLOWED_SCOPES[COMPONENT_TYPE]


def test_a_grant_of_the_component_holding_another_scope_fails_by_default() -> None:
    grant = {
        "audience": AUDIENCE,
        "clientId": UNKNOWN_STRING_VALUE,
        "scopes": ["create:organization_members", "read:users"],
    }
    reported = validate(
        policies.validate_management_grant,
        policies.CLIENT_GRANT,
        grant,
        "org-assignment-management-api-grant",
        parents=(COMPONENT_TYPE,),
    )
    assert reported == [
        f"Scopes outside the allowed list for {COMPONENT_TYPE!r}: read:users (allowed: "
        "create:organization_member_roles, create:organization_members, "
        "read:organization_connections)"
    ]
    grant["scopes"] = ["create:organization_members"]
    assert not validate(
        policies.validate_management_grant,
        policies.CLIENT_GRANT,
        grant,
        parents=(COMPONENT_TYPE,),
    )


def test_a_grants_list_is_found_by_client_then_name_then_component_then_star() -> None:
    grant = {"audience": AUDIENCE, "clientId": "client-1", "scopes": ["read:users"]}
    by = {
        "client-1": {"client-1": ["read:users"], "reporting": [], "*": []},
        "reporting": {"reporting": ["read:users"], "*": []},
        "*": {"*": ["read:users"]},
    }
    for key, allowed in by.items():
        config = {"allowedScopes": allowed}
        assert not validate(
            policies.validate_management_grant,
            policies.CLIENT_GRANT,
            grant,
            "reporting",
            (),
            config,
        ), key
    missing = validate(
        policies.validate_management_grant,
        policies.CLIENT_GRANT,
        grant,
        "reporting",
        config={"allowedScopes": {}},
    )
    assert missing
    assert missing[0].startswith("No allowed scopes are configured for this grant")


def test_grants_on_other_apis_are_not_this_rules_business() -> None:
    grant = {"audience": "https://api.acme.com/", "clientId": "c", "scopes": ["anything"]}
    assert not validate(policies.validate_management_grant, policies.CLIENT_GRANT, grant)


# --- TriggerActions, runtime, dependencies -------------------------------------------------------


def test_trigger_actions_fail_unless_their_trigger_is_allowed() -> None:
    flow = {"trigger": "post-login", "actions": []}
    assert validate(policies.validate_trigger_actions, policies.TRIGGER_ACTIONS, flow)
    config = {"allowedTriggers": ["post-login"]}
    assert not validate(
        policies.validate_trigger_actions, policies.TRIGGER_ACTIONS, flow, config=config
    )


@pytest.mark.parametrize(
    ("runtime", "fails"), [("node22", False), ("node18", True), (None, True), ("node16", True)]
)
def test_an_action_must_declare_a_current_runtime(runtime: str | None, fails: bool) -> None:
    props = {"code": "", **({"runtime": runtime} if runtime else {})}
    assert bool(validate(policies.validate_action_runtime, policies.ACTION, props)) is fails


@pytest.mark.parametrize(
    ("version", "exact"),
    [
        ("4.17.21", True),
        ("1.0.0-beta.2", True),
        ("1.0.0+build.5", True),
        ("^4.17.21", False),
        ("~4.17.21", False),
        ("*", False),
        ("4.x", False),
        ("4.17", False),
        (">=4.0.0", False),
        ("4.17.21 || 5.0.0", False),
        ("latest", False),
        ("", False),
        ("04.1.2", False),
    ],
)
def test_a_dependency_must_name_one_exact_version(version: str, exact: bool) -> None:
    props = {"dependencies": [{"name": "lodash", "version": version}]}
    reported = validate(policies.validate_action_dependencies, policies.ACTION, props)
    assert (not reported) is exact


# --- Action secrets: what the analyzer sees ------------------------------------------------


def secret(value: Any) -> dict[str, Any]:
    return {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": value}


def analyze(properties: dict[str, Any], policy: Any = policies.action_secrets) -> list[str]:
    """Run the pack's analyzer (pulumi_policy's own, noting secrets) on one Action."""
    analyzer = SecretNotingAnalyzer("test", "0.0.1", [policy], EnforcementLevel.MANDATORY)
    request = analyzer_pb2.AnalyzeRequest(
        type=policies.ACTION,
        urn=urn(policies.ACTION, "action"),
        name="action",
        properties=json_format.ParseDict(properties, struct_pb2.Struct()),
    )
    return [diagnostic.message for diagnostic in analyzer.Analyze(request, None).diagnostics]


def test_secrets_the_provider_alone_marked_secret_are_plain_values_in_the_program() -> None:
    # As the engine passes them after the provider's check: every value marked secret by the
    # provider's schema, the list itself secret only when the program gave a secret Output.
    plain = [{"name": "WEBHOOK_TOKEN", "value": secret("hunter2")}]
    (message,) = analyze({"runtime": "node22", "secrets": plain})
    assert "The Action's secrets (WEBHOOK_TOKEN) are plain values" in message
    assert "hunter2" not in message
    assert analyze({"runtime": "node22", "secrets": secret(plain)}) == []
    assert analyze({"runtime": "node22"}) == []


def test_any_secret_an_action_declares_is_kept_in_the_state() -> None:
    """Secret or not, an input is in the state: only an Action that declares no secrets (its
    secrets written outside Pulumi) passes."""
    plain = [{"name": "WEBHOOK_TOKEN", "value": secret("hunter2")}]
    for secrets in (plain, secret(plain)):
        (message,) = analyze(
            {"runtime": "node22", "secrets": secrets}, policies.action_secrets_out_of_state
        )
        assert "The Action's secrets (WEBHOOK_TOKEN) are inputs of the program" in message
        assert "hunter2" not in message
    assert analyze({"runtime": "node22"}, policies.action_secrets_out_of_state) == []
    assert analyze({"runtime": "node22", "secrets": []}, policies.action_secrets_out_of_state) == []


def test_secret_inputs_are_known_only_while_the_analyzer_validates() -> None:
    with pytest.raises(RuntimeError, match="only while the pack's analyzer validates"):
        secret_inputs()


# --- organizations open to anyone --------------------------------------------------------------


def test_the_rendered_actions_rules_are_read_back_as_rendered(
    stack_config: dict[str, Any],
) -> None:
    config = parse_config(stack_config, "test")
    ids = {"acme": "org_0123456789abcdef"}
    rendered = render_action(config, organization_ids=ids)
    (expected,) = (organization_rule(o, ids, {}) for o in config.organizations)
    # The Action's code leaves the organization's name out (configuration.js); its id says it.
    del expected["name"]
    assert policies.rendered_organizations(rendered.code) == [expected]
    assert policies.rendered_organizations("exports.onExecutePostLogin = async () => {};") is None


def organization_connection(
    connection_id: str, dependencies: dict[str, Any] | None = None, **props: Any
) -> PolicyResource:
    return resource(
        policies.ORGANIZATION_CONNECTION,
        "enabled",
        {"connectionId": connection_id, "assignMembershipOnLogin": True, **props},
        dependencies,
    )


def connection(name: str, strategy: str, **options: Any) -> PolicyResource:
    props = {"id": f"con_{name}", "name": name, "strategy": strategy, "options": options}
    return resource(policies.CONNECTION, name, props)


CLOSED_ISSUERS = {
    "closedIssuers": [
        "https://login.acme.example/",
        "https://ACME.okta.com",
        "https://sso.acme.example/saml/metadata",
    ]
}


@pytest.mark.parametrize(
    ("declared", "open_"),
    [
        (connection("db", "auth0"), True),
        (connection("db", "auth0", disableSignup=True), False),
        (connection("db", "email", disableSignup=False), True),
        (connection("db", "google-oauth2"), True),
        (connection("db", "adfs"), False),
        (connection("db", "google-apps", tenantDomain="acme.example"), False),
        # Azure AD: one directory, or (the common endpoint) every Microsoft Entra directory.
        (connection("db", "waad", tenantDomain="acme.example"), False),
        (connection("db", "waad", waadCommonEndpoint=False), False),
        (connection("db", "waad", waadCommonEndpoint=True), True),
        # OIDC, Okta, SAML: closed only when the configuration names their issuer closed.
        (connection("db", "oidc", issuer="https://login.acme.example"), False),
        (connection("db", "oidc", issuer="https://accounts.anyone.example"), True),
        (connection("db", "oidc"), True),
        (connection("db", "okta", domain="acme.okta.com"), False),
        (connection("db", "okta", issuer="https://acme.okta.com/"), False),
        (connection("db", "okta", domain="dev-123.okta.com"), True),
        (connection("db", "okta"), True),
        (connection("db", "samlp", metadataUrl="https://sso.acme.example/saml/metadata"), False),
        (connection("db", "samlp", signInEndpoint="https://sso.anyone.example/saml"), True),
        (connection("db", "samlp"), True),
    ],
)
def test_auto_membership_is_flagged_on_a_declared_connection_open_to_signups(
    declared: PolicyResource, open_: bool
) -> None:
    enabled = organization_connection("con_db")
    assert bool(validate_stack([declared, enabled], CLOSED_ISSUERS)) is open_
    # Matched through the input's dependency when its id is not known yet.
    depending = organization_connection(UNKNOWN_STRING_VALUE, {"connectionId": [declared]})
    assert bool(validate_stack([declared, depending], CLOSED_ISSUERS)) is open_


def test_an_open_directory_is_named_with_the_key_that_closes_it() -> None:
    enabled = organization_connection("con_db")
    (azure,) = validate_stack([connection("db", "waad", waadCommonEndpoint=True), enabled])
    assert "multi-tenant Azure AD connection (waadCommonEndpoint: true)" in azure
    (oidc,) = validate_stack([connection("db", "oidc", issuer="https://idp.example"), enabled])
    assert "its issuer https://idp.example is not one closedIssuers names" in oidc
    closed = {"closedIssuers": ["https://IDP.example/"]}
    assert not validate_stack(
        [connection("db", "oidc", issuer="https://idp.example"), enabled], closed
    )


def test_auto_membership_on_an_undeclared_connection_is_flagged_unless_listed_closed() -> None:
    enabled = organization_connection("con_looked_up")
    (message,) = validate_stack([enabled])
    assert "this program does not declare it" in message
    assert not validate_stack([enabled], {"closedConnections": ["con_looked_up"]})
    # Deployed: the provider reports the strategy, which tells an enterprise connection; of
    # those, an Azure AD, OIDC, Okta or SAML one is closed only as its options show, which a
    # looked-up connection's are not.
    assert not validate_stack([organization_connection("con_looked_up", strategy="adfs")])
    for strategy in ("waad", "oidc", "okta", "samlp"):
        looked_up = organization_connection("con_looked_up", strategy=strategy)
        assert validate_stack([looked_up]), strategy
        assert not validate_stack([looked_up], {"closedConnections": ["con_looked_up"]})


def test_organization_signup_on_a_connection_is_flagged_whatever_the_connection() -> None:
    enabled = organization_connection("con_db", isSignupEnabled=True)
    (message,) = validate_stack([connection("db", "auth0", disableSignup=True), enabled])
    assert "organization signup is enabled on it" in message


def test_without_auto_membership_nothing_is_flagged() -> None:
    enabled = organization_connection("con_db", assignMembershipOnLogin=False)
    assert not validate_stack([connection("db", "auth0"), enabled])


def test_the_actions_any_user_rule_is_flagged_on_an_open_connection(
    stack_config: dict[str, Any],
) -> None:
    # tests/conftest.py's configuration admits any user of its two connections.
    code = render_action(parse_config(stack_config, "test")).code
    action = resource(policies.ACTION, "post-login", {"code": code})
    reported = validate_stack([action], {"closedConnections": ["Username-Password-Authentication"]})
    (message,) = reported
    assert "organization (id of acme) admits any user of connection google-oauth2" in message
    del stack_config["organization"]["allowAnyUserOfConnection"]
    stack_config["organization"]["emailDomains"] = ["acme.com"]
    code = render_action(parse_config(stack_config, "test")).code
    assert not validate_stack([resource(policies.ACTION, "post-login", {"code": code})])


def trusting_action(stack_config: dict[str, Any], limits: dict[str, list[str]]) -> PolicyResource:
    """The component's Action for an organization of acme.com that trusts google-oauth2."""
    organization = stack_config["organization"]
    del organization["allowAnyUserOfConnection"]
    organization["emailDomains"] = ["acme.com"]
    organization["trustEmailVerifiedFrom"] = ["google-oauth2"]
    organization["trustedConnectionDomains"] = limits
    code = render_action(parse_config(stack_config, "test")).code
    return resource(policies.ACTION, "post-login", {"code": code})


def test_trusting_an_open_connection_for_every_domain_is_flagged_naming_the_keys(
    stack_config: dict[str, Any],
) -> None:
    (message,) = validate_stack([trusting_action(stack_config, {})])
    assert (
        "organization (id of acme) trusts the email_verified of connection google-oauth2" in message
    )
    assert "(trustEmailVerifiedFrom)" in message
    assert "trustedConnectionDomains.google-oauth2" in message
    assert "closedConnections" in message


def test_a_trusted_connection_limited_to_its_domains_or_known_closed_is_not_flagged(
    stack_config: dict[str, Any],
) -> None:
    limited = copy.deepcopy(stack_config)
    assert not validate_stack([trusting_action(limited, {"google-oauth2": ["acme.com"]})])
    unlimited = trusting_action(stack_config, {})
    assert not validate_stack([unlimited], {"closedConnections": ["google-oauth2"]})


def test_trusting_a_declared_multi_tenant_directory_is_flagged(
    stack_config: dict[str, Any],
) -> None:
    stack_config["connections"] = ["Username-Password-Authentication", "acme-azure"]
    organization = stack_config["organization"]
    del organization["allowAnyUserOfConnection"]
    organization["emailDomains"] = ["acme.com"]
    organization["trustEmailVerifiedFrom"] = ["acme-azure"]
    code = render_action(parse_config(stack_config, "test")).code
    action = resource(policies.ACTION, "post-login", {"code": code})
    single = connection("acme-azure", "waad", tenantDomain="acme.example")
    assert not validate_stack([single, action])
    multi = connection("acme-azure", "waad", waadCommonEndpoint=True)
    (message,) = validate_stack([multi, action])
    assert "trusts the email_verified of connection acme-azure" in message
    assert "multi-tenant Azure AD" in message


def test_an_action_whose_rules_this_version_cannot_read_is_reported_not_passed_over() -> None:
    """An Action rendered by the component before its block was packed (an organization an
    object, with its name): its anyUser rule cannot be read, which is said."""
    block: dict[str, Any] = {
        "organizations": [
            {"id": "org_1", "name": "acme", "connections": ["github"], "roles": [], "anyUser": True}
        ],
        "routing": None,
        "settings": {},
    }
    code = f"const CONFIGURATION = {json.dumps(block)};\n// end of configuration\n"
    (message,) = validate_stack([resource(policies.ACTION, "post-login", {"code": code})])
    assert "post-login: its code holds an organizations block this policy pack cannot read" in (
        message
    )
    # Another program's Action, with no such block, is not this rule's business.
    other = resource(policies.ACTION, "other", {"code": "exports.onExecutePostLogin = () => {};"})
    assert not validate_stack([other])
