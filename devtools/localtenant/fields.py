"""Auth0's ``fields`` / ``include_fields`` query parameters and common timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from devtools.localtenant.routes import Request


def now() -> str:
    """``2026-05-29T10:52:37.131Z``, Auth0's timestamp format."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def select(record: dict[str, Any], request: Request) -> dict[str, Any]:
    """Keep (or drop, with ``include_fields=false``) the comma-separated ``fields``."""
    names = [name for name in request.query.get("fields", "").split(",") if name]
    if not names:
        return record
    include = request.query.get("include_fields", "true").lower() != "false"
    return {key: value for key, value in record.items() if (key in names) == include}
