"""Organizations, the connections enabled on them, their members and their discovery domains."""

from __future__ import annotations

import base64
import copy
import re
import secrets
import time
from typing import TYPE_CHECKING, Any

from devtools.localtenant import ids
from devtools.localtenant.connections import get_connection
from devtools.localtenant.errors import (
    Auth0Error,
    bad_request,
    conflict,
    insufficient_scope,
    not_found,
    path_length,
)
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.routes import Handler, Request, Response, bounded, paginate, route

if TYPE_CHECKING:
    from devtools.localtenant.tenant import Tenant

NAME = re.compile(r"^[a-z0-9_-]{1,50}$")
DISPLAY_NAME_MAX = 255
METADATA_MAX_KEYS = 25
METADATA_VALUE_MAX = 255
HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
CONNECTIONS_MAX = 10
MEMBERS_PER_REQUEST_MAX = 10
"""https://auth0.com/docs/manage-users/organizations/configure-organizations/assign-members:
"You can send a maximum of 10 members per organization per request"; remove-members: "You can
remove up to 10 members per request"."""
DISCOVERY_DOMAINS_MAX = 100
"""https://auth0.com/docs/troubleshoot/customer-support/operational-policies/entity-limit-policy:
"Discovery Domains per Organization | 100"."""
DOMAIN = re.compile(
    r"^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\.)*"
    r"([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$"
)
"""The Management API's pattern for a discovery domain as it answers one
(OrganizationDiscoveryDomain.domain), 3 to 255 characters. The create's request schema has only
the length; applying the pattern to a create too is a judgement (what it could not answer)."""
DISCOVERY_DOMAIN_STATUSES = ("pending", "verified")
ENABLED_CONNECTION_FIELDS = ("assign_membership_on_login", "is_signup_enabled", "show_as_button")
"""What the older path and a create's enabled_connections take (AddOrganizationConnection-,
UpdateOrganizationConnectionRequestContent, ConnectionForOrganization; no other property)."""
NEWER_CONNECTION_FIELDS = (
    "is_enabled",
    "organization_access_level",
    "organization_connection_name",
)
"""What the newer path takes and answers besides (CreateOrganizationAllConnectionRequestContent,
UpdateOrganizationAllConnectionRequestContent); the older path answers none of them."""
ACCESS_LEVELS = ("none", "readonly", "limited", "full")
"""OrganizationAccessLevelEnum."""
CONNECTION_NAME_MAX = 50


# --- models --------------------------------------------------------------------------------


