"""Users: search paging, and the users export job."""

from __future__ import annotations

import gzip
import json
import ssl
import urllib.parse
import urllib.request

from devtools.localtenant.testing import LocalTenant
from tests.localtenant.calls import error_of


def test_a_users_search_pages_through_1000_results_at_most(tenant: LocalTenant) -> None:
    tenant.call("GET", "/api/v2/users?page=19&per_page=50")
    status, error = error_of(lambda: tenant.call("GET", "/api/v2/users?page=20&per_page=50"))
    assert status == 400
    assert "first 1000 records" in error["message"]


def test_a_users_page_with_totals_counts_itself_and_leaves_out_what_is_empty(
    tenant: LocalTenant,
) -> None:
    """Recorded (terraform-provider-auth0's TestAccDataSourceUser, go-auth0's users lists):
    ``{"start", "limit", "length", "users", "total"}``; a user never logged in, with no
    metadata, is answered without ``app_metadata``, ``user_metadata`` or ``logins_count``."""
    for n in range(3):
        tenant.sign_up(f"p{n}@a.io")
    page = tenant.call("GET", "/api/v2/users?include_totals=true&per_page=2&page=1")
    assert (page["start"], page["limit"], page["length"], page["total"]) == (2, 2, 1, 3)
    assert not {"app_metadata", "user_metadata", "logins_count"} & set(page["users"][0])


def test_a_users_export_job_serves_every_user_of_a_connection(tenant: LocalTenant) -> None:
    for n in range(3):
        tenant.sign_up(f"u{n}@a.io")
    (database,) = tenant.call("GET", "/api/v2/connections?name=Username-Password-Authentication")
    job = tenant.call(
        "POST",
        "/api/v2/jobs/users-exports",
        {
            "connection_id": database["id"],
            "format": "json",
            "fields": [{"name": "user_id"}, {"name": "email"}],
        },
    )
    assert (job["type"], job["status"]) == ("users_export", "pending")
    done = tenant.call("GET", f"/api/v2/jobs/{job['id']}")
    assert done["status"] == "completed"
    context = ssl.create_default_context(cafile=tenant.ca_cert)
    with urllib.request.urlopen(done["location"], context=context) as response:  # noqa: S310
        lines = gzip.decompress(response.read()).decode().splitlines()
    assert sorted(json.loads(line)["email"] for line in lines) == ["u0@a.io", "u1@a.io", "u2@a.io"]


def test_users_by_email_are_found_by_their_exact_email(tenant: LocalTenant) -> None:
    alice = tenant.sign_up("alice@a.io")
    assert [
        u["user_id"] for u in tenant.call("GET", "/api/v2/users-by-email?email=alice@a.io")
    ] == [alice["user_id"]]
    # "Email address to search for (case-sensitive)", as Auth0's reference says.
    assert tenant.call("GET", "/api/v2/users-by-email?email=ALICE@a.io") == []
    status, _ = error_of(lambda: tenant.call("GET", "/api/v2/users-by-email"))
    assert status == 400


def test_a_users_organizations_are_those_they_are_a_member_of(tenant: LocalTenant) -> None:
    alice = tenant.sign_up("alice@a.io")
    acme = tenant.create_organization("acme")
    tenant.create_organization("globex")
    tenant.add_members(acme["id"], [alice["user_id"]])
    found = tenant.call(
        "GET", f"/api/v2/users/{urllib.parse.quote(alice['user_id'])}/organizations"
    )
    assert [o["name"] for o in found] == ["acme"]


def test_metadata_patched_with_an_empty_object_is_removed(tenant: LocalTenant) -> None:
    """ "Patching the metadata itself with an empty object removes the metadata completely"
    (Manage Metadata Using the Management API); recorded (terraform-provider-auth0's
    TestAccUser), the answer then has no ``app_metadata`` and ``user_metadata: {}``. A null
    key removes that key alone."""
    user = tenant.sign_up("m@a.io")
    path = f"/api/v2/users/{user['user_id']}"
    both = {"foo": "bars", "keep": 1}
    tenant.call("PATCH", path, {"app_metadata": both, "user_metadata": both})
    one = tenant.call("PATCH", path, {"app_metadata": {"foo": None}})
    assert one["app_metadata"] == {"keep": 1}
    emptied = tenant.call("PATCH", path, {"app_metadata": {}, "user_metadata": {}})
    assert "app_metadata" not in emptied
    assert emptied["user_metadata"] == {}
    assert tenant.call("GET", path)["user_metadata"] == {}
