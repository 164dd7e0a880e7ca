"""Rendering: deterministic, reviewable (golden files), valid JavaScript, one SDK pin."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra import render
from infra.action_code import MAX_CODE_BYTES, TEMPLATES, auth0_sdk, render_action, scopes_called_by
from infra.config import ROOT, load_stack_file, parse_config

GOLDEN = Path(__file__).resolve().parent / "golden"
STACKS = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))


def node_check(code: str, tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "node is needed to check the rendered code"
    path = tmp_path / "action.js"
    path.write_text(code, encoding="utf-8")
    result = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_stack_has_a_golden_file() -> None:
    assert STACKS == ["dev", "prod", "staging"]
    assert sorted(p.stem for p in GOLDEN.glob("*.js")) == STACKS


@pytest.mark.parametrize("stack", STACKS)
def test_rendered_code_matches_its_golden_file(stack: str) -> None:
    code = render_action(load_stack_file(stack)).code
    golden = GOLDEN / f"{stack}.js"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(code, encoding="utf-8")
    assert code == golden.read_text(encoding="utf-8"), (
        f"the {stack} Action changed: review it, then UPDATE_GOLDEN=1 to accept"
    )


@pytest.mark.parametrize("stack", STACKS)
def test_each_stacks_code_is_valid_javascript_and_small(stack: str, tmp_path: Path) -> None:
    code = render_action(load_stack_file(stack)).code
    node_check(code, tmp_path)
    assert len(code.encode()) < MAX_CODE_BYTES / 5


def test_no_secret_value_is_rendered_into_code(stack_config: dict[str, Any]) -> None:
    code = render_action(parse_config(stack_config, "test")).code
    for name in ("TENANT_DOMAIN", "CLIENT_ID", "CLIENT_SECRET", "ORGANIZATION_ID"):
        assert f"secrets.{name}" in code
    assert "acme-test.eu.auth0.com" not in code


def test_same_config_same_code(stack_config: dict[str, Any]) -> None:
    first = render_action(parse_config(stack_config, "test"))
    second = render_action(parse_config(json.loads(json.dumps(stack_config)), "test"))
    assert first == second


def test_scopes_follow_the_calls_in_the_code() -> None:
    assert scopes_called_by("x.organizations.members.create(a)") == ("create:organization_members",)
    assert scopes_called_by("nothing") == ()


def test_oversized_code_is_refused(stack_config: dict[str, Any]) -> None:
    stack_config["connections"] = [f"connection-{i:05d}-" + "x" * 90 for i in range(1100)]
    with pytest.raises(Exception, match="over Auth0's 102400-byte limit"):
        render_action(parse_config(stack_config, "test"))


def test_one_exact_sdk_version_for_the_action_and_the_tests() -> None:
    sdk = auth0_sdk()
    assert sdk.name == "auth0"
    assert int(sdk.version.split(".")[0]) >= 5  # v5+: the API the code calls
    lock = json.loads((TEMPLATES / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/auth0"]["version"] == sdk.version
    installed = TEMPLATES / "node_modules" / "auth0" / "package.json"
    assert json.loads(installed.read_text())["version"] == sdk.version


def test_render_command_prints_what_the_stack_deploys(capsys: pytest.CaptureFixture[str]) -> None:
    assert render.main(["dev"]) == 0
    assert capsys.readouterr().out == render_action(load_stack_file("dev")).code


def test_render_command_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert render.main(["prod", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"code", "runtime", "dependencies", "secrets", "connections", "scopes"}
    assert printed["runtime"] == "node22"
    assert printed["dependencies"] == [{"name": "auth0", "version": auth0_sdk().version}]
    assert printed["secrets"] == ["TENANT_DOMAIN", "CLIENT_ID", "CLIENT_SECRET", "ORGANIZATION_ID"]
    assert printed["connections"] == load_stack_file("prod").connections
    assert printed["scopes"] == ["create:organization_members"]


def test_render_command_runs_as_a_module_without_pulumi() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "infra.render", "staging"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("PULUMI")},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == render_action(load_stack_file("staging")).code


def test_render_command_names_an_unknown_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert render.main(["nope"]) == 2
    assert "Pulumi.nope.yaml" in capsys.readouterr().err
