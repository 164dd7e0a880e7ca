"""The tenant's state: plain dicts, saved atomically to one JSON file after every change."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import threading
from pathlib import Path
from typing import Any

from localtenant.errors import not_found

COLLECTIONS = (
    "clients",  # client_id -> client
    "credentials",  # client_id -> [credential]
    "client_grants",  # id -> grant
    "organizations",  # id -> organization
    "organization_connections",  # organization id -> {connection id -> enabled connection}
    "organization_members",  # organization id -> [user id]
    "connections",  # id -> connection
    "actions",  # id -> action
    "action_versions",  # action id -> [version]
    "trigger_bindings",  # trigger id -> [binding]
    "users",  # user id -> user
    "roles",  # id -> role
    "organization_member_roles",  # organization id -> {user id -> [role id]}
    "jobs",  # id -> job (users exports)
)


class Store:
    """One tenant's state. Callers hold ``lock`` while they read or change ``data``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        if path.is_file():
            self.data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            for name in COLLECTIONS:  # a state file from before a collection existed
                self.data.setdefault(name, {})
        else:
            self.data = {name: {} for name in COLLECTIONS}
            # Signs access tokens, so tokens stay valid across a restart.
            self.data["signing_key"] = secrets.token_hex(32)

    def __getitem__(self, collection: str) -> Any:
        return self.data[collection]

    def one(self, collection: str, key: str, what: str, error_code: str) -> Any:
        """The record ``key`` of ``collection``, or Auth0's 404 for that kind of record."""
        record = self.data[collection].get(key)
        if record is None:
            raise not_found(what, error_code)
        return record

    def save(self) -> None:
        """Write the whole state to a temporary file, then rename it over the old one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".state-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(self.data, file, indent=1, sort_keys=True)
            os.replace(temporary, self.path)
        except BaseException:
            os.unlink(temporary)
            raise
