"""auth0-org-assignment backfill: the case table through its decision, and on the local tenant
10,000 users, a rate limit, an interruption, a new organization and malformed records."""

from __future__ import annotations

import json
import math
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from auth0_org_assignment.action_code import marker_key, render_action
from auth0_org_assignment.commands import backfill, deployed_rules
from auth0_org_assignment.commands.management_client import MEMBERS_PER_REQUEST, parse_export
from auth0_org_assignment.config import load_stack_file, parse_config
from auth0_org_assignment.desired_state import action_name
from devtools import ROOT
from devtools.dns import LoopbackDns
from devtools.localstack.action_runner import action_secrets, deploy_rules
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.testing import DATABASE, Fault, LocalTenant
from tests.support.commands import command_line, operator_environment, run, run_command
from tests.support.membership_cases import (
    joins,
    load_cases,
    stack_config,
    stack_key,
    user_record,
)

CASES = load_cases()


def prepare(
    tmp_path: Path,
    tenant: LocalTenant,
    dns: LoopbackDns,
    status: str = "verified",
    published: bool = True,
    deployed: bool = True,
    connection_check: str = "static",
) -> dict[str, Any]:
    """The stack file, its organization with example.com declared at ``status`` (verified: as
    the stack's DomainProof leaves a domain whose record is in DNS) and its record on ``dns``
    when ``published``, in its deployed Action when ``deployed`` (a deploy proved it), and the
    backfill's own credentials."""
    database = tenant.ensure_connection(DATABASE)
    organization = tenant.create_organization("acme-bf", connection_ids=[database["id"]])
    declared = tenant.declare_domain(organization["id"], "example.com", status)
    if published:
        dns.publish(declared["verification_host"], declared["verification_txt"])
    (tmp_path / "Pulumi.bf.yaml").write_text(
        "config:\n"
        f"  auth0:domain: {tenant.domain}\n"
        "  auth0-org-assignment:domainKind: local\n"
        f"  auth0-org-assignment:dnsResolvers: [{dns.address}]\n"
        "  auth0-org-assignment:organization:\n"
        "    name: acme-bf\n"
        "    displayName: Acme\n"
        "    emailDomains: [example.com]\n"
        f"  auth0-org-assignment:connections: [{DATABASE}]\n"
        f"  auth0-org-assignment:action: {{connectionCheck: {connection_check}}}\n"
    )
    # Its Action deployed and bound, as pulumi up leaves it: the rule the backfill applies,
    # with the secrets the Action's calls need.
    config = load_stack_file("bf", tmp_path)
    deploy_rules(
        tenant,
        config,
        {"acme-bf": organization["id"]},
        {"acme-bf": ["example.com"] if deployed else []},
        secrets=action_secrets(tenant, tenant.m2m_client("action", render_action(config).scopes)),
    )
    return {
        "tenant": tenant,
        "organization_id": organization["id"],
        "project": tmp_path,
        "environment": operator_environment(tenant, "backfill"),
    }


@pytest.fixture
def dns() -> Iterator[LoopbackDns]:
    with LoopbackDns.start() as server:
        yield server


@pytest.fixture
def setup(tmp_path: Path, dns: LoopbackDns) -> Iterator[dict[str, Any]]:
    tenant = LocalTenant.start(tmp_path / "tenant.json")
    yield prepare(tmp_path, tenant, dns)
    tenant.stop()


def user_id(n: int) -> str:
    return f"auth0|{n:024x}"


def add_users(tenant: LocalTenant, count: int) -> set[str]:
    """``count`` users (``user_id(0)`` on): 8 in 10 with a verified example.com address (the
    ones who should join), 1 unverified, 1 elsewhere. Returns the ids of those who should join."""
    should_join = set()
    records = []
    for n in range(count):
        kind = n % 10
        records.append(
            {
                "user_id": user_id(n),
                "email": f"user{n}@{'other.org' if kind == 9 else 'example.com'}",
                "email_verified": kind != 8,
                "app_metadata": {},
                "identities": [
                    {"connection": DATABASE, "provider": "auth0", "user_id": user_id(n)[6:]}
                ],
            }
        )
        if kind < 8:
            should_join.add(user_id(n))
    tenant.import_users(records)
    return should_join


def command(setup: dict[str, Any], *args: str) -> list[str]:
    return command_line("backfill", "bf", setup["project"], *args)


