"""Replay terraform-provider-auth0's recordings of real Auth0 exchanges against the local tenant.

The provider's acceptance tests record every request and Auth0's answer (go-vcr cassettes under
``test/data/recordings/`` of its Go module). They are read from the module the engine builds
the provider from, at its pinned version; nothing is copied into this repository.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import yaml

from devtools import ROOT
from devtools.localtenant.tenant import Tenant

MODULE = "github.com/auth0/terraform-provider-auth0"
# Ids Auth0 hands out, which differ between the recording and the replay.
ID_FIELDS = ("id", "client_id", "connection_id", "user_id", "next")
ID_SHAPE = re.compile(
    r"^([a-z]{2,4}_[A-Za-z0-9]{16,24}|[A-Za-z0-9]{32}|[0-9a-f]{8}-[0-9a-f-]{27}"
    r"|auth0\|[0-9a-f]{24})$"
)


def pinned_version() -> str:
    """The terraform-provider-auth0 version devtools/engine/auth0-provider/go.mod requires."""
    go_mod = (ROOT / "devtools" / "engine" / "auth0-provider" / "go.mod").read_text(
        encoding="utf-8"
    )
    match = re.search(rf"^\s*{re.escape(MODULE)} (v\S+)", go_mod, re.MULTILINE)
    assert match, "devtools/engine/auth0-provider/go.mod requires no terraform-provider-auth0"
    return match[1]


def recordings_dir() -> Path | None:
    """The module's recordings, downloaded through the Go module proxy when missing."""
    go = shutil.which("go") or "/usr/local/go/bin/go"  # where Go's own installer puts it
    try:
        answer = subprocess.run(
            [go, "mod", "download", "-json", f"{MODULE}@{pinned_version()}"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return None
    directory = json.loads(answer.stdout or "{}").get("Dir")
    return Path(directory) / "test" / "data" / "recordings" if directory else None


@dataclass
class Difference:
    """Where the local tenant answered otherwise than Auth0 did."""

    index: int
    request: str
    expected_status: int
    actual_status: int
    missing_fields: list[str] = field(default_factory=list)
    extra_fields: list[str] = field(default_factory=list)
    """Top-level fields the local tenant answered that Auth0's answer did not hold."""


@dataclass
class Replay:
    """The outcome of replaying one cassette."""

    replayed: int = 0
    skipped: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)


def replay(cassette: Path, tenant: Tenant, scopes: frozenset[str]) -> Replay:
    """Send each recorded request to ``tenant`` in order, with recorded ids mapped to the ones
    the tenant gave, and compare status codes and the fields of each JSON object answered
    (those missing and those added)."""
    interactions = yaml.safe_load(cassette.read_text(encoding="utf-8"))["interactions"]
    ids: dict[str, str] = {}
    result = Replay()
    for index, interaction in enumerate(interactions):
        request, recorded = interaction["request"], interaction["response"]
        url = urlsplit(_substitute(request["url"], ids))
        label = f"{request['method']} {url.path}"
        found = tenant.match(request["method"], url.path)
        if found is None or url.path.startswith("/oauth/"):
            result.skipped.append(label)
            continue
        route, params = found
        body = json.loads(_substitute(request["body"], ids)) if request["body"] else None
        status, answer = tenant.call(route, params, dict(parse_qsl(url.query)), body, scopes)
        result.replayed += 1
        expected = _json(recorded["body"])
        _learn_ids(expected, answer, ids)
        missing, extra = _fields(expected, answer) if status == recorded["code"] else ([], [])
        if status != recorded["code"] or missing or extra:
            result.differences.append(
                Difference(index, label, recorded["code"], status, missing, extra)
            )
    return result


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None


def _substitute(text: str, ids: dict[str, str]) -> str:
    for recorded, local in ids.items():
        text = text.replace(recorded, local).replace(
            quote(recorded, safe=""), quote(local, safe="")
        )
    return text


def _learn_ids(expected: Any, actual: Any, ids: dict[str, str]) -> None:
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in ID_FIELDS:
            old, new = expected.get(key), actual.get(key)
            if (
                isinstance(old, str)
                and isinstance(new, str)
                and (key == "next" or ID_SHAPE.match(old))
            ):
                ids.setdefault(old, new)


def _fields(expected: Any, actual: Any) -> tuple[list[str], list[str]]:
    """Top-level fields of a recorded JSON object (or of a list's first item) that the local
    answer lacks, and those it has that the recorded one does not."""
    if isinstance(expected, list) and isinstance(actual, list):
        return _fields(expected[0], actual[0]) if expected and actual else ([], [])
    if isinstance(expected, dict) and isinstance(actual, dict):
        return sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
    return [], []
