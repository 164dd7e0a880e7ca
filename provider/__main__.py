"""The OrgAssignment component as a Pulumi component provider: ``pulumi package add`` this
folder, and a TypeScript, Go, C# or YAML program declares ``auth0-org-assignment:index:
OrgAssignment`` with the same arguments as the Python package (camelCase), validated by the same
model. Pulumi's provider host infers the schema from ``OrgAssignmentArgs``'s types and
docstrings; the arguments must be plain values (the component renders the Action from them)."""

from pulumi.provider.experimental import component_provider_host

from auth0_org_assignment import OrgAssignment, __version__

if __name__ == "__main__":
    component_provider_host(
        name="auth0-org-assignment", components=[OrgAssignment], version=__version__
    )
