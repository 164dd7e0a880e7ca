"""The local tenant behaves as Auth0 documents: its command line, state, scopes and rules."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devstack.local_stack import ROOT, TenantProcess
from localtenant import logins, ratelimits
from localtenant.client import AdminClient
from localtenant.server import TenantServer


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[TenantProcess]:
    process = TenantProcess(tmp_path / "state.json")
    yield process
    process.stop()


def error_of(call: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(RuntimeError) as raised:
        call()
    status, _, body = str(raised.value).split(": ", 1)[1].partition(" ")
    return int(status), json.loads(body)


def test_serve_prints_one_json_line_and_stops_on_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "localtenant", "serve", "--state", str(tmp_path / "s.json")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout
    line = json.loads(process.stdout.readline())
    assert set(line) == {"domain", "ca_cert", "admin"}
    assert line["domain"].startswith("localhost:")
    assert Path(line["ca_cert"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert set(line["admin"]) == {"client_id", "client_secret"}
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


@pytest.mark.slow
def test_a_restart_loses_nothing(tmp_path: Path) -> None:
    first = TenantProcess(tmp_path / "state.json")
    organization = first.admin.call("POST", "/api/v2/organizations", {"name": "kept"})
    token = first.admin.token()
    first.stop()
    # Same port, so the same audience: tokens issued before the restart stay valid.
    second = TenantProcess(tmp_path / "state.json", int(first.domain.split(":")[1]))
    try:
        assert second.line["admin"] == first.line["admin"]
        again = AdminClient(second.domain, second.ca_cert, "", "", token)
        assert again.call("GET", f"/api/v2/organizations/{organization['id']}")["name"] == "kept"
    finally:
        second.stop()


def test_a_missing_scope_is_auth0s_403(tenant: TenantProcess) -> None:
    reader = tenant.deployer("reader", ["read:organizations"])
    client = AdminClient(tenant.domain, tenant.ca_cert, **reader)
    assert client.call("GET", "/api/v2/organizations") == []
    status, body = error_of(lambda: client.call("POST", "/api/v2/organizations", {"name": "x"}))
    assert status == 403
    assert body == {
        "statusCode": 403,
        "error": "Forbidden",
        "message": "Insufficient scope, expected any of: create:organizations",
        "errorCode": "insufficient_scope",
    }


def test_client_keys_need_their_own_scope(tenant: TenantProcess) -> None:
    reader = tenant.deployer("reader", ["read:clients"])
    client = AdminClient(tenant.domain, tenant.ca_cert, **reader)
    shown = client.call("GET", f"/api/v2/clients/{reader['client_id']}")
    assert "client_secret" not in shown
    assert tenant.admin.call("GET", f"/api/v2/clients/{reader['client_id']}")["client_secret"]


def test_client_metadata_merges_and_a_null_removes_its_key(tenant: TenantProcess) -> None:
    """Auth0's documented PATCH semantics, which the provider relies on to remove a key."""
    admin = tenant.admin
    client = admin.call("POST", "/api/v2/clients", {"name": "m", "client_metadata": {"a": "1"}})
    path = f"/api/v2/clients/{client['client_id']}"
    assert admin.call("PATCH", path, {"client_metadata": {"b": "2"}})["client_metadata"] == {
        "a": "1",
        "b": "2",
    }
    assert admin.call("PATCH", path, {"client_metadata": {"a": None}})["client_metadata"] == {
        "b": "2"
    }


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/api/v2/organizations", {"name": "Not Valid"}, "does not match pattern"),
        ("/api/v2/clients", {"name": "x", "description": "d" * 141}, "maximum 140"),
        (
            "/api/v2/actions/actions",
            {
                "name": "a",
                "supported_triggers": [{"id": "post-login", "version": "v3"}],
                "runtime": "node16",
            },
            "Invalid runtime",
        ),
    ],
)
def test_auth0s_validation_rules(
    tenant: TenantProcess, path: str, body: dict[str, Any], message: str
) -> None:
    status, error = error_of(lambda: tenant.admin.call("POST", path, body))
    assert status == 400
    assert message in error["message"]


