"""Print the Action code a stack deploys: ``python -m infra.render STACK [--json]``.

Reads ``Pulumi.STACK.yaml`` directly, so it needs no Pulumi CLI, no tenant and no secret.
"""

from __future__ import annotations

import argparse
import json
import sys

import pulumi

from auth0_org_assignment.action_code import render_actions
from auth0_org_assignment.config import load_stack_file
from infra import ROOT


def main(argv: list[str] | None = None) -> int:
    """Render one stack's Action to standard output."""
    parser = argparse.ArgumentParser(prog="python -m infra.render", description=__doc__)
    parser.add_argument("stack", help="stack name, e.g. dev (reads Pulumi.dev.yaml)")
    parser.add_argument("--json", action="store_true", help="print code and metadata as JSON")
    arguments = parser.parse_args(argv)
    try:
        shards = render_actions(load_stack_file(arguments.stack, ROOT))
    except pulumi.RunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if arguments.json:
        documents = [shard.as_json() for shard in shards]
        print(json.dumps(documents[0] if len(documents) == 1 else documents, indent=2))
        return 0
    for number, shard in enumerate(shards, start=1):
        if len(shards) > 1:
            # Organization ids are shown as (id of <name>): they exist only in the tenant.
            sys.stdout.write(f"// ===== Action {number} of {len(shards)} =====\n")
        sys.stdout.write(shard.code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
