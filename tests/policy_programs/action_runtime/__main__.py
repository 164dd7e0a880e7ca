"""An Action on node18, which Auth0 has deprecated."""

import pulumi_auth0 as auth0

auth0.Action(
    "legacy",
    name="legacy",
    runtime="node18",
    code="exports.onExecutePostLogin = async () => {};",
    supported_triggers=auth0.ActionSupportedTriggersArgs(id="post-login", version="v3"),
)