def test_at_most_ten_connections_per_organization(tenant: TenantProcess) -> None:
    # Eleven quick writes would pass Write Organization Connections' burst of 5.
    tenant.admin.call("PUT", "/localtenant/rate-limits", {"tier": "unlimited"})
    organization = tenant.admin.call("POST", "/api/v2/organizations", {"name": "many"})
    path = f"/api/v2/organizations/{organization['id']}/enabled_connections"
    for number in range(11):
        connection = tenant.admin.call(
            "POST", "/api/v2/connections", {"name": f"c{number}", "strategy": "auth0"}
        )
        enable = {"connection_id": connection["id"]}
        if number < 10:
            tenant.admin.call("POST", path, enable)
        else:
            status, error = error_of(lambda body=enable: tenant.admin.call("POST", path, body))
            assert (status, error["errorCode"]) == (400, "too_many_connections")


def test_a_bindings_patch_replaces_the_whole_list(tenant: TenantProcess) -> None:
    admin = tenant.admin
    ids = []
    for name in ("first", "second"):
        action = admin.call(
            "POST",
            "/api/v2/actions/actions",
            {"name": name, "supported_triggers": [{"id": "post-login", "version": "v3"}]},
        )
        with pytest.raises(RuntimeError, match="has not finished building"):
            admin.call("POST", f"/api/v2/actions/actions/{action['id']}/deploy")
        _deploy_when_built(admin, action["id"])
        ids.append(action["id"])
    path = "/api/v2/actions/triggers/post-login/bindings"

    def bind(*action_ids: str) -> list[str]:
        refs = [{"ref": {"type": "action_id", "value": i}} for i in action_ids]
        answer = admin.call("PATCH", path, {"bindings": refs})
        return [binding["action"]["id"] for binding in answer["bindings"]]

    assert bind(ids[0], ids[1]) == ids
    assert bind(ids[1]) == [ids[1]]
    assert [b["action"]["id"] for b in admin.call("GET", path)["bindings"]] == [ids[1]]


def test_the_login_command_runs_the_bound_actions(tenant: TenantProcess, tmp_path: Path) -> None:
    admin = tenant.admin
    admin.call("POST", "/api/v2/connections", {"name": "db", "strategy": "auth0"})
    code = (
        "exports.onExecutePostLogin = async (event, api) => {"
        " api.user.setAppMetadata('seen', (event.user.app_metadata.seen || 0) + 1); };"
    )
    action = admin.call(
        "POST",
        "/api/v2/actions/actions",
        {
            "name": "count",
            "code": code,
            "supported_triggers": [{"id": "post-login", "version": "v3"}],
        },
    )
    _deploy_when_built(admin, action["id"])
    admin.call(
        "PATCH",
        "/api/v2/actions/triggers/post-login/bindings",
        {"bindings": [{"ref": {"type": "action_id", "value": action["id"]}}]},
    )
    user = admin.call("POST", "/api/v2/users", {"connection": "db", "email": "a@example.com"})
    line = tmp_path / "tenant.json"
    line.write_text(json.dumps(tenant.line))
    for expected in (1, 2):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "localtenant",
                "login",
                "--tenant",
                str(line),
                user["user_id"],
                "--connection",
                "db",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ},
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["app_metadata"] == {"seen": expected}
    assert admin.call("GET", f"/api/v2/users/{user['user_id']}")["logins_count"] == 2


def test_an_organization_login_needs_membership(tenant: TenantProcess) -> None:
    admin = tenant.admin
    connection = admin.call("POST", "/api/v2/connections", {"name": "db", "strategy": "auth0"})
    organization = admin.call("POST", "/api/v2/organizations", {"name": "closed"})
    admin.call(
        "POST",
        f"/api/v2/organizations/{organization['id']}/enabled_connections",
        {"connection_id": connection["id"]},
    )
    user = admin.call("POST", "/api/v2/users", {"connection": "db", "email": "b@example.com"})
    body = {"user_id": user["user_id"], "connection": "db", "organization": organization["id"]}
    status, error = error_of(lambda: admin.call("POST", "/localtenant/logins", body))
    assert status == 403 and "not a member" in error["message"]


def _deploy_when_built(admin: AdminClient, action_id: str) -> None:
    for _ in range(100):
        try:
            admin.call("POST", f"/api/v2/actions/actions/{action_id}/deploy")
            return
        except RuntimeError:
            import time

            time.sleep(0.05)
    raise AssertionError("the action never built")


def test_a_users_search_pages_through_1000_results_at_most(tenant: TenantProcess) -> None:
    tenant.admin.call("GET", "/api/v2/users?page=19&per_page=50")
    status, error = error_of(lambda: tenant.admin.call("GET", "/api/v2/users?page=20&per_page=50"))
    assert status == 400 and "first 1000 records" in error["message"]


