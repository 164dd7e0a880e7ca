"""Rendering: deterministic, reviewable (snapshots of what varies, the configuration block),
valid JavaScript of the shape the modules read, no npm dependency."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest

from auth0_org_assignment import action_bundle, action_code, commands
from auth0_org_assignment.action_code import (
    CALLED_WHEN,
    CONFIGURATION_END,
    CONFIGURATION_START,
    FLOW_TIME_MS,
    MAX_CODE_BYTES,
    OTHER_ACTIONS_MS,
    ROUTING_MS,
    SHARD_BYTES,
    RenderedAction,
    configuration_of,
    fnv1a,
    grant_scopes,
    management_calls,
    organization_rule,
    packed_configuration_of,
    plan_shards,
    render_action,
    render_actions,
    route_key,
)
from auth0_org_assignment.config import (
    PROJECT,
    OrganizationConfig,
    StackConfig,
    load_stack_file,
    parse_config,
)
from auth0_org_assignment.paths import TEMPLATES
from devtools import ROOT

STACKS = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))
"""The repository's own stacks: each must render valid, small code."""
TEST_STACKS = Path(__file__).resolve().parent / "stacks"
FIXTURES = sorted(p.name.split(".")[1] for p in TEST_STACKS.glob("Pulumi.*.yaml"))
"""Test stacks whose configuration blocks are snapshotted."""
SNAPSHOTS = TEST_STACKS / "snapshots.json"
"""Each test stack's configuration block, by stack: one file, so a new setting is one change."""
ACCEPT = "UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_action_code.py"


