"""The component declares every resource, wired together, with no secret in plain text."""

from __future__ import annotations

import base64
from typing import Any

import pulumi
import pytest

from auth0_org_assignment.action_code import configuration_of, render_action
from auth0_org_assignment.config import parse_config
from devtools.localstack.pulumi_mocks import (
    DYNAMIC,
    MOCK_ACTION_ID,
    MOCK_CLIENT_ID,
    MOCK_ORGANIZATION_ID,
    Registration,
    TenantMocks,
    build_stack,
    is_secret,
)

CLIENT = "auth0:index/client:Client"
CREDENTIALS = "auth0:index/clientCredentials:ClientCredentials"
GRANT = "auth0:index/clientGrant:ClientGrant"
ORGANIZATION = "auth0:index/organization:Organization"
ORGANIZATION_CONNECTION = "auth0:index/organizationConnection:OrganizationConnection"
DISCOVERY_DOMAIN = "auth0:index/organizationDiscoveryDomain:OrganizationDiscoveryDomain"
ACTION = "auth0:index/action:Action"
TRIGGER_ACTION = "auth0:index/triggerAction:TriggerAction"


def test_two_m2m_clients_and_nothing_that_reads_their_secrets(
    stack_config: dict[str, Any],
) -> None:
    mocks, _ = build_stack(stack_config)
    clients = {r.name: r.inputs for r in mocks.of_type(CLIENT)}
    assert sorted(clients) == ["org-assignment-m2m-client", "org-assignment-m2m-client-b"]
    for client in clients.values():
        assert client["appType"] == "non_interactive"
        assert client["grantTypes"] == ["client_credentials"]
        assert client["description"].startswith("Managed by Pulumi stack auth0-org-assignment/test")
        assert len(client["description"]) <= 140  # Auth0's limit
    # Slot a keeps the one application's name, so a stack deployed before keeps it.
    assert clients["org-assignment-m2m-client"]["name"] == "assign-to-acme (Management API)"
    assert clients["org-assignment-m2m-client-b"]["name"] == "assign-to-acme (Management API, B)"
    # ClientCredentials would read the secret back into state.
    assert not mocks.of_type(CREDENTIALS)


def test_each_client_has_a_grant_on_the_tenants_management_api(
    stack_config: dict[str, Any],
) -> None:
    mocks, _ = build_stack(stack_config)
    grants = mocks.of_type(GRANT)
    assert sorted(g.inputs["clientId"] for g in grants) == [MOCK_CLIENT_ID, MOCK_CLIENT_ID + "-b"]
    for grant in grants:
        assert grant.inputs["audience"] == "https://acme-test.eu.auth0.com/api/v2/"


@pytest.mark.parametrize(
    ("connection_check", "expected"),
    [
        ("static", ["create:organization_members"]),
        ("api", ["create:organization_members", "read:organization_connections"]),
    ],
)
def test_grant_scopes_are_exactly_what_the_deployed_code_calls(
    stack_config: dict[str, Any], connection_check: str, expected: list[str]
) -> None:
    stack_config["action"] = {"connectionCheck": connection_check}
    mocks, _ = build_stack(stack_config)
    assert [g.inputs["scopes"] for g in mocks.of_type(GRANT)] == [expected, expected]
    # The deployed code reads the switch that makes it call the connection's endpoint.
    deployed_code = mocks.one(ACTION).inputs["code"]
    assert f'"connectionCheck": "{connection_check}"' in deployed_code


def test_organization_with_branding_and_metadata(stack_config: dict[str, Any]) -> None:
    mocks, _ = build_stack(stack_config)
    organization = mocks.one(ORGANIZATION).inputs
    assert organization["name"] == "acme"
    assert organization["displayName"] == "Acme Inc."
    assert organization["branding"] == {
        "logoUrl": "https://static.example.com/acme.png",
        "colors": {"primary": "#0059D6", "page_background": "#FFFFFF"},
    }
    assert organization["metadata"] == {"tier": "gold"}


def test_branding_the_tenant_holds_but_the_configuration_does_not_declare_is_refused(
    stack_config: dict[str, Any],
) -> None:
    del stack_config["organization"]["branding"]
    held = {"logoUrl": "https://static.example.com/old.png"}
    with pytest.raises(pulumi.RunError) as refused:
        build_stack(stack_config, mocks=TenantMocks(branding_in_tenant=held))
    assert "organization 'acme' has branding in the tenant (logo_url)" in str(refused.value)
    assert "pulumi up --refresh" in str(refused.value)
    # Nothing in the tenant: nothing to refuse.
    build_stack(stack_config, mocks=TenantMocks(branding_in_tenant={}))


