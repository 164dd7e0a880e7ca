"""auth0-org-assignment explain: the rule's own reason for every row of the case table, and the
command on the local tenant (membership, the marker's record, the reason in words)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auth0_org_assignment import contract
from auth0_org_assignment.action_code import marker_key
from auth0_org_assignment.commands.eligibility import Login, MembershipRule
from auth0_org_assignment.commands.explain import explanation, report
from auth0_org_assignment.config import load_stack_file, parse_config
from devtools.dns import LoopbackDns
from devtools.localstack.action_runner import deploy_rules
from tests.support.commands import command_line, operator_environment, run
from tests.support.membership_cases import (
    joins,
    load_cases,
    login_connection,
    stack_config,
    user_record,
)

CASES = load_cases()
OTHER_ORGANIZATION = "org_someoneelse123"
DATABASE = "Username-Password-Authentication"


def explained(case: dict[str, Any], login: Login | None) -> dict[str, dict[str, str]]:
    """The rule's explanation of the case's user, by organization name."""
    config = parse_config(stack_config(case), "case")
    ids = {o.name: f"org_{o.name}" for o in config.organizations}
    with MembershipRule(config, ids) as rule:
        by_id, _ = rule.explain(user_record(case, "alice"), login)
    return {name: by_id[organization_id] for name, organization_id in ids.items()}


def case_login(case: dict[str, Any]) -> Login:
    login = case.get("login", {})
    organization = login.get("organization")
    return Login(
        login_connection(case),
        login.get("client", "app-client-id"),
        None
        if organization is None
        else OTHER_ORGANIZATION
        if organization == "other"
        else f"org_{organization}",
    )


def organizations(*names: str) -> dict[str, Any]:
    """A stack of organizations, each admitting its own ``<name>.com`` through the database."""
    return {
        "auth0:domain": "acme-test.eu.auth0.com",
        "organizations": [
            {
                "name": name,
                "displayName": name.title(),
                "connections": [DATABASE],
                "emailDomains": [f"{name}.com"],
            }
            for name in names
        ],
    }


@pytest.mark.parametrize("number", range(len(CASES)), ids=[c["case"] for c in CASES])
def test_explain_gives_the_tables_reason_for_every_row(number: int) -> None:
    case = CASES[number]
    found = explained(case, case_login(case))
    admitted = sorted(name for name, decision in found.items() if "admittedBy" in decision)
    assert admitted == sorted(case["joins"])
    refused = {name: d["refusal"] for name, d in found.items() if "refusal" in d}
    assert refused == case.get("why", {})
    assert set(refused.values()) <= contract.refusals().keys()


@pytest.mark.parametrize("number", range(len(CASES)), ids=[c["case"] for c in CASES])
def test_without_a_login_explain_admits_whom_the_backfill_adds(number: int) -> None:
    case = CASES[number]
    found = explained(case, None)
    listing = {o["name"] for o in case["organizations"] if o.get("applications")}
    admitted = sorted(n for n, d in found.items() if "admittedBy" in d and n not in listing)
    assert admitted == joins(case, "backfill")


def test_every_row_names_a_reason_for_each_organization_it_does_not_join() -> None:
    for case in CASES:
        names = {o["name"] for o in case["organizations"]}
        assert set(case.get("why", {})) == names - set(case["joins"]), case["case"]


@pytest.mark.slow
def test_the_command_says_who_is_in_how_they_came_in_and_why_not(
    run_action: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    config = organizations("acme", "globex", "initech")
    action, tenant = run_action(config)
    assert action.login("auth0|alice", email="alice@acme.com", email_verified=True).outcome == (
        "assigned"
    )
    tenant.local.ensure_user("auth0|gus", email="gus@gmail.com", email_verified=True)
    tenant.local.ensure_user("auth0|hank", email="hank@globex.com", email_verified=True)
    tenant.local.ensure_user("auth0|ivy", email="ivy@initech.com", email_verified=True)
    # acme.com is proven (verified, its record in DNS); globex.com is declared, its record not
    # published yet; initech.com was set verified by hand, with no record in DNS.
    dns = LoopbackDns.start()
    request.addfinalizer(dns.stop)
    for organization in tenant.local.call("GET", "/api/v2/organizations"):
        domain, status = {
            "acme": ("acme.com", "verified"),
            "globex": ("globex.com", "pending"),
            "initech": ("initech.com", "verified"),
        }[organization["name"]]
        declared = tenant.local.declare_domain(organization["id"], domain, status)
        if domain == "acme.com":
            dns.publish(declared["verification_host"], declared["verification_txt"])
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: auth0-org-assignment\nruntime: python\n")
    stack = {
        "auth0:domain": tenant.local.domain,
        "auth0-org-assignment:domainKind": "local",
        "auth0-org-assignment:organizations": config["organizations"],
        "auth0-org-assignment:dnsResolvers": [dns.address],
    }
    (project / "Pulumi.t.yaml").write_text(json.dumps({"config": stack}))
    environment = operator_environment(tenant.local, "explain")

    def explain(*args: str) -> Any:
        result = run(command_line("explain", "t", project, "--json", *args), environment)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    # Before the first deploy no Action holds a rule: explain says so, not what the file says.
    undeployed = explain("--user-id", "auth0|alice")["organizations"]["acme"]
    assert (undeployed["member"], undeployed["deployed"]) == (True, False)
    assert "admittedBy" not in undeployed
    deploy_rules(tenant.local, load_stack_file("t", project), tenant.organization_ids)
    # The rule is the deployed one: from a branch whose file names another domain, the same.
    branch = json.dumps({"config": stack}).replace('"acme.com"', '"acme.org"')
    (project / "Pulumi.t.yaml").write_text(branch)
    alice = explain("--user-id", "auth0|alice")["organizations"]
    assert alice["acme"]["member"] is True
    assert alice["acme"]["admittedBy"] == "emailDomains: acme.com"
    assert (alice["acme"]["marker"]["via"], alice["acme"]["marker"]["by"]) == (
        "login",
        "emailDomains: acme.com",
    )
    assert alice["globex"]["member"] is False
    assert alice["globex"]["refusal"] == "email-domain-not-in-rule"
    (gus,) = explain("--email", "gus@gmail.com")
    assert (
        "gmail.com is a free-mail or throwaway-mail domain" in gus["organizations"]["acme"]["why"]
    )
    other = explain("--user-id", "auth0|alice", "--connection", "Username-Password-Authentication",
                    "--organization", "org_elsewhere")  # fmt: skip
    assert other["organizations"]["acme"]["refusal"] == "login-to-another-organization"
    hank = explain("--user-id", "auth0|hank")["organizations"]["globex"]
    assert hank["refusal"] == "email-domain-not-proven"
    assert "not proven yet" in hank["why"]
    ivy = explain("--user-id", "auth0|ivy")["organizations"]["initech"]
    assert ivy["refusal"] == "email-domain-not-proven"
    assert "DNS did not answer" not in ivy["why"]
    # A lookup DNS does not answer: not proven this run, and the answer says why, not that the
    # owner published nothing.
    acme_host = tenant.local.discovery_domains(tenant.organization_ids["acme"])[0]
    dns.fail(acme_host["verification_host"])
    unanswered = explain("--user-id", "auth0|alice")["organizations"]["acme"]
    assert unanswered["refusal"] == "email-domain-not-proven"
    assert "DNS did not answer the lookup of acme.com's record this run" in unanswered["why"]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (False, None),
        ({"via": "login"}, None),
        ("yes", None),
        (True, True),
        ({"via": "backfill", "at": "2026-01-02T03:04:05Z", "by": "emailDomains: acme.com"}, ...),
    ],
)
def test_explain_shows_a_marker_only_as_the_rule_reads_it(value: Any, shown: Any) -> None:
    """A value marker.js does not take for this stack's marker (reconcile then never removes
    the member) is not reported as "added by this stack"."""
    config = parse_config(organizations("acme"), "t")
    ids = {"acme": "org_acme"}
    user = {
        "user_id": "auth0|mallory",
        "email": "mallory@evil.io",
        "email_verified": True,
        "app_metadata": {marker_key(config, "org_acme"): value},
        "identities": [
            {"connection": "Username-Password-Authentication", "provider": "auth0", "user_id": "m"}
        ],
    }
    found = explanation(config, ids, user, {"org_acme"}, None)
    assert found["organizations"]["acme"]["marker"] == (value if shown is ... else shown)
    added = "added by" in report(found)
    assert added is (shown is not None)


def test_the_report_says_when_no_deployed_action_holds_an_organizations_rule() -> None:
    found = {"id": "org_acme", "member": True, "marker": None, "deployed": False}
    lines = report(
        {"user_id": "auth0|alice", "email": "a@acme.com", "organizations": {"acme": found}}
    )
    assert lines.splitlines()[1] == (
        "  acme (org_acme): member; no Action bound to the login flow holds its rule (pulumi up "
        "first): no login assigns anyone to it"
    )


def test_a_domain_only_the_checkout_names_changes_no_answer() -> None:
    """Found by review: explain from a branch whose stack file names initech.com, which no
    deploy put in the Actions or declared, refuses Bob as main does: not in the rule."""
    from auth0_org_assignment.commands.deployed_rules import Deployed

    rule = {"id": "org_1", "connections": [DATABASE], "roles": [], "domains": ["acme.com"]}
    deployed = Deployed({"org_1": rule}, {"acme": ["acme.com"]}, {"acme": ["acme.com"]}, {}, {})
    bob = {
        "user_id": "auth0|bob",
        "email": "b@initech.com",
        "email_verified": True,
        "identities": [{"connection": DATABASE, "provider": "auth0", "user_id": "bob"}],
    }
    said = []
    for domains in (["acme.com"], ["acme.com", "initech.com"]):
        organization = {"name": "acme", "displayName": "Acme", "emailDomains": domains}
        tenant = {"auth0:domain": "acme-test.eu.auth0.com", "connections": [DATABASE]}
        config = parse_config({**tenant, "organization": organization}, "t")
        found = explanation(config, {"acme": "org_1"}, bob, set(), None, deployed)
        said.append(found["organizations"]["acme"]["refusal"])
    assert said == ["email-domain-not-in-rule", "email-domain-not-in-rule"]


def test_without_a_login_an_organization_listing_applications_says_where_it_admits() -> None:
    """Found by review: the rule reads no application without a login, so explain said "admitted"
    of a user who is no member of an organization that lists applications, and gave no reason:
    she joins only at a login to one of them (the backfill leaves it to the Action)."""
    from auth0_org_assignment.commands.deployed_rules import Deployed

    portal = "PortalClientId0000000000000000ab"
    rule = {
        "id": "org_1",
        "connections": [DATABASE],
        "roles": [],
        "domains": ["acme.com"],
        "applications": [portal],
    }
    deployed = Deployed({"org_1": rule}, {"acme": ["acme.com"]}, {"acme": ["acme.com"]}, {}, {})
    organization = {
        "name": "acme",
        "displayName": "Acme",
        "emailDomains": ["acme.com"],
        "applications": [portal],
    }
    tenant = {"auth0:domain": "acme-test.eu.auth0.com", "connections": [DATABASE]}
    config = parse_config({**tenant, "organization": organization}, "t")
    alice = {
        "user_id": "auth0|alice",
        "email": "a@acme.com",
        "email_verified": True,
        "identities": [{"connection": DATABASE, "provider": "auth0", "user_id": "alice"}],
    }
    for held in (deployed, None):
        found = explanation(config, {"acme": "org_1"}, alice, set(), None, held)
        assert found["organizations"]["acme"]["applications"] == [portal]
        assert report(found).splitlines()[1] == (
            "  acme (org_1): not a member; admitted by emailDomains: acme.com, at a login to "
            f"one of its applications ({portal})"
        )
    login = Login(DATABASE, portal, None)
    found = explanation(config, {"acme": "org_1"}, alice, set(), login, deployed)
    assert "applications" not in found["organizations"]["acme"]
