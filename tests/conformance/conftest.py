"""The conformance suite's fixtures: a local tenant served over HTTPS on loopback, and what the
clients nobody in this project wrote need to reach it (their npm packages, installed by
scripts/setup from this folder's package-lock.json; auth0-python, in the ``conformance`` uv
group)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.localtenant.testing import LocalTenant

HERE = Path(__file__).parent
NODE_MODULES = HERE / "node_modules"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here is marked ``conformance`` (kept out of ``scripts/test --fast``)."""
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            item.add_marker(pytest.mark.conformance)


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """The pinned clients' npm packages, as package-lock.json says."""
    installed = NODE_MODULES / ".installed-lock"
    lock = HERE / "package-lock.json"
    if not installed.is_file() or installed.read_bytes() != lock.read_bytes():
        pytest.fail("the conformance suite's npm packages are missing or stale: run scripts/setup")
    return NODE_MODULES


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[LocalTenant]:
    """``python -m devtools.localtenant serve`` in a child process: every call over HTTPS."""
    with LocalTenant.spawn(tmp_path / "state.json") as running:
        yield running


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


def answer_of(stdout: str) -> dict[str, object]:
    answer: dict[str, object] = json.loads(stdout)
    return answer
