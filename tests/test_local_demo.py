"""``scripts/local-up --shell``'s operators: an application for each operations command, holding
exactly its role's scopes, kept across runs (no engine)."""

from __future__ import annotations

from pathlib import Path

from auth0_org_assignment import credentials
from devtools.localstack import demo
from devtools.localtenant.testing import LocalTenant


def test_each_operations_command_gets_an_application_with_exactly_its_scopes(
    tmp_path: Path,
) -> None:
    with LocalTenant.start(tmp_path / "tenant.json") as tenant:
        environment = demo.operator_environment(tenant, tmp_path)
        for command in demo.OPERATORS:
            role = command.upper()
            client_id = environment[f"AUTH0_{role}_CLIENT_ID"]
            assert environment[f"AUTH0_{role}_CLIENT_SECRET"]
            (grant,) = tenant.grants_of(client_id)
            assert sorted(grant["scope"]) == sorted(getattr(credentials, role)), command
            assert (tmp_path / f"{command}.json").stat().st_mode & 0o777 == 0o600
        # Kept: a second run makes no new application.
        assert demo.operator_environment(tenant, tmp_path) == environment
