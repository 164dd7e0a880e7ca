"""Just enough of Auth0's Management API for the commands on a stack's tenant (adopt, backfill,
reconcile): every call they may make, with its scope, and the client that makes them.

Each command names the calls it makes (its ``CALLS``); its credentials need exactly their
scopes (``scopes_of``), which the documentation's tables are generated from, and the client
refuses any other call, so the two cannot drift apart.

A kept-alive HTTPS connection (one per thread: ``each`` sends ``CONCURRENCY`` requests at
once), a client-credentials token, a pace within the documented limits of the tenant's tier
(``--tier``: each of its buckets, the API's and each endpoint's, paced on its own by a
``rate_limits.Pacer`` at the whole of the tier, ``pace.whole``) or an even ``--rate``, and
Auth0's rate-limit headers honoured: a 429 waits as its ``Retry-After`` says, or until
``x-ratelimit-reset``; a response whose ``x-ratelimit-remaining`` is 0 makes the next request
wait for the reset (Auth0's Rate Limit Policy). Errors name the method, the path
without its query, the status and Auth0's message, never the request.
"""

from __future__ import annotations

import argparse
import email.utils
import gzip
import http.client
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from auth0_org_assignment import rate_limits
from auth0_org_assignment.commands import pace
from auth0_org_assignment.config import (
    StackConfig,
    load_resolved_config,
    load_stack_file,
    project_root,
)

TRIES = 8
"""Tries of one request through 429s and 5xx before giving up."""
PAGE = 100
"""Items per page of a list (Auth0's maximum)."""
MEMBERS_PER_REQUEST = 10
"""Users per request to an organization's members endpoints: Auth0 takes at most 10."""
CONCURRENCY = 4
"""Requests in flight at once in ``ManagementClient.each``: at a round trip of up to 250 ms
they can still send 16 a second, an Enterprise production tenant's Management API rate; the
tier's pace keeps them within its limits whatever the round trip."""


@dataclass(frozen=True)
class Call:
    """One Management API endpoint: its method, its path under ``/api/v2`` with ``{params}``,
    and the scope Auth0 requires for it (Management API v2 reference)."""

    name: str
    method: str
    path: str
    scope: str
    what: str
    """What the commands call it for, as the documentation's scope tables say it."""


def _calls(*calls: Call) -> dict[str, Call]:
    return {call.name: call for call in calls}


CALLS = _calls(
    Call(
        "organizations.get_by_name",
        "GET",
        "/organizations/name/{name}",
        "read:organizations",
        "find each organization by name",
    ),
    Call(
        "organizations.get",
        "GET",
        "/organizations/{id}",
        "read:organizations",
        "read an organization given by id",
    ),
    Call(
        "organizations.members.list",
        "GET",
        "/organizations/{id}/members",
        "read:organization_members",
        "list an organization's members",
    ),
    Call(
        "organizations.members.create",
        "POST",
        "/organizations/{id}/members",
        "create:organization_members",
        "add members to an organization",
    ),
    Call(
        "organizations.members.delete",
        "DELETE",
        "/organizations/{id}/members",
        "delete:organization_members",
        "remove members from an organization",
    ),
    Call(
        "organizations.member_roles.create",
        "POST",
        "/organizations/{id}/members/{user_id}/roles",
        "create:organization_member_roles",
        "give a member the organization's configured roles",
    ),
    Call(
        "organizations.enabled_connections.list",
        "GET",
        "/organizations/{id}/enabled_connections",
        "read:organization_connections",
        "list the connections enabled on an organization (backfill, reconcile and explain: "
        "with connectionCheck: api only)",
    ),
    Call(
        "connections.list",
        "GET",
        "/connections",
        "read:connections",
        "find each configured connection's id by name",
    ),
    Call(
        "users.get",
        "GET",
        "/users/{id}",
        "read:users",
        "read one user's own record (a member the export lacks, a linked account)",
    ),
    Call(
        "users.update",
        "PATCH",
        "/users/{id}",
        "update:users",
        "set or clear the marker in a user's app_metadata",
    ),
    Call(
        "organizations.discovery_domains.get_by_name",
        "GET",
        "/organizations/{id}/discovery-domains/name/{domain}",
        "read:organization_discovery_domains",
        "read an email domain's proof record (its discovery domain)",
    ),
    Call(
        "organizations.discovery_domains.update",
        "PATCH",
        "/organizations/{id}/discovery-domains/{discovery_domain_id}",
        "update:organization_discovery_domains",
        "mark an email domain verified once its proof record is in DNS, pending when it is gone",
    ),
    Call(
        "users.list_by_email",
        "GET",
        "/users-by-email",
        "read:users",
        "find the users with an email",
    ),
    Call(
        "users.organizations.list",
        "GET",
        "/users/{id}/organizations",
        "read:organizations",
        "list the organizations a user is a member of",
    ),
    Call(
        "jobs.users_exports.create",
        "POST",
        "/jobs/users-exports",
        "read:users",
        "export users (a search stops at 1,000)",
    ),
    Call("jobs.get", "GET", "/jobs/{id}", "read:users", "follow the users export job"),
    Call(
        "clients.get",
        "GET",
        "/clients/{id}",
        "read:clients",
        "read an application (its name, type and authentication method)",
    ),
    Call(
        "client_grants.list",
        "GET",
        "/client-grants",
        "read:client_grants",
        "find the application granted create:organization_members, and its grant",
    ),
    Call(
        "actions.list",
        "GET",
        "/actions/actions",
        "read:actions",
        "find the post-login Action and its secrets' names",
    ),
    Call(
        "actions.get", "GET", "/actions/actions/{id}", "read:actions", "read an Action given by id"
    ),
    Call(
        "actions.update",
        "PATCH",
        "/actions/actions/{id}",
        "update:actions",
        "write the Action's secrets (its Management API credential)",
    ),
    Call(
        "actions.deploy",
        "POST",
        "/actions/actions/{id}/deploy",
        "create:actions",
        "deploy the Action, so logins run it with the secrets just written",
    ),
    Call(
        "clients.rotate_secret",
        "POST",
        "/clients/{id}/rotate-secret",
        "update:client_keys",
        "rotate the secret of one of the Action's two applications",
    ),
    Call(
        "actions.bindings.get",
        "GET",
        "/actions/triggers/{trigger}/bindings",
        "read:actions",
        "find the Action's binding to the Login flow",
    ),
)
"""Every Management API call the commands may make, by name."""


