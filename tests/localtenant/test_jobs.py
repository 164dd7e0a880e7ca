"""Jobs: the users export, with Auth0's limit and column names (clients.md D5, D6)."""

from __future__ import annotations

import gzip
import json
import ssl
import urllib.request

from devtools.localtenant.testing import DATABASE, LocalTenant


def test_an_export_keeps_to_its_limit_and_names_its_columns(in_process: LocalTenant) -> None:
    for n in range(7):
        in_process.sign_up(f"u{n}@example.com")
    [connection] = in_process.call("GET", f"/api/v2/connections?name={DATABASE}")
    request = {
        "connection_id": connection["id"],
        "format": "json",
        "limit": 5,
        "fields": [{"name": "user_id"}, {"name": "email", "export_as": "mail"}],
    }
    job = in_process.call("POST", "/api/v2/jobs/users-exports", request)
    # The request's connection, limit and fields are echoed, as Auth0's reference shows.
    assert {k: job[k] for k in ("connection_id", "limit", "fields")} == {
        k: request[k] for k in ("connection_id", "limit", "fields")
    }
    done = in_process.call("GET", f"/api/v2/jobs/{job['id']}")
    assert done["connection_id"] == connection["id"]
    context = ssl.create_default_context(cafile=in_process.ca_cert)
    with urllib.request.urlopen(done["location"], context=context) as response:  # noqa: S310
        lines = gzip.decompress(response.read()).decode().splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 5
    assert all(set(row) == {"user_id", "mail"} for row in rows)
