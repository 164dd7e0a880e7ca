"""The real Pulumi engine, for the test modules that run it."""

from __future__ import annotations

import os

import pytest

from devtools.localstack.local_stack import engine_ready


def require_engine() -> None:
    """Skip the calling test module when there is no engine under ``.engine/``, except under CI
    (``CI`` set), where that is an error: a lifecycle test skipped there would pass unseen."""
    if engine_ready():
        return
    if os.environ.get("CI"):
        raise RuntimeError("no Pulumi engine under .engine/: run scripts/engine before the tests")
    pytest.skip("no Pulumi engine: run scripts/engine (scripts/test does)", allow_module_level=True)
