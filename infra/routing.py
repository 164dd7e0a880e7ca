"""Who may join which organization, in Python: the rule the post-login Action applies.

The Action (action_templates/post_login.js.j2) decides at login; ``infra.backfill`` decides for
users who already exist, with this. Both follow the README's "Who gets in" and are tested on
the same cases (tests/test_routing.py, tests/test_who_gets_in.py).
"""

from __future__ import annotations

from typing import Any

from infra.config import OrganizationConfig, StackConfig

TRUSTED_STRATEGIES = frozenset({"auth0", "email"})
"""Connections that verify email addresses themselves: Auth0's database and passwordless email."""


def email_domain(email: Any) -> str | None:
    """The address's domain in lowercase ASCII (IDNA), or None."""
    if not isinstance(email, str) or email.rfind("@") < 1:
        return None
    try:
        return email[email.rfind("@") + 1 :].lower().encode("idna").decode("ascii") or None
    except UnicodeError:
        return None


def admits(
    organization: OrganizationConfig,
    user: dict[str, Any],
    connection: str,
    strategy: str,
    client_id: str | None,
) -> bool:
    """Whether ``organization``'s rule lets this user, coming through ``connection``, join."""
    if connection not in (organization.connections or []):
        return False
    if organization.applications is not None and client_id not in organization.applications:
        return False
    if organization.allow_any_user_of_connection:
        return True
    vouched = strategy in TRUSTED_STRATEGIES or connection in organization.trust_email_verified_from
    domain = email_domain(user.get("email"))
    if user.get("email_verified") is not True or not vouched or domain is None:
        return False
    return any(
        domain.endswith("." + pattern[2:]) if pattern.startswith("*.") else domain == pattern
        for pattern in organization.email_domains
    )


def matching(
    config: StackConfig,
    user: dict[str, Any],
    connection: str,
    strategy: str,
    client_id: str | None = None,
) -> tuple[OrganizationConfig, ...]:
    """Every organization of the stack whose rule the user matches."""
    return tuple(
        o for o in config.organizations if admits(o, user, connection, strategy, client_id)
    )
