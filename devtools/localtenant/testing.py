"""The one harness for a local tenant: what tests, benchmarks, the demo and the CLI drive it with.

``LocalTenant.start`` serves a tenant in this process, ``LocalTenant.spawn`` runs
``python -m devtools.localtenant serve`` in a child process, and ``LocalTenant.attach`` talks to one
already running. Each offers the same calls, all made through the tenant's own APIs (the
Management API, and its ``/localtenant/`` endpoints in ``localtenant.control``), never through
its store: the Management API as the admin client (``call``), applications granted given
scopes, connections, organizations and their members, users (signed up, or imported by the
thousand), Actions deployed and bound, logins through the deployed Actions, call counts, faults,
rate limits, the round trip, token lifetime and revocation, and the Actions' cache.

A tenant in this process answers those calls without HTTP: they are not counted, meet no rate
limit and no fault, so setting a test up leaves the counts it checks as they were. A child's
(or an attached tenant's) go over HTTPS with the admin client's token and count as any
client's do. ``https_api`` is the HTTPS client itself, for any credentials.
"""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from devtools import ROOT
from devtools.localtenant import control
from devtools.localtenant.logins import TRIGGER, ActionContainer, execute
from devtools.localtenant.organizations import MEMBERS_PER_REQUEST_MAX
from devtools.localtenant.ratelimits import Tier
from devtools.localtenant.scopes import known_scopes
from devtools.localtenant.server import IDLE_TIMEOUT_S, TenantServer
from devtools.localtenant.tenant import DEFAULT_CONNECTIONS, Fault
from devtools.localtenant.users import SEARCH_RESULTS_MAX

__all__ = ["DATABASE", "Fault", "HttpsApi", "LocalTenant", "TenantError"]

DATABASE = DEFAULT_CONNECTIONS[0][0]
"""The database connection every new tenant has: Username-Password-Authentication."""
PAGE = 100
"""The most a Management API list answers at once (``per_page`` and ``take``)."""
BUILD_WAIT_S = 5.0
"""How long ``deploy`` waits for an Action to finish building."""


class TenantError(RuntimeError):
    """An error status from the tenant; the message is ``"<method> <path>: <status> <body>"``."""

    def __init__(self, method: str, path: str, status: int, text: str) -> None:
        super().__init__(f"{method} {path}: {status} {text}")
        self.status = status
        self.text = text

    @property
    def body(self) -> Any:
        """The answer's JSON (its text when it is not JSON)."""
        try:
            return json.loads(self.text)
        except ValueError:
            return self.text


