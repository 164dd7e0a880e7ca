"""Actions, their versions (build and deploy), and trigger bindings."""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any

from devtools.localtenant import ids
from devtools.localtenant.errors import Auth0Error, bad_request, conflict, not_found
from devtools.localtenant.fields import now
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.routes import Request, Response, route

if TYPE_CHECKING:
    from devtools.localtenant.tenant import Tenant

RUNTIMES = ("node18", "node18-actions", "node22")
"""Runtimes Auth0 accepts for an Action today (node12 and node16 are retired)."""
DEFAULT_RUNTIME = "node22"
TRIGGERS = {
    "post-login": "v3",
    "credentials-exchange": "v2",
    "pre-user-registration": "v2",
    "post-user-registration": "v2",
    "post-change-password": "v2",
    "send-phone-message": "v2",
    "password-reset-post-challenge": "v1",
}
CODE_MAX_BYTES = 100 * 1024
SECRETS_MAX = 30
SECRET_NAME_MAX = 128
SECRET_VALUE_MAX = 4096
"""Actions Limitations, "Secrets": "Each secret key may have a maximum length of 128
characters. Each secret value may have a maximum length of 4096 characters."""
DEPENDENCIES_MAX = 10
"""Entity Limit Policy: "Dependencies (NPM Modules) per Action | 10"."""
ACTIONS_MAX = 100
"""Actions per tenant. https://auth0.com/docs/customize/actions/limitations: "Each tenant may
have a maximum of 100 Actions (including both deployed and undeployed)"; the Entity Limit
Policy (https://auth0.com/docs/troubleshoot/customer-support/operational-policies/entity-limit-policy,
"Actions per Tenant: 100") says drafts do not count, so this counts every Action, the stricter
reading."""
BINDINGS_MAX = 20
"""Actions bound to one trigger: the Entity Limit Policy's "Actions per Trigger per Tenant: 20",
and Actions Limitations' "Each flow may have a maximum of 20 active bound Actions"."""
VERSIONS_MAX = 50
"""Actions Limitations: "Each Action may have a maximum of 50 associated versions (both draft
and active). Once the limit is reached, every additional version that is added will result in
the oldest version being deleted." (This tenant has no drafts: each deploy is a version.)"""
BUILD_SECONDS = 0.3
"""How long a build stays ``pending`` before it reads ``built``."""
NOT_BUILT = "A draft must be in the 'built' state before it can be deployed."
"""Auth0's answer (400) to a deploy before the build ends, quoted from real tenants in
https://github.com/auth0/auth0-deploy-cli/issues/395; the Deploy CLI retries on "must be in the
'built' state" (handlers/actions.js deployAction) and the SDKs surface it as a 400. No source
shows an errorCode with it, so none is sent."""


# --- models --------------------------------------------------------------------------------


