"""Print the Action code a stack deploys.

    auth0-org-assignment render STACK [--json]

Reads ``Pulumi.STACK.yaml`` directly, so it needs no Pulumi CLI, no tenant and no secret; the
organization and role ids, which exist only in the tenant, show as ``(id of <name>)``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pulumi

from auth0_org_assignment.action_code import render_actions
from auth0_org_assignment.config import load_stack_file, project_root


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", help="stack name, e.g. dev (reads Pulumi.dev.yaml)")
    parser.add_argument("--json", action="store_true", help="print code and metadata as JSON")
    parser.add_argument("--project-dir", type=Path, default=None, help="where Pulumi.STACK.yaml is")


def run(arguments: argparse.Namespace) -> int:
    """Render one stack's Action to standard output."""
    try:
        config = load_stack_file(arguments.stack, arguments.project_dir or project_root())
        shards = render_actions(config)
    except pulumi.RunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if arguments.json:
        documents = [shard.as_json() for shard in shards]
        print(json.dumps(documents[0] if len(documents) == 1 else documents, indent=2))
        return 0
    for number, shard in enumerate(shards, start=1):
        if len(shards) > 1:
            sys.stdout.write(f"// ===== Action {number} of {len(shards)} =====\n")
        sys.stdout.write(shard.code)
    return 0
