"""auth0-org-assignment new-stack writes a valid stack file, or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from auth0_org_assignment import commands
from auth0_org_assignment.config import load_stack_file


def test_writes_a_stack_file_the_program_accepts(tmp_path: Path) -> None:
    argv = [
        "eu",
        "--domain",
        "acme.eu.auth0.com",
        "--connection",
        "google-oauth2",
        "--connection",
        "Username-Password-Authentication",
        "--organization",
        "acme-eu",
        "--email-domain",
        "acme.com",
    ]
    assert commands.main(["new-stack", *argv, "--project-dir", str(tmp_path)]) == 0
    config = load_stack_file("eu", tmp_path)
    assert config.organizations[0].name == "acme-eu"
    assert config.connections == ["google-oauth2", "Username-Password-Authentication"]
    assert config.organizations[0].email_domains == ["acme.com"]
    text = (tmp_path / "Pulumi.eu.yaml").read_text()
    assert "export AUTH0_CLIENT_ID=<deployer client id> AUTH0_CLIENT_SECRET=" in text
    assert "auth0:clientSecret" not in text
    assert set(yaml.safe_load(text)) == {"config"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["x", "--domain", "evil.example.com", "--connection", "c", "--email-domain", "a.io"],
            "not a tenant's canonical domain",
        ),
        (
            [
                "x",
                "--domain",
                "a.auth0.com",
                "--connection",
                "c",
                "--organization",
                "Bad Name",
                "--allow-any-user-of-connection",
            ],
            "organization.name",
        ),
        (
            ["bad name", "--domain", "a.auth0.com", "--connection", "c", "--email-domain", "a.io"],
            "stack name",
        ),
        (
            ["x", "--domain", "a.auth0.com", "--connection", "c", "--email-domain", "not a domain"],
            "is not a domain name",
        ),
        (
            ["x", "--domain", "a.auth0.com", "--connection", "c", "--email-domain", "gmail.com"],
            "organization.emailDomains: gmail.com is a free-mail domain",
        ),
    ],
)
def test_bad_input_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert commands.main(["new-stack", *argv, "--project-dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_existing_stack_file_is_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    argv = ["dev", "--domain", "a.auth0.com", "--connection", "c", "--email-domain", "a.io"]
    assert commands.main(["new-stack", *argv, "--project-dir", str(tmp_path)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert (tmp_path / "Pulumi.dev.yaml").read_text() == "config: {}\n"
