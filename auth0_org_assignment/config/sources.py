"""Where a stack's configuration comes from: the Pulumi engine (``pulumi up``), or the stack
file directly (commands that need no CLI, no backend and no secret). Both go through the same
policy and schema, and raise ``pulumi.RunError`` listing every problem with its full key."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NoReturn

import pulumi
import yaml
from pydantic import ValidationError

from auth0_org_assignment.config import data_file, pulumi_yaml
from auth0_org_assignment.config.messages import describe
from auth0_org_assignment.config.policy import ConfigEntries, refused_environment, select
from auth0_org_assignment.config.schema import PROJECT, StackConfig


def project_root(start: Path | None = None) -> Path:
    """The Pulumi project whose stack files to read: the nearest directory, from the current one
    up, that holds a ``Pulumi.yaml`` (as the Pulumi CLI finds it), else the current one."""
    here = (start or Path.cwd()).resolve()
    return next((d for d in (here, *here.parents) if (d / "Pulumi.yaml").is_file()), here)


def project_name(root: Path) -> str:
    """The name ``root``'s ``Pulumi.yaml`` gives the project: the second part of its URNs."""
    name = read_project(root).get("name")
    if not isinstance(name, str) or not name:
        raise pulumi.RunError(f"{root / 'Pulumi.yaml'}: no project name (name:)")
    return name


def parse_config(raw: dict[str, Any], source: str, root: Path | None = None) -> StackConfig:
    """Validate raw key/value config (keys without the project prefix, plus ``auth0:domain``);
    an ``organizationsFile`` is read from ``root`` (default: the project's directory)."""
    return validate(raw, [], False, source=source, root=root)


