"""The manual's reference pages, generated from the code when the site is built (the mkdocs
hook docs/hooks/reference.py calls ``on_page_markdown``).

A page asks for a reference with a line of its own, ``<!-- reference: NAME -->``; the hook puts
there what ``REFERENCES[NAME]()`` renders from the code that holds it, so the manual cannot
drift from it:

- ``configuration``: every key of the configuration's schema (``auth0_org_assignment/config/
  schema.py``): its type and constraints, default, meaning (the field's docstring) and what to
  do when a value is refused (its hint);
- ``cli``: every subcommand of the console script, as its argparse parser prints ``--help``
  (``auth0_org_assignment/commands/__init__.py``);
- ``management-calls``: the commands' Management API calls (``management_client.CALLS``), with
  their scopes and the commands that make them;
- ``action-calls`` and ``refusals``: what the Action may call and why the rule refuses someone
  (``action_templates/contract.json``);
- ``scopes``: each role's scopes with the reason for each (``auth0_org_assignment/
  credentials.py``).

A reference asked for that does not exist fails the build, naming it.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import itertools
import json
import os
import re
import textwrap
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from pydantic import BaseModel

from auth0_org_assignment import action_credential, contract, credentials, domain_proof
from auth0_org_assignment.commands import COMMANDS, PROG, management_client, parser
from auth0_org_assignment.config import schema

NONE = "\u2013"
"""What a table shows where there is no value: an en dash."""
MARKER = re.compile(r"^<!-- reference: ([a-z-]+) -->$", re.MULTILINE)
HELP_WIDTH = "100"
"""Columns argparse wraps ``--help`` to, so the page does not depend on the terminal."""


def markdown_of(docstring: str) -> str:
    """A docstring as one Markdown paragraph: reStructuredText's ``code`` as `code`."""
    return re.sub(r"\s+", " ", docstring.replace("``", "`")).strip()


def cell(text: str) -> str:
    """Text safe inside a Markdown table's cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def attribute_docstrings(owner: type | ModuleType) -> dict[str, str]:
    """The docstring under each attribute of a class or module (the string that follows it)."""
    source = textwrap.dedent(inspect.getsource(owner))
    tree = ast.parse(source)
    body = tree.body[0].body if isinstance(owner, type) else tree.body  # type: ignore[attr-defined]
    found: dict[str, str] = {}
    for statement, following in itertools.pairwise(body):
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            name = statement.target.id
        elif (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            name = statement.targets[0].id
        else:
            continue
        if (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            found[name] = inspect.cleandoc(following.value.value)
    return found


# The configuration


def _schema_type(fragment: dict[str, Any], definitions: dict[str, Any]) -> str:
    """A JSON schema fragment as the type a reader writes in YAML, with its constraints."""
    options = [
        option for option in fragment.get("anyOf", [fragment]) if option.get("type") != "null"
    ]
    if len(options) > 1:
        return " or ".join(_schema_type(option, definitions) for option in options)
    (option,) = options
    if "$ref" in option:
        return "object"
    if "enum" in option:
        return " | ".join(f"`{value}`" for value in option["enum"])
    if "const" in option:
        return f"`{option['const']}`"
    kind = str(option.get("type", "any"))
    if kind == "array":
        items = option.get("items", {})
        kind = "list of " + ("objects" if "$ref" in items else _schema_type(items, definitions))
    elif kind == "object":
        values: dict[str, Any] = option.get("additionalProperties") or next(
            iter(option.get("patternProperties", {}).values()), {}
        )
        kind = "map of text to " + _schema_type(values, definitions)
    constraints = _constraints(option)
    return kind + (f" ({', '.join(constraints)})" if constraints else "")


def _constraints(option: dict[str, Any]) -> list[str]:
    """What a JSON schema fragment limits, as a reader says it."""
    said = {
        ("minItems",): "at least {minItems}",
        ("maxItems",): "at most {maxItems}",
        ("maxProperties",): "at most {maxProperties} entries",
        ("minLength", "maxLength"): "{minLength} to {maxLength} characters",
        ("maxLength",): "at most {maxLength} characters",
        ("minimum", "maximum"): "{minimum} to {maximum}",
        ("pattern",): "matching `{pattern}`",
    }
    found: list[str] = []
    used: set[str] = set()
    for keys, words in said.items():
        if all(key in option for key in keys) and not used & set(keys):
            found.append(words.format(**option))
            used |= set(keys)
    return found


def _default(model: type[BaseModel], name: str) -> str:
    field = model.model_fields[name]
    if field.is_required():
        return "required"
    value = field.default
    if value is None or isinstance(value, BaseModel) or value in ([], {}):
        return NONE
    return f"`{json.dumps(value)}`"


def configuration_rows(
    model: type[BaseModel] = schema.StackConfig, prefix: str = ""
) -> Iterator[tuple[str, str, str, str]]:
    """(key, type, default, meaning) for every key under ``model``, nested models flattened
    into dotted keys (``organization.branding.logoUrl``)."""
    json_schema = model.model_json_schema(by_alias=True)
    definitions = json_schema.get("$defs", {})
    docstrings = attribute_docstrings(model)
    for name, field in model.model_fields.items():
        key = field.alias or name
        fragment = json_schema["properties"][key]
        meaning = markdown_of(docstrings.get(name, ""))
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if extra.get("hint"):
            meaning += f" If refused: {extra['hint']}."
        nested = _nested_model(field.annotation)
        if nested is not None and _is_list(field.annotation):
            meaning += _entries_like(model, nested, prefix)
        yield (
            f"{prefix}{key}",
            _schema_type(fragment, definitions),
            _default(model, name),
            meaning,
        )
        if nested is not None and not _is_list(field.annotation):
            yield from configuration_rows(nested, f"{prefix}{key}.")


def _entries_like(model: type[BaseModel], nested: type[BaseModel], prefix: str) -> str:
    """Where a list's entries take the keys of another key's model, which key that is."""
    for name, field in model.model_fields.items():
        if _nested_model(field.annotation) is nested and not _is_list(field.annotation):
            return f" Each entry takes the `{prefix}{field.alias or name}.*` keys below."
    return ""


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _nested_model(argument)
        if found is not None:
            return found
    return None


def _is_list(annotation: Any) -> bool:
    if getattr(annotation, "__origin__", None) is list:
        return True
    return any(_is_list(argument) for argument in getattr(annotation, "__args__", ()))


def configuration() -> str:
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key, kind, default, meaning in configuration_rows():
        lines.append(f"| `{key}` | {cell(kind)} | {cell(default)} | {cell(meaning)} |")
    return "\n".join(lines)


# The console script


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """The console script's subcommands' parsers, by name."""
    top = parser()
    (choices,) = [
        action.choices for action in top._actions if isinstance(action, argparse._SubParsersAction)
    ]
    return {name: choices[name] for name in COMMANDS}


def command_help() -> dict[str, str]:
    """Each subcommand's ``--help``, as argparse prints it at ``HELP_WIDTH`` columns."""
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_WIDTH
    try:
        return {name: command.format_help() for name, command in subcommands().items()}
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def cli() -> str:
    helps = command_help()
    lines = ["| command | what |", "|---|---|"]
    for name, module in COMMANDS.items():
        summary = (module.__doc__ or "").split("\n\n")[0]
        lines.append(f"| [`{PROG} {name}`](#{name}) | {cell(markdown_of(summary))} |")
    for name, text in helps.items():
        lines += ["", f"### `{name}` {{#{name}}}", "", "```text", text.rstrip(), "```"]
    return "\n".join(lines)


