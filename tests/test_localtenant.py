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

from devtools.localtenant import logins, ratelimits, server
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.tenant import Tenant
from devtools.localtenant.testing import HttpsApi, LocalTenant, TenantError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[LocalTenant]:
    """``python -m devtools.localtenant serve`` in a child process: every call goes over HTTPS."""
    with LocalTenant.spawn(tmp_path / "state.json") as process:
        yield process


def error_of(call: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(TenantError) as raised:
        call()
    return raised.value.status, raised.value.body


def test_serve_prints_one_json_line_and_stops_on_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devtools.localtenant",
            "serve",
            "--state",
            str(tmp_path / "s.json"),
        ],
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
    first = LocalTenant.spawn(tmp_path / "state.json")
    organization = first.call("POST", "/api/v2/organizations", {"name": "kept"})
    token = first.https_api().token()
    first.stop()
    # Same port, so the same audience: tokens issued before the restart stay valid.
    second = LocalTenant.spawn(tmp_path / "state.json", int(first.domain.split(":")[1]))
    try:
        assert second.serve_line["admin"] == first.serve_line["admin"]
        again = HttpsApi(second.domain, second.ca_cert, "", "", token)
        assert again.call("GET", f"/api/v2/organizations/{organization['id']}")["name"] == "kept"
    finally:
        second.stop()


def test_a_missing_scope_is_auth0s_403(tenant: LocalTenant) -> None:
    reader = tenant.m2m_client("reader", ["read:organizations"])
    client = tenant.https_api(reader)
    assert client.call("GET", "/api/v2/organizations") == []
    status, body = error_of(lambda: client.call("POST", "/api/v2/organizations", {"name": "x"}))
    assert status == 403
    assert body == {
        "statusCode": 403,
        "error": "Forbidden",
        "message": "Insufficient scope, expected any of: create:organizations",
        "errorCode": "insufficient_scope",
    }


def test_client_keys_need_their_own_scope(tenant: LocalTenant) -> None:
    reader = tenant.m2m_client("reader", ["read:clients"])
    client = tenant.https_api(reader)
    shown = client.call("GET", f"/api/v2/clients/{reader['client_id']}")
    assert "client_secret" not in shown
    assert tenant.call("GET", f"/api/v2/clients/{reader['client_id']}")["client_secret"]


def test_client_metadata_merges_and_a_null_removes_its_key(tenant: LocalTenant) -> None:
    """Auth0's documented PATCH semantics, which the provider relies on to remove a key."""
    client = tenant.call("POST", "/api/v2/clients", {"name": "m", "client_metadata": {"a": "1"}})
    path = f"/api/v2/clients/{client['client_id']}"
    assert tenant.call("PATCH", path, {"client_metadata": {"b": "2"}})["client_metadata"] == {
        "a": "1",
        "b": "2",
    }
    assert tenant.call("PATCH", path, {"client_metadata": {"a": None}})["client_metadata"] == {
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
    tenant: LocalTenant, path: str, body: dict[str, Any], message: str
) -> None:
    status, error = error_of(lambda: tenant.call("POST", path, body))
    assert status == 400
    assert message in error["message"]


def test_at_most_ten_connections_per_organization(tenant: LocalTenant) -> None:
    # Eleven quick writes would pass Write Organization Connections' burst of 5.
    tenant.rate_limit_tier("unlimited")
    organization = tenant.call("POST", "/api/v2/organizations", {"name": "many"})
    path = f"/api/v2/organizations/{organization['id']}/enabled_connections"
    for number in range(11):
        connection = tenant.call(
            "POST", "/api/v2/connections", {"name": f"c{number}", "strategy": "auth0"}
        )
        enable = {"connection_id": connection["id"]}
        if number < 10:
            tenant.call("POST", path, enable)
        else:
            status, error = error_of(lambda body=enable: tenant.call("POST", path, body))
            assert (status, error["errorCode"]) == (400, "too_many_connections")


