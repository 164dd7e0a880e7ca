"""The Node.js that runs the Action's JavaScript outside Auth0: Node 22, the runtime Auth0 runs
Actions on (``node22``). The backfill and reconcile decide membership with it, and the
configuration asks it how the Action reads each configured domain.

In a checkout, ``scripts/setup`` installs the pinned one under ``node_modules/``
(package-lock.json); a ``node`` on the PATH is used when it is a Node 22 too.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from typing import Any

from auth0_org_assignment.paths import PINNED_NODE, TEMPLATES

MEMBERSHIP = TEMPLATES / "membership.js"
CONFIGURATION = TEMPLATES / "configuration.js"
NODE_MAJOR = 22


class NodeMissing(RuntimeError):
    """No Node 22 to run the Action's code with."""


@cache
def action_node() -> str:
    """The path of a Node 22: the pinned one, else ``node`` on the PATH if it is 22."""
    for candidate in (str(PINNED_NODE) if PINNED_NODE.is_file() else None, shutil.which("node")):
        if candidate and node_major(candidate) == NODE_MAJOR:
            return candidate
    raise NodeMissing(
        f"no Node.js {NODE_MAJOR} to run the Action's code with (Auth0 runs Actions on "
        f"node{NODE_MAJOR}): run scripts/setup, which installs it under node_modules/, or put "
        f"a Node.js {NODE_MAJOR} on the PATH"
    )


@cache
def node_major(node: str) -> int | None:
    """The major version of the Node at ``node``; None when it does not run."""
    try:
        version = subprocess.run(
            [node, "-p", "process.versions.node"], capture_output=True, text=True, timeout=30
        ).stdout
        return int(version.split(".")[0])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


@cache
def domains_as_the_action_reads(hosts: tuple[str, ...]) -> tuple[str | None, ...]:
    """How the Action reads an address at each of ``hosts``: ``emailDomain`` of
    action_templates/membership.js, in one Node process for all of them."""
    script = (
        f"const {{ emailDomain }} = require({json.dumps(str(MEMBERSHIP))});"
        "const hosts = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(hosts.map((host) => emailDomain(`x@${host}`))));"
    )
    return tuple(_answer(script, list(hosts)))


def unpacked_configuration(block: dict[str, Any]) -> dict[str, Any]:
    """The configuration an Action's handler reads from its packed block: ``unpack`` of
    action_templates/configuration.js, so the block's format is read in one place."""
    script = (
        f"const {{ unpack }} = require({json.dumps(str(CONFIGURATION))});"
        "const block = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(unpack(block)));"
    )
    unpacked: dict[str, Any] = _answer(script, block)
    return unpacked


def _answer(script: str, given: Any) -> Any:
    """What ``script`` writes, as JSON, given ``given`` as JSON on its standard input, in Node."""
    answer = subprocess.run(
        [action_node(), "-e", script],
        input=json.dumps(given),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(answer.stdout)
