"""auth0-org-assignment domains: each email domain's proof record, and whether DNS has it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auth0_org_assignment.commands.domains import LAG
from devtools.dns import LoopbackDns
from devtools.localtenant.testing import LocalTenant
from tests.support.commands import command_line, operator_environment, run


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with LocalTenant.start(tmp_path / "tenant.json") as tenant, LoopbackDns.start() as dns:
        acme = tenant.create_organization("acme")
        (tmp_path / "Pulumi.yaml").write_text("name: auth0-org-assignment\n")
        (tmp_path / "Pulumi.t.yaml").write_text(
            json.dumps(
                {
                    "config": {
                        "auth0:domain": tenant.domain,
                        "auth0-org-assignment:domainKind": "local",
                        "auth0-org-assignment:dnsResolvers": [dns.address],
                        "auth0-org-assignment:organizations": [
                            {
                                "name": "acme",
                                "displayName": "Acme",
                                "connections": ["Username-Password-Authentication"],
                                "emailDomains": ["acme.com", "*.acme.com", "acme.org"],
                            }
                        ],
                    }
                }
            )
        )
        yield {
            "tenant": tenant,
            "dns": dns,
            "acme": acme,
            "project": tmp_path,
            "environment": operator_environment(tenant, "domains"),
        }


def domains(setup: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    return run(command_line("domains", "t", setup["project"], *args), setup["environment"])


def test_it_names_the_record_to_publish_and_sees_it_published(setup: dict[str, Any]) -> None:
    tenant, acme = setup["tenant"], setup["acme"]
    made = tenant.call(
        "POST", f"/api/v2/organizations/{acme['id']}/discovery-domains", {"domain": "acme.com"}
    )
    before = domains(setup)
    assert before.returncode == 0, before.stderr
    lines = before.stdout.splitlines()
    # acme.com and *.acme.com are one domain to prove; acme.org is not declared yet.
    assert lines == [
        f'acme: acme.com: publish TXT "{made["verification_txt"]}" at '
        f"{made['verification_host']}; until then it admits nobody",
        f"acme: acme.org: not declared in the tenant yet: run pulumi up, then this again{LAG}",
    ]
    setup["dns"].publish(made["verification_host"], made["verification_txt"])
    after = json.loads(domains(setup, "--json").stdout)
    assert after[0]["published"] is True
    assert after[0]["state"] == "pending"  # Auth0's status: the next pulumi up marks it
    # Published, and Auth0 shows it pending: the next deploy proves it, or one just run did
    # and Auth0's read lags it.
    assert domains(setup).stdout.splitlines()[0] == (
        f'acme: acme.com: proven (TXT "{made["verification_txt"]}" at '
        f"{made['verification_host']} is published); Auth0 shows it pending: admits after the "
        f"next pulumi up{LAG}"
    )


def test_a_verified_domain_whose_record_is_gone_still_admits_until_the_next_up(
    setup: dict[str, Any],
) -> None:
    """The stack sets ``verified`` only once a deploy found the record, and the deployed Actions
    hold the domain until the next ``up`` finds it gone: an owner who withdraws the record to
    revoke it must not read that it admits nobody already."""
    tenant, acme = setup["tenant"], setup["acme"]
    path = f"/api/v2/organizations/{acme['id']}/discovery-domains"
    made = tenant.call("POST", path, {"domain": "acme.com"})
    tenant.call("PATCH", f"{path}/{made['id']}", {"status": "verified"})
    line = domains(setup).stdout.splitlines()[0]
    assert "until then it admits nobody" not in line
    assert line == (
        f'acme: acme.com: its record (TXT "{made["verification_txt"]}" at '
        f"{made['verification_host']}) is not published: the deployed rule may admit through it "
        "until the next pulumi up, which marks it pending"
    )