def test_a_bindings_patch_replaces_the_whole_list(tenant: LocalTenant) -> None:
    ids = []
    for name in ("first", "second"):
        action = tenant.call(
            "POST",
            "/api/v2/actions/actions",
            {"name": name, "supported_triggers": [{"id": "post-login", "version": "v3"}]},
        )
        with pytest.raises(RuntimeError, match="has not finished building"):
            tenant.call("POST", f"/api/v2/actions/actions/{action['id']}/deploy")
        tenant.deploy(action["id"])
        ids.append(action["id"])
    path = "/api/v2/actions/triggers/post-login/bindings"

    def bind(*action_ids: str) -> list[str]:
        refs = [{"ref": {"type": "action_id", "value": i}} for i in action_ids]
        answer = tenant.call("PATCH", path, {"bindings": refs})
        return [binding["action"]["id"] for binding in answer["bindings"]]

    assert bind(ids[0], ids[1]) == ids
    assert bind(ids[1]) == [ids[1]]
    assert tenant.bound_action_ids() == [ids[1]]


def test_the_login_command_runs_the_bound_actions(tenant: LocalTenant, tmp_path: Path) -> None:
    tenant.ensure_connection("db")
    code = (
        "exports.onExecutePostLogin = async (event, api) => {"
        " api.user.setAppMetadata('seen', (event.user.app_metadata.seen || 0) + 1); };"
    )
    tenant.bind_actions(tenant.deploy_action("count", code))
    user = tenant.sign_up("a@example.com", "db")
    line = tmp_path / "tenant.json"
    line.write_text(json.dumps(tenant.serve_line))
    for expected in (1, 2):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "devtools.localtenant",
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
    assert tenant.user(user["user_id"])["logins_count"] == 2


def test_an_organization_login_needs_membership(tenant: LocalTenant) -> None:
    connection = tenant.ensure_connection("db")
    organization = tenant.create_organization("closed", connection_ids=[connection["id"]])
    user = tenant.sign_up("b@example.com", "db")
    status, error = error_of(lambda: tenant.login(user["user_id"], "db", organization["id"]))
    assert status == 403
    assert "not a member" in error["message"]


def test_a_users_search_pages_through_1000_results_at_most(tenant: LocalTenant) -> None:
    tenant.call("GET", "/api/v2/users?page=19&per_page=50")
    status, error = error_of(lambda: tenant.call("GET", "/api/v2/users?page=20&per_page=50"))
    assert status == 400
    assert "first 1000 records" in error["message"]


def test_a_users_export_job_serves_every_user_of_a_connection(tenant: LocalTenant) -> None:
    for n in range(3):
        tenant.sign_up(f"u{n}@a.io")
    (database,) = tenant.call("GET", "/api/v2/connections?name=Username-Password-Authentication")
    job = tenant.call(
        "POST",
        "/api/v2/jobs/users-exports",
        {
            "connection_id": database["id"],
            "format": "json",
            "fields": [{"name": "user_id"}, {"name": "email"}],
        },
    )
    assert (job["type"], job["status"]) == ("users_export", "pending")
    done = tenant.call("GET", f"/api/v2/jobs/{job['id']}")
    assert done["status"] == "completed"
    context = ssl.create_default_context(cafile=tenant.ca_cert)
    with urllib.request.urlopen(done["location"], context=context) as response:  # noqa: S310
        lines = gzip.decompress(response.read()).decode().splitlines()
    assert sorted(json.loads(line)["email"] for line in lines) == ["u0@a.io", "u1@a.io", "u2@a.io"]


# --- Auth0's documented limits (issue 16) ----------------------------------------------------
# The tests below run the tenant in this process, so they can shorten its clocks; the
# harness's calls skip HTTP, and what is about HTTP goes over HTTPS (``fetch``, ``https_api``),
# or raw sockets where framing is the point.


