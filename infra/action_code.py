"""The post-login Action's code, rendered from ``action_templates/`` with Jinja2.

The stack and ``python -m infra.render`` both call :func:`render_action`, so what a reviewer
renders locally is byte for byte what the stack deploys.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import pulumi

from infra.config import PROJECT, StackConfig

TEMPLATES = Path(__file__).resolve().parent.parent / "action_templates"
TEMPLATE = "post_login.js.j2"
RUNTIME = "node22"
TRIGGER = "post-login"
TRIGGER_VERSION = "v3"
SECRET_NAMES = ("TENANT_DOMAIN", "CLIENT_ID", "CLIENT_SECRET", "ORGANIZATION_ID")
"""The Action secrets; the same names the support article uses."""

# The Management API calls the code may make, and the scope each needs. The grant is derived
# from the rendered code through this table, so it can never drift from what the code calls.
SCOPE_OF_CALL = {
    'request("POST", `/organizations/${organization}/members`': "create:organization_members",
    'request("GET", `/organizations/${organization}/enabled_connections/': (
        "read:organization_connections"
    ),
}
MAX_CODE_BYTES = 100 * 1024
"""Auth0 rejects Actions larger than this."""


@dataclass(frozen=True)
class Dependency:
    """An npm package the Action requires, at one exact version."""

    name: str
    version: str


@dataclass(frozen=True)
class RenderedAction:
    """Everything the stack needs to declare the Action, derived from one render."""

    code: str
    runtime: str
    dependencies: tuple[Dependency, ...]
    """npm packages the Action declares: none, the code uses Node's own fetch."""
    secrets: tuple[str, ...]
    connections: tuple[str, ...]
    scopes: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """The shape ``python -m infra.render STACK --json`` prints."""
        return {
            "code": self.code,
            "runtime": self.runtime,
            "dependencies": [asdict(dependency) for dependency in self.dependencies],
            "secrets": list(self.secrets),
            "connections": list(self.connections),
            "scopes": list(self.scopes),
        }


def render_action(config: StackConfig) -> RenderedAction:
    """Render the Action for a stack's configuration. Deterministic: same config, same code."""
    code = (
        _environment()
        .get_template(TEMPLATE)
        .render(project=PROJECT, connections=config.connections, action=config.action)
    )
    size = len(code.encode("utf-8"))
    if size > MAX_CODE_BYTES:
        raise pulumi.RunError(
            f"the rendered Action is {size} bytes, over Auth0's {MAX_CODE_BYTES}-byte limit: "
            f"shorten {PROJECT}:connections or {PROJECT}:action.denyMessage"
        )
    return RenderedAction(
        code=code,
        runtime=RUNTIME,
        dependencies=(),
        secrets=SECRET_NAMES,
        connections=tuple(config.connections),
        scopes=scopes_called_by(code),
    )


def scopes_called_by(code: str) -> tuple[str, ...]:
    """The Management API scopes the calls in ``code`` need, sorted."""
    return tuple(sorted(scope for call, scope in SCOPE_OF_CALL.items() if call in code))


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        # The output is JavaScript, not HTML: values enter it through |tojson instead.
        autoescape=False,  # noqa: S701
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
