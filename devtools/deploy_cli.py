"""Auth0's Deploy CLI (``a0deploy``, npm ``auth0-deploy-cli``) and Auth0's other npm clients,
run against a local tenant: what the conformance suite (``tests/conformance/``) and the scale
benchmark's side by side (``bench/deploycli_bench.py``) share.

The packages are the ones ``tests/conformance/package-lock.json`` pins, installed there by
``scripts/setup``. The Deploy CLI is configured as its documentation says
(https://github.com/auth0/auth0-deploy-cli/blob/master/docs/configuring-the-deploy-cli.md): a
JSON file of AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET and the options a caller adds
(AUTH0_INCLUDED_ONLY, AUTH0_API_MAX_RETRIES...), passed with ``-c``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from auth0_org_assignment.node import action_node
from devtools import ROOT
from devtools.localtenant.testing import LocalTenant

PACKAGES = ROOT / "tests" / "conformance"
"""Where package.json and package-lock.json pin the npm clients."""
NODE_MODULES = PACKAGES / "node_modules"


def node_modules() -> Path:
    """The pinned clients' npm packages, as package-lock.json says; refused when missing or
    stale."""
    installed = NODE_MODULES / ".installed-lock"
    lock = PACKAGES / "package-lock.json"
    if not installed.is_file() or installed.read_bytes() != lock.read_bytes():
        raise RuntimeError(
            f"the npm clients in {NODE_MODULES.relative_to(ROOT)} are missing or stale: "
            "run scripts/setup"
        )
    return NODE_MODULES


def client_env(tenant: LocalTenant) -> dict[str, str]:
    """The environment a client runs in: the tenant's domain and admin credentials (the names
    Auth0's tools read), and its certificate authority trusted by Node and by Python."""
    return {
        **os.environ,
        "AUTH0_DOMAIN": tenant.domain,
        "AUTH0_CLIENT_ID": tenant.admin_credentials["client_id"],
        "AUTH0_CLIENT_SECRET": tenant.admin_credentials["client_secret"],
        # https://nodejs.org/api/cli.html#node_extra_ca_certsfile
        "NODE_EXTRA_CA_CERTS": tenant.ca_cert,
        "SSL_CERT_FILE": tenant.ca_cert,
    }


def a0deploy(
    tenant: LocalTenant,
    workdir: Path,
    *arguments: str,
    timeout_s: float = 300,
    **config: Any,
) -> subprocess.CompletedProcess[str]:
    """``a0deploy <arguments> -c <config>`` as the tenant's admin client, in ``workdir``, with
    ``config`` added to (or replacing) the connection settings; deletes are off unless
    ``AUTH0_ALLOW_DELETE`` says otherwise."""
    settings = {
        "AUTH0_DOMAIN": tenant.domain,
        "AUTH0_CLIENT_ID": tenant.admin_credentials["client_id"],
        "AUTH0_CLIENT_SECRET": tenant.admin_credentials["client_secret"],
        "AUTH0_ALLOW_DELETE": False,
        **config,
    }
    config_file = workdir / f"config-{len(list(workdir.glob('config-*')))}.json"
    config_file.write_text(json.dumps(settings), encoding="utf-8")
    cli = node_modules() / "auth0-deploy-cli" / "lib" / "index.js"
    return subprocess.run(
        [action_node(), str(cli), *arguments, "-c", str(config_file)],
        env=client_env(tenant),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=workdir,
    )
