"""Who gets in, through the rendered Action against the local tenant: every case of the table
(tests/cases/membership.yaml, which the backfill runs too), and the rule's other guarantees."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest

from auth0_org_assignment.action_code import render_action
from auth0_org_assignment.config import domain_pattern, parse_config
from auth0_org_assignment.node import action_node
from auth0_org_assignment.paths import TEMPLATES
from devtools.localstack.action_runner import (
    MEMBERS,
    ActionProcess,
    ActionTenant,
    action_secrets,
    deploy_rules,
)
from devtools.localtenant.testing import DATABASE, LocalTenant
from tests.support.membership_cases import (
    joins,
    load_cases,
    login_connection,
    stack_config,
    stack_key,
    user_record,
)

CASES = load_cases()
ALICE = "auth0|alice"
OTHER_ORGANIZATION = "org_someoneelse123"


@pytest.fixture(scope="module")
def deployed(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, tuple[ActionProcess, ActionTenant]]]:
    """One tenant and one Action container per distinct set of organizations, made on first
    use and shared by the cases that declare it (each with a user of its own)."""
    started: dict[str, tuple[ActionProcess, ActionTenant]] = {}
    yield started
    for action, tenant in started.values():
        action.close()
        tenant.close()


def running(
    deployed: dict[str, tuple[ActionProcess, ActionTenant]],
    tmp_path_factory: pytest.TempPathFactory,
    case: dict[str, Any],
) -> tuple[ActionProcess, ActionTenant]:
    key = stack_key(case)
    if key not in deployed:
        workdir = tmp_path_factory.mktemp("who-gets-in")
        tenant = ActionTenant(parse_config(stack_config(case), "case"), workdir)
        deployed[key] = (ActionProcess(tenant, workdir), tenant)
    return deployed[key]


@pytest.mark.parametrize("number", range(len(CASES)), ids=[c["case"] for c in CASES])
def test_the_case_table(
    deployed: dict[str, tuple[ActionProcess, ActionTenant]],
    tmp_path_factory: pytest.TempPathFactory,
    number: int,
) -> None:
    case = CASES[number]
    action, tenant = running(deployed, tmp_path_factory, case)
    record = user_record(case, f"case{number}")
    user_id = record["user_id"]
    login = case.get("login", {})
    organization = login.get("organization")
    organization_id = (
        OTHER_ORGANIZATION if organization == "other" else tenant.organization_ids.get(organization)
    )
    result = action.login(
        user_id,
        connection=login_connection(case),
        organization_id=organization_id,
        client_id=login.get("client", "app-client-id"),
        **{key: value for key, value in record.items() if key != "user_id"},
    )
    joined = sorted(name for name in tenant.organization_ids if user_id in tenant.members_of(name))
    assert joined == joins(case, "action"), result.logs
    expected_outcome = "assigned" if joined else result.outcome
    assert result.outcome == expected_outcome
    if not joined:
        assert result.app_metadata_set is None


def test_a_user_matching_two_organizations_gets_a_marker_for_each(run_action: Any) -> None:
    (case,) = [c for c in CASES if c["case"] == "a user matching two organizations joins both"]
    action, tenant = run_action(stack_config(case))
    login = action.login(ALICE, email="alice@acme.com", email_verified=True)
    assert login.app_metadata_set is not None
    assert {key: record["by"] for key, record in login.app_metadata_set.items()} == {
        f"org_assignment:{organization}": "emailDomains: acme.com"
        for organization in tenant.organization_ids.values()
    }
    calls = tenant.calls[MEMBERS]
    assert action.login(ALICE).outcome == "skipped-already-member"
    assert tenant.calls[MEMBERS] == calls


def test_a_login_through_rules_that_match_nothing_makes_no_call(run_action: Any) -> None:
    action, tenant = run_action(acme(emailDomains=["acme.com"]))
    login = action.login(ALICE, email="alice@acme.com")
    assert (login.outcome, login.report["via"]) == ("skipped-no-match", "rules")
    assert sum(tenant.calls.values()) == 0


def acme(**rule: Any) -> dict[str, Any]:
    """A stack with one organization, acme, whose rule is ``rule``."""
    organization: dict[str, Any] = {"name": "acme", "displayName": "Acme", **rule}
    return {
        "auth0:domain": "acme-test.eu.auth0.com",
        "organization": organization,
        "connections": [DATABASE, "google-oauth2"],
    }


def test_roles_are_given_on_joining(run_action: Any) -> None:
    action, tenant = run_action(acme(emailDomains=["acme.com"], roles=["member", "viewer"]))
    assert action.login(ALICE, email="a@acme.com", email_verified=True).outcome == "assigned"
    held = tenant.local.member_roles(tenant.organization_id, ALICE)
    assert sorted(held) == sorted(tenant.role_ids.values())


def test_a_role_deleted_since_the_deploy_fails_the_login_and_retries_next_time(
    run_action: Any,
) -> None:
    action, tenant = run_action(acme(emailDomains=["acme.com"], roles=["member"]))
    tenant.local.delete_role(tenant.role_ids["member"])
    login = action.login(ALICE, email="a@acme.com", email_verified=True)
    assert (login.outcome, login.report["reason"]) == ("failed", "http-404")
    # A member now, without the role: marked pending, so reconcile knows the membership is
    # this stack's, and the next login tries again.
    assert login.app_metadata_set is not None
    assert login.app_metadata_set[f"org_assignment:{tenant.organization_id}"]["pending"] is True
    calls = tenant.calls[MEMBERS]
    assert action.login(ALICE).outcome == "failed"
    assert tenant.calls[MEMBERS] == calls + 1


def test_the_grant_is_exactly_what_the_code_calls() -> None:
    plain = render_action(parse_config(acme(emailDomains=["acme.com"]), "t"))
    with_roles = render_action(parse_config(acme(emailDomains=["a.io"], roles=["member"]), "t"))
    assert plain.scopes == ("create:organization_members",)
    assert with_roles.scopes == (
        "create:organization_member_roles",
        "create:organization_members",
    )


def test_the_rule_must_say_who_may_join() -> None:
    with pytest.raises(Exception, match="allowAnyUserOfConnection: true") as raised:
        parse_config(acme(), "t")
    assert "anyone in the world" in str(raised.value)


def test_an_open_connection_and_email_domains_on_one_organization_are_refused() -> None:
    with pytest.raises(Exception, match="emailDomains and allowAnyUserOfConnection") as raised:
        parse_config(acme(emailDomains=["acme.com"], allowAnyUserOfConnection=True), "t")
    assert "auth0-org-assignment:organization:" in str(raised.value)


@pytest.mark.parametrize(
    ("domain", "refusal"),
    [
        ("straße.de", "xn--strae-oqa.de (as browsers read it) or strasse.de"),
        ("ς.gr", "holds ς"),
        ("a\u200db.com", "holds ZWJ"),
        ("a\u200cb.com", "holds ZWNJ"),
        ("ẞ.de", "holds ß"),
        ("\uff41\uff43\uff4d\uff45.com", "maps to the domain 'acme.com'"),  # full-width,
        ("ac\u200bme.com", "maps to the domain 'acme.com'"),  # the Action matches it to none
        ("ac\u2060me.com", "maps to the domain 'acme.com'"),  # the Action matches it to none
        ("ac\ufe0fme.com", "maps to the domain 'acme.com'"),  # the Action matches it to none
        ("ac\u034fme.com", "maps to the domain 'acme.com'"),  # the Action matches it to none
        ("ac\u00adme.com", "maps to the domain 'acme.com'"),  # the Action matches it to none
        ("ac\u180bme.com", "maps to the domain 'acme.com'"),  # the Action matches it to none
    ],
)
def test_a_domain_that_names_two_domains_is_refused(domain: str, refusal: str) -> None:
    with pytest.raises(Exception, match="emailDomains") as raised:
        parse_config(acme(emailDomains=[domain]), "t")
    assert refusal in str(raised.value)
    assert repr(domain) in str(raised.value)


def test_hostile_domains_in_config_are_refused() -> None:
    for bad in (
        "acme.com/evil",
        "*.*.acme.com",
        "acme..com",
        "-acme.com",
        "acme",
        "a b.com",
        "acme.com.",
        "1.2.3.4",
        "a_b.com",
    ):
        with pytest.raises(Exception, match="is not a domain name"):
            parse_config(acme(emailDomains=[bad]), "t")


@pytest.mark.parametrize("pattern", ["*.co.uk", "co.uk", "*.github.io", "*.s3.amazonaws.com"])
def test_a_public_suffix_is_refused(pattern: str) -> None:
    """Anyone may register a domain under a public suffix, and verify an address there."""
    with pytest.raises(Exception, match="is a public suffix") as raised:
        parse_config(acme(emailDomains=[pattern]), "t")
    assert repr(pattern) in str(raised.value)


@pytest.mark.parametrize("pattern", ["*.amazonaws.com", "*.windows.net"])
def test_a_wildcard_over_public_suffixes_is_refused(pattern: str) -> None:
    """``*.amazonaws.com`` spans ``compute-1.amazonaws.com``, where anyone gets a mailbox."""
    with pytest.raises(Exception, match="spans public suffixes") as raised:
        parse_config(acme(emailDomains=[pattern]), "t")
    assert repr(pattern) in str(raised.value)
    exact = pattern.removeprefix("*.")
    assert parse_config(acme(emailDomains=[exact]), "t").organizations[0].email_domains == [exact]


@pytest.mark.parametrize("domain", ["gmail.com", "outlook.com", "proton.me", "qq.com"])
def test_a_free_mail_domain_is_refused_unless_the_organization_says_so(domain: str) -> None:
    """Everyone with a mailbox at a free-mail provider would join: WorkOS, Clerk and Stytch
    refuse them too. A community organization says it means it."""
    with pytest.raises(Exception, match="is a free-mail domain") as raised:
        parse_config(acme(emailDomains=[domain]), "t")
    assert f"auth0-org-assignment:organization.emailDomains: {domain} is" in str(raised.value)
    assert "allowFreeMailDomains: true" in str(raised.value)
    config = parse_config(acme(emailDomains=[domain], allowFreeMailDomains=True), "t")
    assert config.organizations[0].email_domains == [domain]


@pytest.mark.parametrize("pattern", ["*.33mail.com", "*.gmail.com", "*.yahoo.com"])
def test_a_wildcard_over_a_free_mail_domain_is_refused_even_when_free_mail_is_allowed(
    pattern: str,
) -> None:
    """The domains under a provider's (``bob.33mail.com``, one for each of its users;
    ``corp.yahoo.com``) are each someone's own, proven on their own: ``allowFreeMailDomains``
    admits the provider's own domain, not every domain under it, unproven."""
    for allowed in (False, True):
        with pytest.raises(Exception, match="under the free-mail domain") as raised:
            parse_config(acme(emailDomains=[pattern], allowFreeMailDomains=allowed), "t")
        assert f"{pattern} covers" in str(raised.value)
    apex = pattern.removeprefix("*.")
    config = parse_config(acme(emailDomains=[apex], allowFreeMailDomains=True), "t")
    assert config.organizations[0].email_domains == [apex]


