"""Nothing half-applied: every name the stack looks up, and every limit it keeps to, is decided
before the first resource is registered; each distinct name is looked up once."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pulumi
import pulumi_auth0 as auth0
import pytest

from auth0_org_assignment import OrgAssignment, lookups
from auth0_org_assignment.action_code import FLOW_TIME_MS, OTHER_ACTIONS_MS, planned_actions
from auth0_org_assignment.config import parse_config
from devtools import ROOT
from devtools.localstack.pulumi_mocks import (
    ProviderError,
    TenantMocks,
    build_program,
    build_stack,
)

GET_CONNECTION = "auth0:index/getConnection:getConnection"
GET_ROLE = "auth0:index/getRole:getRole"
KEY = "auth0-org-assignment"
DATABASE = "Username-Password-Authentication"


def organizations(count: int, **rule: Any) -> dict[str, Any]:
    """``count`` organizations that all list the same two connections and two roles."""
    return {
        "auth0:domain": "acme-test.eu.auth0.com",
        "organizations": [
            {
                "name": f"customer-{n:04d}",
                "displayName": f"Customer {n}",
                "connections": ["Username-Password-Authentication", "google-oauth2"],
                "emailDomains": [f"customer{n:04d}.com"],
                "roles": ["member", "admin"],
                **rule,
            }
            for n in range(count)
        ],
    }


def test_each_distinct_name_is_looked_up_once_whatever_the_number_of_organizations() -> None:
    mocks, _ = build_stack(organizations(25))
    looked_up = Counter((token, args["name"]) for token, args in mocks.invokes)
    assert looked_up == {
        (GET_CONNECTION, "Username-Password-Authentication"): 1,
        (GET_CONNECTION, "google-oauth2"): 1,
        (GET_ROLE, "member"): 1,
        (GET_ROLE, "admin"): 1,
    }
    # Every organization still enables both connections, by the ids looked up once.
    enabled = mocks.of_type("auth0:index/organizationConnection:OrganizationConnection")
    assert Counter(r.inputs["connectionId"] for r in enabled) == {
        "con_Username-Password-Authentication": 25,
        "con_google-oauth2": 25,
    }


def test_every_name_is_looked_up_before_anything_is_registered() -> None:
    order: list[str] = []

    class Recording(TenantMocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, Any]:
            order.append("register")
            return super().new_resource(args)

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], Any]:
            order.append("lookup")
            return super().call(args)

    build_stack(organizations(3), mocks=Recording())
    assert order[:4] == ["lookup"] * 4
    assert "lookup" not in order[4:]


def test_a_misspelt_connection_registers_nothing_and_names_the_key_and_value() -> None:
    config = organizations(3)
    config["organizations"][1]["connections"] = ["google-oauth3"]
    config["organizations"][2]["connections"] = [DATABASE, "google-oauth3"]
    mocks = TenantMocks()
    with pytest.raises(pulumi.RunError) as refused:
        build_stack(config, mocks=mocks)
    message = str(refused.value)
    assert f"{KEY}:organizations[1].connections[0] (and {KEY}:organizations[2].connections[1])" in (
        message
    )
    assert "no connection named 'google-oauth3'" in message
    assert "Nothing was created" in message
    assert mocks.registrations == []
    # Looked up once, though two organizations list it.
    assert [a["name"] for t, a in mocks.invokes].count("google-oauth3") == 1


def test_a_name_many_organizations_list_is_refused_in_one_line_naming_a_few_keys() -> None:
    config = organizations(40)
    for organization in config["organizations"]:
        organization["connections"] = ["google-oauth3"]
    with pytest.raises(pulumi.RunError) as refused:
        build_stack(config)
    message = str(refused.value)
    assert message.startswith(
        f"{KEY}:organizations[0].connections[0] (and {KEY}:organizations[1].connections[0], "
        f"{KEY}:organizations[2].connections[0], 37 more): the tenant has no connection named "
        "'google-oauth3'"
    )
    assert f"{KEY}:organizations[3]." not in message


def test_every_unknown_name_is_named_at_once_in_the_single_organization_form(
    stack_config: dict[str, Any],
) -> None:
    stack_config["connections"] = ["Username-Password-Authentication", "no-such-connection"]
    stack_config["organization"]["roles"] = ["member", "no-such-role"]
    mocks = TenantMocks()
    with pytest.raises(pulumi.RunError) as refused:
        build_stack(stack_config, mocks=mocks)
    message = str(refused.value)
    assert f"{KEY}:connections[1]: the tenant has no connection named 'no-such-connection'" in (
        message
    )
    assert f"{KEY}:organization.roles[1]: the tenant has no role named 'no-such-role'" in message
    assert mocks.registrations == []


def test_a_failed_look_up_is_not_called_an_unknown_name(stack_config: dict[str, Any]) -> None:
    class Refusing(TenantMocks):
        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], Any]:
            raise ProviderError("403 Forbidden: Insufficient scope, expected any of: read:roles")

    stack_config["organization"]["roles"] = ["member"]
    mocks = Refusing()
    with pytest.raises(pulumi.RunError) as refused:
        build_stack(stack_config, mocks=mocks)
    message = str(refused.value)
    assert f"{KEY}:organization.roles[0]: could not look up the role 'member'" in message
    assert "Insufficient scope" in message
    assert "no role named" not in message
    assert mocks.registrations == []


def test_the_look_ups_go_through_the_provider_the_component_is_given(
    stack_config: dict[str, Any],
) -> None:
    arguments: Any = {
        "tenant_domain": "acme-test.eu.auth0.com",
        "organization": {
            "name": "acme",
            "display_name": "Acme",
            "allow_any_user_of_connection": True,
            "roles": ["member"],
        },
        "connections": ["google-oauth2"],
    }
    providers: list[str] = []

    class Tracking(TenantMocks):
        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], Any]:
            providers.append(args.provider)
            return super().call(args)

    def body() -> None:
        other = auth0.Provider("other-tenant", domain="acme-test.eu.auth0.com")
        OrgAssignment("org-assignment", arguments, pulumi.ResourceOptions(providers=[other]))

    build_program(body, mocks=Tracking())
    assert len(providers) == 2
    assert all("pulumi:providers:auth0::other-tenant" in p for p in providers), providers


def test_a_stack_over_the_flow_limit_registers_nothing_and_names_the_numbers() -> None:
    # Enough organizations for two Actions, and the largest budget: with the others' routing
    # time, the worst-case login overruns the flow.
    config = organizations(400, applications=[f"app{n:028d}" for n in range(3)])
    actions = len(planned_actions(parse_config(config, "test")))
    assert actions >= 2
    config["action"] = {"timeBudgetMs": FLOW_TIME_MS - OTHER_ACTIONS_MS}
    mocks = TenantMocks()
    with pytest.raises(pulumi.RunError) as refused:
        build_stack(config, mocks=mocks)
    message = str(refused.value)
    assert f"{KEY}:action.timeBudgetMs: {FLOW_TIME_MS - OTHER_ACTIONS_MS} ms" in message
    assert f"over {FLOW_TIME_MS} ms" in message
    assert "set it to at most" in message
    assert mocks.registrations == []


def test_an_organization_too_big_for_an_action_registers_nothing_and_names_the_sizes() -> None:
    config = organizations(1, applications=[f"app{n:061d}" for n in range(2000)])
    mocks = TenantMocks()
    with pytest.raises(pulumi.RunError) as refused:
        build_stack(config, mocks=mocks)
    message = str(refused.value)
    assert "organization 'customer-0000' alone would not fit in one Action" in message
    assert "bytes, over the 92160 bytes" in message
    assert "Auth0 takes at most 102400" in message
    assert mocks.registrations == []


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file a credential-less preview names in ``RECORDED_VARIABLE`` (empty until a test
    writes it), in an environment holding no Auth0 credential, as the preview script leaves it."""
    path = tmp_path / "lookups.json"
    path.write_text("{}")
    monkeypatch.setenv(lookups.RECORDED_VARIABLE, str(path))
    for name in lookups.CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return path


