"""Add the users who already exist to their organizations: ``python -m infra.backfill STACK``.

    AUTH0_BACKFILL_CLIENT_ID=... AUTH0_BACKFILL_CLIENT_SECRET=... \\
        python -m infra.backfill prod [--dry-run] [--rate 2]

Reads ``Pulumi.STACK.yaml`` for the tenant and the rules, exports the users of each configured
connection (Auth0's users export: a search stops at 1,000), and asks the Action's own rule
(``infra.membership``: action_templates/membership.js in Node) which organizations each user is
eligible for. Rules that list applications need a login to tell, so those organizations are
left to the Action. It adds the users through the members endpoint, at most 10 per request
(Auth0's limit), gives the configured roles, and sets the marker the Action sets, so their
next login makes no request.

The markers are its progress: a user already marked for an organization is skipped, so a run
stopped halfway goes on where it stopped, and an organization added to the configuration later
is backfilled in full. A record that is not a user (a line that is not JSON, no ``user_id``) is
skipped, counted and reported. At most ``--rate`` requests a second (Auth0 documents 2 for free
tenants), and Auth0's rate-limit headers are honoured (``infra.management_api``). ``--dry-run``
writes nothing and prints who would join what. Its credentials are its own
(``infra.deployer_scopes`` ``BACKFILL``), not the Action's nor the deployer's.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auth0_org_assignment.action_code import marker_key
from auth0_org_assignment.config import StackConfig
from infra import ROOT
from infra.management_api import (
    MEMBERS_PER_REQUEST,
    ManagementApi,
    connect,
    export_users,
    quote,
    reported,
    stack_command,
)
from infra.membership import USER_FIELDS, MembershipRule


@dataclass(frozen=True)
class Addition:
    """One user to add, and where."""

    user_id: str
    organizations: tuple[str, ...]
    """Names of the organizations to add them to."""


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = stack_command(
        "python -m infra.backfill",
        __doc__,
        "the stack whose tenant and rules to use, e.g. prod",
        root,
    )
    parser.add_argument("--dry-run", action="store_true", help="write nothing; print the plan")
    arguments = parser.parse_args(argv)
    return reported(lambda: _backfill(arguments))


def _backfill(arguments: argparse.Namespace) -> int:
    config, api = connect(arguments, "BACKFILL", "the backfill's own credentials")
    organization_ids = {
        o.name: api.call("GET", f"/organizations/name/{quote(o.name)}")["id"]
        for o in config.organizations
    }
    connections = {name: _connection(api, name) for name in config.all_connections}
    users: dict[str, dict[str, Any]] = {}
    malformed = 0
    for connection in connections.values():
        export = export_users(api, USER_FIELDS, connection["id"])
        malformed += export.malformed
        # A user with identities in two configured connections is in both exports.
        users.update((user["user_id"], user) for user in export.users)
    additions, marked = plan(config, organization_ids, users.values())
    total = sum(len(addition.organizations) for addition in additions)
    print(
        f"{len(additions)} users to add ({total} memberships); {marked} memberships marked "
        f"already; {malformed} records skipped (not a user)",
        flush=True,
    )
    if arguments.dry_run:
        for addition in additions:
            print(f"would add {addition.user_id} to {', '.join(addition.organizations)}")
        return 0
    add(api, config, organization_ids, additions)
    return 0


def plan(
    config: StackConfig,
    organization_ids: dict[str, str],
    users: Iterable[dict[str, Any]],
) -> tuple[list[Addition], int]:
    """Who joins which organization, and how many memberships are marked already: the users the
    rule finds eligible, less those marked, for organizations that list no applications."""
    names = {
        organization_ids[o.name]: o.name for o in config.organizations if o.applications is None
    }
    users = list(users)
    additions = []
    marked = 0
    with MembershipRule(config, organization_ids) as rule:
        for user, decision in zip(users, rule.decide(users), strict=True):
            eligible = [i for i in names if i in decision.eligible]
            # A "pending" marker is a members request that was never confirmed: add again.
            pending = [i for i in eligible if i not in decision.marked]
            marked += len(eligible) - len(pending)
            if pending:
                additions.append(Addition(user["user_id"], tuple(names[i] for i in pending)))
    return additions, marked


def add(
    api: ManagementApi,
    config: StackConfig,
    organization_ids: dict[str, str],
    additions: list[Addition],
) -> None:
    """Add, give roles, then mark, ``MEMBERS_PER_REQUEST`` users at a time; a batch is marked
    only once it is in, so an interruption leaves unmarked users who are tried again."""
    role_ids = _role_ids(api, config)
    for start in range(0, len(additions), MEMBERS_PER_REQUEST):
        batch = additions[start : start + MEMBERS_PER_REQUEST]
        for organization in config.organizations:
            members = [a.user_id for a in batch if organization.name in a.organizations]
            if not members:
                continue
            org_id = organization_ids[organization.name]
            api.call("POST", f"/organizations/{org_id}/members", {"members": members})
            for user_id in members if organization.roles else []:
                roles = [role_ids[role] for role in organization.roles]
                api.call(
                    "POST",
                    f"/organizations/{org_id}/members/{quote(user_id)}/roles",
                    {"roles": roles},
                )
        for addition in batch:
            # One top-level key per organization: Auth0 merges app_metadata one level deep, so
            # this sets these markers and leaves every other one as it is.
            markers = {
                marker_key(config, organization_ids[name]): True for name in addition.organizations
            }
            api.call("PATCH", f"/users/{quote(addition.user_id)}", {"app_metadata": markers})
        print(
            f"{min(start + MEMBERS_PER_REQUEST, len(additions))}/{len(additions)} users added",
            flush=True,
        )


def _connection(api: ManagementApi, name: str) -> dict[str, Any]:
    found = api.call("GET", f"/connections?name={quote(name)}&fields=id,name")
    if not found:
        raise RuntimeError(f"no connection named {name!r} in the tenant")
    connection: dict[str, Any] = found[0]
    return connection


def _role_ids(api: ManagementApi, config: StackConfig) -> dict[str, str]:
    ids = {}
    for role in {r for o in config.organizations for r in o.roles}:
        found = [
            r for r in api.call("GET", f"/roles?name_filter={quote(role)}") if r["name"] == role
        ]
        if not found:
            raise RuntimeError(f"no role named {role!r} in the tenant")
        ids[role] = found[0]["id"]
    return ids


if __name__ == "__main__":
    sys.exit(main())
