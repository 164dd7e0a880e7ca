"""The DomainProof provider, one resource a group of organizations: each domain is proven by its
own record alone, and a deploy sets Auth0's status of exactly the discovery domains whose proof
(or identity) changed; the backfill and explain read that status and the record in DNS."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pulumi.dynamic
import pytest
from pulumi.output import UNKNOWN

from auth0_org_assignment import domain_proof
from auth0_org_assignment.commands import management_client
from devtools.dns import LoopbackDns


def record(
    domain: str, discovery_domain_id: str, host: str | None = None, organization: str = "acme"
) -> dict[str, Any]:
    return {
        "organization": organization,
        "organization_id": f"org_{organization}",
        "domain": domain,
        "discovery_domain_id": discovery_domain_id,
        "verification_host": host or f"_auth0-challenge.{domain}",
        "verification_txt": f"txt-of-{domain}-{discovery_domain_id}",
    }


@pytest.fixture
def server() -> Iterator[LoopbackDns]:
    with LoopbackDns.start() as running:
        yield running


@pytest.fixture
def statuses(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """Every status the provider sets: (organization id, discovery domain id, status)."""
    sent: list[tuple[str, str, str]] = []

    class Recording:
        def __init__(self, *_: Any, **__: Any) -> None:
            pass

        def call(self, name: str, /, body: Any = None, **params: str) -> None:
            assert name == "organizations.discovery_domains.update"
            sent.append((params["id"], params["discovery_domain_id"], body["status"]))

    monkeypatch.setattr(management_client, "ManagementClient", Recording)
    for key, value in {
        "AUTH0_DOMAIN": "t",
        "AUTH0_CLIENT_ID": "i",
        "AUTH0_CLIENT_SECRET": "s",
    }.items():
        monkeypatch.setenv(key, value)
    return sent


def checked(
    server: LoopbackDns | str, *records: dict[str, Any], olds: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The inputs ``check`` gives the proof of ``records``, looked up at ``server`` (or an
    address), after the stored ``olds``."""
    address = server if isinstance(server, str) else server.address
    inputs = {"group": 7, "domains": list(records), "resolvers": [address]}
    return domain_proof._ProofProvider().check(olds or {}, inputs).inputs


def publish(server: LoopbackDns, proved: dict[str, Any]) -> None:
    server.publish(proved["verification_host"], proved["verification_txt"])


def test_a_domain_is_proven_by_its_own_record_alone(server: LoopbackDns) -> None:
    acme, beta = record("acme.com", "dd_a"), record("beta.com", "dd_b")
    assert checked(server, acme, beta)["proven"] == {"acme": []}
    publish(server, acme)
    assert checked(server, acme, beta)["proven"] == {"acme": ["acme.com"]}
    # acme.com's text where beta.com's record belongs proves neither beta.com nor anything else.
    server.publish(beta["verification_host"], acme["verification_txt"])
    assert checked(server, acme, beta)["proven"] == {"acme": ["acme.com"]}
    # Nor does it prove the same domain for another organization of the group, whose
    # discovery domain names its own record.
    other = record("acme.com", "dd_o", host="_auth0-challenge-o.acme.com", organization="other")
    assert checked(server, acme, other)["proven"] == {"acme": ["acme.com"], "other": []}


