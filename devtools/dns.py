"""A DNS server on loopback that answers TXT queries from a table the caller edits: the proof
records of email domains, for tests and scripts/local-up (no internet DNS is needed).

    server = LoopbackDns.start()
    server.publish("_ss-verification.org_1.acme.com", "c945f1b6...")
    ... resolve at server.address ...
    server.stop()

Authoritative for nothing but the table: any other name is NXDOMAIN.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


@dataclass
class LoopbackDns:
    """TXT records served on ``127.0.0.1:<port>`` over UDP, until ``stop()``."""

    records: dict[str, set[str]] = field(default_factory=dict)
    failing: set[str] = field(default_factory=set)
    """Names answered SERVFAIL: one organization's broken DNS server (``fail``)."""
    _socket: socket.socket | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def start(cls, port: int = 0, host: str = "127.0.0.1") -> LoopbackDns:
        """Serving on ``host`` (``::1`` for IPv6's loopback) and ``port`` (any free one: 0)."""
        server = cls()
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        sock.settimeout(0.2)
        server._socket = sock
        server._thread = threading.Thread(target=server._serve, daemon=True)
        server._thread.start()
        return server

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>`` (``[::1]:<port>``), as a stack's ``dnsResolvers`` names it."""
        assert self._socket is not None
        host, port = self._socket.getsockname()[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def publish(self, host: str, text: str) -> None:
        with self._lock:
            self.records.setdefault(host.lower().rstrip("."), set()).add(text)

    def fail(self, host: str) -> None:
        """Answer SERVFAIL for ``host`` from now on, as a failing authoritative server does."""
        with self._lock:
            self.failing.add(host.lower().rstrip("."))

    def withdraw(self, host: str) -> None:
        with self._lock:
            self.records.pop(host.lower().rstrip("."), None)

    def stop(self) -> None:
        sock, self._socket = self._socket, None
        if self._thread is not None:
            self._thread.join(timeout=5)
        if sock is not None:
            sock.close()

    def __enter__(self) -> LoopbackDns:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        while (sock := self._socket) is not None:
            try:
                data, client = sock.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            try:
                query = dns.message.from_wire(data)
            except dns.exception.DNSException:
                continue
            sock.sendto(self._answer(query).to_wire(), client)

    def _answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        (question,) = query.question
        name = question.name.to_text(omit_final_dot=True).lower()
        with self._lock:
            texts = sorted(self.records.get(name, ()))
            failing = name in self.failing
        if failing:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif not texts:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.TXT:
            quoted = [f'"{text}"' for text in texts]
            response.answer.append(
                dns.rrset.from_text(
                    question.name, 60, dns.rdataclass.IN, dns.rdatatype.TXT, *quoted
                )
            )
        return response
