"""Running a console-script command against a local tenant, as an operator would: its own
application, holding exactly the command's scopes (``credentials``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from auth0_org_assignment import credentials
from auth0_org_assignment.commands.management_client import credential_variables
from devtools import ROOT
from devtools.localstack.local_stack import STACK
from devtools.localtenant.testing import LocalTenant


def operator_environment(tenant: LocalTenant, command: str) -> dict[str, str]:
    """This process's environment with a new application of ``tenant`` granted
    ``credentials.<COMMAND>``, in ``AUTH0_<COMMAND>_CLIENT_ID`` and ``_SECRET``, and the
    tenant's certificate authority."""
    role = command.upper()
    client = tenant.m2m_client(command, sorted(getattr(credentials, role)))
    client_id, client_secret = credential_variables(role)
    return {
        **os.environ,
        client_id: client["client_id"],
        client_secret: client["client_secret"],
        "SSL_CERT_FILE": tenant.ca_cert,
    }


def command_line(command: str, stack: str, project_directory: Path, *args: str) -> list[str]:
    """``auth0-org-assignment COMMAND STACK --project-dir … ARGS``, run by this Python."""
    return [
        *(sys.executable, "-m", "auth0_org_assignment.commands", command, stack),
        *("--project-dir", str(project_directory), *args),
    ]


def run(
    line: list[str], environment: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``line`` from the repository's root, its output captured."""
    return subprocess.run(
        line,
        cwd=ROOT,
        env=None if environment is None else dict(environment),
        capture_output=True,
        text=True,
    )


def run_command(
    tenant: LocalTenant, project_directory: Path, command: str, *args: str, stack: str = STACK
) -> subprocess.CompletedProcess[str]:
    """``command`` on ``stack`` with ``args``, by a new application holding its scopes."""
    return run(
        command_line(command, stack, project_directory, *args),
        operator_environment(tenant, command),
    )
