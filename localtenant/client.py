"""A small HTTPS client for a running local tenant, as its admin client (CLI and tests)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass
class AdminClient:
    domain: str
    ca_cert: str
    client_id: str
    client_secret: str
    _token: str | None = None

    @classmethod
    def from_serve_line(cls, line: dict[str, Any]) -> AdminClient:
        return cls(
            line["domain"],
            line["ca_cert"],
            line["admin"]["client_id"],
            line["admin"]["client_secret"],
        )

    def token(self) -> str:
        if self._token is None:
            answer = self._request(
                "POST",
                "/oauth/token",
                {
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "audience": f"https://{self.domain}/api/v2/",
                },
                None,
            )
            self._token = str(answer["access_token"])
        return self._token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One Management API (or /localtenant/) call; raises RuntimeError on an error status."""
        return self._request(method, path, body, self.token())

    def _request(self, method: str, path: str, body: Any, token: str | None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"https://{self.domain}{path}", data=data, method=method)
        request.add_header("content-type", "application/json")
        if token:
            request.add_header("authorization", f"Bearer {token}")
        context = ssl.create_default_context(cafile=self.ca_cert)
        try:
            with urllib.request.urlopen(request, context=context, timeout=60) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise RuntimeError(
                f"{method} {path}: {error.code} {error.read().decode(errors='replace')}"
            ) from None
        return json.loads(raw) if raw else None