@pytest.mark.parametrize("domain", ["mailinator.com", "sub.mailinator.com", "10minutemail.com"])
def test_a_throwaway_mail_domain_is_always_refused(domain: str) -> None:
    for allowed in (False, True):
        with pytest.raises(Exception, match="is a throwaway-mail domain") as raised:
            parse_config(acme(emailDomains=[domain], allowFreeMailDomains=allowed), "t")
        assert domain in str(raised.value)


def test_a_domain_under_a_public_suffix_is_allowed() -> None:
    config = parse_config(acme(emailDomains=["acme.co.uk", "*.acme.github.io"]), "t")
    assert config.organizations[0].email_domains == ["acme.co.uk", "*.acme.github.io"]


def test_auto_membership_with_email_domains_is_refused() -> None:
    """Auth0's own auto-membership admits whoever logs in through the organization prompt."""
    config = acme(emailDomains=["acme.com"]) | {"assignMembershipOnLogin": True}
    with pytest.raises(Exception, match="assignMembershipOnLogin") as raised:
        parse_config(config, "t")
    assert "auth0-org-assignment:organization.emailDomains" in str(raised.value)
    open_to_all = acme(allowAnyUserOfConnection=True) | {"assignMembershipOnLogin": True}
    assert parse_config(open_to_all, "t").assign_membership_on_login is True


