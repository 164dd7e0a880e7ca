"""An Action whose npm dependency floats (^4.17.21): each build may install another version."""

import pulumi_auth0 as auth0

auth0.Action(
    "enrich",
    name="enrich",
    runtime="node22",
    code="exports.onExecutePostLogin = async () => {};",
    supported_triggers=auth0.ActionSupportedTriggersArgs(id="post-login", version="v3"),
    dependencies=[auth0.ActionDependencyArgs(name="lodash", version="^4.17.21")],
)
