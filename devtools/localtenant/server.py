"""HTTPS on loopback around a Tenant. Knows HTTP, TLS and fault injection; no Auth0 rule.

Each connection is served in its own thread, TLS handshake included, with a timeout: a client
that connects and sends nothing (or stops half-way through a request) holds only its own
thread, until ``idle_timeout_s`` closes it. A request's framing is checked before anything
reads it: a ``Content-Length`` that is not one number, a body past ``MAX_BODY_BYTES`` or JSON
nested past ``MAX_JSON_DEPTH`` are answered 400 or 413; nothing a client sends ends in an
unanswered exception.
"""

from __future__ import annotations

import json
import socket
import ssl
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import trustme

from devtools.localtenant.tenant import Fault, Tenant

HANDSHAKE_TIMEOUT_S = 10.0
IDLE_TIMEOUT_S = 60.0
"""How long a kept-alive connection may sit without a request (or a request without its next
byte) before the tenant closes it."""
MAX_BODY_BYTES = 1024 * 1024
"""Auth0's Management API answers in hapi's error shape (statusCode, error, message), and
hapi's default payload limit is 1 MiB, answered 413 (https://hapi.dev/api/#-routeoptionspayloadmaxbytes)."""
MAX_JSON_DEPTH = 64
"""Deeper JSON than any Auth0 payload schema allows is refused as invalid, before a handler
(or the state file) recurses through it."""


class TenantServer:
    """Serves ``tenant`` on ``https://localhost:<port>`` until ``close()``.

    ``custom_domain``, a host name such as ``127.0.0.1``, is a second name the tenant answers
    on (``tenant.custom_domain``, with the port), as a verified Auth0 custom domain is: see
    ``localtenant.authentication`` for what Auth0 allows there.
    """

    def __init__(
        self,
        state_path: Path,
        port: int = 0,
        custom_domain: str | None = None,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
    ) -> None:
        authority = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        names = dict.fromkeys(
            ["localhost", "127.0.0.1", *([custom_domain] if custom_domain else [])]
        )
        authority.issue_cert(*names).configure_cert(context)
        self._server = _Server(("127.0.0.1", port), context, idle_timeout_s)
        port = self._server.server_address[1]
        self.tenant = Tenant(
            state_path,
            f"localhost:{port}",
            custom_domain=f"{custom_domain}:{port}" if custom_domain else None,
        )
        self._server.tenant = self.tenant
        authority.cert_pem.write_to_path(str(self.tenant.ca_file))
        # A short poll, so close() (which waits for the loop to notice) takes no half second.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def ca_path(self) -> Path:
        """The PEM of the authority that signed this server's certificate."""
        return self.tenant.ca_file

    @property
    def domain(self) -> str:
        return self.tenant.domain

    @property
    def custom_domain(self) -> str | None:
        return self.tenant.custom_domain

    @property
    def serve_line(self) -> dict[str, Any]:
        """What ``python -m devtools.localtenant serve`` prints once it accepts requests: the
        domain, the certificate to trust, the admin client's credentials (and the custom
        domain)."""
        line: dict[str, Any] = {
            "domain": self.domain,
            "ca_cert": str(self.ca_path),
            "admin": self.tenant.admin_credentials,
        }
        if self.custom_domain:
            line["custom_domain"] = self.custom_domain
        return line

    def close(self) -> None:
        self.tenant.release.set()
        self._server.shutdown()
        self._server.server_close()
        self.tenant.close()


class _Server(ThreadingHTTPServer):
    """Accepts plain TCP connections; each one's thread does its own TLS handshake."""

    daemon_threads = True
    tenant: Tenant

    def __init__(
        self, address: tuple[str, int], context: ssl.SSLContext, idle_timeout_s: float
    ) -> None:
        super().__init__(address, _Handler)
        self.context = context
        self.idle_timeout_s = idle_timeout_s

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(HANDSHAKE_TIMEOUT_S)
        try:
            connection = self.context.wrap_socket(request, server_side=True)
        except OSError:  # a failed or abandoned handshake (ssl.SSLError, TimeoutError)
            request.close()
            return
        try:
            connection.settimeout(self.idle_timeout_s)
            super().finish_request(connection, client_address)
        finally:
            connection.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A connection the client broke off; anything else is reported by _Handler itself.
        pass