def test_organization_without_branding(stack_config: dict[str, Any]) -> None:
    del stack_config["organization"]["branding"]
    del stack_config["organization"]["metadata"]
    mocks, _ = build_stack(stack_config)
    organization = mocks.one(ORGANIZATION).inputs
    assert "branding" not in organization
    # Sent empty, not left out: that is what clears entries removed from the config.
    assert organization["metadata"] == {}


def test_each_configured_connection_is_looked_up_and_enabled(
    stack_config: dict[str, Any],
) -> None:
    stack_config["assignMembershipOnLogin"] = True
    mocks, _ = build_stack(stack_config)
    lookups = [args for token, args in mocks.invokes if "getConnection" in token]
    assert sorted(args["name"] for args in lookups) == sorted(stack_config["connections"])
    for args in lookups:  # the connection's client list is not needed
        assert args["skipEnabledClients"] is True
    enabled = mocks.of_type(ORGANIZATION_CONNECTION)
    assert sorted(r.inputs["connectionId"] for r in enabled) == [
        "con_Username-Password-Authentication",
        "con_google-oauth2",
    ]
    for registration in enabled:
        assert registration.inputs["organizationId"] == MOCK_ORGANIZATION_ID
        assert registration.inputs["assignMembershipOnLogin"] is True


def test_assign_membership_on_login_defaults_to_false(stack_config: dict[str, Any]) -> None:
    mocks, _ = build_stack(stack_config)
    assert all(
        r.inputs["assignMembershipOnLogin"] is False for r in mocks.of_type(ORGANIZATION_CONNECTION)
    )


def test_a_connection_the_tenant_lacks_fails_naming_it(stack_config: dict[str, Any]) -> None:
    stack_config["connections"] = ["Username-Password-Authentication", "no-such-connection"]
    with pytest.raises(Exception, match="no-such-connection"):
        build_stack(stack_config)


def test_a_tenant_answering_connection_options_fails_naming_the_toggle_to_turn_off(
    stack_config: dict[str, Any],
) -> None:
    secret = "google-client-secret-never-shown"
    mocks = TenantMocks(connection_options={"clientId": "google", "clientSecret": secret})
    with pytest.raises(Exception, match="Allow Connections Management without Options Scopes") as (
        refused
    ):
        build_stack(stack_config, mocks=mocks)
    assert "Tenant Settings > Advanced > Migrations" in str(refused.value)
    assert "read:connections_options" in str(refused.value)
    assert secret not in str(refused.value)
    # A tenant that answers no options (after the migration) passes: the provider then reads
    # options whose every value is empty but for its own default.
    build_stack(stack_config, mocks=TenantMocks(connection_options=None))
    empty = {
        "clientSecret": "",
        "scopes": [],
        "mfas": [{}],
        "setUserRootAttributes": "on_each_login",
    }
    build_stack(stack_config, mocks=TenantMocks(connection_options=empty))


def test_action_is_a_deployed_node22_post_login_action_holding_the_organization_id(
    stack_config: dict[str, Any],
) -> None:
    mocks, _ = build_stack(stack_config)
    action = mocks.one(ACTION).inputs
    rendered = render_action(
        parse_config(stack_config, "test"), organization_ids={"acme": MOCK_ORGANIZATION_ID}
    )
    assert action["name"] == "assign-to-acme"
    assert action["runtime"] == "node22"
    assert action["deploy"] is True
    assert action["supportedTriggers"] == {"id": "post-login", "version": "v3"}
    assert action["dependencies"] == [
        {"name": d.name, "version": d.version} for d in rendered.dependencies
    ]
    assert action["code"] == rendered.code
    assert rule_ids(action["code"]) == [MOCK_ORGANIZATION_ID]


def rule_ids(code: str) -> list[str]:
    """The ids of the organizations whose rules an Action's code holds."""
    configuration = configuration_of(code)
    assert configuration is not None
    return [rule["id"] for rule in configuration["organizations"]]


def credential_of(mocks: TenantMocks) -> Registration:
    """The ``ActionCredential`` (DomainProof is a dynamic resource too)."""
    (credential,) = [r for r in mocks.of_type(DYNAMIC) if r.name.endswith("-action-credential")]
    return credential


