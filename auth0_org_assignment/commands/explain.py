"""Say why a user is, or is not, in each of the stack's organizations.

    AUTH0_EXPLAIN_CLIENT_ID=... AUTH0_EXPLAIN_CLIENT_SECRET=... \\
        auth0-org-assignment explain prod (--user-id auth0|123 | --email alice@acme.com)
        [--connection NAME] [--application CLIENT_ID] [--organization ORG_ID]

For each organization the stack declares: whether the user is a member, how they came in (the
marker the stack left: by a login or the backfill, when, by which clause), and what the rule
says of them now, decided by the Action's own code (``eligibility``) on the rule the login flow
runs (read from the deployed Actions, ``deployed_rules``, through the email domains proven now;
an organization no deployed Action holds is said to be so): the clause that admits them, or why
not (the email is not verified, its connection is not trusted to verify it, it is not in the
organization's domains, its domain is not proven, its connection is not enabled on the
organization with ``connectionCheck: api``, the user is blocked, ...). With
``--connection`` (and ``--application``, ``--organization``) it says what a login through that
connection would do, as the Action decides: a login to another organization, or to an
application the organization does not list, assigns to none. Reads only: its credentials need
the scopes of its ``CALLS``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Collection
from typing import Any

from auth0_org_assignment import contract
from auth0_org_assignment.action_code import marker_key
from auth0_org_assignment.commands import deployed_rules
from auth0_org_assignment.commands.eligibility import (
    NOT_PROVEN,
    Login,
    MembershipRule,
    deployed_rule,
    refusal_as_if,
)
from auth0_org_assignment.commands.management_client import (
    ManagementClient,
    UsageError,
    add_stack_arguments,
    connect,
    reported,
)
from auth0_org_assignment.config import StackConfig
from auth0_org_assignment.config.email_domains import mailbox_provider

CALLS = (
    *deployed_rules.CALLS,
    "organizations.get_by_name",
    "organizations.discovery_domains.get_by_name",
    "users.get",
    "users.list_by_email",
    "users.organizations.list",
)
"""The Management API calls it makes, every one a read: its credentials need exactly their
scopes."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(
        parser,
        "the stack whose tenant and organizations to use (their rules: as deployed), e.g. prod",
    )
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--user-id", help="the user's id, e.g. auth0|64f0...")
    who.add_argument("--email", help="the user's email (every user with it is explained)")
    parser.add_argument(
        "--connection", help="explain a login through this connection, as the Action decides it"
    )
    parser.add_argument("--application", help="with --connection: the login's client id")
    parser.add_argument("--organization", help="with --connection: the organization id it is to")
    parser.add_argument("--json", action="store_true", help="print the explanation as JSON")


def run(arguments: argparse.Namespace) -> int:
    return reported(lambda: _explain(arguments))


def _explain(arguments: argparse.Namespace) -> int:
    if (arguments.application or arguments.organization) and not arguments.connection:
        raise UsageError("--application and --organization describe a login: add --connection")
    config, api = connect(arguments, "EXPLAIN", "read-only credentials", CALLS)
    users = (
        [api.call("users.get", id=arguments.user_id)]
        if arguments.user_id
        else api.call("users.list_by_email", query={"email": arguments.email})
    )
    if not users:
        raise UsageError(f"no user has the email {arguments.email!r} in the tenant")
    organization_ids = {
        o.name: api.call("organizations.get_by_name", name=o.name)["id"]
        for o in config.organizations
    }
    login = (
        Login(arguments.connection, arguments.application, arguments.organization)
        if arguments.connection
        else None
    )
    deployed = deployed_rules.read(api, config, organization_ids)
    explained = [
        explanation(
            config, organization_ids, user, _memberships(api, user["user_id"]), login, deployed
        )
        for user in users
    ]
    if arguments.json:
        print(json.dumps(explained if arguments.email else explained[0], indent=2))
    else:
        print("\n\n".join(report(e) for e in explained))
    return 0


