"""Pulumi's files read as the Pulumi CLI reads them, or refused: the commands must judge the
configuration ``pulumi up`` deploys. Checked against the pinned CLI's ``pulumi config --json``."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from auth0_org_assignment.config import PROJECT, load_resolved_config, load_stack_file, pulumi_yaml
from devtools.localstack.local_stack import PULUMI, engine_ready
from devtools.localstack.pulumi_mocks import build_stack

SCALARS = [
    # Read alike.
    *("0750", "0x1F", "1_000", "0_7", "0b11", "0xff_ff", "+1", "-0", "1__0"),
    *("1.5e+3", "1.5E+3", ".5", "1.0", "1.", "09.5", "True", "false", "y", "n", "1e"),
    # Whole floats: integers to the CLI (it hands the program "1000" for 1000.0).
    *("1000.0", "-3.0", "-0.0", "1.0e+2", "123456789.0", "1.0e+20", "1.0e+21"),
    *("acme.com", "dev-tenant.eu.auth0.com", "127.0.0.1:53", "Username-Password-Authentication"),
    # Read otherwise: refused.
    *("1e3", "1E3", "1.5e3", "-1e-3", "0.0e0", "0o17", "08", "1:30", "1:30.5"),
    *("2020-01-01", "2020-01-01T10:00:00Z", "yes", "Yes", "NO", "off", "On"),
]


def test_the_scalars_the_cli_reads_otherwise_are_refused_naming_the_line() -> None:
    with pytest.raises(pulumi_yaml.ReadDifferently) as raised:
        pulumi_yaml.load("config:\n  a: 1\n  b: on\n")
    assert raised.value.problem_mark is not None
    assert raised.value.problem_mark.line == 2
    assert "quote it ('on')" in str(raised.value.problem)
    # Quoted, they are strings to both; PyYAML's own loader is left as it was.
    assert pulumi_yaml.load("k: 'on'\nl: '1e3'\n") == {"k": "on", "l": "1e3"}
    assert yaml.safe_load("k: on") == {"k": True}


@pytest.mark.parametrize(
    "text",
    [
        # Compared with the pinned CLI: !!float 1 is "1" there, 1.0 here; !!binary aGk= "hi",
        # b"hi"; !!null '' "", None; !!timestamp a "... +0000 UTC" string, a date; !!set and
        # !!omap a mapping and a list of mappings; a custom tag its scalar.
        *("k: !!float 1", "k: !!binary aGk=", "k: !!null ''", "k: !!timestamp 2020-01-01"),
        *("k: !!set {a}", "k: !!omap [a: 1]", "k: !!str on", "k: {a: !x b}"),
        # '<<' quoted is merged by the CLI in an object, kept as a key here.
        *("k: {'<<': {a: 1}, a: 2}", "k: {<<: {a: 1}}"),
        # Keys the CLI makes strings: {~: a} is "<nil>" there, None here; true "true", True.
        *("k: {~: a}", "k: {true: a}", "k: {1.5: a}", "k: {0x10: a}", "1: a"),
        # The CLI refuses a key given twice ("mapping key already defined"); PyYAML kept the later.
        *("k: {a: 1, 'a': 2}", "k: {b: {c: 1, c: 1}}"),
        # Beyond 2**53 the CLI's number is a float64: [9007199254740993] is ...992 there.
        *("k: [9007199254740993]", "k: 123456789012345678901234567890"),
    ],
)
def test_what_the_cli_reads_otherwise_beyond_plain_scalars_is_refused(text: str) -> None:
    with pytest.raises(pulumi_yaml.ReadDifferently) as raised:
        pulumi_yaml.load(f"a: 1\n{text}\n")
    assert raised.value.problem_mark is not None
    assert raised.value.problem_mark.line == 1


def test_a_whole_float_is_the_integer_the_cli_hands_the_program(tmp_path: Path) -> None:
    """`timeBudgetMs: 1000.0` reaches the program as 1000 (the CLI passes "1000"): the
    commands read the same whole number, rather than refusing what the deploy takes."""
    (tmp_path / "Pulumi.yaml").write_text(f"name: {PROJECT}\n")
    text = yaml.safe_dump({"config": stack(emailDomains=["acme.com"])})
    (tmp_path / "Pulumi.prod.yaml").write_text(
        text + f"  {PROJECT}:action:\n    timeBudgetMs: 1000.0\n"
    )
    assert load_stack_file("prod", tmp_path).action.time_budget_ms == 1000
    assert pulumi_yaml.load("k: [2.0, 2.5, 1.0e+21]") == {"k": [2, 2.5, 1e21]}


def test_a_null_in_a_stack_files_config_is_refused(tmp_path: Path) -> None:
    """`key:` with no value is "" to the CLI (and so to the program), None to PyYAML."""
    (tmp_path / "Pulumi.yaml").write_text(f"name: {PROJECT}\n")
    (tmp_path / "Pulumi.prod.yaml").write_text(f"config:\n  {PROJECT}:connectionCheck:\n")
    with pytest.raises(pulumi.RunError, match="is empty"):
        load_stack_file("prod", tmp_path)
    assert pulumi_yaml.load("k: {'1': a, b: 9007199254740992}") == {"k": {"1": "a", "b": 2**53}}


def test_a_stack_file_nested_too_deeply_to_read_is_refused_naming_it(tmp_path: Path) -> None:
    """PyYAML reads nested collections by recursion, and Python's stack ran out (a
    RecursionError traceback) before any line was refused; ``pulumi config --json``'s output is
    read by recursion too."""
    (tmp_path / "Pulumi.yaml").write_text(f"name: {PROJECT}\n")
    deep = "[" * 3000 + "]" * 3000
    (tmp_path / "Pulumi.prod.yaml").write_text(f"config:\n  {PROJECT}:metadata: {deep}\n")
    with pytest.raises(pulumi.RunError, match=r"Pulumi\.prod\.yaml: nested too deeply to read"):
        load_stack_file("prod", tmp_path)
    (tmp_path / "config.json").write_text(deep)
    with pytest.raises(pulumi.RunError, match="not the output of pulumi config --json"):
        load_resolved_config(tmp_path / "config.json")
    # A value the engine hands the program as JSON text: left as text, which the schema refuses.
    (tmp_path / "config.json").write_text(
        json.dumps({f"{PROJECT}:organization": {"value": deep}, "auth0:domain": {"value": "x"}})
    )
    with pytest.raises(pulumi.RunError, match=r"organization: Input should be a valid dict"):
        load_resolved_config(tmp_path / "config.json")


def stack(**organization: Any) -> dict[str, Any]:
    return {
        "auth0:domain": "acme.eu.auth0.com",
        f"{PROJECT}:organization": {"name": "acme", "displayName": "Acme", **organization},
        f"{PROJECT}:connections": ["Username-Password-Authentication"],
    }


def test_a_stack_file_and_pulumi_yaml_are_refused_by_the_commands_and_the_deploy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`allowAnyUserOfConnection: off` is the string "off" to the CLI (and so whatever the
    program makes of it), false to PyYAML: refused both where the commands read the file and
    where the deploy runs, so neither judges a configuration the other does not."""
    (tmp_path / "Pulumi.yaml").write_text(f"name: {PROJECT}\n")
    text = yaml.safe_dump({"config": stack(emailDomains=["acme.com"])})
    (tmp_path / "Pulumi.prod.yaml").write_text(text + f"  {PROJECT}:assignMembershipOnLogin: off\n")
    with pytest.raises(pulumi.RunError, match=r"Pulumi\.prod\.yaml:\d+: off is read otherwise"):
        load_stack_file("prod", tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pulumi, "get_root_directory", lambda: str(tmp_path))
    monkeypatch.setattr(pulumi, "get_stack", lambda: "prod")
    with pytest.raises(pulumi.RunError, match="off is read otherwise"):
        build_stack(stack(emailDomains=["acme.com"]))
    # Pulumi.yaml's config is read the same way.
    (tmp_path / "Pulumi.prod.yaml").write_text(text)
    (tmp_path / "Pulumi.yaml").write_text(
        f"name: {PROJECT}\nconfig:\n  dnsResolvers:\n    type: array\n    default: [1e3]\n"
    )
    with pytest.raises(pulumi.RunError, match=r"Pulumi\.yaml:5: 1e3 is read otherwise"):
        load_stack_file("prod", tmp_path)


