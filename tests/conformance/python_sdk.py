"""auth0-python (Auth0's Python SDK) making, against a local tenant, every Management API call
the stack, the Action, adopt, backfill and reconcile make, then the error cases the conformance
suite checks, and a connection's options as the options scopes keep them: the counterpart of
``node_sdk.js``, with the same output (one JSON object: ``{"calls": {route name: answer},
"errors": {case: {"statusCode", "body"}}, "options": {...}}``).

Run by tests/conformance/test_python_sdk.py in a process of its own, with AUTH0_DOMAIN,
AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET and SSL_CERT_FILE (the tenant's certificate authority) set.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
from auth0.management import ActionTrigger, ManagementClient, UpdateConnectionOptions
from auth0.management.core.api_error import ApiError

calls: dict[str, Any] = {}
errors: dict[str, Any] = {}
options: dict[str, Any] = {}


def _plain(value: Any) -> Any:
    """An SDK answer as JSON data (its pydantic models dumped as Auth0 sent them), an
    application's secret left out, even a throwaway tenant's."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True, exclude={"client_secret"})
    if hasattr(value, "items") and not isinstance(value, dict):  # a pager
        return [_plain(item) for item in value.items]
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def call(name: str, work: Callable[[], Any]) -> Any:
    answer = work()
    calls[name] = _plain(answer)
    return answer


def failing(name: str, work: Callable[[], Any]) -> None:
    try:
        work()
        errors[name] = {"statusCode": 200}
    except ApiError as error:
        errors[name] = {"statusCode": error.status_code, "body": error.body}


