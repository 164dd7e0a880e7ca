"""A stack whose number of Actions changes moves to the new split in one ``pulumi up``, with
no login left to no Action: the new Actions are created and bound before the old ones are
deleted (their names hold the number of Actions, docs/scale.md). Real engine, local tenant."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from auth0_org_assignment import credentials
from auth0_org_assignment.action_code import plan_shards
from auth0_org_assignment.config import PROJECT, parse_config
from devtools.localstack.local_stack import LocalProject
from devtools.localtenant.testing import DATABASE, LocalTenant, TenantError
from tests.support.engine import require_engine

pytestmark = pytest.mark.lifecycle

require_engine()

LOGIN_CLIENT = "localtenant-login"
"""The application the local tenant's logins come from."""
FILLER = 700
"""Applications listed per organization, so that two organizations' rules pass one Action's
90 KB (about 45 KB each) and the stack splits with a handful of organizations."""


def organization(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "displayName": name.title(),
        "connections": [DATABASE],
        "emailDomains": [f"{name}.com"],
        "applications": [LOGIN_CLIENT, *(f"{name}-app-{n:04d}-{'x' * 40}" for n in range(FILLER))],
    }


def stack(names: list[str]) -> dict[str, Any]:
    return {
        f"{PROJECT}:organization": {},
        f"{PROJECT}:connections": [],
        f"{PROJECT}:organizations": [organization(name) for name in names],
    }


def actions_for(names: list[str], domain: str) -> int:
    raw = {k.removeprefix(f"{PROJECT}:"): v for k, v in stack(names).items()}
    config = parse_config({**raw, "auth0:domain": domain, "domainKind": "local"}, "test")
    return len(plan_shards(config).shards)


def test_a_new_split_leaves_no_login_unassigned(
    tenant: LocalTenant, tmp_path_factory: pytest.TempPathFactory
) -> None:
    project = LocalProject(tmp_path_factory.mktemp("shards"), tenant)
    project.init(tenant.m2m_client("pulumi deployer", sorted(credentials.DEPLOY)))
    before, after = ["alpha", "bravo"], ["alpha", "bravo", "charlie", "delta", "echo"]
    count_before = actions_for(before, tenant.domain)
    count_after = actions_for(after, tenant.domain)
    assert 1 < count_before != count_after, (count_before, count_after)

    project.write_config(stack(before))
    project.up_proven()
    ids = project.outputs()["organization_ids"]
    old_actions = tenant.bound_action_ids()
    assert len(old_actions) == count_before

    # Logins go on, one after another, through the whole `up` that changes the split.
    outcomes: list[tuple[str, list[str], Any]] = []
    done = threading.Event()

    def log_in() -> None:
        n = 0
        while not done.is_set():
            name = before[n % len(before)]
            try:
                user = tenant.sign_up(f"user{n}@{name}.com", DATABASE, verified=True)
            except TenantError as error:
                # Making the test's users spends the rate limit the deploy spends too: wait.
                if error.status != 429:
                    raise
                time.sleep(0.5)
                continue
            result = tenant.login(user["user_id"], DATABASE)
            outcomes.append((ids[name], result["member_of"], result))
            n += 1

    logins = threading.Thread(target=log_in, daemon=True)
    logins.start()
    try:
        project.write_config(stack(after))
        up = project.pulumi("up", "--yes", "--skip-preview")
    finally:
        done.set()
        logins.join(timeout=60)

    # Every login during the up was owned by a bound Action that applied the rule (during the
    # overlap, one old and one new): never a moment with no Action for it. Each joined, unless
    # the tenant's rate limit, which the deploy spends too, refused the owner's request (then
    # the marker says pending, and reconcile completes it).
    assert len(outcomes) >= 5, "the logins must span the update"
    for want, joined, result in outcomes:
        lines = [json.loads(line) for e in result["executions"] for line in e["logs"]]
        assert lines, result
        assert all(line["outcome"] != "skipped-no-match" for line in lines), lines
        if want not in joined:
            assert {line.get("reason") for line in lines} == {"http-429"}, lines
    rate_limited = sum(want not in joined for want, joined, _ in outcomes)
    print(f"{len(outcomes)} logins during the up, {rate_limited} refused 429 by the rate limit")
    new_actions = tenant.bound_action_ids()
    assert len(new_actions) == count_after
    assert not set(old_actions) & set(new_actions)
    assert f"-1-of-{count_after}" in up.output
    # The old Actions are gone from the tenant, not only unbound.
    listed = {a["id"] for a in tenant.call("GET", "/api/v2/actions/actions")["actions"]}
    assert not set(old_actions) & listed