@pytest.mark.skipif(not engine_ready(), reason="no Pulumi engine: run scripts/engine")
def test_every_scalar_is_read_as_the_cli_reads_it_or_refused(tmp_path: Path) -> None:
    """The pinned CLI's reading of each scalar (`pulumi config --json`, a scratch stack on a
    file backend), against this reader's: the same value, or a refusal."""
    (tmp_path / "state").mkdir()
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    environment = {
        **os.environ,
        "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "scratch",
        "PULUMI_SKIP_UPDATE_CHECK": "1",
    }

    def pulumi_cli(*args: str) -> str:
        return subprocess.run(
            [str(PULUMI), *args, "--non-interactive"],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    pulumi_cli("stack", "init", "s")
    header = (tmp_path / "Pulumi.s.yaml").read_text()
    lines = "".join(f"  p:k{i:02d}: {value}\n" for i, value in enumerate(SCALARS))
    (tmp_path / "Pulumi.s.yaml").write_text(f"{header}config:\n{lines}")
    answer = json.loads(pulumi_cli("config", "--json", "--stack", "s"))

    def same(ours: Any, cli: Any) -> bool:
        return bool(ours == cli and type(ours) is type(cli))

    refused = []
    for i, value in enumerate(SCALARS):
        text = answer[f"p:k{i:02d}"]["value"]
        try:
            cli = json.loads(text)
        except ValueError:
            cli = text
        try:
            ours = pulumi_yaml.load(f"k: {value}")["k"]
        except pulumi_yaml.ReadDifferently:
            # Refused only where PyYAML's own reading differs from the CLI's.
            assert not same(yaml.safe_load(f"k: {value}")["k"], cli), value
            refused.append(value)
            continue
        assert same(ours, cli), (value, cli, ours)
    assert refused == SCALARS[SCALARS.index("1e3") :]
