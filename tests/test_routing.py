"""A login's email domain is found in one of the stack's Actions only: that one applies the rule
(and may call the Management API), every other one returns at once, logging nothing."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auth0_org_assignment.action_code import (
    ROUTING_MS,
    RenderedAction,
    configuration_of,
    fnv1a,
    render_actions,
    route_key,
)
from auth0_org_assignment.config import parse_config
from auth0_org_assignment.node import action_node
from devtools.localtenant.logins import ActionContainer

DATABASE = "Username-Password-Authentication"
SECRETS = {"TENANT_DOMAIN": "localhost:1", "CLIENT_ID": "c", "CLIENT_SECRET": "s"}


def stack(count: int) -> dict[str, Any]:
    organizations: list[dict[str, Any]] = [
        {
            "name": f"customer-{n:04d}",
            "displayName": f"Customer {n}",
            "connections": [DATABASE],
            "emailDomains": [
                f"customer{n:04d}.com",
                f"*.customer{n:04d}.com",
                f"*.customer{n:04d}-group.co.uk",
            ],
        }
        for n in range(count)
    ]
    organizations.append(
        {
            "name": "everyone",
            "displayName": "Everyone",
            "connections": [DATABASE],
            "allowAnyUserOfConnection": True,
        }
    )
    return {"auth0:domain": "acme.eu.auth0.com", "organizations": organizations}


@pytest.fixture(scope="module")
def actions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Any]]:
    config = parse_config(stack(2000), "test")
    ids = {o.name: f"org_{n:016d}" for n, o in enumerate(config.organizations)}
    rendered = render_actions(config, organization_ids=ids)
    assert len(rendered) > 2
    workdir = tmp_path_factory.mktemp("routing")
    (workdir / "no-ca.pem").write_text("")
    containers = [
        ActionContainer(r.code, SECRETS, [], workdir / "no-ca.pem", workdir / str(n))
        for n, r in enumerate(rendered)
    ]
    try:
        yield [rendered, containers, ids]
    finally:
        for container in containers:
            container.close()


def login(email: str | None, markers: list[str]) -> dict[str, Any]:
    user: dict[str, Any] = {
        "user_id": "auth0|1",
        "email_verified": True,
        "identities": [{"connection": DATABASE, "provider": "auth0"}],
        # Already a member everywhere it matches: the owner logs that, and makes no request.
        "app_metadata": {f"org_assignment:{i}": True for i in markers},
    }
    if email is not None:
        user["email"] = email
    return {
        "op": "login",
        "event": {
            "user": user,
            "connection": {"id": "con_db", "name": DATABASE, "strategy": "auth0"},
            "client": {"client_id": "app"},
        },
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "email",
    [
        "ada@customer0007.com",
        "ada@eu.customer0123.com",
        "ada@it.paris.customer0456-group.co.uk",
        "ada@CUSTOMER0899.COM",
        "ada@nobody-configured-this.org",
        "not an address",
        None,
    ],
)
def test_one_action_owns_each_login(actions: list[Any], email: str | None) -> None:
    rendered, containers, ids = actions
    answers = [c.ask_many([login(email, list(ids.values()))])[0] for c in containers]
    spoke = [n for n, answer in enumerate(answers) if answer["logs"]]
    assert len(spoke) == 1, spoke
    (owner,) = spoke
    block = configuration_of(rendered[0].code)
    assert block is not None
    suffixes = frozenset(block["routing"]["suffixes"])
    domain = email.rsplit("@", 1)[-1].lower() if email and "@" in email else None
    expected = fnv1a(route_key(domain, suffixes) if domain else "") % len(rendered)
    assert owner == expected
    outcome = json.loads(answers[owner]["logs"][0])["outcome"]
    # "everyone" admits any user of the connection: found by the owner, whatever the email.
    assert outcome == "skipped-already-member"
    # The others only route, within the allowance the flow check gives them (bench/scale_bench.py
    # measures a fraction of a millisecond).
    assert all(answers[n]["ms"] < ROUTING_MS for n in range(len(answers)) if n != owner)


def test_python_and_the_action_route_alike(tmp_path: Path) -> None:
    """routing.js's hash and registered domain, against action_code's, in Node."""
    domains = ["a.com", "b.a.com", "x.y.co.uk", "co.uk", "xn--bcher-kva.de", "a.b.c.d.e", ""]
    suffixes = ["com", "co.uk", "de", "d.e"]
    script = (
        f"const r = require({json.dumps(str(Path('action_templates/routing.js').resolve()))});"
        f"const s = new Set({json.dumps(suffixes)});"
        f"console.log(JSON.stringify({json.dumps(domains)}.map((d) => "
        "[r.registeredDomain(d, s), r.fnv1a(d)])));"
    )
    out = subprocess.run(
        [action_node(), "-e", script], capture_output=True, text=True, check=True
    ).stdout
    expected = [[route_key(d, frozenset(suffixes)), fnv1a(d)] for d in domains]
    assert json.loads(out) == expected


def test_a_lone_action_owns_every_login(tmp_path: Path) -> None:
    config = parse_config(stack(2), "test")
    (only,) = render_actions(config)
    assert isinstance(only, RenderedAction)
    (tmp_path / "no-ca.pem").write_text("")
    container = ActionContainer(only.code, SECRETS, [], tmp_path / "no-ca.pem", tmp_path / "a")
    try:
        answer = container.ask_many([login("ada@elsewhere.org", ["(id of everyone)"])])[0]
    finally:
        container.close()
    assert json.loads(answer["logs"][0])["outcome"] == "skipped-already-member"
