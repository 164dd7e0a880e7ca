"""Pulumi's own files (``Pulumi.yaml``, ``Pulumi.<stack>.yaml``) read as the Pulumi CLI reads
them, or refused where that cannot be done.

The CLI reads them as YAML 1.2 (Go's yaml.v3), PyYAML as YAML 1.1, and a few plain scalars
mean something else to each: ``on`` is a string to the CLI and true here, ``1e3`` the number
1000 there and a string here, ``1:30`` a string there and 90 here, a date a string there. The
commands would then judge users by one configuration while ``pulumi up`` deploys another (a
value the commands cannot read, say, so the pull request's ``impact`` fails while the deploy
goes on). Such a scalar is refused, naming its line: quoted, it is the same string to both.
Each kind below was compared with the pinned CLI's ``pulumi config --json``; the plain
scalars both read alike (``0750``, ``0x1F``, ``1_000``, ``1.5e+3``, ``true``, ``y``) are read as
before, a whole float as the integer the CLI hands the program (``1000.0`` as 1000). The data
file (``organizationsFile``) is not one of these: the program reads it itself, with the same
reader as the commands.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_PYYAML_FLOAT = r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?"
DIFFERENT = re.compile(
    "|".join(
        (
            # YAML 1.1's booleans other than true/false: strings to the CLI.
            r"(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)",
            # A number with an exponent PyYAML does not read as one (no dot, or no sign).
            rf"(?!{_PYYAML_FLOAT}$)[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)[eE][-+]?[0-9]+",
            # 0o17 (15 to the CLI), 08 (8): strings to PyYAML.
            r"[-+]?0o[0-7_]+",
            r"[-+]?0[0-9_]*[89][0-9_]*",
            # Base 60 (1:30 is 90 to PyYAML, a string to the CLI).
            r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?",
            # Dates and times: PyYAML's date objects, the CLI's "2020-01-01 00:00:00 +0000 UTC".
            r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9].*)?",
        )
    )
)
"""A plain scalar the CLI and PyYAML read differently."""

_TAG = "tag:auth0-org-assignment,2026:read-differently"


class ReadDifferently(yaml.constructor.ConstructorError):
    """A plain scalar in one of Pulumi's files that the CLI reads otherwise."""


_STR = "tag:yaml.org,2002:str"
_MAX_EXACT = 2**53
"""Beyond it the CLI's number (a float64, in JSON) is not the integer written."""
_JSON_INTEGER_DIGITS = 1e21
"""Below it Go's JSON writes a whole float64 as its integer digits (``1000.0`` as ``1000``)."""


class UniqueKeysLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping key given twice: PyYAML keeps the later value,
    so a second ``emailDomains`` in an entry would win unseen by whoever reads the first. Every
    YAML file this project reads refuses it (the CLI refuses it in its own files too: "mapping
    key already defined")."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[str, Any] = {}
        for key, _ in node.value if isinstance(node, yaml.MappingNode) else ():
            if not isinstance(key, yaml.ScalarNode):
                continue
            if key.value in seen:
                first = seen[key.value].start_mark.line + 1
                raise self.refusal(f"{key.value} is given twice (first on line {first})", key)
            seen[key.value] = key
        return super().construct_mapping(node, deep)

    def refusal(self, problem: str, where: Any) -> yaml.constructor.ConstructorError:
        """The error refusing ``where`` (a node or event) for ``problem``, with its line."""
        return yaml.constructor.ConstructorError(None, None, problem, where.start_mark)


def refused(name: str, error: yaml.YAMLError | RecursionError) -> str:
    """Why the YAML file ``name`` is refused, naming its line: a syntax error says it is one; a
    construct the loaders refuse (:class:`UniqueKeysLoader`, :class:`ReadDifferently`) says
    why itself. PyYAML reads nested collections by recursion, so lists or mappings nested some
    hundreds deep exhaust Python's stack (``RecursionError``) before any line is refused."""
    if isinstance(error, RecursionError):
        return f"{name}: nested too deeply to read; no value here needs more than a few levels"
    mark = getattr(error, "problem_mark", None)
    where = f"{name}:{mark.line + 1}" if mark else name
    problem = getattr(error, "problem", None) or "not valid YAML"
    kind = "" if isinstance(error, yaml.constructor.ConstructorError) else "YAML syntax error: "
    return f"{where}: {kind}{problem}"


class _Loader(UniqueKeysLoader):
    """PyYAML's safe loader, refusing the plain scalars of :data:`DIFFERENT`, explicit tags,
    merge keys, keys that are not strings or are given twice, and integers beyond 2**53."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        # !!float 1 is 1 to the CLI, 1.0 here; !!binary, !!timestamp, !!set, !!omap, !!null ''
        # and custom tags are each read otherwise too.
        event = self.peek_event()  # type: ignore[no-untyped-call]
        tag = getattr(event, "tag", None)
        if tag is not None and not isinstance(event, yaml.AliasEvent):
            raise _different(f"the tag {tag} is read otherwise by the Pulumi CLI: remove it", event)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        for key, _ in node.value if isinstance(node, yaml.MappingNode) else ():
            if isinstance(key, yaml.ScalarNode) and key.value == "<<":
                # The CLI merges even '<<' quoted (and not in config: itself); PyYAML only <<.
                raise _different(
                    "<< (a merge key) is read otherwise by the Pulumi CLI: write the keys out", key
                )
            if key.tag not in (_STR, _TAG):
                # {~: a} is "<nil>" to the CLI, None here; {true: a} "true", True here.
                raise _different(f"the key {key.value or '~'} is not a string: quote it", key)
        return super().construct_mapping(node, deep)

    def refusal(self, problem: str, where: Any) -> yaml.constructor.ConstructorError:
        return _different(problem, where)


# Checked before PyYAML's own resolvers, for every first character one of them can start with.
_Loader.yaml_implicit_resolvers = {
    first: [(_TAG, re.compile(rf"^(?:{DIFFERENT.pattern})$")), *resolvers]
    for first, resolvers in {
        **{c: [] for c in "yYnNoO0123456789-+."},
        **yaml.SafeLoader.yaml_implicit_resolvers,
    }.items()
}


def _different(problem: str, where: Any) -> ReadDifferently:
    return ReadDifferently(None, None, problem, where.start_mark)


def _int(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    value = loader.construct_yaml_int(node)  # type: ignore[arg-type]
    if abs(value) > _MAX_EXACT:
        raise _different(
            f"{node.value} is beyond 2**53: the Pulumi CLI reads an approximate number; quote it",
            node,
        )
    return value


def _float(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    # The CLI hands the program JSON, which writes 1000.0 as 1000: the program reads an integer.
    value = loader.construct_yaml_float(node)  # type: ignore[arg-type]
    whole = value.is_integer() and abs(value) < _JSON_INTEGER_DIGITS
    return int(value) if whole else value


def _refuse(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    value = loader.construct_scalar(node)  # type: ignore[arg-type]
    raise _different(
        f"{value} is read otherwise by the Pulumi CLI (YAML 1.2) than by this reader (YAML "
        f"1.1): quote it ('{value}') for the text, or write the value plainly (true/false, "
        "1000, 15)",
        node,
    )


_Loader.add_constructor(_TAG, _refuse)
_Loader.add_constructor("tag:yaml.org,2002:int", _int)
_Loader.add_constructor("tag:yaml.org,2002:float", _float)


def load(text: str) -> Any:
    """``text`` as the CLI reads it; :class:`ReadDifferently` (a ``yaml.YAMLError``, with the
    scalar's line) for a plain scalar the two read differently."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)
