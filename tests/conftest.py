"""Shared fixtures: a valid stack configuration every test starts from, the Action run on a
local tenant, and the local tenant the engine's lifecycle tests deploy to."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from devtools.localtenant.testing import LocalTenant

VALID_CONFIG: dict[str, Any] = {
    "auth0:domain": "acme-test.eu.auth0.com",
    "organization": {
        "name": "acme",
        "displayName": "Acme Inc.",
        "branding": {
            "logoUrl": "https://static.example.com/acme.png",
            "colors": {"primary": "#0059D6", "pageBackground": "#FFFFFF"},
        },
        "metadata": {"tier": "gold"},
        # The Action's older tests are about the mechanics, not who may join: any user of the
        # connections may (tests/test_who_gets_in.py covers the rules).
        "allowAnyUserOfConnection": True,
    },
    "connections": ["Username-Password-Authentication", "google-oauth2"],
}


@pytest.fixture
def stack_config() -> dict[str, Any]:
    """A fresh, valid configuration that a test may change."""
    return copy.deepcopy(VALID_CONFIG)


@pytest.fixture
def run_action(tmp_path: Any) -> Any:
    """Start a local tenant and the rendered Action for a configuration; closed after the test.

    ``run_action(config, **tenant_options)`` returns ``(action_process, action_tenant)``;
    options are ``ActionTenant``'s (``granted_scopes``, ``token_lifetime_s``).
    """
    from auth0_org_assignment.config import parse_config
    from devtools.localstack.action_runner import ActionProcess, ActionTenant

    started: list[Any] = []

    def start(config: dict[str, Any], **tenant_options: Any) -> Any:
        workdir = tmp_path / f"run-{len(started)}"
        tenant = ActionTenant(parse_config(config, "test"), workdir, **tenant_options)
        started.append(tenant)
        process = ActionProcess(tenant, workdir)
        started.append(process)
        return process, tenant

    yield start
    for thing in reversed(started):
        thing.close()


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTenant]:
    """A local tenant in a child process (a new one has the Username-Password-Authentication
    and google-oauth2 connections), one for the test module: a lifecycle test's deploys follow
    one another on it. A module that needs a fresh one for each test defines its own."""
    with LocalTenant.spawn(tmp_path_factory.mktemp("tenant") / "state.json") as process:
        yield process
