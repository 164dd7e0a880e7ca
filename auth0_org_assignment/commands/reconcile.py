"""Membership that follows the rules: remove the members who no longer match.

    AUTH0_RECONCILE_CLIENT_ID=... AUTH0_RECONCILE_CLIENT_SECRET=... \\
        auth0-org-assignment reconcile prod --tier enterprise-production [--dry-run]

Removes from each organization the stack declares the members this stack added (they carry its
marker) who no longer match the organization's rule, as the Action's own code decides it
(``eligibility``): their email left the domains or is no longer verified, no identity comes
through a connection the rule lists, or they are blocked. The rule is the one the login flow
runs, read from the deployed Actions as the backfill reads it (``deployed_rules``), not from the
checkout, so a run from a branch removes nobody a login would keep; an organization no deployed
Action holds is left alone, with a warning. It admits through proven email domains alone, as
the deployed Action does (``domains.proven_domains``; a domain whose lookup DNS does not answer
counts as proven this run, so nobody leaves on no answer). A member who stands only through a
domain that is not proven (never was, lost its record, or awaits the proof a deploy declared)
is kept and reported, and the dry run exits 3 for them too: a lost record must not empty an
organization by itself. ``--remove-unproven`` removes them, once a person has looked. A member
who stands only through a connection the rule lists that is not enabled on the organization now
(``connectionCheck: api``) is also kept and reported, and the dry run exits 3 for them, but
``--remove-unproven`` does not remove them: a connection disabled in the dashboard stops
admitting at once, and its members leave once the configuration no longer lists it. (Auth0
reads discovery domains with eventual consistency: one a deploy declared in the last minutes
may not be read yet, and its members then leave as outside the rule; run reconcile some
minutes after a deploy that declared domains.) Their
marker for that organization is cleared, so a later login checks them again. It removes only
members carrying the stack's marker, which the rule leaves on whoever it admits at a login or a
backfill (a member added by hand carries none until the rule admits them so: docs/limits.md):
whatever the reason, a removal is planned only for a member whose marker it read, so a member
whose user cannot be read (a 404: deleted since the export, or a spurious answer) is reported
and left alone. It never touches an organization the stack does not declare. Users who carry
the marker but are no longer members were removed by a person: they are reported, not
re-added.

It reads every user through one users export, each organization's members, then removes at
most 10 members a request (Auth0's limit) and clears markers (4 at a time), as fast as the
documented limits of the tenant's tier allow (``--tier``, as for the backfill), honouring Auth0's
rate-limit headers. Before it changes anything it keeps its plan in
``.reconcile/STACK.json`` (mode 600) and its progress after every batch: run it again after an
interruption and it finishes that plan. ``--dry-run`` changes nothing, prints who would leave
which organization and why, and exits 3 when someone would, or stands only through an email
domain that is not proven or a connection not enabled now. A run that left an organization
alone because no deployed Action holds its rule exits 4 (``deployed_rules.NOT_HELD``) when
nothing else fails it. Its credentials are its own: the
scopes of its ``CALLS`` (a dry run only those of ``DRY_RUN_CALLS``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Collection
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from auth0_org_assignment import contract
from auth0_org_assignment.action_code import marker_key
from auth0_org_assignment.commands import checkpoint, deployed_rules
from auth0_org_assignment.commands.eligibility import (
    NOT_ENABLED,
    NOT_PROVEN,
    USER_FIELDS,
    deployed_decisions,
)
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

DRY_RUN_CALLS = (
    *deployed_rules.CALLS,
    "organizations.get_by_name",
    "organizations.discovery_domains.get_by_name",
    "organizations.members.list",
    "jobs.users_exports.create",
    "jobs.get",
    "users.get",
)
"""The Management API calls a dry run makes: it reads, and changes nothing."""
CALLS = (*DRY_RUN_CALLS, "organizations.members.delete", "users.update")
"""The Management API calls it makes: its credentials need exactly their scopes."""

WOULD_LEAVE = 3
"""The exit status of a dry run that finds members who would leave, or who stand only through
an email domain that is not proven or a connection not enabled now."""
REASONS = contract.refusals()
"""Why a member leaves: the rule's refusals (``contract.json``)."""


@dataclass(frozen=True)
class Departure:
    """One member who leaves one organization, and why."""

    organization: str
    organization_id: str
    user_id: str
    reason: str


