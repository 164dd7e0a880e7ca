"""What the program accepts from a stack's keys before any is validated: this project's keys
and ``auth0:domain``, and the refusals that protect secrets and catch misspellings.

- A key of this project set as a secret is refused: every one is rendered into the Action's code
  in plain text. Its value is not validated, so no error echoes it.
- An auth0 provider key this program does not know (``auth0:domian``) is refused, with the
  nearest known one.
- The provider's secret keys are refused, in plain text or as secrets: Pulumi records the
  provider's configuration in the stack's state, which every job that decrypts it reads.
- ``auth0:debug``, and ``AUTH0_DEBUG`` in the deploy's environment, are refused when they turn
  debug on: the provider then logs whole Management API answers, among them the secrets of the
  Action's applications, which the deployer can read.
- A namespace close to this project's (``auth0-org-assigment:``) is refused as a misspelling.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, NamedTuple

from auth0_org_assignment.config.schema import PROJECT

PROVIDER_KEYS = frozenset(
    {
        "domain",
        "clientId",
        "clientSecret",
        "apiToken",
        "audience",
        "debug",
        "cliLogin",
        "clientAssertionPrivateKey",
        "clientAssertionSigningAlg",
        "customDomainHeader",
        "dynamicCredentials",
    }
)
"""The auth0 provider's own config keys (``auth0:<key>``)."""
PROVIDER_SECRET_KEYS = frozenset({"clientSecret", "apiToken", "clientAssertionPrivateKey"})

ConfigEntries = dict[str, tuple[Any, bool]]
"""Full key -> (value, whether it is secret), as a stack file or the engine holds them."""


class Selected(NamedTuple):
    """What :func:`select` keeps of a stack's keys."""

    raw: dict[str, Any]
    """This project's keys (without the namespace) and ``auth0:domain``."""
    problems: list[str]
    any_secret: bool
    """Whether a key of this project is set as a secret: refused, and the values then never
    validated, so no message echoes them."""


def select(entries: ConfigEntries) -> Selected:
    """This project's keys and ``auth0:domain``; the problems; whether any key is a secret."""
    raw: dict[str, Any] = {}
    problems = []
    any_secret = False
    for key, (value, secret) in sorted(entries.items()):
        namespace, _, name = key.partition(":")
        if namespace == PROJECT:
            if secret:
                problems.append(
                    f"{key}: set as a secret, but every key of {PROJECT} is rendered into the "
                    "Action's code in plain text; set it without --secret, and keep secrets out"
                )
                any_secret = True
            raw[name] = value
        elif namespace == "auth0":
            if name not in PROVIDER_KEYS:
                problems.append(
                    f"{key}: unknown auth0 provider key{_did_you_mean(name, PROVIDER_KEYS)}"
                )
            elif name in PROVIDER_SECRET_KEYS:
                problems.append(
                    f"{key}: {'set as a secret' if secret else 'stored in plain text'}, but "
                    "Pulumi records the auth0 provider's configuration in the stack's state, "
                    "which every job that decrypts it reads (a pull request's preview "
                    f"included); run `pulumi config rm {key}`, give the deployer's credentials "
                    "in AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET, and rotate that secret in "
                    "Auth0 (the state's history still holds it)"
                )
            elif name == "debug" and _turns_on(value):
                problems.append(
                    f"{key}: the auth0 provider then logs whole Management API answers, the "
                    "secrets of the Action's applications among them; run `pulumi config rm "
                    f"{key}`, and debug with a tenant of your own"
                )
            elif name == "domain":
                raw[key] = value
        elif difflib.SequenceMatcher(None, namespace, PROJECT).ratio() > 0.8:
            problems.append(f"{key}: unknown namespace {namespace!r}; did you mean {PROJECT}?")
    return Selected(raw, problems, any_secret)


def refused_environment(environment: Mapping[str, str]) -> list[str]:
    """The problems of the deploy's environment, which the auth0 provider reads too:
    ``AUTH0_DEBUG`` turned on makes it log what ``auth0:debug`` would."""
    value = environment.get("AUTH0_DEBUG", "")
    if not _turns_on(value):
        return []
    return [
        f"AUTH0_DEBUG={value!r} in the environment: the auth0 provider then logs whole "
        "Management API answers, the secrets of the Action's applications among them; unset "
        "it, and debug with a tenant of your own"
    ]


DEBUG_ON = frozenset({"1", "t", "true", "on"})
"""What turns the provider's debug on, read as terraform-provider-auth0 (``1``, ``true``, ``on``)
and Pulumi's bridge (a boolean) read it, in any case."""


def _turns_on(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in DEBUG_ON)


def _did_you_mean(name: str, known: frozenset[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"; did you mean auth0:{close[0]}?" if close else ""
