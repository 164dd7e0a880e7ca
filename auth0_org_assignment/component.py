"""``OrgAssignment``: the one component that owns the whole organization auto-assignment setup.

Each Auth0 resource the support article has people click by hand is declared here once:
the M2M client (two, whose secrets take turns) and its Management API grant, the organization,
its enabled connections, the post-login Action, its secrets (written by ``ActionCredential``,
never held in state), and the Action's binding to the trigger.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_auth0 as auth0

from auth0_org_assignment import desired_state, domain_proof, lookups
from auth0_org_assignment.action_code import (
    RenderedAction,
    ShardPlan,
    plan_shards,
    planned_actions,
    render_shard,
)
from auth0_org_assignment.action_credential import SLOTS, ActionCredential
from auth0_org_assignment.arguments import OrgAssignmentArgs, as_configuration
from auth0_org_assignment.config import PROJECT, OrganizationConfig, StackConfig, parse_config
from auth0_org_assignment.config.email_domains import mailbox_provider

COMPONENT = "org-assignment"
"""The component's name in ``infra/__main__.py``: every resource's logical name starts with it."""
COMPONENT_TYPE = "auth0-org-assignment:index:OrgAssignment"


@dataclass(frozen=True)
class LogicalNames:
    """Each resource's logical name, Pulumi's identity for it: the program declares these and
    ``infra.adopt`` imports under them, so they live in one place."""

    component: str = COMPONENT

    @property
    def m2m_client(self) -> str:
        """Slot ``a``: the name the stack's one application had before there were two."""
        return self.slot_client("a")

    @property
    def grant(self) -> str:
        return self.slot_grant("a")

    def slot_client(self, slot: str) -> str:
        return f"{self.component}-m2m-client{'' if slot == 'a' else '-' + slot}"

    def slot_grant(self, slot: str) -> str:
        return f"{self.component}-management-api-grant{'' if slot == 'a' else '-' + slot}"

    @property
    def credential(self) -> str:
        return f"{self.component}-action-credential"

    @staticmethod
    def _organization_suffix(index: int, organization: OrganizationConfig) -> str:
        # The first keeps the names of a one-organization stack, so moving from
        # `organization` to `organizations` replaces nothing.
        return "" if index == 0 else f"-{organization.name}"

    def organization(self, index: int, organization: OrganizationConfig) -> str:
        return f"{self.component}-organization{self._organization_suffix(index, organization)}"

    def connection(self, index: int, organization: OrganizationConfig, connection: str) -> str:
        suffix = self._organization_suffix(index, organization)
        return f"{self.component}-connection{suffix}-{connection}"

    def discovery_domain(self, index: int, organization: OrganizationConfig, domain: str) -> str:
        suffix = self._organization_suffix(index, organization)
        return f"{self.component}-discovery-domain{suffix}-{domain}"

    def domain_proof(self, index: int, organization: OrganizationConfig) -> str:
        suffix = self._organization_suffix(index, organization)
        return f"{self.component}-domain-proofs{suffix}"

    def action(self, shard: int, shards: int = 1) -> str:
        return f"{self.component}-post-login-action{desired_state.shard_suffix(shard, shards)}"

    def binding(self, shard: int, shards: int = 1) -> str:
        return f"{self.component}-post-login-binding{desired_state.shard_suffix(shard, shards)}"


