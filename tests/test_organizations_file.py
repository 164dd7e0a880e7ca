"""A stack's organizations read from a data file (organizationsFile): CSV or YAML, validated by
the stack file's schema, errors naming the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest
import yaml

from auth0_org_assignment.config import PROJECT, load_stack_file, parse_config
from devtools.localstack.pulumi_mocks import build_stack

DOMAIN = {"auth0:domain": "acme.eu.auth0.com"}
DATABASE = "Username-Password-Authentication"

HEADER = (
    "name,displayName,connections,emailDomains,roles,metadata.tier,"
    "branding.colors.primary,branding.colors.pageBackground,"
    "trustEmailVerifiedFrom,trustedConnectionDomains.google-oauth2"
)
ACME = (
    f"acme,Acme Inc.,{DATABASE} google-oauth2,acme.com *.acme.com,member,gold,#0059D6,#FFFFFF,"
    "google-oauth2,*.acme.com"
)
CSV = f"""{HEADER}
{ACME}

"beta",Beta,{DATABASE},beta.io,,,,,,
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_csv_file_gives_the_same_organizations_as_the_stack_file(tmp_path: Path) -> None:
    write(tmp_path, "data/orgs.csv", CSV)
    from_file = parse_config({**DOMAIN, "organizationsFile": "data/orgs.csv"}, "t", tmp_path)
    inline = parse_config(
        {
            **DOMAIN,
            "organizations": [
                {
                    "name": "acme",
                    "displayName": "Acme Inc.",
                    "connections": [DATABASE, "google-oauth2"],
                    "emailDomains": ["acme.com", "*.acme.com"],
                    "roles": ["member"],
                    "metadata": {"tier": "gold"},
                    "branding": {"colors": {"primary": "#0059D6", "pageBackground": "#FFFFFF"}},
                    # A dotted column under a mapping of lists holds a list too.
                    "trustEmailVerifiedFrom": ["google-oauth2"],
                    "trustedConnectionDomains": {"google-oauth2": ["*.acme.com"]},
                },
                {
                    "name": "beta",
                    "displayName": "Beta",
                    "connections": [DATABASE],
                    "emailDomains": ["beta.io"],
                },
            ],
        },
        "t",
    )
    assert from_file == inline


def test_a_yaml_file_is_read_relative_to_the_stack_file(tmp_path: Path) -> None:
    organizations = [
        {
            "name": "acme",
            "displayName": "Acme",
            "connections": [DATABASE],
            "allowAnyUserOfConnection": True,
        }
    ]
    write(tmp_path, "orgs.yaml", yaml.safe_dump(organizations))
    write(
        tmp_path,
        "Pulumi.t.yaml",
        yaml.safe_dump({"config": {**DOMAIN, f"{PROJECT}:organizationsFile": "orgs.yaml"}}),
    )
    config = load_stack_file("t", tmp_path)
    assert [o.name for o in config.organizations] == ["acme"]
    assert config.organizations[0].allow_any_user_of_connection


