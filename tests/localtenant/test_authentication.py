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


# Row: a new application's grant types. Recorded: terraform-provider-auth0's cassettes.


def test_a_public_application_gets_no_management_api_token(in_process: LocalTenant) -> None:
    """A single-page or native application created without grant types keeps no secret: it
    is given no ``client_credentials`` (``TestAccClientOIDCLogout``, ``TestAccClientMobile``);
    a regular web application is (``TestAccClientCanSetDefaultAuthMethodOnCreate``)."""
    audience = f"https://{in_process.domain}/api/v2/"
    for app_type, allowed in (("spa", False), ("native", False), ("regular_web", True)):
        client = in_process.call(
            "POST", "/api/v2/clients", {"name": app_type, "app_type": app_type}
        )
        assert ("client_credentials" in client["grant_types"]) is allowed
        in_process.call(
            "POST",
            "/api/v2/client-grants",
            {"client_id": client["client_id"], "audience": audience, "scope": ["read:users"]},
        )
        form = {
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            "audience": audience,
        }
        answer = fetch(in_process, "POST", "/oauth/token", form, form=True)
        assert (answer.status == 200) is allowed, (app_type, answer.body)