class OrgAssignment(pulumi.ComponentResource):
    """Assigns users who log in to the organizations whose rules their login matches.

    Each resource's arguments come from ``auth0_org_assignment.desired_state``; the
    constructor only puts them in order: the Action's application, the organizations, the
    Actions and their bindings, then the outputs.
    """

    organization_id: pulumi.Output[str]
    organization_ids: pulumi.Output[dict[str, str]]
    m2m_client_id: pulumi.Output[str]
    action_id: pulumi.Output[str]
    action_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: OrgAssignmentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Everything that can refuse the stack is decided before anything is registered, the
        # component included, so a refused stack leaves nothing half-applied (in `up
        # --skip-preview` too): the configuration, by its own model; every name it looks up in
        # the tenant, each once (a plain invoke pumps the event loop, so a registration queued
        # before it would be sent); and every limit the Actions keep to.
        config = parse_config(as_configuration(args), f"the arguments of OrgAssignment {name!r}")
        resolved = lookups.resolve(config, opts)
        plan = plan_shards(config)
        planned = planned_actions(config, resolved.roles, plan)
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self._config = config
        self._resolved = resolved
        self._names = LogicalNames(name)
        self._child = pulumi.ResourceOptions(parent=self)
        clients, grants = self._provision_m2m_clients()
        organizations, enabled_connections = self._provision_organizations()
        proven = self._provision_domain_proofs(organizations)
        actions, credential = self._provision_actions(
            plan, planned, clients, organizations, proven, [*grants, *enabled_connections]
        )
        self._register(credential, organizations, actions)

    def _provision_m2m_clients(self) -> tuple[dict[str, auth0.Client], list[auth0.ClientGrant]]:
        """The Action's two applications (slots), each with its grant on the Management API.
        No secret of theirs is read: ``ActionCredential`` rotates one and hands it to the
        Action."""
        names, config = self._names, self._config
        project, stack = pulumi.get_project(), pulumi.get_stack()
        clients: dict[str, auth0.Client] = {}
        grants: list[auth0.ClientGrant] = []
        for slot in SLOTS:
            client = auth0.Client(
                names.slot_client(slot),
                desired_state.m2m_client(config, project, stack, slot),
                self._child,
            )
            clients[slot] = client
            grants.append(
                auth0.ClientGrant(
                    names.slot_grant(slot),
                    desired_state.grant(config, client.client_id),
                    self._child,
                )
            )
        return clients, grants

    def _provision_organizations(
        self,
    ) -> tuple[dict[str, auth0.Organization], list[auth0.OrganizationConnection]]:
        """Each organization, and each of its connections enabled on it."""
        names, config = self._names, self._config
        organizations: dict[str, auth0.Organization] = {}
        enabled: list[auth0.OrganizationConnection] = []
        for index, spec in enumerate(config.organizations):
            organization = auth0.Organization(
                names.organization(index, spec), desired_state.organization(spec), self._child
            )
            organizations[spec.name] = organization
            enabled += [
                auth0.OrganizationConnection(
                    names.connection(index, spec, connection),
                    desired_state.connection(
                        config, organization.id, self._resolved.connections[connection]
                    ),
                    self._child,
                )
                for connection in spec.connections or []
            ]
        return organizations, enabled

    def _provision_domain_proofs(
        self, organizations: dict[str, auth0.Organization]
    ) -> dict[str, pulumi.Output[list[str]]]:
        """Each email domain's discovery domain (a ``*.`` pattern's apex), declared pending,
        and the organization's proof of them (one resource): the names of its domains proven, all
        its rule admits through. A free-mail domain the organization allows
        (``allowFreeMailDomains``) cannot be proven by anyone, and is admitted as declared."""
        names, config = self._names, self._config
        proven: dict[str, pulumi.Output[list[str]]] = {}
        unproven: list[pulumi.Output[Unproven | None]] = []
        for index, spec in enumerate(config.organizations):
            organization = organizations[spec.name]
            free: list[str] = []
            records: list[tuple[str, auth0.OrganizationDiscoveryDomain]] = []
            for domain in domain_proof.proof_domains(spec.email_domains):
                if mailbox_provider(domain) == "free":
                    free.append(domain)
                    continue
                discovery = auth0.OrganizationDiscoveryDomain(
                    names.discovery_domain(index, spec, domain),
                    desired_state.discovery_domain(organization.id, domain),
                    # Its status is the proof's to set, by what DNS says at each deploy.
                    pulumi.ResourceOptions(parent=self, ignore_changes=["status"]),
                )
                records.append((domain, discovery))
            if not records:
                proven[spec.name] = pulumi.Output.from_input(free)
                continue
            proof = domain_proof.DomainProof(
                names.domain_proof(index, spec),
                organization_id=organization.id,
                domains=[
                    domain_proof.DiscoveryRecord(
                        domain,
                        # The provider's id is "<organization id>::<discovery domain id>".
                        discovery.id.apply(lambda id_: id_.split("::")[-1]),
                        discovery.verification_host,
                        discovery.verification_txt,
                    )
                    for domain, discovery in records
                ],
                resolvers=config.dns_resolvers,
                opts=self._child,
            )
            proven[spec.name] = proof.proven.apply(functools.partial(_with_free, free))
            # Known even while a new domain's record is not (it is named from the next
            # preview on), so the others' are said in this one.
            unproven += [
                pulumi.Output.all(
                    proof.proven, discovery.verification_host, discovery.verification_txt
                ).apply(functools.partial(_unproven, spec.name, domain), run_with_unknowns=True)
                for domain, discovery in records
            ]
        gather(unproven).apply(_say_unproven)
        return proven

    def _provision_actions(
        self,
        plan: ShardPlan,
        planned: tuple[RenderedAction, ...],
        clients: dict[str, auth0.Client],
        organizations: dict[str, auth0.Organization],
        proven: dict[str, pulumi.Output[list[str]]],
        ready: list[pulumi.Resource],
    ) -> tuple[list[auth0.Action], ActionCredential]:
        """The post-login Actions, each one's code rendered once its own organizations' ids and
        proofs exist (an Action depends on its shard alone: with every Action depending on
        every organization, evaluation grew with their square); the credential written into
        them; each bound to the Login flow after ``ready``, the credential and the Action
        before it. How the organizations split across Actions (``plan``) depends only on the
        configuration."""
        names, config = self._names, self._config
        codes = []
        for shard, members in enumerate(plan.shards):
            mine = [organization.name for organization in members]
            known = pulumi.Output.all(
                organizations={name: organizations[name].id for name in mine},
                proven={name: proven[name] for name in mine},
            )
            codes.append(
                known.apply(functools.partial(_code, config, plan, shard, self._resolved.roles))
            )
        actions = [
            auth0.Action(
                names.action(shard, rendered.shards),
                desired_state.action(config, shard, rendered, codes[shard]),
                # The credential writes the secrets; the provider must never send them again.
                pulumi.ResourceOptions(parent=self, ignore_changes=["secrets"]),
            )
            for shard, rendered in enumerate(planned)
        ]
        credential = ActionCredential(
            names.credential,
            tenant_domain=config.tenant_domain,
            action_ids=[action.id for action in actions],
            slot_clients={slot: client.client_id for slot, client in clients.items()},
            rotation=config.action.credential_rotation,
            grace_ms=config.action.time_budget_ms,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*ready]),
        )
        previous: list[pulumi.Resource] = []
        for shard, action in enumerate(actions):
            # TriggerAction adds this one Action to the Login flow; TriggerActions would own
            # the whole flow and remove Actions others bound in the dashboard. Bound last, so
            # no login runs a half-configured Action; several Actions are bound in order. They
            # wait for `ready` through the credential: a binding that listed every enabled
            # connection made evaluation quadratic in the organizations.
            binding = auth0.TriggerAction(
                names.binding(shard, planned[shard].shards),
                desired_state.binding(config, shard, action.id, planned[shard].shards),
                pulumi.ResourceOptions(parent=self, depends_on=[credential, *previous]),
            )
            previous = [binding]
        return actions, credential

    def _register(
        self,
        credential: ActionCredential,
        organizations: dict[str, auth0.Organization],
        actions: list[auth0.Action],
    ) -> None:
        first = organizations[self._config.organizations[0].name]
        self.organization_id = first.id
        # The ids are the stack's outputs, so the engine waits for this check before it is done.
        branding_checked = gather(
            [
                organizations[spec.name].branding.apply(
                    functools.partial(_refuse_undeclared_branding, spec.name)
                )
                for spec in self._config.organizations
                if spec.branding is None
            ]
        )
        ids = gather([o.id for o in organizations.values()])
        self.organization_ids = pulumi.Output.all(branding_checked, ids).apply(
            lambda checked_and_ids: dict(zip(organizations, checked_and_ids[1], strict=True))
        )
        # The application whose secret the Action holds now.
        self.m2m_client_id = credential.active_client_id
        self.action_id = actions[0].id
        self.action_name = actions[0].name
        self.register_outputs(
            {
                "organization_id": self.organization_id,
                "organization_ids": self.organization_ids,
                "m2m_client_id": self.m2m_client_id,
                "action_id": self.action_id,
                "action_name": self.action_name,
            }
        )


