"""HTTPS on loopback around a Tenant. Knows HTTP, TLS and fault injection; no Auth0 rule."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import trustme

from localtenant.tenant import Fault, Tenant


class TenantServer:
    """Serves ``tenant`` on ``https://localhost:<port>`` until ``close()``."""

    def __init__(self, state_path: Path, port: int = 0) -> None:
        authority = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert("localhost", "127.0.0.1").configure_cert(context)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.tenant = Tenant(state_path, f"localhost:{self._server.server_address[1]}")
        self._server.tenant = self.tenant  # type: ignore[attr-defined]
        authority.cert_pem.write_to_path(str(self.tenant.ca_file))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def ca_path(self) -> Path:
        """The PEM of the authority that signed this server's certificate."""
        return self.tenant.ca_file

    @property
    def domain(self) -> str:
        return self.tenant.domain

    def close(self) -> None:
        self.tenant.release.set()
        self._server.shutdown()
        self._server.server_close()
        self.tenant.close()


class _Handler(BaseHTTPRequestHandler):
    @property
    def tenant(self) -> Tenant:
        tenant: Tenant = self.server.tenant  # type: ignore[attr-defined]
        return tenant

    protocol_version = "HTTP/1.1"

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
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        if url.path.startswith("/localtenant/exports/"):
            from localtenant.jobs import export_file

            content = export_file(self.tenant, url.path.rsplit("/", 1)[1].removesuffix(".json.gz"))
            if content is None:
                self._send(404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"})
            else:
                self._send_raw(200, content, "application/gzip", {})
            return
        if url.path.startswith("/localtenant/"):
            from localtenant.control import handle_control

            self._send(*handle_control(self.tenant, self.command, url.path, headers, raw))
            return
        found = self.tenant.match(self.command, url.path)
        if found is None:
            self._send(404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"})
            return
        route, params = found
        try:
            body = _parse_body(raw, headers.get("content-type", ""))
        except ValueError:
            self._send(
                400,
                {
                    "statusCode": 400,
                    "error": "Bad Request",
                    "message": "Invalid request payload JSON format",
                },
            )
            return
        self.tenant.calls[route.name] += 1
        wait = self.tenant.take_request_slot() if route.management else None
        if wait is not None:
            headers = {
                "retry-after": str(max(1, round(wait + 0.5))),
                "x-ratelimit-limit": str(self.tenant.rate_limit_per_second),
                "x-ratelimit-remaining": "0",
            }
            body = {
                "statusCode": 429,
                "error": "Too Many Requests",
                "message": "Global limit has been reached",
                "errorCode": "too_many_requests",
            }
            self._send(429, body, headers)
            return
        if self.tenant.rtt_ms:
            time.sleep(self.tenant.rtt_ms / 1000)
        fault = self.tenant.take_fault(route.name)
        if fault is not None and self._inject(fault):
            return
        query = dict(parse_qsl(url.query))
        status, answer = self.tenant.handle(route, params, query, headers, body)
        self._send(status, answer)

    def _inject(self, fault: Fault) -> bool:
        """Apply a fault; True when it replaced the answer."""
        if fault.latency_ms:
            time.sleep(fault.latency_ms / 1000)
        if fault.hang_s is not None:
            self.tenant.release.wait(fault.hang_s)
            self._send(
                504, {"statusCode": 504, "error": "Gateway Timeout", "message": "Request timed out"}
            )
            return True
        if fault.raw_body is not None:
            self._send_raw(fault.status or 200, fault.raw_body.encode(), fault.content_type, {})
            return True
        if fault.status is not None:
            headers = {"retry-after": fault.retry_after} if fault.retry_after is not None else {}
            # An error body that a careful client never logs.
            body = {"statusCode": fault.status, "error": "injected", "message": "injected fault"}
            self._send(fault.status, body, headers)
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
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client gave up on this request, as a hang test wants


def _parse_body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if "application/x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(raw.decode()))
    return json.loads(raw)
