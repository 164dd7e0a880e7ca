"""Roles, and the roles of organization members."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from devtools.localtenant import ids
from devtools.localtenant.errors import Auth0Error, bad_request
from devtools.localtenant.organizations import get_organization
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.routes import Request, Response, paginate, route

if TYPE_CHECKING:
    from devtools.localtenant.tenant import Tenant

NAME_MAX = 50


def create_role(tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("'Missing required property: name'.")
    if len(name) > NAME_MAX:
        raise bad_request(
            f"'String is too long ({len(name)} chars), maximum {NAME_MAX}' on property name."
        )
    role = {"id": ids.prefixed("rol"), "name": name, "description": body.get("description")}
    tenant.store["roles"][role["id"]] = role
    return role


def get_role(tenant: Tenant, role_id: str) -> dict[str, Any]:
    return tenant.store.one("roles", role_id, "role")


def _member_roles(tenant: Tenant, request: Request) -> list[str]:
    organization = get_organization(tenant, request.params["id"])
    user_id = request.params["user_id"]
    if user_id not in tenant.store["organization_members"][organization["id"]]:
        raise Auth0Error(404, "The user is not a member of the organization", "inexistent_member")
    by_user = tenant.store["organization_member_roles"].setdefault(organization["id"], {})
    return by_user.setdefault(user_id, [])


MEMBER_ROLES_MAX = 50
"""Entity Limit Policy: "Role Assignments per Organization Member | 50"."""


def _listed_roles(request: Request) -> list[str]:
    """The body's ``roles``, as the member roles' request schemas have it (Assign- and
    DeleteOrganizationMemberRolesRequestContent): required, at least one, nothing else."""
    body = request.json_object()
    extra = sorted(set(body) - {"roles"})
    if extra:
        raise bad_request(f"'Additional properties not allowed: {', '.join(extra)}'.")
    roles = body.get("roles")
    if not isinstance(roles, list):
        raise bad_request("'Missing required property: roles'.")
    if not roles:
        raise bad_request("'Array is too short (0), minimum 1' on property roles.")
    return [str(role_id) for role_id in roles]


def _role_ids(tenant: Tenant, request: Request) -> list[str]:
    roles = _listed_roles(request)
    for role_id in roles:
        get_role(tenant, role_id)
    return roles


def _create(tenant: Tenant, request: Request) -> Response:
    # Recorded: Auth0 answers 200, not 201, for a new role.
    return 200, create_role(tenant, request.json_object())


def _list(tenant: Tenant, request: Request) -> Response:
    wanted = request.query.get("name_filter", "").lower()
    roles = [r for r in tenant.store["roles"].values() if wanted in r["name"].lower()]
    return 200, paginate(roles, request, "roles")


def _get(tenant: Tenant, request: Request) -> Response:
    return 200, get_role(tenant, request.params["id"])


def _update(tenant: Tenant, request: Request) -> Response:
    role = get_role(tenant, request.params["id"])
    body = request.json_object()
    role.update({key: copy.deepcopy(body[key]) for key in ("name", "description") if key in body})
    return 200, role


def _delete(tenant: Tenant, request: Request) -> Response:
    get_role(tenant, request.params["id"])
    del tenant.store["roles"][request.params["id"]]
    for by_user in tenant.store["organization_member_roles"].values():
        for role_ids in by_user.values():
            if request.params["id"] in role_ids:
                role_ids.remove(request.params["id"])
    return 200, {}


def _permissions(tenant: Tenant, request: Request) -> Response:
    get_role(tenant, request.params["id"])
    return 200, paginate([], request, "permissions")


def _users(tenant: Tenant, request: Request) -> Response:
    get_role(tenant, request.params["id"])
    return 200, paginate([], request, "users")


def _give_member_roles(tenant: Tenant, request: Request) -> Response:
    held = _member_roles(tenant, request)
    new = [role for role in dict.fromkeys(_role_ids(tenant, request)) if role not in held]
    if len(held) + len(new) > MEMBER_ROLES_MAX:
        # The reference's 409 (post_organization_member_roles); its errorCode is not given.
        raise Auth0Error(409, "No more roles can be assigned to this organization member.")
    held.extend(new)
    return 204, None


def _list_member_roles(tenant: Tenant, request: Request) -> Response:
    roles = [get_role(tenant, role_id) for role_id in _member_roles(tenant, request)]
    return 200, paginate(roles, request, "roles")


def _take_member_roles(tenant: Tenant, request: Request) -> Response:
    held = _member_roles(tenant, request)
    for role_id in _listed_roles(request):
        if role_id in held:
            held.remove(role_id)
    return 204, None


ROLE = "/api/v2/roles/{id}"
MEMBER_ROLES = "/api/v2/organizations/{id}/members/{user_id}/roles"
ROUTES = [
    route(RouteName.ROLES_LIST, "GET", "/api/v2/roles", "read:roles", _list),
    route(RouteName.ROLES_CREATE, "POST", "/api/v2/roles", "create:roles", _create),
    route(RouteName.ROLES_GET, "GET", ROLE, "read:roles", _get),
    route(RouteName.ROLES_UPDATE, "PATCH", ROLE, "update:roles", _update),
    route(RouteName.ROLES_DELETE, "DELETE", ROLE, "delete:roles", _delete),
    route(
        RouteName.ROLES_PERMISSIONS_LIST, "GET", ROLE + "/permissions", "read:roles", _permissions
    ),
    route(
        RouteName.ROLES_USERS_LIST,
        "GET",
        ROLE + "/users",
        ("read:role_members", "read:users"),
        _users,
    ),
    route(
        RouteName.ORGANIZATIONS_MEMBER_ROLES_CREATE,
        "POST",
        MEMBER_ROLES,
        "create:organization_member_roles",
        _give_member_roles,
    ),
    route(
        RouteName.ORGANIZATIONS_MEMBER_ROLES_LIST,
        "GET",
        MEMBER_ROLES,
        "read:organization_member_roles",
        _list_member_roles,
    ),
    route(
        RouteName.ORGANIZATIONS_MEMBER_ROLES_DELETE,
        "DELETE",
        MEMBER_ROLES,
        "delete:organization_member_roles",
        _take_member_roles,
    ),
]
