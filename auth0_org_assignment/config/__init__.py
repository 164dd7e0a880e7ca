"""The stack's configuration: one typed, frozen model, read from Pulumi or from a stack file.

Everything is validated before a single resource is registered. An error names the full
config key (``auth0-org-assignment:organization.name``) and says what to do about it; every
problem is listed at once. One module per concern:

- ``schema``: the model, each field with its constraints and hint, rules across fields;
- ``email_domains``: how an organization's email domain patterns are mapped and checked;
- ``policy``: which keys are read at all (namespaces, provider keys, secrets);
- ``sources``: reading from the engine or a stack file, and validating;
- ``pulumi_yaml``: Pulumi's own files read as the Pulumi CLI reads them, or refused;
- ``messages``: pydantic's errors as messages naming the key.
"""

from auth0_org_assignment.config.email_domains import domain_pattern
from auth0_org_assignment.config.policy import ConfigEntries
from auth0_org_assignment.config.schema import (
    PROJECT,
    ActionConfig,
    Branding,
    BrandingColours,
    OrganizationConfig,
    StackConfig,
    within,
)
from auth0_org_assignment.config.sources import (
    load_config,
    load_resolved_config,
    load_stack_file,
    load_stack_path,
    parse_config,
    project_root,
    read_stack_file,
)

__all__ = [
    "PROJECT",
    "ActionConfig",
    "Branding",
    "BrandingColours",
    "ConfigEntries",
    "OrganizationConfig",
    "StackConfig",
    "domain_pattern",
    "load_config",
    "load_resolved_config",
    "load_stack_file",
    "load_stack_path",
    "parse_config",
    "project_root",
    "read_stack_file",
    "within",
]
