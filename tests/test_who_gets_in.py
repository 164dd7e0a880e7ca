"""Who gets in: the rules, run through the rendered Action against the local tenant.

Each organization declares who may join; these are the hostile and edge cases of those rules.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.action_code import render_action
from infra.config import parse_config
from tests.support.action_runner import MEMBERS

ALICE = "auth0|alice"
DATABASE = "Username-Password-Authentication"


def acme(**rule: Any) -> dict[str, Any]:
    """A stack with one organization, acme, whose rule is ``rule``."""
    organization: dict[str, Any] = {"name": "acme", "displayName": "Acme", **rule}
    return {
        "auth0:domain": "acme-test.eu.auth0.com",
        "organization": organization,
        "connections": [DATABASE, "google-oauth2"],
    }


def two_organizations(**second: Any) -> dict[str, Any]:
    return {
        "auth0:domain": "acme-test.eu.auth0.com",
        "organizations": [
            {
                "name": "acme",
                "displayName": "Acme",
                "connections": [DATABASE, "google-oauth2"],
                "emailDomains": ["acme.com"],
            },
            {
                "name": "globex",
                "displayName": "Globex",
                "connections": [DATABASE],
                "emailDomains": ["globex.com", "*.acme.com"],
                **second,
            },
        ],
    }


def test_a_verified_email_in_the_domain_joins(run_action: Any) -> None:
    action, tenant = run_action(acme(emailDomains=["acme.com"]))
    login = action.login(ALICE, email="alice@acme.com", email_verified=True)
    assert login.outcome == "assigned"
    assert tenant.members == {ALICE}


@pytest.mark.parametrize("verified", [False, None, "true"])
def test_an_unverified_email_never_joins(run_action: Any, verified: Any) -> None:
    action, tenant = run_action(acme(emailDomains=["acme.com"]))
    user = {"email": "alice@acme.com"}
    if verified is not None:
        user["email_verified"] = verified
    login = action.login(ALICE, **user)
    assert (login.outcome, login.report["via"]) == ("skipped-no-match", "rules")
    assert tenant.calls[MEMBERS] == 0


def test_a_verified_email_from_an_untrusted_social_connection_does_not_join(
    run_action: Any,
) -> None:
    action, tenant = run_action(acme(emailDomains=["acme.com"]))
    login = action.login(
        ALICE, connection="google-oauth2", email="alice@acme.com", email_verified=True
    )
    assert login.outcome == "skipped-no-match"
    assert tenant.members == set()


def test_a_trusted_connections_verified_email_joins(run_action: Any) -> None:
    action, _tenant = run_action(
        acme(emailDomains=["acme.com"], trustEmailVerifiedFrom=["google-oauth2"])
    )
    login = action.login(
        ALICE, connection="google-oauth2", email="alice@acme.com", email_verified=True
    )
    assert login.outcome == "assigned"


@pytest.mark.parametrize(
    ("configured", "email"),
    [
        ("acme.com", "Alice@ACME.Com"),
        ("Bücher.de", "anna@bücher.de"),
        ("bücher.de", "anna@XN--BCHER-KVA.de"),
        ("*.acme.com", "bob@eu.acme.com"),
        ("*.acme.com", "bob@deep.eu.acme.com"),
    ],
)
def test_domains_match_case_and_idn_insensitively(
    run_action: Any, configured: str, email: str
) -> None:
    action, _ = run_action(acme(emailDomains=[configured]))
    assert action.login(ALICE, email=email, email_verified=True).outcome == "assigned"


@pytest.mark.parametrize(
    "email",
    [
        "mallory@acme.com.evil.io",
        "mallory@evilacme.com",
        "mallory@acme.co",
        "mallory@acme.com@evil.io",
        "acme.com",
        "mallory@",
        "mallory@eu.acme.com",  # a subdomain, where only the exact domain is configured
    ],
)
def test_look_alike_domains_never_join(run_action: Any, email: str) -> None:
    action, tenant = run_action(acme(emailDomains=["acme.com"]))
    login = action.login(ALICE, email=email, email_verified=True)
    assert login.outcome == "skipped-no-match"
    assert tenant.members == set()


def test_a_subdomain_pattern_does_not_match_the_bare_domain(run_action: Any) -> None:
    action, _ = run_action(acme(emailDomains=["*.acme.com"]))
    assert action.login(ALICE, email="a@acme.com", email_verified=True).outcome == (
        "skipped-no-match"
    )


def test_a_login_to_another_organization_never_assigns(run_action: Any) -> None:
    action, tenant = run_action(acme(allowAnyUserOfConnection=True))
    login = action.login(ALICE, organization_id="org_someoneelse123")
    assert (login.outcome, login.report["via"]) == (
        "skipped-other-organization",
        "organization-login",
    )
    assert sum(tenant.calls.values()) == 0


def test_a_user_matching_two_organizations_joins_both_with_a_marker_each(
    run_action: Any,
) -> None:
    action, tenant = run_action(two_organizations())
    # acme takes acme.com exactly; globex takes its subdomains.
    login = action.login(ALICE, email="alice@eu.acme.com", email_verified=True)
    assert login.report["organizations"] == [tenant.organization_ids["globex"]]
    login = action.login("auth0|bob", email="bob@acme.com", email_verified=True)
    assert (login.outcome, login.report["organizations"]) == (
        "assigned",
        [tenant.organization_ids["acme"]],
    )
    both = {"emailDomains": ["globex.com", "acme.com"]}
    action, tenant = run_action(two_organizations(**both))
    login = action.login(ALICE, email="alice@acme.com", email_verified=True)
    assert login.outcome == "assigned"
    assert sorted(login.report["organizations"]) == sorted(tenant.organization_ids.values())
    markers = login.app_metadata_set["org_assignment"]
    assert markers == {
        organization_id: True for organization_id in tenant.organization_ids.values()
    }
    calls = tenant.calls[MEMBERS]
    assert action.login(ALICE).outcome == "skipped-already-member"
    assert tenant.calls[MEMBERS] == calls


def test_a_connection_another_organization_enables_does_not_leak(run_action: Any) -> None:
    # globex enables only the database connection: a Google login with a globex.com address
    # must not join it, although acme enables Google.
    action, tenant = run_action(two_organizations(trustEmailVerifiedFrom=[]))
    login = action.login(
        ALICE, connection="google-oauth2", email="a@globex.com", email_verified=True
    )
    assert login.outcome == "skipped-no-match"
    assert tenant.calls[MEMBERS] == 0


def test_an_application_not_listed_does_not_assign(run_action: Any) -> None:
    action, _tenant = run_action(
        acme(allowAnyUserOfConnection=True, applications=["PortalClientId0000000000000000ab"])
    )
    assert action.login(ALICE, client_id="SomeOtherApp").outcome == "skipped-no-match"
    login = action.login(ALICE, client_id="PortalClientId0000000000000000ab")
    assert login.outcome == "assigned"


def test_roles_are_given_on_joining(run_action: Any) -> None:
    action, tenant = run_action(acme(emailDomains=["acme.com"], roles=["member", "viewer"]))
    assert action.login(ALICE, email="a@acme.com", email_verified=True).outcome == "assigned"
    held = tenant.tenant.store["organization_member_roles"][tenant.organization_id][ALICE]
    assert sorted(held) == sorted(tenant.role_ids.values())


def test_a_role_deleted_since_the_deploy_fails_the_login_and_retries_next_time(
    run_action: Any,
) -> None:
    action, tenant = run_action(acme(emailDomains=["acme.com"], roles=["member"]))
    with tenant.tenant.store.lock:
        del tenant.tenant.store["roles"][tenant.role_ids["member"]]
    login = action.login(ALICE, email="a@acme.com", email_verified=True)
    assert (login.outcome, login.report["reason"]) == ("failed", "http-404")
    assert login.app_metadata_set is None  # no marker: the next login tries again


def test_the_grant_is_exactly_what_the_code_calls() -> None:
    plain = render_action(parse_config(acme(emailDomains=["acme.com"]), "t"))
    with_roles = render_action(parse_config(acme(emailDomains=["a.io"], roles=["member"]), "t"))
    assert plain.scopes == ("create:organization_members",)
    assert with_roles.scopes == (
        "create:organization_member_roles",
        "create:organization_members",
    )
    assert "/roles`" not in plain.code


def test_the_rule_must_say_who_may_join(run_action: Any) -> None:
    with pytest.raises(Exception, match="allowAnyUserOfConnection: true") as raised:
        parse_config(acme(), "t")
    assert "anyone in the world" in str(raised.value)


def test_hostile_domains_in_config_are_refused() -> None:
    for bad in ("acme.com/evil", "*.*.acme.com", "acme..com", "-acme.com", "acme", "a b.com"):
        with pytest.raises(Exception, match="is not a domain name"):
            parse_config(acme(emailDomains=[bad]), "t")


def test_one_organization_form_is_as_short_as_before() -> None:
    short = acme(emailDomains=["acme.com"])
    long = copy.deepcopy(short)
    organization = long.pop("organization")
    organization["connections"] = long.pop("connections")
    long["organizations"] = [organization]
    assert (
        render_action(parse_config(short, "t")).code == render_action(parse_config(long, "t")).code
    )