def test_a_users_export_job_serves_every_user_of_a_connection(tenant: TenantProcess) -> None:
    admin = tenant.admin
    for n in range(3):
        admin.call(
            "POST",
            "/api/v2/users",
            {"connection": "Username-Password-Authentication", "email": f"u{n}@a.io"},
        )
    (database,) = admin.call("GET", "/api/v2/connections?name=Username-Password-Authentication")
    job = admin.call(
        "POST",
        "/api/v2/jobs/users-exports",
        {
            "connection_id": database["id"],
            "format": "json",
            "fields": [{"name": "user_id"}, {"name": "email"}],
        },
    )
    assert (job["type"], job["status"]) == ("users_export", "pending")
    done = admin.call("GET", f"/api/v2/jobs/{job['id']}")
    assert done["status"] == "completed"
    context = ssl.create_default_context(cafile=tenant.ca_cert)
    with urllib.request.urlopen(done["location"], context=context) as response:  # noqa: S310
        lines = gzip.decompress(response.read()).decode().splitlines()
    assert sorted(json.loads(line)["email"] for line in lines) == ["u0@a.io", "u1@a.io", "u2@a.io"]


# --- Auth0's documented limits (issue 16) ----------------------------------------------------
# The tests below run a TenantServer in this process, so they can read its knobs and shorten
# its clocks; requests still go over HTTPS, and raw sockets where framing is the point.


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TenantServer]:
    running = TenantServer(tmp_path / "state.json", custom_domain="127.0.0.1")
    yield running
    running.close()


def admin_of(server: TenantServer, domain: str | None = None) -> AdminClient:
    credentials = server.tenant.admin_credentials
    return AdminClient(domain or server.domain, str(server.ca_path), **credentials)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def fetch(
    server: TenantServer,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    host: str | None = None,
    form: bool = False,
) -> Answer:
    """One request, with the response's headers (AdminClient only gives the body)."""
    host = host or server.domain
    connection = http.client.HTTPSConnection(
        host, context=ssl.create_default_context(cafile=str(server.ca_path)), timeout=30
    )
    headers = {"content-type": "application/x-www-form-urlencoded" if form else "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = urllib.parse.urlencode(body).encode() if form else json.dumps(body).encode()
    try:
        connection.request(method, path, data, headers)
        response = connection.getresponse()
        raw = response.read()
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, answer_headers, json.loads(raw) if raw else None)
    finally:
        connection.close()


def token_request(server: TenantServer, audience: str | None = None) -> dict[str, str]:
    credentials = server.tenant.admin_credentials
    return {
        "grant_type": "client_credentials",
        **credentials,
        "audience": audience or f"https://{server.domain}/api/v2/",
    }


def deploy_action(admin: AdminClient, name: str, code: str, runtime: str = "node22") -> str:
    action = admin.call(
        "POST",
        "/api/v2/actions/actions",
        {
            "name": name,
            "code": code,
            "runtime": runtime,
            "supported_triggers": [{"id": "post-login", "version": "v3"}],
        },
    )
    _deploy_when_built(admin, action["id"])
    return str(action["id"])


def bind(admin: AdminClient, *action_ids: str) -> None:
    refs = [{"ref": {"type": "action_id", "value": action_id}} for action_id in action_ids]
    admin.call("PATCH", "/api/v2/actions/triggers/post-login/bindings", {"bindings": refs})


def log_in(admin: AdminClient, email: str = "ada@example.com") -> dict[str, Any]:
    """Sign ``email`` up (once) and log them in through the database connection."""
    users = admin.call("GET", f"/api/v2/users?q=email:{email}")
    user = (
        users[0]
        if users
        else admin.call(
            "POST",
            "/api/v2/users",
            {"connection": "Username-Password-Authentication", "email": email},
        )
    )
    login: dict[str, Any] = admin.call(
        "POST",
        "/localtenant/logins",
        {"user_id": user["user_id"], "connection": "Username-Password-Authentication"},
    )
    return login


def sets(key: str, expression: str, then: str = "") -> str:
    """An Action that records ``expression`` in app_metadata[key], then runs ``then``."""
    return (
        "exports.onExecutePostLogin = async (event, api) => {"
        f" api.user.setAppMetadata({key!r}, {expression}); {then} }};"
    )


# Row: a post-login flow's time. https://auth0.com/docs/customize/actions/limitations


@pytest.mark.slow
def test_the_whole_flow_has_auth0s_20_seconds() -> None:
    assert logins.FLOW_TIMEOUT_S == 20


