"""Write a stack file for your own tenant.

    auth0-org-assignment new-stack dev-eu --domain acme-dev.eu.auth0.com \\
        --connection Username-Password-Authentication --email-domain acme.com \\
        --organization acme-dev

Validates everything as ``pulumi up`` would before it writes ``Pulumi.NAME.yaml``; nothing is
written when something is wrong. Credentials never go into the file: it says how to set them.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import pulumi
import yaml

from auth0_org_assignment.config import PROJECT, parse_config, project_root

STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def stack_file_text(name: str, config: dict[str, Any]) -> str:
    """The stack file: a header saying how to add the credentials, then ``config:``."""
    header = (
        f'# Stack "{name}", written by auth0-org-assignment new-stack. No secret belongs here,\n'
        "# not even encrypted (Pulumi records the provider's configuration in the state): give\n"
        "# the deployer's credentials in the environment of pulumi up:\n"
        "#   export AUTH0_CLIENT_ID=<deployer client id> AUTH0_CLIENT_SECRET=<its secret>\n"
    )
    return header + yaml.safe_dump({"config": config}, sort_keys=False, allow_unicode=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the stack's name, e.g. dev-eu")
    parser.add_argument(
        "--domain", required=True, help="the tenant's domain, e.g. acme.eu.auth0.com"
    )
    parser.add_argument(
        "--domain-kind",
        choices=["auth0", "local"],
        default="auth0",
        help="auth0 (default: the tenant's canonical domain) or local (localtenant)",
    )
    parser.add_argument(
        "--connection",
        action="append",
        required=True,
        dest="connections",
        help="a connection to enable and assign from; repeat for more",
    )
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument(
        "--email-domain",
        action="append",
        dest="email_domains",
        help="who may join: users with a verified email here (acme.com, *.acme.com); repeat",
    )
    who.add_argument(
        "--allow-any-user-of-connection",
        action="store_true",
        help="who may join: every user of the connections (only for closed, enterprise ones)",
    )
    parser.add_argument("--organization", help="the organization's name (default: the stack name)")
    parser.add_argument("--display-name", help="shown on the login page (default: the name)")
    parser.add_argument("--failure-policy", choices=["open", "closed"], default="open")
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=None,
        help="where to write it (default: the nearest directory, from here up, with a Pulumi.yaml)",
    )


def run(arguments: argparse.Namespace) -> int:
    """Write ``Pulumi.NAME.yaml`` in the project; 0 on success, 2 on bad input."""
    root = arguments.project_dir or project_root()
    path = root / f"Pulumi.{arguments.name}.yaml"
    if not STACK_NAME.match(arguments.name):
        return _fail(f"stack name {arguments.name!r}: use letters, digits, '-', '_' and '.'")
    if path.exists():
        return _fail(f"{path.name} exists already: edit it, or pick another stack name")
    organization = arguments.organization or arguments.name.lower()
    rule: dict[str, Any] = (
        {"emailDomains": arguments.email_domains}
        if arguments.email_domains
        else {"allowAnyUserOfConnection": True}
    )
    project: dict[str, Any] = {
        "organization": {
            "name": organization,
            "displayName": arguments.display_name or organization,
            **rule,
        },
        "connections": arguments.connections,
        "action": {"failurePolicy": arguments.failure_policy},
    }
    if arguments.domain_kind != "auth0":
        project["domainKind"] = arguments.domain_kind
    try:
        parse_config({"auth0:domain": arguments.domain, **project}, "the options given")
    except pulumi.RunError as error:
        return _fail(str(error))
    config = {"auth0:domain": arguments.domain, **{f"{PROJECT}:{k}": v for k, v in project.items()}}
    path.write_text(stack_file_text(arguments.name, config), encoding="utf-8")
    print(
        f"wrote {path.name}. Next: set the deployer's credentials (see the file's header), then\n"
        f"  auth0-org-assignment render {arguments.name}   # read the code its Action runs\n"
        f"  pulumi preview --diff --stack {arguments.name}"
    )
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2
