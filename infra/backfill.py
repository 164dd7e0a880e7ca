"""Add the users who already exist to their organizations: ``python -m infra.backfill STACK``.

    AUTH0_BACKFILL_CLIENT_ID=... AUTH0_BACKFILL_CLIENT_SECRET=... \\
        python -m infra.backfill prod [--dry-run] [--rate 2]

Reads ``Pulumi.STACK.yaml`` for the tenant and the rules, exports the users of each configured
connection (Auth0's users export: a search stops at 1,000), keeps those the rules admit
(``infra.routing``, as the Action decides; rules that list applications need a login to tell,
so those organizations are left to the Action), and adds them through the members endpoint, 10 at
a time, gives the configured roles, and sets the marker the Action sets, so their next login
makes no request. Users already marked are skipped.

At most ``--rate`` requests a second (Auth0 documents 2 for free tenants); a 429 waits as long as
its ``Retry-After`` says. Progress is printed, and kept in ``.backfill/STACK.json`` after every
batch: run it again after an interruption and it goes on where it stopped. ``--dry-run`` writes
nothing and prints who would join what. Its credentials are its own (``infra.deployer_scopes``
``BACKFILL``), not the Action's nor the deployer's.
"""

from __future__ import annotations

import gzip
import http.client
import json
import ssl
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

from infra.config import ROOT, StackConfig
from infra.management_api import ManagementApi, UsageError, connect, quote, stack_command
from infra.routing import matching

BATCH = 10
"""Users per request to the members endpoint."""
EXPORT_FIELDS = ("user_id", "email", "email_verified", "app_metadata", "identities")


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = stack_command(
        "python -m infra.backfill",
        __doc__,
        "the stack whose tenant and rules to use, e.g. prod",
        root,
    )
    parser.add_argument("--dry-run", action="store_true", help="write nothing; print the plan")
    arguments = parser.parse_args(argv)
    root = arguments.project_dir
    try:
        config, api = connect(arguments, "BACKFILL", "the backfill's own credentials")
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    checkpoint = root / ".backfill" / f"{arguments.stack}.json"
    done: set[str] = (
        set(json.loads(checkpoint.read_text())["done"]) if checkpoint.is_file() else set()
    )
    organization_ids = {
        o.name: api.call("GET", f"/organizations/name/{quote(o.name)}")["id"]
        for o in config.organizations
    }
    plan = _plan(api, config, organization_ids, done)
    total = sum(len(names) for names, _ in plan.values())
    print(f"{len(plan)} users to add ({total} memberships); {len(done)} done before", flush=True)
    if arguments.dry_run:
        for user_id, (names, _) in plan.items():
            print(f"would add {user_id} to {', '.join(names)}")
        return 0
    role_ids = _role_ids(api, config)
    key = config.action.app_metadata_key
    users = list(plan.items())
    for start in range(0, len(users), BATCH):
        batch = users[start : start + BATCH]
        for organization in config.organizations:
            members = [user_id for user_id, (names, _) in batch if organization.name in names]
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
        for user_id, (names, existing) in batch:
            # app_metadata merges at the first level: the marker object is sent whole.
            markers = {**existing, **{organization_ids[name]: True for name in names}}
            api.call("PATCH", f"/users/{quote(user_id)}", {"app_metadata": {key: markers}})
            done.add(user_id)
        _save(checkpoint, done)
        print(f"{min(start + BATCH, len(users))}/{len(users)} users added", flush=True)
    return 0


def _plan(
    api: ManagementApi,
    config: StackConfig,
    organization_ids: dict[str, str],
    done: set[str],
) -> dict[str, tuple[list[str], dict[str, Any]]]:
    """User id -> (organizations they should join and have no marker for, their markers)."""
    plan: dict[str, tuple[list[str], dict[str, Any]]] = {}
    for connection in config.all_connections:
        for user in _export(api, connection):
            if user["user_id"] in done:
                continue
            identity = (user.get("identities") or [{}])[0]
            markers = (user.get("app_metadata") or {}).get(config.action.app_metadata_key) or {}
            names = [
                o.name
                for o in matching(config, user, connection, identity.get("provider", ""))
                if o.applications is None and markers.get(organization_ids[o.name]) is not True
            ]
            if names:
                plan[user["user_id"]] = (names, markers)
    return plan


def _export(api: ManagementApi, connection: str) -> list[dict[str, Any]]:
    """Every user of a connection, through a users export job."""
    (found,) = api.call("GET", f"/connections?name={quote(connection)}&fields=id,name")
    job = api.call(
        "POST",
        "/jobs/users-exports",
        {
            "connection_id": found["id"],
            "format": "json",
            "fields": [{"name": f} for f in EXPORT_FIELDS],
        },
    )
    while job["status"] != "completed":
        if job["status"] == "failed":
            raise RuntimeError(f"the users export of {connection} failed")
        time.sleep(1)
        job = api.call("GET", f"/jobs/{job['id']}")
    location = urllib.parse.urlsplit(job["location"])
    download = http.client.HTTPSConnection(
        location.netloc, timeout=300, context=ssl.create_default_context()
    )
    download.request(
        "GET", f"{location.path}?{location.query}" if location.query else location.path
    )
    content = gzip.decompress(download.getresponse().read()).decode()
    return [json.loads(line) for line in content.splitlines() if line.strip()]


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


def _save(checkpoint: Path, done: set[str]) -> None:
    checkpoint.parent.mkdir(exist_ok=True)
    temporary = checkpoint.with_suffix(".tmp")
    temporary.write_text(json.dumps({"done": sorted(done)}), encoding="utf-8")
    temporary.replace(checkpoint)


if __name__ == "__main__":
    sys.exit(main())
