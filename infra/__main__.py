"""Entry point: load the stack's configuration, declare the component, export its outputs.

The component is the ``auth0_org_assignment`` package, used as any other program would use it;
the stack file is only where this program's arguments come from.
"""

import pulumi

from auth0_org_assignment import OrgAssignment, evaluation, lookups
from auth0_org_assignment.arguments import arguments_of
from auth0_org_assignment.component import COMPONENT
from auth0_org_assignment.config import load_config

# Thousands of organizations are thousands of resources: keep evaluation linear.
evaluation.for_many_resources()
org_assignment = OrgAssignment(COMPONENT, arguments_of(load_config()))

pulumi.export("organization_id", org_assignment.organization_id)
pulumi.export("organization_ids", org_assignment.organization_ids)
pulumi.export("m2m_client_id", org_assignment.m2m_client_id)
pulumi.export("action_id", org_assignment.action_id)
pulumi.export("action_name", org_assignment.action_name)
# The ids of the connection and role names it looked up: a pull request's preview reads them
# instead of the tenant (auth0_org_assignment.lookups.RECORDED_VARIABLE).
pulumi.export(lookups.OUTPUT, org_assignment.lookups)
