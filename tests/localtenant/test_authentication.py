"""The Authentication API: tokens from a custom domain, for the canonical audience."""

from __future__ import annotations

from devtools.localtenant.testing import LocalTenant
from tests.localtenant.calls import error_of, fetch, token_request

# Row: custom domains. https://auth0.com/docs/customize/custom-domains/configure-features-to-use-custom-domains


def test_a_token_from_the_custom_domain_is_for_the_canonical_audience(
    in_process: LocalTenant,
) -> None:
    custom = in_process.custom_domain
    assert custom is not None
    assert custom.startswith("127.0.0.1:")
    issued = fetch(
        in_process, "POST", "/oauth/token", token_request(in_process), host=custom, form=True
    )
    assert issued.status == 200
    token = issued.body["access_token"]
    # Used at the domain that issued it: served. At the canonical domain: not.
    assert fetch(in_process, "GET", "/api/v2/organizations", token=token, host=custom).status == 200
    assert fetch(in_process, "GET", "/api/v2/organizations", token=token).status == 401
    canonical = in_process.https_api().token()
    assert (
        fetch(in_process, "GET", "/api/v2/organizations", token=canonical, host=custom).status
        == 401
    )


def test_an_audience_naming_the_custom_domain_is_refused(in_process: LocalTenant) -> None:
    audience = f"https://{in_process.custom_domain}/api/v2/"
    for host in (in_process.domain, in_process.custom_domain):
        answer = fetch(
            in_process,
            "POST",
            "/oauth/token",
            token_request(in_process, audience),
            host=host,
            form=True,
        )
        assert answer.status == 403
        assert answer.body == {
            "error": "access_denied",
            "error_description": f"Service not enabled within domain: {audience}",
        }
    # Nor is there such an API to grant a client access to.
    client = in_process.call(
        "POST", "/api/v2/clients", {"name": "custom", "app_type": "non_interactive"}
    )
    status, error = error_of(
        lambda: in_process.call(
            "POST",
            "/api/v2/client-grants",
            {"client_id": client["client_id"], "audience": audience, "scope": []},
        )
    )
    assert (status, error["errorCode"]) == (404, "inexistent_resource_server")
