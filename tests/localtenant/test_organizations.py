"""Organizations: their connections and members, within Auth0's limits."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pytest

from devtools.localtenant.testing import LocalTenant
from tests.localtenant.calls import error_of


def test_at_most_ten_connections_per_organization(tenant: LocalTenant) -> None:
    # Eleven quick writes would pass Write Organization Connections' burst of 5.
    tenant.rate_limit_tier("unlimited")
    organization = tenant.call("POST", "/api/v2/organizations", {"name": "many"})
    path = f"/api/v2/organizations/{organization['id']}/enabled_connections"
    for number in range(11):
        connection = tenant.call(
            "POST", "/api/v2/connections", {"name": f"c{number}", "strategy": "auth0"}
        )
        enable = {"connection_id": connection["id"]}
        if number < 10:
            tenant.call("POST", path, enable)
        else:
            status, error = error_of(lambda body=enable: tenant.call("POST", path, body))
            assert (status, error["errorCode"]) == (400, "too_many_connections")


# Row: an organization's own fields, as the reference's organization schemas have them.


def test_searching_organizations_is_not_an_organization_named_search(
    in_process: LocalTenant,
) -> None:
    """``GET /organizations/search`` is an endpoint of its own (the Node SDK's
    organizations.search, which COVERAGE.md's list comes from), not emulated: a 501, not the
    404 of ``GET /organizations/{id}`` for an organization whose id is "search"."""
    status, error = error_of(lambda: in_process.call("GET", "/api/v2/organizations/search"))
    assert (status, error["errorCode"]) == (501, "not_emulated")


def test_metadata_values_may_be_null(in_process: LocalTenant) -> None:
    """OrganizationMetadata: "additionalProperties": {"type": ["string", "null"], "maxLength":
    255}."""
    organization = in_process.create_organization("nulls")
    path = f"/api/v2/organizations/{organization['id']}"
    assert in_process.call("PATCH", path, {"metadata": {"a": "b", "gone": None}})["metadata"] == {
        "a": "b",
        "gone": None,
    }
    status, error = error_of(lambda: in_process.call("PATCH", path, {"metadata": {"n": 1}}))
    assert (status, error["errorCode"]) == (400, "invalid_body")


def test_an_empty_display_name_is_too_short(in_process: LocalTenant) -> None:
    """display_name is "minLength 1, maxLength 255": an empty one is too short, not too long."""
    path = f"/api/v2/organizations/{in_process.create_organization('short')['id']}"
    status, error = error_of(lambda: in_process.call("PATCH", path, {"display_name": ""}))
    assert status == 400
    assert "too short" in error["message"]


def test_an_organization_name_read_over_50_characters_is_refused(in_process: LocalTenant) -> None:
    """get_name_by_name's path parameter ``name`` is "minLength 1, maxLength 50"
    (retrieve-organizations: "Maximum length of 50 characters"): a 400, not a 404."""
    status, error = error_of(
        lambda: in_process.call("GET", "/api/v2/organizations/name/" + "a" * 51)
    )
    assert (status, error["errorCode"]) == (400, "invalid_uri")
    assert "maximum 50' on property name" in error["message"]


def test_a_created_organization_answers_the_connections_it_enabled(in_process: LocalTenant) -> None:
    """CreateOrganizationResponseContent has ``enabled_connections``, and Auth0 answered them
    (go-auth0's TestOrganizationManager_Create: each with ``connection``, without the newer
    path's fields); reads of the organization do not show them."""
    [database] = in_process.call("GET", "/api/v2/connections?name=Username-Password-Authentication")
    created = in_process.call(
        "POST",
        "/api/v2/organizations",
        {
            "name": "enabling",
            "enabled_connections": [
                {"connection_id": database["id"], "assign_membership_on_login": True}
            ],
        },
    )
    [enabled] = created["enabled_connections"]
    assert enabled == {
        "connection_id": database["id"],
        "assign_membership_on_login": True,
        "is_signup_enabled": False,
        "show_as_button": True,
        "connection": {"name": "Username-Password-Authentication", "strategy": "auth0"},
    }
    assert "enabled_connections" not in in_process.call(
        "GET", f"/api/v2/organizations/{created['id']}"
    )


# Row: members per request; Actions per trigger and per tenant.


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_at_most_ten_members_per_request(in_process: LocalTenant, method: str) -> None:
    organization = in_process.create_organization("ten")
    users = [in_process.ensure_user(f"auth0|{n:024x}")["user_id"] for n in range(11)]
    path = f"/api/v2/organizations/{organization['id']}/members"
    in_process.call(method, path, {"members": users[:10]})
    status, error = error_of(lambda: in_process.call(method, path, {"members": users}))
    assert status == 400
    assert error["errorCode"] == "invalid_body"
    assert "maximum 10" in error["message"]


# Row: an organization's members as its list shows them.


def _a_member(tenant: LocalTenant) -> tuple[str, dict[str, Any]]:
    organization = tenant.create_organization("listed")
    user = tenant.sign_up("ann@example.com")
    tenant.add_members(organization["id"], [user["user_id"]])
    return f"/api/v2/organizations/{organization['id']}/members", user


def test_a_member_is_listed_with_picture_but_without_roles(in_process: LocalTenant) -> None:
    """ "If fields is left blank, all fields (except roles) are returned" (get-organization-
    members): the OrganizationMember schema's user_id, picture, name and email; recorded so in
    go-auth0's TestOrganizationManager_MembersCheckpointPagination."""
    path, user = _a_member(in_process)
    [member] = in_process.call("GET", path)
    assert member == {key: user[key] for key in ("user_id", "email", "picture", "name")}


def test_the_members_fields_select_them_and_roles_come_on_request(in_process: LocalTenant) -> None:
    """``fields`` and ``include_fields`` choose the members' fields; ``fields=roles`` adds each
    member's roles as ``{id, name}`` (recorded: go-auth0's TestOrganizationManager_Members,
    ``?fields=user_id,roles&include_fields=true`` answered ``{"user_id", "roles"}``)."""
    path, user = _a_member(in_process)
    role = in_process.create_role("reader")
    in_process.call("POST", f"{path}/{quote(user['user_id'])}/roles", {"roles": [role["id"]]})
    page = in_process.call(
        "GET", f"{path}?fields=user_id,roles&include_fields=true&include_totals=true"
    )
    assert page["members"] == [
        {"user_id": user["user_id"], "roles": [{"id": role["id"], "name": "reader"}]}
    ]
    [member] = in_process.call("GET", f"{path}?fields=email,picture&include_fields=false")
    assert member == {"user_id": user["user_id"], "name": user["name"]}


def test_a_member_field_that_is_not_one_is_refused(in_process: LocalTenant) -> None:
    """``fields`` has the pattern ``^((user_id)|(email)|(picture)|(name)|(roles))(,...)*$``."""
    path, _ = _a_member(in_process)
    status, error = error_of(lambda: in_process.call("GET", f"{path}?fields=user_id,nickname"))
    assert (status, error["errorCode"]) == (400, "invalid_query_string")


def test_the_members_roles_need_the_member_roles_scope(tenant: LocalTenant) -> None:
    """ "To use this parameter [fields=roles], you must include the
    read:organization_member_roles scope in the token" (get-organization-members)."""
    path, _ = _a_member(tenant)
    reader = tenant.https_api(tenant.m2m_client("members", ["read:organization_members"]))
    assert len(reader.call("GET", path)) == 1
    status, error = error_of(lambda: reader.call("GET", f"{path}?fields=user_id,roles"))
    assert (status, error["errorCode"]) == (403, "insufficient_scope")
    assert "read:organization_member_roles" in error["message"]


def test_the_members_list_lags_additions_and_removals(in_process: LocalTenant) -> None:
    """get-organization-members: "This endpoint is subject to eventual consistency. New users
    may not be immediately included in the response and deleted users may not be immediately
    removed from it"; remove-members: "The removal process takes approximately 5 - 10
    seconds". For the tenant's member_list_lag_s after a change, the list shows the membership
    as it was; 0 (at once) by default."""
    path, ann = _a_member(in_process)
    bob = in_process.sign_up("bob@example.com")["user_id"]
    in_process.set_member_list_lag_s(1.0)
    in_process.call("POST", path, {"members": [bob]})
    in_process.call("DELETE", path, {"members": [ann["user_id"]]})
    assert [m["user_id"] for m in in_process.call("GET", path)] == [ann["user_id"]]
    time.sleep(1.1)
    assert [m["user_id"] for m in in_process.call("GET", path)] == [bob]
    in_process.delete_user(bob)
    assert [m["user_id"] for m in in_process.call("GET", path)] == [bob]
    time.sleep(1.1)
    assert in_process.call("GET", path) == []


@pytest.mark.parametrize("listed", ["/api/v2/organizations", "{org}/members"])
def test_offset_pages_end_at_the_thousandth_record(in_process: LocalTenant, listed: str) -> None:
    """ "Up to 1000 organization members can be displayed", a page past them is 400
    invalid_paging "Requesting page exceeds the allowed maximum of 1000 records."
    (retrieve-members, retrieve-organizations: "To retrieve more than 1000 results, you must use
    the checkpoint pagination method"); checkpoint pages have no such end."""
    path = listed.format(org=_a_member(in_process)[0].removesuffix("/members"))
    assert in_process.call("GET", f"{path}?page=9&per_page=100") == []
    status, error = error_of(lambda: in_process.call("GET", f"{path}?page=10&per_page=100"))
    assert (status, error) == (
        400,
        {
            "statusCode": 400,
            "error": "Bad Request",
            "message": "Requesting page exceeds the allowed maximum of 1000 records.",
            "errorCode": "invalid_paging",
        },
    )
    assert in_process.call("GET", f"{path}?take=100&from=")[listed.rsplit("/", 1)[-1]]
    status, error = error_of(lambda: in_process.call("GET", f"{path}?page=first"))
    assert (status, error["errorCode"]) == (400, "invalid_query_string")  # not a 500


def test_a_short_checkpoint_page_ends_the_list_except_for_members(in_process: LocalTenant) -> None:
    """Recorded (go-auth0's ``TestOrganizationManager_ListCheckpointPagination`` and
    ``_MembersCheckpointPagination``, three of each, ``take=2``): organizations answer 2 with a
    ``next``, then 1 without; members answer 2 and 1 each with a ``next``, then none."""
    organization = in_process.create_organization("paged")
    for n in range(2):
        in_process.create_organization(f"paged-{n}")
    users = [in_process.ensure_user(f"auth0|{n:024x}")["user_id"] for n in range(3)]
    in_process.add_members(organization["id"], users)

    def pages(path: str, key: str) -> list[tuple[int, bool]]:
        seen, checkpoint = [], ""
        while True:
            page = in_process.call("GET", f"{path}?take=2&from={checkpoint}")
            seen.append((len(page[key]), "next" in page))
            if "next" not in page:
                return seen
            checkpoint = page["next"]

    assert pages("/api/v2/organizations", "organizations") == [(2, True), (1, False)]
    members = f"/api/v2/organizations/{organization['id']}/members"
    assert pages(members, "members") == [(2, True), (1, True), (0, False)]


# Row: a member's roles in the organization.


def test_a_member_holds_at_most_fifty_roles(in_process: LocalTenant) -> None:
    """ "Role Assignments per Organization Member | 50" (Entity Limit Policy; add-member-roles:
    "Maximum of 50 roles per member"); past them post_organization_member_roles is the 409 "No
    more roles can be assigned to this organization member."."""
    path, user = _a_member(in_process)
    roles = f"{path}/{quote(user['user_id'])}/roles"
    ids = [in_process.create_role(f"r{n}")["id"] for n in range(51)]
    in_process.call("POST", roles, {"roles": ids[:50]})
    in_process.call("POST", roles, {"roles": ids[:1]})  # one already held takes no place
    status, error = error_of(lambda: in_process.call("POST", roles, {"roles": ids[50:]}))
    assert (status, error["message"]) == (
        409,
        "No more roles can be assigned to this organization member.",
    )
    assert len(in_process.call("GET", roles)) == 50


@pytest.mark.parametrize("method", ["POST", "DELETE"])
@pytest.mark.parametrize("body", [{}, {"roles": []}, {"roles": ["rol_x"], "members": []}])
def test_member_roles_are_given_and_taken_by_a_list_of_them_alone(
    in_process: LocalTenant, method: str, body: dict[str, Any]
) -> None:
    """AssignOrganizationMemberRolesRequestContent and DeleteOrganizationMemberRolesRequestContent:
    ``roles`` required, ``minItems 1``, ``additionalProperties: false``."""
    path, user = _a_member(in_process)
    roles = f"{path}/{quote(user['user_id'])}/roles"
    status, error = error_of(lambda: in_process.call(method, roles, body))
    assert (status, error["errorCode"]) == (400, "invalid_body")


# Row: the connections enabled on an organization, on the older and the newer path (D7).


def test_the_older_path_answers_no_access_level_the_newer_one_none(
    in_process: LocalTenant,
) -> None:
    [database] = in_process.call("GET", "/api/v2/connections?name=Username-Password-Authentication")
    organization = in_process.create_organization("paths", connection_ids=[database["id"]])
    base = f"/api/v2/organizations/{organization['id']}"
    [older] = in_process.call("GET", base + "/enabled_connections")
    assert "organization_access_level" not in older
    assert "is_enabled" not in older
    newer = in_process.call("GET", base + "/connections?page=0&per_page=50&include_totals=true")
    assert newer["connections"][0]["organization_access_level"] == "none"
    assert newer["connections"][0]["is_enabled"] is True


def _paths(tenant: LocalTenant) -> tuple[str, str, str]:
    """The older and newer paths of a new organization's connections, and a database's id."""
    [database] = tenant.call("GET", "/api/v2/connections?name=Username-Password-Authentication")
    base = f"/api/v2/organizations/{tenant.create_organization('paths')['id']}"
    return base + "/enabled_connections", base + "/connections", database["id"]


@pytest.mark.parametrize("extra", ["is_enabled", "organization_access_level", "colour"])
def test_the_older_path_takes_only_its_own_fields(in_process: LocalTenant, extra: str) -> None:
    """AddOrganizationConnectionRequestContent and UpdateOrganizationConnectionRequestContent:
    ``additionalProperties: false`` over connection_id, assign_membership_on_login,
    is_signup_enabled and show_as_button (a connection enabled with ``is_enabled: false`` there
    was stored disabled, which that path does not show)."""
    older, _, database = _paths(in_process)
    value = {"is_enabled": False, "organization_access_level": "full", "colour": "red"}[extra]
    status, error = error_of(
        lambda: in_process.call("POST", older, {"connection_id": database, extra: value})
    )
    assert (status, error["message"]) == (
        400,
        f"Payload validation error: 'Additional properties not allowed: {extra}'.",
    )
    in_process.call("POST", older, {"connection_id": database})
    status, _ = error_of(lambda: in_process.call("PATCH", f"{older}/{database}", {extra: value}))
    assert status == 400


def test_the_newer_path_names_the_connection_in_the_organization(in_process: LocalTenant) -> None:
    """CreateOrganizationAllConnectionRequestContent's ``organization_connection_name`` (1 to
    50 characters) is answered back, changed by a PATCH (null: unset), and not on the older
    path, whose OrganizationConnection schema has no such field; the Deploy CLI compares it."""
    older, newer, database = _paths(in_process)
    created = in_process.call(
        "POST", newer, {"connection_id": database, "organization_connection_name": "Staff"}
    )
    assert created["organization_connection_name"] == "Staff"
    assert in_process.call("GET", f"{newer}/{database}")["organization_connection_name"] == "Staff"
    assert "organization_connection_name" not in in_process.call("GET", f"{older}/{database}")
    one = f"{newer}/{database}"
    assert (
        in_process.call("PATCH", one, {"organization_connection_name": "Team"})[
            "organization_connection_name"
        ]
        == "Team"
    )
    assert "organization_connection_name" not in in_process.call(
        "PATCH", one, {"organization_connection_name": None}
    )
    status, _ = error_of(
        lambda: in_process.call("PATCH", one, {"organization_connection_name": ""})
    )
    assert status == 400


def test_an_access_level_is_one_of_auth0s(in_process: LocalTenant) -> None:
    """OrganizationAccessLevelEnum: none, readonly, limited, full (a PATCH may send null)."""
    _, newer, database = _paths(in_process)
    body = {"connection_id": database, "organization_access_level": "read-only"}
    status, error = error_of(lambda: in_process.call("POST", newer, body))
    assert (status, error["errorCode"]) == (400, "invalid_body")
    created = in_process.call("POST", newer, {**body, "organization_access_level": "readonly"})
    assert created["organization_access_level"] == "readonly"
    status, _ = error_of(
        lambda: in_process.call(
            "PATCH", f"{newer}/{database}", {"organization_access_level": "admin"}
        )
    )
    assert status == 400


def test_a_connection_enabled_twice_is_the_references_conflict(in_process: LocalTenant) -> None:
    """post_organization_connection's 409: "The organization connection already exists."."""
    _, newer, database = _paths(in_process)
    in_process.call("POST", newer, {"connection_id": database})
    status, error = error_of(lambda: in_process.call("POST", newer, {"connection_id": database}))
    assert (status, error["message"]) == (409, "The organization connection already exists.")


def test_a_create_enables_connections_with_their_own_fields_only(in_process: LocalTenant) -> None:
    """ConnectionForOrganization (the create's enabled_connections items): ``additionalProperties:
    false`` over connection_id, assign_membership_on_login, show_as_button, is_signup_enabled."""
    _, _, database = _paths(in_process)
    body = {"name": "strict", "enabled_connections": [{"connection_id": database, "x": 1}]}
    status, error = error_of(lambda: in_process.call("POST", "/api/v2/organizations", body))
    assert (status, error["errorCode"]) == (400, "invalid_body")


def test_signup_is_a_database_connections_field(in_process: LocalTenant) -> None:
    """is_signup_enabled: "Only applicable for database connections"; recorded, an enterprise
    connection's record has none (terraform-provider-auth0's TestAccOrganizationConnection for
    okta, go-auth0's TestOrganizationManager_AddConnection for ad), a database's has it."""
    older, newer, database = _paths(in_process)
    okta = in_process.ensure_connection("partner", "okta")["id"]
    assert "is_signup_enabled" not in in_process.call("POST", newer, {"connection_id": okta})
    assert "is_signup_enabled" not in in_process.call("GET", f"{older}/{okta}")
    assert in_process.call("POST", older, {"connection_id": database})["is_signup_enabled"] is False


def test_signup_through_an_organization_needs_membership_on_login(in_process: LocalTenant) -> None:
    """Recorded (go-auth0's TestOrganizationManager_UpdateDBConnection): with
    assign_membership_on_login false, is_signup_enabled true is refused, and the connection
    stays as it was; with it true, accepted."""
    older, _, database = _paths(in_process)
    enabled = in_process.call(
        "POST",
        older,
        {"connection_id": database, "assign_membership_on_login": True, "is_signup_enabled": True},
    )
    assert enabled["is_signup_enabled"] is True
    path = f"{older}/{database}"
    body = {"assign_membership_on_login": False, "is_signup_enabled": True}
    status, error = error_of(lambda: in_process.call("PATCH", path, body))
    assert (status, error["errorCode"], error["message"]) == (
        400,
        "invalid_body",
        "Only database connections with assign_membership_on_login = true support "
        "is_signup_enabled = true.",
    )
    assert in_process.call("GET", path)["assign_membership_on_login"] is True
    # Refused in a create too, before anything is stored: the organization is not left behind.
    connection = {"connection_id": database, "is_signup_enabled": True}
    create = {"name": "refused", "enabled_connections": [connection]}
    status, _ = error_of(lambda: in_process.call("POST", "/api/v2/organizations", create))
    assert status == 400
    listed = in_process.call("GET", "/api/v2/organizations")
    assert "refused" not in [organization["name"] for organization in listed]


# Row: discovery domains (issue 24 needs them), as the Management API reference describes them.


def _organization(tenant: LocalTenant) -> str:
    return str(tenant.create_organization("discovering")["id"])


def test_a_discovery_domain_is_created_pending_with_its_txt_record(in_process: LocalTenant) -> None:
    org = _organization(in_process)
    path = f"/api/v2/organizations/{org}/discovery-domains"
    created = in_process.call("POST", path, {"domain": "acme.com"})
    assert set(created) == {
        "id",
        "domain",
        "status",
        "verification_host",
        "verification_txt",
        "use_for_organization_discovery",
    }
    assert created["id"].startswith("ord_")
    assert len(created["id"]) == 26
    assert (created["domain"], created["status"]) == ("acme.com", "pending")
    assert created["use_for_organization_discovery"] is True
    assert created["verification_host"] == f"_ss-verification.{org}.acme.com"
    assert len(created["verification_txt"]) == 32
    assert in_process.call("GET", f"{path}/{created['id']}") == created
    assert in_process.call("GET", f"{path}/name/acme.com") == created


def test_a_discovery_domain_changes_only_its_status_and_use(in_process: LocalTenant) -> None:
    path = f"/api/v2/organizations/{_organization(in_process)}/discovery-domains"
    created = in_process.call(
        "POST",
        path,
        {"domain": "acme.org", "status": "verified", "use_for_organization_discovery": False},
    )
    assert (created["status"], created["use_for_organization_discovery"]) == ("verified", False)
    one = f"{path}/{created['id']}"
    updated = in_process.call("PATCH", one, {"status": "pending"})
    assert updated == {**created, "status": "pending"}
    status, error = error_of(lambda: in_process.call("PATCH", one, {"domain": "other.org"}))
    assert (status, error["message"]) == (
        400,
        "Payload validation error: 'Additional properties not allowed: domain'.",
    )
    assert in_process.call("DELETE", one) is None
    assert in_process.call("DELETE", one) is None  # recorded: a second delete is 204 too
    status, error = error_of(lambda: in_process.call("GET", one))
    assert (status, error) == (
        404,
        {
            "statusCode": 404,
            "error": "Not Found",
            "message": "No organization domain found by that id",
        },
    )


def test_reads_of_one_discovery_domain_lag_its_changes(tenant: LocalTenant) -> None:
    """ "This endpoint is subject to eventual consistency; newly created, updated, or deleted
    discovery domains may not immediately appear in the response" (get-name-by-discovery-domain,
    get-discovery-domain; the SDKs' list says it too): for the tenant's lag each read, the list
    included, shows the domain as it was before the change that started it; the writes' own
    answers are current."""
    path = f"/api/v2/organizations/{_organization(tenant)}/discovery-domains"
    tenant.set_discovery_domain_lag_s(1.0)
    created = tenant.call("POST", path, {"domain": "acme.org"})
    one, by_name = f"{path}/{created['id']}", f"{path}/name/acme.org"
    for read in (one, by_name):
        status, _ = error_of(lambda read=read: tenant.call("GET", read))
        assert status == 404
    assert tenant.call("GET", path)["domains"] == []
    time.sleep(1.1)
    assert tenant.call("GET", path)["domains"] == [created]
    assert tenant.call("GET", by_name) == created
    updated = tenant.call("PATCH", one, {"status": "verified"})
    assert updated["status"] == "verified"
    assert tenant.call("GET", by_name)["status"] == "pending"
    assert tenant.call("GET", one)["status"] == "pending"
    time.sleep(1.1)
    assert tenant.call("GET", by_name) == updated
    assert tenant.call("DELETE", one) is None
    assert tenant.call("GET", by_name) == updated
    time.sleep(1.1)
    status, _ = error_of(lambda: tenant.call("GET", by_name))
    assert status == 404


def test_a_change_within_the_lag_of_another_lags_as_long(tenant: LocalTenant) -> None:
    """A status set 2 s into a 3-s lag does not show 1 s later, when the create's lag ends: a
    read shows the domain as it was before one of the changes until the last one's lag ends."""
    path = f"/api/v2/organizations/{_organization(tenant)}/discovery-domains"
    tenant.set_discovery_domain_lag_s(3.0)
    created = tenant.call("POST", path, {"domain": "acme.org"})
    time.sleep(2.0)
    tenant.call("PATCH", f"{path}/{created['id']}", {"status": "verified"})
    patched = time.monotonic()
    time.sleep(1.5)
    status, _ = error_of(lambda: tenant.call("GET", f"{path}/name/acme.org"))
    assert time.monotonic() - patched < 3.0
    assert status == 404
    time.sleep(max(0.0, 3.1 - (time.monotonic() - patched)))
    assert tenant.call("GET", f"{path}/name/acme.org")["status"] == "verified"


def test_discovery_domains_page_by_checkpoint(in_process: LocalTenant) -> None:
    path = f"/api/v2/organizations/{_organization(in_process)}/discovery-domains"
    for n in range(3):
        in_process.call("POST", path, {"domain": f"d{n}.example.com"})
    first = in_process.call("GET", f"{path}?take=2")
    assert [d["domain"] for d in first["domains"]] == ["d0.example.com", "d1.example.com"]
    last = in_process.call("GET", f"{path}?take=2&from={first['next']}")
    assert [d["domain"] for d in last["domains"]] == ["d2.example.com"]
    assert "next" not in last  # recorded: the last page has no checkpoint
    assert len(in_process.call("GET", path)["domains"]) == 3


def test_a_discovery_domains_page_size_is_an_integer_from_1_to_100(in_process: LocalTenant) -> None:
    """The list's ``take`` is ``integer, minimum 1, maximum 100`` (get-discovery-domains; a
    400 "Invalid request query string"), whatever its text: not a 500."""
    path = f"/api/v2/organizations/{_organization(in_process)}/discovery-domains"
    for take in ("abc", "0", "101", "1.5"):
        status, error = error_of(lambda take=take: in_process.call("GET", f"{path}?take={take}"))
        assert (status, error["errorCode"]) == (400, "invalid_query_string"), take


@pytest.mark.parametrize("name", ["ab", "a" * 252 + ".com"])
def test_a_discovery_domain_name_read_outside_3_to_255_characters_is_refused(
    in_process: LocalTenant, name: str
) -> None:
    """get-name-by-discovery-domain's path parameter ``discovery_domain`` is ``minLength 3,
    maxLength 255``: a 400 (Auth0's path validation, errorCode invalid_uri), not a 404."""
    path = f"/api/v2/organizations/{_organization(in_process)}/discovery-domains/name/{name}"
    status, error = error_of(lambda: in_process.call("GET", path))
    assert (status, error["errorCode"]) == (400, "invalid_uri")
    assert error["message"].startswith("Path validation error: 'String is too ")
    assert "on property discovery_domain" in error["message"]


def test_a_domain_registered_twice_is_a_conflict(in_process: LocalTenant) -> None:
    path = f"/api/v2/organizations/{_organization(in_process)}/discovery-domains"
    in_process.call("POST", path, {"domain": "twice.com"})
    status, error = error_of(lambda: in_process.call("POST", path, {"domain": "twice.com"}))
    assert (status, error["message"]) == (
        409,
        "An organization discovery domain with this domain is already registered to this "
        "organization.",
    )


@pytest.mark.slow
def test_at_most_a_hundred_discovery_domains(in_process: LocalTenant) -> None:
    path = f"/api/v2/organizations/{_organization(in_process)}/discovery-domains"
    for n in range(100):
        in_process.call("POST", path, {"domain": f"d{n}.example.com"})
    status, error = error_of(lambda: in_process.call("POST", path, {"domain": "more.com"}))
    assert status == 400
    assert "at most 100" in error["message"]


def test_discovery_domains_need_their_scopes(tenant: LocalTenant) -> None:
    org = _organization(tenant)
    reader = tenant.https_api(tenant.m2m_client("r", ["read:organization_discovery_domains"]))
    path = f"/api/v2/organizations/{org}/discovery-domains"
    assert reader.call("GET", path) == {"domains": []}
    status, error = error_of(lambda: reader.call("POST", path, {"domain": "x.com"}))
    assert (status, error["message"]) == (
        403,
        "Insufficient scope, expected any of: create:organization_discovery_domains",
    )


def test_the_helper_reads_every_organization_past_the_thousandth(in_process: LocalTenant) -> None:
    """``LocalTenant.organizations`` pages by checkpoint, so a benchmark reading back 1,001
    organizations is not stopped by the offset pages' end at the 1,000th record."""
    in_process.rate_limit_tier("unlimited")
    names = {f"many-{n:04d}" for n in range(1001)}
    for name in names:
        in_process.create_organization(name)
    assert {organization["name"] for organization in in_process.organizations()} == names
