"""The Action's modules as Auth0 runs them: one minified bundle of ``action_templates/``'s
``post_login.js`` and what it requires, built by esbuild (its version pinned in
package-lock.json), and the commit its sources come from, which the Action's header names.

In a checkout the bundle is built on first use, with the esbuild ``scripts/setup`` installs; an
installed package carries the one built with its wheel (``hatch_build.py``). Only the standard
library here: the wheel's build hook loads this file on its own.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ENTRY = "post_login.js"
"""The module whose exports the Action uses (``createHandler``)."""
GLOBAL = "orgAssignment"
"""The name the bundle gives the entry's exports, for the template's last line."""
BUILT = "bundle.js"
"""The bundle an installed package carries, beside the modules."""
SOURCE_LINE = "// source: "


@dataclass(frozen=True)
class Bundle:
    """The modules as one script defining ``orgAssignment``, and where they come from."""

    code: str
    source: str
    """The commit of ``action_templates/`` they were built from, with "+ local changes" when
    the checkout's differ from it."""
    inputs: tuple[str, ...] = ()
    """The files that went in, relative to ``action_templates/`` (when built here)."""


@cache
def action_bundle(templates: Path, node_modules: Path) -> Bundle:
    """The bundle the package carries, else one built now from ``templates``."""
    built = templates / BUILT
    if built.is_file():
        first, _, code = built.read_text(encoding="utf-8").partition("\n")
        return Bundle(code, first.removeprefix(SOURCE_LINE))
    return build(templates, node_modules)


def build(templates: Path, node_modules: Path) -> Bundle:
    """Bundle and minify the modules with esbuild; the same sources and esbuild, the same
    code. Only the modules of ``templates`` may go in (Node's own are required at run time):
    an npm package would be third-party code in the Action, unreviewed and unpinned."""
    esbuild = node_modules / ".bin" / "esbuild"
    if not esbuild.is_file():
        raise RuntimeError(
            f"no {esbuild} to build the Action's code with: run scripts/setup (npm ci), which "
            "installs the esbuild package-lock.json pins"
        )
    with tempfile.TemporaryDirectory() as scratch:
        metafile, outfile = Path(scratch) / "meta.json", Path(scratch) / BUILT
        result = subprocess.run(  # noqa: S603 (the pinned esbuild, on the package's own files)
            [
                str(esbuild),
                str(templates / ENTRY),
                *("--bundle", "--format=iife", f"--global-name={GLOBAL}", "--platform=node"),
                *("--target=node22", "--minify", "--legal-comments=none", "--charset=utf8"),
                *("--log-level=warning", f"--metafile={metafile}", f"--outfile={outfile}"),
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=templates,
        )
        if result.returncode != 0:
            raise RuntimeError(f"esbuild could not build the Action's code: {result.stderr}")
        inputs = tuple(sorted(json.loads(metafile.read_text(encoding="utf-8"))["inputs"]))
        code = outfile.read_text(encoding="utf-8").rstrip("\n")
    foreign = [name for name in inputs if "/" in name or name.startswith("..")]
    if foreign:
        raise RuntimeError(
            f"the Action's modules may require only each other and Node's own: {foreign}"
        )
    return Bundle(code, source_commit(templates), inputs)


def source_commit(templates: Path) -> str:
    """The last commit that changed ``templates``, or "unknown" outside a git checkout."""

    def git(*args: str) -> str:
        found = subprocess.run(  # noqa: S603
            ["git", "-C", str(templates), *args],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
        return found.stdout.strip() if found.returncode == 0 else ""

    commit = git("log", "-1", "--format=%H", "--", ".")
    if not commit:
        return "unknown"
    changed = git("status", "--porcelain", "--", ".")
    return f"{commit}{' + local changes' if changed else ''}"


def built_file(bundle: Bundle) -> str:
    """The text of ``bundle.js``, as the wheel carries it."""
    return f"{SOURCE_LINE}{bundle.source}\n{bundle.code}"
