"""Auth0's Deploy CLI (``a0deploy``, auth0-deploy-cli) against the local tenant: an export, an
import of what the stack manages (deploy_cli/tenant.yaml: a database connection, an
organization with it enabled, the post-login Action and its binding, an M2M application and its
grant, a role), an export again that shows what was imported, and a second import that creates
and deletes nothing.

The Deploy CLI is configured as its documentation says
(https://github.com/auth0/auth0-deploy-cli/blob/master/docs/configuring-the-deploy-cli.md):
AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET, AUTH0_INCLUDED_ONLY / AUTH0_EXCLUDED,
AUTH0_KEYWORD_REPLACE_MAPPINGS. AUTH0_API_MAX_RETRIES is 1 rather than its 10: its SDK retries
every 5xx, the local tenant's 501 for what it does not emulate included, a second apart.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools import deploy_cli
from devtools.localtenant.testing import LocalTenant
from tests.conformance.conftest import HERE

MANAGED = [
    "clients",
    "clientGrants",
    "databases",
    "connections",
    "organizations",
    "actions",
    "triggers",
    "roles",
]
"""The Deploy CLI's resource types for what the stack manages."""

NOT_EMULATED = [
    # The Deploy CLI's resource types a default export stops at, for an endpoint the local
    # tenant answers 501 (devtools/localtenant/COVERAGE.md); each type's other endpoints that the
    # Deploy CLI reads tolerantly (404/501: a feature the tenant lacks) are answered 501 too.
    "attackProtection",
    "customDomains",
    "emailProvider",
    "emailTemplates",
    "eventStreams",
    "flowVaultConnections",
    "flows",
    "forms",
    "guardianPhoneFactorMessageTypes",
    "guardianPhoneFactorSelectedProvider",
    "guardianPolicies",
    "logStreams",
    "phoneProviders",
    "phoneTemplates",
    "prompts",
    "riskAssessment",
    "rules",
    "rulesConfigs",
    "selfServiceProfiles",
    "supplementalSignals",
    "themes",
    "tokenExchangeProfiles",
]

MUTATING = ("create", "update", "delete", "deploy")

# What the Deploy CLI changes on every import, whatever the tenant answers: it PATCHes every
# resource its file names that it finds (lib/tools/calculateChanges.js puts each match in
# `update`), redeploys an Action marked `deployed`, and PATCHes the trigger's bindings. It
# compares only an organization's own fields and its connections, and changes them only when
# they differ: an organization connection without `organization_access_level: none` in the file
# is updated on every import, against Auth0 too, which answers that field (recorded in
# terraform-provider-auth0's TestAccOrganizationConnections.yaml).
ALWAYS_UPDATED = {
    "clients.update",
    "client_grants.update",
    "connections.update",
    "roles.update",
    "actions.update",
    "actions.deploy",
    "actions.bindings.update",
}


def a0deploy(
    tenant: LocalTenant, node_modules: Path, workdir: Path, *arguments: str, **config: Any
) -> subprocess.CompletedProcess[str]:
    """The Deploy CLI from ``node_modules`` (the fixture that checks it is installed), retrying
    once rather than its 10 times."""
    assert node_modules == deploy_cli.NODE_MODULES
    return deploy_cli.a0deploy(tenant, workdir, *arguments, AUTH0_API_MAX_RETRIES=1, **config)


