"""A fake Auth0 tenant on loopback: the token endpoint and the two Management API endpoints.

It speaks HTTPS with a certificate made for the test (trusted by Node through
NODE_EXTRA_CA_CERTS), issues tokens only to the stack's M2M client, enforces exactly the scopes
the stack grants, counts every call and injects faults per endpoint.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import trustme

TOKEN = "token"
MEMBERS = "members"
ENABLED_CONNECTION = "enabled_connection"

ENDPOINT_SCOPE = {
    MEMBERS: "create:organization_members",
    ENABLED_CONNECTION: "read:organization_connections",
}
_MEMBERS_PATH = re.compile(r"^/api/v2/organizations/(?P<org>[^/]+)/members$")
_ENABLED_CONNECTION_PATH = re.compile(
    r"^/api/v2/organizations/(?P<org>[^/]+)/enabled_connections/(?P<connection>[^/?]+)$"
)


@dataclass
class Fault:
    """What an endpoint does instead of answering: a status, or hanging for ``hang_s``."""

    status: int | None = None
    retry_after_s: int | None = None
    hang_s: float | None = None
    times: int | None = None
    """How many requests it affects; None for every one until cleared."""


@dataclass
class TenantState:
    """Everything the fake tenant knows; tests read and change it directly."""

    client_id: str
    client_secret: str
    organization_id: str
    granted_scopes: set[str]
    enabled_connection_ids: set[str]
    token_lifetime_s: int = 86400
    rtt_ms: float = 0.0
    members: set[str] = field(default_factory=set)
    calls: Counter[str] = field(default_factory=Counter)
    tokens: dict[str, tuple[set[str], float]] = field(default_factory=dict)
    faults: dict[str, Fault] = field(default_factory=dict)
    denied_scope: Counter[str] = field(default_factory=Counter)
    issued_tokens: list[str] = field(default_factory=list)

    @property
    def tokens_issued(self) -> int:
        return self.calls[TOKEN]

    @property
    def management_calls(self) -> int:
        return self.calls[MEMBERS] + self.calls[ENABLED_CONNECTION]

    def revoke_tokens(self) -> None:
        """Make every issued token invalid, as a rotated signing key or expiry would."""
        self.tokens.clear()


class FakeTenant:
    """Serves one TenantState on https://localhost:<port> until closed."""

    def __init__(self, state: TenantState, workdir: Path) -> None:
        self.state = state
        self._release = threading.Event()
        authority = trustme.CA()
        self.ca_file = workdir / "fake-tenant-ca.pem"
        authority.cert_pem.write_to_path(str(self.ca_file))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert("localhost", "127.0.0.1").configure_cert(context)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def domain(self) -> str:
        """What the Action gets as TENANT_DOMAIN."""
        return f"localhost:{self._server.server_address[1]}"

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def _fault_for(self, endpoint: str) -> Fault | None:
        fault = self.state.faults.get(endpoint)
        if fault and fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                del self.state.faults[endpoint]
        return fault


def _handler_for(tenant: FakeTenant) -> type[BaseHTTPRequestHandler]:
    state = tenant.state

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes; without this, Nagle's algorithm and
            # delayed ACKs add ~40 ms to every response and drown the simulated round trip.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.path == "/oauth/token":
                self._answer(TOKEN, lambda: self._token(body))
                return
            match = _MEMBERS_PATH.match(self.path)
            if match:
                self._answer(MEMBERS, lambda: self._add_members(match["org"], body))
                return
            self._send(404, {"error": "not_found"})

        def do_GET(self) -> None:
            match = _ENABLED_CONNECTION_PATH.match(self.path)
            if match:
                self._answer(
                    ENABLED_CONNECTION,
                    lambda: self._enabled_connection(match["org"], match["connection"]),
                )
                return
            self._send(404, {"error": "not_found"})

        def _answer(self, endpoint: str, respond: Any) -> None:
            state.calls[endpoint] += 1
            if state.rtt_ms:
                time.sleep(state.rtt_ms / 1000)
            fault = tenant._fault_for(endpoint)
            if fault and fault.hang_s is not None:
                tenant._release.wait(fault.hang_s)
                self._send(504, {"error": "gateway_timeout"})
            elif fault and fault.status is not None:
                headers = {}
                if fault.retry_after_s is not None:
                    headers["retry-after"] = str(fault.retry_after_s)
                # An error body the Action must never log.
                body = {"error": "injected", "secret_echo": state.client_secret}
                self._send(fault.status, body, headers)
            else:
                status, body = respond()
                self._send(status, body)

        def _token(self, raw: bytes) -> tuple[int, Any]:
            form = _form(raw, self.headers.get("content-type", ""))
            if (
                form.get("grant_type") != "client_credentials"
                or form.get("client_id") != state.client_id
                or form.get("client_secret") != state.client_secret
            ):
                return 401, {"error": "access_denied"}
            if form.get("audience") != f"https://{tenant.domain}/api/v2/":
                return 403, {"error": "access_denied", "error_description": "bad audience"}
            token = "fake." + secrets.token_urlsafe(24)
            state.tokens[token] = (set(state.granted_scopes), time.time() + state.token_lifetime_s)
            state.issued_tokens.append(token)
            return 200, {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": state.token_lifetime_s,
                "scope": " ".join(sorted(state.granted_scopes)),
            }

        def _authorize(self, endpoint: str) -> tuple[int, Any] | None:
            header = self.headers.get("authorization", "")
            token = header.removeprefix("Bearer ")
            scopes, expires_at = state.tokens.get(token, (set(), 0.0))
            if not header.startswith("Bearer ") or expires_at < time.time():
                return 401, {"statusCode": 401, "error": "Unauthorized"}
            if ENDPOINT_SCOPE[endpoint] not in scopes:
                state.denied_scope[ENDPOINT_SCOPE[endpoint]] += 1
                return 403, {"statusCode": 403, "errorCode": "insufficient_scope"}
            return None

        def _add_members(self, organization_id: str, raw: bytes) -> tuple[int, Any]:
            denied = self._authorize(MEMBERS)
            if denied:
                return denied
            if organization_id != state.organization_id:
                return 404, {"statusCode": 404, "error": "Not Found"}
            state.members.update(json.loads(raw)["members"])
            return 204, None

        def _enabled_connection(self, organization_id: str, connection_id: str) -> tuple[int, Any]:
            denied = self._authorize(ENABLED_CONNECTION)
            if denied:
                return denied
            if (
                organization_id != state.organization_id
                or connection_id not in state.enabled_connection_ids
            ):
                return 404, {"statusCode": 404, "error": "Not Found"}
            return 200, {"connection_id": connection_id, "assign_membership_on_login": False}

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            payload = b"" if body is None else json.dumps(body).encode()
            try:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                if payload:
                    self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass  # the Action gave up on this request: that is what a hang test wants

    return Handler


def _form(raw: bytes, content_type: str) -> dict[str, str]:
    if "json" in content_type:
        return {k: str(v) for k, v in json.loads(raw or b"{}").items()}
    return {k: v[0] for k, v in parse_qs(raw.decode()).items()}
