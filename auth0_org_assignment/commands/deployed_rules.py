"""The organizations' rules as the deployed Actions hold them: what logins apply.

Read from the tenant, not the checked-out stack file: the login flow's bindings
(``GET /actions/triggers/post-login/bindings``), each bound Action's deployed code
(``GET /actions/actions/{id}``: its ``deployed_version.code``), and in it the configuration
block this stack rendered, unpacked by ``action_templates/configuration.js``
(``action_code.configuration_of``). An Action is this stack's when its block's marker prefix is
the stack's (``action_code.marker_key``). So a backfill run from a checkout that differs from
what is deployed (a branch, a stale clone) admits whom the deployed Actions would admit, and no
one else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auth0_org_assignment.action_code import TRIGGER, configuration_of, marker_key
from auth0_org_assignment.commands.management_client import ManagementClient
from auth0_org_assignment.config import StackConfig

CALLS = ("actions.bindings.list", "actions.get")
"""The Management API calls it makes."""

PER_PAGE = 20
"""Bindings a page."""

SHARDED = ("domains", "subdomainsOf")
"""What of an organization's rule its Actions split between them (by registered domain); the
rest of its rule is in each of them alike."""


def deployed_rules(api: ManagementClient, config: StackConfig) -> dict[str, dict[str, Any]]:
    """Each organization's rule, by id, as the post-login Actions this stack deployed and bound
    hold it: an organization whose domains are sharded across Actions has them merged from each.
    An organization the deployed Actions do not name (not deployed yet) is not in it."""
    prefix = marker_key(config, "")
    rules: dict[str, dict[str, Any]] = {}
    for action_id in _bound(api):
        action = api.call("actions.get", id=action_id)
        deployed = action.get("deployed_version") if isinstance(action, dict) else None
        code = deployed.get("code") if isinstance(deployed, dict) else None
        configuration = configuration_of(code) if isinstance(code, str) else None
        if configuration is None or configuration["settings"].get("markerPrefix") != prefix:
            continue
        for rule in configuration["organizations"]:
            merged = rules.setdefault(rule["id"], {**rule, **{key: [] for key in SHARDED}})
            for key in SHARDED:
                merged[key] = sorted({*merged[key], *rule.get(key, [])})
    for rule in rules.values():
        for key in SHARDED:
            if not rule[key]:
                del rule[key]
    return rules


def _bound(api: ManagementClient) -> list[str]:
    """The ids of the Actions the post-login flow runs, in its order."""
    found: list[str] = []
    page = 0
    while True:
        answer = api.call(
            "actions.bindings.list", query={"page": page, "per_page": PER_PAGE}, trigger=TRIGGER
        )
        bindings = answer.get("bindings") or []
        found += [binding["action"]["id"] for binding in bindings]
        if len(bindings) < PER_PAGE:
            return found
        page += 1


def patterns(rule: Mapping[str, Any]) -> list[str]:
    """A rule's email domains as the configuration writes them (``*.acme.com`` for a domain
    whose subdomains it admits)."""
    return [*rule.get("domains", []), *(f"*.{d}" for d in rule.get("subdomainsOf", []))]
