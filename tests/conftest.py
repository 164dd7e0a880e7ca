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
