"""The ``pulumi import --file`` document that ``adopt`` and ``recover`` write: the resource types
they import, an entry under the stack's component, and the command that imports the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auth0_org_assignment.component import COMPONENT_TYPE, LogicalNames

RESOURCE_TYPES = {
    "client": "auth0:index/client:Client",
    "grant": "auth0:index/clientGrant:ClientGrant",
    "organization": "auth0:index/organization:Organization",
    "connection": "auth0:index/organizationConnection:OrganizationConnection",
    "discovery_domain": "auth0:index/organizationDiscoveryDomain:OrganizationDiscoveryDomain",
    "action": "auth0:index/action:Action",
    "binding": "auth0:index/triggerAction:TriggerAction",
}

PARENT = "component"
"""The name each entry's ``parent`` gives the stack's component in the file."""


def entry(kind: str, name: str, import_id: str, **extra: Any) -> dict[str, Any]:
    """One resource to import under the component, by its logical name."""
    return {"type": RESOURCE_TYPES[kind], "name": name, "id": import_id, "parent": PARENT} | extra


def with_component(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The file for a stack whose state does not hold its component yet: imported too."""
    component = {
        "type": COMPONENT_TYPE,
        "name": PARENT,
        "logicalName": LogicalNames().component,
        "component": True,
    }
    return {"resources": [component, *entries]}


def under_component(component_urn: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The file for a stack whose state holds its component (``component_urn``)."""
    return {"nameTable": {PARENT: component_urn}, "resources": entries}


def command(stack: str, path: str | Path, *environment: str) -> str:
    """The import, with the deployer's credentials; it asks before it writes the state."""
    prefix = "".join(f"{variable} " for variable in environment)
    return (
        f"{prefix}pulumi import --stack {stack} --file {path} --generate-code=false --protect=false"
    )
