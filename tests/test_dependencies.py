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
# The packages run outside tests: the component package and the Pulumi program, and the
# development tools (`python -m devtools.localtenant serve`, the README's first command, the
# engine's language host, the local-stack driver behind scripts/local-up).
RUNTIME_PACKAGES = ("auth0_org_assignment", "infra", "devtools")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules() -> set[str]:
    modules: set[str] = set()
    for package in RUNTIME_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - set(RUNTIME_PACKAGES) - {"__future__"}


def runtime_closure() -> set[str]:
    """The project's runtime dependencies in uv.lock, with theirs, dev group left out."""
    lock: dict[str, Any] = tomllib.loads((ROOT / "uv.lock").read_text())
    packages = {normalise(p["name"]): p for p in lock["package"]}
    seen: set[str] = set()
    pending = [d["name"] for d in packages[PROJECT].get("dependencies", [])]
    while pending:
        name = normalise(pending.pop())
        if name not in seen:
            seen.add(name)
            pending.extend(d["name"] for d in packages[name].get("dependencies", []))
    return seen


def test_every_third_party_import_outside_tests_is_a_runtime_dependency() -> None:
    distributions = importlib.metadata.packages_distributions()
    closure = runtime_closure()
    missing = {
        module: sorted(normalise(d) for d in distributions.get(module, [module]))
        for module in imported_modules()
        if not any(normalise(d) in closure for d in distributions.get(module, [module]))
    }
    assert not missing, f"imported outside tests, not a runtime dependency: {missing}"


def test_the_local_tenants_certificate_library_is_a_runtime_dependency() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime = [normalise(re.split(r"[=<>~!]", d)[0]) for d in pyproject["project"]["dependencies"]]
    dev = [normalise(re.split(r"[=<>~!]", d)[0]) for d in pyproject["dependency-groups"]["dev"]]
    assert "trustme" in runtime
    assert "trustme" not in dev
    assert "trustme" in runtime_closure()
