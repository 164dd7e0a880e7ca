"""The documentation says what the code does: the site (mkdocs.yml, docs/) builds strictly, its
reference is the code's, the commands and paths it names exist, and the README's two commands
are the ones CI and the scripts run. Nothing here depends on a heading's wording."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from auth0_org_assignment import contract, credentials
from auth0_org_assignment.commands import COMMANDS, PROG, management_client, parser
from auth0_org_assignment.config import schema
from devtools import ROOT, docs_reference

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
README = ROOT / "README.md"
CONTRIBUTING = ROOT / "CONTRIBUTING.md"
WRITTEN = [README, CONTRIBUTING, *PAGES]
"""Every Markdown file a reader is sent to."""
RECIPES = sorted((DOCS / "recipes").glob("*.sh"))


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def generated(name: str) -> str:
    return docs_reference.REFERENCES[name]()


# The reference is the code's


def test_every_reference_is_asked_for_by_a_page_and_every_page_asks_for_one_that_exists() -> None:
    asked = {name for page in PAGES for name in docs_reference.MARKER.findall(text(page))}
    assert asked == set(docs_reference.REFERENCES)
    for page in PAGES:
        docs_reference.expand(text(page), str(page))  # an unknown name raises, naming it
    with pytest.raises(KeyError, match="no reference named 'nope'"):
        docs_reference.expand("<!-- reference: nope -->", "a page")


def test_the_configuration_reference_has_every_key_of_the_schema() -> None:
    reference = generated("configuration")

    def keys(model: type[BaseModel], prefix: str) -> set[str]:
        found = set()
        for name, field in model.model_fields.items():
            key = prefix + (field.alias or name)
            found.add(key)
            nested = docs_reference._nested_model(field.annotation)
            if nested is not None and not docs_reference._is_list(field.annotation):
                found |= keys(nested, key + ".")
        return found

    expected = keys(schema.StackConfig, "")
    assert {"organization.emailDomains", "action.timeBudgetMs", "auth0:domain"} <= expected
    listed = set(re.findall(r"^\| `([^`]+)` \|", reference, re.MULTILINE))
    assert listed == expected
    # Defaults and hints come from the fields themselves.
    assert "| `action.timeBudgetMs` | integer (500 to 15000) | `3000` |" in reference
    assert "a whole number of milliseconds from 500 to 15000, without quotes" in reference
    # Every field documented: a new key without a docstring would leave its meaning empty.
    for row in re.findall(r"^\| `[^`]+` \|.*\| (.*) \|$", reference, re.MULTILINE):
        assert row.strip(), "a configuration key without a docstring"


def test_the_cli_reference_is_every_subcommand_help() -> None:
    reference = generated("cli")
    for name in COMMANDS:
        usage = f"usage: {PROG} {name}"
        assert usage in reference, name
    helps = docs_reference.command_help()
    for name, subcommand in docs_reference.subcommands().items():
        for action in subcommand._actions:
            for option in action.option_strings:
                assert option in helps[name], (name, option)


def test_the_call_tables_are_the_code_s() -> None:
    calls = generated("management-calls")
    for call in management_client.CALLS.values():
        assert f"| `{call.name}` | `{call.method} {call.path}` | `{call.scope}` |" in calls
    action = generated("action-calls")
    for endpoint in contract.endpoints():
        assert f"`{endpoint.method} {endpoint.path}` | `{endpoint.scope}` |" in action
    refusals = generated("refusals")
    for reason in contract.refusals():
        assert f"| `{reason}` |" in refusals


def test_the_scope_tables_are_the_credentials_module() -> None:
    reference = generated("scopes")
    roles = docs_reference.roles()
    assert {"DEPLOY", "DRIFT", "BACKFILL", "RECONCILE", "ADOPT"} <= set(roles)
    _header, _, *rows = [
        line for line in reference.split("\n\n")[0].splitlines() if line.startswith("|")
    ]
    columns = [name for name in roles]
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        scope = cells[0].strip("`")
        for role, mark in zip(columns, cells[1:], strict=True):
            assert (mark == "yes") == (scope in getattr(credentials, role)), (scope, role)
    # Only the deploy job touches client keys (ActionCredential rotates them): the drift check
    # can read no application's secret (a pull request's preview holds no Auth0 credential).
    assert not [scope for scope in credentials.DRIFT if "key" in scope]
    for name, (_, scopes) in roles.items():
        section = reference.split(f"### {name} {{#{name.lower()}}}")[1].split("\n### ")[0]
        for scope, why in scopes.items():
            assert f"| `{scope}` | {docs_reference.cell(why)} |" in section


@pytest.mark.slow
def test_the_site_builds_strictly_with_the_generated_reference(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "mkdocs"), "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    configuration = text(site / "reference" / "configuration" / "index.html")
    assert "organization.allowAnyUserOfConnection" in configuration
    assert "reference:" not in configuration  # every marker was replaced
    cli = text(site / "reference" / "cli" / "index.html")
    assert all(f"usage: {PROG} {name}" in cli for name in COMMANDS)
    iam = text(site / "cloud-iam" / "index.html")
    assert "--8&lt;--" not in iam  # the recipes are included, not named
    assert "create-open-id-connect-provider" in iam


# What the pages name exists


def code_spans(path: Path) -> list[str]:
    """Inline code and the lines of shell blocks."""
    source = text(path)
    blocks = re.findall(r"```(?:sh|bash)\n(.*?)```", source, re.DOTALL)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    prose = re.sub(r"```.*?```", "", source, flags=re.DOTALL)
    return [*re.findall(r"`([^`\n]+)`", prose), *filter(None, lines)]


def test_every_subcommand_the_docs_name_exists_and_answers_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    named = {
        name for path in WRITTEN for name in re.findall(rf"\b{PROG} ([a-z][a-z-]+)", text(path))
    }
    assert {"render", "backfill", "reconcile"} <= named
    assert named <= set(COMMANDS), named - set(COMMANDS)
    for name in sorted(named):
        with pytest.raises(SystemExit) as exit_:
            parser().parse_args([name, "--help"])
        assert exit_.value.code == 0
        assert f"usage: {PROG} {name}" in capsys.readouterr().out


def test_the_console_script_is_installed_and_answers_help() -> None:
    script = ROOT / ".venv" / "bin" / PROG
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert all(name in result.stdout for name in COMMANDS)


def test_every_script_module_and_path_the_docs_name_exists() -> None:
    roots = (
        "auth0_org_assignment/",
        "action_templates/",
        "devtools/",
        "tests/",
        "scripts/",
        "infra/",
        "bench/",
        "policy_pack/",
        "provider/",
        "docs/",
        ".github/",
        ".ci/",
        ".venv/bin/",
        "node_modules/.bin/",
    )
    missing = []
    for path in WRITTEN:
        for span in code_spans(path):
            for word in span.split():
                word = word.strip("(),;:'\"")
                if (
                    word.startswith(roots)
                    and not re.search(r"[<>*{}…]|\.\.\.|STACK", word)
                    and not (ROOT / word.split("::")[0]).exists()
                ):
                    missing.append(f"{path.relative_to(ROOT)}: {word}")
            for module in re.findall(r"python -m ([A-Za-z_][\w.]*)", span):
                if importlib.util.find_spec(module) is None:
                    missing.append(f"{path.relative_to(ROOT)}: python -m {module}")
    assert not missing, "\n".join(missing)


def test_every_relative_link_resolves() -> None:
    broken = []
    for path in WRITTEN:
        for target in re.findall(r"\]\(([^)\s]+)\)", text(path)):
            if re.match(r"[a-z]+:|#", target):
                continue
            if not (path.parent / target.split("#")[0]).exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert not broken, "\n".join(broken)


def test_the_recipes_are_the_files_the_page_includes() -> None:
    included = set(re.findall(r'--8<-- "([^"]+)"', "".join(text(page) for page in PAGES)))
    assert included == {recipe.name for recipe in RECIPES}
    for recipe in RECIPES:
        result = subprocess.run(["bash", "-n", str(recipe)], capture_output=True, text=True)
        assert result.returncode == 0, (recipe.name, result.stderr)


# The README


def files_listed(entries: list[object]) -> list[str]:
    """The pages of mkdocs.yml's nav, in order, each as often as it is listed."""
    found: list[str] = []
    for entry in entries:
        for value in entry.values():  # type: ignore[attr-defined]
            found += files_listed(value) if isinstance(value, list) else [value]
    return found


