"""A connection look-up's answer holds no options: the check every run makes of the tenant.

A connection's ``options`` hold its client secret. After Auth0's connection options scopes
migration (``OPTIONS_MIGRATION``) a tenant answers them only to ``read:connections_options``,
which no credential of this project holds; a tenant still on the older behaviour answers them to
``read:connections``, which the deployer and the drift check hold. Whatever looks a connection
up passes the provider's answer through ``refuse_connection_options``. (A pull request's preview
looks nothing up: docs/security.md, Previews.)
"""

from __future__ import annotations

from typing import Any

import pulumi

from auth0_org_assignment.config import PROJECT

OPTIONS_TOGGLE = "Allow Connections Management without Options Scopes"
"""Auth0's migration toggle (Dashboard > Tenant Settings > Advanced > Migrations) that lets
``read:connections`` read every connection's options, client secrets included."""
OPTIONS_MIGRATION = (
    "https://auth0.com/docs/troubleshoot/product-lifecycle/deprecations-and-migrations/"
    "migrate-connection-options-scope"
)


def refuse_connection_options(name: str, connection_id: str, options: Any) -> str:
    """The connection's id, unless the tenant answered its options to these credentials.

    The stack's credentials look connections up with ``read:connections`` alone. After Auth0's
    connection options scopes migration a tenant answers ``options`` (a social or enterprise
    connection's client secret among them) only to ``read:connections_options``; a tenant that
    still has the migration toggle on answers them to anyone who may list connections. The terraform
    provider lists every connection to find one by name, so this stops every run on such a
    tenant, naming the toggle to turn off. The options themselves are never shown.

    The provider reads a connection answered without options as options with every value empty
    (go-auth0 gives it an empty options object, which the provider flattens), so an answer
    held options when any value in them is set (``_holds_a_value``)."""
    if _holds_a_value(options):
        raise pulumi.RunError(
            f"{PROJECT}: the tenant answered the options of connection {name!r} (a "
            "connection's options hold its client secret) to credentials that may only look "
            "connections up, so every credential with read:connections can read every "
            "connection's secret. In the Auth0 Dashboard, "
            f'Tenant Settings > Advanced > Migrations, turn off "{OPTIONS_TOGGLE}", and grant '
            "these credentials no read:connections_options; then run this again "
            f"({OPTIONS_MIGRATION})"
        )
    return connection_id


FLATTENED_DEFAULTS = {("set_user_root_attributes", "on_each_login")}
"""What terraform-provider-auth0 v1.54.1 fills into a connection's options that Auth0 answered
without (its flatten.go: a missing ``set_user_root_attributes`` reads ``on_each_login``)."""


def _holds_a_value(value: Any, key: str = "") -> bool:
    """Whether anything in ``value`` (the provider's options, nested) is set: not None, empty,
    false or zero, nor one of the provider's ``FLATTENED_DEFAULTS``."""
    if isinstance(value, dict):
        return any(_holds_a_value(item, str(name)) for name, item in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_a_value(item, key) for item in value)
    return bool(value) and (key, value) not in FLATTENED_DEFAULTS
