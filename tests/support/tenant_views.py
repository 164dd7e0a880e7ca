"""What the tests read back from a local tenant, as any Management API client would."""

from __future__ import annotations

from localtenant.client import AdminClient


def bound_action_ids(admin: AdminClient) -> list[str]:
    """The Actions in the Login flow, in the order they run."""
    bindings = admin.call("GET", "/api/v2/actions/triggers/post-login/bindings")
    return [binding["action"]["id"] for binding in bindings["bindings"]]
