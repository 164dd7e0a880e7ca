"""Entry point: load the stack's configuration, declare the component, export its outputs."""

import pulumi

from infra.config import load_config
from infra.org_assignment import COMPONENT, OrgAssignment

org_assignment = OrgAssignment(COMPONENT, load_config())

pulumi.export("organization_id", org_assignment.organization_id)
pulumi.export("organization_ids", org_assignment.organization_ids)
pulumi.export("m2m_client_id", org_assignment.m2m_client_id)
pulumi.export("action_id", org_assignment.action_id)
pulumi.export("action_name", org_assignment.action_name)
