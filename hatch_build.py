"""The wheel's build hook: it builds the Action's bundle (auth0_org_assignment/action_bundle.py,
esbuild from node_modules/) into the package, so an installed package needs no Node tools to
render the Action."""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class ActionBundleHook(BuildHookInterface):  # type: ignore[misc]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            # The checkout's own install (scripts/setup's uv sync, before npm ci): the package
            # reads action_templates/ from the checkout and builds the bundle on first use.
            return
        root = Path(self.root)
        spec = importlib.util.spec_from_file_location(
            "action_bundle", root / "auth0_org_assignment" / "action_bundle.py"
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        bundle = module.build(root / "action_templates", root / "node_modules")
        target = Path(tempfile.mkdtemp()) / module.BUILT
        target.write_text(module.built_file(bundle), encoding="utf-8")
        build_data["force_include"][str(target)] = (
            f"auth0_org_assignment/action_templates/{module.BUILT}"
        )