@pytest.mark.parametrize(
    ("name", "text", "messages"),
    [
        (
            "orgs.csv",
            "name,displayName,connections,emailDomains,allowAnyUserOfConnection\n"
            f"acme,Acme,{DATABASE},acme.com,\n"
            f"beta,Beta,{DATABASE},not_a_domain,\n"
            f"gamma,Gamma,{DATABASE},,maybe\n",
            [
                "orgs.csv:3: emailDomains: 'not_a_domain' is not a domain name",
                "orgs.csv:4: allowAnyUserOfConnection: Input should be a valid boolean",
            ],
        ),
        (
            "orgs.csv",
            f"name,displayName,connections,emailDomain\nacme,Acme,{DATABASE},acme.com\n",
            ["orgs.csv:2: emailDomain: unknown key"],
        ),
        (
            "orgs.csv",
            f"name,displayName,connections,emailDomains\nacme,Acme,{DATABASE}\n",
            ["orgs.csv:2: 3 cells where the header has 4"],
        ),
        (
            "orgs.yaml",
            f"- name: acme\n  displayName: Acme\n  connections: [{DATABASE}]\n"
            "  emailDomains: [acme.com]\n"
            f"- name: beta\n  displayName: Beta\n  connections: [{DATABASE}]\n"
            "  emailDomains: [beta.io]\n  colour: red\n",
            ["orgs.yaml:9: colour: unknown key"],
        ),
        (
            "orgs.yaml",
            "- name: acme\n  displayName: Acme\n  emailDomains: [acme.com]\n",
            ["orgs.yaml:1: connections: required"],
        ),
        (
            "orgs.yaml",
            f"- name: acme\n  displayName: Acme\n  connections: [{DATABASE}]\n"
            "  emailDomains: [acme.com]\n" * 2,
            ["orgs.yaml: acme listed more than once"],
        ),
        (
            # A key given twice: PyYAML keeps the later value, which a reader of the first
            # would not see (the stack file refuses it too).
            "orgs.yaml",
            f"- name: acme\n  displayName: Acme\n  connections: [{DATABASE}]\n"
            "  emailDomains: [acme.com]\n  metadata: {tier: gold, tier: free}\n",
            ["orgs.yaml:5: tier is given twice (first on line 5)"],
        ),
        (
            "orgs.yaml",
            f"- name: acme\n  displayName: Acme\n  connections: [{DATABASE}]\n"
            "  emailDomains: [acme.com]\n  emailDomains: [gmail.com]\n",
            ["orgs.yaml:5: emailDomains is given twice (first on line 4)"],
        ),
        (
            "orgs.csv",
            f"name,displayName,connections,emailDomains, emailDomains\n"
            f"acme,Acme,{DATABASE},acme.com,gmail.com\n",
            ["orgs.csv:1: emailDomains is the key of columns 4 and 5; keep one"],
        ),
        (
            "orgs.csv",
            f"name,displayName,connections,emailDomains,metadata,metadata.tier\n"
            f"acme,Acme,{DATABASE},acme.com,x,gold\n",
            ["orgs.csv:1: columns 5 (metadata) and 6 (metadata.tier) both set metadata"],
        ),
        (
            "orgs.csv",
            f"name,displayName,connections,emailDomains.x,emailDomains\n"
            f"acme,Acme,{DATABASE},acme.com,acme.com\n",
            ["orgs.csv:1: columns 4 (emailDomains.x) and 5 (emailDomains) both set emailDomains"],
        ),
        (
            "orgs.csv",
            f"name,displayName,connections,emailDomains,.name\nacme,Acme,{DATABASE},acme.com,x\n",
            ["orgs.csv:1: column 5's key '.name' has an empty part"],
        ),
        (
            # A key as deep as Python's stack: the error's echo of the value stays bounded.
            "orgs.csv",
            f"name,displayName,connections,emailDomains,metadata{'.a' * 1500}\n"
            f"acme,Acme,{DATABASE},acme.com,x\n",
            ["orgs.csv:2: metadata.a: Input should be a valid string (got {'a': {'a': {'a': {'a'"],
        ),
        ("orgs.yaml", "- name: [\n", ["orgs.yaml:2: YAML syntax error"]),
        # PyYAML reads nesting by recursion: deep enough, Python's stack runs out first.
        ("orgs.yaml", "- " + "[" * 3000 + "]" * 3000 + "\n", ["orgs.yaml: nested too deeply"]),
        ("orgs.yaml", "name: acme\n", ["orgs.yaml: must be a YAML list of organizations"]),
        ("orgs.yaml", "", ["orgs.yaml: lists no organization"]),
        ("orgs.json", "[]", ["organizationsFile: 'orgs.json' is neither .csv nor .yaml"]),
    ],
)
def test_errors_name_the_file_the_line_and_the_key(
    tmp_path: Path, name: str, text: str, messages: list[str]
) -> None:
    write(tmp_path, name, text)
    with pytest.raises(pulumi.RunError) as raised:
        parse_config({**DOMAIN, "organizationsFile": name}, "Pulumi.t.yaml", tmp_path)
    for message in messages:
        assert message in str(raised.value)