def main() -> None:
    domain = os.environ["AUTH0_DOMAIN"]
    context = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    client = ManagementClient(
        domain=domain,
        client_id=os.environ["AUTH0_CLIENT_ID"],
        client_secret=os.environ["AUTH0_CLIENT_SECRET"],
        httpx_client=httpx.Client(verify=context, timeout=60),
    )
    audience = f"https://{domain}/api/v2/"
    suffix = format(time.time_ns(), "x")

    # --- what the stack creates (the Pulumi program's resources) -------------------------------
    connection = call(
        "connections.create",
        lambda: client.connections.create(name=f"conformance-{suffix}", strategy="auth0"),
    )
    organization = call(
        "organizations.create",
        lambda: client.organizations.create(
            name=f"conformance-{suffix}", display_name="Conformance"
        ),
    )
    call(
        "organizations.enabled_connections.create",
        lambda: client.organizations.enabled_connections.add(
            organization.id, connection_id=connection.id, assign_membership_on_login=False
        ),
    )
    app = call(
        "clients.create",
        lambda: client.clients.create(
            name=f"conformance-{suffix}",
            app_type="non_interactive",
            grant_types=["client_credentials"],
        ),
    )
    call(
        "client_grants.create",
        lambda: client.client_grants.create(
            client_id=app.client_id,
            audience=audience,
            scope=["create:organization_members", "read:organization_connections"],
        ),
    )
    role = call(
        "roles.create",
        lambda: client.roles.create(name=f"conformance-{suffix}", description="Conformance"),
    )
    action = call(
        "actions.create",
        lambda: client.actions.create(
            name=f"conformance-{suffix}",
            code="exports.onExecutePostLogin = async () => {};",
            runtime="node22",
            supported_triggers=[ActionTrigger(id="post-login", version="v3")],
        ),
    )
    call(
        "actions.update",
        lambda: client.actions.update(
            action.id, code="exports.onExecutePostLogin = async () => {};\n"
        ),
    )
    deploy_until_built(client, action.id)
    call(
        "actions.bindings.update",
        lambda: client.actions.triggers.bindings.update_many(
            "post-login",
            bindings=[
                {"ref": {"type": "action_id", "value": action.id}, "display_name": "conformance"}
            ],
        ),
    )
    call("resource_servers.get", lambda: client.resource_servers.get(audience))
    call("tenants.settings.get", lambda: client.tenants.settings.get())
    user = call(
        "users.create",
        lambda: client.users.create(
            connection=connection.name,
            email=f"someone-{suffix}@example.com",
            email_verified=True,
            password=f"Conformance-{suffix}-!",
        ),
    )
    org_id, user_id = organization.id, user.user_id

    # --- what the Action calls (action_templates/contract.json) -------------------------------
    call(
        "organizations.enabled_connections.get",
        lambda: client.organizations.enabled_connections.get(org_id, connection.id),
    )
    call(
        "organizations.members.create",
        lambda: client.organizations.members.create(org_id, members=[user_id]),
    )
    call(
        "organizations.member_roles.create",
        lambda: client.organizations.members.roles.assign(org_id, user_id, roles=[role.id]),
    )

    # --- what adopt, backfill and reconcile call (management_client.py CALLS) ------------------
    call("organizations.get_by_name", lambda: client.organizations.get_by_name(organization.name))
    call("organizations.get", lambda: client.organizations.get(org_id))
    call("organizations.members.list", lambda: client.organizations.members.list(org_id, take=100))
    call(
        "organizations.enabled_connections.list",
        lambda: client.organizations.enabled_connections.list(org_id),
    )
    call("connections.list", lambda: client.connections.list(name=connection.name))
    # The stack's role lookup (lookups.py, through the provider), not a command's call.
    call("roles.list", lambda: client.roles.list(name_filter=role.name))
    call("users.get", lambda: client.users.get(user_id))
    call(
        "users.update",
        lambda: client.users.update(user_id, app_metadata={"conformance": "pending"}),
    )
    call("users.list_by_email", lambda: client.users.list_users_by_email(email=user.email))
    call("users.organizations.list", lambda: client.users.organizations.list(user_id))
    job = call(
        "jobs.users_exports.create",
        lambda: client.jobs.users_exports.create(format="json", fields=[{"name": "user_id"}]),
    )
    call("jobs.get", lambda: client.jobs.get(job.id))
    call("clients.get", lambda: client.clients.get(app.client_id))
    call("clients.rotate_secret", lambda: client.clients.rotate_secret(app.client_id))
    call("client_grants.list", lambda: client.client_grants.list(client_id=app.client_id))
    call("actions.list", lambda: client.actions.list(action_name=action.name))
    call("actions.get", lambda: client.actions.get(action.id))
    call("actions.bindings.get", lambda: client.actions.triggers.bindings.list("post-login"))
    email_domain = f"conformance-{suffix}.example.com"
    discovery = call(
        "organizations.discovery_domains.create",
        lambda: client.organizations.discovery_domains.create(org_id, domain=email_domain),
    )
    call(
        "organizations.discovery_domains.update",
        lambda: client.organizations.discovery_domains.update(
            org_id, discovery.id, status="verified"
        ),
    )
    call(
        "organizations.discovery_domains.get_by_name",
        lambda: client.organizations.discovery_domains.get_by_name(org_id, email_domain),
    )
    call(
        "organizations.members.delete",
        lambda: client.organizations.members.delete(org_id, members=[user_id]),
    )

    # --- what Auth0 answers when it refuses ----------------------------------------------------
    failing("organization-not-found", lambda: client.organizations.get_by_name(f"none-{suffix}"))
    failing("user-not-found", lambda: client.users.get(f"auth0|none{suffix}"))
    failing("client-not-found", lambda: client.clients.get(f"none{suffix}"))
    failing("action-not-found", lambda: client.actions.get("00000000-0000-4000-8000-000000000000"))
    failing("not-emulated", lambda: client.rules.list(request_options={"max_retries": 0}))

    # --- a connection's options, as Auth0's connection options scopes keep them --------------
    # (AUTH0_LIMITED_CLIENT_*: an application granted read:connections and update:connections
    # without read:connections_options and update:connections_options)
    limited = ManagementClient(
        domain=domain,
        client_id=os.environ["AUTH0_LIMITED_CLIENT_ID"],
        client_secret=os.environ["AUTH0_LIMITED_CLIENT_SECRET"],
        httpx_client=httpx.Client(verify=context, timeout=60),
    )
    options["admin-get"] = _plain(client.connections.get(connection.id))
    options["limited-get"] = _plain(limited.connections.get(connection.id))
    options["limited-list"] = _plain(limited.connections.list(name=connection.name))
    try:
        limited.connections.update(
            connection.id, options=UpdateConnectionOptions(brute_force_protection=False)
        )
        options["limited-update-options"] = {"statusCode": 200}
    except ApiError as error:
        options["limited-update-options"] = {"statusCode": error.status_code, "body": error.body}


def deploy_until_built(client: ManagementClient, action_id: str) -> None:
    """A deploy before the build ends is refused with the message every tool retries on."""
    for _ in range(100):
        try:
            call("actions.deploy", lambda: client.actions.deploy(action_id))
            return
        except ApiError as error:
            if "must be in the 'built' state" not in json.dumps(error.body):
                raise
            time.sleep(0.05)
    raise RuntimeError("the Action did not build")


if __name__ == "__main__":
    main()
    sys.stdout.write(json.dumps({"calls": calls, "errors": errors, "options": options}))