def explanation(
    config: StackConfig,
    organization_ids: dict[str, str],
    user: dict[str, Any],
    member_of: set[str],
    login: Login | None,
    deployed: deployed_rules.Deployed | None = None,
) -> dict[str, Any]:
    """For each of the stack's organizations: member or not, the marker, and what the rule says
    (``admittedBy`` the clause, or ``refusal`` and ``why`` in words). With ``deployed``
    (``deployed_rules.read``), the rule is the one logins apply: a user it refuses whom an
    unproven domain would admit is refused for ``NOT_PROVEN``, and an organization no deployed
    Action holds says so (``deployed: false``) instead; without, the configuration's."""
    # ``ours``: the markers as the Action, the backfill and reconcile read them (marker.js): a
    # value they do not take for this stack's (false, a malformed record) is no marker.
    rules = None if deployed is None else deployed_rule(config, organization_ids, deployed)
    held = None if rules is None else rules.held
    with MembershipRule(config, organization_ids, rules=held) as rule:
        decisions, ours = rule.explain(user, login)
    if rules is not None:
        # A refusal reads as reconcile's: a missing proof, else a connection not enabled, that
        # refuses, else the reason the domains a login held give.
        as_if: dict[str, dict[str, Any]] = {}
        for missing, rules_as_if in rules.as_if():
            with MembershipRule(config, organization_ids, rules=rules_as_if) as other:
                as_if[missing], _ = other.explain(user, login)
        for organization_id, said in decisions.items():
            if "refusal" in said:
                said["refusal"] = refusal_as_if(
                    said["refusal"],
                    {m: "refusal" not in d[organization_id] for m, d in as_if.items()},
                    as_if[NOT_PROVEN][organization_id].get("refusal"),
                )
    # Without a login the rule reads no application: where a rule lists them, it admits only at
    # a login to one of them (the backfill leaves it to the Action), which the answer says.
    by_id = {r["id"]: r.get("applications") for r in held or ()}
    listed = (
        {o.name: o.applications for o in config.organizations}
        if held is None
        else {name: by_id.get(i) for name, i in organization_ids.items()}
    )
    reasons = contract.refusals()
    metadata = user.get("app_metadata") if isinstance(user.get("app_metadata"), dict) else {}
    organizations = {}
    for name, organization_id in organization_ids.items():
        decision: dict[str, Any] = (
            dict(decisions[organization_id])
            if organization_id in decisions
            else {"deployed": False}
        )
        if "refusal" in decision:
            decision["why"] = reasons[decision["refusal"]] + _free_mail(user, decision)
            if deployed is not None and decision["refusal"] == NOT_PROVEN:
                decision["why"] += _unanswered(user, deployed.unanswered.get(name, ()))
        if "admittedBy" in decision and login is None and listed.get(name):
            decision["applications"] = listed[name]
        organizations[name] = {
            "id": organization_id,
            "member": organization_id in member_of,
            "marker": (
                (metadata or {}).get(marker_key(config, organization_id))
                if organization_id in ours
                else None
            ),
            **decision,
        }
    return {"user_id": user["user_id"], "email": user.get("email"), "organizations": organizations}


def report(explained: dict[str, Any]) -> str:
    """The explanation in lines: one per organization."""
    lines = [f"{explained['user_id']} ({explained['email']}):"]
    for name, found in explained["organizations"].items():
        membership = "member" if found["member"] else "not a member"
        marker = found["marker"]
        if isinstance(marker, dict):
            membership += f", added by a {marker.get('via')} at {marker.get('at')}"
            membership += f" through {marker.get('by')}"
        elif marker is not None:
            membership += ", added by this stack (a marker from before markers said how)"
        at = (
            f", at a login to one of its applications ({', '.join(found['applications'])})"
            if found.get("applications")
            else ""
        )
        rule = (
            f"admitted by {found['admittedBy']}{at}"
            if "admittedBy" in found
            else f"not admitted: {found['why']}"
            if "why" in found
            else "no Action bound to the login flow holds its rule (pulumi up first): no login "
            "assigns anyone to it"
        )
        lines.append(f"  {name} ({found['id']}): {membership}; {rule}")
    return "\n".join(lines)


def _memberships(api: ManagementClient, user_id: str) -> set[str]:
    return {o["id"] for o in api.pages("users.organizations.list", None, id=user_id)}


def _email_domain(user: dict[str, Any]) -> str:
    """The domain of the user's own address, lowercase; empty when they have none."""
    email = user.get("email")
    return email.rpartition("@")[2].lower() if isinstance(email, str) else ""


def _unanswered(user: dict[str, Any], unanswered: Collection[str]) -> str:
    """Why a domain counts as not proven when DNS did not answer its lookup: not its owner's
    doing, as the refusal's words would say."""
    domain = _email_domain(user)
    for apex in unanswered:
        if domain == apex or domain.endswith(f".{apex}"):
            return (
                f" (here DNS did not answer the lookup of {apex}'s record this run, so it "
                "counts as not proven: run again, or auth0-org-assignment domains STACK, once "
                "DNS answers)"
            )
    return ""


def _free_mail(user: dict[str, Any], decision: dict[str, str]) -> str:
    """Why no domain of the organization's takes the user's address, when it is free mail."""
    domain = _email_domain(user)
    if decision["refusal"] != "email-domain-not-in-rule" or not domain:
        return ""
    if mailbox_provider(domain) is None:
        return ""
    return (
        f" ({domain} is a free-mail or throwaway-mail domain, which an organization admits only "
        "with allowFreeMailDomains)"
    )