@pytest.mark.parametrize("name", ["orgs.csv", "orgs.yaml"])
def test_a_file_saved_with_a_byte_order_mark_reads_as_without(tmp_path: Path, name: str) -> None:
    """Spreadsheets save "CSV UTF-8" with a byte-order mark; read as part of the first key it
    made the header's first column unknown ("name: required")."""
    entries = [
        {
            "name": "acme",
            "displayName": "Acme",
            "connections": [DATABASE],
            "emailDomains": ["acme.com"],
        }
    ]
    text = (
        f"name,displayName,connections,emailDomains\nacme,Acme,{DATABASE},acme.com\n"
        if name.endswith(".csv")
        else yaml.safe_dump(entries)
    )
    (tmp_path / name).write_bytes(b"\xef\xbb\xbf" + text.encode())
    config = parse_config({**DOMAIN, "organizationsFile": name}, "Pulumi.t.yaml", tmp_path)
    assert [o.name for o in config.organizations] == ["acme"]
    assert config.organizations[0].email_domains == ["acme.com"]


@pytest.mark.parametrize("path", ["../orgs.csv", "/etc/orgs.csv", "missing.csv"])
def test_a_file_outside_the_project_or_missing_is_refused(tmp_path: Path, path: str) -> None:
    write(tmp_path.parent, "orgs.csv", CSV)
    with pytest.raises(pulumi.RunError, match=f"{PROJECT}:organizationsFile: .*{path}"):
        parse_config({**DOMAIN, "organizationsFile": path}, "t", tmp_path / ".")


def test_a_file_and_inline_organizations_are_never_both(tmp_path: Path) -> None:
    write(tmp_path, "orgs.csv", CSV)
    inline = [
        {"name": "x", "displayName": "X", "connections": [DATABASE], "emailDomains": ["x.io"]}
    ]
    with pytest.raises(pulumi.RunError, match="set either it or"):
        parse_config(
            {**DOMAIN, "organizationsFile": "orgs.csv", "organizations": inline}, "t", tmp_path
        )


def test_the_program_reads_the_file_under_mocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "Pulumi.yaml", "name: auth0-org-assignment\n")
    write(tmp_path, "orgs.csv", CSV)
    monkeypatch.chdir(tmp_path)
    mocks, _ = build_stack({**DOMAIN, "organizationsFile": "orgs.csv", "organizations": []})
    names = [r.inputs["name"] for r in mocks.of_type("auth0:index/organization:Organization")]
    assert sorted(names) == ["acme", "beta"]


def test_the_program_reads_the_file_at_the_project_root_the_engine_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine runs the program in Pulumi.yaml's main directory (infra/) and names the
    project's root: the file is read there, as render and impact read it, even when a
    Pulumi.yaml is added under infra/ beside another data file of the same name."""
    write(tmp_path, "Pulumi.yaml", "name: auth0-org-assignment\nmain: infra/\n")
    write(tmp_path, "orgs.csv", CSV)
    write(tmp_path, "infra/Pulumi.yaml", "name: auth0-org-assignment\n")
    write(
        tmp_path,
        "infra/orgs.csv",
        "name,displayName,connections,allowAnyUserOfConnection\nmallory,Mallory,google-oauth2,true\n",
    )
    monkeypatch.chdir(tmp_path / "infra")
    monkeypatch.setattr(pulumi, "get_root_directory", lambda: str(tmp_path))
    mocks, _ = build_stack({**DOMAIN, "organizationsFile": "orgs.csv", "organizations": []})
    names = [r.inputs["name"] for r in mocks.of_type("auth0:index/organization:Organization")]
    assert sorted(names) == ["acme", "beta"]
