"""The commands on a Pulumi project's org-assignment stacks and their tenants.

    auth0-org-assignment new-stack NAME --domain ... --connection ... --email-domain ...
    auth0-org-assignment render STACK [--json]
    auth0-org-assignment adopt STACK       (AUTH0_ADOPT_CLIENT_ID, _SECRET: read-only)
    auth0-org-assignment recover STACK --state FILE   (AUTH0_RECOVER_CLIENT_ID, _SECRET: read-only)
    auth0-org-assignment backfill STACK    (AUTH0_BACKFILL_CLIENT_ID, _SECRET)
    auth0-org-assignment reconcile STACK   (AUTH0_RECONCILE_CLIENT_ID, _SECRET)
    auth0-org-assignment explain STACK --user-id ID | --email ADDRESS   (AUTH0_EXPLAIN_...)
    auth0-org-assignment domains STACK     (AUTH0_DOMAINS_CLIENT_ID, _SECRET: read-only)
    auth0-org-assignment snapshot STACK    (AUTH0_SNAPSHOT_CLIENT_ID, _SECRET: read-only)
    auth0-org-assignment impact STACK --snapshot FILE --base-stack-file FILE   (no credential)

Each reads the project's ``Pulumi.yaml`` and ``Pulumi.STACK.yaml`` (the nearest directory with a
``Pulumi.yaml``, or ``--project-dir``); those that call the Management API make only the calls
their module lists in ``CALLS``, with credentials of their own.

One module a subcommand (above); the others serve them: ``management_client`` (the Management
API calls, the client, the users export), ``pace`` (the client's pace within the tier's
limits), ``eligibility`` (the Action's rule run in Node), ``deployed_rules`` (the rules the
deployed Actions hold), ``checkpoint`` (progress files of a run that can resume) and
``pulumi_import`` (the ``pulumi import`` file of ``adopt`` and ``recover``).
"""

from __future__ import annotations

import argparse
from types import ModuleType

from auth0_org_assignment.commands import (
    adopt,
    backfill,
    domains,
    explain,
    impact,
    new_stack,
    reconcile,
    recover,
    render,
    snapshot,
)

COMMANDS: dict[str, ModuleType] = {
    "new-stack": new_stack,
    "render": render,
    "adopt": adopt,
    "recover": recover,
    "backfill": backfill,
    "reconcile": reconcile,
    "explain": explain,
    "domains": domains,
    "snapshot": snapshot,
    "impact": impact,
}
"""Each subcommand's module: its docstring, ``add_arguments(parser)`` and ``run(arguments)``."""
PROG = "auth0-org-assignment"


def parser() -> argparse.ArgumentParser:
    """The console script's parser, with every subcommand."""
    top = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    subcommands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        summary, _, details = (module.__doc__ or "").partition("\n\n")
        command = subcommands.add_parser(
            name,
            help=summary.rstrip("."),
            description=summary,
            epilog=details,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return top


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; its exit status."""
    arguments = parser().parse_args(argv)
    status: int = arguments.run(arguments)
    return status
