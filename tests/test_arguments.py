"""OrgAssignment's typed arguments are the stack configuration's keys, validated by its model."""

from __future__ import annotations

import typing
from typing import Any

import pulumi
import pytest
from pydantic import BaseModel

from auth0_org_assignment import OrgAssignmentArgs
from auth0_org_assignment.arguments import arguments_of, as_configuration
from auth0_org_assignment.config import StackConfig, load_stack_file, parse_config
from devtools import ROOT
from devtools.localstack.pulumi_mocks import build_program

STACKS = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))


def keys_of(model: type[BaseModel]) -> dict[str, Any]:
    """The configuration keys of a model (aliases), each with the model it holds, if any."""
    keys: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        keys["tenantDomain" if key == "auth0:domain" else key] = _model_within(field.annotation)
    return keys


def _model_within(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _model_within(argument)
        if found is not None:
            return found
    return None


def _typed_dict_within(annotation: Any) -> Any:
    if typing.is_typeddict(annotation):
        return annotation
    for argument in typing.get_args(annotation):
        found = _typed_dict_within(argument)
        if found is not None:
            return found
    return None


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@pytest.mark.parametrize("pair", [(OrgAssignmentArgs, StackConfig)], ids=["OrgAssignmentArgs"])
def test_the_arguments_have_exactly_the_configurations_keys(pair: tuple[Any, Any]) -> None:
    pending = [pair]
    while pending:
        arguments, model = pending.pop()
        hints = typing.get_type_hints(arguments)
        assert {camel(name) for name in hints} == set(keys_of(model)), arguments.__name__
        for name, hint in hints.items():
            nested_model = keys_of(model)[camel(name)]
            nested_arguments = _typed_dict_within(hint)
            assert (nested_model is None) == (nested_arguments is None), name
            if nested_model is not None:
                pending.append((nested_arguments, nested_model))


@pytest.mark.parametrize("stack", STACKS)
def test_each_stacks_configuration_round_trips_through_the_arguments(stack: str) -> None:
    config = load_stack_file(stack, ROOT)
    assert parse_config(as_configuration(arguments_of(config)), "round trip") == config


def test_arguments_a_program_writes_get_the_configurations_errors_naming_the_field() -> None:
    arguments: OrgAssignmentArgs = {
        "tenant_domain": "acme.eu.auth0.com",
        "organization": {"name": "Not Valid", "display_name": "Acme", "email_domains": ["ac me"]},
        "connections": ["Username-Password-Authentication"],
        "action": {"time_budget_ms": 60000},
    }
    with pytest.raises(pulumi.RunError) as refused:
        build_program(lambda: _component("acme", arguments))
    message = str(refused.value)
    assert "the arguments of OrgAssignment 'acme'" in message
    assert "organization.name: String should match pattern" in message
    assert "organization.emailDomains: 'ac me' is not a domain name" in message
    assert "action.timeBudgetMs: Input should be less than or equal to 15000" in message


def test_a_program_declares_the_component_with_its_arguments() -> None:
    arguments: OrgAssignmentArgs = {
        "tenant_domain": "acme.eu.auth0.com",
        "organizations": [
            {
                "name": "acme",
                "display_name": "Acme",
                "connections": ["Username-Password-Authentication"],
                "email_domains": ["acme.com"],
                "metadata": {"snake_case_key": "kept as written"},
            }
        ],
    }
    mocks = build_program(lambda: _component("acme", arguments))
    (organization,) = mocks.of_type("auth0:index/organization:Organization")
    assert organization.inputs["metadata"] == {"snake_case_key": "kept as written"}
    assert len(mocks.of_type("auth0:index/action:Action")) == 1


def _component(name: str, arguments: OrgAssignmentArgs) -> None:
    from auth0_org_assignment import OrgAssignment

    OrgAssignment(name, arguments)
