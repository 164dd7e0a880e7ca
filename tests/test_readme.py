"""The README's facts agree with the files they describe."""

from __future__ import annotations

import re
import tomllib

import yaml

from auth0_org_assignment import credentials
from devtools import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_scope_table_is_the_scope_module() -> None:
    rows = re.findall(
        r"^\| `([a-z_]+:[a-z_]+)` \| (yes|no) \| (yes|no) \| (yes|no) \|", README, re.MULTILINE
    )
    assert {row[0] for row in rows if row[1] == "yes"} == set(credentials.DEPLOY)
    assert {row[0] for row in rows if row[2] == "yes"} == set(credentials.DRIFT)
    assert {row[0] for row in rows if row[3] == "yes"} == set(credentials.PULL_REQUEST)
    assert "update:client_keys" not in {scope for scope, *_ in rows}


def test_supported_python_versions_match_pyproject() -> None:
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11,<3.14"
    assert "Python 3.11 to 3.13" in README


def test_node_versions_match_ci_and_the_workflows() -> None:
    setup = yaml.safe_load((ROOT / ".github" / "actions" / "setup" / "action.yml").read_text())
    (node_step,) = [s for s in setup["runs"]["steps"] if "setup-node" in s.get("uses", "")]
    assert f"the GitHub workflows set up Node {node_step['with']['node-version']}" in README


def test_the_pinned_cli_version_is_the_one_the_readme_names() -> None:
    version = (ROOT / ".pulumi-version").read_text().strip()
    assert f"`.pulumi-version`, {version}" in README


def test_the_backfill_section_names_every_scope_it_needs() -> None:
    section = README.split("## Coming from the support article")[1].split("\n## ")[0]
    for scope in credentials.BACKFILL:
        assert f"`{scope}`" in section


def test_the_adopt_section_names_every_scope_it_needs() -> None:
    section = README.split("### Adopt the hand-made setup")[1].split("\n### ")[0]
    for scope in credentials.ADOPT:
        assert f"`{scope}`" in section
