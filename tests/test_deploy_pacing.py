"""The pacer the auth0 provider plugin puts in front of every Management API request of a
deploy (devtools/engine/auth0-provider/pacing): its Go unit tests, run on the table this
checkout holds. With the real engine: tests/test_deploy_pacing_lifecycle.py."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from devtools import ROOT

GO = shutil.which("go") or (
    "/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None
)


@pytest.mark.slow
@pytest.mark.skipif(GO is None, reason="no Go toolchain (scripts/engine builds the plugin with it)")
def test_the_pacers_go_tests_pass_on_this_table(tmp_path: Path) -> None:
    module = tmp_path / "pacing-module"
    (module / "pacing").mkdir(parents=True)
    for source in (ROOT / "devtools" / "engine" / "auth0-provider" / "pacing").glob("*.go"):
        shutil.copy(source, module / "pacing" / source.name)
    shutil.copy(ROOT / "auth0_org_assignment" / "rate_limits.json", module / "pacing")
    (module / "go.mod").write_text("module example.com/pacing\n\ngo 1.25\n")
    assert GO is not None
    run = subprocess.run(
        [GO, "test", "-count=1", "./pacing/"],
        cwd=module,
        capture_output=True,
        text=True,
        env={**os.environ, "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"},
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