def backfill_run(setup: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    """The backfill command on ``setup``'s stack with ``args``, its output captured."""
    return run(command(setup, *args), setup["environment"])


@pytest.mark.slow
def test_a_dry_run_writes_nothing(setup: dict[str, Any]) -> None:
    should_join = add_users(setup["tenant"], 30)
    result = backfill_run(setup, "--dry-run", "--rate", "100")
    assert result.returncode == 0, result.stderr
    assert f"{len(should_join)} users to add" in result.stdout
    assert result.stdout.count("would add ") == len(should_join)
    assert setup["tenant"].members(setup["organization_id"]) == []


def test_the_backfill_applies_the_rule_deployed_not_the_checked_out_one(
    setup: dict[str, Any],
) -> None:
    """A checkout that differs from what is deployed (a branch, a stale clone) admits nobody the
    deployed Action would not: here it admits any user of the connection, the Action only
    verified example.com addresses."""
    should_join = add_users(setup["tenant"], 30)
    stack_file = setup["project"] / "Pulumi.bf.yaml"
    stack_file.write_text(
        stack_file.read_text().replace(
            "    emailDomains: [example.com]\n", "    allowAnyUserOfConnection: true\n"
        )
    )
    result = backfill_run(setup, "--dry-run", "--rate", "100")
    assert result.returncode == 0, result.stderr
    would = {line.split()[2] for line in result.stdout.splitlines() if line.startswith("would add")}
    assert would == should_join


def test_roles_and_connections_are_the_deployed_rules_not_the_checkouts(
    setup: dict[str, Any],
) -> None:
    """Found by review: the deployed Action admits legacy-db users too and gives no role; a
    branch's stack file drops legacy-db and gives admin. The backfill exports legacy-db's
    users, and gives no role, as a login would."""
    tenant, project, organization_id = setup["tenant"], setup["project"], setup["organization_id"]
    tenant.create_role("admin")
    legacy = tenant.ensure_connection("legacy-db")
    tenant.call(
        "POST", f"/api/v2/organizations/{organization_id}/enabled_connections",
        {"connection_id": legacy["id"], "assign_membership_on_login": False},
    )  # fmt: skip
    stack_file = project / "Pulumi.bf.yaml"
    checkout = stack_file.read_text()
    deployed = checkout.replace(f"[{DATABASE}]", f"[{DATABASE}, legacy-db]")
    stack_file.write_text(deployed)
    deploy_rules(tenant, load_stack_file("bf", project), {"acme-bf": organization_id})
    stack_file.write_text(
        checkout.replace("    emailDomains: [example.com]\n", "    emailDomains: [example.com]\n"
                         "    roles: [admin]\n")
    )  # fmt: skip
    legacy_user = "auth0|" + "f" * 24
    tenant.import_users(
        [
            {
                "user_id": legacy_user,
                "email": "legacy@example.com",
                "email_verified": True,
                "app_metadata": {},
                "identities": [{"connection": "legacy-db", "provider": "auth0", "user_id": "f"}],
            }
        ]
    )
    result = backfill_run(setup, "--rate", "100")
    assert result.returncode == 0, result.stderr
    assert tenant.members(organization_id) == [legacy_user]
    assert tenant.member_roles(organization_id, legacy_user) == []


def test_an_organization_no_deployed_action_holds_gets_nobody(setup: dict[str, Any]) -> None:
    add_users(setup["tenant"], 10)
    setup["tenant"].bind_actions()
    result = backfill_run(setup, "--rate", "100")
    assert result.returncode == deployed_rules.NOT_HELD, result.stderr
    config = load_stack_file("bf", setup["project"])
    assert (
        "warning: acme-bf: no Action bound to the login flow holds its rule (this stack's are "
        f"named {action_name(config, 0)!r}, or that with a shard's suffix, and mark with "
        f"{marker_key(config, '')!r}): deploy it with pulumi up first"
    ) in result.stderr
    assert result.stderr.count("nobody is added to it") == 1
    assert "0 users to add" in result.stdout
    assert setup["tenant"].members(setup["organization_id"]) == []


@pytest.mark.slow
def test_ten_thousand_users_through_a_rate_limit_and_an_interruption(
    setup: dict[str, Any],
) -> None:
    tenant = setup["tenant"]
    count = 10_000
    should_join = add_users(tenant, count)
    tenant.management_rate_limit(400)
    tenant.inject_fault(
        RouteName.ORGANIZATIONS_MEMBERS_CREATE, Fault(status=429, retry_after="1", times=3)
    )
    # Interrupted once past 2,000 users...
    first = subprocess.Popen(
        command(setup, "--rate", "380"),
        cwd=ROOT,
        env=setup["environment"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert first.stdout
    for line in first.stdout:
        if "users added" in line and int(line.split("/")[0]) >= 2000:
            first.send_signal(signal.SIGKILL)
            break
    first.wait()
    members = tenant.members(setup["organization_id"])
    assert 2000 <= len(members) < len(should_join)
    # ...then run again: it goes on where it stopped.
    second = backfill_run(setup, "--rate", "380")
    assert second.returncode == 0, second.stderr
    assert "marked already" in second.stdout.splitlines()[0]
    members = tenant.members(setup["organization_id"])
    assert sorted(members) == sorted(should_join)  # nobody missed, nobody extra
    assert len(members) == len(set(members))
    for n in range(count):  # every user in the tenant
        marked = (
            tenant.user(user_id(n))
            .get("app_metadata", {})
            .get(f"org_assignment:{setup['organization_id']}")
        )
        assert (marked is not None) == (user_id(n) in should_join), user_id(n)
        if marked is not None:
            # The rule's own record: how, when and by which clause they came in.
            assert (marked["via"], marked["by"]) == ("backfill", "emailDomains: example.com")
            assert datetime.fromisoformat(marked["at"]) <= datetime.now(UTC)
    calls = tenant.calls()
    # Each user marked once, but for those in flight when the first run was killed.
    assert calls[RouteName.USERS_UPDATE] <= len(should_join) + MEMBERS_PER_REQUEST
    assert calls[RouteName.OAUTH_TOKEN] == 2
    # Every request stayed within Auth0's 10 members a request.
    assert calls[RouteName.ORGANIZATIONS_MEMBERS_CREATE] >= len(should_join) / MEMBERS_PER_REQUEST


def test_missing_credentials_say_which(setup: dict[str, Any]) -> None:
    environment = {
        k: v for k, v in setup["environment"].items() if k != "AUTH0_BACKFILL_CLIENT_SECRET"
    }
    result = run(command(setup), environment)
    assert result.returncode == 2
    assert "AUTH0_BACKFILL_CLIENT_SECRET" in result.stderr


def test_an_error_answer_that_is_not_json_ends_the_run_with_its_status(
    setup: dict[str, Any],
) -> None:
    # A proxy or load balancer in front of the tenant answers with its own HTML page.
    setup["tenant"].inject_fault(
        RouteName.ORGANIZATIONS_GET_BY_NAME,
        Fault(status=403, raw_body="<html><body>Access denied by proxy</body></html>"),
    )
    result = backfill_run(setup, "--dry-run")
    assert result.returncode == 1
    # After the note that no --tier was named.
    assert result.stderr.strip().splitlines()[-1] == (
        "error: GET /api/v2/organizations/name/acme-bf: 403 (not JSON)"
    )


def test_a_tenant_out_of_reach_is_named_not_a_traceback(setup: dict[str, Any]) -> None:
    setup["tenant"].stop()
    result = backfill_run(setup, "--dry-run")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith("error: cannot reach the tenant: ")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("key", sorted({stack_key(c) for c in CASES}))
def test_the_case_table(key: str) -> None:
    """Every case of the table, decided by the backfill as it decides for a real tenant."""
    cases = [(n, c) for n, c in enumerate(CASES) if stack_key(c) == key]
    config = parse_config(stack_config(cases[0][1]), "case")
    ids = {o.name: f"org_{o.name:0<16}"[:20] for o in config.organizations}
    names = {organization_id: name for name, organization_id in ids.items()}
    users = [user_record(case, f"case{n}") for n, case in cases]
    additions, _ = backfill.plan(config, ids, users)
    added = {a.user_id: sorted(a.organizations) for a in additions}
    for (_, case), user in zip(cases, users, strict=True):
        assert added.get(user["user_id"], []) == joins(case, "backfill"), case["case"]
        assert set(added.get(user["user_id"], [])) <= set(names.values())


def test_a_user_already_marked_is_not_added_again_and_a_new_organization_is_backfilled() -> None:
    config = parse_config(
        {
            "auth0:domain": "acme-test.eu.auth0.com",
            "organizations": [
                {"name": "acme", "displayName": "A", "connections": [DATABASE],
                 "emailDomains": ["example.com"]},
                {"name": "newco", "displayName": "N", "connections": [DATABASE],
                 "emailDomains": ["example.com"]},
            ],
        },
        "t",
    )  # fmt: skip
    ids = {"acme": "org_acme000000000000", "newco": "org_newco00000000000"}
    user = {
        "user_id": "auth0|1",
        "email": "a@example.com",
        "email_verified": True,
        "identities": [{"connection": DATABASE, "provider": "auth0"}],
        "app_metadata": {f"org_assignment:{ids['acme']}": True},
    }
    (addition,), marked = backfill.plan(config, ids, [user])
    assert (addition.organizations, marked) == (("newco",), 1)


def test_records_that_are_not_users_are_skipped_and_counted() -> None:
    lines = [
        json.dumps({"user_id": "auth0|ok", "email": "a@example.com"}),
        "{not json",
        json.dumps({"email": "no-id@example.com"}),
        json.dumps({"user_id": 42}),
        json.dumps(["a", "list"]),
        "",
    ]
    export = parse_export("\n".join(lines))
    assert [u["user_id"] for u in export.users] == ["auth0|ok"]
    assert export.malformed == 4


@pytest.mark.slow
def test_a_malformed_marker_does_not_stop_the_run(setup: dict[str, Any]) -> None:
    tenant = setup["tenant"]
    should_join = add_users(tenant, 20)
    for joining in sorted(should_join)[:3]:
        marker = f"org_assignment:{setup['organization_id']}"
        tenant.update_user(joining, app_metadata={marker: "a string"})
    result = backfill_run(setup, "--dry-run", "--rate", "100")
    assert result.returncode == 0, result.stderr
    # A marker that is not an object reads as none, as the Action reads it.
    assert result.stdout.count("would add ") == len(should_join)


@pytest.mark.parametrize(
    ("status", "published", "deployed"),
    [("pending", False, True), ("verified", False, True), ("pending", True, False)],
    ids=["not proven", "verified by hand, no record", "published, not deployed yet"],
)
def test_a_domain_not_yet_proven_adds_nobody(
    tmp_path: Path, dns: LoopbackDns, status: str, published: bool, deployed: bool
) -> None:
    """The backfill holds to the deployed rule: a domain whose record is not published (pending
    in Auth0) admits nobody, as at a login; nor does one set verified in Auth0 by hand with no
    record in DNS (the Action holds only what DNS proved at the deploy), nor one whose record
    is published but that no deploy has proven yet."""
    with LocalTenant.start(tmp_path / "tenant.json") as tenant:
        setup = prepare(tmp_path, tenant, dns, status, published, deployed)
        add_users(tenant, 10)
        result = backfill_run(setup, "--rate", "100")
        assert result.returncode == 0, result.stderr
        assert "0 users to add" in result.stdout
        assert tenant.members(setup["organization_id"]) == []


@pytest.mark.slow
@pytest.mark.parametrize(("tier", "count"), [("enterprise-production", 400), ("free", 30)])
def test_backfill_and_reconcile_at_a_tiers_own_pace_meet_no_429(
    setup: dict[str, Any], tier: str, count: int
) -> None:
    """Named the tenant's tier, and no other setting, both keep within its documented limits:
    the local tenant, enforcing them, refuses nothing."""
    tenant, organization_id = setup["tenant"], setup["organization_id"]
    should_join = add_users(tenant, count)
    tenant.rate_limit_tier(tier)  # full buckets, whatever the setup spent
    backfilled = backfill_run(setup, "--tier", tier)
    assert backfilled.returncode == 0, backfilled.stderr
    # It says what the tier allows: a members request a ten, a marker each.
    writes = math.ceil(len(should_join) / 10) + len(should_join)
    assert f"{writes} writes: at least " in backfilled.stdout
    assert f"at the {tier} tier's documented rate limits" in backfilled.stdout
    assert sorted(tenant.members(organization_id)) == sorted(should_join)
    # Then everyone leaves: the rule, deployed, names another domain.
    stack_file = setup["project"] / "Pulumi.bf.yaml"
    stack_file.write_text(stack_file.read_text().replace("[example.com]", "[example.org]"))
    deploy_rules(tenant, load_stack_file("bf", setup["project"]), {"acme-bf": organization_id})
    reconciled = run_command(tenant, setup["project"], "reconcile", "--tier", tier, stack="bf")
    assert reconciled.returncode == 0, reconciled.stderr
    assert tenant.members(organization_id) == []
    assert tenant.rate_limited() == {}


def test_a_member_whose_roles_failed_is_marked_pending_so_reconcile_still_knows_them(
    setup: dict[str, Any],
) -> None:
    """Found by review: the deployed rule gives a role deleted since the deploy, so the roles
    request fails after the members request took. The run stops, as before; but those it made
    members carry a pending marker, as a login that failed the same way leaves (the Action's
    `pending`), not none: unmarked, they read as added by hand, and reconcile would never remove
    them once they stop matching. The next run adds them again and marks them assigned."""
    tenant, project, organization_id = setup["tenant"], setup["project"], setup["organization_id"]
    should_join = add_users(tenant, 3)
    stack_file = project / "Pulumi.bf.yaml"
    checkout = stack_file.read_text()
    stack_file.write_text(
        checkout.replace("    emailDomains: [example.com]\n", "    emailDomains: [example.com]\n"
                         "    roles: [member]\n")
    )  # fmt: skip
    # The deployed rule's role id names no role in the tenant: one deleted since the deploy.
    deploy_rules(tenant, load_stack_file("bf", project), {"acme-bf": organization_id})
    result = backfill_run(setup, "--rate", "100")
    assert result.returncode != 0
    assert sorted(tenant.members(organization_id)) == sorted(should_join)
    key = f"org_assignment:{organization_id}"
    for joined in should_join:
        assert tenant.user(joined)["app_metadata"][key]["pending"] is True
    # Once a deploy gives roles that exist (here: none), the next run finishes them.
    stack_file.write_text(checkout)
    deploy_rules(tenant, load_stack_file("bf", project), {"acme-bf": organization_id})
    result = backfill_run(setup, "--rate", "100")
    assert result.returncode == 0, result.stderr
    assert f"{len(should_join)} users to add" in result.stdout
    for joined in should_join:
        assert "pending" not in tenant.user(joined)["app_metadata"][key]


def test_with_the_api_connection_check_the_commands_judge_as_a_login_does(
    tmp_path: Path, dns: LoopbackDns
) -> None:
    """With ``connectionCheck: api`` a login through a connection disabled on the organization
    (in the dashboard) is not assigned: the backfill does not add its users either, explain
    says why, and reconcile keeps those it let in before, listed (a switch alone empties no
    organization), until the configuration no longer lists it."""
    with LocalTenant.start(tmp_path / "tenant.json") as tenant:
        setup = prepare(tmp_path, tenant, dns, connection_check="api")
        organization_id = setup["organization_id"]
        alice = tenant.sign_up("alice@example.com", verified=True)["user_id"]
        bob = tenant.sign_up("bob@example.com", verified=True)["user_id"]
        tenant.login(alice)
        assert tenant.members(organization_id) == [alice]
        tenant.disable_connections(organization_id)
        tenant.login(bob)
        assert tenant.members(organization_id) == [alice]  # the Action refused bob

        added = backfill_run(setup, "--rate", "100")
        assert added.returncode == 0, added.stderr
        assert "0 users to add" in added.stdout, added.stdout
        assert f"the connection {DATABASE} is not enabled on the organization" in added.stderr
        assert tenant.members(organization_id) == [alice]
        explained = run_command(tenant, tmp_path, "explain", "--user-id", bob, "--json", stack="bf")
        assert explained.returncode == 0, explained.stderr
        why = json.loads(explained.stdout)["organizations"]["acme-bf"]
        assert why["refusal"] == "connection-not-enabled"

        kept = run_command(tenant, tmp_path, "reconcile", "--dry-run", stack="bf")
        assert kept.returncode == 3, kept.stderr
        assert f"{alice} stands in acme-bf only through a connection that is not enabled" in (
            kept.stdout
        )
        assert "0 memberships to remove" in kept.stdout
        reconciled = run_command(tenant, tmp_path, "reconcile", "--rate", "100", stack="bf")
        assert reconciled.returncode == 0, reconciled.stderr
        assert tenant.members(organization_id) == [alice]
