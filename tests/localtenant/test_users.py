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
