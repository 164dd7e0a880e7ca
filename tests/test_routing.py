"""infra.routing decides as the Action does, on the same cases."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import parse_config
from infra.routing import matching

DATABASE = "Username-Password-Authentication"


def stack(**rule: Any) -> Any:
    return parse_config(
        {
            "auth0:domain": "acme.eu.auth0.com",
            "organization": {"name": "acme", "displayName": "Acme", **rule},
            "connections": [DATABASE, "google-oauth2"],
        },
        "t",
    )


@pytest.mark.parametrize(
    ("rule", "email", "verified", "connection", "strategy", "joins"),
    [
        ({"emailDomains": ["acme.com"]}, "alice@acme.com", True, DATABASE, "auth0", True),
        ({"emailDomains": ["acme.com"]}, "Alice@ACME.Com", True, DATABASE, "auth0", True),
        ({"emailDomains": ["Bücher.de"]}, "anna@bücher.de", True, DATABASE, "auth0", True),
        ({"emailDomains": ["*.acme.com"]}, "bob@deep.eu.acme.com", True, DATABASE, "auth0", True),
        ({"emailDomains": ["*.acme.com"]}, "bob@acme.com", True, DATABASE, "auth0", False),
        ({"emailDomains": ["acme.com"]}, "alice@acme.com", False, DATABASE, "auth0", False),
        ({"emailDomains": ["acme.com"]}, "m@acme.com.evil.io", True, DATABASE, "auth0", False),
        ({"emailDomains": ["acme.com"]}, "m@evilacme.com", True, DATABASE, "auth0", False),
        ({"emailDomains": ["acme.com"]}, "m@acme.com@evil.io", True, DATABASE, "auth0", False),
        (
            {"emailDomains": ["acme.com"]},
            "a@acme.com",
            True,
            "google-oauth2",
            "google-oauth2",
            False,
        ),
        (
            {"emailDomains": ["acme.com"], "trustEmailVerifiedFrom": ["google-oauth2"]},
            "a@acme.com",
            True,
            "google-oauth2",
            "google-oauth2",
            True,
        ),
        ({"allowAnyUserOfConnection": True}, None, False, DATABASE, "auth0", True),
        ({"allowAnyUserOfConnection": True}, None, False, "github", "github", False),
    ],
)
def test_the_rules(
    rule: dict[str, Any],
    email: str | None,
    verified: bool,
    connection: str,
    strategy: str,
    joins: bool,
) -> None:
    user = {"email": email, "email_verified": verified}
    assert bool(matching(stack(**rule), user, connection, strategy)) is joins


def test_applications_need_a_login_to_tell() -> None:
    config = stack(allowAnyUserOfConnection=True, applications=["PortalApp"])
    assert matching(config, {}, DATABASE, "auth0", "PortalApp")
    assert not matching(config, {}, DATABASE, "auth0", None)