@pytest.mark.slow
def test_a_flow_past_its_time_fails_the_login_and_runs_no_later_action(
    server: TenantServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logins, "FLOW_TIMEOUT_S", 1.0)
    admin = admin_of(server)
    slow = "await new Promise((resolve) => setTimeout(resolve, 600));"
    first = deploy_action(admin, "first", sets("first", "true", slow))
    second = deploy_action(admin, "second", sets("second", "true", slow))
    third = deploy_action(admin, "third", sets("third", "true"))
    bind(admin, first, second, third)
    login = log_in(admin)
    # Each Action alone is within the limit; together they are not.
    assert login["failed"] == {
        "error": "access_denied",
        "error_description": "Extensibility error: the flow did not finish within 1 seconds",
        "kind": "timeout",
        "action_id": second,
    }
    assert [e["action_id"] for e in login["executions"]] == [first, second]
    assert login["app_metadata"] == {"first": True}


@pytest.mark.slow
def test_an_action_that_blocks_node_is_stopped_and_the_next_login_runs(
    server: TenantServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logins, "FLOW_TIMEOUT_S", 1.0)
    monkeypatch.setattr(logins, "KILL_GRACE_S", 0.5)
    admin = admin_of(server)
    blocking = deploy_action(
        admin,
        "blocking",
        "let n = 0; exports.onExecutePostLogin = async (event, api) => {"
        " n += 1; if (event.stats.logins_count === 1) { while (true) {} }"
        " api.user.setAppMetadata('n', n); };",
    )
    bind(admin, blocking)
    started = time.monotonic()
    assert log_in(admin)["failed"]["kind"] == "timeout"
    assert time.monotonic() - started < 5
    # The killed container is replaced: a new one, so the module state starts again.
    assert log_in(admin)["app_metadata"] == {"n": 1}


# Row: an Action that throws. The login fails; later Actions do not run.


@pytest.mark.parametrize(
    "failure",
    [
        "throw new TypeError('no organization');",
        "return Promise.reject(new TypeError('no organization'));",
    ],
)
def test_an_action_that_throws_fails_the_login_and_stops_the_flow(
    server: TenantServer, failure: str
) -> None:
    admin = admin_of(server)
    failing = deploy_action(admin, "failing", sets("before", "true", failure))
    after = deploy_action(admin, "after", sets("after", "true"))
    bind(admin, failing, after)
    login = log_in(admin)
    assert login["failed"] == {
        "error": "access_denied",
        "error_description": "Extensibility error: TypeError: no organization",
        "kind": "thrown",
        "action_id": failing,
    }
    assert login["denied"] is None
    (execution,) = login["executions"]
    assert execution["thrown"] == "TypeError"
    # The failed execution's metadata is not saved, and the next Action never ran.
    assert login["app_metadata"] == {}