def test_a_preview_given_the_last_deploys_ids_asks_the_tenant_nothing(
    recorded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pull request's preview holds no Auth0 credential: it takes the ids the last deploy
    exported (``lookups``); a name added since shows as looked up at deploy."""
    with monkeypatch.context() as deploy:  # the deploy before it names no such file
        deploy.delenv(lookups.RECORDED_VARIABLE)
        _, deployed = build_stack(organizations(3))
    assert set(deployed["lookups"]["connections"]) == {DATABASE, "google-oauth2"}
    assert set(deployed["lookups"]["roles"]) == {"member", "admin"}
    ids = {
        "connections": {DATABASE: "con_recorded0000001"},
        "roles": deployed["lookups"]["roles"],
    }
    recorded.write_text(json.dumps(ids))
    mocks, _ = build_stack(organizations(3), preview=True)
    assert mocks.invokes == []
    enabled = mocks.of_type("auth0:index/organizationConnection:OrganizationConnection")
    assert Counter(r.inputs["connectionId"] for r in enabled) == {
        "con_recorded0000001": 3,
        "(id of connection google-oauth2, looked up at deploy)": 3,
    }


@pytest.mark.usefixtures("recorded")
def test_the_last_deploys_ids_are_for_previews_only() -> None:
    mocks = TenantMocks()
    with pytest.raises(pulumi.RunError, match="this is a deploy, not a preview") as refused:
        build_stack(organizations(1), mocks=mocks)
    assert lookups.RECORDED_VARIABLE in str(refused.value)
    assert mocks.registrations == []


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "cannot read the last deploy's look-ups"),
        ('{"connections": ["a"]}', "'connections' must map each connection name to its id"),
        ('{"roles": {"member": 7}}', "'roles' must map each role name to its id"),
        ('["con_1"]', "holds a list, not the stack's lookups output"),
    ],
)
def test_last_deploy_ids_that_cannot_be_read_name_the_file(
    recorded: Path, content: str, says: str
) -> None:
    recorded.write_text(content)
    with pytest.raises(pulumi.RunError) as refused:
        build_stack(organizations(1), preview=True)
    assert f"{lookups.RECORDED_VARIABLE}={recorded}" in str(refused.value)
    assert says in str(refused.value)


@pytest.mark.usefixtures("recorded")
def test_a_run_holding_credentials_does_not_take_the_last_deploys_ids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The drift check previews too (with --refresh), and must look names up itself."""
    monkeypatch.setenv("AUTH0_CLIENT_ID", "drift-check")
    mocks = TenantMocks()
    with pytest.raises(pulumi.RunError, match="and so is AUTH0_CLIENT_ID") as refused:
        build_stack(organizations(1), mocks=mocks, preview=True)
    assert "unset one or the other" in str(refused.value)
    assert mocks.registrations == []


def test_the_preview_script_reads_the_output_and_drops_every_credential() -> None:
    script = (ROOT / "scripts" / "pull-request-preview").read_text()
    assert f"pulumi stack output {lookups.OUTPUT} --json" in script
    assert f"{lookups.RECORDED_VARIABLE}=" in script
    unset_line = script.split("\nunset ", 1)[1].split("\n" + "AUTH0_DYNAMIC", 1)[0]
    assert set(lookups.CREDENTIAL_VARIABLES) <= set(unset_line.replace("\\", " ").split())
