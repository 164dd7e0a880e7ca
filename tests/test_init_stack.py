"""scripts/init-stack: first-time setup of a stack in its backend, with the pinned engine."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from devtools import ROOT
from devtools.localstack.local_stack import ENGINE
from tests.support.engine import require_engine

require_engine()


def run_init(
    checkout: Path,
    *args: str,
    passphrase: str | None = "pass",  # noqa: S107
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{ENGINE / 'bin'}:/usr/bin:/bin",
        "PULUMI_HOME": str(ENGINE / "home"),
        "PULUMI_BACKEND_URL": (checkout / "state").as_uri(),
        "PULUMI_SKIP_UPDATE_CHECK": "1",
        "HOME": str(checkout),
    }
    if passphrase is not None:
        env["PULUMI_CONFIG_PASSPHRASE"] = passphrase
    return subprocess.run(
        [str(checkout / "scripts" / "init-stack"), *args],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "init-stack", tmp_path / "scripts" / "init-stack")
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(ROOT / "Pulumi.staging.yaml", tmp_path / "Pulumi.staging.yaml")
    (tmp_path / "state").mkdir()
    return tmp_path


def test_it_creates_the_stack_once_and_names_the_file_to_commit(checkout: Path) -> None:
    first = run_init(checkout, "staging")
    assert first.returncode == 0, first.stderr
    assert "commit Pulumi.staging.yaml" in first.stdout
    assert "encryptionsalt:" in (checkout / "Pulumi.staging.yaml").read_text()
    again = run_init(checkout, "staging")
    assert again.returncode == 0, again.stderr
    assert "exists already" in again.stdout


def test_a_passphrase_stack_needs_the_passphrase(checkout: Path) -> None:
    result = run_init(checkout, "staging", passphrase=None)
    assert result.returncode == 2
    assert "PULUMI_CONFIG_PASSPHRASE" in result.stderr


def test_a_stack_needs_its_file_first(checkout: Path) -> None:
    result = run_init(checkout, "nope")
    assert result.returncode == 2
    assert "auth0-org-assignment new-stack nope" in result.stderr