class _BadRequest(Exception):
    """A request answered without a handler; ``framing``: its body could not be delimited, so
    the connection cannot carry another request."""

    PHRASES: ClassVar[dict[int, str]] = {400: "Bad Request", 413: "Request Entity Too Large"}

    def __init__(self, status: int, message: str, framing: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.framing = framing

    def answer(self) -> tuple[int, dict[str, Any]]:
        phrase = self.PHRASES[self.status]
        return self.status, {"statusCode": self.status, "error": phrase, "message": self.message}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    @property
    def tenant(self) -> Tenant:
        return self.server.tenant

    def setup(self) -> None:
        super().setup()
        # Without it, Nagle's algorithm and delayed ACKs add ~40 ms to every response.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        try:
            self._answer()
        except (TimeoutError, ConnectionError, ssl.SSLError):
            self.close_connection = True  # the client stalled or left mid-request
        except Exception:  # a bug in the tenant: answer, and say where
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            self._send(
                500,
                {
                    "statusCode": 500,
                    "error": "Internal Server Error",
                    "message": "An internal server error occurred",
                },
            )

    def _answer(self) -> None:
        url = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            body = _parse_body(self._read_body(), headers.get("content-type", ""))
            malformed = None
        except _BadRequest as error:
            if error.framing:
                # Refused by the HTTP server in front of the API: no rate limit counts it.
                self.close_connection = True
                self._send(*error.answer())
                return
            body, malformed = None, error
        if url.path.startswith("/localtenant/"):
            self._answer_control(url.path, headers, body, malformed)
            return
        query = dict(parse_qsl(url.query))
        found = self.tenant.match(self.command, url.path)
        route = found[0] if found else None
        admission = self.tenant.admit(self.command, url.path, route, query)
        if found is None or route is None:
            if url.path.startswith("/api/v2/"):
                status, answer = self.tenant.answer_not_emulated(self.command, url.path)
                self._send(status, answer, admission.headers)
                return
            self._send(
                404,
                {"statusCode": 404, "error": "Not Found", "message": "Not Found"},
                admission.headers,
            )
            return
        params = found[1]
        self.tenant.calls[route.name] += 1
        if not admission.allowed:
            self._send(*self.tenant.too_many_requests(route, admission))
            return
        if malformed is not None:  # the API read the request: its rate limit counted it
            self._send(*malformed.answer(), admission.headers)
            return
        if self.tenant.rtt_ms:
            time.sleep(self.tenant.rtt_ms / 1000)
        fault = self.tenant.take_fault(route.name)
        if fault is not None and self._inject(fault, admission.headers):
            return
        status, answer = self.tenant.handle(route, params, query, headers, body)
        self._send(status, answer, admission.headers)

    def _answer_control(
        self, path: str, headers: dict[str, str], body: Any, malformed: _BadRequest | None
    ) -> None:
        """The tenant's own endpoints: exports, and the control API tests and tools use."""
        if malformed is not None:
            self._send(*malformed.answer())
        elif path.startswith("/localtenant/exports/"):
            from devtools.localtenant.jobs import export_file

            content = export_file(self.tenant, path.rsplit("/", 1)[1].removesuffix(".json.gz"))
            if content is None:
                self._send(404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"})
            else:
                self._send_raw(200, content, "application/gzip", {})
        else:
            from devtools.localtenant.control import handle_control

            self._send(*handle_control(self.tenant, self.command, path, headers, body))

    def _read_body(self) -> bytes:
        """The request's body, framed by Content-Length or chunked, at most MAX_BODY_BYTES."""
        lengths = self.headers.get_all("content-length") or []
        encoding = (self.headers.get("transfer-encoding") or "").strip().lower()
        if encoding:
            if encoding != "chunked" or lengths:
                raise _BadRequest(400, "Invalid request framing")
            return self._read_chunked()
        if not lengths:
            return b""
        values = {value.strip() for value in ",".join(lengths).split(",")}
        if len(values) != 1 or not next(iter(values)).isdigit():
            raise _BadRequest(400, "Invalid Content-Length")
        length = int(values.pop())
        if length > MAX_BODY_BYTES:
            raise _BadRequest(413, _too_large())
        raw = self.rfile.read(length)
        if len(raw) < length:
            raise ConnectionError("the client closed the connection mid-body")
        return raw

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                raise _BadRequest(400, "Invalid chunked encoding")
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _BadRequest(400, "Invalid chunked encoding") from None
            if size < 0 or len(body) + size > MAX_BODY_BYTES:
                raise _BadRequest(413, _too_large())
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(body)
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise ConnectionError("the client closed the connection mid-body")
            body += chunk
            self.rfile.readline(3)  # the chunk's CRLF

    def _inject(self, fault: Fault, headers: dict[str, str]) -> bool:
        """Apply a fault; True when it replaced the answer."""
        if fault.latency_ms:
            time.sleep(fault.latency_ms / 1000)
        if fault.hang_s is not None:
            self.tenant.release.wait(fault.hang_s)
            self._send(
                504,
                {"statusCode": 504, "error": "Gateway Timeout", "message": "Request timed out"},
                headers,
            )
            return True
        if fault.raw_body is not None:
            self._send_raw(fault.status or 200, fault.raw_body.encode(), fault.content_type, {})
            return True
        if fault.status is not None:
            extra = dict(headers)
            if fault.status == 429:
                # An injected 429 reports an empty bucket that refills when it says.
                extra.update(
                    {
                        "x-ratelimit-remaining": "0",
                        "x-ratelimit-reset": str(int(time.time()) + _seconds(fault.retry_after)),
                    }
                )
            if fault.retry_after is not None:
                extra["retry-after"] = fault.retry_after
            # An error body that a careful client never logs.
            body = {"statusCode": fault.status, "error": "injected", "message": "injected fault"}
            self._send(fault.status, body, extra)
            return True
        return False

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self._send_raw(status, payload, "application/json; charset=utf-8", headers or {})

    def _send_raw(
        self, status: int, payload: bytes, content_type: str, headers: dict[str, str]
    ) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if payload:
                self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(payload)))
            if self.close_connection:
                self.send_header("connection", "close")
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True  # the client gave up on this request, as a hang test wants


def _too_large() -> str:
    return f"Payload content length greater than maximum allowed: {MAX_BODY_BYTES}"


def _seconds(retry_after: str | None) -> int:
    return int(retry_after) if retry_after and retry_after.isdigit() else 1


def _parse_body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    invalid = _BadRequest(400, "Invalid request payload JSON format", framing=False)
    try:
        if "application/x-www-form-urlencoded" in content_type:
            return dict(parse_qsl(raw.decode()))
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise invalid from None
    if _depth(body) > MAX_JSON_DEPTH:
        raise invalid
    return body


def _depth(value: Any) -> int:
    """How deeply ``value`` nests arrays and objects, counted without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            pending.extend((child, level + 1) for child in item)
    return deepest
