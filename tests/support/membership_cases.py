"""The case table of who gets in (tests/cases/membership.yaml), read for every caller of the
rule: the deployed Action and the backfill run the same cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from devtools.localstack.action_runner import DEFAULT_CONNECTION, STRATEGIES

CASES_FILE = Path(__file__).resolve().parent.parent / "cases" / "membership.yaml"
DOMAIN = "acme-test.eu.auth0.com"


def load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
    return cases


def strategy(connection: str) -> str:
    return STRATEGIES.get(connection, "auth0")


def stack_config(case: dict[str, Any]) -> dict[str, Any]:
    """The stack configuration of a case's organizations."""
    return {
        "auth0:domain": DOMAIN,
        "organizations": [
            {
                "displayName": organization["name"].title(),
                "connections": [DEFAULT_CONNECTION, "google-oauth2"],
                **organization,
            }
            for organization in case["organizations"]
        ],
    }


def stack_key(case: dict[str, Any]) -> str:
    """Cases with the same organizations can share one tenant and one Action."""
    return json.dumps(case["organizations"], sort_keys=True)


def login_connection(case: dict[str, Any]) -> str:
    return str(case.get("login", {}).get("connection", DEFAULT_CONNECTION))


def user_record(case: dict[str, Any], identity_id: str) -> dict[str, Any]:
    """The case's user as Auth0 stores it: the primary identity (its own id ``identity_id``)
    first, then linked ones with their own profileData (the linked ones first with
    ``linkedFirst: true``); the user's id is the primary identity's provider and id, as Auth0
    names a user."""
    user = case["user"]
    primary = user.get("connection", login_connection(case))
    identities = [
        {
            "connection": primary,
            "provider": strategy(primary),
            "user_id": identity_id,
            "isSocial": strategy(primary) != "auth0",
        }
    ]
    for number, linked in enumerate(user.get("linked", [])):
        identities.append(
            {
                "connection": linked["connection"],
                "provider": strategy(linked["connection"]),
                "user_id": f"linked-{number}",
                "isSocial": strategy(linked["connection"]) != "auth0",
                "profileData": {
                    key: linked[key] for key in ("email", "email_verified") if key in linked
                },
            }
        )
    if user.get("linkedFirst"):
        identities = [*identities[1:], identities[0]]
    record: dict[str, Any] = {
        "user_id": f"{strategy(primary)}|{identity_id}",
        "identities": identities,
        "app_metadata": {},
    }
    # Every other field of the case's user is the user's own (email, email_verified, blocked,
    # app_metadata...): a clause that reads a new one needs nothing here.
    record.update(
        {
            key: value
            for key, value in user.items()
            if key not in ("connection", "linked", "linkedFirst")
        }
    )
    return record


def joins(case: dict[str, Any], caller: str) -> list[str]:
    """The organizations the case's user joins, for ``caller`` "action" or "backfill"."""
    expected = case["joins"] if caller == "action" else case.get("backfill", case["joins"])
    return sorted(expected)