@dataclass
class Plan:
    """What a run finds: who leaves, and what it leaves alone."""

    organization_ids: dict[str, str] = field(default_factory=dict)
    """The declared organizations' ids, by name."""
    departures: list[Departure] = field(default_factory=list)
    removed_by_hand: list[tuple[str, str]] = field(default_factory=list)
    """(organization, user id): marked by this stack, but no longer a member."""
    unproven: list[tuple[str, str]] = field(default_factory=list)
    """(organization, user id): added by this stack, standing only through an email domain that
    is not proven; kept unless ``remove_unproven``, which makes them departures."""
    remove_unproven: bool = False
    not_enabled: list[tuple[str, str]] = field(default_factory=list)
    """(organization, user id): added by this stack, standing only through a connection the
    rule lists that is not enabled on the organization now: kept."""
    undeployed: list[str] = field(default_factory=list)
    """Declared organizations whose rule no deployed Action holds (not deployed yet): their
    members are left alone."""
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    """(organization, user id): a member whose user could not be read (404), so whose marker
    could not be: never touched."""
    staying: int = 0
    """Members this stack added who still match."""
    not_ours: int = 0
    """Members without this stack's marker: never touched."""
    malformed: int = 0
    """Export records that were not users."""

    def as_json(self) -> dict[str, Any]:
        return {
            "organization_ids": self.organization_ids,
            "departures": [asdict(d) for d in self.departures],
            "remove_unproven": self.remove_unproven,
            "undeployed": self.undeployed,
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Plan:
        return cls(
            organization_ids=dict(document["organization_ids"]),
            departures=[Departure(**d) for d in document["departures"]],
            remove_unproven=bool(document.get("remove_unproven", False)),
            undeployed=list(document.get("undeployed", [])),  # none in a plan saved before
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(
        parser,
        "the stack whose tenant and organizations to use (their rules: as deployed), e.g. prod",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="change nothing; print who would leave and why"
    )
    parser.add_argument(
        "--remove-unproven",
        action="store_true",
        help="also remove the members who stand only through an email domain that is not proven "
        "(kept and reported without it)",
    )


def run(arguments: argparse.Namespace) -> int:
    return reported(lambda: _reconcile(arguments))


def _reconcile(arguments: argparse.Namespace) -> int:
    calls = DRY_RUN_CALLS if arguments.dry_run else CALLS
    config, api = connect(
        arguments, "RECONCILE", "reconcile's own credentials", calls, note_tier=True
    )
    progress_file = arguments.project_dir / ".reconcile" / f"{arguments.stack}.json"
    key = _plan_key(config, arguments.remove_unproven)
    saved = checkpoint.load(progress_file)
    if saved is not None and saved.get("key") != key:
        print(
            f"error: {progress_file} holds an unfinished run for another configuration, "
            "tenant or --remove-unproven (this one is run "
            f"{'with' if arguments.remove_unproven else 'without'} it): finish it with those, "
            "or delete the file to start anew "
            "(members it removed without clearing their marker then read as removed by hand)",
            file=sys.stderr,
        )
        return 2
    if saved is not None and not arguments.dry_run:
        plan, done = Plan.from_json(saved["plan"]), int(saved["done"])
        print(f"resuming the run that stopped after {done} of {_users(plan)} users", flush=True)
        for organization in plan.undeployed:
            print(_left_alone_line(organization), file=sys.stderr, flush=True)
    else:
        plan, done = review(api, config, arguments.remove_unproven), 0
        _report(api, config, arguments.stack, plan, arguments.dry_run)
        if arguments.dry_run:
            if plan.departures or plan.unproven or plan.not_enabled:
                return WOULD_LEAVE
            return deployed_rules.NOT_HELD if plan.undeployed else 0
    undeployed = apply(api, config, plan, done, progress_file, key, recheck=saved is not None)
    progress_file.unlink(missing_ok=True)
    return deployed_rules.NOT_HELD if undeployed or plan.undeployed else 0


def _report(
    api: ManagementClient, config: StackConfig, stack: str, plan: Plan, dry_run: bool
) -> None:
    """What a plan just made does: its summary, least time, and every member it names."""
    for organization in plan.undeployed:
        print(_undeployed_line(config, organization), file=sys.stderr, flush=True)
    print(summary(stack, plan), flush=True)
    print(api.least_time(requests(plan), len(plan.departures)), flush=True)
    for departure in plan.departures:
        print(
            f"{'would remove' if dry_run else 'removing'} {departure.user_id} "
            f"from {departure.organization}: {REASONS[departure.reason]}"
        )
    for organization, user_id in plan.removed_by_hand:
        print(f"{user_id} was removed from {organization} by hand: not re-added")
    for organization, user_id in plan.unproven:
        print(_kept_line(NOT_PROVEN, organization, user_id))
    for organization, user_id in plan.not_enabled:
        print(_kept_line(NOT_ENABLED, organization, user_id))
    for organization, user_id in plan.unreadable:
        print(
            f"{user_id}, a member of {organization}, could not be read (404): left alone, "
            "since only a member whose marker was read is removed"
        )


def review(api: ManagementClient, config: StackConfig, remove_unproven: bool = False) -> Plan:
    """Who leaves which organization, decided by the Action's rule, as deployed, on every user;
    those who stand only through an email domain that is not proven leave with
    ``remove_unproven``, else they are kept and listed (``Plan.unproven``)."""
    organization_ids = {
        o.name: api.call("organizations.get_by_name", name=o.name)["id"]
        for o in config.organizations
    }
    # The deployed rule: an email domain admits once proven, at reconcile as at a login.
    deployed = deployed_rules.read(api, config, organization_ids, unanswered_admits=True)
    export = export_users(api, USER_FIELDS)
    users = {user["user_id"]: user for user in export.users}
    members = _members(api, {i for i in organization_ids.values() if i in deployed.rules})
    # Members the export does not hold: created since, or deleted. Whoever cannot be read
    # shows no marker, so is not known to be this stack's: left alone, whatever the 404 means.
    found, unreadable = _read_users(api, set().union(*members.values()) - users.keys())
    users |= found
    decisions = deployed_decisions(config, organization_ids, deployed, users)
    plan = Plan(
        organization_ids=organization_ids,
        remove_unproven=remove_unproven,
        malformed=export.malformed,
    )
    for organization in config.organizations:
        organization_id = organization_ids[organization.name]
        if organization_id not in deployed.rules:
            plan.undeployed.append(organization.name)
            continue
        for user_id in sorted(members[organization_id]):
            if user_id in unreadable:
                plan.unreadable.append((organization.name, user_id))
                continue
            decision = decisions[user_id]
            # A "pending" marker counts as this stack's: its members request was sent.
            if organization_id not in decision.marked | decision.pending:
                plan.not_ours += 1
            elif organization_id in decision.eligible:
                plan.staying += 1
            else:
                reason = decision.refusals[organization_id]
                plan.departures.append(
                    Departure(organization.name, organization_id, user_id, reason)
                )
        plan.removed_by_hand += [
            (organization.name, user_id)
            for user_id, decision in decisions.items()
            if organization_id in decision.marked and user_id not in members[organization_id]
        ]
    # A users export may hold less of a linked account than its own record does (each
    # identity's profileData, which decides): those are read again before they are planned.
    doubtful = [d for d in plan.departures if _linked(users.get(d.user_id))]
    confirmed = {
        (d.organization_id, d.user_id): d
        for d in still_leaving(api, config, organization_ids, deployed, doubtful)
    }
    plan.staying += len(doubtful) - len(confirmed)
    departures = [
        confirmed[(d.organization_id, d.user_id)] if d in doubtful else d
        for d in plan.departures
        if d not in doubtful or (d.organization_id, d.user_id) in confirmed
    ]
    plan.departures, kept = _by_policy(departures, remove_unproven)
    plan.unproven = [(d.organization, d.user_id) for d in kept if d.reason == NOT_PROVEN]
    plan.not_enabled = [(d.organization, d.user_id) for d in kept if d.reason == NOT_ENABLED]
    return plan


def _by_policy(
    departures: list[Departure], remove_unproven: bool
) -> tuple[list[Departure], list[Departure]]:
    """The departures to make, and those kept: whoever stands only through an email domain that
    is not proven, unless ``remove_unproven`` (a lost record alone empties no organization), or
    only through a connection not enabled now (a dashboard's switch alone empties none)."""
    kept = {NOT_ENABLED} | (set() if remove_unproven else {NOT_PROVEN})
    return (
        [d for d in departures if d.reason not in kept],
        [d for d in departures if d.reason in kept],
    )


def _read_users(
    api: ManagementClient, user_ids: set[str]
) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Each user's own record (``GET /users/{id}``), and the ids of those who do not exist."""
    users, gone = {}, set()
    for user_id in sorted(user_ids):
        try:
            users[user_id] = api.call("users.get", id=user_id)
        except ApiError as error:
            if error.status != 404:
                raise
            gone.add(user_id)
    return users, gone


def _linked(user: dict[str, Any] | None) -> bool:
    """A user with other than one identity: their export record may not tell all."""
    return user is not None and len(user.get("identities") or []) != 1


def still_leaving(
    api: ManagementClient,
    config: StackConfig,
    organization_ids: dict[str, str],
    deployed: deployed_rules.Deployed,
    departures: list[Departure],
) -> list[Departure]:
    """The ``departures`` that hold for the users as they are now: each user read again on
    their own (``GET /users/{id}``: every identity with its ``profileData``) and decided again
    by the ``deployed`` rule. A user who matches again, or whose
    marker was cleared meanwhile, stays; so does one who cannot be read (404), whose marker
    cannot be read again (deleting a user removes their memberships, as the local tenant does).
    One who was deleted, then signed up again under the same id, as a social login does, is
    decided as they are now."""
    users, gone = _read_users(api, {d.user_id for d in departures})
    decisions = deployed_decisions(config, organization_ids, deployed, users) if users else {}
    confirmed = []
    for departure in departures:
        if departure.user_id in gone or departure.organization_id not in deployed.rules:
            continue
        decision = decisions[departure.user_id]
        ours = departure.organization_id in decision.marked | decision.pending
        if ours and departure.organization_id not in decision.eligible:
            reason = decision.refusals[departure.organization_id]
            confirmed.append(replace(departure, reason=reason))
    return confirmed


def apply(
    api: ManagementClient,
    config: StackConfig,
    plan: Plan,
    done: int,
    progress_file: Path,
    key: str,
    recheck: bool = True,
) -> set[str]:
    """Remove and unmark ``MEMBERS_PER_REQUEST`` users at a time, from user ``done`` on, saving
    progress after each batch. With ``recheck`` (a plan made by an earlier run, resumed maybe
    days later) each batch is checked again first (``still_leaving``), so it removes nobody who
    matches by then; a plan ``review`` just made was checked already. Both steps are
    idempotent, so a batch cut short is simply done again; whoever it keeps and is no longer a
    member has their marker cleared, since its removal took before the run stopped: their next
    login checks them again (and adds them back). One it keeps who is still a member keeps the
    marker, so a later reconcile can still remove them if they stop matching. The recheck holds
    to the rules deployed and the email domains proven when it starts, not when the plan was
    made: an organization no deployed Action holds by then loses nobody. Returns the plan's
    organizations no deployed Action holds by then (none when it does not recheck): a plan
    saved before plans kept those they left alone tells them so."""
    users = sorted({d.user_id for d in plan.departures})
    deployed = (
        deployed_rules.read(api, config, plan.organization_ids, unanswered_admits=True)
        if recheck
        else None
    )
    undeployed = {
        organization
        for organization, organization_id in plan.organization_ids.items()
        if deployed is not None and organization_id not in deployed.rules
    }
    for organization in sorted(undeployed - set(plan.undeployed)):  # those named on resuming
        print(_undeployed_line(config, organization), file=sys.stderr, flush=True)
    checkpoint.save(progress_file, {"key": key, "plan": plan.as_json(), "done": done})
    for start in range(done, len(users), MEMBERS_PER_REQUEST):
        batch = set(users[start : start + MEMBERS_PER_REQUEST])
        planned = [d for d in plan.departures if d.user_id in batch]
        confirmed, held_by_policy = _by_policy(
            still_leaving(api, config, plan.organization_ids, deployed, planned)
            if deployed is not None
            else planned,
            plan.remove_unproven,
        )
        kept = {(d.organization, d.user_id) for d in planned} - {
            (d.organization, d.user_id) for d in confirmed
        }
        _say_kept(kept, held_by_policy, undeployed)
        leaving: dict[str, list[str]] = {}
        cleared: dict[str, dict[str, None]] = {}
        if recheck and start == done:  # the batch the interrupted run may have cut short
            unsure = [d for d in planned if (d.organization, d.user_id) in kept]
            still_in = _members(api, {d.organization_id for d in unsure})
            for departure in unsure:
                if departure.user_id in still_in[departure.organization_id]:
                    continue  # its removal did not take: the marker stays with the membership
                marker = marker_key(config, departure.organization_id)
                cleared.setdefault(departure.user_id, {})[marker] = None
        for departure in confirmed:
            leaving.setdefault(departure.organization_id, []).append(departure.user_id)
            # A null removes that one top-level key: the other markers stay as they are now,
            # whatever the Action set since the plan was made.
            marker = marker_key(config, departure.organization_id)
            cleared.setdefault(departure.user_id, {})[marker] = None
        for organization_id, members in leaving.items():
            api.call("organizations.members.delete", {"members": members}, id=organization_id)
        _clear_markers(api, cleared)
        finished = min(start + MEMBERS_PER_REQUEST, len(users))
        checkpoint.save(progress_file, {"key": key, "plan": plan.as_json(), "done": finished})
        print(f"{finished}/{len(users)} users done", flush=True)
    return undeployed


def _say_kept(
    kept: set[tuple[str, str]], by_policy: list[Departure], undeployed: Collection[str]
) -> None:
    """Why each of a batch's planned departures that a recheck ``kept`` stays: (organization,
    user id); those of an organization no deployed Action holds were named once already."""
    for departure in by_policy:
        print(_kept_line(departure.reason, departure.organization, departure.user_id))
    for organization, user_id in sorted(kept - {(d.organization, d.user_id) for d in by_policy}):
        if organization not in undeployed:
            print(f"{user_id} matches {organization}'s rule again, or is no longer marked: stays")


def _members(api: ManagementClient, organization_ids: set[str]) -> dict[str, set[str]]:
    """The members of each of these organizations, by id."""
    return {
        organization_id: {
            member["user_id"]
            for member in api.checkpoint_pages(
                "organizations.members.list", "members", id=organization_id
            )
        }
        for organization_id in organization_ids
    }


def requests(plan: Plan) -> Counter[str]:
    """The writes ``apply`` sends for ``plan`` (not resumed), by call: what a tier's bound is
    computed on (``rate_limits``; the reads before them grow with members a hundred a page)."""
    users = sorted({d.user_id for d in plan.departures})
    calls: Counter[str] = Counter()
    for start in range(0, len(users), MEMBERS_PER_REQUEST):
        batch = set(users[start : start + MEMBERS_PER_REQUEST])
        planned = [d for d in plan.departures if d.user_id in batch]
        calls["organizations.members.delete"] += len({d.organization_id for d in planned})
        calls["users.update"] += len(batch)
    return calls


def _clear_markers(api: ManagementClient, cleared: dict[str, dict[str, None]]) -> None:
    """Remove these markers (each user's, by key); a user who cannot be read has none to clear:
    one kept because it answered 404."""
    users = sorted(cleared.items())
    answers = api.each(
        "users.update", [({"app_metadata": markers}, {"id": user_id}) for user_id, markers in users]
    )
    for (user_id, _), answer in zip(users, answers, strict=True):
        if isinstance(answer, ApiError):
            if answer.status != 404:
                raise answer
            print(f"{user_id} could not be read (404): its marker is left as it is")


def _left_alone_line(organization: str) -> str:
    """For an organization a resumed plan left alone when it was made (``Plan.undeployed``);
    ``_undeployed_line`` says whether an Action holds its rule now."""
    return (
        f"warning: {organization}: left alone by the plan this run finishes (no Action bound to "
        "the login flow held its rule when it was made): run reconcile again once it is done"
    )


def _undeployed_line(config: StackConfig, organization: str) -> str:
    return deployed_rules.not_held(config, organization, "its members are left alone")


def _kept_line(reason: str, organization: str, user_id: str) -> str:
    if reason == NOT_ENABLED:
        return (
            f"{user_id} stands in {organization} only through a connection that is not enabled "
            "on it now: kept (enable it again, or remove it from the organization's "
            "connections and deploy, and reconcile then removes them)"
        )
    return (
        f"{user_id} stands in {organization} only through an email domain that is not proven: "
        "kept (auth0-org-assignment domains lists the records; --remove-unproven removes them)"
    )


def summary(stack: str, plan: Plan) -> str:
    return (
        f"reconcile {stack}: {len(plan.departures)} memberships to remove "
        f"({_users(plan)} users); {plan.staying} members added by this stack still match; "
        f"{plan.not_ours} members it did not add are left alone; "
        f"{len(plan.removed_by_hand)} removed by hand are not re-added; "
        f"{len(plan.unproven)} standing only through an email domain that is not proven are "
        "kept; "
        f"{len(plan.not_enabled)} standing only through a connection not enabled now are kept; "
        f"{len(plan.unreadable)} members who could not be read are left alone; "
        f"{plan.malformed} records skipped (not a user)"
    )


def _users(plan: Plan) -> int:
    return len({d.user_id for d in plan.departures})


def _plan_key(config: StackConfig, remove_unproven: bool = False) -> str:
    """What a saved plan was made for: the tenant, the configuration and
    ``--remove-unproven``."""
    dumped = config.model_dump(mode="json", by_alias=True)
    document = json.dumps(
        dumped | ({"--remove-unproven": True} if remove_unproven else {}), sort_keys=True
    )
    return hashlib.sha256(document.encode()).hexdigest()