def test_a_record_not_known_yet_is_not_looked_up(
    server: LoopbackDns, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a preview the discovery domain of a new domain does not exist: the engine gives
    ``check`` its host and text as unknowns (``pulumi.output.UNKNOWN``: the dynamic provider
    keeps them), never a name to ask DNS about."""
    asked: list[str] = []
    monkeypatch.setattr(domain_proof.Resolver, "txt", lambda _self, host: asked.append(host))
    unknown = {"organization": "acme", "organization_id": UNKNOWN, "domain": "acme.com"}
    unknown |= {"discovery_domain_id": UNKNOWN}
    unknown |= {"verification_host": UNKNOWN, "verification_txt": UNKNOWN}
    assert checked(server, unknown)["proven"] == {"acme": []}
    assert asked == []


def test_create_sets_every_domain_and_update_only_those_whose_proof_or_identity_changed(
    server: LoopbackDns, statuses: list[tuple[str, str, str]]
) -> None:
    provider = domain_proof._ProofProvider()
    acme, beta, gamma = (
        record("acme.com", "dd_a"),
        record("beta.com", "dd_b"),
        record("c.io", "dd_c"),
    )
    publish(server, acme)
    first = checked(server, acme, beta, gamma)
    provider.create(first)
    # Pending first (see the failed request's test below).
    assert statuses == [
        ("org_acme", "dd_b", "pending"),
        ("org_acme", "dd_c", "pending"),
        ("org_acme", "dd_a", "verified"),
    ]

    # One domain of several gets its record: its status alone is set.
    statuses.clear()
    publish(server, beta)
    second = checked(server, acme, beta, gamma)
    assert provider.diff("id", first, second).changes
    provider.update("id", first, second)
    assert statuses == [("org_acme", "dd_b", "verified")]

    # A discovery domain replaced (a new id, its record not published yet): set, as pending.
    statuses.clear()
    renewed = record("c.io", "dd_c2")
    third = checked(server, acme, beta, renewed)
    provider.update("id", second, third)
    assert statuses == [("org_acme", "dd_c2", "pending")]

    # A record withdrawn: that domain goes back to pending, the others are left alone.
    statuses.clear()
    server.withdraw(acme["verification_host"])
    fourth = checked(server, acme, beta, renewed)
    assert fourth["proven"] == {"acme": ["beta.com"]}
    provider.update("id", third, fourth)
    assert statuses == [("org_acme", "dd_a", "pending")]

    # Nothing changed: no diff, no request.
    statuses.clear()
    assert not provider.diff("id", fourth, checked(server, acme, beta, renewed)).changes


def test_dns_not_answering_holds_each_proof_a_while_and_shows_as_drift(
    server: LoopbackDns,
    statuses: list[tuple[str, str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A lookup DNS does not answer is no answer that the record has gone: an outage (or one
    customer's failing DNS) holds each proof as stored, proven or not, sets no status, says
    which lookups went unanswered and until when, and is a change (the drift check fails). The
    hold ends HELD_WITHOUT_ANSWER_S after the first unanswered lookup, or when the stack looks
    the records up elsewhere. A proof with none stored proves nothing."""
    now = 1_800_000_000.0
    monkeypatch.setattr(domain_proof, "_now", lambda: now)
    provider = domain_proof._ProofProvider()
    acme, beta = record("acme.com", "dd_a"), record("beta.com", "dd_b", organization="beta")
    publish(server, acme)
    address = server.address
    first = checked(server, acme, beta)
    provider.create(first)
    assert (first["proven"], first["held"]) == ({"acme": ["acme.com"], "beta": []}, {})
    statuses.clear()
    capsys.readouterr()
    server.stop()
    second = checked(address, acme, beta, olds=first)
    assert second["proven"] == first["proven"]
    assert second["held"] == {"org_acme/dd_a/acme.com": now}
    assert provider.diff("id", first, second).changes
    provider.update("id", first, second)
    assert statuses == []
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 2
    assert said[0].startswith("auth0-org-assignment: organization 'acme': DNS did not answer ")
    assert acme["verification_host"] in said[0]
    assert said[0].endswith(
        "its proof is held as the last deploy left it (proven) until 2027-01-18T08:00Z at most, "
        "and the next preview or deploy looks again"
    )
    assert "; it is not proven, and" in said[1]
    # Held from the first unanswered lookup, not the last.
    now += domain_proof.HELD_WITHOUT_ANSWER_S - 1
    third = checked(address, acme, beta, olds=second)
    assert (third["proven"], third["held"]) == (first["proven"], second["held"])
    now += 1
    fourth = checked(address, acme, beta, olds=third)
    assert (fourth["proven"], fourth["held"]) == ({"acme": [], "beta": []}, {})
    provider.update("id", third, fourth)
    assert statuses == [("org_acme", "dd_a", "pending")]
    # Looked up elsewhere (dnsResolvers changed): the stored proof was another server's answer.
    elsewhere = {**first, "resolvers": ["127.0.0.1:1"]}
    assert checked(address, acme, beta, olds=elsewhere)["proven"] == {"acme": [], "beta": []}
    # A discovery domain replaced since (a new id): the stored proof was another's.
    renewed = record("acme.com", "dd_a2")
    assert checked(address, renewed, beta, olds=first)["proven"] == {"acme": [], "beta": []}
    # A first deploy during the outage proves nothing.
    assert checked(address, acme, beta)["proven"] == {"acme": [], "beta": []}


def test_past_ten_unanswered_lookups_one_line_counts_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with LoopbackDns.start() as server:
        address = server.address
    records = [record(f"d{n}.com", f"dd_{n}", organization=f"o{n}") for n in range(13)]
    checked(address, *records)
    said = capsys.readouterr().err.splitlines()
    assert len(said) == domain_proof.UNANSWERED_SHOWN + 1
    assert said[-1].startswith("auth0-org-assignment: DNS did not answer 3 more lookups")


def test_an_organization_joining_the_group_sets_its_own_domains_alone(
    server: LoopbackDns, statuses: list[tuple[str, str, str]]
) -> None:
    provider = domain_proof._ProofProvider()
    acme, beta = record("acme.com", "dd_a"), record("beta.com", "dd_b", organization="beta")
    publish(server, acme)
    first = checked(server, acme)
    provider.create(first)
    statuses.clear()
    second = checked(server, acme, beta)
    diff = provider.diff("id", first, second)
    assert diff.changes
    assert not diff.replaces
    provider.update("id", first, second)
    assert statuses == [("org_beta", "dd_b", "pending")]

    # A replaced organization (a new id, the same discovery domain id): set again.
    statuses.clear()
    renewed = record("acme.com", "dd_a") | {"organization_id": "org_acme2"}
    third = checked(server, renewed, beta)
    assert not provider.diff("id", second, third).replaces
    provider.update("id", second, third)
    assert statuses == [("org_acme2", "dd_a", "verified")]


def test_a_proof_of_one_organization_stored_before_groups_is_taken_over_with_no_request(
    server: LoopbackDns, statuses: list[tuple[str, str, str]]
) -> None:
    """The first organization's group takes over the proof it had on its own (an alias): its
    stored inputs had the organization's id once, and ``proven`` as a list."""
    acme, beta = record("acme.com", "dd_a"), record("beta.com", "dd_b")
    publish(server, acme)
    stored = {
        "organization_id": "org_acme",
        "domains": [
            {key: r[key] for key in ("domain", "discovery_domain_id", "verification_host")}
            | {"verification_txt": r["verification_txt"]}
            for r in (acme, beta)
        ],
        "resolvers": [server.address],
        "proven": ["acme.com"],
    }
    news = checked(server, acme, beta)
    domain_proof._ProofProvider().update("org_acme", stored, news)
    assert statuses == []


def test_groups_depend_on_the_organization_s_name_alone() -> None:
    groups = [domain_proof.group_of(f"customer-{n:05d}") for n in range(10_000)]
    # The same in another process, whose string hashes are salted otherwise: a group kept
    # from one deploy to the next.
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "from auth0_org_assignment.domain_proof import group_of; "
            "print([group_of(f'customer-{n:05d}') for n in range(100)])",
        ],
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(groups[:100]) == other.stdout.strip()
    assert set(groups) == set(range(domain_proof.GROUPS))
    # Spread evenly enough that no proof holds much more than its share.
    assert max(groups.count(g) for g in range(domain_proof.GROUPS)) < 2 * 10_000 / 64