@dataclass
class HttpsApi:
    """One application calling a running tenant over HTTPS: a client-credentials token for the
    Management API, then calls with it (the admin client's may call ``/localtenant/`` too)."""

    domain: str
    ca_cert: str
    client_id: str
    client_secret: str
    _token: str | None = None

    def token(self) -> str:
        """The access token, requested once."""
        if self._token is None:
            answer = self._request(
                "POST",
                "/oauth/token",
                {
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "audience": f"https://{self.domain}/api/v2/",
                },
                None,
            )
            self._token = str(answer["access_token"])
        return self._token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One request with the token; raises ``TenantError`` on an error status."""
        return self._request(method, path, body, self.token())

    def _request(self, method: str, path: str, body: Any, token: str | None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"https://{self.domain}{path}", data=data, method=method)
        request.add_header("content-type", "application/json")
        if token:
            request.add_header("authorization", f"Bearer {token}")
        context = ssl.create_default_context(cafile=self.ca_cert)
        try:
            with urllib.request.urlopen(request, context=context, timeout=60) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise TenantError(
                method, path, error.code, error.read().decode(errors="replace")
            ) from None
        return json.loads(raw) if raw else None


class LocalTenant:
    """A local tenant, and what a test, a benchmark, the demo or the CLI does with it.

    ``stop()`` ends what ``start`` or ``spawn`` began (an attached tenant keeps running)."""

    def __init__(
        self,
        serve_line: dict[str, Any],
        server: TenantServer | None = None,
        process: subprocess.Popen[str] | None = None,
    ) -> None:
        self.serve_line = serve_line
        """What ``python -m devtools.localtenant serve`` prints: domain, ca_cert, admin,
        custom_domain."""
        self.domain: str = serve_line["domain"]
        self.ca_cert: str = serve_line["ca_cert"]
        self.custom_domain: str | None = serve_line.get("custom_domain")
        self.admin_credentials: dict[str, str] = dict(serve_line["admin"])
        self._server = server
        self._process = process
        self._admin = HttpsApi(self.domain, self.ca_cert, **self.admin_credentials)
        self._containers: list[ActionContainer] = []

    # --- starting and stopping ---------------------------------------------------------------

    @classmethod
    def start(
        cls,
        state: Path,
        *,
        custom_domain: str | None = None,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        rate_limits: Tier | None = None,
    ) -> LocalTenant:
        """A tenant served in this process, its state in ``state``; ``rate_limits`` replaces the
        default tier (any ``Tier``, where ``rate_limit_tier`` takes only the documented ones)."""
        server = TenantServer(state, custom_domain=custom_domain, idle_timeout_s=idle_timeout_s)
        if rate_limits is not None:
            server.tenant.rate_limiter.tier = rate_limits
        return cls(server.serve_line, server=server)

    @classmethod
    def spawn(
        cls,
        state: Path,
        port: int = 0,
        *,
        custom_domain: str | None = None,
        rate_limits: str | None = None,
    ) -> LocalTenant:
        """``python -m devtools.localtenant serve`` in a child process, until ``stop()``."""
        command = [sys.executable, "-m", "devtools.localtenant", "serve", "--state", str(state)]
        command += ["--port", str(port)]
        if custom_domain:
            command += ["--custom-domain", custom_domain]
        if rate_limits:
            command += ["--rate-limits", rate_limits]
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert process.stdout
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the local tenant did not start (exit {process.wait()})")
        return cls(json.loads(line), process=process)

    @classmethod
    def attach(cls, serve_line: dict[str, Any]) -> LocalTenant:
        """A tenant already running, from the line its ``serve`` printed."""
        return cls(serve_line)

    def stop(self) -> None:
        for container in self._containers:
            container.close()
        self._containers.clear()
        if self._server is not None:
            self._server.close()
        if self._process is not None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()

    def __enter__(self) -> LocalTenant:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- the APIs ----------------------------------------------------------------------------

    @property
    def management_audience(self) -> str:
        return f"https://{self.domain}/api/v2/"

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One Management API (or ``/localtenant/``) request as the admin client; raises
        ``TenantError`` on an error status."""
        if self._server is None:
            return self._admin.call(method, path, body)
        status, answer = self._answer_here(method, path, _as_sent(body))
        if status >= 400:
            raise TenantError(method, path, status, json.dumps(answer))
        return _as_sent(answer)

    def https_api(self, credentials: dict[str, str] | None = None) -> HttpsApi:
        """The tenant over HTTPS as the application with ``credentials`` (client_id and
        client_secret; the admin client's by default)."""
        if credentials is None:
            return self._admin
        return HttpsApi(
            self.domain, self.ca_cert, credentials["client_id"], credentials["client_secret"]
        )

    def _answer_here(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """What the tenant in this process answers, without HTTP (so uncounted, unlimited)."""
        assert self._server is not None
        tenant = self._server.tenant
        url = urlsplit(path)
        if url.path.startswith("/localtenant/"):
            return control.answer(tenant, method, url.path, body)
        found = tenant.match(method, url.path)
        if found is None and url.path.startswith("/api/v2/"):
            return tenant.answer_not_emulated(method, url.path)
        if found is None or not found[0].management:
            return 404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"}
        route, params = found
        return tenant.call(
            route,
            params,
            dict(parse_qsl(url.query)),
            body,
            frozenset(known_scopes()),  # the admin client's grant
            {"host": self.domain},
            self.admin_credentials["client_id"],
        )

    # --- applications and connections --------------------------------------------------------

    def m2m_client(self, name: str, scopes: Iterable[str]) -> dict[str, str]:
        """A new Machine-to-Machine application granted exactly ``scopes`` on the Management
        API: its client_id and client_secret."""
        client = self.call(
            "POST",
            "/api/v2/clients",
            {"name": name, "app_type": "non_interactive", "grant_types": ["client_credentials"]},
        )
        self.call(
            "POST",
            "/api/v2/client-grants",
            {
                "client_id": client["client_id"],
                "audience": self.management_audience,
                "scope": list(scopes),
            },
        )
        return {"client_id": client["client_id"], "client_secret": client["client_secret"]}

    def grants_of(self, client_id: str) -> list[dict[str, Any]]:
        """The client grants of the application ``client_id``."""
        grants: list[dict[str, Any]] = self.call(
            "GET", f"/api/v2/client-grants?client_id={quote(client_id)}"
        )
        return grants

    def ensure_connection(self, name: str, strategy: str = "auth0") -> dict[str, Any]:
        """The connection named ``name``, created with ``strategy`` if there is none."""
        existing = self.call("GET", f"/api/v2/connections?name={quote(name)}")
        if existing:
            return dict(existing[0])
        connection: dict[str, Any] = self.call(
            "POST", "/api/v2/connections", {"name": name, "strategy": strategy}
        )
        return connection

    # --- organizations -----------------------------------------------------------------------

    def create_organization(
        self, name: str, display_name: str | None = None, connection_ids: Iterable[str] = ()
    ) -> dict[str, Any]:
        """A new organization, with ``connection_ids`` enabled on it."""
        body = {"name": name, **({"display_name": display_name} if display_name else {})}
        organization: dict[str, Any] = self.call("POST", "/api/v2/organizations", body)
        for connection_id in connection_ids:
            self.enable_connection(organization["id"], connection_id)
        return organization

    def organizations(self) -> list[dict[str, Any]]:
        """Every organization of the tenant, however many."""
        return list(self._checkpoint_pages("/api/v2/organizations", "organizations"))

    def enable_connection(self, organization_id: str, connection_id: str) -> None:
        self.call(
            "POST",
            f"/api/v2/organizations/{organization_id}/enabled_connections",
            {"connection_id": connection_id},
        )

    def disable_connections(self, organization_id: str) -> None:
        """Disable every connection enabled on the organization."""
        path = f"/api/v2/organizations/{organization_id}/enabled_connections"
        for record in self.call("GET", path):
            self.call("DELETE", f"{path}/{record['connection_id']}")

    def declare_domain(
        self, organization_id: str, domain: str, status: str = "verified"
    ) -> dict[str, Any]:
        """A discovery domain of the organization, with ``status`` set as the Management API
        lets a caller set it (what the stack's DomainProof does once the record is in DNS)."""
        path = f"/api/v2/organizations/{organization_id}/discovery-domains"
        found: dict[str, Any] = self.call("POST", path, {"domain": domain, "status": status})
        return found

    def discovery_domains(self, organization_id: str) -> list[dict[str, Any]]:
        """The organization's discovery domains: each email domain's proof record and status."""
        path = f"/api/v2/organizations/{organization_id}/discovery-domains"
        return list(self.call("GET", path)["domains"])

    def add_members(self, organization_id: str, user_ids: Iterable[str]) -> None:
        """Make the users members, as many a request as Auth0 takes."""
        pending = list(user_ids)
        path = f"/api/v2/organizations/{organization_id}/members"
        for start in range(0, len(pending), MEMBERS_PER_REQUEST_MAX):
            self.call("POST", path, {"members": pending[start : start + MEMBERS_PER_REQUEST_MAX]})

    def members(self, organization_id: str) -> list[str]:
        """The organization's members' user ids, in the order they joined."""
        path = f"/api/v2/organizations/{organization_id}/members"
        return [member["user_id"] for member in self._checkpoint_pages(path, "members")]

    def _checkpoint_pages(self, path: str, key: str) -> Iterator[dict[str, Any]]:
        """Every record of a list read by checkpoint (``take``, ``from``), which has no end at
        the 1,000th record as offset pages do."""
        checkpoint = ""
        while True:
            page = self.call(
                "GET", f"{path}?take={PAGE}" + (f"&from={quote(checkpoint)}" if checkpoint else "")
            )
            yield from page[key]
            if "next" not in page:
                return
            checkpoint = page["next"]

    def create_role(self, name: str) -> dict[str, Any]:
        role: dict[str, Any] = self.call("POST", "/api/v2/roles", {"name": name})
        return role

    def delete_role(self, role_id: str) -> None:
        self.call("DELETE", f"/api/v2/roles/{role_id}")

    def member_roles(self, organization_id: str, user_id: str) -> list[str]:
        """The ids of the roles the member holds in the organization."""
        path = f"/api/v2/organizations/{organization_id}/members/{quote(user_id)}/roles"
        return [role["id"] for role in self.call("GET", path)]

    # --- users -------------------------------------------------------------------------------

    def sign_up(
        self, email: str, connection: str = DATABASE, verified: bool = False
    ) -> dict[str, Any]:
        """A new user of ``connection`` with that address (``verified``: already verified)."""
        body = {"connection": connection, "email": email, "email_verified": verified}
        user: dict[str, Any] = self.call("POST", "/api/v2/users", body)
        return user

    def user_with_email(self, email: str) -> dict[str, Any] | None:
        """The first user with that address, among the first 1,000 a users search pages
        through, or None."""
        for page in range(SEARCH_RESULTS_MAX // PAGE):
            users = self.call("GET", f"/api/v2/users?per_page={PAGE}&page={page}")
            for user in users:
                if user.get("email") == email:
                    return dict(user)
            if len(users) < PAGE:
                break
        return None

    def user(self, user_id: str) -> dict[str, Any]:
        user: dict[str, Any] = self.call("GET", f"/api/v2/users/{quote(user_id)}")
        return user

    def ensure_user(
        self, user_id: str, connection: str = DATABASE, **fields: Any
    ) -> dict[str, Any]:
        """The user ``user_id``, created (in ``connection``) at first sight; then ``fields``
        that are not None set on it as a PATCH sets them (app_metadata merged)."""
        try:
            user = self.user(user_id)
        except TenantError as error:
            if error.status != 404:
                raise
            # Sent without its provider's prefix, which Auth0 adds.
            user = self.call(
                "POST",
                "/api/v2/users",
                {"connection": connection, "user_id": user_id.split("|", 1)[-1]},
            )
            if user["user_id"] != user_id:
                # Another provider's prefix than the connection's, which no create gives
                # (a test's hostile id): stored as given, as an import stores users.
                self.delete_user(user["user_id"])
                self.import_users([{**user, "user_id": user_id}])
                user = self.user(user_id)
        changes = {key: value for key, value in fields.items() if value is not None}
        return self.update_user(user_id, **changes) if changes else user

    def update_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        user: dict[str, Any] = self.call("PATCH", f"/api/v2/users/{quote(user_id)}", fields)
        return user

    def delete_user(self, user_id: str) -> None:
        """Delete the user (Auth0 removes their memberships too)."""
        self.call("DELETE", f"/api/v2/users/{quote(user_id)}")

    def import_users(self, records: list[dict[str, Any]]) -> None:
        """Users as Auth0 stores them, thousands at once (``localtenant.users.import_users``):
        each with a new user_id and its identities."""
        self.call("POST", "/localtenant/users", {"users": records})

    # --- Actions and logins ------------------------------------------------------------------

    def deploy_action(self, name: str, code: str, **fields: Any) -> str:
        """A new post-login Action running ``code``, deployed once built; its id. ``fields``
        are the create request's others (runtime, secrets, dependencies)."""
        action = self.call(
            "POST",
            "/api/v2/actions/actions",
            {
                "name": name,
                "code": code,
                "supported_triggers": [{"id": TRIGGER, "version": "v3"}],
                **fields,
            },
        )
        self.deploy(action["id"])
        return str(action["id"])

    def deploy(self, action_id: str) -> None:
        """Deploy the Action as it is now, once it has built (it builds after each change)."""
        deadline = time.monotonic() + BUILD_WAIT_S
        while True:
            try:
                self.call("POST", f"/api/v2/actions/actions/{action_id}/deploy")
                return
            except TenantError as error:
                if "must be in the 'built' state" not in error.text or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def bind_actions(self, *action_ids: str) -> None:
        """Make these the post-login trigger's Actions, in this order."""
        refs = [{"ref": {"type": "action_id", "value": action_id}} for action_id in action_ids]
        self.call("PATCH", f"/api/v2/actions/triggers/{TRIGGER}/bindings", {"bindings": refs})

    def bound_action_ids(self) -> list[str]:
        """The Actions in the Login flow, in the order they run."""
        bindings = self.call("GET", f"/api/v2/actions/triggers/{TRIGGER}/bindings")
        return [binding["action"]["id"] for binding in bindings["bindings"]]

    def login(
        self,
        user_id: str,
        connection: str = DATABASE,
        organization: str | None = None,
        client_id: str | None = None,
    ) -> dict[str, Any]:
        """Log the user in through ``connection`` (to ``organization``, an id, if given) to the
        application ``client_id`` (the local tenant's own when None): the bound post-login
        Actions run as deployed (``devtools.localtenant.logins.login``)."""
        body = {
            "user_id": user_id,
            "connection": connection,
            "organization": organization,
            "client_id": client_id,
        }
        result: dict[str, Any] = self.call("POST", "/localtenant/logins", body)
        return result

    def action_container(
        self,
        code: str,
        secrets: dict[str, str],
        workdir: Path,
        node_modules: Path | None = None,
    ) -> ActionContainer:
        """``code`` in an Actions container of its own, outside the Login flow, trusting this
        tenant's certificate; run it with ``execute``. Closed by ``stop()``."""
        container = ActionContainer(code, secrets, [], Path(self.ca_cert), workdir, node_modules)
        self._containers.append(container)
        return container

    def execute(self, container: ActionContainer, event: dict[str, Any]) -> dict[str, Any]:
        """One execution of ``container``'s Action for ``event``, with the trigger's api.cache,
        its changes then saved as a flow's are (``devtools.localtenant.logins.execute``). Only for a
        tenant in this process."""
        if self._server is None:
            raise RuntimeError("execute needs a tenant in this process (LocalTenant.start)")
        return execute(self._server.tenant, container, event)

    def action_cache(self) -> dict[str, Any]:
        """The post-login trigger's api.cache entries: key -> value, expires_at."""
        entries: dict[str, Any] = self.call("GET", f"/localtenant/action-cache/{TRIGGER}")
        return entries

    def evict_cache(self, key: str | None = None) -> None:
        """Evict ``key`` (every entry, when None) from the trigger's api.cache."""
        suffix = f"/{quote(key, safe='')}" if key is not None else ""
        self.call("DELETE", f"/localtenant/action-cache/{TRIGGER}{suffix}")

    # --- counts, faults and knobs ------------------------------------------------------------

    def calls(self) -> Counter[str]:
        """Requests answered so far, by route name (``organizations.members.create``...)."""
        return Counter(self.call("GET", "/localtenant/calls")["calls"])

    def rate_limited(self) -> Counter[str]:
        """Requests refused 429 by the tenant's rate limits, by bucket."""
        return Counter(self.call("GET", "/localtenant/calls")["rate_limited"])

    def not_emulated(self) -> Counter[str]:
        """Requests answered 501 because no route serves them, by ``"<method> <path>"``."""
        return Counter(self.call("GET", "/localtenant/calls")["not_emulated"])

    def denied_scopes(self) -> Counter[str]:
        """Requests refused 403 for a missing scope, by the scope."""
        return Counter(self.call("GET", "/localtenant/calls")["denied_scopes"])

    def inject_fault(self, route: str, fault: Fault) -> None:
        """What requests to ``route`` get instead of an answer, until cleared (or ``times``)."""
        self.call("PUT", f"/localtenant/faults/{route}", asdict(fault))

    def clear_faults(self, route: str | None = None) -> None:
        """Clear the fault on ``route`` (on every route, when None)."""
        self.call("DELETE", "/localtenant/faults" + (f"/{route}" if route else ""))

    def rate_limit_tier(self, tier: str) -> dict[str, Any]:
        """Enforce one of Auth0's documented tiers (``localtenant.control.TIERS``)."""
        limits: dict[str, Any] = self.call("PUT", "/localtenant/rate-limits", {"tier": tier})
        return limits

    def management_rate_limit(self, per_second: float | None) -> dict[str, Any]:
        """One Management API bucket of ``per_second`` (None: unlimited), in place of the
        tier's; the Authentication API keeps its limits."""
        limits: dict[str, Any] = self.call(
            "PUT", "/localtenant/rate-limits", {"management_per_second": per_second}
        )
        return limits

    def set_round_trip_ms(self, ms: float) -> None:
        """Add ``ms`` to every API request the tenant answers, as a network would."""
        self.call("PUT", "/localtenant/settings", {"rtt_ms": ms})

    def set_token_lifetime_s(self, seconds: int) -> None:
        """How long the access tokens issued from now on last."""
        self.call("PUT", "/localtenant/settings", {"token_lifetime_s": seconds})

    def allow_connections_management_without_options_scopes(self, allowed: bool = True) -> None:
        """Turn Auth0's migration toggle of that name on (the tenant answers a connection's
        options to ``read:connections`` and takes them with ``update:connections``, as before
        the options scopes) or off, as a new tenant has it (``localtenant.connections``)."""
        self.call(
            "PUT",
            "/localtenant/settings",
            {"allow_connections_management_without_options_scopes": allowed},
        )

    def set_secret_rotation_delay_s(self, seconds: float) -> None:
        """How long a rotated client secret takes to be accepted, the previous one accepted
        meanwhile (Auth0: "New secrets may be delayed up to thirty seconds while rotating")."""
        self.call("PUT", "/localtenant/settings", {"secret_rotation_delay_s": seconds})

    def set_discovery_domain_lag_s(self, seconds: float) -> None:
        """How long a created, updated or deleted discovery domain takes to show in reads, of one
        domain (by id or by name) and of the list (Auth0: "subject to eventual consistency")."""
        self.call("PUT", "/localtenant/settings", {"discovery_domain_lag_s": seconds})

    def set_member_list_lag_s(self, seconds: float) -> None:
        """How long adding or removing an organization member takes to show in the members
        list (Auth0: "subject to eventual consistency"; a removal "takes approximately 5 - 10
        seconds")."""
        self.call("PUT", "/localtenant/settings", {"member_list_lag_s": seconds})

    def revoke_tokens(self) -> None:
        """Make every token issued so far invalid, as a rotated signing key would (the admin
        client's own too: it asks for another)."""
        self.call("DELETE", "/localtenant/tokens")
        self._admin = HttpsApi(self.domain, self.ca_cert, **self.admin_credentials)


def _as_sent(value: Any) -> Any:
    """``value`` as it would cross HTTP: a copy, JSON's types only."""
    return None if value is None else json.loads(json.dumps(value))
