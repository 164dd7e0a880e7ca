"""A stack's organizations read from a data file in the repository (``organizationsFile``),
for stacks with thousands of them: a YAML list of the same entries ``organizations`` takes, or a
CSV table of their flat keys.

The entries are validated by the same schema as the stack file's, and an error names the file,
the line and the key (``orgs.csv:12: emailDomains[1]: ...``) instead of the configuration key.

CSV: a header row of keys (``name,displayName,connections,emailDomains``), one organization a
row. A list's items are separated by spaces (``acme.com *.acme.com``; connection names, domains,
roles and client ids hold none); ``true``/``false`` for switches; an empty cell leaves the key
unset; a nested key is dotted (``branding.logoUrl``, ``branding.colors.primary``,
``metadata.tier``).

Either is UTF-8, a byte-order mark allowed; a key given twice (in a YAML mapping, or as two
header columns) is refused, naming the line.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

from auth0_org_assignment.config.pulumi_yaml import UniqueKeysLoader, refused
from auth0_org_assignment.config.schema import PROJECT, OrganizationConfig

KEY = "organizationsFile"
"""The stack's key naming the data file, relative to the project (the stack file's directory)."""
SUFFIXES = {".csv": "csv", ".yaml": "yaml", ".yml": "yaml"}


@dataclass
class OrganizationsFile:
    """The organizations a data file lists, and where in it each one and each key is."""

    name: str
    """The file's path as the stack names it."""
    entries: list[Any]
    lines: list[int] = field(default_factory=list)
    """The line of each entry."""
    key_lines: list[dict[str, int]] = field(default_factory=list)
    """For each entry, the line of each of its keys (YAML; a CSV row is one line)."""

    def where(self, index: int, key: str | None) -> str:
        """``file:line``, the line of ``key`` in entry ``index`` when it is known."""
        line = self.lines[index] if index < len(self.lines) else 0
        if key is not None and index < len(self.key_lines):
            line = self.key_lines[index].get(key, line)
        return f"{self.name}:{line}"

    def relocate(self, message: str) -> str:
        """A validation message naming ``organizations[i].key`` rewritten to name the file,
        the line and the key."""
        pattern = re.compile(
            rf"{re.escape(PROJECT)}:organizations\[(\d+)\](?:\.([A-Za-z]+))?([\w.\[\]]*)"
        )

        def replace(found: re.Match[str]) -> str:
            index, key, rest = int(found.group(1)), found.group(2), found.group(3)
            if key is None:
                return f"{self.where(index, None)}: organization {self._name_of(index)}{rest}"
            return f"{self.where(index, key)}: {key}{rest}"

        message = pattern.sub(replace, message)
        return message.replace(f"{PROJECT}:organizations: ", f"{self.name}: ")

    def _name_of(self, index: int) -> str:
        entry = self.entries[index] if index < len(self.entries) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        return repr(name) if isinstance(name, str) else f"#{index + 1}"


def read_organizations(value: Any, root: Path) -> OrganizationsFile:
    """The organizations of the data file ``value`` names (relative to ``root``), unvalidated."""
    key = f"{PROJECT}:{KEY}"
    if not isinstance(value, str) or not value.strip():
        raise pulumi.RunError(f"{key}: give the path of a .csv or .yaml file in the repository")
    relative = Path(value)
    kind = SUFFIXES.get(relative.suffix.lower())
    if kind is None:
        raise pulumi.RunError(f"{key}: {value!r} is neither .csv nor .yaml (.yml); rename it")
    path = (root / relative).resolve()
    if relative.is_absolute() or not path.is_relative_to(root.resolve()):
        raise pulumi.RunError(
            f"{key}: {value!r} is outside the project; keep the file in the repository and give "
            "its path relative to Pulumi.yaml"
        )
    try:
        # utf-8-sig: spreadsheets save "CSV UTF-8" with a byte-order mark, which would
        # otherwise be part of the first column's key.
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise pulumi.RunError(f"{key}: cannot read {value!r} ({reason})") from None
    read = _read_csv if kind == "csv" else _read_yaml
    found = read(value, text)
    if not found.entries:
        raise pulumi.RunError(f"{value}: lists no organization; list at least one")
    return found


