"""Shared fixtures: a valid stack configuration every test starts from."""

from __future__ import annotations

import copy
from typing import Any

import pytest

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
    },
    "connections": ["Username-Password-Authentication", "google-oauth2"],
}


@pytest.fixture
def stack_config() -> dict[str, Any]:
    """A fresh, valid configuration that a test may change."""
    return copy.deepcopy(VALID_CONFIG)


@pytest.fixture
def run_action(tmp_path: Any) -> Any:
    """Start a fake tenant and the rendered Action for a configuration; closed after the test.

    ``run_action(config, **tenant_overrides)`` returns ``(action_process, tenant_state)``.
    """
    from infra.action_code import render_action
    from infra.config import parse_config
    from tests.support.action_runner import ActionProcess, tenant_state_for
    from tests.support.fake_management_api import FakeTenant

    started: list[Any] = []

    def start(config: dict[str, Any], **tenant_overrides: Any) -> Any:
        rendered = render_action(parse_config(config, "test"))
        tenant = FakeTenant(tenant_state_for(rendered, **tenant_overrides), tmp_path)
        started.append(tenant)
        process = ActionProcess(rendered.code, tenant, tmp_path)
        started.append(process)
        return process, tenant.state

    yield start
    for thing in reversed(started):
        thing.close()
