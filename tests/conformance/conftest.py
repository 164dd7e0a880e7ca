"""The conformance suite's fixtures: a local tenant served over HTTPS on loopback, and what the
clients nobody in this project wrote need to reach it (their npm packages, installed by
scripts/setup from this folder's package-lock.json; auth0-python, in the ``conformance`` uv
group)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import deploy_cli
from devtools.deploy_cli import client_env
from devtools.localtenant.testing import LocalTenant

__all__ = ["HERE", "answer_of", "client_env"]

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here is marked ``conformance`` (kept out of ``scripts/test --fast``)."""
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            item.add_marker(pytest.mark.conformance)


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """The pinned clients' npm packages, as package-lock.json says."""
    try:
        return deploy_cli.node_modules()
    except RuntimeError as missing:
        pytest.fail(str(missing))


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[LocalTenant]:
    """``python -m devtools.localtenant serve`` in a child process: every call over HTTPS."""
    with LocalTenant.spawn(tmp_path / "state.json") as running:
        yield running


def answer_of(stdout: str) -> dict[str, object]:
    answer: dict[str, object] = json.loads(stdout)
    return answer
