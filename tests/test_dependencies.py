"""What the program, the local tenant and the engine import is installed without the dev group."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from typing import Any

from devtools import ROOT

PROJECT = "auth0-org-assignment"
SHIPPED = ("auth0_org_assignment", "infra")
"""What a program using the component runs: the package (the wheel) and this repository's
program. They may import only the project's runtime dependencies."""
DEVELOPMENT = ("devtools",)
"""The local tenant, the engine's stand-ins and the local-stack harness: the dev group's too."""
OWN = {*SHIPPED, *DEVELOPMENT, "policy_pack", "tests", "bench"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules(packages: tuple[str, ...]) -> set[str]:
    modules: set[str] = set()
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - OWN - {"__future__"}


def closure(requirements: list[str]) -> set[str]:
    """These packages of uv.lock, with their dependencies."""
    lock: dict[str, Any] = tomllib.loads((ROOT / "uv.lock").read_text())
    packages = {normalise(p["name"]): p for p in lock["package"]}
    seen: set[str] = set()
    pending = list(requirements)
    while pending:
        name = normalise(pending.pop())
        if name not in seen:
            seen.add(name)
            pending.extend(d["name"] for d in packages[name].get("dependencies", []))
    return seen


def declared(group: str | None) -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    entries = (
        pyproject["project"]["dependencies"]
        if group is None
        else pyproject["dependency-groups"][group]
    )
    names = []
    for entry in entries:
        if isinstance(entry, dict):  # {include-group = "..."}: that group's entries too
            names += declared(entry["include-group"])
        else:
            names.append(normalise(re.split(r"[=<>~!\[]", entry)[0]))
    return names


def missing(modules: set[str], allowed: set[str]) -> dict[str, list[str]]:
    distributions = importlib.metadata.packages_distributions()
    return {
        module: sorted(normalise(d) for d in distributions.get(module, [module]))
        for module in modules
        if not any(normalise(d) in allowed for d in distributions.get(module, [module]))
    }


def test_what_ships_imports_only_runtime_dependencies() -> None:
    found = missing(imported_modules(SHIPPED), closure(declared(None)))
    assert not found, f"imported by the package or the program, not a runtime dependency: {found}"


def test_the_development_tools_import_only_locked_dependencies() -> None:
    allowed = closure(declared(None) + declared("dev"))
    found = missing(imported_modules(DEVELOPMENT), allowed)
    assert not found, f"imported by devtools/, in neither the runtime nor the dev group: {found}"


def test_the_local_tenants_certificate_library_is_for_development_only() -> None:
    assert "trustme" not in declared(None)
    assert "trustme" in declared("dev")
    assert "trustme" not in closure(declared(None))