@pytest.fixture
def in_process(tmp_path: Path) -> Iterator[LocalTenant]:
    with LocalTenant.start(tmp_path / "state.json", custom_domain="127.0.0.1") as running:
        yield running


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def fetch(
    tenant: LocalTenant,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    host: str | None = None,
    form: bool = False,
) -> Answer:
    """One request, with the response's headers (HttpsApi gives only the body)."""
    host = host or tenant.domain
    connection = http.client.HTTPSConnection(
        host, context=ssl.create_default_context(cafile=tenant.ca_cert), timeout=30
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


def token_request(tenant: LocalTenant, audience: str | None = None) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        **tenant.admin_credentials,
        "audience": audience or f"https://{tenant.domain}/api/v2/",
    }


def log_in(tenant: LocalTenant, email: str = "ada@example.com") -> dict[str, Any]:
    """Sign ``email`` up (once) and log them in through the database connection."""
    user = tenant.user_with_email(email) or tenant.sign_up(email)
    return tenant.login(user["user_id"])


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
    in_process: LocalTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logins, "FLOW_TIMEOUT_S", 1.0)
    slow = "await new Promise((resolve) => setTimeout(resolve, 600));"
    first = in_process.deploy_action("first", sets("first", "true", slow))
    second = in_process.deploy_action("second", sets("second", "true", slow))
    third = in_process.deploy_action("third", sets("third", "true"))
    in_process.bind_actions(first, second, third)
    login = log_in(in_process)
    # Each Action alone is within the limit; together they are not.
    assert login["failed"] == {
        "error": "access_denied",
        "error_description": "Extensibility error: the flow did not finish within 1 seconds",
        "kind": "timeout",
        "action_id": second,
    }
    assert [e["action_id"] for e in login["executions"]] == [first, second]
    # Auth0 saves the flow's app_metadata once, when it completes: a failed flow saves none,
    # not even what the Action that finished in time set.
    assert login["executions"][0]["app_metadata_set"] == {"first": True}
    assert login["app_metadata"] == {}


