"""The organizations' rules read back from the deployed Actions: those of this stack alone, an
organization's sharded domains merged, undeployed drafts and other stacks' Actions ignored."""

from __future__ import annotations

import json
from typing import Any

from auth0_org_assignment.action_code import CONFIGURATION_END, CONFIGURATION_START
from auth0_org_assignment.commands import deployed_rules
from auth0_org_assignment.config import parse_config

CONFIG = parse_config(
    {
        "auth0:domain": "acme-test.eu.auth0.com",
        "organization": {"name": "acme", "displayName": "Acme", "emailDomains": ["acme.com"]},
        "connections": ["Username-Password-Authentication"],
    },
    "t",
)


def code(prefix: str, *organizations: list[Any]) -> str:
    """An Action's code holding a configuration block (packed, as the stack renders it)."""
    block = {
        "connections": ["Username-Password-Authentication"],
        "organizations": list(organizations),
        "routing": None,
        "settings": {"markerPrefix": prefix},
    }
    return f"// header\n{CONFIGURATION_START}{json.dumps(block)}{CONFIGURATION_END}rest();\n"


class Tenant:
    """The two calls, answered from ``actions`` (id -> the action as GET returns it), bound in
    ``order``, ``per_page`` bindings a page as asked."""

    def __init__(self, actions: dict[str, dict[str, Any]], order: list[str]) -> None:
        self.actions, self.order = actions, order

    def call(self, name: str, /, body: Any = None, query: Any = None, **params: str) -> Any:
        if name == "actions.get":
            return self.actions[params["id"]]
        assert (name, params) == ("actions.bindings.list", {"trigger": "post-login"})
        page, per_page = int(query["page"]), int(query["per_page"])
        bound = self.order[page * per_page : (page + 1) * per_page]
        return {"bindings": [{"action": {"id": i}} for i in bound]}


def deployed(text: str) -> dict[str, Any]:
    return {"deployed_version": {"code": text}, "code": "// a draft, not deployed"}


def test_sharded_domains_are_merged_and_other_actions_ignored() -> None:
    ours = "org_assignment:"
    others = {f"other-{n}": deployed("exports.onExecutePostLogin = () => {};") for n in range(25)}
    tenant = Tenant(
        {
            **others,
            "a": deployed(code(ours, ["org_1", [0], "acme.com", {"trusted": ["x"]}])),
            "b": deployed(code(ours, ["org_1", [0], "*.acme.co.uk"], ["org_2", [0], "b.io"])),
            "c": deployed(code("another_stack:", ["org_3", [0], "c.io"])),
            "d": {"code": code(ours, ["org_4", [0], "d.io"])},  # never deployed
        },
        [*others, "a", "b", "c", "d"],
    )
    rules = deployed_rules.deployed_rules(tenant, CONFIG)  # type: ignore[arg-type]
    assert sorted(rules) == ["org_1", "org_2"]
    assert rules["org_1"]["domains"] == ["acme.com"]
    assert rules["org_1"]["subdomainsOf"] == ["acme.co.uk"]
    assert rules["org_1"]["trusted"] == ["x"]
    assert "subdomainsOf" not in rules["org_2"]
    assert deployed_rules.patterns(rules["org_1"]) == ["acme.com", "*.acme.co.uk"]