def _read_yaml(name: str, text: str) -> OrganizationsFile:
    try:
        document = yaml.compose(text, Loader=yaml.SafeLoader)
        entries = yaml.load(text, Loader=UniqueKeysLoader)  # noqa: S506 (a SafeLoader)
    except (yaml.YAMLError, RecursionError) as error:
        raise pulumi.RunError(refused(name, error)) from None
    if entries is None:
        return OrganizationsFile(name, [])
    if not isinstance(entries, list) or not isinstance(document, yaml.SequenceNode):
        raise pulumi.RunError(
            f"{name}: must be a YAML list of organizations (- name: ...), as under organizations:"
        )
    lines = [node.start_mark.line + 1 for node in document.value]
    key_lines = [
        {
            str(key.value): key.start_mark.line + 1
            for key, _ in (node.value if isinstance(node, yaml.MappingNode) else [])
        }
        for node in document.value
    ]
    return OrganizationsFile(name, entries, lines, key_lines)


def _read_csv(name: str, text: str) -> OrganizationsFile:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            return OrganizationsFile(name, [])
        header = [column.strip() for column in header]
        blank = [n + 1 for n, column in enumerate(header) if not column]
        if blank:
            raise pulumi.RunError(
                f"{name}:1: column {blank[0]} has no key in the header row; name every column "
                "(name,displayName,connections,emailDomains,...)"
            )
        _check_header(name, header)
        entries: list[Any] = []
        lines: list[int] = []
        start = reader.line_num + 1
        for row in reader:
            if not any(cell.strip() for cell in row):
                start = reader.line_num + 1
                continue
            if len(row) != len(header):
                raise pulumi.RunError(
                    f"{name}:{start}: {len(row)} cells where the header has {len(header)}; "
                    "quote a cell that holds a comma"
                )
            entries.append(_entry(header, row))
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as error:
        raise pulumi.RunError(f"{name}:{reader.line_num}: CSV syntax error: {error}") from None
    return OrganizationsFile(name, entries, lines, [{} for _ in entries])


def _check_header(name: str, header: list[str]) -> None:
    """Refuse a header whose keys a row could not be read by unseen: a key given twice (the
    later cell would win), a dotted key with an empty part, or a key inside another column's
    (``metadata`` and ``metadata.tier``: one cell would be dropped or overwrite the other)."""
    for n, column in enumerate(header):
        if column in header[:n]:
            raise pulumi.RunError(
                f"{name}:1: {column} is the key of columns {header.index(column) + 1} and "
                f"{n + 1}; keep one (a row's later cell would win unseen)"
            )
        if "" in column.split("."):
            raise pulumi.RunError(
                f"{name}:1: column {n + 1}'s key {column!r} has an empty part; write nested keys "
                "as parent.child (metadata.tier)"
            )
        for m, other in enumerate(header[:n]):
            inner, outer = (column, other) if len(column) > len(other) else (other, column)
            if inner.startswith(outer + "."):
                raise pulumi.RunError(
                    f"{name}:1: columns {m + 1} ({other}) and {n + 1} ({column}) both set "
                    f"{outer}; keep one"
                )


def _entry(header: list[str], row: list[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for column, cell in zip(header, row, strict=True):
        cell = cell.strip()
        if not cell:
            continue
        *parents, last = column.split(".")
        target = entry
        for part in parents:
            nested = target.setdefault(part, {})
            target = nested if isinstance(nested, dict) else {}
        target[last] = _cell(column, cell)
    return entry


def _cell(column: str, cell: str) -> Any:
    key, dot, _ = column.partition(".")
    if column in _keys_holding(list) or (dot and key in _keys_holding(list, in_mapping=True)):
        return cell.split()
    if column in _keys_holding(bool) and cell.lower() in ("true", "false"):
        return cell.lower() == "true"
    return cell


@functools.cache
def _keys_holding(kind: type, in_mapping: bool = False) -> frozenset[str]:
    """The organization keys (by their configuration names) whose value is a ``kind``; with
    ``in_mapping``, a mapping of names to ``kind`` values (``trustedConnectionDomains``, whose
    dotted columns each hold a list)."""

    def holds(annotation: Any, mapped: bool) -> bool:
        origin = typing.get_origin(annotation)
        if mapped and origin is dict:
            return holds(typing.get_args(annotation)[1], False)
        if not mapped and (annotation is kind or origin is kind):
            return True
        return origin is not dict and any(holds(a, mapped) for a in typing.get_args(annotation))

    return frozenset(
        info.alias or name
        for name, info in OrganizationConfig.model_fields.items()
        if holds(info.annotation, in_mapping)
    )
