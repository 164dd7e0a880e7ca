"""What the stack and the Action's JavaScript share, read from ``action_templates/contract.json``.

That file is the one place where the Action's Management API calls (with their scopes), the
reasons the rule refuses someone, and the marker's values are written; the JavaScript modules
``require`` it and the rendered Action carries it. The shapes the Action reads (its settings and
each organization's rule) are JSDoc types in ``post_login.js`` and ``membership.js``; the test
of the configuration block has TypeScript check what Python renders against them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from auth0_org_assignment.paths import TEMPLATES

FILE = "contract.json"


@dataclass(frozen=True)
class Endpoint:
    """A Management API call the Action can make, by its name in ``contract.json``."""

    name: str
    method: str
    path: str
    scope: str


@cache
def _contract() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((TEMPLATES / FILE).read_text(encoding="utf-8"))
    return document


def endpoints() -> tuple[Endpoint, ...]:
    """Every call the Action's code can make: its requests name one of these, and only these."""
    return tuple(
        Endpoint(name, entry["method"], entry["path"], entry["scope"])
        for name, entry in _contract()["endpoints"].items()
    )


def refusals() -> dict[str, str]:
    """The reasons the rule (``membership.js``) gives for not admitting someone, each with what
    it means, as reconcile and the documentation say it."""
    return dict(_contract()["refusals"])
