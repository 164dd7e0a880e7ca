"""An email domain's proof, walked with the real engine and provider on a local tenant and a
DNS server on loopback: declared pending -> record published -> verified -> its users admitted
-> DNS stops answering: the proof is held, the drift check fails -> record removed -> the drift
check fails naming it -> the next up admits nobody through it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from auth0_org_assignment import credentials
from auth0_org_assignment.component import COMPONENT
from devtools.dns import LoopbackDns
from devtools.localstack.local_stack import LocalProject
from devtools.localtenant.testing import DATABASE, LocalTenant
from tests.support.engine import require_engine

pytestmark = pytest.mark.lifecycle

require_engine()

DOMAIN = "example.com"
"""The email domain of the local stack's organization (Pulumi.local.yaml)."""


@pytest.fixture(scope="module")
def walk(tenant: LocalTenant, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    project = LocalProject(tmp_path_factory.mktemp("proof"), tenant)
    project.init(tenant.m2m_client("pulumi deployer", sorted(credentials.DEPLOY)))
    drift = tenant.m2m_client("pulumi drift check", sorted(credentials.DRIFT))
    seen: dict[str, Any] = {}

    def status() -> str:
        (domain,) = tenant.discovery_domains(organization)
        return str(domain["status"])

    def joins(email: str) -> bool:
        user = tenant.sign_up(email, DATABASE, verified=True)
        return organization in tenant.login(user["user_id"], DATABASE)["member_of"]

    seen["declared"] = project.pulumi("up", "--yes", "--skip-preview")
    organization = project.outputs()["organization_id"]
    (seen["record"],) = tenant.discovery_domains(organization)
    seen["status_declared"] = status()
    seen["joins_declared"] = joins("first@example.com")

    record = seen["record"]
    project.dns.publish(record["verification_host"], record["verification_txt"])
    seen["preview_published"] = project.pulumi("preview", "--diff")
    seen["proven"] = project.pulumi("up", "--yes", "--skip-preview")
    seen["status_proven"] = status()
    seen["joins_proven"] = joins("second@example.com")
    seen["no_op"] = project.pulumi("up", "--yes", "--expect-no-changes", check=False)

    # The same stack as a version before proofs were grouped had stored it: the organization's
    # proof its own, under the name its group's now takes over.
    project.pulumi("stack", "import", stdin=json.dumps(proof_before_groups(project)))
    before = tenant.calls()
    seen["taken_over"] = project.pulumi("up", "--yes", "--skip-preview")
    seen["taken_over_calls"] = tenant.calls() - before
    seen["taken_over_status"] = status()

    # DNS stops answering: each proof is held as stored, the drift check fails, and the up
    # changes no status and says so.
    port, published = int(project.dns.address.rsplit(":", 1)[1]), dict(project.dns.records)
    project.dns.stop()
    seen["outage_drift"] = project.pulumi("preview", "--expect-no-changes", check=False)
    seen["outage"] = project.pulumi("up", "--yes", "--skip-preview", check=False)
    seen["status_outage"] = status()
    seen["joins_outage"] = joins("outage@example.com")
    project.dns = LoopbackDns.start(port)
    project.dns.records = published

    project.dns.withdraw(record["verification_host"])
    project.use_credentials(drift)
    seen["drift"] = project.pulumi("preview", "--refresh", "--expect-no-changes", check=False)
    project.use_credentials(project.deployer)
    seen["withdrawn"] = project.pulumi("up", "--yes", "--skip-preview")
    seen["status_withdrawn"] = status()
    seen["joins_withdrawn"] = joins("third@example.com")
    return seen


def proof_before_groups(project: LocalProject) -> dict[str, Any]:
    """The stack's state with its group's proof as the organization's own proof was stored:
    named ``…-domain-proofs``, its id the organization's, the organization's id once, each
    record's discovery domain id alone, and ``proven`` a list."""
    exported = project.pulumi("stack", "export").stdout
    (grouped,) = set(re.findall(rf'"(urn:[^"]*::{COMPONENT}-domain-proofs-\d\d)"', exported))
    # Under its old name wherever it is named: its own URN, and others' dependencies on it.
    stored: dict[str, Any] = json.loads(exported.replace(grouped, grouped.rsplit("-", 1)[0]))
    for resource in stored["deployment"]["resources"]:
        if not resource["urn"].endswith(f"::{COMPONENT}-domain-proofs"):
            continue
        for state in (resource["inputs"], resource["outputs"]):
            records = state.pop("domains")
            (organization,) = {r["organization"] for r in records}
            state["organization_id"] = records[0]["organization_id"]
            state["domains"] = [
                {
                    "domain": r["domain"],
                    "discovery_domain_id": r["discovery_domain_id"].split("::")[-1],
                    "verification_host": r["verification_host"],
                    "verification_txt": r["verification_txt"],
                }
                for r in records
            ]
            state.pop("group")
            if isinstance(state.get("proven"), dict):
                state["proven"] = state["proven"][organization]
        resource["id"] = resource["outputs"]["organization_id"]
    return stored


def test_a_declared_domain_is_pending_and_admits_nobody(walk: dict[str, Any]) -> None:
    assert walk["status_declared"] == "pending"
    assert walk["joins_declared"] is False
    record = walk["record"]
    # The deploy says which record to publish where.
    assert f'publishes the TXT record "{record["verification_txt"]}"' in walk["declared"].output
    assert f"at {record['verification_host']}" in walk["declared"].output


def test_a_published_record_shows_in_the_preview_then_verifies_and_admits(
    walk: dict[str, Any],
) -> None:
    assert "proven" in walk["preview_published"].output
    assert walk["status_proven"] == "verified"
    assert walk["joins_proven"] is True
    assert walk["no_op"].returncode == 0, walk["no_op"].output


def test_a_proof_stored_before_groups_is_taken_over_with_no_request(
    walk: dict[str, Any],
) -> None:
    output = walk["taken_over"].output
    assert "domain-proofs" in output
    assert " created" not in output
    assert " deleted" not in output
    assert walk["taken_over_calls"]["organizations.discovery_domains.update"] == 0
    assert walk["taken_over_status"] == "verified"


def test_dns_not_answering_holds_the_proof_and_fails_the_drift_check(
    walk: dict[str, Any],
) -> None:
    assert walk["outage_drift"].returncode != 0
    outage = walk["outage"]
    assert outage.returncode == 0, outage.output
    assert f"DNS did not answer the lookup of {DOMAIN}'s TXT record at " in outage.output
    assert "its proof is held as the last deploy left it (proven) until " in outage.output
    assert walk["status_outage"] == "verified"
    assert walk["joins_outage"] is True


def test_a_removed_record_fails_the_drift_check_and_stops_admitting(
    walk: dict[str, Any],
) -> None:
    drift = walk["drift"]
    assert drift.returncode != 0
    assert f"{DOMAIN} admits nobody" in drift.output
    assert walk["status_withdrawn"] == "pending"
    assert walk["joins_withdrawn"] is False
