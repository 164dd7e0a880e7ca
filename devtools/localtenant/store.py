"""The tenant's state: plain dicts, saved atomically to one JSON file after every change."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from devtools.localtenant.errors import not_found

FLUSH_SECONDS = 0.25
"""The most a change waits before it is on disk."""

COLLECTIONS = (
    "clients",  # client_id -> client
    "credentials",  # client_id -> [credential]
    "client_grants",  # id -> grant
    "organizations",  # id -> organization
    "organization_connections",  # organization id -> {connection id -> enabled connection}
    "organization_members",  # organization id -> [user id]
    "organization_discovery_domains",  # organization id -> [discovery domain]
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
        self._timer: threading.Timer | None = None
        self._last_write = 0.0
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

    def one(self, collection: str, key: str, kind: str) -> Any:
        """The record ``key`` of ``collection``, or Auth0's 404 for that ``kind`` of record
        (``errors.NOT_FOUND``)."""
        record = self.data[collection].get(key)
        if record is None:
            raise not_found(kind)
        return record

    def save(self) -> None:
        """Have the state on disk within ``FLUSH_SECONDS``: at once when the last write is
        older, else by a timer, so a burst of requests writes the file once, not once each."""
        with self.lock:
            if self._timer is not None:
                return  # a write is already scheduled; it will include this change
            wait = self._last_write + FLUSH_SECONDS - time.monotonic()
            if wait <= 0:
                self._write()
            else:
                self._timer = threading.Timer(wait, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Write now what is pending (at shutdown, or when the timer fires)."""
        with self.lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
                self._write()

    def _write(self) -> None:
        """The whole state to a temporary file, then renamed over the old one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".state-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(self.data, file, sort_keys=True)
            os.replace(temporary, self.path)
        except BaseException:
            os.unlink(temporary)
            raise
        self._last_write = time.monotonic()