def test_the_action_declares_no_secret_and_the_credential_writes_them(
    stack_config: dict[str, Any],
) -> None:
    mocks, _ = build_stack(stack_config)
    # Declared empty, and never sent again (ignore_changes): whatever is declared is in state.
    assert mocks.one(ACTION).inputs["secrets"] == []
    credential = credential_of(mocks).inputs
    assert credential["tenant_domain"] == "acme-test.eu.auth0.com"
    assert credential["action_ids"] == [MOCK_ACTION_ID]
    assert credential["slot_clients"] == {"a": MOCK_CLIENT_ID, "b": MOCK_CLIENT_ID + "-b"}
    assert credential["rotation"] == 0
    assert credential["grace_ms"] == 3000
    assert credential["in_tenant"] is True


def test_credential_rotation_is_the_credentials_rotation_counter(
    stack_config: dict[str, Any],
) -> None:
    stack_config["action"] = {"credentialRotation": 4}
    mocks, _ = build_stack(stack_config)
    assert credential_of(mocks).inputs["rotation"] == 4


def test_no_input_of_any_resource_is_a_secret(stack_config: dict[str, Any]) -> None:
    mocks, _ = build_stack(stack_config)
    for registration in mocks.registrations:
        for key, value in registration.inputs.items():
            if key != "__provider":
                assert not is_secret(value), (registration.name, key)
    # The SDK marks a dynamic provider secret, since it could capture anything; this one is
    # pickled by reference to its class, and holds nothing else.
    provider = credential_of(mocks).inputs["__provider"]
    pickled = base64.b64decode(provider["value"] if is_secret(provider) else provider)
    assert b"auth0_org_assignment.action_credential" in pickled
    assert b"ActionCredentialProvider" in pickled
    assert len(pickled) < 120, pickled


def test_binding_adds_the_action_to_post_login_after_grant_and_connections(
    stack_config: dict[str, Any],
) -> None:
    mocks, _ = build_stack(stack_config)
    binding = mocks.one(TRIGGER_ACTION).inputs
    assert binding == {
        "trigger": "post-login",
        "actionId": MOCK_ACTION_ID,
        "displayName": "assign-to-acme",
    }
    # Registered last: the Login flow never runs an Action whose grant or connections are missing.
    assert mocks.registrations[-1].type == TRIGGER_ACTION
    assert not mocks.of_type("auth0:index/triggerActions:TriggerActions")


def test_stack_outputs(stack_config: dict[str, Any]) -> None:
    _, outputs = build_stack(stack_config)
    assert outputs == {
        "organization_id": MOCK_ORGANIZATION_ID,
        "organization_ids": {"acme": MOCK_ORGANIZATION_ID},
        "m2m_client_id": MOCK_CLIENT_ID + "-b",
        "action_id": MOCK_ACTION_ID,
        "action_name": "assign-to-acme",
        "lookups": {
            "connections": {name: f"con_{name}" for name in stack_config["connections"]},
            "roles": {},
        },
    }


def test_children_are_parented_and_named_after_the_component(
    stack_config: dict[str, Any],
) -> None:
    mocks, _ = build_stack(stack_config)
    names = [r.name for r in mocks.registrations if r.type.startswith("auth0:index/")]
    assert all(name.startswith("org-assignment-") for name in names), names
    assert mocks.registrations[0].type == "auth0-org-assignment:index:OrgAssignment"


def test_building_twice_gives_identical_inputs(stack_config: dict[str, Any]) -> None:
    first, _ = build_stack(stack_config)
    second, _ = build_stack(stack_config)
    # Registration order follows the engine's scheduling; the declared inputs must not.
    assert len(first.registrations) == len(second.registrations) == 11
    assert {(r.type, r.name): r.inputs for r in first.registrations} == {
        (r.type, r.name): r.inputs for r in second.registrations
    }


def many(count: int, **rule: Any) -> dict[str, Any]:
    return {
        "auth0:domain": "acme-test.eu.auth0.com",
        # Several Actions share the login flow's 20 s.
        "action": {"timeBudgetMs": 2000},
        "organizations": [
            {
                "name": f"customer-{n:04d}",
                "displayName": f"Customer {n}",
                "connections": ["Username-Password-Authentication"],
                "emailDomains": [f"customer{n:04d}.com", f"*.customer{n:04d}.com", f"c{n}.io"],
                **rule,
            }
            for n in range(count)
        ],
    }


