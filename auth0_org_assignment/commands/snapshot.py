"""Count the tenant's users by what the rule reads of them, for impact previews.

    AUTH0_SNAPSHOT_CLIENT_ID=... AUTH0_SNAPSHOT_CLIENT_SECRET=... \\
        auth0-org-assignment snapshot prod [--output population-prod.json]

Exports every user (Auth0's users export) and keeps, for each, only what the membership rule
reads: each identity's connection and strategy, its email's domain as the rule reads it, and
whether that email is verified; whether the user is blocked; and which of the stack's
organizations they carry its marker for. Users of the same shape become one row with a count:
no user id, email address or name leaves the tenant, and no email domain is written in it: a
domain one person uses (their own, a small company's) would name them, and the list would say
which companies use the tenant. Each domain is kept as salted digests of it and of every domain
above it (:func:`domain_digests`, salted anew for each snapshot), which ``impact`` compares with
the digests of the domains the configurations name: it learns which users are at, or under, a
configured domain, and nothing of the others. A reader of the file who tries a list of domains
(a zone file's) can still find those on it, as ``impact`` does: the digests keep domains from
being read off the file, not from such a reader.

A pull request's ``impact`` computes from it, with no credential, who its change would let in.
Reads only (the scopes of its ``CALLS``): reconcile's read access is enough.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import secrets
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
FORMAT: Literal[2] = 2
"""The snapshot file's format; ``impact`` refuses another. Format 1 kept email domains as
written; 2 keeps their digests (:func:`domain_digests`)."""
SALT_BYTES = 16
"""The length of each snapshot's salt (its ``salt``, in hex)."""


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Identity(_Strict):
    """What a snapshot keeps of one of a user's identities."""

    connection: str
    strategy: str
    domain_digests: list[Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]] | None
    """:func:`domain_digests` of its email's domain as the rule reads it; None: no email the
    rule reads as one."""
    verified: bool


class Shape(_Strict):
    """Users alike in all the rule reads of them, and how many."""

    identities: list[Identity]
    blocked: bool
    marked: list[str]
    """The names of the organizations they carry the stack's marker for."""
    pending: list[str]
    """The names of those whose marker says a membership request's outcome is not known."""
    count: Annotated[int, Field(ge=1)]


class Population(_Strict):
    """A snapshot file."""

    format: Literal[2]
    tenant: str
    taken_at: str
    salt: Annotated[str, Field(pattern=rf"^[0-9a-f]{{{2 * SALT_BYTES}}}$")]
    """Its digests' salt, made for it alone: a digest in one snapshot matches none in another,
    and no table of digests made beforehand reads it."""
    organizations: dict[str, str]
    """The stack's organizations then, by name: their ids."""
    population: list[Shape]

    @model_validator(mode="after")
    def _marks_its_own_organizations(self) -> Population:
        for number, shape in enumerate(self.population):
            for key in ("marked", "pending"):
                unknown = sorted(set(getattr(shape, key)) - set(self.organizations))
                if unknown:
                    raise ValueError(
                        f"population[{number}].{key} names {', '.join(unknown)}, not among "
                        "its organizations"
                    )
        return self


def domain_digests(salt: str, domain: str) -> list[str]:
    """What a snapshot keeps of an email domain: the digest of the domain, then of each domain
    above it (``eu.acme.com``: ``eu.acme.com``, ``acme.com``, ``com``), so that whether it is a
    configured domain, or under a ``*.`` one, can be told from the configured domain's digest."""
    labels = domain.split(".")
    return [digest(salt, ".".join(labels[n:])) for n in range(len(labels))]


def digest(salt: str, domain: str) -> str:
    """HMAC-SHA-256 of ``domain`` keyed with the snapshot's ``salt``, its first 128 bits in hex."""
    return hmac.new(bytes.fromhex(salt), domain.encode(), hashlib.sha256).hexdigest()[:32]


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
    output.write_text(document.model_dump_json(indent=1) + "\n", encoding="utf-8")
    users = sum(shape.count for shape in document.population)
    print(f"{output}: {users} users in {len(document.population)} shapes")
    return 0


def snapshot(
    config: StackConfig, organization_ids: dict[str, str], users: list[dict[str, Any]]
) -> Population:
    """The population of ``users``: one row per shape, with its count."""
    names = {organization_id: name for name, organization_id in organization_ids.items()}
    salt = secrets.token_hex(SALT_BYTES)
    with MembershipRule(config, organization_ids) as rule:
        shapes = Counter(
            Shape(
                identities=[
                    Identity(
                        connection=identity["connection"],
                        strategy=identity["strategy"],
                        domain_digests=None
                        if identity["domain"] is None
                        else domain_digests(salt, identity["domain"]),
                        verified=identity["verified"],
                    )
                    for identity in shape["identities"]
                ],
                blocked=shape["blocked"],
                marked=sorted(names[i] for i in shape["marked"]),
                pending=sorted(names[i] for i in shape["pending"]),
                count=1,
            ).model_dump_json()
            for shape in rule.shapes(users)
        )
    return Population(
        format=FORMAT,
        tenant=config.tenant_domain,
        taken_at=datetime.now(UTC).isoformat(timespec="seconds"),
        salt=salt,
        organizations=organization_ids,
        population=[
            Shape.model_validate_json(shape).model_copy(update={"count": count})
            for shape, count in sorted(shapes.items())
        ],
    )