def load_config() -> StackConfig:
    """Read the running stack's configuration from the Pulumi engine."""
    passed = {**pulumi.runtime.config.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    entries = {
        key: (_decode(value), pulumi.runtime.config.is_config_secret(key))
        for key, value in passed.items()
    }
    selected = select(entries)
    selected.problems.extend(refused_environment(os.environ))
    root = engine_root()
    # Refused here as the commands refuse them: a layout they would not read, and plain
    # scalars the CLI reads otherwise than they do (so this deploy is what they judged).
    read_project(root)
    stack_file = root / f"Pulumi.{pulumi.get_stack()}.yaml"
    if stack_file.is_file():
        read_pulumi_file(stack_file)
    return validate(*selected, source=f"stack {pulumi.get_stack()!r}", root=root)


def engine_root() -> Path:
    """The project's root as the engine names it (where it found Pulumi.yaml), else as
    :func:`project_root` finds it: the engine runs the program in Pulumi.yaml's ``main``
    directory (infra/), where a Pulumi.yaml of its own would otherwise be found first, and the
    data file read beside it, not the one ``render`` and ``impact`` read."""
    root = pulumi.get_root_directory()
    if isinstance(root, str):
        refuse_other_project_files(Path(root))
        if (Path(root) / "Pulumi.yaml").is_file():
            return Path(root)
    return project_root()


OTHER_PROJECT_FILES = ("Pulumi.json", "Pulumi.yml")
"""Project files the Pulumi CLI also reads: Pulumi.json before Pulumi.yaml, Pulumi.yml where
there is no Pulumi.yaml; it then reads the stack file of the same extension
(``Pulumi.<stack>.json``), not ``Pulumi.<stack>.yaml``."""


def refuse_other_project_files(root: Path) -> None:
    """Refuse a project file other than ``Pulumi.yaml`` in ``root``: the CLI would deploy the
    project and stack file it names, while render, impact, the pipeline and the commands read
    ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml``."""
    for name in OTHER_PROJECT_FILES:
        if (root / name).exists():
            raise pulumi.RunError(
                f"{name}: the Pulumi CLI reads it (and the stack files Pulumi.<stack>"
                f"{Path(name).suffix}) instead of Pulumi.yaml and Pulumi.<stack>.yaml, which "
                "render, impact, the pipeline and the commands read; remove it"
            )


def load_stack_file(stack: str, root: Path) -> StackConfig:
    """Read ``Pulumi.<stack>.yaml`` in the project ``root`` directly: no CLI, no backend, no
    secret needed. A stack file that imports Pulumi ESC environments is refused: what they
    set is known only to the CLI (see ``load_resolved_config``)."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise pulumi.RunError(f"no stack file {path.name}: create it or name an existing stack")
    return load_stack_path(path)


def load_stack_path(path: Path) -> StackConfig:
    """Read the stack file at ``path``, whatever its name (a base revision's copy, say)."""
    if not path.is_file():
        raise pulumi.RunError(f"no stack file {path}")
    project = read_project(path.parent)
    name = project.get("name")
    stack = read_stack_file(path, None if name is None else str(name))
    selected = select({**project_config(project), **stack})
    return validate(*selected, source=path.name, root=path.parent)


DECLARATION_KEYS = frozenset({"type", "items", "default", "value", "description", "secret"})
"""What a key's entry in Pulumi.yaml's ``config:`` holds when it declares the key, rather than
being its value."""


def read_project(root: Path) -> dict[str, Any]:
    """``root``'s ``Pulumi.yaml`` (empty when there is none). One that moves the stack files
    (``stackConfigDir``) is refused: the deploy would read them there, while ``render``,
    ``impact``, the pipeline's jobs and every command read ``Pulumi.<stack>.yaml`` beside
    ``Pulumi.yaml``, so a pull request could deploy a configuration no reviewer was shown."""
    refuse_other_project_files(root)
    path = root / "Pulumi.yaml"
    if not path.is_file():
        return {}
    document = read_pulumi_file(path)
    if not isinstance(document, dict):
        raise pulumi.RunError(f"{path.name}: must be a mapping (name:, runtime:, ...)")
    if "stackConfigDir" in document:
        raise pulumi.RunError(
            f"{path.name}: stackConfigDir: {document['stackConfigDir']!r}: this project's stack "
            "files live beside Pulumi.yaml, where render, impact, the pipeline and the commands "
            "read them; remove stackConfigDir and keep Pulumi.<stack>.yaml there"
        )
    return document


def project_config(document: dict[str, Any]) -> ConfigEntries:
    """The keys a ``Pulumi.yaml`` (:func:`read_project`) sets under ``config:`` (a declared
    key's default, a ``value``, or a plain value), as the Pulumi CLI gives them to the program
    for each key a stack file does not set; a key without a namespace is the project's."""
    config = document.get("config")
    entries: ConfigEntries = {}
    seen: set[str] = set()
    for key, entry in (config if isinstance(config, dict) else {}).items():
        full = _qualified(key, document.get("name"))
        if full in seen:
            # The CLI takes the key without a namespace, whatever the order.
            raise pulumi.RunError(
                f"Pulumi.yaml: config sets {full} both with and without its namespace; keep one"
            )
        seen.add(full)
        if isinstance(entry, dict) and set(entry) & DECLARATION_KEYS:
            if "value" in entry or "default" in entry:
                value = entry.get("value", entry.get("default"))
                entries[full] = (value, bool(entry.get("secret")))
        else:
            entries[full] = (entry, False)
    return entries


def load_resolved_config(path: Path) -> StackConfig:
    """Read a stack's configuration as ``pulumi config --json`` prints it: the stack file with
    its ESC environments resolved, as ``pulumi up`` sees it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        raise pulumi.RunError(f"{path}: not the output of pulumi config --json ({error})") from None
    if not isinstance(document, dict) or not all(isinstance(v, dict) for v in document.values()):
        raise pulumi.RunError(f"{path}: not the output of pulumi config --json (a mapping of keys)")
    entries = {
        str(key): (
            entry.get("objectValue", _decode(entry.get("value"))),
            bool(entry.get("secret")),
        )
        for key, entry in document.items()
    }
    return validate(*select(entries), source=path.name, root=project_root())


def read_stack_file(path: Path, project: str | None = None) -> ConfigEntries:
    """Every key of a stack file's ``config:``; ``{secure: ...}`` values are the secret ones. A
    key without a namespace is ``project``'s, as the CLI reads it; one given both ways is
    refused (the CLI takes the later)."""
    document = read_pulumi_file(path)
    config = (document or {}).get("config") if isinstance(document, dict) else None
    if document is not None and not isinstance(document, dict):
        raise pulumi.RunError(f"{path.name}: the file must be a mapping with a config: key")
    if isinstance(document, dict) and document.get("environment"):
        stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        raise pulumi.RunError(
            f"{path.name} imports Pulumi ESC environments (environment:), which can set this "
            "stack's keys, and only the Pulumi CLI resolves them: reading the file alone could "
            "judge users by another rule than pulumi up deploys; pass the resolved "
            f"configuration instead: pulumi config --stack {stack} --json > config.json, "
            "then --config-json config.json (every command but render takes it)"
        )
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise pulumi.RunError(f"{path.name}: config: must be a mapping of keys to values")
    entries: ConfigEntries = {}
    for key, value in config.items():
        full = _qualified(key, project)
        if full in entries:
            raise pulumi.RunError(
                f"{path.name}: config sets {full} both with and without its namespace; keep {full}"
            )
        if value is None:
            # The CLI gives the program "" for it, not None.
            raise pulumi.RunError(f"{path.name}: {full} is empty (null): write '' or remove it")
        entries[full] = (value, isinstance(value, dict) and set(value) == {"secure"})
    return entries


def _qualified(key: Any, project: Any) -> str:
    """A config key as the CLI reads it: one without a namespace is the ``project``'s."""
    return str(key) if ":" in str(key) or project is None else f"{project}:{key}"


def read_pulumi_file(path: Path) -> Any:
    """``Pulumi.yaml`` or a stack file at ``path`` as the CLI reads it
    (:mod:`~auth0_org_assignment.config.pulumi_yaml`); an error names the file and line."""
    try:
        return pulumi_yaml.load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, RecursionError) as error:
        raise pulumi.RunError(pulumi_yaml.refused(path.name, error)) from None


def validate(
    raw: dict[str, Any],
    problems: list[str],
    any_secret: bool,
    *,
    source: str,
    root: Path | None = None,
) -> StackConfig:
    """The model, or a ``pulumi.RunError`` listing ``problems`` and the schema's. A stack with
    a key set as a secret (``any_secret``, refused already) is refused on ``problems`` alone,
    its values not read, so no message echoes them (a rule across keys would quote them). The
    organizations an ``organizationsFile`` lists (relative to ``root``) are validated as
    ``organizations``, and their errors name the file, the line and the key."""
    if any_secret:
        _refuse(source, problems)
    found = None
    # Pulumi.yaml's default, "", leaves it unset.
    if raw.get(data_file.KEY, "") != "":
        raw = dict(raw)
        value = raw.pop(data_file.KEY)
        if raw.get("organizations") or raw.get("organization"):
            raise pulumi.RunError(
                f"invalid configuration in {source}:\n  {PROJECT}:{data_file.KEY}: set either it "
                f"or {PROJECT}:organizations ({PROJECT}:organization), not both; move the "
                "organizations into the file"
            )
        found = data_file.read_organizations(value, root or project_root())
        raw["organizations"] = found.entries
    raw = {key: value for key, value in raw.items() if key != data_file.KEY}
    try:
        config = StackConfig.model_validate(raw)
    except ValidationError as error:
        described = [describe(problem, StackConfig) for problem in error.errors()]
        if found is not None:
            described = [found.relocate(message) for message in described]
        problems = problems + described
        config = None
    if problems:
        _refuse(source, problems)
    assert config is not None
    return config


def _refuse(source: str, problems: list[str]) -> NoReturn:
    raise pulumi.RunError(f"invalid configuration in {source}:\n  " + "\n  ".join(problems))


def _decode(value: Any) -> Any:
    """The engine passes structured values as JSON text and scalars as plain text."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except (json.JSONDecodeError, RecursionError):  # nested too deeply: the schema refuses it
            return value
    if value in ("true", "false"):
        return value == "true"
    return value
