"""scripts/pulumi-cloud-oidc trades the job's OIDC token for a scoped one, as Pulumi documents."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from devtools import ROOT

ID_TOKEN = "github-oidc-id-token-xyz"
ACCESS_TOKEN = "pul-short-lived-abc"


@pytest.fixture
def endpoints() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """One loopback server playing GitHub's OIDC token endpoint and Pulumi Cloud's."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            seen.append({"github": parse_qs(url.query), "auth": self.headers["authorization"]})
            self._answer({"value": ID_TOKEN})

        def do_POST(self) -> None:
            length = int(self.headers["content-length"])
            seen.append({"pulumi": self.path, "body": json.loads(self.rfile.read(length))})
            self._answer({"access_token": ACCESS_TOKEN, "token_type": "Bearer"})

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()


def exchange(
    base: str, tmp_path: Path, *args: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    github_env = tmp_path / "github_env"
    result = subprocess.run(
        [str(ROOT / "scripts" / "pulumi-cloud-oidc"), *args],
        env={
            "PATH": "/usr/bin:/bin",
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{base}/token?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token",
            "PULUMI_API": base,
            "GITHUB_ENV": str(github_env),
        },
        capture_output=True,
        text=True,
    )
    return result, github_env


@pytest.mark.parametrize(
    ("scope", "token_type"), [("team:auth0-dev-preview", "team"), ("user:ci-dev", "personal")]
)
def test_a_scoped_token_is_exchanged_masked_and_exported(
    endpoints: tuple[str, list[dict[str, Any]]], tmp_path: Path, scope: str, token_type: str
) -> None:
    base, seen = endpoints
    result, github_env = exchange(base, tmp_path, "acme", scope)
    assert result.returncode == 0, result.stderr
    github, pulumi = seen
    assert github["github"]["audience"] == ["urn:pulumi:org:acme"]
    assert github["auth"] == "bearer request-token"
    assert pulumi["pulumi"] == "/api/oauth/token"
    assert pulumi["body"] == {
        "audience": "urn:pulumi:org:acme",
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "requested_token_type": f"urn:pulumi:token-type:access_token:{token_type}",
        "scope": scope,
        "expiration": 3600,
        "subject_token": ID_TOKEN,
    }
    assert github_env.read_text() == (
        f"PULUMI_ACCESS_TOKEN={ACCESS_TOKEN}\nPULUMI_DEFAULT_ORGANIZATION=acme\n"
    )
    assert f"::add-mask::{ACCESS_TOKEN}" in result.stdout
    assert f"::add-mask::{ID_TOKEN}" in result.stdout
    printed = result.stdout.replace(f"::add-mask::{ACCESS_TOKEN}", "")
    assert ACCESS_TOKEN not in printed


@pytest.mark.parametrize("scope", [None, "", "admin", "team:", "user:", "organization"])
def test_an_organization_token_is_never_asked_for(
    endpoints: tuple[str, list[dict[str, Any]]], tmp_path: Path, scope: str | None
) -> None:
    base, seen = endpoints
    result, github_env = exchange(base, tmp_path, "acme", *([] if scope is None else [scope]))
    assert result.returncode == 2
    assert "PULUMI_OIDC_SCOPE" in result.stderr
    assert seen == []
    assert not github_env.exists()


def test_an_organization_name_cannot_smuggle_a_line_into_the_job_environment(
    endpoints: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    base, seen = endpoints
    result, github_env = exchange(base, tmp_path, "acme\nNODE_OPTIONS=--require=x", "team:t")
    assert result.returncode == 2
    assert seen == []
    assert not github_env.exists()


def test_without_id_token_permission_it_says_what_to_do() -> None:
    result = subprocess.run(
        [str(ROOT / "scripts" / "pulumi-cloud-oidc"), "acme", "team:auth0-dev-preview"],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "id-token: write" in result.stderr
