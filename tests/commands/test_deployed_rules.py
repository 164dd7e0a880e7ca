"""The organizations' rules read back from the deployed Actions: this stack's alone (by name and
marker prefix), an organization's sharded domains merged, drafts and other Actions ignored, and
nothing used unless the stack's bound Actions are one whole split that agrees with itself."""

from __future__ import annotations

import json
from typing import Any

import pytest

from auth0_org_assignment.action_code import CONFIGURATION_END, CONFIGURATION_START
from auth0_org_assignment.commands import deployed_rules
from auth0_org_assignment.commands.management_client import ManagementClient
from auth0_org_assignment.config import parse_config

CONFIG = parse_config(
    {
        "auth0:domain": "acme-test.eu.auth0.com",
        "organization": {"name": "acme", "displayName": "Acme", "emailDomains": ["acme.com"]},
        "connections": ["Username-Password-Authentication"],
    },
    "t",
)
OURS = "org_assignment:"
NAME = CONFIG.action_name


def code(organizations: list[list[Any]], routing: Any = None, prefix: str = OURS) -> str:
    """An Action's code holding a configuration block (packed, as the stack renders it)."""
    block = {
        "connections": ["Username-Password-Authentication", "legacy-db"],
        "organizations": organizations,
        "routing": routing,
        "settings": {"markerPrefix": prefix},
    }
    return f"// header\n{CONFIGURATION_START}{json.dumps(block)}{CONFIGURATION_END}rest();\n"


def split(shard: int, shards: int) -> dict[str, Any]:
    return {"shard": shard, "shards": shards, "suffixes": ["com", "co.uk"]}


def deployed(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "deployed_version": {"code": text}, "code": "// a draft"}


class Tenant(ManagementClient):
    """The two calls, answered from ``actions`` (id -> the action as GET returns it), bound in
    their order, ``per_page`` bindings a page as asked (the client's own paging)."""

    def __init__(self, actions: dict[str, dict[str, Any]]) -> None:
        self.actions = actions

    def call(self, name: str, /, body: Any = None, query: Any = None, **params: str) -> Any:
        if name == "actions.get":
            return self.actions[params["id"]]
        assert (name, params) == ("actions.bindings.get", {"trigger": "post-login"})
        page, per_page = int(query["page"]), int(query["per_page"])
        bound = list(self.actions)[page * per_page : (page + 1) * per_page]
        return {"bindings": [{"action": {"id": i}} for i in bound]}


def rules_of(actions: dict[str, dict[str, Any]]) -> Any:
    return deployed_rules.deployed_rules(Tenant(actions), CONFIG)


def test_sharded_domains_are_merged_and_no_other_action_counts() -> None:
    planted = code([["org_9", [0], "evil.com"]], split(0, 2))
    others = {f"other-{n}": deployed(f"other-{n}", "exports.x = 1;") for n in range(125)}
    rules = rules_of(
        {
            **others,
            "a": deployed(
                f"{NAME}-1-of-2",
                code([["org_1", [0], "acme.com", {"trusted": ["x"]}]], split(0, 2)),
            ),
            "b": deployed(
                f"{NAME}-2-of-2",
                code(
                    [["org_1", [0], "*.acme.co.uk", {"trusted": ["x"]}], ["org_2", [0], "b.io"]],
                    split(1, 2),
                ),
            ),
            # Another stack's (its marker prefix), a block in another team's comment, a draft.
            "c": deployed("another-stack", code([["org_3", [0], "c.io"]], prefix="other:")),
            "d": deployed("their-action", f"/* {planted} */ exports.x = 1;"),
            "e": {"name": "never-deployed", "code": code([["org_4", [0], "d.io"]])},
        }
    )
    assert sorted(rules) == ["org_1", "org_2"]
    assert (rules["org_1"]["domains"], rules["org_1"]["subdomainsOf"]) == (
        ["acme.com"],
        ["acme.co.uk"],
    )
    assert rules["org_1"]["trusted"] == ["x"]
    assert "subdomainsOf" not in rules["org_2"]
    assert deployed_rules.patterns(rules["org_1"]) == ["acme.com", "*.acme.co.uk"]


@pytest.mark.parametrize(
    "actions",
    [
        # A deploy stopped between the Actions of a split: their rules disagree.
        {
            "a": deployed(f"{NAME}-1-of-2", code([["org_1", [0, 1], "new.com"]], split(0, 2))),
            "b": deployed(f"{NAME}-2-of-2", code([["org_1", [0], "old.com"]], split(1, 2))),
        },
        # A split whose second Action is not bound: logins it owns have no Action.
        {
            "a": deployed(
                f"{NAME}-1-of-2", code([["org_1", [0], "", {"anyUser": True}]], split(0, 2))
            )
        },
        # A split change half done: a lone Action and a split of 2, both bound.
        {
            "a": deployed(NAME, code([["org_1", [0], "acme.com"]])),
            "b": deployed(f"{NAME}-1-of-2", code([["org_1", [0], "acme.com"]], split(0, 2))),
            "c": deployed(f"{NAME}-2-of-2", code([], split(1, 2))),
        },
    ],
    ids=["rules differ", "a shard unbound", "two splits"],
)
def test_a_flow_that_is_not_one_whole_split_is_not_used(actions: dict[str, Any]) -> None:
    with pytest.raises(deployed_rules.DeployedRulesUnusable, match="a deploy did not finish"):
        rules_of(actions)


def test_only_this_stacks_action_holding_two_blocks_stops_the_reading() -> None:
    """An Action holding two configuration blocks (one kept in a comment) cannot say which rule
    its logins run: this stack's, by any of its names, stops the command; another stack's whose
    name merely begins like this one's does not."""
    ours = code([["org_1", [0], "acme.com"]])
    twice = f"/* {code([['org_1', [0], 'evil.com']])} */\n{ours}"
    assert rules_of({"a": deployed(NAME, ours), "b": deployed(f"{NAME}-eu", twice)})
    for name in (NAME, f"{NAME}-2-of-3"):
        with pytest.raises(deployed_rules.DeployedRulesUnusable, match="2 configuration blocks"):
            rules_of({"a": deployed(name, twice)})


def test_a_deny_message_quoting_the_block_start_is_no_second_block() -> None:
    """Found by review: a configured denyMessage holding the block's start is a JSON string in
    the one block pulumi up renders, not a second block."""
    from auth0_org_assignment.action_code import render_actions

    config = parse_config(
        {
            "auth0:domain": "acme-test.eu.auth0.com",
            "organization": {"name": "acme", "displayName": "Acme", "emailDomains": ["acme.com"]},
            "connections": ["Username-Password-Authentication"],
            "action": {"denyMessage": "Error const CONFIGURATION = 7"},
        },
        "t",
    )
    (rendered,) = render_actions(config, {"acme": "org_1"}, {})
    tenant = Tenant({"a": deployed(config.action_name, rendered.code)})
    assert sorted(deployed_rules.deployed_rules(tenant, config)) == ["org_1"]
