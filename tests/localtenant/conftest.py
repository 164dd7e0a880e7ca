"""The local tenant's fixtures: served in a child process (every call over HTTPS), or in this
process (its clocks can be shortened; the harness's calls skip HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.localtenant.testing import LocalTenant


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[LocalTenant]:
    """``python -m devtools.localtenant serve`` in a child process: every call goes over HTTPS."""
    with LocalTenant.spawn(tmp_path / "state.json") as process:
        yield process


# --- Auth0's documented limits (issue 16) ----------------------------------------------------
# The tests below run the tenant in this process, so they can shorten its clocks; the
# harness's calls skip HTTP, and what is about HTTP goes over HTTPS (``fetch``, ``https_api``),
# or raw sockets where framing is the point.


@pytest.fixture
def in_process(tmp_path: Path) -> Iterator[LocalTenant]:
    with LocalTenant.start(tmp_path / "state.json", custom_domain="127.0.0.1") as running:
        yield running
