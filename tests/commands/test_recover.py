"""auth0-org-assignment recover's reading of an exported state and its refusals (no tenant, no
engine). What it finds in a tenant, the import and the ``up`` after it, with the real engine,
are in test_recover_lifecycle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auth0_org_assignment.commands.management_client import UsageError
from auth0_org_assignment.commands.recover import TYPES, StateResources, discover
from auth0_org_assignment.component import COMPONENT_TYPE, LogicalNames

STACK_URN = "urn:pulumi:prod::auth0-org-assignment"
COMPONENT_URN = f"{STACK_URN}::{COMPONENT_TYPE}::org-assignment"


def exported(tmp_path: Path, *resources: dict[str, Any]) -> Path:
    path = tmp_path / "prod.state.json"
    path.write_text(
        json.dumps({"version": 3, "deployment": {"resources": list(resources)}}), encoding="utf-8"
    )
    return path


def resource(kind: str, name: str, resource_id: str = "") -> dict[str, Any]:
    kind_type = TYPES[kind]
    return {
        "urn": f"{STACK_URN}::{COMPONENT_TYPE}${kind_type}::{name}",
        "type": kind_type,
        "id": resource_id,
    }


COMPONENT = {"urn": COMPONENT_URN, "type": COMPONENT_TYPE}


def test_the_state_names_each_resource_by_type_and_logical_name(tmp_path: Path) -> None:
    names = LogicalNames()
    state = StateResources.read(
        exported(
            tmp_path,
            COMPONENT,
            resource("client", names.m2m_client, "client-a"),
            resource("organization", "org-assignment-organization-acme", "org_1"),
        )
    )
    assert state.component_urn == COMPONENT_URN
    assert state.holds("client", names.m2m_client)
    assert not state.holds("client", names.slot_client("b"))
    assert state.id_of("organization", "org-assignment-organization-acme") == "org_1"
    assert state.id_of("organization", "org-assignment-organization-other") is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a state `pulumi stack export` wrote"),
        (json.dumps({"version": 3}), "no deployment.resources"),
        (json.dumps({"deployment": {"resources": []}}), f"holds no {COMPONENT_TYPE}"),
    ],
)
def test_a_state_that_is_not_one_is_refused_naming_the_file(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "state.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match=r"--state .*state\.json") as refused:
        StateResources.read(path)
    assert message in str(refused.value)


def test_a_state_without_the_applications_is_refused_before_any_request(tmp_path: Path) -> None:
    state = StateResources.read(exported(tmp_path, COMPONENT))
    # No client: a request would fail loudly.
    with pytest.raises(UsageError, match="none of the stack's M2M applications"):
        discover(None, None, state)  # type: ignore[arg-type]
