"""Running a console-script command against a local tenant, as an operator would: its own
application, holding exactly the command's scopes (``credentials``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from auth0_org_assignment import credentials
from devtools import ROOT
from devtools.localstack.local_stack import STACK
from devtools.localtenant.testing import LocalTenant


def run_command(
    tenant: LocalTenant, project_directory: Path, command: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """``auth0-org-assignment COMMAND STACK --project-dir … ARGS`` with a new application
    granted ``credentials.<COMMAND>`` in ``AUTH0_<COMMAND>_CLIENT_ID`` and ``_SECRET``."""
    role = command.upper()
    reader = tenant.m2m_client(command, sorted(getattr(credentials, role)))
    return subprocess.run(
        [
            *(sys.executable, "-m", "auth0_org_assignment.commands", command, STACK),
            *("--project-dir", str(project_directory), *args),
        ],
        cwd=ROOT,
        env={
            **os.environ,
            f"AUTH0_{role}_CLIENT_ID": reader["client_id"],
            f"AUTH0_{role}_CLIENT_SECRET": reader["client_secret"],
            "SSL_CERT_FILE": tenant.ca_cert,
        },
        capture_output=True,
        text=True,
    )