@pytest.mark.slow
def test_an_action_that_blocks_past_the_deadline_and_then_returns_failed(
    in_process: LocalTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A synchronous stretch holds back the timer: finishing late is still past the 20 s."""
    monkeypatch.setattr(logins, "FLOW_TIMEOUT_S", 1.0)
    busy = "const end = Date.now() + 1500; while (Date.now() < end) {}"
    in_process.bind_actions(in_process.deploy_action("busy", sets("busy", "true", busy)))
    login = log_in(in_process)
    assert login["failed"]["kind"] == "timeout"
    assert login["app_metadata"] == {}


def test_the_flows_app_metadata_shows_to_later_actions_and_is_saved_once_it_completes(
    in_process: LocalTenant,
) -> None:
    first = in_process.deploy_action("first", sets("first", "true"))
    second = in_process.deploy_action("second", sets("seen", "event.user.app_metadata.first"))
    in_process.bind_actions(first, second)
    assert log_in(in_process)["app_metadata"] == {"first": True, "seen": True}
    # A null set in the flow removes the key when the flow saves.
    in_process.bind_actions(in_process.deploy_action("forget", sets("first", "null")))
    assert log_in(in_process)["app_metadata"] == {"seen": True}


@pytest.mark.slow
def test_an_action_that_blocks_node_is_stopped_and_the_next_login_runs(
    in_process: LocalTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logins, "FLOW_TIMEOUT_S", 1.0)
    monkeypatch.setattr(logins, "KILL_GRACE_S", 0.5)
    blocking = in_process.deploy_action(
        "blocking",
        "let n = 0; exports.onExecutePostLogin = async (event, api) => {"
        " n += 1; if (event.stats.logins_count === 1) { while (true) {} }"
        " api.user.setAppMetadata('n', n); };",
    )
    in_process.bind_actions(blocking)
    started = time.monotonic()
    assert log_in(in_process)["failed"]["kind"] == "timeout"
    assert time.monotonic() - started < 5
    # The killed container is replaced: a new one, so the module state starts again.
    assert log_in(in_process)["app_metadata"] == {"n": 1}


# Row: an Action that throws. The login fails; later Actions do not run.


@pytest.mark.parametrize(
    "failure",
    [
        "throw new TypeError('no organization');",
        "return Promise.reject(new TypeError('no organization'));",
    ],
)
def test_an_action_that_throws_fails_the_login_and_stops_the_flow(
    in_process: LocalTenant, failure: str
) -> None:
    failing = in_process.deploy_action("failing", sets("before", "true", failure))
    after = in_process.deploy_action("after", sets("after", "true"))
    in_process.bind_actions(failing, after)
    login = log_in(in_process)
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


def test_the_login_command_exits_1_when_the_flow_fails(tenant: LocalTenant, tmp_path: Path) -> None:
    tenant.bind_actions(tenant.deploy_action("failing", sets("x", "1", "throw new Error('x');")))
    user = tenant.sign_up("a@b.c")
    line = tmp_path / "tenant.json"
    line.write_text(json.dumps(tenant.serve_line))
    result = subprocess.run(
        [
            *(sys.executable, "-m", "devtools.localtenant", "login", "--tenant", str(line)),
            *(user["user_id"], "--connection", "Username-Password-Authentication"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert json.loads(result.stdout)["failed"]["error"] == "access_denied"


# Row: api.cache. Scoped to the trigger, survives redeploys, Auth0's limits, may be evicted.


def test_the_cache_is_the_triggers_shared_by_its_actions(in_process: LocalTenant) -> None:
    writer = in_process.deploy_action(
        "writer", sets("wrote", "api.cache.set('shared', 'from-writer').type")
    )
    reader = in_process.deploy_action(
        "reader", sets("read", "(api.cache.get('shared') || {}).value || null")
    )
    in_process.bind_actions(writer, reader)
    assert log_in(in_process)["app_metadata"] == {"wrote": "success", "read": "from-writer"}


def test_the_cache_survives_a_redeploy(in_process: LocalTenant) -> None:
    action_id = in_process.deploy_action("token", sets("v1", "api.cache.set('token', 'old').type"))
    in_process.bind_actions(action_id)
    log_in(in_process)
    in_process.call(
        "PATCH",
        f"/api/v2/actions/actions/{action_id}",
        {"code": sets("v2", "(api.cache.get('token') || {}).value || null")},
    )
    in_process.deploy(action_id)
    # A new version, a new container: it still sees what the old one cached.
    assert log_in(in_process)["app_metadata"]["v2"] == "old"


def test_cache_entries_can_be_evicted(in_process: LocalTenant) -> None:
    action_id = in_process.deploy_action(
        "cached",
        sets("had", "(api.cache.get('k') || {}).value || 'none'", "api.cache.set('k', 'v');"),
    )
    in_process.bind_actions(action_id)
    log_in(in_process)
    entries = in_process.action_cache()
    assert list(entries) == ["k"]
    assert entries["k"]["value"] == "v"
    assert log_in(in_process)["app_metadata"]["had"] == "v"
    in_process.evict_cache("k")
    assert log_in(in_process)["app_metadata"]["had"] == "none"


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


def test_the_cache_has_auth0s_limits(in_process: LocalTenant) -> None:
    code = f"exports.onExecutePostLogin = async (event, api) => {{ {CACHE_LIMITS} }};"
    in_process.bind_actions(in_process.deploy_action("limits", code))
    assert log_in(in_process)["app_metadata"]["limits"] == {
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
    assert len(in_process.action_cache()) == 20


def test_concurrent_writes_past_the_limits_evict_the_soonest_to_expire(tmp_path: Path) -> None:
    # Two executions' changes applied one after the other, as logins.execute applies them.
    tenant = Tenant(tmp_path / "state.json", "localhost:1")
    logins.apply_cache_changes(
        tenant, {f"k{n}": {"value": "v", "expires_at": 10**13 + n} for n in range(20)}
    )
    logins.apply_cache_changes(tenant, {"late": {"value": "v", "expires_at": 10**14}})
    entries = logins.cache_snapshot(tenant)
    tenant.close()
    assert len(entries) == 20
    assert "late" in entries
    assert "k0" not in entries


# Row: rate limits. https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy


def test_every_management_api_response_says_where_its_rate_limit_stands(
    in_process: LocalTenant,
) -> None:
    token = in_process.https_api().token()
    answers = [
        fetch(in_process, "GET", "/api/v2/organizations", token=token),
        fetch(in_process, "GET", "/api/v2/organizations/org_missing", token=token),
        fetch(in_process, "GET", "/api/v2/organizations"),  # no token: 401
        fetch(in_process, "GET", "/api/v2/no-such-endpoint", token=token),
    ]
    assert [a.status for a in answers] == [200, 404, 401, 404]
    for answer in answers:
        assert answer.headers["x-ratelimit-limit"] == "50"  # Enterprise, production tenant
        assert 0 <= int(answer.headers["x-ratelimit-remaining"]) < 50
        assert abs(int(answer.headers["x-ratelimit-reset"]) - time.time()) <= 2
        assert "retry-after" not in answer.headers


def test_past_the_global_limit_auth0s_429_carries_the_bucket(in_process: LocalTenant) -> None:
    token = in_process.https_api().token()
    in_process.rate_limit_tier("free")  # 2 requests, 2 a second
    answers = [fetch(in_process, "GET", "/api/v2/organizations", token=token) for _ in range(3)]
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
    assert fetch(in_process, "GET", "/api/v2/organizations", token=token).status == 200


def test_an_endpoint_bucket_limits_its_endpoint_only(in_process: LocalTenant) -> None:
    organization = in_process.create_organization("members")
    path = f"/api/v2/organizations/{organization['id']}/members"
    users = [in_process.sign_up(f"u{n}@a.io")["user_id"] for n in range(1)]
    token = in_process.https_api().token()
    # Write Organization Members: 20, refilled 200 a minute.
    statuses = [
        fetch(in_process, "POST", path, {"members": users}, token=token).status for _ in range(21)
    ]
    assert statuses == [204] * 20 + [429]
    limited = fetch(in_process, "DELETE", path, {"members": users}, token=token)
    assert limited.status == 429
    assert limited.headers["x-ratelimit-limit"] == "20"
    assert limited.body["message"].startswith("Too many requests. Check the X-RateLimit-Limit")
    assert (
        fetch(in_process, "GET", f"/api/v2/organizations/{organization['id']}", token=token).status
        == 200
    )


def test_the_token_endpoint_is_rate_limited_too(tmp_path: Path) -> None:
    # A slow Authentication API bucket, so the test outruns its refill.
    slow = ratelimits.Tier("slow", management=None, authentication=ratelimits.Limit(2, 1, "minute"))
    with LocalTenant.start(tmp_path / "state.json", rate_limits=slow) as tenant:
        answers = [
            fetch(tenant, "POST", "/oauth/token", token_request(tenant), form=True)
            for _ in range(3)
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
    admitted = [limiter.admit("authentication", RouteName.OAUTH_TOKEN, {}) for _ in range(31)]
    assert [a.allowed for a in admitted] == [True] * 30 + [False]
    assert admitted[-1].bucket == "Get Token"
    clock[0] += 0.1  # refilled by the millisecond: 3 more
    assert [
        limiter.admit("authentication", RouteName.OAUTH_TOKEN, {}).allowed for _ in range(4)
    ] == [
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
    assert not refused.allowed
    assert refused.bucket == "management"
    # 150 a minute is 2.5 a second, added each whole second: nothing after 0.9 s.
    clock[0] += 0.9
    assert refused.headers["x-ratelimit-reset"] == str(1_000_001)
    assert not limiter.admit("management", None, {}).allowed
    clock[0] += 0.1
    assert [limiter.admit("management", None, {}).allowed for _ in range(3)] == [True, True, False]


def test_the_rate_knob_replaces_the_management_buckets(in_process: LocalTenant) -> None:
    token = in_process.https_api().token()
    assert in_process.management_rate_limit(2)["management_per_second"] == 2
    statuses = [
        fetch(in_process, "GET", "/api/v2/organizations", token=token).status for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    in_process.management_rate_limit(None)
    answer = fetch(in_process, "GET", "/api/v2/organizations", token=token)
    assert answer.status == 200
    assert "x-ratelimit-limit" not in answer.headers


# Row: members per request; Actions per trigger and per tenant.


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_at_most_ten_members_per_request(in_process: LocalTenant, method: str) -> None:
    organization = in_process.create_organization("ten")
    users = [in_process.ensure_user(f"auth0|{n:024x}")["user_id"] for n in range(11)]
    path = f"/api/v2/organizations/{organization['id']}/members"
    in_process.call(method, path, {"members": users[:10]})
    status, error = error_of(lambda: in_process.call(method, path, {"members": users}))
    assert status == 400
    assert error["errorCode"] == "invalid_body"
    assert "maximum 10" in error["message"]


@pytest.mark.slow
def test_at_most_twenty_actions_per_trigger(in_process: LocalTenant) -> None:
    ids = [in_process.deploy_action(f"a{n}", sets("n", str(n))) for n in range(21)]
    in_process.bind_actions(*ids[:20])
    status, error = error_of(lambda: in_process.bind_actions(*ids))
    assert status == 400
    assert "maximum 20" in error["message"]
    assert len(in_process.bound_action_ids()) == 20


@pytest.mark.slow
def test_at_most_a_hundred_actions_per_tenant(in_process: LocalTenant) -> None:
    trigger = [{"id": "post-login", "version": "v3"}]
    for n in range(100):
        in_process.call(
            "POST", "/api/v2/actions/actions", {"name": f"a{n}", "supported_triggers": trigger}
        )
    status, error = error_of(
        lambda: in_process.call(
            "POST", "/api/v2/actions/actions", {"name": "a100", "supported_triggers": trigger}
        )
    )
    assert status == 400
    assert error["errorCode"] == "too_many_entities"


# Row: custom domains. https://auth0.com/docs/customize/custom-domains/configure-features-to-use-custom-domains


def test_a_token_from_the_custom_domain_is_for_the_canonical_audience(
    in_process: LocalTenant,
) -> None:
    custom = in_process.custom_domain
    assert custom is not None
    assert custom.startswith("127.0.0.1:")
    issued = fetch(
        in_process, "POST", "/oauth/token", token_request(in_process), host=custom, form=True
    )
    assert issued.status == 200
    token = issued.body["access_token"]
    # Used at the domain that issued it: served. At the canonical domain: not.
    assert fetch(in_process, "GET", "/api/v2/organizations", token=token, host=custom).status == 200
    assert fetch(in_process, "GET", "/api/v2/organizations", token=token).status == 401
    canonical = in_process.https_api().token()
    assert (
        fetch(in_process, "GET", "/api/v2/organizations", token=canonical, host=custom).status
        == 401
    )


def test_an_audience_naming_the_custom_domain_is_refused(in_process: LocalTenant) -> None:
    audience = f"https://{in_process.custom_domain}/api/v2/"
    for host in (in_process.domain, in_process.custom_domain):
        answer = fetch(
            in_process,
            "POST",
            "/oauth/token",
            token_request(in_process, audience),
            host=host,
            form=True,
        )
        assert answer.status == 403
        assert answer.body == {
            "error": "access_denied",
            "error_description": f"Service not enabled within domain: {audience}",
        }
    # Nor is there such an API to grant a client access to.
    client = in_process.call(
        "POST", "/api/v2/clients", {"name": "custom", "app_type": "non_interactive"}
    )
    status, error = error_of(
        lambda: in_process.call(
            "POST",
            "/api/v2/client-grants",
            {"client_id": client["client_id"], "audience": audience, "scope": []},
        )
    )
    assert (status, error["errorCode"]) == (404, "inexistent_resource_server")


def test_a_host_the_tenant_does_not_serve_is_not_found(in_process: LocalTenant) -> None:
    connection = http.client.HTTPSConnection(
        in_process.domain, context=ssl.create_default_context(cafile=in_process.ca_cert)
    )
    connection.request("GET", "/api/v2/organizations", headers={"host": "other.example.com"})
    assert connection.getresponse().status == 404
    connection.close()


# Row: a connection held open without a request; bad framing.


def raw_tls(tenant: LocalTenant) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=tenant.ca_cert)
    plain = socket.create_connection(("127.0.0.1", int(tenant.domain.split(":")[1])), timeout=10)
    return context.wrap_socket(plain, server_hostname="localhost")


def test_a_silent_connection_stops_no_one(in_process: LocalTenant) -> None:
    port = int(in_process.domain.split(":")[1])
    silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]  # no handshake
    idle = raw_tls(in_process)  # handshake, then no request
    try:
        started = time.monotonic()
        assert in_process.https_api().call("GET", "/api/v2/organizations") == []
        assert time.monotonic() - started < 3
    finally:
        for sock in [*silent, idle]:
            sock.close()


def test_a_connection_that_never_starts_its_handshake_is_closed(
    in_process: LocalTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "HANDSHAKE_TIMEOUT_S", 0.5)
    port = int(in_process.domain.split(":")[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as silent:
        started = time.monotonic()
        assert silent.recv(1024) == b""  # closed by the tenant, its thread free again
        assert time.monotonic() - started < 3


def test_an_idle_connection_is_closed(tmp_path: Path) -> None:
    with LocalTenant.start(tmp_path / "state.json", idle_timeout_s=0.5) as tenant:
        idle = raw_tls(tenant)
        idle.sendall(b"GET /api/v2/organizations HTTP/1.1\r\nhost: ")  # and stops
        started = time.monotonic()
        assert idle.recv(1024) == b""  # closed by the tenant
        assert time.monotonic() - started < 5
        idle.close()


def send_raw(tenant: LocalTenant, head: str, body: bytes = b"") -> Answer:
    """Send a hand-written request; the answer."""
    with raw_tls(tenant) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, headers, json.loads(response.read()))


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
    in_process: LocalTenant, length: str, status: int, message: str
) -> None:
    head = (
        f"POST /api/v2/organizations HTTP/1.1\nhost: {in_process.domain}\n"
        f"content-type: application/json\ncontent-length: {length}\n"
    )
    answer = send_raw(in_process, head, b"{}")
    assert (answer.status, answer.body["message"]) == (status, message)
    # The HTTP server in front of the API refused it: no rate limit saw it.
    assert "x-ratelimit-remaining" not in answer.headers
    assert in_process.https_api().call("GET", "/api/v2/organizations") == []  # still serving


def test_a_huge_chunked_body_is_answered_413(in_process: LocalTenant) -> None:
    head = (
        f"POST /api/v2/organizations HTTP/1.1\nhost: {in_process.domain}\n"
        "content-type: application/json\ntransfer-encoding: chunked\n"
    )
    chunk = b"x" * 65536
    body = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 17
    assert send_raw(in_process, head, body).status == 413


def test_deep_json_is_a_bad_request(in_process: LocalTenant) -> None:
    token = in_process.https_api().token()
    for depth in (100, 100_000):
        payload = "[" * depth + "]" * depth
        head = (
            f"POST /api/v2/organizations HTTP/1.1\nhost: {in_process.domain}\n"
            f"authorization: Bearer {token}\ncontent-type: application/json\n"
            f"content-length: {len(payload)}\n"
        )
        answer = send_raw(in_process, head, payload.encode())
        assert (answer.status, answer.body["message"]) == (
            400,
            "Invalid request payload JSON format",
        )
        # The API read it, so its rate limit counted it.
        assert int(answer.headers["x-ratelimit-remaining"]) < int(
            answer.headers["x-ratelimit-limit"]
        )


# Row: Node 22, the runtime Auth0 runs Actions on.


def test_a_node22_action_runs_on_node_22(in_process: LocalTenant) -> None:
    version = in_process.deploy_action("version", sets("node", "process.version"), runtime="node22")
    in_process.bind_actions(version)
    assert log_in(in_process)["app_metadata"]["node"].startswith("v22.")


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