def test_the_login_command_exits_1_when_the_flow_fails(
    tenant: TenantProcess, tmp_path: Path
) -> None:
    bind(
        tenant.admin,
        deploy_action(tenant.admin, "failing", sets("x", "1", "throw new Error('x');")),
    )
    user = tenant.admin.call(
        "POST",
        "/api/v2/users",
        {"connection": "Username-Password-Authentication", "email": "a@b.c"},
    )
    line = tmp_path / "tenant.json"
    line.write_text(json.dumps(tenant.line))
    result = subprocess.run(
        [
            *(sys.executable, "-m", "localtenant", "login", "--tenant", str(line)),
            *(user["user_id"], "--connection", "Username-Password-Authentication"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert json.loads(result.stdout)["failed"]["error"] == "access_denied"


# Row: api.cache. Scoped to the trigger, survives redeploys, Auth0's limits, may be evicted.


def test_the_cache_is_the_triggers_shared_by_its_actions(server: TenantServer) -> None:
    admin = admin_of(server)
    writer = deploy_action(
        admin, "writer", sets("wrote", "api.cache.set('shared', 'from-writer').type")
    )
    reader = deploy_action(
        admin, "reader", sets("read", "(api.cache.get('shared') || {}).value || null")
    )
    bind(admin, writer, reader)
    assert log_in(admin)["app_metadata"] == {"wrote": "success", "read": "from-writer"}


def test_the_cache_survives_a_redeploy(server: TenantServer) -> None:
    admin = admin_of(server)
    action_id = deploy_action(admin, "token", sets("v1", "api.cache.set('token', 'old').type"))
    bind(admin, action_id)
    log_in(admin)
    admin.call(
        "PATCH",
        f"/api/v2/actions/actions/{action_id}",
        {"code": sets("v2", "(api.cache.get('token') || {}).value || null")},
    )
    _deploy_when_built(admin, action_id)
    # A new version, a new container: it still sees what the old one cached.
    assert log_in(admin)["app_metadata"]["v2"] == "old"


def test_cache_entries_can_be_evicted(server: TenantServer) -> None:
    admin = admin_of(server)
    action_id = deploy_action(
        admin,
        "cached",
        sets("had", "(api.cache.get('k') || {}).value || 'none'", "api.cache.set('k', 'v');"),
    )
    bind(admin, action_id)
    log_in(admin)
    entries = admin.call("GET", "/localtenant/action-cache/post-login")
    assert list(entries) == ["k"] and entries["k"]["value"] == "v"
    assert log_in(admin)["app_metadata"]["had"] == "v"
    admin.call("DELETE", "/localtenant/action-cache/post-login/k")
    assert log_in(admin)["app_metadata"]["had"] == "none"


CACHE_LIMITS = """
  const now = Date.now();
  const result = {
    key65: api.cache.set('k'.repeat(65), 'v').code || 'success',
    key64: api.cache.set('k'.repeat(64), 'v').type,
    value4097: api.cache.set('big', 'v'.repeat(4097)).code || 'success',
    ttl25h: api.cache.set('long', 'v', { ttl: 25 * 3600000 }).code || 'success',
    notString: api.cache.set('n', 42).code || 'success',
  };
  api.cache.set('both', 'v', { ttl: 60000, expires_at: now + 1000 });
  result.earlierExpiry = api.cache.get('both').expires_at <= now + 1000;
  api.cache.set('default', 'v');
  result.defaultLifetimeH = Math.round((api.cache.get('default').expires_at - now) / 3600000);
  for (const key of ['k'.repeat(64), 'both', 'default']) api.cache.delete(key);
  // 8 kB in all: two values of 4 kB (with their keys) do not fit.
  result.first4k = api.cache.set('a', 'v'.repeat(4000)).type;
  result.second4k = api.cache.set('b', 'v'.repeat(4000)).type;
  result.third4k = api.cache.set('c', 'v'.repeat(4000)).code || 'success';
  api.cache.delete('a'); api.cache.delete('b');
  // 20 entries per trigger.
  const codes = [];
  for (let n = 0; n < 21; n += 1) codes.push(api.cache.set(`e${n}`, 'v').type);
  result.entries = codes.filter((type) => type === 'success').length;
  result.twentyFirst = api.cache.set('e20', 'v').code;
  api.user.setAppMetadata('limits', result);
"""


def test_the_cache_has_auth0s_limits(server: TenantServer) -> None:
    admin = admin_of(server)
    code = f"exports.onExecutePostLogin = async (event, api) => {{ {CACHE_LIMITS} }};"
    bind(admin, deploy_action(admin, "limits", code))
    assert log_in(admin)["app_metadata"]["limits"] == {
        "key65": "KEY_TOO_LARGE",
        "key64": "success",
        "value4097": "VALUE_TOO_LARGE",
        "ttl25h": "TTL_TOO_LONG",
        "notString": "VALUE_NOT_STRING",
        "earlierExpiry": True,
        "defaultLifetimeH": 24,
        "first4k": "success",
        "second4k": "success",
        "third4k": "CACHE_FULL",
        "entries": 20,
        "twentyFirst": "TOO_MANY_ENTRIES",
    }
    assert len(admin.call("GET", "/localtenant/action-cache/post-login")) == 20


def test_concurrent_writes_past_the_limits_evict_the_soonest_to_expire(
    server: TenantServer,
) -> None:
    tenant = server.tenant
    logins.apply_cache_changes(
        tenant, {f"k{n}": {"value": "v", "expires_at": 10**13 + n} for n in range(20)}
    )
    logins.apply_cache_changes(tenant, {"late": {"value": "v", "expires_at": 10**14}})
    entries = logins.cache_snapshot(tenant)
    assert len(entries) == 20 and "late" in entries and "k0" not in entries


# Row: rate limits. https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy


def test_every_management_api_response_says_where_its_rate_limit_stands(
    server: TenantServer,
) -> None:
    token = admin_of(server).token()
    answers = [
        fetch(server, "GET", "/api/v2/organizations", token=token),
        fetch(server, "GET", "/api/v2/organizations/org_missing", token=token),
        fetch(server, "GET", "/api/v2/organizations"),  # no token: 401
        fetch(server, "GET", "/api/v2/no-such-endpoint", token=token),
    ]
    assert [a.status for a in answers] == [200, 404, 401, 404]
    for answer in answers:
        assert answer.headers["x-ratelimit-limit"] == "50"  # Enterprise, production tenant
        assert 0 <= int(answer.headers["x-ratelimit-remaining"]) < 50
        assert abs(int(answer.headers["x-ratelimit-reset"]) - time.time()) <= 2
        assert "retry-after" not in answer.headers


def test_past_the_global_limit_auth0s_429_carries_the_bucket(server: TenantServer) -> None:
    token = admin_of(server).token()
    server.tenant.rate_limiter.tier = ratelimits.FREE  # 2 requests, 2 a second
    answers = [fetch(server, "GET", "/api/v2/organizations", token=token) for _ in range(3)]
    assert [a.status for a in answers] == [200, 200, 429]
    limited = answers[2]
    assert limited.body == {
        "statusCode": 429,
        "error": "Too Many Requests",
        "message": "Global limit has been reached",
        "errorCode": "too_many_requests",
    }
    assert limited.headers["x-ratelimit-limit"] == "2"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert int(limited.headers["x-ratelimit-reset"]) >= int(time.time())
    assert "retry-after" not in limited.headers
    time.sleep(1.1)  # refilled at 2 a second
    assert fetch(server, "GET", "/api/v2/organizations", token=token).status == 200


def test_an_endpoint_bucket_limits_its_endpoint_only(server: TenantServer) -> None:
    admin = admin_of(server)
    organization = admin.call("POST", "/api/v2/organizations", {"name": "members"})
    path = f"/api/v2/organizations/{organization['id']}/members"
    users = [
        admin.call(
            "POST",
            "/api/v2/users",
            {"connection": "Username-Password-Authentication", "email": f"u{n}@a.io"},
        )["user_id"]
        for n in range(1)
    ]
    token = admin.token()
    # Write Organization Members: 20, refilled 200 a minute.
    statuses = [
        fetch(server, "POST", path, {"members": users}, token=token).status for _ in range(21)
    ]
    assert statuses == [204] * 20 + [429]
    limited = fetch(server, "DELETE", path, {"members": users}, token=token)
    assert limited.status == 429
    assert limited.headers["x-ratelimit-limit"] == "20"
    assert limited.body["message"].startswith("Too many requests. Check the X-RateLimit-Limit")
    assert (
        fetch(server, "GET", f"/api/v2/organizations/{organization['id']}", token=token).status
        == 200
    )


def test_the_token_endpoint_is_rate_limited_too(server: TenantServer) -> None:
    # A slow Authentication API bucket, so the test outruns its refill.
    server.tenant.rate_limiter.tier = ratelimits.Tier(
        "slow", management=None, authentication=ratelimits.Limit(2, 1, "minute")
    )
    answers = [
        fetch(server, "POST", "/oauth/token", token_request(server), form=True) for _ in range(3)
    ]
    assert [a.status for a in answers] == [200, 200, 429]
    assert answers[-1].body == {
        "error": "access_denied",
        "error_description": "Global rate limit exceeded",
    }
    assert answers[0].headers["x-ratelimit-limit"] == "2"
    assert answers[-1].headers["x-ratelimit-remaining"] == "0"


def test_a_free_tenant_gets_30_tokens_a_second() -> None:
    clock = [1_000_000.0]
    limiter = ratelimits.RateLimiter(ratelimits.FREE, clock=lambda: clock[0])
    admitted = [limiter.admit("authentication", "oauth.token", {}) for _ in range(31)]
    assert [a.allowed for a in admitted] == [True] * 30 + [False]
    assert admitted[-1].bucket == "Get Token"
    clock[0] += 0.1  # refilled by the millisecond: 3 more
    assert [limiter.admit("authentication", "oauth.token", {}).allowed for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]


def test_the_bucket_refills_as_auth0s_algorithm_says() -> None:
    clock = [1_000_000.0]
    limiter = ratelimits.RateLimiter(
        ratelimits.Tier("t", management=ratelimits.Limit(5, 150, "minute"), authentication=None),
        clock=lambda: clock[0],
    )
    for _ in range(5):
        assert limiter.admit("management", None, {}).allowed
    refused = limiter.admit("management", None, {})
    assert not refused.allowed and refused.bucket == "management"
    # 150 a minute is 2.5 a second, added each whole second: nothing after 0.9 s.
    clock[0] += 0.9
    assert refused.headers["x-ratelimit-reset"] == str(1_000_001)
    assert not limiter.admit("management", None, {}).allowed
    clock[0] += 0.1
    assert [limiter.admit("management", None, {}).allowed for _ in range(3)] == [True, True, False]


def test_the_rate_knob_replaces_the_management_buckets(server: TenantServer) -> None:
    token = admin_of(server).token()
    server.tenant.rate_limit_per_second = 2
    assert server.tenant.rate_limit_per_second == 2
    statuses = [fetch(server, "GET", "/api/v2/organizations", token=token).status for _ in range(3)]
    assert statuses == [200, 200, 429]
    server.tenant.rate_limit_per_second = None
    answer = fetch(server, "GET", "/api/v2/organizations", token=token)
    assert answer.status == 200 and "x-ratelimit-limit" not in answer.headers


# Row: members per request; Actions per trigger and per tenant.


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_at_most_ten_members_per_request(server: TenantServer, method: str) -> None:
    admin = admin_of(server)
    organization = admin.call("POST", "/api/v2/organizations", {"name": "ten"})
    with server.tenant.store.lock:
        for n in range(11):
            server.tenant.store["users"][f"auth0|{n:024x}"] = {"user_id": f"auth0|{n:024x}"}
    users = [f"auth0|{n:024x}" for n in range(11)]
    path = f"/api/v2/organizations/{organization['id']}/members"
    admin.call(method, path, {"members": users[:10]})
    status, error = error_of(lambda: admin.call(method, path, {"members": users}))
    assert status == 400
    assert error["errorCode"] == "invalid_body"
    assert "maximum 10" in error["message"]


@pytest.mark.slow
def test_at_most_twenty_actions_per_trigger(server: TenantServer) -> None:
    admin = admin_of(server)
    server.tenant.rate_limiter.tier = ratelimits.UNLIMITED
    ids = [deploy_action(admin, f"a{n}", sets("n", str(n))) for n in range(21)]
    bind(admin, *ids[:20])
    status, error = error_of(lambda: bind(admin, *ids))
    assert status == 400 and "maximum 20" in error["message"]
    assert len(admin.call("GET", "/api/v2/actions/triggers/post-login/bindings")["bindings"]) == 20


@pytest.mark.slow
def test_at_most_a_hundred_actions_per_tenant(server: TenantServer) -> None:
    admin = admin_of(server)
    server.tenant.rate_limiter.tier = ratelimits.UNLIMITED
    trigger = [{"id": "post-login", "version": "v3"}]
    for n in range(100):
        admin.call(
            "POST", "/api/v2/actions/actions", {"name": f"a{n}", "supported_triggers": trigger}
        )
    status, error = error_of(
        lambda: admin.call(
            "POST", "/api/v2/actions/actions", {"name": "a100", "supported_triggers": trigger}
        )
    )
    assert status == 400 and error["errorCode"] == "too_many_entities"


# Row: custom domains. https://auth0.com/docs/customize/custom-domains/configure-features-to-use-custom-domains


def test_a_token_from_the_custom_domain_is_for_the_canonical_audience(
    server: TenantServer,
) -> None:
    custom = server.custom_domain
    assert custom is not None and custom.startswith("127.0.0.1:")
    issued = fetch(server, "POST", "/oauth/token", token_request(server), host=custom, form=True)
    assert issued.status == 200
    token = issued.body["access_token"]
    # Used at the domain that issued it: served. At the canonical domain: not.
    assert fetch(server, "GET", "/api/v2/organizations", token=token, host=custom).status == 200
    assert fetch(server, "GET", "/api/v2/organizations", token=token).status == 401
    canonical = admin_of(server).token()
    assert fetch(server, "GET", "/api/v2/organizations", token=canonical, host=custom).status == 401


def test_an_audience_naming_the_custom_domain_is_refused(server: TenantServer) -> None:
    audience = f"https://{server.custom_domain}/api/v2/"
    for host in (server.domain, server.custom_domain):
        answer = fetch(
            server, "POST", "/oauth/token", token_request(server, audience), host=host, form=True
        )
        assert answer.status == 403
        assert answer.body == {
            "error": "access_denied",
            "error_description": f"Service not enabled within domain: {audience}",
        }
    # Nor is there such an API to grant a client access to.
    admin = admin_of(server)
    client = admin.call(
        "POST", "/api/v2/clients", {"name": "custom", "app_type": "non_interactive"}
    )
    status, error = error_of(
        lambda: admin.call(
            "POST",
            "/api/v2/client-grants",
            {"client_id": client["client_id"], "audience": audience, "scope": []},
        )
    )
    assert (status, error["errorCode"]) == (404, "inexistent_resource_server")


def test_a_host_the_tenant_does_not_serve_is_not_found(server: TenantServer) -> None:
    connection = http.client.HTTPSConnection(
        server.domain, context=ssl.create_default_context(cafile=str(server.ca_path))
    )
    connection.request("GET", "/api/v2/organizations", headers={"host": "other.example.com"})
    assert connection.getresponse().status == 404
    connection.close()


# Row: a connection held open without a request; bad framing.


def raw_tls(server: TenantServer) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(server.ca_path))
    plain = socket.create_connection(("127.0.0.1", int(server.domain.split(":")[1])), timeout=10)
    return context.wrap_socket(plain, server_hostname="localhost")


def test_a_silent_connection_stops_no_one(server: TenantServer) -> None:
    port = int(server.domain.split(":")[1])
    silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]  # no handshake
    idle = raw_tls(server)  # handshake, then no request
    try:
        started = time.monotonic()
        assert admin_of(server).call("GET", "/api/v2/organizations") == []
        assert time.monotonic() - started < 3
    finally:
        for sock in [*silent, idle]:
            sock.close()


def test_an_idle_connection_is_closed(tmp_path: Path) -> None:
    server = TenantServer(tmp_path / "state.json", idle_timeout_s=0.5)
    try:
        idle = raw_tls(server)
        idle.sendall(b"GET /api/v2/organizations HTTP/1.1\r\nhost: ")  # and stops
        started = time.monotonic()
        assert idle.recv(1024) == b""  # closed by the tenant
        assert time.monotonic() - started < 5
        idle.close()
    finally:
        server.close()


def send_raw(server: TenantServer, head: str, body: bytes = b"") -> tuple[int, dict[str, Any]]:
    """Send a hand-written request; the status and JSON body of the answer."""
    with raw_tls(server) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        response = http.client.HTTPResponse(sock)  # type: ignore[arg-type]
        response.begin()
        return response.status, json.loads(response.read())


@pytest.mark.parametrize(
    ("length", "status", "message"),
    [
        ("abc", 400, "Invalid Content-Length"),
        ("-1", 400, "Invalid Content-Length"),
        ("4, 5", 400, "Invalid Content-Length"),
        (str(10**9), 413, "Payload content length greater than maximum allowed: 1048576"),
    ],
)
def test_a_bad_content_length_is_answered(
    server: TenantServer, length: str, status: int, message: str
) -> None:
    head = (
        f"POST /api/v2/organizations HTTP/1.1\nhost: {server.domain}\n"
        f"content-type: application/json\ncontent-length: {length}\n"
    )
    answered, body = send_raw(server, head, b"{}")
    assert (answered, body["message"]) == (status, message)
    assert admin_of(server).call("GET", "/api/v2/organizations") == []  # still serving


def test_a_huge_chunked_body_is_answered_413(server: TenantServer) -> None:
    head = (
        f"POST /api/v2/organizations HTTP/1.1\nhost: {server.domain}\n"
        "content-type: application/json\ntransfer-encoding: chunked\n"
    )
    chunk = b"x" * 65536
    body = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 17
    assert send_raw(server, head, body)[0] == 413


def test_deep_json_is_a_bad_request(server: TenantServer) -> None:
    token = admin_of(server).token()
    for depth in (100, 100_000):
        payload = "[" * depth + "]" * depth
        head = (
            f"POST /api/v2/organizations HTTP/1.1\nhost: {server.domain}\n"
            f"authorization: Bearer {token}\ncontent-type: application/json\n"
            f"content-length: {len(payload)}\n"
        )
        status, body = send_raw(server, head, payload.encode())
        assert (status, body["message"]) == (400, "Invalid request payload JSON format")


# Row: Node 22, the runtime Auth0 runs Actions on.


def test_a_node22_action_runs_on_node_22(server: TenantServer) -> None:
    admin = admin_of(server)
    bind(admin, deploy_action(admin, "version", sets("node", "process.version")))
    assert log_in(admin)["app_metadata"]["node"].startswith("v22.")


def test_a_runtime_without_its_node_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bin" / "node"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho v20.19.0\n")
    fake.chmod(0o755)
    monkeypatch.setattr(logins, "PINNED_NODE", tmp_path / "missing" / "node")
    monkeypatch.setenv("PATH", str(fake.parent))
    with pytest.raises(RuntimeError, match=r"node22 needs Node 22.*scripts/setup"):
        logins.node_for("node22")