def create_action(tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    for key in ("name", "supported_triggers"):
        if key not in body:
            raise bad_request(f"'Missing required property: {key}'.")
    if any(action["name"] == body["name"] for action in tenant.store["actions"].values()):
        raise conflict("An action with the same name already exists", "action_conflict")
    # Neither page says what Auth0 answers past a limit; this is its payload-validation 400.
    if len(tenant.store["actions"]) >= ACTIONS_MAX:
        raise bad_request(
            f"'A tenant can have at most {ACTIONS_MAX} actions'.", "too_many_entities"
        )
    stamp = now()
    action: dict[str, Any] = {
        "id": ids.action_id(),
        "name": body["name"],
        "supported_triggers": [],
        "created_at": stamp,
        "code": "",
        "dependencies": [],
        "runtime": DEFAULT_RUNTIME,
        "secret_values": {},
        "all_changes_deployed": False,
    }
    tenant.store["actions"][action["id"]] = action
    tenant.store["action_versions"][action["id"]] = []
    try:
        _apply(action, body)
    except Auth0Error:
        del tenant.store["actions"][action["id"]]
        raise
    return action


def get_action(tenant: Tenant, action_id: str) -> dict[str, Any]:
    return tenant.store.one("actions", action_id, "action")


def deploy(tenant: Tenant, action_id: str) -> dict[str, Any]:
    action = get_action(tenant, action_id)
    if _status(action) != "built":
        raise Auth0Error(400, NOT_BUILT)
    versions = tenant.store["action_versions"][action_id]
    stamp = now()
    version = {
        "id": ids.action_id(),
        "action_id": action_id,
        "code": action["code"],
        "dependencies": copy.deepcopy(action["dependencies"]),
        "runtime": action["runtime"],
        "supported_triggers": copy.deepcopy(action["supported_triggers"]),
        "secrets": _secret_names(action),
        "secret_values": dict(action["secret_values"]),
        "number": versions[-1]["number"] + 1 if versions else 1,
        "status": "built",
        "deployed": True,
        "built_at": stamp,
        "created_at": stamp,
        "updated_at": stamp,
    }
    for earlier in versions:
        earlier["deployed"] = False
    versions.append(version)
    del versions[:-VERSIONS_MAX]  # the oldest go; the new one is deployed
    action["all_changes_deployed"] = True
    return version


def deployed_version(tenant: Tenant, action_id: str) -> dict[str, Any] | None:
    """The version logins run, secret values included (never sent over the API)."""
    return next(
        (v for v in tenant.store["action_versions"].get(action_id, []) if v["deployed"]), None
    )


def bindings(tenant: Tenant, trigger: str) -> list[dict[str, Any]]:
    _check_trigger(trigger)
    return tenant.store["trigger_bindings"].setdefault(trigger, [])


def _apply(action: dict[str, Any], body: dict[str, Any]) -> None:
    """Validate and apply create/update fields; any change starts a new build."""
    if "name" in body and (not isinstance(body["name"], str) or not body["name"].strip()):
        raise bad_request("'String is too short (0 chars), minimum 1' on property name.")
    for trigger in body.get("supported_triggers", []):
        _check_trigger(trigger.get("id", ""))
        if trigger.get("version") != TRIGGERS[trigger["id"]]:
            raise bad_request(
                f"'Invalid trigger version {trigger.get('version')!r} for {trigger['id']}; "
                f"use {TRIGGERS[trigger['id']]}'.",
                "invalid_trigger",
            )
    if "runtime" in body and body["runtime"] not in RUNTIMES:
        raise bad_request(
            f"'Invalid runtime {body['runtime']!r}; use one of {', '.join(RUNTIMES)}'."
        )
    if len(str(body.get("code", "")).encode()) > CODE_MAX_BYTES:
        raise bad_request(f"'Code exceeds the maximum size of {CODE_MAX_BYTES} bytes'.")
    _check_limits(body)
    secrets = body.get("secrets")
    if secrets is not None:
        old = action["secret_values"]
        action["secret_values"] = {
            secret["name"]: secret["value"] if "value" in secret else old.get(secret["name"], "")
            for secret in secrets
        }
        action["secret_updated_at"] = now()
    for key in ("name", "supported_triggers", "code", "dependencies", "runtime"):
        if key in body:
            action[key] = copy.deepcopy(body[key])
    action["updated_at"] = now()
    action["build_started"] = time.time()
    action["all_changes_deployed"] = False


def _check_limits(body: dict[str, Any]) -> None:
    """Auth0's limits on an Action's dependencies and secrets (``DEPENDENCIES_MAX``,
    ``SECRETS_MAX``, ``SECRET_NAME_MAX``, ``SECRET_VALUE_MAX``). Neither page says what Auth0
    answers past them; this is its payload-validation 400."""
    dependencies = body.get("dependencies")
    if isinstance(dependencies, list) and len(dependencies) > DEPENDENCIES_MAX:
        raise bad_request(
            f"'Array is too long ({len(dependencies)}), maximum {DEPENDENCIES_MAX}' "
            "on property dependencies."
        )
    secrets = body.get("secrets") or []
    if len(secrets) > SECRETS_MAX:
        raise bad_request(f"'Too many secrets, maximum {SECRETS_MAX}'.")
    for number, secret in enumerate(secrets):
        for field, most in (("name", SECRET_NAME_MAX), ("value", SECRET_VALUE_MAX)):
            length = len(str(secret.get(field, "")))
            if length > most:
                raise bad_request(
                    f"'String is too long ({length} chars), maximum {most}' "
                    f"on property secrets[{number}].{field}."
                )


def _check_trigger(trigger: str) -> None:
    if trigger not in TRIGGERS:
        raise Auth0Error(404, f"Trigger {trigger} does not exist", "inexistent_trigger")


def _status(action: dict[str, Any]) -> str:
    return "built" if time.time() - action["build_started"] >= BUILD_SECONDS else "pending"


def _secret_names(action: dict[str, Any]) -> list[dict[str, str]]:
    stamp = action.get("secret_updated_at", action["updated_at"])
    return [{"name": name, "updated_at": stamp} for name in action["secret_values"]]


def _public_version(version: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in version.items() if key != "secret_values"}


def _summary(action: dict[str, Any]) -> dict[str, Any]:
    return {
        key: action[key]
        for key in (
            "id",
            "name",
            "supported_triggers",
            "created_at",
            "updated_at",
            "all_changes_deployed",
        )
    }


def shown(tenant: Tenant, action: dict[str, Any]) -> dict[str, Any]:
    """An action as the Management API returns it: secret names, never values."""
    body = {
        **_summary(action),
        "code": action["code"],
        "dependencies": action["dependencies"],
        "runtime": action["runtime"],
        "status": _status(action),
        "secrets": _secret_names(action),
    }
    version = deployed_version(tenant, action["id"])
    if version is not None:
        body["deployed_version"] = _public_version(version)
        body["current_version"] = {
            key: version[key]
            for key in ("id", "code", "runtime", "number", "created_at", "updated_at")
        } | {"status": "BUILT", "build_time": version["built_at"]}
    return body


def _binding(
    tenant: Tenant,
    trigger: str,
    ref: dict[str, Any],
    display_name: str | None,
    previous: list[dict[str, Any]],
) -> dict[str, Any]:
    kind, value = ref.get("type"), ref.get("value")
    if kind == "binding_id":
        for binding in previous:
            if binding["id"] == value:
                return binding
        raise Auth0Error(404, f"Binding {value} does not exist", "inexistent_binding")
    action = _referenced_action(tenant, kind, value)
    if trigger not in {t["id"] for t in action["supported_triggers"]}:
        raise bad_request(f"'Action {action['name']} does not support the {trigger} trigger'.")
    if deployed_version(tenant, action["id"]) is None:
        raise bad_request(f"'Action {action['name']} must be deployed before it can be bound'.")
    for binding in previous:
        if binding["action_id"] == action["id"]:
            return {**binding, "display_name": display_name or binding["display_name"]}
    stamp = now()
    return {
        "id": ids.action_id(),
        "trigger_id": trigger,
        "action_id": action["id"],
        "display_name": display_name or action["name"],
        "created_at": stamp,
        "updated_at": stamp,
    }


def _referenced_action(tenant: Tenant, kind: Any, value: Any) -> dict[str, Any]:
    """The Action a binding's ``ref`` names by id or by name."""
    if kind == "action_id":
        return get_action(tenant, str(value))
    if kind == "action_name":
        named = [a for a in tenant.store["actions"].values() if a["name"] == value]
        if not named:
            raise not_found("action")
        action: dict[str, Any] = named[0]
        return action
    raise bad_request("'ref.type must be one of binding_id, action_id, action_name'.")


def _shown_binding(tenant: Tenant, binding: dict[str, Any]) -> dict[str, Any]:
    action = tenant.store["actions"].get(binding["action_id"])
    shown_action = shown(tenant, action) if action else {"id": binding["action_id"]}
    return {key: value for key, value in binding.items() if key != "action_id"} | {
        "action": shown_action
    }


# --- routes --------------------------------------------------------------------------------


def _create(tenant: Tenant, request: Request) -> Response:
    return 201, shown(tenant, create_action(tenant, request.json_object()))


def _list(tenant: Tenant, request: Request) -> Response:
    actions = [
        shown(tenant, action)
        for action in tenant.store["actions"].values()
        if request.query.get("actionName") in (None, action["name"])
        and request.query.get("triggerId")
        in (None, *(t["id"] for t in action["supported_triggers"]))
    ]
    per_page = int(request.query.get("per_page") or 50)
    page = int(request.query.get("page") or 0)
    return 200, {
        "actions": actions[page * per_page : (page + 1) * per_page],
        "total": len(actions),
        "page": page,
        "per_page": per_page,
    }


def _get(tenant: Tenant, request: Request) -> Response:
    return 200, shown(tenant, get_action(tenant, request.params["id"]))


def _update(tenant: Tenant, request: Request) -> Response:
    action = get_action(tenant, request.params["id"])
    _apply(action, request.json_object())
    return 200, shown(tenant, action)


def _delete(tenant: Tenant, request: Request) -> Response:
    action = get_action(tenant, request.params["id"])
    bound = [
        t
        for t, items in tenant.store["trigger_bindings"].items()
        if any(b["action_id"] == action["id"] for b in items)
    ]
    if bound and not request.flag("force"):
        raise Auth0Error(
            409,
            f"This action is bound to {', '.join(bound)}; remove the bindings first",
            "action_bound",
        )
    for trigger in bound:
        tenant.store["trigger_bindings"][trigger] = [
            b for b in tenant.store["trigger_bindings"][trigger] if b["action_id"] != action["id"]
        ]
    del tenant.store["actions"][action["id"]]
    tenant.store["action_versions"].pop(action["id"], None)
    return 204, None


def _deploy(tenant: Tenant, request: Request) -> Response:
    version = deploy(tenant, request.params["id"])
    action = get_action(tenant, request.params["id"])
    # Auth0 answers with the new version as it was before it went live, without its action's
    # id or its build's time (recorded: terraform-provider-auth0's TestAccAction).
    unrecorded = ("action_id", "built_at")
    answer = {k: v for k, v in _public_version(version).items() if k not in unrecorded}
    return 200, answer | {"deployed": False, "action": _summary(action)}


def _versions(tenant: Tenant, request: Request) -> Response:
    """Newest first, a page at a time: ``page`` (from 0) of ``per_page`` versions (Get an
    Action's Versions, https://auth0.com/docs/api/management/v2/actions/get-action-versions).
    Without ``per_page``, every version on one page: the reference's response says "Paging is
    disabled if parameter not sent" (its request says "20 by default"; the two disagree, and
    this follows the response's)."""
    get_action(tenant, request.params["id"])
    versions = [
        _public_version(v) for v in reversed(tenant.store["action_versions"][request.params["id"]])
    ]
    if not request.query.get("per_page"):
        return 200, {
            "versions": versions,
            "total": len(versions),
            "page": 0,
            "per_page": len(versions),
        }
    per_page = int(request.query["per_page"])
    page = int(request.query.get("page") or 0)
    shown = versions[page * per_page : (page + 1) * per_page]
    return 200, {"versions": shown, "total": len(versions), "page": page, "per_page": per_page}


def _triggers(tenant: Tenant, request: Request) -> Response:
    """The triggers Actions can bind to, one entry per trigger version.

    Shape: Auth0's "Get triggers" (https://auth0.com/docs/api/management/v2/actions/get-triggers)
    and go-auth0's recording TestActionManager_Triggers.yaml: ``{"triggers": [{"id", "version",
    "status", "runtimes", "default_runtime", "compatible_triggers"}]}``, the current version
    ``CURRENT``. Only the current versions are listed (the recording's DEPRECATED ones ran on
    node12, which no tenant offers any more)."""
    return 200, {
        "triggers": [
            {
                "id": trigger,
                "version": version,
                "status": "CURRENT",
                "runtimes": list(RUNTIMES),
                "default_runtime": DEFAULT_RUNTIME,
                "compatible_triggers": [],
            }
            for trigger, version in TRIGGERS.items()
        ]
    }


def _get_bindings(tenant: Tenant, request: Request) -> Response:
    items = [
        _shown_binding(tenant, binding) for binding in bindings(tenant, request.params["trigger"])
    ]
    per_page = int(request.query.get("per_page") or 50)
    page = int(request.query.get("page") or 0)
    body: dict[str, Any] = {"bindings": items[page * per_page : (page + 1) * per_page]}
    # As recorded: later pages carry "page", a first page with bindings carries "total".
    if page > 0:
        body["page"] = page
    elif items:
        body["total"] = len(items)
    return 200, body | {"per_page": per_page}


def _set_bindings(tenant: Tenant, request: Request) -> Response:
    """A PATCH replaces the trigger's whole list, in the order given."""
    trigger = request.params["trigger"]
    previous = bindings(tenant, trigger)
    requested = request.json_object().get("bindings")
    if not isinstance(requested, list):
        raise bad_request("'Missing required property: bindings'.")
    if len(requested) > BINDINGS_MAX:
        raise bad_request(
            f"'Array is too long ({len(requested)}), maximum {BINDINGS_MAX}' on property bindings."
        )
    updated = [
        _binding(tenant, trigger, item.get("ref") or {}, item.get("display_name"), previous)
        for item in requested
    ]
    tenant.store["trigger_bindings"][trigger] = updated
    return 200, {"bindings": [_shown_binding(tenant, binding) for binding in updated]}


ACTION = "/api/v2/actions/actions/{id}"
TRIGGERS_PATH = "/api/v2/actions/triggers"
BINDINGS = TRIGGERS_PATH + "/{trigger}/bindings"
ROUTES = [
    route(RouteName.ACTIONS_LIST, "GET", "/api/v2/actions/actions", "read:actions", _list),
    route(RouteName.ACTIONS_CREATE, "POST", "/api/v2/actions/actions", "create:actions", _create),
    route(RouteName.ACTIONS_GET, "GET", ACTION, "read:actions", _get),
    route(RouteName.ACTIONS_UPDATE, "PATCH", ACTION, "update:actions", _update),
    route(RouteName.ACTIONS_DELETE, "DELETE", ACTION, "delete:actions", _delete),
    route(RouteName.ACTIONS_DEPLOY, "POST", ACTION + "/deploy", "create:actions", _deploy),
    route(RouteName.ACTIONS_VERSIONS_LIST, "GET", ACTION + "/versions", "read:actions", _versions),
    route(RouteName.ACTIONS_TRIGGERS_LIST, "GET", TRIGGERS_PATH, "read:actions", _triggers),
    route(RouteName.ACTIONS_BINDINGS_GET, "GET", BINDINGS, "read:actions", _get_bindings),
    route(RouteName.ACTIONS_BINDINGS_UPDATE, "PATCH", BINDINGS, "update:actions", _set_bindings),
]