def node_check(code: str, tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "node is needed to check the rendered code"
    path = tmp_path / "action.js"
    path.write_text(code, encoding="utf-8")
    result = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def fixture(name: str) -> RenderedAction:
    return render_action(load_stack_file(name, TEST_STACKS))


def test_the_test_stacks_are_found() -> None:
    assert {"one-organization", "several-organizations", "api-mode"} <= set(FIXTURES)


def test_the_test_stacks_configuration_blocks_match_their_snapshot() -> None:
    blocks = {stack: configuration_of(fixture(stack).code) for stack in FIXTURES}
    text = json.dumps(blocks, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.write_text(text, encoding="utf-8")
    assert SNAPSHOTS.is_file(), f"no snapshot {SNAPSHOTS.name}: {ACCEPT}"
    assert text == SNAPSHOTS.read_text(encoding="utf-8"), (
        f"a test stack's configuration block changed: review the diff, then {ACCEPT}"
    )


def test_the_action_is_the_header_the_configuration_and_the_modules() -> None:
    codes = [fixture(stack).code for stack in FIXTURES]
    # The configuration block is the only part that varies with the stack...
    skeletons = set()
    for code in codes:
        start = code.index(CONFIGURATION_START) + len(CONFIGURATION_START)
        end = code.index(CONFIGURATION_END)
        json.loads(code[start:end])
        skeletons.add(code[:start] + code[end:])
    (skeleton,) = skeletons
    # ...and the rest is the header naming the modules' commit, then the modules exactly as the
    # build step (esbuild) bundles them, then the handler made of the configuration.
    bundle = action_bundle.build(TEMPLATES, ROOT / "node_modules")
    header_end = skeleton.index(" */\n") + len(" */\n")
    assert skeleton[:header_end].startswith("/**\n * Post-login Action")
    assert f" * Source: action_templates/ at commit {bundle.source}.\n" in skeleton[:header_end]
    assert skeleton[header_end:] == (
        f'"use strict";\n\n{CONFIGURATION_START}{CONFIGURATION_END}\n{bundle.code}\n\n'
        f"exports.onExecutePostLogin = {action_bundle.GLOBAL}.createHandler(CONFIGURATION);\n"
    )


def test_the_modules_are_one_small_bundle_of_the_sources() -> None:
    bundle = action_bundle.build(TEMPLATES, ROOT / "node_modules")
    # Minified: the comments and types stay in the sources, out of Auth0's 100 KB.
    sources = sum(len(p.read_bytes()) for p in TEMPLATES.glob("*.js"))
    assert len(bundle.code.encode()) < sources / 2
    assert "@typedef" not in bundle.code
    # Every module made it in: the handler, the rule, the marker, the contract's endpoints.
    for name in ("createHandler", "addMemberRoles", "email-domain-not-in-rule"):
        assert name in bundle.code, name


def test_typescript_accepts_what_python_renders_as_the_actions_types(tmp_path: Path) -> None:
    # The configuration's shape is written once, as the JavaScript's JSDoc types; TypeScript
    # checks every test stack's block against them (a missing, extra or mistyped field fails).
    # Both as rendered (packed) and as the handler reads it (unpacked).
    handler = (TEMPLATES / "post_login").as_posix()
    packing = (TEMPLATES / "configuration").as_posix()
    lines = ["// @ts-check", '"use strict";']
    for number, stack in enumerate(FIXTURES):
        code = fixture(stack).code
        block = json.dumps(configuration_of(code))
        packed = json.dumps(packed_configuration_of(code))
        lines += [
            f'/** @type {{import("{handler}").Configuration}} */',
            f"const configuration{number} = {block};",
            f"void configuration{number};",
            f'/** @type {{import("{packing}").PackedConfiguration}} */',
            f"const packed{number} = {packed};",
            f"void packed{number};",
        ]
    checked = tmp_path / "configurations.js"
    checked.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tsc = ROOT / "node_modules" / ".bin" / "tsc"
    result = subprocess.run(
        [
            str(tsc),
            *("--noEmit", "--allowJs", "--checkJs", "--strict", "--resolveJsonModule"),
            *("--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2023"),
            *("--types", "node", "--typeRoots", str(ROOT / "node_modules" / "@types")),
            str(checked),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_action_unpacks_its_block_into_the_rules_python_packed(
    stack_config: dict[str, Any],
) -> None:
    # Packed by action_code.pack_organizations, unpacked by configuration.js (in Node, as the
    # Action does): the rules come back as organization_rule made them, less their names, for
    # every test stack and for each Action of a sharded one.
    cases: list[tuple[StackConfig, int | None]] = [
        (load_stack_file(stack, TEST_STACKS), None) for stack in FIXTURES
    ]
    sharded = parse_config(many_organizations(stack_config, 1000), "test")
    cases += [(sharded, shard) for shard in range(len(plan_shards(sharded).shards))]
    for config, shard in cases:
        plan = plan_shards(config)
        codes = render_actions(config, plan=plan)
        members = plan.shards[shard or 0]
        ids = {o.name: f"(id of {o.name})" for o in members}
        roles = {r: f"(id of role {r})" for o in members for r in o.roles}
        expected = [
            {k: v for k, v in organization_rule(o, ids, roles).items() if k != "name"}
            for o in members
        ]
        configuration = configuration_of(codes[shard or 0].code)
        assert configuration is not None
        assert configuration["organizations"] == expected
        packed = packed_configuration_of(codes[shard or 0].code)
        assert packed is not None
        assert all(isinstance(line, list) for line in packed["organizations"])


def test_typescript_refuses_a_configuration_that_is_not_the_actions_shape(
    tmp_path: Path,
) -> None:
    # The check above can fail: a field the types do not know is refused.
    handler = (TEMPLATES / "post_login").as_posix()
    block = configuration_of(fixture("one-organization").code)
    assert block is not None
    block["organizations"][0]["tier"] = "gold"
    checked = tmp_path / "configurations.js"
    checked.write_text(
        f'// @ts-check\n/** @type {{import("{handler}").Configuration}} */\n'
        f"const configuration = {json.dumps(block)};\nvoid configuration;\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [
            str(ROOT / "node_modules" / ".bin" / "tsc"),
            *("--noEmit", "--allowJs", "--checkJs", "--strict", "--resolveJsonModule"),
            *("--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2023"),
            *("--types", "node", "--typeRoots", str(ROOT / "node_modules" / "@types")),
            str(checked),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "tier" in result.stdout


@pytest.mark.parametrize("stack", STACKS)
def test_each_stacks_code_is_valid_javascript_and_small(stack: str, tmp_path: Path) -> None:
    code = render_action(load_stack_file(stack, ROOT)).code
    node_check(code, tmp_path)
    # The modules leave most of Auth0's 100 KB to the organizations' rules.
    assert len(code.encode()) < MAX_CODE_BYTES / 2


def test_no_secret_value_is_rendered_into_code(stack_config: dict[str, Any]) -> None:
    code = render_action(parse_config(stack_config, "test")).code
    # The code reads each secret from event.secrets (by name: the minifier keeps properties).
    for name in ("TENANT_DOMAIN", "CLIENT_ID", "CLIENT_SECRET"):
        assert f".{name}" in code
    assert "acme-test.eu.auth0.com" not in code


def test_same_config_same_code(stack_config: dict[str, Any]) -> None:
    first = render_action(parse_config(stack_config, "test"))
    second = render_action(parse_config(json.loads(json.dumps(stack_config)), "test"))
    assert first == second


def node_value(script: str) -> Any:
    """What a Node script prints as JSON, run in action_templates/."""
    node = shutil.which("node")
    assert node
    result = subprocess.run(
        [node, "-e", f"process.stdout.write(JSON.stringify({script}))"],
        cwd=TEMPLATES,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_every_call_the_javascript_can_make_has_its_scope_and_its_condition() -> None:
    endpoints = node_value('require("./management_api").ENDPOINTS')
    calls = management_calls()
    assert {name: (e["method"], e["path"], e["scope"]) for name, e in endpoints.items()} == {
        c.endpoint.name: (c.endpoint.method, c.endpoint.path, c.scope) for c in calls
    }
    assert {c.endpoint.name for c in calls} == CALLED_WHEN.keys()


def test_requests_go_only_through_the_endpoint_table() -> None:
    # No module but the session's sends anything, and it sends only what ENDPOINTS names.
    for path in TEMPLATES.glob("*.js"):
        name, source = path.name, path.read_text(encoding="utf-8")
        if name != "management_api.js":
            assert "https" not in source.replace("https://", ""), name
            assert "fetch(" not in source, name
    session = (TEMPLATES / "management_api.js").read_text(encoding="utf-8")
    assert session.count("https.request(") == 1


@pytest.mark.parametrize(
    ("action", "roles", "expected"),
    [
        ({}, [], ("create:organization_members",)),
        (
            {"connectionCheck": "api"},
            [],
            ("create:organization_members", "read:organization_connections"),
        ),
        ({}, ["member"], ("create:organization_member_roles", "create:organization_members")),
    ],
)
def test_the_grant_follows_the_configuration(
    stack_config: dict[str, Any],
    action: dict[str, Any],
    roles: list[str],
    expected: tuple[str, ...],
) -> None:
    stack_config["action"] = action
    stack_config["organization"]["roles"] = roles
    config = parse_config(stack_config, "test")
    assert grant_scopes(config) == expected
    assert render_action(config).scopes == expected


def block_of(code: str) -> dict[str, Any]:
    block = configuration_of(code)
    assert block is not None
    return block


def many_organizations(
    stack_config: dict[str, Any], count: int, domains: int = 3, **action: Any
) -> dict[str, Any]:
    """A stack of ``count`` organizations, each with ``domains`` email domains."""
    del stack_config["organization"], stack_config["connections"]
    stack_config["action"] = action
    stack_config["organizations"] = [
        {
            "name": f"customer-{n:04d}",
            "displayName": f"Customer {n}",
            "connections": ["Username-Password-Authentication", f"customer-{n:04d}-okta"],
            "emailDomains": [
                f"customer-{n:04d}.com",
                f"*.customer-{n:04d}.com",
                *(f"*.customer-{n:04d}-group{d}.co.uk" for d in range(domains - 2)),
            ],
        }
        for n in range(count)
    ]
    return stack_config


@pytest.mark.slow
def test_organizations_beyond_one_actions_size_are_sharded_by_registered_domain(
    stack_config: dict[str, Any],
) -> None:
    config = parse_config(many_organizations(stack_config, 1000, timeBudgetMs=2000), "test")
    shards = render_actions(config)
    assert len(shards) > 1
    blocks = [block_of(shard.code) for shard in shards]
    suffixes = frozenset(blocks[0]["routing"]["suffixes"])
    assert suffixes == {"co.uk", "com"}
    # Every email domain of every organization is in exactly one Action: the one its
    # registered domain's hash names, for the rules and for the routing alike.
    found: dict[tuple[str, str], list[int]] = {}
    for number, block in enumerate(blocks):
        assert block["routing"] == {
            "shard": number,
            "shards": len(shards),
            "suffixes": sorted(suffixes),
        }
        for rule in block["organizations"]:
            patterns = rule.get("domains", []) + [f"*.{d}" for d in rule.get("subdomainsOf", [])]
            for pattern in patterns:
                domain = pattern.removeprefix("*.")
                found.setdefault((rule["id"], pattern), []).append(number)
                owner = fnv1a(route_key(domain, suffixes)) % len(shards)
                assert owner == number, (rule["id"], domain)
    expected = {(f"(id of {o.name})", d) for o in config.organizations for d in o.email_domains}
    assert set(found) == expected
    assert all(len(numbers) == 1 for numbers in found.values())
    for shard in shards:
        assert len(shard.code.encode()) < MAX_CODE_BYTES
    # The split depends on the configuration only: real ids (same length) change nothing.
    ids = {o.name: f"org_{n:016d}" for n, o in enumerate(config.organizations)}
    real = render_actions(config, organization_ids=ids)
    assert [s.organizations for s in real] == [s.organizations for s in shards]
    assert all(len(s.code.encode()) < MAX_CODE_BYTES for s in real)


@pytest.mark.slow
def test_a_stack_that_deploys_renders_whatever_its_organizations_names(
    stack_config: dict[str, Any],
) -> None:
    """`render` shows `(id of <name>)` for each id: with names of 50 characters that is 38 bytes
    a line more than Auth0's ids, which must not refuse a stack whose deployed code fits."""
    del stack_config["organization"], stack_config["connections"]
    stack_config["organizations"] = [
        {
            "name": f"{n:05d}".rjust(50, "x"),
            "displayName": f"Customer {n}",
            "connections": ["Username-Password-Authentication"],
            "emailDomains": [f"cust{n:05d}.com", f"*.cust{n:05d}.com"],
        }
        for n in range(1000)
    ]
    config = parse_config(stack_config, "test")
    ids = {o.name: f"org_{n:016d}" for n, o in enumerate(config.organizations)}
    (deployed,) = render_actions(config, organization_ids=ids)
    assert len(deployed.code.encode()) < MAX_CODE_BYTES
    (shown,) = render_actions(config)
    assert shown.organizations == deployed.organizations
    assert f"(id of {config.organizations[0].name})" in shown.code


@pytest.mark.slow
def test_an_organization_of_many_registered_domains_counts_one_line_an_action(
    stack_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An organization whose domains are under several registered domains has a line in each
    Action one of them is routed to, not one a domain: planning a line (with its id, roles and
    clauses) for every domain asked for half as many Actions again as the rules need."""
    del stack_config["organization"], stack_config["connections"]
    stack_config["organizations"] = [
        {
            "name": f"customer-{n:04d}",
            "displayName": f"Customer {n}",
            "connections": ["Username-Password-Authentication"],
            "emailDomains": [f"c{n}-brand{b}.com" for b in range(10)],
            "roles": ["member"],
            "applications": [f"{n:04d}".rjust(32, "a") for _ in range(3)],
        }
        for n in range(600)
    ]
    stack_config["action"] = {"timeBudgetMs": 2000}
    config = parse_config(stack_config, "test")
    ids = {o.name: f"org_{n:016d}" for n, o in enumerate(config.organizations)}
    roles = {"member": "rol_0123456789abcdef"}
    planned = plan_shards(config)
    for shard in render_actions(config, ids, roles, plan=planned):
        assert len(shard.code.encode()) <= SHARD_BYTES
    # The fewest Actions whose rendered code fits, each count tried in turn.
    for count in range(2, len(planned.shards) + 1):
        monkeypatch.setattr(action_code, "_fewest_shards", lambda *_, count=count: count)
        try:
            rendered = render_actions(config, ids, roles, plan=plan_shards(config))
        except pulumi.RunError:  # over Auth0's limit
            continue
        if all(len(shard.code.encode()) <= SHARD_BYTES for shard in rendered):
            break
    assert len(planned.shards) <= count + 1


def test_rules_for_any_user_of_a_connection_are_in_every_action(
    stack_config: dict[str, Any],
) -> None:
    config = many_organizations(stack_config, 600)
    config["organizations"].append(
        {
            "name": "everyone",
            "displayName": "Everyone",
            "connections": ["Username-Password-Authentication"],
            "allowAnyUserOfConnection": True,
        }
    )
    shards = render_actions(parse_config(config, "test"))
    assert len(shards) > 1
    assert all("everyone" in shard.organizations for shard in shards)


def test_an_organization_a_clause_admits_beyond_its_email_domains_is_in_every_action(
    stack_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An Action holds an organization's line only if it owns one of its email domains, so a
    clause that admits users at other domains (a new one, here a stand-in set beside
    emailDomains) would be missed at their logins, each routed to another Action: such an
    organization is in every Action. trustedConnectionDomains only narrows emailDomains."""
    config = many_organizations(stack_config, 900, domains=2)  # under one registered domain
    first = config["organizations"][0]
    first["trustEmailVerifiedFrom"] = [first["connections"][1]]
    first["trustedConnectionDomains"] = {first["connections"][1]: first["emailDomains"]}
    parsed = parse_config(config, "test")
    narrowed, widened = parsed.organizations[0].name, parsed.organizations[1].name
    real = OrganizationConfig.rule_clauses

    def with_stand_in(organization: OrganizationConfig) -> dict[str, Any]:
        clauses = real(organization)
        return clauses | ({"appMetadataTiers": ["gold"]} if organization.name == widened else {})

    monkeypatch.setattr(OrganizationConfig, "rule_clauses", with_stand_in)
    shards = render_actions(parsed)
    assert len(shards) > 1
    assert all(widened in shard.organizations for shard in shards)
    assert sum(narrowed in shard.organizations for shard in shards) == 1


def test_a_lone_action_routes_nothing(stack_config: dict[str, Any]) -> None:
    rendered = render_action(parse_config(stack_config, "test"))
    assert block_of(rendered.code)["routing"] is None


def with_budget(config: Any, budget_ms: int) -> Any:
    return config.model_copy(
        update={"action": config.action.model_copy(update={"time_budget_ms": budget_ms})}
    )


@pytest.mark.slow
def test_the_flow_holds_one_actions_budget_and_the_others_routing(
    stack_config: dict[str, Any],
) -> None:
    config = parse_config(many_organizations(stack_config, 2000, timeBudgetMs=3000), "test")
    # Budgets no longer add up: one Action owns a login, the others only route it.
    actions = len(render_actions(config))
    assert actions > 2
    most = FLOW_TIME_MS - OTHER_ACTIONS_MS - ROUTING_MS * (actions - 1)
    with pytest.raises(pulumi.RunError) as refused:
        render_actions(with_budget(config, most + 1))
    message = str(refused.value)
    assert f"{PROJECT}:action.timeBudgetMs: {most + 1} ms for the Action that owns" in message
    assert f"{ROUTING_MS} ms for each of the {actions - 1} others" in message
    assert f"at most {most}" in message
    assert len(render_actions(with_budget(config, most))) == actions


@pytest.mark.slow
def test_more_actions_than_the_login_flow_holds_are_refused(stack_config: dict[str, Any]) -> None:
    config = parse_config(many_organizations(stack_config, 1000, domains=50, timeBudgetMs=500), "t")
    with pytest.raises(pulumi.RunError, match=r"need more than 20 Actions of 92160 bytes"):
        render_actions(config)


def test_the_action_declares_no_npm_dependency(stack_config: dict[str, Any]) -> None:
    # Auth0 installs a declared package's own dependencies at whatever versions float at build
    # time; with none declared, what runs is exactly the rendered file the tests ran.
    rendered = render_action(parse_config(stack_config, "test"))
    assert rendered.dependencies == ()
    # The bundle holds our modules and nothing else: Node's own are required at run time.
    bundle = action_bundle.build(TEMPLATES, ROOT / "node_modules")
    assert set(bundle.inputs) == {
        "configuration.js",
        "contract.json",
        "management_api.js",
        "marker.js",
        "membership.js",
        "post_login.js",
        "routing.js",
    }
    assert bundle.code in rendered.code
    assert not (TEMPLATES / "package.json").exists()


def test_no_behaviour_is_chosen_by_the_template() -> None:
    template = (TEMPLATES / "post_login.js.j2").read_text(encoding="utf-8")
    statements = re.findall(r"{%-?\s*(\w+)", template)
    assert set(statements) <= {"for", "endfor"}, statements


def test_render_command_prints_what_the_stack_deploys(capsys: pytest.CaptureFixture[str]) -> None:
    assert commands.main(["render", "dev", "--project-dir", str(ROOT)]) == 0
    assert capsys.readouterr().out == render_action(load_stack_file("dev", ROOT)).code


def test_render_command_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert commands.main(["render", "prod", "--json", "--project-dir", str(ROOT)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {
        "code",
        "runtime",
        "dependencies",
        "secrets",
        "connections",
        "scopes",
        "organizations",
    }
    assert printed["runtime"] == "node22"
    assert printed["dependencies"] == []
    assert printed["secrets"] == ["TENANT_DOMAIN", "CLIENT_ID", "CLIENT_SECRET"]
    assert printed["organizations"] == ["acme"]
    assert printed["connections"] == load_stack_file("prod", ROOT).connections
    assert printed["scopes"] == ["create:organization_members"]


def test_render_command_runs_as_a_module_without_pulumi() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "auth0_org_assignment.commands", "render", "staging"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("PULUMI")},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == render_action(load_stack_file("staging", ROOT)).code


def test_render_command_names_an_unknown_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert commands.main(["render", "nope", "--project-dir", str(ROOT)]) == 2
    assert "Pulumi.nope.yaml" in capsys.readouterr().err