def create_organization(tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(body.get("name"), str):
        raise bad_request("'Missing required property: name'.")
    _validate(tenant, body, None)
    enabled = body.get("enabled_connections") or []
    if len(enabled) > CONNECTIONS_MAX:
        raise bad_request(
            f"'At most {CONNECTIONS_MAX} enabled connections'.", "too_many_connections"
        )
    for connection in enabled:
        fields = _connection_fields(connection, newer=False, update=False)
        _enabled_record(get_connection(tenant, str(connection.get("connection_id"))), fields)
    organization = {"id": ids.prefixed("org"), **copy.deepcopy(body)}
    _without_empty_metadata(organization)
    organization.pop("enabled_connections", None)
    tenant.store["organizations"][organization["id"]] = organization
    tenant.store["organization_connections"][organization["id"]] = {}
    tenant.store["organization_members"][organization["id"]] = []
    for connection in enabled:
        enable_connection(tenant, organization["id"], connection, newer=False)
    return organization


def get_organization(tenant: Tenant, organization_id: str) -> dict[str, Any]:
    return tenant.store.one("organizations", organization_id, "organization")


def update_organization(
    tenant: Tenant, organization_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    organization = get_organization(tenant, organization_id)
    _validate(tenant, body, organization_id)
    # Top-level properties are replaced whole: sending metadata {} clears every entry.
    organization.update(copy.deepcopy(body))
    _without_empty_metadata(organization)
    return organization


def _without_empty_metadata(organization: dict[str, Any]) -> None:
    """Recorded (terraform-provider-auth0's ``TestAccOrganization``): an organization whose
    metadata is empty, sent ``{}`` or never sent, is answered without the key."""
    if organization.get("metadata") == {}:
        del organization["metadata"]


def delete_organization(tenant: Tenant, organization_id: str) -> None:
    get_organization(tenant, organization_id)
    for collection in (
        "organizations",
        "organization_connections",
        "organization_members",
        "organization_discovery_domains",
    ):
        tenant.store[collection].pop(organization_id, None)


def _connection_fields(body: dict[str, Any], newer: bool, update: bool) -> dict[str, Any]:
    """The settings an enable (``update``: a change) of an organization's connection sends, as
    the path's request schema takes them; None (a newer PATCH's null) unsets the setting."""
    allowed = (*ENABLED_CONNECTION_FIELDS, *(NEWER_CONNECTION_FIELDS if newer else ()))
    _only(body, allowed if update else ("connection_id", *allowed))
    fields = {key: body[key] for key in allowed if key in body}
    for key, value in fields.items():
        if value is None and update and key in NEWER_CONNECTION_FIELDS:
            continue
        if key == "organization_access_level":
            problem = None if value in ACCESS_LEVELS else f'No enum match for: "{value}"'
        elif key == "organization_connection_name":
            fits = isinstance(value, str) and 1 <= len(value) <= CONNECTION_NAME_MAX
            problem = None if fits and "\x00" not in value else "String length must be 1 to 50"
        else:
            problem = None if isinstance(value, bool) else "Expected type boolean"
        if problem:
            raise bad_request(f"'{problem}' on property {key}.")
    return fields


def enable_connection(
    tenant: Tenant, organization_id: str, body: dict[str, Any], newer: bool = True
) -> dict[str, Any]:
    get_organization(tenant, organization_id)
    fields = _connection_fields(body, newer, update=False)
    connection_id = body.get("connection_id")
    if not isinstance(connection_id, str):
        raise bad_request("'Missing required property: connection_id'.")
    connection = get_connection(tenant, connection_id)
    enabled = tenant.store["organization_connections"][organization_id]
    if connection_id in enabled:
        # The reference's 409 (post_organization_connection); no recording gives its body.
        raise conflict(
            "The organization connection already exists.", "organization_connection_conflict"
        )
    if len(enabled) >= CONNECTIONS_MAX:
        raise bad_request(
            f"'An organization can have at most {CONNECTIONS_MAX} enabled connections'.",
            "too_many_connections",
        )
    record = _enabled_record(connection, fields)
    enabled[connection_id] = record
    return _with_connection(tenant, record)


def _enabled_record(connection: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """The record of ``connection`` enabled on an organization with ``fields``, checked."""
    # is_signup_enabled: "Only applicable for database connections" -- recorded, an enterprise
    # connection's record has none (terraform-provider-auth0's TestAccOrganizationConnection,
    # okta; go-auth0's TestOrganizationManager_AddConnection, ad), a database's has false.
    database = connection["strategy"] == "auth0"
    record = {
        "connection_id": connection["id"],
        "assign_membership_on_login": False,
        **({"is_signup_enabled": False} if database else {}),
        "show_as_button": True,
        "is_enabled": True,
        "organization_access_level": "none",
        **fields,
    }
    _signup_needs_membership(record)
    return record


def _signup_needs_membership(record: dict[str, Any]) -> None:
    """Recorded (go-auth0's ``TestOrganizationManager_UpdateDBConnection``): sign-up through an
    organization's database connection only with membership on login, the update refused and
    the connection left as it was."""
    if record.get("is_signup_enabled") and not record.get("assign_membership_on_login"):
        raise Auth0Error(
            400,
            "Only database connections with assign_membership_on_login = true support "
            "is_signup_enabled = true.",
            "invalid_body",
        )


def enabled_connection(tenant: Tenant, organization_id: str, connection_id: str) -> dict[str, Any]:
    get_organization(tenant, organization_id)
    record = tenant.store["organization_connections"][organization_id].get(connection_id)
    if record is None:
        raise not_found("organization connection")
    return record


def add_members(tenant: Tenant, organization_id: str, user_ids: list[str]) -> None:
    get_organization(tenant, organization_id)
    missing = [user_id for user_id in user_ids if user_id not in tenant.store["users"]]
    if missing:
        raise Auth0Error(
            400, f"One or more users do not exist: {', '.join(missing)}", "invalid_body"
        )
    members = tenant.store["organization_members"][organization_id]
    for user_id in dict.fromkeys(user_ids):
        if user_id not in members:
            membership_changed(tenant, organization_id, user_id, was_member=False)
            members.append(user_id)


def membership_changed(
    tenant: Tenant, organization_id: str, user_id: str, was_member: bool
) -> None:
    """The members list shows ``was_member`` for the user for the tenant's member_list_lag_s
    from now (the state before the first of changes within one another's lag)."""
    if tenant.member_list_lag_s <= 0:
        return
    now = time.monotonic()
    key = (organization_id, user_id)
    view = tenant.member_views.get(key)
    shown = view[1] if view is not None and view[0] > now else was_member
    tenant.member_views[key] = (now + tenant.member_list_lag_s, shown)


def _listed_members(tenant: Tenant, organization_id: str) -> list[str]:
    """The organization's members as its list shows them now (``membership_changed``)."""
    current = tenant.store["organization_members"][organization_id]
    if not tenant.member_views:
        return list(current)
    now = time.monotonic()
    views = {
        user_id: shown
        for (organization, user_id), (until, shown) in tenant.member_views.items()
        if organization == organization_id and until > now
    }
    gone = [user_id for user_id, shown in views.items() if shown and user_id not in current]
    return [user_id for user_id in current if views.get(user_id, True)] + gone


def _with_connection(tenant: Tenant, record: dict[str, Any]) -> dict[str, Any]:
    connection = get_connection(tenant, record["connection_id"])
    return {
        **record,
        "connection": {"name": connection["name"], "strategy": connection["strategy"]},
    }


def _validate(tenant: Tenant, body: dict[str, Any], organization_id: str | None) -> None:
    """Auth0's rules for what a create or update sends; each raises Auth0's error."""
    _validate_name(tenant, body.get("name"), organization_id)
    _validate_display_name(body.get("display_name"))
    _validate_metadata(body.get("metadata"))
    _validate_branding(body.get("branding"))


def _validate_name(tenant: Tenant, name: Any, organization_id: str | None) -> None:
    if name is None:
        return
    if not isinstance(name, str) or not NAME.match(name):
        raise bad_request(
            f"'String does not match pattern ^[a-z0-9_-]{{1,50}}$: {name}' on property name "
            "(The name of this organization)."
        )
    for other in tenant.store["organizations"].values():
        if other["name"] == name and other["id"] != organization_id:
            raise conflict(
                "An organization with the same name already exists", "organization_conflict"
            )


def _validate_display_name(display_name: Any) -> None:
    """display_name: "minLength 1, maxLength 255"."""
    if display_name is None:
        return
    if not isinstance(display_name, str):
        raise bad_request(
            "'Expected type string but found type "
            f"{type(display_name).__name__}' on property display_name."
        )
    if not display_name:
        raise bad_request("'String is too short (0 chars), minimum 1' on property display_name.")
    if len(display_name) > DISPLAY_NAME_MAX:
        raise bad_request(
            f"'String is too long ({len(display_name)} chars), maximum {DISPLAY_NAME_MAX}' "
            "on property display_name."
        )


def _validate_metadata(metadata: Any) -> None:
    if metadata is None:
        return
    if len(metadata) > METADATA_MAX_KEYS:
        raise bad_request(
            f"'Too many properties, maximum {METADATA_MAX_KEYS}' on property metadata."
        )
    # OrganizationMetadata: each value "type": ["string", "null"], "maxLength": 255.
    for key, value in metadata.items():
        if value is not None and not isinstance(value, str):
            raise bad_request(
                f"'Expected type string,null but found type {type(value).__name__}' "
                f"on property metadata.{key}."
            )
        if value is not None and len(value) > METADATA_VALUE_MAX:
            raise bad_request(
                f"'String is too long ({len(value)} chars), maximum {METADATA_VALUE_MAX}' "
                f"on property metadata.{key}."
            )


def _validate_branding(branding: Any) -> None:
    if not branding:
        return
    logo = branding.get("logo_url")
    if logo is not None and not str(logo).startswith("https://"):
        raise bad_request(
            "'Object didn't pass validation for format absolute-https-uri-or-empty' "
            "on property branding.logo_url."
        )
    colours = branding.get("colors")
    for key in ("primary", "page_background") if colours is not None else ():
        if key not in colours:
            raise bad_request(f"'Missing required property: {key}' on property branding.colors.")
        if not HEX_COLOUR.match(str(colours[key])):
            raise bad_request(f"'String does not match pattern' on property branding.colors.{key}.")


# --- discovery domains ---------------------------------------------------------------------
# As Auth0's Management API reference describes them
# (https://auth0.com/docs/api/management/v2/organizations/post-discovery-domains and its
# get/patch/delete pages; the shapes are its OrganizationDiscoveryDomain schema) and as real
# tenants answered in go-auth0's recordings (TestOrganizationManager_*DiscoveryDomain*.yaml):
# ids ``ord_`` and 22 characters; the TXT record to publish at
# ``_ss-verification.<organization id>.<domain>``, 32 hex digits; ``status`` is whatever the
# caller sets (the Management API checks no DNS: a domain may be created ``verified``).
# Reads, of one domain (by id or by name) and of the list, are "subject to eventual
# consistency; newly created, updated, or deleted discovery domains may not immediately appear
# in the response" (the reference's get-discovery-domain and get-name-by-discovery-domain
# pages; the SDKs' list, generated from the same reference, says it too): for
# ``Tenant.discovery_domain_lag_s`` after a change they show the domain as it was before.


def _discovery_domains(tenant: Tenant, organization_id: str) -> list[dict[str, Any]]:
    get_organization(tenant, organization_id)
    domains: list[dict[str, Any]] = tenant.store["organization_discovery_domains"].setdefault(
        organization_id, []
    )
    return domains


def _discovery_domain(tenant: Tenant, request: Request) -> dict[str, Any]:
    for domain in _discovery_domains(tenant, request.params["id"]):
        if domain["id"] == request.params["discovery_domain_id"]:
            return domain
    raise not_found("discovery domain")


def _lag(tenant: Tenant, organization_id: str, domain: dict[str, Any] | None, id_: str) -> None:
    """Reads of one domain show ``domain`` (its state before a change; None: not there yet)
    for the tenant's lag from now. While an earlier change's view still holds, they go on
    showing that older state, for the lag from this change."""
    if tenant.discovery_domain_lag_s <= 0:
        return
    now = time.monotonic()
    views = tenant.discovery_domain_views
    view = views[id_][2] if id_ in views and views[id_][0] > now else copy.deepcopy(domain)
    views[id_] = (now + tenant.discovery_domain_lag_s, organization_id, view)


def _read_discovery_domains(tenant: Tenant, organization_id: str) -> list[dict[str, Any]]:
    """The organization's discovery domains as a read sees them now."""
    now = time.monotonic()
    views = {
        id_: view
        for id_, (until, organization, view) in tenant.discovery_domain_views.items()
        if until > now and organization == organization_id
    }
    current = _discovery_domains(tenant, organization_id)
    seen = [views.get(d["id"], d) for d in current]
    gone = [view for id_, view in views.items() if all(d["id"] != id_ for d in current)]
    return [domain for domain in (*seen, *gone) if domain is not None]


def _only(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    """The schemas have ``additionalProperties: false``."""
    extra = sorted(set(body) - set(allowed))
    if extra:
        raise bad_request(f"'Additional properties not allowed: {', '.join(extra)}'.")


def _check_discovery_fields(body: dict[str, Any]) -> None:
    status = body.get("status", "pending")
    if status not in DISCOVERY_DOMAIN_STATUSES:
        raise bad_request(f"'No enum match for: \"{status}\"' on property status.")
    use = body.get("use_for_organization_discovery", True)
    if not isinstance(use, bool):
        raise bad_request(
            "'Expected type boolean but found type "
            f"{type(use).__name__}' on property use_for_organization_discovery."
        )


def create_discovery_domain(
    tenant: Tenant, organization_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    domains = _discovery_domains(tenant, organization_id)
    _only(body, ("domain", "status", "use_for_organization_discovery"))
    name = body.get("domain")
    if not isinstance(name, str):
        raise bad_request("'Missing required property: domain'.")
    if not 3 <= len(name) <= 255 or not DOMAIN.match(name):
        raise bad_request(f"'String does not match pattern: {name}' on property domain.")
    _check_discovery_fields(body)
    if any(domain["domain"] == name for domain in domains):
        # The reference's 409: "An organization discovery domain with this domain is already
        # registered to this organization." (no recording gives the body's errorCode).
        raise conflict(
            "An organization discovery domain with this domain is already registered to this "
            "organization.",
            None,
        )
    if len(domains) >= DISCOVERY_DOMAINS_MAX:
        raise bad_request(
            f"'An organization can have at most {DISCOVERY_DOMAINS_MAX} discovery domains'.",
            "too_many_entities",
        )
    domain = {
        "id": ids.prefixed("ord", 22),
        "domain": name,
        "status": body.get("status", "pending"),
        "verification_host": f"_ss-verification.{organization_id}.{name}",
        "verification_txt": secrets.token_hex(16),
        # Recorded: true when the create sends none.
        "use_for_organization_discovery": body.get("use_for_organization_discovery", True),
    }
    domains.append(domain)
    _lag(tenant, organization_id, None, domain["id"])
    return domain


def _list_discovery_domains(tenant: Tenant, request: Request) -> Response:
    """Checkpoint pagination only (``from``, ``take`` 1 to 100, 50 by default). Recorded
    (TestOrganizationManager_DiscoveryDomainsCheckpointPagination.yaml): ``next`` is there
    while more domains follow, and the last page has none."""
    domains = _read_discovery_domains(tenant, request.params["id"])
    take = bounded(request.query.get("take") or "50", "take", 100)
    start = 0
    if request.query.get("from"):
        token = request.query["from"]
        start = next((n for n, d in enumerate(domains) if _checkpoint(d) == token), -1)
        if start < 0:
            raise Auth0Error(
                400,
                "Query validation error: 'from' is not a valid checkpoint",
                "invalid_query_string",
            )
    page = domains[start : start + take]
    body: dict[str, Any] = {"domains": page}
    if start + take < len(domains):
        body["next"] = _checkpoint(domains[start + take])
    return 200, body


def _checkpoint(domain: dict[str, Any]) -> str:
    """An opaque ``from`` naming the first domain of the next page."""
    return base64.urlsafe_b64encode(domain["id"].encode()).decode().rstrip("=")


def _create_discovery_domain(tenant: Tenant, request: Request) -> Response:
    return 201, create_discovery_domain(tenant, request.params["id"], request.json_object())


def _get_discovery_domain(tenant: Tenant, request: Request) -> Response:
    for domain in _read_discovery_domains(tenant, request.params["id"]):
        if domain["id"] == request.params["discovery_domain_id"]:
            return 200, domain
    raise not_found("discovery domain")


def _get_discovery_domain_by_name(tenant: Tenant, request: Request) -> Response:
    # The path parameter is "minLength 3, maxLength 255" (get-name-by-discovery-domain).
    name = request.params["discovery_domain"]
    path_length(name, "discovery_domain", "Domain name of the discovery domain", 3, 255)
    for domain in _read_discovery_domains(tenant, request.params["id"]):
        if domain["domain"] == name:
            return 200, domain
    raise not_found("discovery domain")


def _update_discovery_domain(tenant: Tenant, request: Request) -> Response:
    domain = _discovery_domain(tenant, request)
    body = request.json_object()
    # The update schema has only these two: the domain itself is not updatable.
    _only(body, ("status", "use_for_organization_discovery"))
    _check_discovery_fields(body)
    _lag(tenant, request.params["id"], domain, domain["id"])
    domain.update(body)
    return 200, domain


def _delete_discovery_domain(tenant: Tenant, request: Request) -> Response:
    domains = _discovery_domains(tenant, request.params["id"])
    # Recorded: deleting a domain that is already gone answers 204 too.
    for domain in domains:
        if domain["id"] == request.params["discovery_domain_id"]:
            _lag(tenant, request.params["id"], domain, domain["id"])
    domains[:] = [d for d in domains if d["id"] != request.params["discovery_domain_id"]]
    return 204, None


# --- routes --------------------------------------------------------------------------------


def _create(tenant: Tenant, request: Request) -> Response:
    """The new organization, with the connections it enabled as the older path shows them
    (CreateOrganizationResponseContent's ``enabled_connections``; recorded in go-auth0's
    TestOrganizationManager_Create); reads of an organization do not show them."""
    body = request.json_object()
    organization = create_organization(tenant, body)
    if not body.get("enabled_connections"):
        return 201, organization
    records = tenant.store["organization_connections"][organization["id"]].values()
    enabled = [_older(_with_connection(tenant, record)) for record in records]
    return 201, {**organization, "enabled_connections": enabled}


OFFSET_RECORDS_MAX = 1000
"""retrieve-organizations and retrieve-members: offset pages reach the first 1000 records
("To retrieve more than 1000 results, you must use the checkpoint pagination method")."""


def _first_thousand(
    items: list[Any], request: Request, key: str, *, next_after_any_page: bool = False
) -> Any:
    """``paginate``, whose offset pages end at the 1000th record with Auth0's 400 (those pages'
    "400 invalid_paging: Requesting page exceeds the allowed maximum of 1000 records.")."""
    if "take" not in request.query:
        per_page = bounded(request.query.get("per_page") or "50", "per_page", 100)
        page = request.query.get("page") or "0"
        if not page.isdigit():
            raise Auth0Error(
                400,
                "Query validation error: 'page' must be an integer of at least 0",
                "invalid_query_string",
            )
        if (int(page) + 1) * per_page > OFFSET_RECORDS_MAX:
            raise Auth0Error(
                400,
                f"Requesting page exceeds the allowed maximum of {OFFSET_RECORDS_MAX} records.",
                "invalid_paging",
            )
    return paginate(items, request, key, next_after_any_page=next_after_any_page)


def _list(tenant: Tenant, request: Request) -> Response:
    organizations = list(tenant.store["organizations"].values())
    return 200, _first_thousand(organizations, request, "organizations")


def _get(tenant: Tenant, request: Request) -> Response:
    return 200, get_organization(tenant, request.params["id"])


def _get_by_name(tenant: Tenant, request: Request) -> Response:
    # The path parameter is "minLength 1, maxLength 50" (get_name_by_name).
    name = request.params["name"]
    path_length(name, "name", "name of the organization to retrieve", 1, 50)
    for organization in tenant.store["organizations"].values():
        if organization["name"] == name:
            return 200, organization
    raise not_found("organization")


def _update(tenant: Tenant, request: Request) -> Response:
    return 200, update_organization(tenant, request.params["id"], request.json_object())


def _delete(tenant: Tenant, request: Request) -> Response:
    delete_organization(tenant, request.params["id"])
    return 204, None


def _list_connections(key: str) -> Any:
    def handler(tenant: Tenant, request: Request) -> Response:
        get_organization(tenant, request.params["id"])
        records = [
            _with_connection(tenant, record)
            for record in tenant.store["organization_connections"][request.params["id"]].values()
            if "is_enabled" not in request.query
            or record["is_enabled"] == request.flag("is_enabled")
        ]
        return 200, paginate(records, request, key)

    return handler


def _enable(newer: bool) -> Handler:
    def handler(tenant: Tenant, request: Request) -> Response:
        body = request.json_object()
        return 201, enable_connection(tenant, request.params["id"], body, newer)

    return handler


def _get_connection(tenant: Tenant, request: Request) -> Response:
    record = enabled_connection(tenant, request.params["id"], request.params["connection_id"])
    return 200, _with_connection(tenant, record)


UNSET = {"is_enabled": True, "organization_access_level": "none"}
"""What a newer PATCH's null sets (a judgement: the defaults a create gives); a null
organization_connection_name removes it."""


def _update_connection(newer: bool) -> Handler:
    def handler(tenant: Tenant, request: Request) -> Response:
        organization_id, connection_id = request.params["id"], request.params["connection_id"]
        record = enabled_connection(tenant, organization_id, connection_id)
        updated = dict(record)
        for key, value in _connection_fields(request.json_object(), newer, update=True).items():
            if value is not None:
                updated[key] = value
            elif key in UNSET:
                updated[key] = UNSET[key]
            else:
                updated.pop(key, None)
        _signup_needs_membership(updated)
        record.clear()
        record.update(updated)
        return 200, _with_connection(tenant, record)

    return handler


def _disable(tenant: Tenant, request: Request) -> Response:
    get_organization(tenant, request.params["id"])
    # Auth0 answers 204 even when the connection was not enabled (recorded).
    tenant.store["organization_connections"][request.params["id"]].pop(
        request.params["connection_id"], None
    )
    return 204, None


def _members(request: Request) -> list[str]:
    """The request's ``members``: 1 to 10 user ids, in Auth0's payload-validation shape."""
    members = request.json_object().get("members")
    if not isinstance(members, list) or not members:
        raise bad_request("'Missing required property: members'.")
    if len(members) > MEMBERS_PER_REQUEST_MAX:
        raise bad_request(
            f"'Array is too long ({len(members)}), maximum {MEMBERS_PER_REQUEST_MAX}' "
            "on property members."
        )
    if not all(isinstance(member, str) for member in members):
        raise bad_request("'Expected type string' on property members.")
    return members


def _add_members(tenant: Tenant, request: Request) -> Response:
    add_members(tenant, request.params["id"], _members(request))
    return 204, None


MEMBER_FIELDS = ("user_id", "email", "picture", "name", "roles")
"""The OrganizationMember schema's fields (get-organization-members' ``fields`` pattern)."""


def _member_fields(request: Request) -> tuple[str, ...]:
    """The fields the list answers: "If fields is left blank, all fields (except roles) are
    returned"; ``include_fields=false`` answers all but those named (roles never unasked)."""
    named = request.query.get("fields", "")
    if not named:
        return MEMBER_FIELDS[:-1]
    wanted = named.split(",")
    unknown = sorted(set(wanted) - set(MEMBER_FIELDS))
    if unknown:
        raise Auth0Error(
            400,
            f"Query validation error: 'String does not match pattern: {named}' on property "
            "fields (Comma-separated list of fields to include or exclude (based on value "
            "provided for include_fields) in the result. Leave empty to retrieve all fields).",
            "invalid_query_string",
        )
    if request.query.get("include_fields", "true").lower() == "false":
        return tuple(field for field in MEMBER_FIELDS[:-1] if field not in wanted)
    return tuple(field for field in MEMBER_FIELDS if field in wanted)


def _list_members(tenant: Tenant, request: Request) -> Response:
    organization_id = request.params["id"]
    get_organization(tenant, organization_id)
    fields = _member_fields(request)
    if "roles" in fields and "read:organization_member_roles" not in request.scopes:
        # "To use this parameter, you must include the read:organization_member_roles scope".
        raise insufficient_scope(("read:organization_member_roles",))
    users = tenant.store["users"]
    held = tenant.store["organization_member_roles"].get(organization_id, {})

    def member(user_id: str) -> dict[str, Any]:
        # A field the user lacks is left out (the schema's are strings, none nullable).
        user = {**users.get(user_id, {}), "user_id": user_id}
        shown = {field: user[field] for field in fields if user.get(field) is not None}
        if "roles" in fields:
            roles = tenant.store["roles"]
            shown["roles"] = [
                {"id": role_id, "name": roles[role_id]["name"]}
                for role_id in held.get(user_id, [])
                if role_id in roles
            ]
        return shown

    # The page first, then its members' details: a page of 100 costs 100, not every member.
    page = _first_thousand(
        _listed_members(tenant, organization_id), request, "members", next_after_any_page=True
    )
    if isinstance(page, dict):
        return 200, {**page, "members": [member(user_id) for user_id in page["members"]]}
    return 200, [member(user_id) for user_id in page]


def _remove_members(tenant: Tenant, request: Request) -> Response:
    get_organization(tenant, request.params["id"])
    # remove-members: "You can remove up to 10 members per request", as for adding them.
    user_ids = _members(request)
    members = tenant.store["organization_members"][request.params["id"]]
    for user_id in user_ids:
        if user_id in members:
            membership_changed(tenant, request.params["id"], user_id, was_member=True)
            members.remove(user_id)
    return 204, None


def _list_client_grants(tenant: Tenant, request: Request) -> Response:
    get_organization(tenant, request.params["id"])
    return 200, paginate([], request, "client_grants")


ORG = "/api/v2/organizations/{id}"
ROUTES = [
    route(
        RouteName.ORGANIZATIONS_LIST, "GET", "/api/v2/organizations", "read:organizations", _list
    ),
    route(
        RouteName.ORGANIZATIONS_CREATE,
        "POST",
        "/api/v2/organizations",
        "create:organizations",
        _create,
    ),
    route(
        RouteName.ORGANIZATIONS_GET_BY_NAME,
        "GET",
        "/api/v2/organizations/name/{name}",
        "read:organizations",
        _get_by_name,
    ),
    # GET /organizations/search (the SDK's organizations.search) is not emulated: a 501.
    route(RouteName.ORGANIZATIONS_GET, "GET", ORG, "read:organizations", _get, ("search",)),
    route(RouteName.ORGANIZATIONS_UPDATE, "PATCH", ORG, "update:organizations", _update),
    route(RouteName.ORGANIZATIONS_DELETE, "DELETE", ORG, "delete:organizations", _delete),
    route(
        RouteName.ORGANIZATIONS_MEMBERS_LIST,
        "GET",
        ORG + "/members",
        "read:organization_members",
        _list_members,
    ),
    route(
        RouteName.ORGANIZATIONS_MEMBERS_CREATE,
        "POST",
        ORG + "/members",
        "create:organization_members",
        _add_members,
    ),
    route(
        RouteName.ORGANIZATIONS_MEMBERS_DELETE,
        "DELETE",
        ORG + "/members",
        "delete:organization_members",
        _remove_members,
    ),
    route(
        RouteName.ORGANIZATIONS_CLIENT_GRANTS_LIST,
        "GET",
        ORG + "/client-grants",
        "read:organization_client_grants",
        _list_client_grants,
    ),
]
DISCOVERY = ORG + "/discovery-domains"
ROUTES += [
    route(
        RouteName.ORGANIZATIONS_DISCOVERY_DOMAINS_LIST,
        "GET",
        DISCOVERY,
        "read:organization_discovery_domains",
        _list_discovery_domains,
    ),
    route(
        RouteName.ORGANIZATIONS_DISCOVERY_DOMAINS_CREATE,
        "POST",
        DISCOVERY,
        "create:organization_discovery_domains",
        _create_discovery_domain,
    ),
    route(
        RouteName.ORGANIZATIONS_DISCOVERY_DOMAINS_GET_BY_NAME,
        "GET",
        DISCOVERY + "/name/{discovery_domain}",
        "read:organization_discovery_domains",
        _get_discovery_domain_by_name,
    ),
    route(
        RouteName.ORGANIZATIONS_DISCOVERY_DOMAINS_GET,
        "GET",
        DISCOVERY + "/{discovery_domain_id}",
        "read:organization_discovery_domains",
        _get_discovery_domain,
    ),
    route(
        RouteName.ORGANIZATIONS_DISCOVERY_DOMAINS_UPDATE,
        "PATCH",
        DISCOVERY + "/{discovery_domain_id}",
        "update:organization_discovery_domains",
        _update_discovery_domain,
    ),
    route(
        RouteName.ORGANIZATIONS_DISCOVERY_DOMAINS_DELETE,
        "DELETE",
        DISCOVERY + "/{discovery_domain_id}",
        "delete:organization_discovery_domains",
        _delete_discovery_domain,
    ),
]


def _older(record: dict[str, Any]) -> dict[str, Any]:
    """An enabled connection as the older path answers it: without the newer path's fields."""
    return {k: v for k, v in record.items() if k not in NEWER_CONNECTION_FIELDS}


def _as_is(handler: Handler) -> Handler:
    return handler


def _as_enabled_connections(handler: Handler) -> Handler:
    """The older path's answers: the records without the newer path's fields. Recorded: the
    older /enabled_connections answers no is_enabled and no organization_access_level
    (go-auth0's TestOrganizationManager_AddConnection.yaml), the newer /connections answers
    both, ``"is_enabled": true, "organization_access_level": "none"`` when nobody set them
    (terraform-provider-auth0's TestAccDataSourceOrganizationInsufficientScope.yaml)."""

    def strip(record: Any) -> Any:
        return _older(record) if isinstance(record, dict) and "connection_id" in record else record

    def answer(tenant: Tenant, request: Request) -> Response:
        status, body = handler(tenant, request)
        if isinstance(body, list):
            return status, [strip(record) for record in body]
        if isinstance(body, dict) and "enabled_connections" in body:
            records = [strip(record) for record in body["enabled_connections"]]
            return status, {**body, "enabled_connections": records}
        return status, strip(body)

    return answer


# Auth0 serves enabled connections under two paths: the older /enabled_connections and the
# newer /connections (which adds is_enabled and organization_access_level); both show the
# same records.
for _path, _key in (
    ("/enabled_connections", "enabled_connections"),
    ("/connections", "connections"),
):
    _prefix = "organizations" + _path.replace("/", ".")
    _shown = _as_enabled_connections if _key == "enabled_connections" else _as_is
    ROUTES += [
        route(
            RouteName(f"{_prefix}.list"),
            "GET",
            ORG + _path,
            "read:organization_connections",
            _shown(_list_connections(_key)),
        ),
        route(
            RouteName(f"{_prefix}.create"),
            "POST",
            ORG + _path,
            "create:organization_connections",
            _shown(_enable(_key == "connections")),
        ),
        route(
            RouteName(f"{_prefix}.get"),
            "GET",
            ORG + _path + "/{connection_id}",
            "read:organization_connections",
            _shown(_get_connection),
        ),
        route(
            RouteName(f"{_prefix}.update"),
            "PATCH",
            ORG + _path + "/{connection_id}",
            "update:organization_connections",
            _shown(_update_connection(_key == "connections")),
        ),
        route(
            RouteName(f"{_prefix}.delete"),
            "DELETE",
            ORG + _path + "/{connection_id}",
            "delete:organization_connections",
            _disable,
        ),
    ]