def _code(
    config: StackConfig, plan: ShardPlan, shard: int, role_ids: dict[str, str], known: Any
) -> str:
    """One Action's code, once its organizations' ids and proofs are known."""
    return render_shard(config, plan, shard, known["organizations"], role_ids, known["proven"]).code


@dataclass(frozen=True)
class Unproven:
    """An email domain whose record is not in DNS yet, and the record that would prove it."""

    organization: str
    domain: str
    host: str
    txt: str


def _with_free(free: list[str], found: list[str] | None) -> list[str]:
    """The domains an organization's rule admits through: its free-mail ones, which nobody
    can prove, and those its proof found (none under mocks, which run no check)."""
    return [*free, *(found or [])]


def _unproven(organization: str, domain: str, answer: Any) -> Unproven | None:
    """The domain, with its record, when its record is known and not found in DNS."""
    if not isinstance(answer, list):
        return None
    found, host, txt = answer
    if not isinstance(found, list) or domain in found:
        return None
    if not (isinstance(host, str) and isinstance(txt, str)):
        return None
    return Unproven(organization, domain, host, txt)


UNPROVEN_SHOWN = 10
"""How many unproven domains a preview or deploy names one by one; past that, one line counts
the rest (a first deploy of thousands of organizations would otherwise print a line each)."""