def scopes_of(calls: Iterable[str]) -> dict[str, str]:
    """The scopes ``calls`` need, each with what the calls are for: a command's credentials."""
    needed: dict[str, list[str]] = {}
    for name in calls:
        call = CALLS[name]
        needed.setdefault(call.scope, []).append(call.what)
    return {scope: "; ".join(dict.fromkeys(whats)) for scope, whats in sorted(needed.items())}


def as_requests(calls: Mapping[str, int]) -> dict[tuple[str, str], int]:
    """``calls`` (how many of each, by name) as a tier counts them: by method and path."""
    requests: dict[tuple[str, str], int] = {}
    for name, count in calls.items():
        key = (CALLS[name].method, f"/api/v2{CALLS[name].path}")
        requests[key] = requests.get(key, 0) + count
    return requests


class UsageError(Exception):
    """The command was called wrongly: a missing stack file or credential, an unknown id."""


class ApiError(RuntimeError):
    """An error status from the Management API."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def reported(work: Callable[[], int]) -> int:
    """Run a command's work: a wrong call (exit 2), a refusal from the Management API or a
    tenant out of reach (exit 1) end it with one line on stderr that names it, not a traceback.
    What was done before is kept: the markers and checkpoints say where to resume."""
    try:
        return work()
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ApiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except UNREACHABLE as error:
        print(f"error: cannot reach the tenant: {error}", file=sys.stderr)
        return 1


UNREACHABLE = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    ssl.SSLError,
    http.client.HTTPException,
)
"""What the connection to the tenant raises when it is down, unknown, untrusted or cut (a full
disk or a missing file is none of these, and keeps its own traceback)."""


class ManagementClient:
    """Just enough of Auth0's Management API: a kept-alive HTTPS connection (one a thread), a
    token, a pace, and only the ``allowed`` calls (the command's ``CALLS``)."""

    def __init__(
        self,
        domain: str,
        client_id: str,
        client_secret: str,
        rate: float | rate_limits.Pacer,
        allowed: Collection[str] = tuple(CALLS),
        pacer: rate_limits.Pacer | None = None,
    ) -> None:
        self.domain = domain
        self.pace = rate if isinstance(rate, rate_limits.Pacer) else pace.whole(pace.even(rate))
        """The tier's buckets (or one even pace, given a number of requests a second)."""
        self.pacer = pacer
        """Shared by every client of a deploy's process: a share of the tier's buckets
        (``rate_limits``), on top of ``rate``."""
        self.allowed = frozenset(allowed)
        unknown = self.allowed - CALLS.keys()
        if unknown:
            raise ValueError(f"no such Management API calls: {sorted(unknown)}")
        self._next_at = 0.0
        self._local = threading.local()
        self._workers: ThreadPoolExecutor | None = None
        answer = self._send(
            "POST",
            "/oauth/token",
            {
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
                "audience": f"https://{domain}/api/v2/",
            },
            token=None,
        )
        self._token = str(answer["access_token"])

    def call(
        self,
        name: str,
        /,
        body: Any = None,
        query: Mapping[str, str | int] | None = None,
        **params: str,
    ) -> Any:
        """One call of the table, ``params`` filling its path's ``{placeholders}``."""
        if name not in self.allowed:
            raise RuntimeError(f"{name} is not among this command's Management API calls")
        call = CALLS[name]
        path = re.sub(r"\{(\w+)\}", lambda match: quote(params[match[1]]), call.path)
        paced = (call.method, f"/api/v2{path}", {k: str(v) for k, v in (query or {}).items()})
        if query:
            path += "?" + urllib.parse.urlencode(query)
        return self._send(call.method, f"/api/v2{path}", body, self._token, paced)

    def find(self, name: str, /, **params: str) -> dict[str, Any] | None:
        """The one record a get of the table answers; None when the tenant has none (404)."""
        try:
            found: dict[str, Any] = self.call(name, None, None, **params)
        except ApiError as error:
            if error.status == 404:
                return None
            raise
        return found

    def each(self, name: str, /, calls: Sequence[tuple[Any, Mapping[str, str]]]) -> list[Any]:
        """Many calls of one kind (each a body and its path's ``params``), ``CONCURRENCY`` at
        a time, so the tier's pace, not each request's round trip, sets how fast they go. Their
        answers in order; an error answer is its ``ApiError``, for the caller to judge."""

        def one(call: tuple[Any, Mapping[str, str]]) -> Any:
            body, params = call
            try:
                return self.call(name, body, None, **params)
            except ApiError as error:
                return error

        if self._workers is None:
            self._workers = ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="management-api")
        return list(self._workers.map(one, calls))

    def least_time(self, calls: Mapping[str, int], memberships: int) -> str:
        """What ``calls`` (the writes of a run making ``memberships``) take at least within
        this client's pace: the tier's bound (``pace``), in words."""
        tier = self.pace.tier
        seconds = pace.seconds(tier, as_requests(calls))
        within = (
            f"the {tier.name} tier's documented rate limits" if pace.documented(tier) else tier.name
        )
        bound = f" ({memberships / seconds:.1f} memberships a second)" if seconds else ""
        return f"{sum(calls.values())} writes: at least {seconds:.0f} s at {within}{bound}"

    @property
    def _connection(self) -> http.client.HTTPSConnection:
        """This thread's kept-alive connection."""
        connection: http.client.HTTPSConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = http.client.HTTPSConnection(
                self.domain, timeout=60, context=ssl.create_default_context()
            )
        return connection

    def pages(
        self,
        name: str,
        /,
        key: str | None = None,
        query: Mapping[str, str | int] | None = None,
        **params: str,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a list paged by ``page``/``per_page`` (``key``: the list's name in the
        body, or None for a bare list)."""
        for page in range(1000):
            paging: dict[str, str | int] = {**(query or {}), "page": page, "per_page": PAGE}
            body = self.call(name, query=paging, **params)
            batch: list[dict[str, Any]] = body if key is None else body.get(key, [])
            yield from batch
            if len(batch) < PAGE:
                return

    def checkpoint_pages(self, name: str, /, key: str, **params: str) -> Iterator[dict[str, Any]]:
        """Every item of a list paged by checkpoint (``take``/``from``), which Auth0 serves
        past the 1,000 items that ``page`` reaches (organization members)."""
        checkpoint = ""
        while True:
            query: dict[str, str | int] = {"take": PAGE}
            if checkpoint:
                query["from"] = checkpoint
            body = self.call(name, query=query, **params)
            yield from body.get(key, [])
            checkpoint = body.get("next") or ""
            if not checkpoint or not body.get(key):
                return

    def _send(
        self,
        method: str,
        path: str,
        body: Any,
        token: str | None,
        paced: tuple[str, str, dict[str, str]] | None = None,
    ) -> Any:
        """One request, paced by the tier's buckets (``paced``: its method, its path without
        the query, and the query; the token request is the Authentication API's)."""
        shown = f"{method} {path.split('?')[0]}"
        for _attempt in range(TRIES):
            time.sleep(max(0.0, self._next_at - time.monotonic()))
            if paced is not None:
                self.pace.take(*paced)
            if self.pacer is not None and path.startswith("/api/v2/"):
                bare, _, query = path.partition("?")
                self.pacer.take(method, bare, dict(urllib.parse.parse_qsl(query)), self.domain)
            headers = {"content-type": "application/json"}
            if token:
                headers["authorization"] = f"Bearer {token}"
            payload = None if body is None else json.dumps(body)
            self._connection.request(method, path, payload, headers)
            response = self._connection.getresponse()
            raw = response.read()
            limit = RateLimit.of(response)
            if limit.remaining == 0:
                self._next_at = max(self._next_at, time.monotonic() + limit.until_reset())
            if response.status == 429 or response.status >= 500:
                time.sleep(limit.wait(rate_limited=response.status == 429))
                continue
            if response.status >= 400:
                # The status and Auth0's message; never the request, which may hold a secret.
                raise ApiError(response.status, f"{shown}: {response.status} {_message(raw)}")
            return json.loads(raw) if raw else None
        raise RuntimeError(f"{shown}: still refused after {TRIES} tries")


@dataclass(frozen=True)
class RateLimit:
    """What a response says of the rate limit: Auth0's ``x-ratelimit-*`` headers (the reset in
    Unix seconds) and ``Retry-After`` where it comes (seconds or an HTTP date)."""

    remaining: int | None = None
    reset_at: float | None = None
    retry_after: float | None = None

    @classmethod
    def of(cls, response: http.client.HTTPResponse) -> RateLimit:
        return cls(
            _number(response.getheader("x-ratelimit-remaining")),
            _number(response.getheader("x-ratelimit-reset")),
            _retry_after(response.getheader("retry-after")),
        )

    def until_reset(self) -> float:
        return 0.0 if self.reset_at is None else max(0.0, self.reset_at - time.time())

    def wait(self, rate_limited: bool) -> float:
        """Seconds before a refused request may be sent again: ``Retry-After`` when it comes;
        for a 429, else until the reset (every answer carries it, but it says when to come
        back only when the limit was hit); else 1 s."""
        if self.retry_after is not None:
            return self.retry_after
        if rate_limited and self.reset_at is not None:
            return self.until_reset()
        return 1.0


def _number(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _message(raw: bytes) -> str:
    """Auth0's error message, or nothing when the body is not Auth0's JSON (a proxy's page)."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return "(not JSON)"
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:200] if message else ""


@dataclass
class Export:
    """The users of a users export job, and what could not be read."""

    users: list[dict[str, Any]] = field(default_factory=list)
    malformed: int = 0
    """Lines that were not a JSON object with a string ``user_id``."""


def enabled_connections(api: ManagementClient, organization_id: str) -> dict[str, dict[str, Any]]:
    """The connections enabled on an organization: its enabled-connections records, by the
    connection's name."""
    return {
        record["connection"]["name"]: record
        for record in api.pages(
            "organizations.enabled_connections.list", None, None, id=organization_id
        )
    }


def export_users(api: ManagementClient, fields: tuple[str, ...], connection_id: str = "") -> Export:
    """Every user of the tenant (or of one connection), through a users export job: Auth0's
    way past the 1,000 users a search returns."""
    request: dict[str, Any] = {"format": "json", "fields": [{"name": f} for f in fields]}
    if connection_id:
        request["connection_id"] = connection_id
    job = api.call("jobs.users_exports.create", request)
    while job["status"] != "completed":
        if job["status"] == "failed":
            raise RuntimeError("the users export job failed")
        time.sleep(1)
        job = api.call("jobs.get", id=job["id"])
    location = urllib.parse.urlsplit(job["location"])
    # A pre-signed URL: no token goes with it.
    download = http.client.HTTPSConnection(
        location.netloc, timeout=300, context=ssl.create_default_context()
    )
    download.request(
        "GET", f"{location.path}?{location.query}" if location.query else location.path
    )
    response = download.getresponse()
    if response.status != 200:
        raise RuntimeError(f"the users export could not be downloaded ({response.status})")
    return parse_export(gzip.decompress(response.read()).decode("utf-8", errors="replace"))


def parse_export(content: str) -> Export:
    """The users of an export's NDJSON; a line that is not a user is counted, not fatal."""
    export = Export()
    for line in content.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and isinstance(record.get("user_id"), str):
            export.users.append(record)
        else:
            export.malformed += 1
    return export


def quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def add_stack_arguments(parser: argparse.ArgumentParser, stack_help: str) -> None:
    """The arguments every command on a stack's tenant takes: the stack, a pace, the project."""
    parser.add_argument("stack", help=stack_help)
    paces = parser.add_mutually_exclusive_group()
    paces.add_argument(
        "--tier",
        choices=tuple(rate_limits.tier_names()),
        help="the tenant's rate-limit tier, whose documented limits (the Management API's and "
        "each endpoint's) set the pace (default: the tier AUTH0_RATE_LIMIT_TIER names, as for "
        "the deploy; else free, the lowest, with a note on stderr)",
    )
    paces.add_argument(
        "--rate",
        type=float,
        help="an even pace of at most this many requests a second, instead of a tier's",
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=None,
        help="where Pulumi.yaml and Pulumi.STACK.yaml are (default: the nearest directory, from "
        "here up, holding a Pulumi.yaml)",
    )
    parser.add_argument(
        "--config-json",
        type=Path,
        help="the stack's configuration as `pulumi config --stack STACK --json` prints it, "
        "instead of the stack file (needed when it imports ESC environments)",
    )


def credential_variables(role: str) -> tuple[str, str]:
    """The environment variables a command reads its own credentials from:
    ``AUTH0_<ROLE>_CLIENT_ID`` and ``AUTH0_<ROLE>_CLIENT_SECRET``."""
    return f"AUTH0_{role}_CLIENT_ID", f"AUTH0_{role}_CLIENT_SECRET"


def connect(
    arguments: argparse.Namespace,
    role: str,
    whose: str,
    calls: Collection[str],
    note_tier: bool = False,
) -> tuple[StackConfig, ManagementClient]:
    """The stack's configuration, and a client making only ``calls``, with the credentials in
    ``AUTH0_<ROLE>_CLIENT_ID`` and ``AUTH0_<ROLE>_CLIENT_SECRET``; ``whose`` says in an error
    what they are."""
    if arguments.project_dir is None:
        arguments.project_dir = project_root()
    try:
        if arguments.config_json is not None:
            config = load_resolved_config(arguments.config_json)
        else:
            config = load_stack_file(arguments.stack, arguments.project_dir)
    except pulumi.RunError as error:
        raise UsageError(str(error)) from None
    pace = pace_of(arguments, note=note_tier)
    names = credential_variables(role)
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        raise UsageError(f"set {' and '.join(missing)}: {whose}")
    client = ManagementClient(
        config.tenant_domain, os.environ[names[0]], os.environ[names[1]], pace, calls
    )
    return config, client


COMMANDS_DEFAULT_TIER = "free"
"""The tier paced for when neither ``--tier`` nor the deploy's ``AUTH0_RATE_LIMIT_TIER`` names
one: the lowest documented one, which no tenant's limits are below, so a run never storms a
tenant whose tier it was not told."""


def pace_of(
    arguments: argparse.Namespace, note: bool = False, environment: Mapping[str, str] = os.environ
) -> rate_limits.Pacer:
    """The pace ``--tier`` or ``--rate`` asks for; with neither, that of the tier the deploy's
    environment names (``rate_limits.TIER_VARIABLE``), or else of ``COMMANDS_DEFAULT_TIER``,
    with ``note`` a line on stderr saying so and naming the flag."""
    rate = getattr(arguments, "rate", None)
    if rate is not None:
        if not rate > 0:
            raise UsageError(f"--rate must be a positive number of requests a second, not {rate}")
        return pace.whole(pace.even(rate))
    name, named_by = getattr(arguments, "tier", None), "--tier"
    if name is None and environment.get(rate_limits.TIER_VARIABLE):
        name, named_by = environment[rate_limits.TIER_VARIABLE], rate_limits.TIER_VARIABLE
    if name is None:
        name = COMMANDS_DEFAULT_TIER
        if note:
            print(
                f"note: pacing for the {name} tier's documented rate limits; name the tenant's "
                f"tier with --tier ({', '.join(rate_limits.tier_names())}) to go as fast as it "
                "allows",
                file=sys.stderr,
            )
    try:
        return pace.whole(rate_limits.tier(name))
    except ValueError as error:
        raise UsageError(f"{named_by}: {error}") from None
