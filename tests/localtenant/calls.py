"""Calls to a local tenant beyond the harness's: one request with its response's headers, raw TLS
and raw bytes where framing is the point, a token request, a login, an Action's source."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest

from devtools.localtenant.testing import LocalTenant, TenantError


def error_of(call: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(TenantError) as raised:
        call()
    return raised.value.status, raised.value.body


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


# Row: a connection held open without a request; bad framing.


def raw_tls(tenant: LocalTenant) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=tenant.ca_cert)
    plain = socket.create_connection(("127.0.0.1", int(tenant.domain.split(":")[1])), timeout=10)
    return context.wrap_socket(plain, server_hostname="localhost")


def send_raw(tenant: LocalTenant, head: str, body: bytes = b"") -> Answer:
    """Send a hand-written request; the answer."""
    with raw_tls(tenant) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, headers, json.loads(response.read()))