@dataclass
class FailingTenant:
    """Each discovery domain's status as the provider left it; requests for ``failing``
    discovery domains are refused."""

    statuses: dict[tuple[str, str], str] = field(default_factory=dict)
    failing: set[str] = field(default_factory=set)

    def client(self, *_: Any, **__: Any) -> FailingTenant:
        return self

    def call(self, name: str, /, body: Any = None, **params: str) -> None:
        if params["discovery_domain_id"] in self.failing:
            raise RuntimeError("503 from Auth0")
        self.statuses[(params["id"], params["discovery_domain_id"])] = body["status"]


@pytest.fixture
def failing_tenant(monkeypatch: pytest.MonkeyPatch) -> FailingTenant:
    tenant = FailingTenant()
    monkeypatch.setattr(management_client, "ManagementClient", tenant.client)
    for key in ("AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"):
        monkeypatch.setenv(key, "x")
    return tenant


def test_a_failed_request_leaves_no_domain_verified_that_the_state_holds_pending(
    server: LoopbackDns, failing_tenant: FailingTenant
) -> None:
    """Two organizations of one group: an update fails on one, so the engine keeps the stored
    inputs; a later update, once the other's record is gone, has nothing left to correct."""
    tenant, failing = failing_tenant.statuses, failing_tenant.failing
    provider = domain_proof._ProofProvider()
    acme = record("acme.com", "dd_a", organization="acme")
    zeta = record("zeta.com", "dd_z", organization="zeta")
    publish(server, zeta)
    stored = checked(server, acme, zeta)
    provider.create(stored)
    assert tenant == {("org_acme", "dd_a"): "pending", ("org_zeta", "dd_z"): "verified"}

    # acme.com's record is published, zeta.com's withdrawn, and zeta's request fails.
    publish(server, acme)
    server.withdraw(zeta["verification_host"])
    failing.add("dd_z")
    with pytest.raises(RuntimeError, match="503"):
        provider.update("id", stored, checked(server, acme, zeta))
    assert tenant[("org_acme", "dd_a")] == "pending"

    # Then acme.com's record goes too; the stored inputs are still the first ones.
    server.withdraw(acme["verification_host"])
    failing.clear()
    provider.update("id", stored, checked(server, acme, zeta))
    assert tenant == {("org_acme", "dd_a"): "pending", ("org_zeta", "dd_z"): "pending"}


