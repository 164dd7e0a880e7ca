"""Turning pydantic's errors into messages people can act on: the full config key
(``auth0-org-assignment:organization.name``), what is wrong, the value (shortened), and the
field's own hint (``auth0_org_assignment.config.schema``)."""

from __future__ import annotations

import re
import reprlib
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from auth0_org_assignment.config.schema import PROJECT

ECHO_MAX = 60
"""Longest input an error message repeats."""
_ECHO = reprlib.Repr()
"""``repr`` within bounds: a value nested deeper than Python's stack, or YAML aliases that
expand to millions of items, would stop it or take minutes."""
_ECHO.maxlevel, _ECHO.maxlist, _ECHO.maxdict = 4, 8, 8
_ECHO.maxstring = _ECHO.maxother = 2 * ECHO_MAX


def describe(problem: Any, model: type[BaseModel]) -> str:
    """One of pydantic's errors, validating ``model``, as a line naming the key."""
    location = tuple(problem["loc"])
    key = full_key(location)
    kind = problem["type"]
    if kind == "extra_forbidden":
        return (
            f"{key}: unknown key; check its spelling against the configuration reference "
            "(docs/reference/configuration.md)"
        )
    if kind == "missing":
        return f"{key}: required; set it in the stack file or with `pulumi config set --path`"
    message = re.sub(r"^(Value|Assertion) error, ", "", problem["msg"])
    if not location:  # a rule across keys: its message names them
        return message
    if isinstance(problem["input"], dict | list) and kind == "value_error":
        return f"{key}: {message}"  # a rule across the object's keys; no need to echo it
    shown = _ECHO.repr(problem["input"])
    if len(shown) > ECHO_MAX:
        shown = shown[: ECHO_MAX - 3] + "..."
    field_hint = hint_of(model, location)
    return f"{key}: {message} (got {shown})" + (f"; {field_hint}" if field_hint else "")


def full_key(location: tuple[int | str, ...]) -> str:
    """``("organization", "name")`` -> ``auth0-org-assignment:organization.name``."""
    if not location:
        return f"{PROJECT}:<root>"
    head, *rest = location
    key = str(head) if str(head).startswith("auth0:") else f"{PROJECT}:{head}"
    return key + path_within(rest)


def path_within(location: Sequence[int | str]) -> str:
    """``("organizations", 0, "name")`` -> ``.organizations[0].name``."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location)


def hint_of(model: type[BaseModel], location: tuple[int | str, ...]) -> str:
    """The hint of the field at ``location``: the deepest field on the way that has one (a
    metadata entry's error gets the metadata field's)."""
    found = ""
    current: type[BaseModel] | None = model
    for part in location:
        if isinstance(part, int) or current is None:
            continue
        info = _field(current, part)
        if info is None:
            break
        extra = info.json_schema_extra
        if isinstance(extra, dict) and isinstance(extra.get("hint"), str):
            found = str(extra["hint"])
        current = _model_within(info.annotation)
    return found


def _field(model: type[BaseModel], name: str) -> FieldInfo | None:
    for attribute, info in model.model_fields.items():
        if name in (attribute, info.alias):
            return info
    return None


def _model_within(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, through ``| None``, lists and ``Annotated``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        model = _model_within(argument)
        if model is not None:
            return model
    return None
