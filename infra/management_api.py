"""Just enough of Auth0's Management API for the stack's own commands (backfill, adopt).

One kept-alive HTTPS connection, a client-credentials token, a pace of at most ``rate``
requests a second, and waits as long as a 429's ``Retry-After`` says. Errors name the method,
the path without its query, the status and Auth0's message, never the request.
"""

from __future__ import annotations

import argparse
import email.utils
import http.client
import json
import os
import ssl
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pulumi

from infra.config import StackConfig, load_stack_file


class UsageError(Exception):
    """The command was called wrongly: a missing stack file or credential, an unknown id."""


class ApiError(RuntimeError):
    """An error status from the Management API."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ManagementApi:
    """Just enough of Auth0's Management API: one kept-alive HTTPS connection, a token, a pace."""

    def __init__(self, domain: str, client_id: str, client_secret: str, rate: float) -> None:
        self.domain = domain
        self.interval = 1 / rate
        self._next_at = 0.0
        self._connection = http.client.HTTPSConnection(
            domain, timeout=60, context=ssl.create_default_context()
        )
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

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return self._send(method, f"/api/v2{path}", body, self._token)

    def _send(self, method: str, path: str, body: Any, token: str | None) -> Any:
        for _attempt in range(8):
            time.sleep(max(0.0, self._next_at - time.monotonic()))
            self._next_at = time.monotonic() + self.interval
            headers = {"content-type": "application/json"}
            if token:
                headers["authorization"] = f"Bearer {token}"
            payload = None if body is None else json.dumps(body)
            self._connection.request(method, path, payload, headers)
            response = self._connection.getresponse()
            raw = response.read()
            if response.status == 429 or response.status >= 500:
                time.sleep(retry_after(response.getheader("retry-after")))
                continue
            if response.status >= 400:
                # The status and Auth0's message; never the request, which may hold a secret.
                message = json.loads(raw or b"{}").get("message", "")
                raise ApiError(
                    response.status, f"{method} {path.split('?')[0]}: {response.status} {message}"
                )
            return json.loads(raw) if raw else None
        raise RuntimeError(f"{method} {path.split('?')[0]}: still refused after 8 tries")


def retry_after(value: str | None) -> float:
    """Seconds to wait: Retry-After in seconds or as an HTTP date; 1 s when absent."""
    if value is None:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time())


def quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def stack_command(prog: str, doc: str, stack_help: str, root: Path) -> argparse.ArgumentParser:
    """The arguments every command on a stack's tenant takes: the stack, a pace, the project."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
    parser.add_argument("stack", help=stack_help)
    parser.add_argument("--rate", type=float, default=2.0, help="requests a second (default 2)")
    parser.add_argument(
        "--project-dir", type=Path, default=root, help="where Pulumi.STACK.yaml is (default: here)"
    )
    return parser


def connect(
    arguments: argparse.Namespace, role: str, whose: str
) -> tuple[StackConfig, ManagementApi]:
    """The stack's configuration, and the API with the credentials in ``AUTH0_<ROLE>_CLIENT_ID``
    and ``AUTH0_<ROLE>_CLIENT_SECRET``; ``whose`` says in an error what they are."""
    try:
        config = load_stack_file(arguments.stack, arguments.project_dir)
    except pulumi.RunError as error:
        raise UsageError(str(error)) from None
    names = (f"AUTH0_{role}_CLIENT_ID", f"AUTH0_{role}_CLIENT_SECRET")
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        raise UsageError(f"set {' and '.join(missing)}: {whose}")
    api = ManagementApi(
        config.tenant_domain, os.environ[names[0]], os.environ[names[1]], arguments.rate
    )
    return config, api
