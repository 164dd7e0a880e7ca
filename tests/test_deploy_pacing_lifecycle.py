"""A deploy spends at most its share of the tenant's rate limit: with the real engine and the
auth0 plugin scripts/engine builds, against a local tenant enforcing Auth0's free tier (2
Management API requests, 2 a second). Paced at half of that tier, a deploy of a few
organizations gets no 429 and prints no error; paced as if the tenant were on the enterprise
tier (16 a second), the same deploy overruns the tenant's bucket and is refused 429. The
provider's read-back of each organization, its connection and its discovery domain is answered
by its create's answer, and a refresh then finds the state as the tenant reads it. An unknown
tier fails the deploy before anything is created, naming the variable and the choices. An
interrupted deploy sends nothing more than the operations under way, and the next one finishes.
The measured deploy of 1,000 organizations: bench/deploy_bench.py, docs/scale.md."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from auth0_org_assignment import credentials, rate_limits
from bench.deploy_bench import deploy, organizations, pool_warnings, without_pool
from devtools.localstack.local_stack import LocalProject
from devtools.localtenant.testing import LocalTenant
from tests.support.engine import require_engine

pytestmark = [pytest.mark.lifecycle, pytest.mark.slow]

require_engine()

ORGANIZATIONS = 3
INTERRUPTED = 12
"""Organizations of the interrupted deploy: at half of the free tier, most of a minute."""


def test_paced_to_the_tenants_tier_a_deploy_gets_no_429(tmp_path: Path) -> None:
    paced = deploy(ORGANIZATIONS, tmp_path / "paced", tier="free", noop=False)
    assert paced.up.requests > 30, paced.up.calls
    assert paced.up.rate_limited == 0, paced.up.calls
    assert "error:" not in paced.up.output
    # Half of 2 a second: it cannot have gone faster than the floor of its requests.
    assert paced.up.seconds >= paced.floor_s * 0.9, (paced.up.seconds, paced.floor_s)

    # The same deploy paced as if the tenant were on the enterprise tier: 429s.
    overrun = deploy(
        ORGANIZATIONS,
        tmp_path / "overrun",
        tier="free",
        deploy_tier="enterprise-production",
        noop=False,
    )
    assert overrun.up.rate_limited > 0, overrun.up.calls


def test_processes_that_cannot_pool_the_global_bucket_say_so_and_keep_to_the_share(
    tmp_path: Path,
) -> None:
    """A deploy whose temporary directory holds something else under the pool's name: the
    plugin (through the engine's log, which hides a plugin's stderr) and the program's dynamic
    resources each say so once, naming their part of the share (rate_limits.POOLED_PROCESSES),
    on a deploy that succeeds with no 429. (Their pace is checked in tests/test_rate_limits.py
    and pacing_test.go: on the free tier no 429 would tell it from the whole share's.)"""
    alone = deploy(
        ORGANIZATIONS,
        tmp_path / "alone",
        tier="free",
        noop=False,
        extra_env=without_pool(tmp_path),
    )
    assert alone.up.rate_limited == 0, alone.up.calls
    said = pool_warnings(alone.up.output)
    assert len(said) == rate_limits.POOLED_PROCESSES, alone.up.output
    assert all("paces it at 0.25 of the tier" in line for line in said), said
    assert "error:" not in alone.up.output


READ_BACKS = {
    "organizations.get": "organizations.create",
    "organizations.connections.get": "organizations.connections.create",
    "organizations.discovery_domains.get": "organizations.discovery_domains.create",
}
"""Each read the provider sends right after a create, and that create."""


def test_a_read_back_is_its_creates_answer(tmp_path: Path) -> None:
    with LocalTenant.spawn(tmp_path / "tenant.json") as tenant:
        project = LocalProject(tmp_path / "project", tenant)
        project.init(tenant.m2m_client("pulumi deployer", sorted(credentials.DEPLOY)))
        project.write_config(
            {
                "auth0-org-assignment:organization": {},
                "auth0-org-assignment:connections": [],
                "auth0-org-assignment:organizations": organizations(ORGANIZATIONS),
            }
        )
        tenant.call("DELETE", "/localtenant/calls")
        project.pulumi("up", "--yes", "--skip-preview")
        calls = tenant.calls()
        for read, create in READ_BACKS.items():
            assert calls[create] == ORGANIZATIONS, calls
            # Neither "Read Organization Connections" (the slowest bucket a deploy met) nor the
            # Management API's own bucket spent on an object the deploy has just been given.
            assert calls[read] == 0, (read, calls)
        assert calls["organizations.enabled_connections.get"] == 0, calls
        tenant.call("DELETE", "/localtenant/calls")
        refresh = project.pulumi("refresh", "--yes", "--expect-no-changes", check=False)
        assert refresh.returncode == 0, refresh.output
        refreshed = tenant.calls()
        for read in READ_BACKS:  # from the tenant
            assert refreshed[read] >= ORGANIZATIONS, (read, refreshed)


def test_a_connections_update_is_read_back_from_its_answer(tmp_path: Path) -> None:
    with LocalTenant.spawn(tmp_path / "tenant.json") as tenant:
        project = LocalProject(tmp_path / "project", tenant)
        project.init(tenant.m2m_client("pulumi deployer", sorted(credentials.DEPLOY)))
        anyone = [  # assignMembershipOnLogin admits anyone: no email domains
            {
                **{key: value for key, value in entry.items() if key != "emailDomains"},
                "allowAnyUserOfConnection": True,
            }
            for entry in organizations(ORGANIZATIONS)
        ]
        project.write_config(
            {
                "auth0-org-assignment:organization": {},
                "auth0-org-assignment:connections": [],
                "auth0-org-assignment:organizations": anyone,
            }
        )
        project.pulumi("up", "--yes", "--skip-preview")
        project.write_config({"auth0-org-assignment:assignMembershipOnLogin": True})
        tenant.call("DELETE", "/localtenant/calls")
        project.pulumi("up", "--yes", "--skip-preview")
        calls = tenant.calls()
        assert calls["organizations.connections.update"] == ORGANIZATIONS, calls
        # The update's answer is its read-back: "Read Organization Connections" spent on nothing.
        assert calls["organizations.connections.get"] == 0, calls
        tenant.call("DELETE", "/localtenant/calls")
        refresh = project.pulumi("refresh", "--yes", "--expect-no-changes", check=False)
        assert refresh.returncode == 0, refresh.output
        assert tenant.calls()["organizations.connections.get"] >= ORGANIZATIONS


def test_an_unknown_tier_fails_the_deploy_before_anything_is_created(tmp_path: Path) -> None:
    with LocalTenant.spawn(tmp_path / "tenant.json") as tenant:
        project = LocalProject(tmp_path / "project", tenant)
        project.init(tenant.m2m_client("pulumi deployer", sorted(credentials.DEPLOY)))
        tenant.call("DELETE", "/localtenant/calls")  # the deployer's own making
        project.write_config(
            {
                "auth0-org-assignment:organization": {},
                "auth0-org-assignment:connections": [],
                "auth0-org-assignment:organizations": organizations(1),
            }
        )
        run = project.pulumi(
            "up",
            "--yes",
            "--skip-preview",
            check=False,
            **{rate_limits.TIER_VARIABLE: "gold"},
        )
        assert run.returncode != 0
        assert 'AUTH0_RATE_LIMIT_TIER="gold"' in run.output, run.output
        assert "enterprise-production, free" in run.output
        assert tenant.call("GET", "/api/v2/organizations") == []
        assert not {"clients.create", "organizations.create"} & set(tenant.calls())


def test_an_interrupted_deploy_sends_nothing_more_and_the_next_one_finishes(
    tmp_path: Path,
) -> None:
    # On the first interrupt the engine asks the plugin to cancel, then waits for the operations
    # under way: the creates still waiting for their turn in the pacer give up unsent
    # (pacing.Interrupt) instead of the interrupt waiting for the rest of the deploy.
    declared = organizations(INTERRUPTED)
    with LocalTenant.spawn(tmp_path / "tenant.json", rate_limits="free") as tenant:
        project = LocalProject(tmp_path / "project", tenant)
        project.init(tenant.m2m_client("pulumi deployer", sorted(credentials.DEPLOY)))
        project.write_config(
            {
                "auth0-org-assignment:organization": {},
                "auth0-org-assignment:connections": [],
                "auth0-org-assignment:organizations": declared,
            }
        )
        up = project.start("up", "--yes", "--skip-preview", AUTH0_RATE_LIMIT_TIER="free")
        try:
            deadline = time.monotonic() + 120
            while not tenant.calls().get("organizations.create"):  # (not rate-limited)
                assert up.poll() is None, up.communicate()[0]
                assert time.monotonic() < deadline, "no organization created in 2 minutes"
                time.sleep(0.1)
            up.send_signal(signal.SIGINT)
            output = up.communicate(timeout=120)[0]
        finally:
            up.kill()
        time.sleep(1)  # the free tier's bucket, spent by the deploy, refills
        created = tenant.call("GET", "/api/v2/organizations")
        assert up.returncode != 0, output
        # Half of the free tier sends a request a second; the rest of the deploy would have
        # taken longer than these few seconds, and created every organization.
        assert len(created) < INTERRUPTED, output
        assert "the deploy was interrupted before this request was sent" in output, output

        project.pulumi("up", "--yes", "--skip-preview", AUTH0_RATE_LIMIT_TIER="free")
        time.sleep(1)
        names = sorted(o["name"] for o in tenant.call("GET", "/api/v2/organizations"))
        assert names == sorted(o["name"] for o in declared), "each organization once"
        project.pulumi("preview", "--expect-no-changes", AUTH0_RATE_LIMIT_TIER="free")
