"""CONTRIBUTING.md's task table names commands that exist, and pre-commit runs scripts/check."""

from __future__ import annotations

import re
import subprocess

import yaml

from devtools import ROOT

CONTRIBUTING = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")


def test_every_script_the_task_table_names_exists_and_runs() -> None:
    commands = re.findall(r"^\| [^|]+ \| `([^`]+)` \|", CONTRIBUTING, re.MULTILINE)
    assert len(commands) >= 8
    for command in commands:
        # The first word that is not an environment setting (UPDATE_SNAPSHOTS=1 ...).
        program = next(part for part in command.split() if "=" not in part)
        if program.startswith(("scripts/", ".venv/bin/", "node_modules/")):
            assert (ROOT / program).exists(), command


def test_pre_commit_runs_scripts_check() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    (hook,) = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert hook["entry"] == "scripts/check"
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "pre-commit"), "validate-config", ".pre-commit-config.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