# The Management API and the scopes


def _calls_by_command() -> dict[str, list[str]]:
    """Who makes each call: the commands, and ``pulumi up``'s own resources."""
    makers: dict[str, tuple[str, ...]] = {
        name: getattr(module, "CALLS", ()) for name, module in COMMANDS.items()
    }
    makers["pulumi up (ActionCredential)"] = action_credential.CALLS
    makers["pulumi up (DomainProof)"] = domain_proof.CALLS
    users: dict[str, list[str]] = {}
    for name, calls in makers.items():
        for call in calls:
            users.setdefault(call, []).append(name)
    return users


def management_calls() -> str:
    users = _calls_by_command()
    lines = ["| call | request | scope | what for | made by |", "|---|---|---|---|---|"]
    for call in management_client.CALLS.values():
        made_by = ", ".join(f"`{name}`" for name in users.get(call.name, [])) or NONE
        lines.append(
            f"| `{call.name}` | `{call.method} {call.path}` | `{call.scope}` | "
            f"{cell(call.what)} | {made_by} |"
        )
    return "\n".join(lines)


def action_calls() -> str:
    lines = ["| call | request | scope |", "|---|---|---|"]
    for endpoint in contract.endpoints():
        lines.append(
            f"| `{endpoint.name}` | `{endpoint.method} {endpoint.path}` | `{endpoint.scope}` |"
        )
    return "\n".join(lines)


def refusals() -> str:
    lines = ["| reason | what it means |", "|---|---|"]
    for reason, meaning in contract.refusals().items():
        lines.append(f"| `{reason}` | {cell(meaning)} |")
    return "\n".join(lines)


def roles() -> dict[str, tuple[str, dict[str, str]]]:
    """Each role of ``credentials`` (its upper-case tables): its docstring and scopes."""
    docstrings = attribute_docstrings(credentials)
    return {
        name: (docstrings.get(name, ""), value)
        for name, value in vars(credentials).items()
        if name.isupper() and isinstance(value, dict)
    }


def scopes() -> str:
    table = roles()
    every = sorted({scope for _, scopes in table.values() for scope in scopes})
    lines = [
        "| scope | " + " | ".join(f"[{name}](#{name.lower()})" for name in table) + " |",
        "|---|" + "---|" * len(table),
    ]
    for scope in every:
        marks = " | ".join("yes" if scope in scopes else "" for _, scopes in table.values())
        lines.append(f"| `{scope}` | {marks} |")
    for name, (docstring, needed) in table.items():
        lines += ["", f"### {name} {{#{name.lower()}}}", "", markdown_of(docstring), ""]
        lines += ["| scope | why |", "|---|---|"]
        lines += [f"| `{scope}` | {cell(why)} |" for scope, why in needed.items()]
    return "\n".join(lines)


REFERENCES: dict[str, Callable[[], str]] = {
    "configuration": configuration,
    "cli": cli,
    "management-calls": management_calls,
    "action-calls": action_calls,
    "refusals": refusals,
    "scopes": scopes,
}


def expand(markdown: str, where: str = "a page") -> str:
    """``markdown`` with every ``<!-- reference: NAME -->`` line replaced by that reference."""

    def generated(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in REFERENCES:
            raise KeyError(
                f"{where}: no reference named {name!r}; the references are "
                + ", ".join(sorted(REFERENCES))
            )
        return REFERENCES[name]()

    return MARKER.sub(generated, markdown)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """The mkdocs hook (``hooks:`` in mkdocs.yml)."""
    return expand(markdown, page.file.src_path)