def test_a_domain_verified_before_a_failed_request_is_set_back_to_pending(
    server: LoopbackDns, failing_tenant: FailingTenant
) -> None:
    provider = domain_proof._ProofProvider()
    acme = record("acme.com", "dd_a", organization="acme")
    beta = record("beta.com", "dd_b", organization="beta")
    stored = checked(server, acme, beta)
    provider.create(stored)
    publish(server, acme)
    publish(server, beta)
    failing_tenant.failing.add("dd_b")
    with pytest.raises(RuntimeError, match="503"):
        provider.update("id", stored, checked(server, acme, beta))
    # acme.com was verified first, then set back: the stored inputs hold it pending.
    assert failing_tenant.statuses == {
        ("org_acme", "dd_a"): "pending",
        ("org_beta", "dd_b"): "pending",
    }
    # The next update, the request answered again, verifies both.
    failing_tenant.failing.clear()
    provider.update("id", stored, checked(server, acme, beta))
    assert set(failing_tenant.statuses.values()) == {"verified"}


def test_the_credentials_come_from_the_environment_alone(
    server: LoopbackDns, statuses: list[tuple[str, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stack may not hold the deployer's secret (config.policy refuses it: the state would
    record it), so a proof never takes it from the provider's configuration either."""
    provider = domain_proof._ProofProvider()
    provider._config = pulumi.dynamic.Config(
        {"auth0:domain": "t", "auth0:clientId": "i", "auth0:clientSecret": "s"},
        "auth0-org-assignment",
    )
    monkeypatch.delenv("AUTH0_CLIENT_ID")
    monkeypatch.delenv("AUTH0_CLIENT_SECRET")
    with pytest.raises(RuntimeError, match="set AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET"):
        provider.create(checked(server, record("acme.com", "dd_a")))
    assert statuses == []