def _say_unproven(answers: list[Unproven | None]) -> None:
    """Name, in the preview and the deploy, each domain that admits nobody yet and the record to
    publish (the first ``UNPROVEN_SHOWN``), and how many more there are."""
    unproven = sorted(
        (u for u in answers if u is not None), key=lambda u: (u.organization, u.domain)
    )
    for u in unproven[:UNPROVEN_SHOWN]:
        pulumi.log.warn(
            f"{PROJECT}: organization {u.organization!r}: {u.domain} admits nobody until its "
            f'owner publishes the TXT record "{u.txt}" at {u.host}; the next pulumi up after '
            "that admits its users (auth0-org-assignment domains STACK shows every record and "
            "whether DNS has it)"
        )
    if len(unproven) > UNPROVEN_SHOWN:
        pulumi.log.warn(
            f"{PROJECT}: {len(unproven) - UNPROVEN_SHOWN} more email domains admit nobody until "
            "their owners publish their TXT records: auth0-org-assignment domains STACK lists "
            "every record and whether DNS has it"
        )


def gather(outputs: Sequence[pulumi.Output[Any]]) -> pulumi.Output[list[Any]]:
    """``Output.all(*outputs)`` for thousands of outputs: the SDK's merges each output's
    resources into a new set, one output at a time (quadratic in their number), so this
    gathers them in groups of ``GATHERED``, then the groups."""
    if len(outputs) <= GATHERED:
        return pulumi.Output.all(*outputs)
    groups = [gather(outputs[i : i + GATHERED]) for i in range(0, len(outputs), GATHERED)]
    return pulumi.Output.all(*groups).apply(lambda lists: [x for group in lists for x in group])


GATHERED = 128


def _refuse_undeclared_branding(organization: str, branding: Any) -> None:
    """Branding the organization has but the configuration does not declare: the provider
    cannot clear it (it sends no branding when none is declared, and keeps what Auth0 returns),
    so removing ``branding`` from the configuration would leave it in the tenant, silently."""
    found = {
        key: value
        for key in ("logo_url", "colors")
        if (
            value := branding.get(key)
            if isinstance(branding, dict)
            else getattr(branding, key, None)
        )
    }
    if found:
        raise pulumi.RunError(
            f"{PROJECT}: organization {organization!r} has branding in the tenant "
            f"({', '.join(sorted(found))}) that its configuration does not declare, and Pulumi's "
            "auth0 provider cannot remove it. To keep it, declare it under branding; to remove "
            "it, clear it in the Auth0 dashboard (Organizations > "
            f"{organization} > Branding), then run `pulumi up --refresh`"
        )
