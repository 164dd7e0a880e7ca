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
before. The data file (``organizationsFile``) is not one of these: the program reads it itself,
with the same reader as the commands.
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


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing the plain scalars of :data:`DIFFERENT`."""


# Checked before PyYAML's own resolvers, for every first character one of them can start with.
_Loader.yaml_implicit_resolvers = {
    first: [(_TAG, re.compile(rf"^(?:{DIFFERENT.pattern})$")), *resolvers]
    for first, resolvers in {
        **{c: [] for c in "yYnNoO0123456789-+."},
        **yaml.SafeLoader.yaml_implicit_resolvers,
    }.items()
}


def _refuse(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    value = loader.construct_scalar(node)  # type: ignore[arg-type]
    raise ReadDifferently(
        None,
        None,
        f"{value} is read otherwise by the Pulumi CLI (YAML 1.2) than by this reader (YAML "
        f"1.1): quote it ('{value}') for the text, or write the value plainly (true/false, "
        "1000, 15)",
        node.start_mark,
    )


_Loader.add_constructor(_TAG, _refuse)


def load(text: str) -> Any:
    """``text`` as the CLI reads it; :class:`ReadDifferently` (a ``yaml.YAMLError``, with the
    scalar's line) for a plain scalar the two read differently."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)
