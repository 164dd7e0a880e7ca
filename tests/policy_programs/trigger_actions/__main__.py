"""The post-login flow owned whole by auth0.TriggerActions: it unbinds everyone else's Actions."""

import pulumi_auth0 as auth0

action = auth0.Action(
    "audit",
    name="audit",
    runtime="node22",
    code="exports.onExecutePostLogin = async () => {};",
    supported_triggers=auth0.ActionSupportedTriggersArgs(id="post-login", version="v3"),
)
auth0.TriggerActions(
    "login-flow",
    trigger="post-login",
    actions=[auth0.TriggerActionsActionArgs(id=action.id, display_name="audit")],
)
