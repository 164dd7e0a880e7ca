"""The component's wiring of the proofs, under mocks: one DomainProof a group of organizations,
each domain paired with its own discovery domain's record, and each Action's rule holding exactly
the domains its organizations' proofs found (and the free-mail ones they allow), in whichever
Action a domain is routed to."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pytest

from auth0_org_assignment import domain_proof
from auth0_org_assignment.action_code import configuration_of
from devtools.localstack.pulumi_mocks import DYNAMIC, TenantMocks, build_stack

DISCOVERY = "auth0:index/organizationDiscoveryDomain:OrganizationDiscoveryDomain"
ACTION = "auth0:index/action:Action"
ORGANIZATION = "auth0:index/organization:Organization"


@dataclass
class ProvingMocks(TenantMocks):
    """A tenant whose discovery domains name their own record, and whose DNS has the records of
    ``published`` (the proofs' ``check`` does not run under mocks: its answer is given here)."""

    published: set[str] = field(default_factory=set)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        resource_id, outputs = super().new_resource(args)
        if args.typ == DISCOVERY:
            domain = args.inputs["domain"]
            outputs |= {"verificationHost": f"_auth0.{domain}", "verificationTxt": f"t-{domain}"}
            return f"{args.inputs['organizationId']}::dd-{domain}", outputs
        if args.typ == DYNAMIC and "domains" in args.inputs:
            found: dict[str, list[str]] = {}
            for r in args.inputs["domains"]:
                domains = found.setdefault(r["organization"], [])
                domains += [r["domain"]] if r["domain"] in self.published else []
            outputs["proven"] = found
        return resource_id, outputs


def organization(n: int, domains: list[str], **more: Any) -> dict[str, Any]:
    return {
        "name": f"customer-{n:04d}",
        "displayName": f"Customer {n}",
        "connections": ["Username-Password-Authentication"],
        "emailDomains": domains,
        **more,
    }


def rules(mocks: TenantMocks) -> dict[str, list[str]]:
    """Each organization id's domains, as its Actions' rules hold them, across every Action."""
    found: dict[str, list[str]] = {}
    for action in mocks.of_type(ACTION):
        configuration = configuration_of(action.inputs["code"])
        assert configuration is not None
        for rule in configuration["organizations"]:
            found.setdefault(rule["id"], []).extend(
                [*rule.get("domains", []), *(f"*.{d}" for d in rule.get("subdomainsOf", []))]
            )
    return {key: sorted(value) for key, value in found.items()}


def test_each_domain_is_paired_with_its_own_record_and_admits_once_proven() -> None:
    config = {
        "auth0:domain": "acme-test.eu.auth0.com",
        "organizations": [
            organization(
                0, ["acme.com", "*.acme.com", "beta.com", "gmail.com"], allowFreeMailDomains=True
            ),
            organization(1, ["gamma.com"]),
        ],
    }
    mocks = ProvingMocks(published={"beta.com"})
    build_stack(config, mocks=mocks)
    # Registered as their inputs resolve, in no fixed order.
    proofs = {r.name: r for r in mocks.of_type(DYNAMIC) if "domains" in r.inputs}
    groups = {name: domain_proof.group_of(name) for name in ("customer-0000", "customer-0001")}
    assert sorted(proofs) == sorted(
        {f"org-assignment-domain-proofs-{g:02d}" for g in groups.values()}
    )
    records = [
        r
        for proof in proofs.values()
        for r in proof.inputs["domains"]
        if r["organization"] == "customer-0000"
    ]
    assert [r["domain"] for r in records] == ["acme.com", "beta.com"]
    for record in records:
        domain = record["domain"]
        assert record["organization_id"] == "org_customer-0000xxx"
        assert record["verification_host"] == f"_auth0.{domain}"
        assert record["verification_txt"] == f"t-{domain}"
        assert record["discovery_domain_id"] == f"org_customer-0000xxx::dd-{domain}"
    first, second = "org_customer-0000xxx", "org_customer-0001xxx"
    # beta.com is proven; acme.com (and so *.acme.com) and gamma.com are not; gmail.com is
    # admitted as declared.
    assert rules(mocks) == {first: ["beta.com", "gmail.com"], second: []}


def test_organizations_are_registered_one_proof_group_after_the_other() -> None:
    # A group's proof waits for each of its organizations. Registered in the stack's order, a
    # group's members are spread over the list and its last one comes late (here the median
    # group is complete 0.78 of the way through); one group after the other, the median group
    # is complete halfway, and its proof sets its statuses while the next groups are created.
    # (The SDK sends registrations as it prepares them, so the order is nearly, not exactly,
    # the program's.)
    config = {
        "auth0:domain": "acme-test.eu.auth0.com",
        "organizations": [organization(n, [f"customer{n:04d}.com"]) for n in range(200)],
    }
    mocks = ProvingMocks()
    build_stack(config, mocks=mocks)
    registered = [r.inputs["name"] for r in mocks.of_type(ORGANIZATION)]
    last = {domain_proof.group_of(name): place for place, name in enumerate(registered)}
    assert statistics.median(last.values()) / len(registered) < 0.6
    # Only the order: each keeps the name its own name gives it.
    by_name = {r.inputs["name"]: r.name for r in mocks.of_type(ORGANIZATION)}
    assert len(by_name) == 200
    assert by_name["customer-0000"] == "org-assignment-organization-customer-0000"
    assert by_name["customer-0007"] == "org-assignment-organization-customer-0007"


@pytest.mark.slow
def test_an_organization_across_actions_holds_its_proven_domains_in_each() -> None:
    organizations = [
        organization(n, [f"customer{n:04d}.com", f"*.customer{n:04d}.com", f"c{n}.io"])
        for n in range(1000)
    ]
    config = {
        "auth0:domain": "acme-test.eu.auth0.com",
        "action": {"timeBudgetMs": 2000},
        "organizations": organizations,
    }
    proven = {f"c{n}.io" for n in range(0, 1000, 2)} | {
        f"customer{n:04d}.com" for n in range(0, 1000, 3)
    }
    mocks = ProvingMocks(published=proven)
    build_stack(config, mocks=mocks)
    assert len(mocks.of_type(ACTION)) > 1
    proofs = [r for r in mocks.of_type(DYNAMIC) if "domains" in r.inputs]
    assert len(proofs) == domain_proof.GROUPS
    found = rules(mocks)
    for n in range(1000):
        expected = sorted(
            [
                *([f"*.customer{n:04d}.com", f"customer{n:04d}.com"] if n % 3 == 0 else []),
                *([f"c{n}.io"] if n % 2 == 0 else []),
            ]
        )
        assert found.get(f"org_customer-{n:04d}xxx", []) == expected, n
