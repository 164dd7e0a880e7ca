"""Users: enough of them for logins and for the Action's app_metadata."""

from __future__ import annotations

import copy
import hashlib
from typing import TYPE_CHECKING, Any

from devtools.localtenant import ids
from devtools.localtenant.connections import connection_by_name
from devtools.localtenant.errors import Auth0Error, bad_request, conflict
from devtools.localtenant.fields import now, select
from devtools.localtenant.organizations import membership_changed
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.routes import Request, Response, paginate, route

if TYPE_CHECKING:
    from devtools.localtenant.tenant import Tenant


def create_user(tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(body.get("connection"), str):
        raise bad_request("'Missing required property: connection'.")
    connection = connection_by_name(tenant, body["connection"])
    email = body.get("email")
    for user in tenant.store["users"].values():
        if (
            email
            and user.get("email") == email
            and user["identities"][0]["connection"] == connection["name"]
        ):
            raise conflict("The user already exists.", "auth0_idp_error")
    # A given user_id is the connection's own, Auth0 prefixes its provider (recorded:
    # terraform-provider-auth0's TestAccUser, "testaccuser" read back as "auth0|testaccuser").
    given = body.get("user_id")
    user_id = f"{connection['strategy']}|{given}" if given else ids.user_id(connection["strategy"])
    stamp = now()
    user = {
        "user_id": user_id,
        "email": email,
        "email_verified": bool(body.get("email_verified", False)),
        "name": body.get("name", email),
        "nickname": body.get("nickname") or (email or user_id).split("@")[0],
        "picture": "https://s.gravatar.com/avatar/"
        + hashlib.md5((email or user_id).encode(), usedforsecurity=False).hexdigest()
        + "?s=480&r=pg",
        **({"username": body["username"]} if "username" in body else {}),
        "app_metadata": copy.deepcopy(body.get("app_metadata", {})),
        **(
            {"user_metadata": copy.deepcopy(body["user_metadata"])}
            if "user_metadata" in body
            else {}
        ),
        "identities": [
            {
                "connection": connection["name"],
                "provider": connection["strategy"],
                "user_id": user_id.split("|", 1)[-1],
                "isSocial": connection["strategy"]
                not in ("auth0", "samlp", "oidc", "okta", "waad"),
            }
        ],
        "logins_count": 0,
        "created_at": stamp,
        "updated_at": stamp,
    }
    tenant.store["users"][user_id] = user
    return user


def import_users(tenant: Tenant, records: Any) -> int:
    """Users as Auth0 stores them, in bulk: the local tenant's stand-in for a users-import job,
    for tests that need thousands. Each record needs a ``user_id`` no other user has and at
    least one identity naming its connection; ``app_metadata`` defaults to ``{}``. Every
    record is checked before any is stored."""
    if not isinstance(records, list):
        raise bad_request("'Missing required property: users'.")
    with tenant.store.lock:
        user_ids: set[str] = set()
        for record in records:
            if not isinstance(record, dict) or not isinstance(record.get("user_id"), str):
                raise bad_request("'Missing required property: user_id'.")
            if not _has_identities(record):
                raise bad_request("'Missing required property: identities'.")
            if record["user_id"] in tenant.store["users"] or record["user_id"] in user_ids:
                raise conflict("The user already exists.", "auth0_idp_error")
            user_ids.add(record["user_id"])
        for record in records:
            user = {"app_metadata": {}, **copy.deepcopy(record)}
            tenant.store["users"][record["user_id"]] = user
        tenant.store.save()
    return len(records)


def _has_identities(record: dict[str, Any]) -> bool:
    identities = record.get("identities")
    return (
        isinstance(identities, list)
        and bool(identities)
        and all(isinstance(i, dict) and isinstance(i.get("connection"), str) for i in identities)
    )


def get_user(tenant: Tenant, user_id: str) -> dict[str, Any]:
    return tenant.store.one("users", user_id, "user")


def merge_metadata(user: dict[str, Any], key: str, changes: dict[str, Any]) -> None:
    """Auth0 merges app_metadata and user_metadata at the first level; null removes a key."""
    merge_first_level(user.setdefault(key, {}), changes)
    user["updated_at"] = now()


def merge_first_level(metadata: dict[str, Any], changes: dict[str, Any]) -> None:
    """Merge ``changes`` into ``metadata`` at the first level; a None value removes the key."""
    for name, value in changes.items():
        if value is None:
            metadata.pop(name, None)
        else:
            metadata[name] = copy.deepcopy(value)


def shown(user: dict[str, Any]) -> dict[str, Any]:
    """A user as the Management API answers: an empty ``app_metadata`` and the ``logins_count``
    of a user who never logged in are left out, and ``user_metadata`` until it is set (recorded:
    terraform-provider-auth0's ``TestAccOrganizationMemberRole``, users created and read, and
    ``TestAccUser``, whose emptied ``user_metadata`` is answered ``{}``)."""
    return {
        key: value
        for key, value in user.items()
        if not (key == "app_metadata" and value == {})
        and not (key == "logins_count" and value == 0)
    }


def _create(tenant: Tenant, request: Request) -> Response:
    return 201, shown(create_user(tenant, request.json_object()))


SEARCH_RESULTS_MAX = 1000
"""Auth0 pages through the first 1,000 results of a users search only; past them, export."""


def _list(tenant: Tenant, request: Request) -> Response:
    per_page = int(request.query.get("per_page") or 50)
    if (int(request.query.get("page") or 0) + 1) * per_page > SEARCH_RESULTS_MAX:
        raise Auth0Error(
            400,
            f"You can only page through the first {SEARCH_RESULTS_MAX} records; "
            "use a users export job for more",
            "invalid_paging",
        )
    users = [select(shown(user), request) for user in tenant.store["users"].values()]
    page = paginate(users, request, "users")
    if isinstance(page, dict) and "total" in page:
        # Recorded (go-auth0's and terraform-provider-auth0's cassettes, every users list with
        # include_totals): the page's own count too, as "length".
        page = {**page, "length": len(page["users"])}
    return 200, page


def _get(tenant: Tenant, request: Request) -> Response:
    return 200, select(shown(get_user(tenant, request.params["id"])), request)


def _update(tenant: Tenant, request: Request) -> Response:
    user = get_user(tenant, request.params["id"])
    body = request.json_object()
    for key in ("app_metadata", "user_metadata"):
        if key not in body:
            continue
        changes = body.pop(key)
        if changes is None:
            continue
        if changes == {}:
            # "patching the metadata itself with an empty object removes the metadata
            # completely" (Manage Metadata Using the Management API,
            # https://auth0.com/docs/manage-users/user-accounts/metadata/manage-metadata-api).
            user[key] = {}
        merge_metadata(user, key, changes)
    user.update(copy.deepcopy(body))
    return 200, shown(user)


def _delete(tenant: Tenant, request: Request) -> Response:
    get_user(tenant, request.params["id"])
    del tenant.store["users"][request.params["id"]]
    for organization_id, members in tenant.store["organization_members"].items():
        if request.params["id"] in members:
            membership_changed(tenant, organization_id, request.params["id"], was_member=True)
            members.remove(request.params["id"])
    return 204, None


def _by_email(tenant: Tenant, request: Request) -> Response:
    """Users whose email is exactly the one asked ("Email address to search for
    (case-sensitive)", Management API v2, Search users by email)."""
    email = request.query.get("email")
    if not email:
        raise bad_request("Query validation error: 'Missing required property: email'.")
    users = tenant.store["users"].values()
    return 200, [shown(user) for user in users if user.get("email") == email]


def _organizations(tenant: Tenant, request: Request) -> Response:
    """The organizations the user is a member of (List user's organizations: scope
    read:organizations, https://auth0.com/docs/manage-users/organizations/configure-organizations/retrieve-user-membership)."""
    user_id = get_user(tenant, request.params["id"])["user_id"]
    found = [
        tenant.store["organizations"][organization_id]
        for organization_id, members in tenant.store["organization_members"].items()
        if user_id in members
    ]
    return 200, paginate(found, request, "organizations")


ONE = "/api/v2/users/{id}"
ROUTES = [
    route(RouteName.USERS_LIST, "GET", "/api/v2/users", "read:users", _list),
    route(RouteName.USERS_CREATE, "POST", "/api/v2/users", "create:users", _create),
    route(RouteName.USERS_GET, "GET", ONE, "read:users", _get),
    route(RouteName.USERS_UPDATE, "PATCH", ONE, "update:users", _update),
    route(RouteName.USERS_DELETE, "DELETE", ONE, "delete:users", _delete),
    route(RouteName.USERS_LIST_BY_EMAIL, "GET", "/api/v2/users-by-email", "read:users", _by_email),
    route(
        RouteName.USERS_ORGANIZATIONS_LIST,
        "GET",
        ONE + "/organizations",
        "read:organizations",
        _organizations,
    ),
]
