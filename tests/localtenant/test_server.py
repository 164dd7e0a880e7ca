"""Serving: the serve command, a restart, hosts, and what a client sends that no handler reads."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devtools import ROOT
from devtools.localtenant import server
from devtools.localtenant.testing import HttpsApi, LocalTenant
from tests.localtenant.calls import error_of, raw_tls, send_raw


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


def test_a_host_the_tenant_does_not_serve_is_not_found(in_process: LocalTenant) -> None:
    connection = http.client.HTTPSConnection(
        in_process.domain, context=ssl.create_default_context(cafile=in_process.ca_cert)
    )
    connection.request("GET", "/api/v2/organizations", headers={"host": "other.example.com"})
    assert connection.getresponse().status == 404
    connection.close()


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


def test_what_is_not_emulated_answers_501_naming_it(tenant: LocalTenant) -> None:
    """Never a 404 that a client would take for Auth0's "no such thing" (issue 26)."""
    api = tenant.https_api()
    for method, path in (("GET", "/api/v2/rules"), ("POST", "/api/v2/organizations/x/invitations")):
        status, error = error_of(
            lambda m=method, p=path: api.call(m, p, {} if m == "POST" else None)
        )
        assert status == 501
        assert error == {
            "statusCode": 501,
            "error": "Not Implemented",
            "message": f"{method} {path} is not emulated by the local tenant "
            "(devtools/localtenant/COVERAGE.md lists what it serves)",
            "errorCode": "not_emulated",
        }
    assert tenant.not_emulated() == {
        "GET /api/v2/rules": 1,
        "POST /api/v2/organizations/x/invitations": 1,
    }
