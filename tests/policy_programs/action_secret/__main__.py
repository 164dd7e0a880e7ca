"""An Action secret written in the program as plain text."""

import pulumi_auth0 as auth0

auth0.Action(
    "notify",
    name="notify",
    runtime="node22",
    code="exports.onExecutePostLogin = async () => {};",
    supported_triggers=auth0.ActionSupportedTriggersArgs(id="post-login", version="v3"),
    secrets=[auth0.ActionSecretArgs(name="WEBHOOK_TOKEN", value="plain-text-token")],
)
