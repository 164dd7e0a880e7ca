"""The auth0 provider plugin's own Go tests (devtools/engine/auth0-provider): the pacer's buckets
and queues, the read-back of an organization's connection answered from its create (pacing),
and the time each operation of a resource runs for (timeouts).

They run on a copy of the plugin's source with the rate-limit table beside it, as scripts/engine
builds it; the pacing package imports only Go's standard library, the timeouts package
Terraform's plugin SDK, which Go fetches from its module proxy when its module cache does not
hold it already (scripts/engine's build fills it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from devtools import ROOT

PLUGIN = ROOT / "devtools" / "engine" / "auth0-provider"
# Go's own installer puts the toolchain off the default PATH (scripts/engine looks there too).
GO = shutil.which("go") or shutil.which("go", path="/usr/local/go/bin")


@pytest.mark.skipif(GO is None and not os.environ.get("CI"), reason="no Go toolchain")
def test_the_plugins_go_tests_pass(tmp_path: Path) -> None:
    assert GO is not None, "CI installs Go for scripts/engine"
    source = tmp_path / "auth0-provider"
    shutil.copytree(PLUGIN, source, ignore=shutil.ignore_patterns("schema-embed.json"))
    shutil.copy(ROOT / "auth0_org_assignment" / "rate_limits.json", source / "pacing")
    run = subprocess.run(
        [GO, "test", "-count=1", "./pacing/", "./timeouts/"],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "GOTOOLCHAIN": "local"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ok" in run.stdout
