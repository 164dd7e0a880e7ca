"""Add the users who already exist to their organizations.

    AUTH0_BACKFILL_CLIENT_ID=... AUTH0_BACKFILL_CLIENT_SECRET=... \\
        auth0-org-assignment backfill prod --tier enterprise-production [--dry-run]

Reads ``Pulumi.STACK.yaml`` for the tenant and its organizations, the organizations' rules as
the deployed Actions hold them (``deployed_rules``: what logins apply, whatever the checkout
says; an organization no deployed Action holds gets nobody), exports the users of each
connection those rules name (Auth0's users export: a search stops at 1,000), and asks the Action's
own rule (``eligibility``: action_templates/membership.js in Node) which organizations each
user is eligible for, through the email domains proven now. Rules that list applications need a
login to tell, so those organizations are left to the Action. It adds the users through the
members endpoint, at most 10 per request (Auth0's limit), gives the roles the deployed rule
gives, and sets the marker the Action sets, so their next login makes no request.

The markers are its progress: a user already marked for an organization is skipped, so a run
stopped halfway goes on where it stopped, and an organization added to the configuration later
is backfilled in full. A record that is not a user (a line that is not JSON, no ``user_id``) is
skipped, counted and reported. It goes as fast as the documented rate limits of the tenant's
tier (``--tier``, or the deploy's ``AUTH0_RATE_LIMIT_TIER``; else the free tier's, the lowest)
allow, each bucket paced on its own, the markers written 4 at a time, and Auth0's rate-limit
headers are honoured (``management_client``); ``requests`` counts what it must send, from which
``pace`` gives the tier's bound. ``--dry-run`` writes nothing and prints who would join what.
A run that added nobody to some declared organizations because no bound Action holds their
rule exits 4 (``deployed_rules.NOT_HELD``).
Its credentials are its own, not the Action's nor the deployer's: the scopes of its ``CALLS``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from auth0_org_assignment.action_code import marker_key
from auth0_org_assignment.commands import deployed_rules
from auth0_org_assignment.commands.eligibility import USER_FIELDS, MembershipRule
from auth0_org_assignment.commands.management_client import (
    MEMBERS_PER_REQUEST,
    ApiError,
    ManagementClient,
    add_stack_arguments,
    connect,
    export_users,
    reported,
)
from auth0_org_assignment.config import StackConfig

CALLS = (
    *deployed_rules.CALLS,
    "organizations.get_by_name",
    "organizations.discovery_domains.get_by_name",
    "connections.list",
    "jobs.users_exports.create",
    "jobs.get",
    "organizations.members.create",
    "users.update",
    "organizations.member_roles.create",
)
"""The Management API calls it makes: its credentials need exactly their scopes."""


@dataclass(frozen=True)
class Addition:
    """One user to add, and where."""

    user_id: str
    organizations: tuple[str, ...]
    """Names of the organizations to add them to."""
    markers: dict[str, Any]
    """The marker to leave for each of them, by organization id (how, when and by which clause
    they came in: the rule's own record)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(
        parser,
        "the stack whose tenant and organizations to use (their rules: as deployed), e.g. prod",
    )
    parser.add_argument("--dry-run", action="store_true", help="write nothing; print the plan")


def run(arguments: argparse.Namespace) -> int:
    return reported(lambda: _backfill(arguments))


def _backfill(arguments: argparse.Namespace) -> int:
    config, api = connect(
        arguments, "BACKFILL", "the backfill's own credentials", CALLS, note_tier=True
    )
    organization_ids = {
        o.name: api.call("organizations.get_by_name", name=o.name)["id"]
        for o in config.organizations
    }
    # The deployed rule: as the bound Actions hold it, through the domains proven now and (with
    # connectionCheck: api) the connections enabled now.
    read = deployed_rules.read(api, config, organization_ids)
    proven = read.proven
    deployed = {
        i: deployed_rules.with_enabled(rule, read.disabled.get(i, ()))
        for i, rule in read.rules.items()
    }
    not_held = [o.name for o in config.organizations if organization_ids[o.name] not in deployed]
    for name in not_held:
        print(
            deployed_rules.not_held(config, name, "nobody is added to it"),
            file=sys.stderr,
            flush=True,
        )
    status = deployed_rules.NOT_HELD if not_held else 0
    # The connections the deployed rules name, whatever the checkout does.
    names = sorted({c for rule in deployed.values() for c in rule["connections"]})
    users: dict[str, dict[str, Any]] = {}
    malformed = 0
    for connection in (_connection(api, name) for name in names):
        export = export_users(api, USER_FIELDS, connection["id"])
        malformed += export.malformed
        # A user with identities in two configured connections is in both exports.
        users.update((user["user_id"], user) for user in export.users)
    additions, marked = plan(config, organization_ids, users.values(), proven, deployed)
    total = sum(len(addition.organizations) for addition in additions)
    print(
        f"{len(additions)} users to add ({total} memberships); {marked} memberships marked "
        f"already; {malformed} records skipped (not a user)",
        flush=True,
    )
    roles = {i: list(rule.get("roles", [])) for i, rule in deployed.items()}
    print(api.least_time(requests(config, organization_ids, additions, roles), total), flush=True)
    if arguments.dry_run:
        for addition in additions:
            print(f"would add {addition.user_id} to {', '.join(addition.organizations)}")
        return status
    add(api, config, organization_ids, additions, roles)
    return status


