"""Jobs: the users export, Auth0's way to read more users than a search returns (1,000)."""

from __future__ import annotations

import gzip
import json
import re
import secrets
from typing import TYPE_CHECKING, Any

from devtools.localtenant.connections import get_connection
from devtools.localtenant.errors import bad_request
from devtools.localtenant.fields import now
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.routes import Request, Response, route

if TYPE_CHECKING:
    from devtools.localtenant.tenant import Tenant


def export_file(tenant: Tenant, token: str) -> bytes | None:
    """The gzipped NDJSON a finished export's ``location`` serves (a pre-signed URL at Auth0)."""
    job = next((j for j in tenant.store["jobs"].values() if j.get("token") == token), None)
    return None if job is None else gzip.compress(job["content"].encode())


def _create_export(tenant: Tenant, request: Request) -> Response:
    body = request.json_object()
    if body.get("format", "csv") not in ("json", "csv"):
        raise bad_request("'format must be json or csv'.")
    users = list(tenant.store["users"].values())
    if "connection_id" in body:
        name = get_connection(tenant, str(body["connection_id"]))["name"]
        users = [u for u in users if u["identities"][0]["connection"] == name]
    # Bulk User Exports (https://auth0.com/docs/manage-users/user-migration/bulk-user-exports):
    # "limit": the most users exported (all when absent); a field's "export_as" names its
    # column in the file instead of its "name".
    limit = body.get("limit")
    if limit is not None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise bad_request("'Expected type integer' on property limit.")
        users = users[:limit]
    fields = body.get("fields") or [{"name": "user_id"}, {"name": "email"}]
    columns = [(field["name"], field.get("export_as") or field["name"]) for field in fields]
    lines = [
        json.dumps(
            {
                column: _field(user, name)
                for name, column in columns
                if _field(user, name) is not None
            }
        )
        for user in users
    ]
    token = secrets.token_urlsafe(16)
    job: dict[str, Any] = {
        "id": f"job_{secrets.token_hex(8)}",
        "type": "users_export",
        "status": "completed",
        "format": body.get("format", "csv"),
        "created_at": now(),
        # Echoed as the request gave them (the reference's CreateExportUsersResponseContent).
        **{key: body[key] for key in ("connection_id", "limit", "fields") if key in body},
        "token": token,
        "content": "\n".join(lines) + ("\n" if lines else ""),
    }
    tenant.store["jobs"][job["id"]] = job
    # Auth0 answers "pending" and finishes later; this one is done at once, and says so on GET.
    return 201, {**_public(job), "status": "pending"}


def _get(tenant: Tenant, request: Request) -> Response:
    job = tenant.store.one("jobs", request.params["id"], "job")
    return 200, {
        **_public(job),
        "location": f"https://{tenant.domain}/localtenant/exports/{job['token']}.json.gz",
    }


def _public(job: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "type", "status", "format", "created_at", "connection_id", "limit", "fields")
    return {key: job[key] for key in keys if key in job}


def _field(user: dict[str, Any], name: str) -> Any:
    """``email``, ``app_metadata.key`` or ``identities[0].connection`` (the docs' forms)."""
    value: Any = user
    for part in re.split(r"\.|(?=\[)", name):
        index = re.fullmatch(r"\[(\d+)\]", part)
        if index:
            n = int(index[1])
            value = value[n] if isinstance(value, list) and n < len(value) else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
    return value


ROUTES = [
    route(
        RouteName.JOBS_USERS_EXPORTS_CREATE,
        "POST",
        "/api/v2/jobs/users-exports",
        "read:users",
        _create_export,
    ),
    route(RouteName.JOBS_GET, "GET", "/api/v2/jobs/{id}", ("create:users", "read:users"), _get),
]
