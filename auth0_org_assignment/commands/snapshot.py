"""Count the tenant's users by what the rule reads of them, for impact previews.

    AUTH0_SNAPSHOT_CLIENT_ID=... AUTH0_SNAPSHOT_CLIENT_SECRET=... \\
        auth0-org-assignment snapshot prod [--output population-prod.json]

Exports every user (Auth0's users export) and keeps, for each, only what the membership rule
reads: each identity's connection and strategy, its email's domain as the rule reads it, and
whether that email is verified; whether the user is blocked; and which of the stack's
organizations they carry its marker for. Users of the same shape become one row with a count:
no user id, email address or name leaves the tenant. A pull request's ``impact`` computes from
it, with no credential, who its change would let in. Reads only (the scopes of its ``CALLS``):
reconcile's read access is enough.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auth0_org_assignment.commands.eligibility import USER_FIELDS, MembershipRule
from auth0_org_assignment.commands.management_client import (
    add_stack_arguments,
    connect,
    export_users,
    reported,
)
from auth0_org_assignment.config import StackConfig

CALLS = ("organizations.get_by_name", "jobs.users_exports.create", "jobs.get")
"""The Management API calls it makes, every one a read."""
FORMAT = 1
"""The snapshot file's format; ``impact`` refuses another."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser, "the stack whose tenant and organizations to count, e.g. prod")
    parser.add_argument(
        "--output", type=Path, help="where to write it (default: population-STACK.json)"
    )


def run(arguments: argparse.Namespace) -> int:
    return reported(lambda: _snapshot(arguments))


def _snapshot(arguments: argparse.Namespace) -> int:
    config, api = connect(arguments, "SNAPSHOT", "read-only credentials", CALLS)
    organization_ids = {
        o.name: api.call("organizations.get_by_name", name=o.name)["id"]
        for o in config.organizations
    }
    export = export_users(api, USER_FIELDS)
    document = snapshot(config, organization_ids, export.users)
    output = arguments.output or Path(f"population-{arguments.stack}.json")
    output.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    users = sum(row["count"] for row in document["population"])
    print(f"{output}: {users} users in {len(document['population'])} shapes")
    return 0


def snapshot(
    config: StackConfig, organization_ids: dict[str, str], users: list[dict[str, Any]]
) -> dict[str, Any]:
    """The population of ``users``: one row per shape, with its count."""
    names = {organization_id: name for name, organization_id in organization_ids.items()}
    with MembershipRule(config, organization_ids) as rule:
        shapes = Counter(
            json.dumps(
                {
                    "identities": shape["identities"],
                    "blocked": shape["blocked"],
                    "marked": sorted(names[i] for i in shape["marked"]),
                    "pending": sorted(names[i] for i in shape["pending"]),
                },
                sort_keys=True,
            )
            for shape in rule.shapes(users)
        )
    return {
        "format": FORMAT,
        "tenant": config.tenant_domain,
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "organizations": organization_ids,
        "population": [
            {**json.loads(shape), "count": count} for shape, count in sorted(shapes.items())
        ],
    }