def plan(
    config: StackConfig,
    organization_ids: dict[str, str],
    users: Iterable[dict[str, Any]],
    proven: Mapping[str, Collection[str]] | None = None,
    deployed: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[list[Addition], int]:
    """Who joins which organization, and how many memberships are marked already: the users the
    rule finds eligible, less those marked, for organizations that list no applications.
    ``proven``: the email domains proven for each organization, which alone admit (all the
    configured ones when it is None). ``deployed``: the organizations' rules as the deployed
    Actions hold them, by id (``deployed_rules``), which the backfill applies instead of the
    configuration's; an organization they do not hold gets nobody."""
    if deployed is None:
        names = {
            organization_ids[o.name]: o.name for o in config.organizations if o.applications is None
        }
        rules = None
    else:
        names = {
            organization_ids[o.name]: o.name
            for o in config.organizations
            if organization_ids[o.name] in deployed
            and "applications" not in deployed[organization_ids[o.name]]
        }
        rules = [
            deployed_rules.held_to_proofs(deployed[i], None if proven is None else proven[name])
            for i, name in names.items()
        ]
    users = list(users)
    additions = []
    marked = 0
    with MembershipRule(config, organization_ids, proven=proven, rules=rules) as rule:
        for user, decision in zip(users, rule.decide(users), strict=True):
            eligible = [i for i in names if i in decision.eligible]
            # A "pending" marker is a members request that was never confirmed: add again.
            pending = [i for i in eligible if i not in decision.marked]
            marked += len(eligible) - len(pending)
            if pending:
                additions.append(
                    Addition(
                        user["user_id"],
                        tuple(names[i] for i in pending),
                        {i: decision.markers[i] for i in pending},
                    )
                )
    return additions, marked


def add(
    api: ManagementClient,
    config: StackConfig,
    organization_ids: dict[str, str],
    additions: list[Addition],
    roles: Mapping[str, Sequence[str]],
) -> None:
    """Add, give roles (``roles``: the ids of each organization's, by its id, as the deployed
    rule gives them), then mark, ``MEMBERS_PER_REQUEST`` users at a time; a batch is marked
    only once it is in, so an interruption leaves unmarked users who are tried again. When a
    request fails after a members request took (a role deleted since the deploy, say), those it
    made members are marked pending before the run stops, as the Action marks a login that
    failed so: reconcile still knows the membership is the stack's, and the next run adds
    them again."""
    for start in range(0, len(additions), MEMBERS_PER_REQUEST):
        batch = additions[start : start + MEMBERS_PER_REQUEST]
        joined: dict[str, dict[str, Any]] = {}
        try:
            for organization in config.organizations:
                members = [a.user_id for a in batch if organization.name in a.organizations]
                if not members:
                    continue
                org_id = organization_ids[organization.name]
                api.call("organizations.members.create", {"members": members}, id=org_id)
                for addition in batch:
                    if addition.user_id in members:
                        pending = {**addition.markers[org_id], "pending": True}
                        joined.setdefault(addition.user_id, {})[org_id] = pending
                if roles.get(org_id):
                    given = {"roles": list(roles[org_id])}
                    _raise_first(
                        api.each(
                            "organizations.member_roles.create",
                            [(given, {"id": org_id, "user_id": user_id}) for user_id in members],
                        )
                    )
        except Exception:
            _mark(api, config, list(joined.items()))
            raise
        _mark(api, config, [(a.user_id, a.markers) for a in batch])
        print(
            f"{min(start + MEMBERS_PER_REQUEST, len(additions))}/{len(additions)} users added",
            flush=True,
        )


def _mark(
    api: ManagementClient, config: StackConfig, markers: Sequence[tuple[str, Mapping[str, Any]]]
) -> None:
    """Leave each user (by id) these markers (by organization id)."""
    # One top-level key per organization: Auth0 merges app_metadata one level deep, so this
    # sets these markers and leaves every other one as it is.
    _raise_first(
        api.each(
            "users.update",
            [
                ({"app_metadata": {marker_key(config, i): m for i, m in marked.items()}}, {"id": u})
                for u, marked in markers
            ],
        )
    )


def _raise_first(answers: list[Any]) -> None:
    """The first error among ``each``'s answers, raised: the batch is not done."""
    for answer in answers:
        if isinstance(answer, ApiError):
            raise answer


def requests(
    config: StackConfig,
    organization_ids: dict[str, str],
    additions: list[Addition],
    roles: Mapping[str, Sequence[str]],
) -> Counter[str]:
    """The writes ``add`` sends for ``additions`` (``roles`` as for it), by call: what a tier's
    bound is computed on (``rate_limits``; the reads before them are a few, whatever the number
    of users)."""
    calls: Counter[str] = Counter()
    for start in range(0, len(additions), MEMBERS_PER_REQUEST):
        batch = additions[start : start + MEMBERS_PER_REQUEST]
        for organization in config.organizations:
            members = sum(organization.name in a.organizations for a in batch)
            if members:
                calls["organizations.members.create"] += 1
                if roles.get(organization_ids[organization.name]):
                    calls["organizations.member_roles.create"] += members
        calls["users.update"] += len(batch)
    return calls


def _connection(api: ManagementClient, name: str) -> dict[str, Any]:
    found = api.call("connections.list", query={"name": name, "fields": "id,name"})
    if not found:
        raise RuntimeError(f"no connection named {name!r} in the tenant")
    connection: dict[str, Any] = found[0]
    return connection
