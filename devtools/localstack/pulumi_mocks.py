"""Build the stack under Pulumi's own mocks and keep what the mock monitor received: the unit
tests of the program's wiring, and the scale benchmark's "program under mocks"."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import pulumi

from auth0_org_assignment import evaluation, lookups
from auth0_org_assignment.arguments import arguments_of
from auth0_org_assignment.component import OrgAssignment
from auth0_org_assignment.config import PROJECT, load_config

SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"
SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"

MOCK_CLIENT_ID = "mock-m2m-client-id"
DYNAMIC = "pulumi-python:dynamic:Resource"
"""The type of every Python dynamic resource: ``action_credential.ActionCredential``'s."""
MOCK_ORGANIZATION_ID = "org_acmexxxxxxxxxxxx"
"""The mock id of the organization named acme (org_ and 16 characters, as at Auth0)."""
MOCK_ACTION_ID = "mock-action-id"
TENANT_CONNECTIONS = ("Username-Password-Authentication", "google-oauth2", "acme-saml")
TENANT_ROLES = ("member", "admin")


class ProviderError(grpc.RpcError):  # type: ignore[misc]  # grpc has no type stubs
    """An invoke the provider fails, as the engine answers it to the program: a gRPC error
    whose details are the provider's message (a plain exception from ``Mocks.call`` would be an
    RPC-level failure instead, which the program cannot catch)."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self._details = details

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNKNOWN

    def details(self) -> str:
        return self._details


@dataclass
class Registration:
    """One resource as the mock monitor received it (secrets still wrapped)."""

    type: str
    name: str
    inputs: dict[str, Any]


@dataclass
class TenantMocks(pulumi.runtime.Mocks):
    """A tenant that has ``TENANT_CONNECTIONS`` and answers with the provider's camelCase keys."""

    registrations: list[Registration] = field(default_factory=list)
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    connection_options: dict[str, Any] | None = None
    """Options the tenant answers with every connection it looks up (a tenant that still
    allows reading them without ``read:connections_options``); None: it answers none."""
    branding_in_tenant: dict[str, Any] | None = None
    """Branding the tenant holds for every organization, whatever the program declares (the
    provider reads it back as a computed output)."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.registrations.append(Registration(args.typ, args.name, args.inputs))
        outputs = dict(args.inputs)
        if args.typ == "auth0:index/client:Client":
            # Slot a keeps the name (and here the id) the one application had; slot b is -b.
            slot_b = args.name.endswith("-b")
            outputs["clientId"] = MOCK_CLIENT_ID + ("-b" if slot_b else "")
            return f"client-resource-id{'-b' if slot_b else ''}", outputs
        if args.typ == DYNAMIC and "slot_clients" in args.inputs:
            # ActionCredential: a first update switches the Action to slot b.
            outputs.update(
                active_slot="b", active_client_id=args.inputs["slot_clients"]["b"], in_tenant=True
            )
            return f"{args.name}-id", outputs
        if args.typ == "auth0:index/organization:Organization":
            if self.branding_in_tenant is not None and "branding" not in args.inputs:
                outputs["branding"] = self.branding_in_tenant
            # Auth0's shape: org_ and 16 characters.
            return f"org_{args.inputs['name'][:16]:x<16}", outputs
        if args.typ == "auth0:index/action:Action":
            return MOCK_ACTION_ID, outputs
        return f"{args.name}-id", outputs

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.invokes.append((args.token, dict(args.args)))
        if args.token == "auth0:index/getConnection:getConnection":
            name = args.args.get("name")
            if name not in TENANT_CONNECTIONS:
                # What the provider answers for a name the tenant does not have.
                raise ProviderError(f'No connection found with "name" = "{name}"')
            found = {"id": f"con_{name}", "name": name, "strategy": "auth0"}
            if self.connection_options is not None:
                found["options"] = [self.connection_options]
            return found, []
        if args.token == "auth0:index/getRole:getRole":
            name = args.args.get("name")
            if name not in TENANT_ROLES:
                raise ProviderError(f'No role found with "name" = "{name}"')
            return {"id": f"rol_{name[:16]:x<16}", "name": name}, []
        raise NotImplementedError(args.token)

    def of_type(self, token: str) -> list[Registration]:
        """Every registration of one resource type."""
        return [r for r in self.registrations if r.type == token]

    def one(self, token: str) -> Registration:
        """The single registration of a resource type."""
        (registration,) = self.of_type(token)
        return registration


def engine_config(stack_config: dict[str, Any]) -> dict[str, str]:
    """Config as the engine passes it: ``project:key`` names, structured values as JSON."""
    engine: dict[str, str] = {}
    for key, value in stack_config.items():
        full_key = key if ":" in key else f"{PROJECT}:{key}"
        engine[full_key] = value if isinstance(value, str) else json.dumps(value)
    return engine


def build_stack(
    stack_config: dict[str, Any],
    secret_keys: list[str] | None = None,
    mocks: TenantMocks | None = None,
    *,
    preview: bool = False,
) -> tuple[TenantMocks, dict[str, Any]]:
    """Run the program under mocks (as a ``preview``, or a deploy); return what was registered
    and the component's outputs."""
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_quiet_about_failed_invokes)
    asyncio.set_event_loop(loop)
    mocks = mocks or TenantMocks()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="test", preview=preview)
    pulumi.runtime.set_all_config(engine_config(stack_config), secret_keys or [])
    outputs: dict[str, Any] = {}

    # The SDK's test decorator (it waits for every output) has no type annotations.
    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[Any]:
        component = OrgAssignment("org-assignment", arguments_of(load_config()))
        outputs[lookups.OUTPUT] = component.lookups

        def keep(values: list[Any]) -> None:
            outputs.update(
                zip(
                    (
                        "organization_id",
                        "organization_ids",
                        "m2m_client_id",
                        "action_id",
                        "action_name",
                    ),
                    values,
                    strict=True,
                )
            )

        return pulumi.Output.all(
            component.organization_id,
            component.organization_ids,
            component.m2m_client_id,
            component.action_id,
            component.action_name,
        ).apply(keep)

    # As infra/__main__.py evaluates it.
    with evaluation.many_resources():
        program()
    return mocks, outputs


def build_program(body: Callable[[], Any], mocks: TenantMocks | None = None) -> TenantMocks:
    """Run any program ``body`` under the mocks (one that declares the component itself, as
    another Pulumi program would); return what was registered."""
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_quiet_about_failed_invokes)
    asyncio.set_event_loop(loop)
    mocks = mocks or TenantMocks()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="test", preview=False)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> None:
        body()

    program()
    return mocks


def _quiet_about_failed_invokes(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # A program that raised leaves futures nobody awaits and tasks that never finish; the test
    # already asserted on the error, so their garbage collection is not news.
    message = context.get("message", "")
    if message.startswith(("Future exception was never retrieved", "Task was destroyed")):
        return
    loop.default_exception_handler(context)


def is_secret(value: Any) -> bool:
    """True when ``value`` is a secret as the monitor received it."""
    return isinstance(value, dict) and value.get(SIGNATURE_KEY) == SECRET_SIGNATURE


def plain_occurrences(value: Any, needle: str, path: str = "") -> list[str]:
    """Paths where ``needle`` appears in ``value`` outside any secret wrapper."""
    if is_secret(value):
        return []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in plain_occurrences(v, needle, f"{path}.{k}")]
    if isinstance(value, list):
        return [
            p for i, v in enumerate(value) for p in plain_occurrences(v, needle, f"{path}[{i}]")
        ]
    return [path] if isinstance(value, str) and needle in value else []
