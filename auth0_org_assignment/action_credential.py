"""``ActionCredential``: the Action's Management API credential, written where no state holds it.

The post-login Action needs a client id and secret to call the Management API. Declared as an
input of Pulumi's ``auth0.Action`` (or read back by ``auth0.ClientCredentials``), the secret
would be in the stack's state, which every job that can decrypt the state can read: the
pull-request previews too. This dynamic resource puts it there without Pulumi ever seeing it:
on create and update, in the deploy job, with the deployer's credentials from the environment
(``AUTH0_CLIENT_ID``, ``AUTH0_CLIENT_SECRET``, the ones the auth0 provider reads), it

1. rotates the secret of the *idle* one of the Action's two applications (slots ``a`` and
   ``b``) — ``POST /api/v2/clients/{id}/rotate-secret`` (scope ``update:client_keys``; Auth0's
   "Rotate Client Secrets": https://auth0.com/docs/get-started/applications/rotate-client-secret,
   https://auth0.com/docs/api/management/v2/clients/post-rotate-secret);
2. waits until the token endpoint accepts the new secret (the same page: "New secrets may be
   delayed up to thirty seconds while rotating");
3. writes ``TENANT_DOMAIN``, ``CLIENT_ID`` and ``CLIENT_SECRET`` into the Action's secrets,
   and a ``MARKER`` whose name says which application they came from
   (``PATCH /api/v2/actions/actions/{id}``), and deploys it: "updating it will not affect any
   user flows until the action is deployed" (https://auth0.com/docs/api/management/v2/actions/patch-action);
4. after the Action's time budget, when no login that started on the previous version can
   still ask for a token, rotates the previous slot's secret too and drops it unread, so no
   secret that was ever handed out stays valid. When no Action held any secret before
   (a stack's first deploy), no login can be using one: it rotates it at once.

Logins never fail for it: until the deploy, logins run the previous version with the previous
slot's secret, still valid; tokens already issued stay valid until they expire. Anything that
fails before the deploy leaves the Action as it was (the previous slot's secret untouched) and
the update failed, so the next ``pulumi up`` starts again.

Its inputs and outputs hold ids, the rotation counter, the secrets' names and when Auth0 says
they were last written: nothing that authenticates and nothing derived from a secret. A
refresh (the drift check, with read-only credentials) reads the Action back: secrets renamed,
removed or written by someone else show as a change to ``in_tenant``, which the next
``pulumi up`` repairs by switching slots. Why the Action resource itself must not send secrets
is in ``auth0_org_assignment.desired_state.action``.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from auth0_org_assignment import rate_limits

SLOTS = ("a", "b")
"""The Action's two applications: one active (its id and secret are in the Action), one idle."""
MARKER = "CREDENTIAL_FROM_"
"""A fourth secret, written beside the ones the Action's code reads (``action_code``'s
``SECRET_NAMES``): ``CREDENTIAL_FROM_`` and the client id of the application they came from
(an identifier, not a credential; its value is the slot's letter). Auth0 shows secrets' names,
never their values, so it is how a switch tells which application the deployed Actions use: a
create retried after a switch that deployed and then failed, or an update whose state lags
behind, must not rotate the secret logins use. A client id that is not one of the stack's two
applications (another stack's, one written by hand) names nothing."""
CALLS = ("actions.get", "actions.update", "actions.deploy", "clients.rotate_secret")
"""The Management API calls it makes (``commands.management_client.CALLS``), with the deployer's
credentials; a refresh makes only ``actions.get``."""
CREDENTIAL_ENV = ("AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET")
ACCEPT_SECONDS = 60.0
"""How long to wait for the token endpoint to accept a rotated secret (Auth0: up to 30 s)."""
BUILD_SECONDS = 120.0
"""How long to wait for Auth0 to build the Action before deploying it."""
INPUTS = ("tenant_domain", "action_ids", "slot_clients", "rotation", "in_tenant")
"""The inputs whose change makes an update (a slot switch); ``grace_ms`` only paces it."""


class CredentialError(Exception):
    """What went wrong, naming what to do; never a secret."""


def _management(domain: str, rate: float = 10.0) -> Any:
    """A Management API client with the deployer's credentials from the environment."""
    from auth0_org_assignment.commands.management_client import ManagementClient

    client_id, secret = (os.environ.get(name, "") for name in CREDENTIAL_ENV)
    if not client_id or not secret:
        raise CredentialError(
            "the Action's credential is written with the deployer's credentials from the "
            "environment: set AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET (not auth0:clientSecret in "
            "the stack's configuration, which Pulumi records in state), then run pulumi up again"
        )
    # The deploy's share of the tier, as the auth0 plugin paces its own requests.
    pacer = rate_limits.deploy_pacer()
    return ManagementClient(domain, client_id, secret, rate, allowed=CALLS, pacer=pacer)