def test_each_organization_gets_its_own_resources_named_by_its_name() -> None:
    mocks, outputs = build_stack(many(3))
    organizations = sorted(mocks.of_type(ORGANIZATION), key=lambda o: o.name)
    assert [o.name for o in organizations] == [
        "org-assignment-organization-customer-0000",
        "org-assignment-organization-customer-0001",
        "org-assignment-organization-customer-0002",
    ]
    assert len(mocks.of_type(ORGANIZATION_CONNECTION)) == 3
    (action,) = mocks.of_type(ACTION)
    assert action.inputs["name"] == "assign-to-organizations"
    assert sorted(rule_ids(action.inputs["code"])) == [
        f"org_{organization.inputs['name'][:16]:x<16}" for organization in organizations
    ]
    assert set(outputs["organization_ids"]) == {"customer-0000", "customer-0001", "customer-0002"}


def test_an_organization_put_first_takes_over_no_other_organizations_resources() -> None:
    """A name by place made the one put first take over the first one's organization (renamed
    in place, its members and id kept): each resource is named by its organization's name."""

    def names(config: dict[str, Any]) -> dict[str, set[str]]:
        mocks, _ = build_stack(config)
        named: dict[str, set[str]] = {}
        # What each resource is of: an organization's name, a discovery domain's domain.
        for kind, key in ((ORGANIZATION, "name"), (DISCOVERY_DOMAIN, "domain")):
            for resource in mocks.of_type(kind):
                named.setdefault(kind, set()).add(f"{resource.inputs[key]}: {resource.name}")
        return named

    before = many(3)
    newcomer = {**before["organizations"][0], "name": "newcomer", "emailDomains": ["new.io"]}
    after = {**before, "organizations": [newcomer, *reversed(before["organizations"])]}
    kept, now = names(before), names(after)
    for kind, named in kept.items():
        assert named <= now[kind], (kind, sorted(named - now[kind]))


@pytest.mark.slow
def test_a_thousand_organizations_sharded_across_actions_named_by_their_number() -> None:
    mocks, _ = build_stack(many(1000))
    actions = mocks.of_type(ACTION)
    bindings = mocks.of_type(TRIGGER_ACTION)
    count = len(actions)
    assert count == len(bindings) > 1
    # The number of Actions is in every name: a new split creates new Actions, never rewrites
    # the old ones in place (docs/scale.md).
    # (Each Action is registered once its own code is known: in no set order.)
    by_name = {a.name: a for a in actions}
    assert set(by_name) == {
        f"org-assignment-post-login-action-{n}-of-{count}" for n in range(1, count + 1)
    }
    assert [b.name for b in bindings][-1] == f"org-assignment-post-login-binding-{count}-of-{count}"
    first = by_name[f"org-assignment-post-login-action-1-of-{count}"]
    assert first.inputs["name"] == f"assign-to-organizations-1-of-{count}"
    for action in actions:
        assert len(action.inputs["code"].encode()) < 100 * 1024
    ids = [i for action in actions for i in rule_ids(action.inputs["code"])]
    # Each organization has a line in the Action of each registered domain it lists.
    assert 1000 <= len(ids) <= 2000
    for n in (0, 417, 999):
        assert f"org_customer-{n:04d}xxx" in ids


def test_roles_are_looked_up_by_name_and_granted_what_they_need(
    stack_config: dict[str, Any],
) -> None:
    stack_config["organization"]["roles"] = ["member"]
    mocks, _ = build_stack(stack_config)
    lookups = [args for token, args in mocks.invokes if token == "auth0:index/getRole:getRole"]
    assert [(a["name"], a["skipPermissions"], a["skipUsers"]) for a in lookups] == [
        ("member", True, True)
    ]
    (rule,) = configuration_of(mocks.one(ACTION).inputs["code"])["organizations"]  # type: ignore[index]
    assert rule["roles"] == ["rol_memberxxxxxxxxxx"]
    for grant in mocks.of_type(GRANT):
        assert "create:organization_member_roles" in grant.inputs["scopes"]


def test_an_unknown_role_fails_the_deployment_naming_it(stack_config: dict[str, Any]) -> None:
    stack_config["organization"]["roles"] = ["no-such-role"]
    with pytest.raises(Exception, match="no-such-role"):
        build_stack(stack_config)