def test_auto_membership_with_applications_is_refused() -> None:
    """Auth0's auto-membership adds whoever logs in to the organization through any application
    that takes organizations, not only the ones the rule's ``applications`` lists (which the
    backfill leaves to the Action, since only a login tells them)."""
    portal = "PortalClientId0000000000000000ab"
    config = acme(allowAnyUserOfConnection=True, applications=[portal]) | {
        "assignMembershipOnLogin": True
    }
    with pytest.raises(Exception, match="assignMembershipOnLogin") as raised:
        parse_config(config, "t")
    assert "auth0-org-assignment:organization.applications" in str(raised.value)


def test_one_organization_form_is_as_short_as_before() -> None:
    short = acme(emailDomains=["acme.com"])
    long = copy.deepcopy(short)
    organization = long.pop("organization")
    organization["connections"] = long.pop("connections")
    long["organizations"] = [organization]
    assert (
        render_action(parse_config(short, "t")).code == render_action(parse_config(long, "t")).code
    )


DOMAINS = [
    "acme.com",
    "Acme.COM",
    "bücher.de",
    "Bücher.de",
    "xn--bcher-kva.de",
    "xn--strae-oqa.de",
    "strasse.de",
    "münchen.example.co.uk",
    "пример.рф",
    "例え.テスト",
    "a-b.c-d.io",
    "xn--mnchen-3ya.de",
    *(d for case in CASES for o in case["organizations"] for d in o.get("emailDomains", [])),
]