def _accepted(domain: str, client_id: str, secret: str) -> bool:
    """Whether the token endpoint takes ``secret`` for ``client_id`` (the token is dropped)."""
    from auth0_org_assignment.commands.management_client import ApiError, ManagementClient

    try:
        ManagementClient(domain, client_id, secret, 10.0, allowed=())
    except ApiError as error:
        if error.status in (401, 403):
            return False
        raise
    return True


def _rotate(api: Any, client_id: str) -> str:
    answer = api.call("clients.rotate_secret", id=client_id)
    secret = answer.get("client_secret") if isinstance(answer, dict) else None
    if not secret:
        raise CredentialError(
            f"rotating application {client_id}'s secret answered no secret: grant the "
            "deployer's application read:client_keys and update:client_keys, then run pulumi up"
        )
    return str(secret)


def _wait(what: str, seconds: float, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise CredentialError(f"{what} within {seconds:.0f} s; run pulumi up again")
        time.sleep(0.5)


def _deploy(api: Any, action_id: str) -> dict[str, Any]:
    """Deploy the Action once Auth0 has built it; its state afterwards."""
    from auth0_org_assignment.commands.management_client import ApiError

    def built() -> bool:
        status = api.call("actions.get", id=action_id).get("status")
        if status == "failed":
            raise CredentialError(f"Auth0 failed to build Action {action_id}; see its dashboard")
        return bool(status == "built")

    _wait(f"Auth0 did not build Action {action_id}", BUILD_SECONDS, built)
    for _ in range(20):
        try:
            api.call("actions.deploy", id=action_id)
            break
        except ApiError as error:
            # Auth0's 400 "A draft must be in the 'built' state before it can be deployed."
            if error.status != 400 or "built" not in str(error):
                raise
            time.sleep(0.5)
    action: dict[str, Any] = api.call("actions.get", id=action_id)
    return action


def secrets_stamp(action: Mapping[str, Any]) -> dict[str, str]:
    """The Action's secrets as Auth0 shows them: each name with when it was last written."""
    return {
        str(secret.get("name")): str(secret.get("updated_at", ""))
        for secret in action.get("secrets") or []
    }


def switch(props: Mapping[str, Any], previous: str | None) -> dict[str, Any]:
    """Rotate the slot other than the one in use (the one the deployed Actions name, else
    ``previous``), write it into every Action, deploy them, then retire the other's secret.
    Returns the outputs: ids and stamps only."""
    domain, action_ids = str(props["tenant_domain"]), [str(i) for i in props["action_ids"]]
    clients: dict[str, str] = dict(props["slot_clients"])
    api = _management(domain)
    # What the Actions hold before anything is written: the slot their deployed versions name,
    # which wins over the state's (a switch that deployed and then failed left the state at the
    # slot before), and whether a login may be using any secret at all.
    held = {action_id: api.call("actions.get", id=action_id) for action_id in action_ids}
    previous = _slot_in_use(api, held, clients) or previous
    handed_out = previous is not None or any(holds_credential(a) for a in held.values())
    target = "a" if previous == "b" else "b"
    retired = "b" if target == "a" else "a"
    secret = _rotate(api, clients[target])
    _wait(
        f"the token endpoint did not accept application {clients[target]}'s new secret",
        ACCEPT_SECONDS,
        functools.partial(_accepted, domain, clients[target], secret),
    )
    values = {
        "TENANT_DOMAIN": domain,
        "CLIENT_ID": clients[target],
        "CLIENT_SECRET": secret,
        MARKER + clients[target]: target,
    }
    body = {"secrets": [{"name": name, "value": value} for name, value in values.items()]}
    for action_id in action_ids:
        api.call("actions.update", body, id=action_id)
    stamps = {action_id: secrets_stamp(_deploy(api, action_id)) for action_id in action_ids}
    if handed_out:
        # A login that started on the previous version holds the previous slot's secret and
        # may ask for a token until its time budget runs out; after that, nobody needs it.
        time.sleep(float(props.get("grace_ms") or 0) / 1000 + 1)
    # Otherwise no Action holds a secret in its draft or its deployed version (a stack's first
    # deploy): no login can be using the secret the idle slot was created with, so it is
    # retired at once.
    _rotate(api, clients[retired])
    return {
        **{key: props[key] for key in (*INPUTS, "grace_ms") if key in props},
        "in_tenant": True,
        "active_slot": target,
        "active_client_id": clients[target],
        "secrets_updated_at": stamps,
        "switched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def slot_named(version: Mapping[str, Any], clients: Mapping[str, str]) -> str | None:
    """The slot whose application this Action version's ``MARKER`` names, if exactly one."""
    by_name = {MARKER + client_id: slot for slot, client_id in clients.items()}
    named = {by_name[name] for name in secrets_stamp(version) if name in by_name}
    return named.pop() if len(named) == 1 else None


def _slot_in_use(
    api: Any, held: Mapping[str, Mapping[str, Any]], clients: Mapping[str, str]
) -> str | None:
    """The slot the Actions' deployed versions use; None when none names one (a first deploy,
    an earlier release's secrets). When they use both, a switch failed between two Actions'
    deploys: every draft then names the slot it was writing, whose secret is still valid, so
    this deploys the Actions still on the other one first, and that slot is the one in use."""
    deployed = {i: slot_named(a.get("deployed_version") or {}, clients) for i, a in held.items()}
    in_use = set(deployed.values()) - {None}
    if len(in_use) < 2:
        return next(iter(in_use), None)
    drafts = {slot_named(action, clients) for action in held.values()}
    if len(drafts) != 1 or None in drafts:
        raise CredentialError(
            f"the Actions {', '.join(sorted(held))} run both applications' credentials and "
            "their drafts do not name one: deploy every Action from its draft so that they run "
            "the same one, then run pulumi up again"
        )
    (writing,) = drafts
    for action_id, slot in deployed.items():
        if slot != writing:
            _deploy(api, action_id)
    return writing


def holds_credential(action: Mapping[str, Any]) -> bool:
    """Whether the Action's draft or its deployed version holds any secret: whatever its name
    (an earlier release's, one pasted by hand), a login may be using it."""
    return any(version.get("secrets") for version in (action, action.get("deployed_version") or {}))


def in_tenant(actions: Mapping[str, Mapping[str, Any] | None], written: Mapping[str, Any]) -> bool:
    """Whether every Action still holds what this resource wrote: the same names, each last
    written when this resource wrote it."""
    stamps = dict(written.get("secrets_updated_at") or {})
    return set(actions) == set(stamps) and all(
        action is not None and secrets_stamp(action) == dict(stamps[action_id])
        for action_id, action in actions.items()
    )


class ActionCredentialProvider(ResourceProvider):
    """Pulumi's side of ``ActionCredential``: holds no state of its own (Pulumi serialises it
    into the stack's state, so it must never capture a credential)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = [
            CheckFailure(key, f"{key} is required") for key in INPUTS if news.get(key) is None
        ]
        slots = news.get("slot_clients")
        if isinstance(slots, dict) and set(slots) != set(SLOTS):
            failures.append(CheckFailure("slot_clients", f"needs exactly the slots {SLOTS}"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in INPUTS if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        outputs = _reported(lambda: switch(props, previous=None))
        return CreateResult(f"credential-{props['action_ids'][0]}", outputs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(_reported(lambda: switch(news, previous=olds.get("active_slot"))))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        from auth0_org_assignment.commands.management_client import ApiError

        def observe() -> dict[str, dict[str, Any] | None]:
            api = _management(str(props["tenant_domain"]), 5.0)
            found: dict[str, dict[str, Any] | None] = {}
            for action_id in props.get("action_ids") or []:
                try:
                    found[action_id] = api.call("actions.get", id=str(action_id))
                except ApiError as error:
                    if error.status != 404:
                        raise
                    found[action_id] = None
            return found

        present = in_tenant(_reported(observe), props)
        outputs = {**props, "in_tenant": present}
        return ReadResult(id_, outputs, {key: outputs[key] for key in (*INPUTS, "grace_ms")})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing: the Action and the applications are deleted as resources of their own."""


def _reported(work: Callable[[], Any]) -> Any:
    """Run ``work``; a failure is one line naming what to do, never a request or a secret."""
    from auth0_org_assignment.commands.management_client import UNREACHABLE, ApiError

    try:
        return work()
    except (CredentialError, ApiError) as error:
        raise Exception(f"ActionCredential: {error}") from None
    except UNREACHABLE as error:
        raise Exception(f"ActionCredential: cannot reach the tenant: {error}") from None


class ActionCredential(pulumi.dynamic.Resource):
    """The Action's Management API credential: written into the Action, never into state."""

    active_client_id: pulumi.Output[str]
    active_slot: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        tenant_domain: str,
        action_ids: list[pulumi.Input[str]],
        slot_clients: Mapping[str, pulumi.Input[str]],
        rotation: int,
        grace_ms: int,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            ActionCredentialProvider(),
            name,
            {
                "tenant_domain": tenant_domain,
                "action_ids": action_ids,
                "slot_clients": dict(slot_clients),
                "rotation": rotation,
                "grace_ms": grace_ms,
                # Declared: the Actions hold what this resource wrote. A refresh that finds
                # otherwise sets it to False, so the drift check shows it and `up` repairs it.
                "in_tenant": True,
                "active_slot": None,
                "active_client_id": None,
                "secrets_updated_at": None,
                "switched_at": None,
            },
            opts,
        )
