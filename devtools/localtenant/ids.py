"""Ids in Auth0's formats."""

from __future__ import annotations

import secrets
import string
import uuid

_ALPHANUMERIC = string.ascii_letters + string.digits


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def client_id() -> str:
    """32 alphanumerics, like ``hwfO6jMNCVy4N1LghfAu64DlVmNmiRcH``."""
    return _random(32)


def client_secret() -> str:
    return secrets.token_urlsafe(48)


def prefixed(prefix: str, length: int = 16) -> str:
    """``org_bCE84ZIRjtX58FeO``, ``con_...``, ``cgr_...``; credentials use 22 characters."""
    return f"{prefix}_{_random(length)}"


def action_id() -> str:
    """Actions, versions and bindings are UUIDs."""
    return str(uuid.uuid4())


def user_id(connection_strategy: str) -> str:
    """``auth0|`` and 24 hex digits for a database user; ``<strategy>|<digits>`` otherwise."""
    if connection_strategy == "auth0":
        return f"auth0|{secrets.token_hex(12)}"
    return f"{connection_strategy}|{secrets.randbelow(10**21):021d}"


def object_id() -> str:
    """24 hex digits, as resource servers' ids are (``630fb8508f2040fc2d041057``)."""
    return secrets.token_hex(12)