def test_the_configuration_maps_each_domain_as_the_action_maps_an_address() -> None:
    """Configured domains are mapped in Python, addresses in the Action's JavaScript: the two
    must agree on every domain the configuration accepts."""
    patterns = [domain.removeprefix("*.") for domain in DOMAINS]
    script = (
        'const { emailDomain } = require("./membership");'
        f"process.stdout.write(JSON.stringify({json.dumps(patterns)}"
        ".map((d) => emailDomain(`x@${d}`))))"
    )
    mapped = json.loads(
        subprocess.run(
            [action_node(), "-e", script], cwd=TEMPLATES, capture_output=True, text=True, check=True
        ).stdout
    )
    for pattern, by_the_action in zip(patterns, mapped, strict=True):
        assert domain_pattern(pattern) == by_the_action, pattern


# Found by review: idna 3.20 (Unicode 18 tables) maps these; Node 22's domainToASCII refuses
# them, or, for a last label like "0xcafe", reads the host as an IPv4 address (WHATWG).
UNMAPPABLE = [
    "a\u04c0b.com",  # CYRILLIC LETTER PALOCHKA
    "\u10a0cme.com",  # GEORGIAN CAPITAL LETTER AN (and all of U+10A0..U+10C5)
    "\u2132.com",  # TURNED CAPITAL F
    "\u2183.com",  # ROMAN NUMERAL REVERSED ONE HUNDRED
    "a\U0002f868b.com",  # a CJK compatibility ideograph (also 2F874, 2F91F, 2F95F, 2F9BF)
    "acme.0xcafe",
    "acme.0x",
]


@pytest.mark.parametrize("domain", UNMAPPABLE)
def test_a_domain_the_action_would_read_otherwise_is_refused(domain: str) -> None:
    with pytest.raises(pulumi.RunError, match="emailDomains") as refused:
        parse_config(acme(emailDomains=[domain]), "t")
    assert repr(domain) in str(refused.value)


def test_the_deployed_action_admits_only_at_logins_to_the_listed_applications(
    tmp_path: Path,
) -> None:
    """Through the Login flow as deployed, not one execution: a login to an application the
    organization does not list joins nothing; the same user's login to the listed one joins."""
    local = LocalTenant.start(tmp_path / "tenant.json")
    try:
        database = local.ensure_connection(DATABASE)
        apps = {
            name: local.call("POST", "/api/v2/clients", {"name": name, "app_type": "spa"})
            for name in ("Portal", "HR")
        }
        local.call(
            "PATCH",
            f"/api/v2/connections/{database['id']}",
            {"enabled_clients": [app["client_id"] for app in apps.values()]},
        )
        organization = local.create_organization("acme", "Acme", [database["id"]])
        config = parse_config(
            acme(emailDomains=["acme.com"], applications=[apps["Portal"]["client_id"]]), "t"
        )
        ids = {"acme": organization["id"]}
        scopes = render_action(config, organization_ids=ids).scopes
        client = local.m2m_client("org assignment", scopes)
        deploy_rules(local, config, ids, secrets=action_secrets(local, client))
        user = local.sign_up("ann@acme.com", DATABASE, verified=True)
        elsewhere = local.login(user["user_id"], DATABASE, client_id=apps["HR"]["client_id"])
        assert elsewhere["failed"] is None
        assert organization["id"] not in elsewhere["member_of"]
        portal = local.login(user["user_id"], DATABASE, client_id=apps["Portal"]["client_id"])
        assert portal["failed"] is None
        assert portal["member_of"] == [organization["id"]]
    finally:
        local.stop()
