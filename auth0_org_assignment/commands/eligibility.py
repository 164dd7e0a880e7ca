"""Who may join, for users who are not logging in: decided by the Action's own JavaScript.

The backfill and reconcile never decide membership in Python. They start
``action_templates/eligibility.js`` once per run, in Node 22 (``auth0_org_assignment.node``), give
it the rules exactly as the Action holds them (``action_code.organization_rule``), and stream
users through it: each user in, one decision out, in order.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from auth0_org_assignment.action_code import marker_key, organization_rule
from auth0_org_assignment.config import StackConfig
from auth0_org_assignment.node import action_node
from auth0_org_assignment.paths import TEMPLATES

ELIGIBILITY = TEMPLATES / "eligibility.js"
USER_FIELDS = ("user_id", "email", "email_verified", "blocked", "app_metadata", "identities")
"""The fields of a user the rule and its markers read: what the backfill and reconcile export."""


@dataclass(frozen=True)
class Decision:
    """What the rule says of one user."""

    eligible: dict[str, str]
    """Ids of the stack's organizations the user is eligible for, through any identity, each
    with the clause that admits them (``emailDomains: acme.com``)."""
    marked: frozenset[str]
    """Ids of the organizations the user carries this stack's marker for: assigned."""
    pending: frozenset[str]
    """Ids of those whose marker is "pending": a members request was sent, not confirmed."""
    refusals: dict[str, str]
    """For each organization the user is marked (or pending) for but not eligible for: why
    (``contract.json``'s refusals)."""
    markers: dict[str, Any]
    """For each eligible organization, the marker the backfill leaves on the user (marker.js:
    how, when and by which clause they came in)."""


class MembershipRule:
    """``action_templates/membership.js`` in one Node process, for one stack's organizations.

    Use as a context manager; :meth:`decide` streams users through it.
    """

    def __init__(self, config: StackConfig, organization_ids: Mapping[str, str]) -> None:
        """``organization_ids`` maps the organizations' names to their ids."""
        role_ids = {role: role for o in config.organizations for role in o.roles}
        self._setup = {
            "organizations": [
                organization_rule(o, organization_ids, role_ids) for o in config.organizations
            ],
            "markerPrefix": marker_key(config, ""),
            "at": datetime.now(UTC).isoformat(),
        }
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> MembershipRule:
        self._process = subprocess.Popen(
            [action_node(), str(ELIGIBILITY)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def decide(self, users: Iterable[dict[str, Any]]) -> Iterator[Decision]:
        """One decision for each user, in order, as they are read (users are written by a
        thread meanwhile, so neither side waits on a full pipe). One pass per rule."""
        process = self._process
        if process is None or process.stdin is None or process.stdout is None:
            raise RuntimeError("use MembershipRule as a context manager, once")
        writer = threading.Thread(target=self._write, args=(process, users), daemon=True)
        writer.start()
        for line in process.stdout:
            answer = json.loads(line)
            if answer.get("invalid"):
                raise ValueError("the rule was given a user that is not a JSON object")
            yield Decision(
                dict(answer["eligible"]),
                frozenset(answer["marked"]),
                frozenset(answer["pending"]),
                answer["refusals"],
                answer["markers"],
            )
        writer.join()
        if process.wait() != 0:
            stderr = process.stderr.read() if process.stderr else ""
            raise RuntimeError(f"the membership rule stopped ({process.returncode}): {stderr}")

    def _write(self, process: subprocess.Popen[str], users: Iterable[dict[str, Any]]) -> None:
        assert process.stdin is not None
        try:
            process.stdin.write(json.dumps(self._setup) + "\n")
            for user in users:
                process.stdin.write(json.dumps(user) + "\n")
        except BrokenPipeError:
            pass  # the rule stopped; decide() reports why
        finally:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