class MkdocsLoader(yaml.SafeLoader):
    """Safe YAML that reads mkdocs.yml's ``!!python/name:`` tags as nothing."""


MkdocsLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)


def readme_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", text(README), re.DOTALL)
    return [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]


def test_the_readme_is_a_landing_page_with_the_two_commands_ci_and_the_scripts_use() -> None:
    assert len(text(README).splitlines()) <= 110
    assert readme_commands() == ["scripts/local-up", "scripts/test"]
    ci = [line for line in text(ROOT / ".ci" / "run").splitlines() if not line.startswith("#")]
    assert "scripts/test" in ci  # CI runs exactly the README's test command
    for command in readme_commands():
        script = ROOT / command
        assert script.exists(), command
        assert os.access(script, os.X_OK), command
        assert "scripts/setup" in text(script)  # each installs what it needs on a fresh clone


def test_the_readme_sends_readers_to_every_page_of_the_site() -> None:
    nav = yaml.load(text(ROOT / "mkdocs.yml"), Loader=MkdocsLoader)["nav"]  # noqa: S506

    def files(entries: list[object]) -> set[str]:
        found: set[str] = set()
        for entry in entries:
            for value in entry.values():  # type: ignore[attr-defined]
                found |= files(value) if isinstance(value, list) else {value}
        return found

    listed = files_listed(nav)
    assert len(listed) == len(set(listed)), "a page is in the nav twice"
    linked = set(re.findall(r"\]\(docs/([^)#]+)", text(README)))
    assert files(nav) - {"index.md"} <= linked, files(nav) - linked


# Facts the pages state about the tree


def every_page() -> str:
    return "\n".join(text(path) for path in WRITTEN)


def test_supported_python_versions_are_pyproject_s() -> None:
    requires = tomllib.loads(text(ROOT / "pyproject.toml"))["project"]["requires-python"]
    low, high = re.fullmatch(r">=3\.(\d+),<3\.(\d+)", requires).groups()  # type: ignore[union-attr]
    assert f"Python 3.{low} to 3.{int(high) - 1}" in every_page()


def test_the_node_version_the_workflows_set_up_is_the_one_named() -> None:
    setup = yaml.safe_load(text(ROOT / ".github" / "actions" / "setup" / "action.yml"))
    (node_step,) = [s for s in setup["runs"]["steps"] if "setup-node" in s.get("uses", "")]
    assert f"the GitHub workflows set up Node {node_step['with']['node-version']}" in every_page()


def test_the_pinned_cli_version_is_the_one_named() -> None:
    version = text(ROOT / ".pulumi-version").strip()
    assert f"`.pulumi-version`, {version}" in every_page()
