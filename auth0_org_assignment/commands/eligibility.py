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
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, NamedTuple

from auth0_org_assignment.action_code import marker_key, organization_rule
from auth0_org_assignment.commands import deployed_rules
from auth0_org_assignment.config import StackConfig, email_domains
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


@dataclass(frozen=True)
class Login:
    """A login to ask the rule about: the connection it comes through (by name), the
    application it is to (its client id), and the organization it is to (its id), if any."""

    connection: str
    client_id: str | None = None
    organization_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "connection": self.connection,
            "client": self.client_id,
            "organization": self.organization_id,
        }


class MembershipRule:
    """``action_templates/membership.js`` in one Node process, for one stack's organizations.

    Use as a context manager; :meth:`decide` streams users through it.
    """

    def __init__(
        self,
        config: StackConfig,
        organization_ids: Mapping[str, str],
        refuse_all: bool = False,
        proven: Mapping[str, Collection[str]] | None = None,
        rules: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """``organization_ids`` maps the organizations' names to their ids; with
        ``refuse_all``, a decision's ``refusals`` name every organization the user is not
        eligible for, not only those they are marked for; with ``proven`` (organization names to
        their proven email domains, ``domains.proven_domains``), the rule is the deployed one,
        which admits through those domains alone; with ``rules``, these organizations' rules as
        the deployed Actions hold them (``deployed_rules``) instead of the configuration's."""
        role_ids = {role: role for o in config.organizations for role in o.roles}
        self._rules: list[Mapping[str, Any]] = (
            list(rules)
            if rules is not None
            else [
                organization_rule(
                    o, organization_ids, role_ids, None if proven is None else proven[o.name]
                )
                for o in config.organizations
            ]
        )
        self._setup = {
            "organizations": self._rules,
            "markerPrefix": marker_key(config, ""),
            "at": datetime.now(UTC).isoformat(),
            "refuseAll": refuse_all,
        }
        self._process: subprocess.Popen[str] | None = None

    def domains_named(self) -> set[str]:
        """Every email domain its organizations' rules name: whole (``domains``), or as the one
        whose subdomains they admit (``subdomainsOf``)."""
        return {
            pattern.removeprefix("*.")
            for rule in self._rules
            for pattern in deployed_rules.patterns(rule)
        }

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
        # Wrapped, as every request: a user's own attributes never make it another request.
        for answer in self._answers({"decide": user} for user in users):
            yield Decision(
                dict(answer["eligible"]),
                frozenset(answer["marked"]),
                frozenset(answer["pending"]),
                answer["refusals"],
                answer["markers"],
            )

    def shapes(self, users: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """What an impact snapshot keeps of each user, in order: each identity's connection,
        strategy, email domain as the rule reads it and whether it is verified, whether the
        user is blocked, and the ids of the organizations they are marked (or pending) for."""
        yield from self._answers({"shape": user} for user in users)

    def explain(
        self, user: dict[str, Any], login: Login | None
    ) -> tuple[dict[str, dict[str, str]], frozenset[str]]:
        """What the rule says of ``user`` for each organization, by id: ``{"admittedBy":
        <clause>}`` or ``{"refusal": <reason>}``; of ``login``, or through any identity when
        it is None. And the ids of the organizations the user carries this stack's marker for
        (assigned or pending), as ``decide`` reads them. One pass per rule."""
        request = {"explain": user, "login": None if login is None else login.as_json()}
        (answer,) = self._answers([request])
        explanations: dict[str, dict[str, str]] = answer["explanations"]
        return explanations, frozenset(answer["marked"]) | frozenset(answer["pending"])

    def _answers(self, documents: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        process = self._process
        if process is None or process.stdin is None or process.stdout is None:
            raise RuntimeError("use MembershipRule as a context manager, once")
        writer = threading.Thread(target=self._write, args=(process, documents), daemon=True)
        writer.start()
        for line in process.stdout:
            answer: dict[str, Any] = json.loads(line)
            if answer.get("invalid"):
                raise ValueError("the rule was given a user that is not a JSON object")
            yield answer
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


NOT_PROVEN = "email-domain-not-proven"
"""The refusal of a user the configuration's email domains admit but its proven ones do not."""
NOT_ENABLED = "connection-not-enabled"
"""The refusal of a user the rule admits through a connection it lists that is not enabled on
the organization now (``connectionCheck: api``, ``deployed_rules.Deployed.disabled``)."""


class DeployedRules(NamedTuple):
    """The deployed organizations' rules as a login applies them, and as they would be were the
    missing proofs and connections there: what tells a refusal for either from another."""

    held: list[dict[str, Any]]
    """Through the email domains proven now and the connections enabled now alone."""
    unproven: list[dict[str, Any]]
    """``held``, admitting through the domains a deploy put in the Actions or declared that are
    not proven now too."""
    disabled: list[dict[str, Any]] | None
    """``unproven``, admitting through every connection the rule lists, enabled or not too;
    None when all are enabled."""

    def as_if(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """Each missing piece's refusal with the rules as they would be with it there, in the
        order :func:`refusal_as_if` names them."""
        pieces = [(NOT_PROVEN, self.unproven), (NOT_ENABLED, self.disabled)]
        return [(reason, rules) for reason, rules in pieces if rules is not None]


def refusal_as_if(reason: str, admitted: Mapping[str, bool], fallback: str | None) -> str:
    """The refusal of an organization: the missing proof, else the missing connection, whose
    rules (``DeployedRules.as_if``) would have ``admitted`` the user; else ``fallback``, the
    reason the rules with the unproven domains give (an address in a domain whose proof lapsed,
    not verified, is "not verified", as at a login), else ``reason``."""
    for missing in (NOT_PROVEN, NOT_ENABLED):
        if admitted.get(missing):
            return missing
    return fallback or reason


def deployed_decisions(
    config: StackConfig,
    organization_ids: Mapping[str, str],
    deployed: deployed_rules.Deployed,
    users: Mapping[str, dict[str, Any]],
) -> dict[str, Decision]:
    """The deployed rule's decision on each user (by id), for the organizations whose rules the
    bound Actions hold (``deployed_rules.read``), through the email domains proven now and the
    connections enabled now alone. A refusal that the domains the Actions or the configuration
    name would not make, unproven as they may be, reads :data:`NOT_PROVEN`; one that those and
    every connection the rule lists, enabled or not, would not make, :data:`NOT_ENABLED`:
    whoever it removes or reports learns that the domain's proof or the connection, not the
    user, is what is missing."""
    rules = deployed_rule(config, organization_ids, deployed)
    with MembershipRule(config, organization_ids, rules=rules.held) as rule:
        decisions = dict(zip(users, rule.decide(users.values()), strict=True))
    refused = [user_id for user_id, decision in decisions.items() if decision.refusals]
    if not refused:
        return decisions
    as_if: dict[str, dict[str, Decision]] = {}
    for missing, rules_as_if in rules.as_if():
        with MembershipRule(config, organization_ids, rules=rules_as_if) as other:
            as_if[missing] = dict(
                zip(refused, other.decide(users[u] for u in refused), strict=True)
            )
    for user_id in refused:
        decision = decisions[user_id]
        decisions[user_id] = replace(
            decision,
            refusals={
                organization_id: refusal_as_if(
                    reason,
                    {m: organization_id in d[user_id].eligible for m, d in as_if.items()},
                    as_if[NOT_PROVEN][user_id].refusals.get(organization_id),
                )
                for organization_id, reason in decision.refusals.items()
            },
        )
    return decisions


def deployed_rule(
    config: StackConfig, organization_ids: Mapping[str, str], deployed: deployed_rules.Deployed
) -> DeployedRules:
    """The ``deployed`` organizations' rules as a login applies them, through the email domains
    proven now and the connections enabled now alone; and as they would be if the domains a
    deploy put in the Actions or declared that are not proven now were, and then if every
    connection the rule lists were enabled too. A domain only the checkout names is not among
    them, nor is one proven but not in the Actions: a login refuses through either as not in
    the rule."""
    names = {i: name for name, i in organization_ids.items() if i in deployed.rules}
    configured = {o.name: o.email_domains for o in config.organizations}
    held, named, enabled = [], [], []
    for i, name in names.items():
        rule, proven = deployed.rules[i], deployed.proven[name]
        declared = deployed.declared.get(name, ())
        every_connection = deployed_rules.held_to_proofs(rule, proven)
        held.append(deployed_rules.with_enabled(every_connection, deployed.disabled.get(i, ())))
        deployed_patterns = deployed_rules.patterns(rule)
        unproven = [
            p
            for p in {*deployed_patterns, *configured.get(name, ())}
            if email_domains.apex(p) not in proven
            and (p in deployed_patterns or email_domains.apex(p) in declared)
        ]
        named.append(deployed_rules.with_domains(held[-1], unproven))
        enabled.append(deployed_rules.with_domains(every_connection, unproven))
    return DeployedRules(held, named, enabled if any(deployed.disabled.values()) else None)