def export(
    tenant: LocalTenant, node_modules: Path, workdir: Path, name: str, **config: Any
) -> dict[str, Any]:
    folder = workdir / name
    done = a0deploy(
        tenant,
        node_modules,
        workdir,
        "export",
        "--format",
        "yaml",
        "--output_folder",
        str(folder),
        **config,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    exported: dict[str, Any] = yaml.safe_load((folder / "tenant.yaml").read_text("utf-8"))
    return exported


def import_managed(tenant: LocalTenant, node_modules: Path, workdir: Path) -> Counter[str]:
    """Import deploy_cli/tenant.yaml; the mutating requests the tenant received, by route."""
    before = tenant.calls()
    done = a0deploy(
        tenant,
        node_modules,
        workdir,
        "import",
        "--input_file",
        str(HERE / "deploy_cli" / "tenant.yaml"),
        AUTH0_INCLUDED_ONLY=MANAGED,
        AUTH0_KEYWORD_REPLACE_MAPPINGS={"DOMAIN": tenant.domain},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Import Successful" in done.stdout
    after = tenant.calls()
    return Counter(
        {
            name: after[name] - before[name]
            for name in after
            if name.rsplit(".", 1)[-1] in MUTATING and after[name] > before[name]
        }
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    folder = tmp_path / "deploy"
    folder.mkdir()
    return folder


def test_a_default_export_stops_only_where_the_tenant_says_it_does_not_emulate(
    tenant: LocalTenant, node_modules: Path, workdir: Path
) -> None:
    out = workdir / "default"
    done = a0deploy(
        tenant, node_modules, workdir, "export", "--format", "yaml", "--output_folder", str(out)
    )
    assert done.returncode != 0
    assert '"errorCode": "not_emulated"' in done.stdout + done.stderr
    # Without the types the local tenant does not emulate, the export reads everything else,
    # the Management API's resource server and the tenant settings included.
    exported = export(tenant, node_modules, workdir, "rest", AUTH0_EXCLUDED=NOT_EMULATED)
    assert exported["tenant"]["enabled_locales"]
    assert exported["resourceServers"] == []  # the Deploy CLI leaves the Management API out
    assert {db["name"] for db in exported["databases"]} == {"Username-Password-Authentication"}
    assert set(tenant.not_emulated()) >= {"GET /api/v2/rules"}


def test_an_import_exports_as_imported_and_imports_again_as_a_no_op(
    tenant: LocalTenant, node_modules: Path, workdir: Path
) -> None:
    first = import_managed(tenant, node_modules, workdir)
    assert {name for name in first if name.endswith(".create")} >= {
        "clients.create",
        "client_grants.create",
        "connections.create",
        "organizations.create",
        "organizations.connections.create",
        "roles.create",
        "actions.create",
    }

    exported = export(tenant, node_modules, workdir, "again", AUTH0_INCLUDED_ONLY=MANAGED)
    wanted = yaml.safe_load((HERE / "deploy_cli" / "tenant.yaml").read_text("utf-8"))
    assert exported["triggers"] == wanted["triggers"]  # the binding, exported
    for kind in ("organizations", "roles"):
        assert [
            _subset(item, want) for item, want in zip(exported[kind], wanted[kind], strict=True)
        ] == (wanted[kind])
    (action,) = exported["actions"]
    assert _subset(action, wanted["actions"][0]) | {"code": action["code"]} == wanted["actions"][0]
    (grant,) = exported["clientGrants"]
    assert grant["client_id"] == "org-assign-m2m"
    assert sorted(grant["scope"]) == sorted(wanted["clientGrants"][0]["scope"])
    database = next(db for db in exported["databases"] if db["name"] == "acme-users")
    assert database["enabled_clients"] == ["org-assign-m2m"]

    second = import_managed(tenant, node_modules, workdir)
    assert set(second) == ALWAYS_UPDATED
    # Once each; a deploy refused while the Action builds ("A draft must be in the 'built'
    # state before it can be deployed.") is tried again.
    assert {name: count for name, count in second.items() if name != "actions.deploy"} == (
        dict.fromkeys(ALWAYS_UPDATED - {"actions.deploy"}, 1)
    )


def _subset(item: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """``item`` with only the keys ``wanted`` has (recursively for a list of dicts)."""
    picked: dict[str, Any] = {}
    for key, want in wanted.items():
        value = item.get(key)
        if isinstance(want, list) and want and isinstance(want[0], dict) and value:
            value = [_subset(v, w) for v, w in zip(value, want, strict=True)]
        picked[key] = value
    return picked
