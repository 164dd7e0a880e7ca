"""``OrgAssignment``: the one component that owns the whole organization auto-assignment setup.

Each Auth0 resource the support article has people click by hand is declared here once:
the M2M client (two, whose secrets take turns) and its Management API grant, the organization,
its enabled connections, the post-login Action, its secrets (written by ``ActionCredential``,
never held in state), and the Action's binding to the trigger.
"""

import asyncio
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
from auth0_org_assignment.config import (
    PROJECT,
    OrganizationConfig,
    StackConfig,
    email_domains,
    parse_config,
    within,
)

COMPONENT = "org-assignment"
"""The component's name in ``infra/__main__.py``: every resource's logical name starts with it."""
COMPONENT_TYPE = "auth0-org-assignment:index:OrgAssignment"


@dataclass(frozen=True)
class LogicalNames:
    """Each resource's logical name, Pulumi's identity for it: the program declares these and
    ``adopt`` and ``recover`` import under them, so they live in one place."""

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

    # An organization's resources are named by its name, never by its place in the list: a
    # name by place made an organization put first take over the resources (the id, the
    # members) of the one that was first, renaming it in place.
    def organization(self, organization: OrganizationConfig) -> str:
        return f"{self.component}-organization-{organization.name}"

    def connection(self, organization: OrganizationConfig, connection: str) -> str:
        return f"{self.component}-connection-{within(organization, connection)}"

    def discovery_domain(self, organization: OrganizationConfig, domain: str) -> str:
        return f"{self.component}-discovery-domain-{within(organization, domain)}"

    # Before organizations' resources were named by their names, the first organization's had
    # none in theirs (so that moving from `organization` to `organizations` replaced nothing):
    # the first organization's resources take these as aliases, so a stack deployed then keeps
    # them.
    @property
    def first_organization_before_names(self) -> str:
        return f"{self.component}-organization"

    def first_connection_before_names(self, connection: str) -> str:
        return f"{self.component}-connection-{connection}"

    def first_discovery_domain_before_names(self, domain: str) -> str:
        return f"{self.component}-discovery-domain-{domain}"

    @staticmethod
    def before(index: int, name_before: str) -> tuple[str, ...]:
        """The names of before of a resource of the organization at ``index``: ``name_before``
        (one of the ``first_…_before_names`` above) for the first organization's, none for the
        others'."""
        return (name_before,) if index == 0 else ()

    def domain_proof(self, group: int) -> str:
        return f"{self.component}-domain-proofs-{group:02d}"

    @property
    def first_domain_proof_before_groups(self) -> str:
        """The first organization's proof when each organization had its own: the group
        holding that organization takes it over, so a one-organization stack moves to
        groups with no request."""
        return f"{self.component}-domain-proofs"

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
        proofs = self._provision_domain_proofs(organizations)
        actions, credential = self._provision_actions(
            plan, planned, clients, organizations, proofs, [*grants, *enabled_connections]
        )
        self._register(credential, organizations, actions)

    @property
    def lookups(self) -> dict[str, dict[str, str]]:
        """The id of every connection and role name the stack looked up, by name: what the
        program exports as ``lookups``, for a preview that holds no Auth0 credential
        (``lookups.RECORDED_VARIABLE``)."""
        return self._resolved.as_output()

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

    def _named_before(self, index: int, name_before: str) -> pulumi.ResourceOptions:
        """A child's options, with the names it had before organizations' resources were named
        by their names as aliases (``LogicalNames.before``)."""
        before = LogicalNames.before(index, name_before)
        if not before:
            return self._child
        return pulumi.ResourceOptions(
            parent=self, aliases=[pulumi.Alias(name=name) for name in before]
        )

    def _provision_organizations(
        self,
    ) -> tuple[dict[str, auth0.Organization], list[auth0.OrganizationConnection]]:
        """Each organization, and each of its connections enabled on it.

        Registered one proof group after the other (``domain_proof.group_of``, the stack's
        order within a group): the engine creates them in about that order, so each group's
        proof completes, and sets its domains' status, while the next groups are created,
        instead of every group waiting for the last organizations of the deploy (a group's
        members are spread over the whole list). Only the order changes, not a name."""
        names, config = self._names, self._config
        created: dict[str, auth0.Organization] = {}
        enabled: list[auth0.OrganizationConnection] = []
        by_group = sorted(
            enumerate(config.organizations), key=lambda item: domain_proof.group_of(item[1].name)
        )
        for index, spec in by_group:
            organization = auth0.Organization(
                names.organization(spec),
                desired_state.organization(spec),
                self._named_before(index, names.first_organization_before_names),
            )
            created[spec.name] = organization
            enabled += [
                auth0.OrganizationConnection(
                    names.connection(spec, connection),
                    desired_state.connection(
                        config, organization.id, self._resolved.connections[connection]
                    ),
                    self._named_before(index, names.first_connection_before_names(connection)),
                )
                for connection in spec.connections or []
            ]
        organizations = {spec.name: created[spec.name] for spec in config.organizations}
        return organizations, enabled

    def _provision_domain_proofs(self, organizations: dict[str, auth0.Organization]) -> "Proofs":
        """Each email domain's discovery domain (a ``*.`` pattern's apex), declared pending,
        and the proof of its organization's group (``domain_proof.group_of``)."""
        names, config = self._names, self._config
        free: dict[str, list[str]] = {}
        groups: dict[int, list[domain_proof.DiscoveryRecord]] = {}
        for index, spec in enumerate(config.organizations):
            organization = organizations[spec.name]
            declared = email_domains.discovery_domains(spec.email_domains)
            free[spec.name] = [
                d for d in email_domains.proof_domains(spec.email_domains) if d not in declared
            ]
            for domain in declared:
                discovery = auth0.OrganizationDiscoveryDomain(
                    names.discovery_domain(spec, domain),
                    desired_state.discovery_domain(organization.id, domain),
                    # Its status is the proof's to set, by what DNS says at each deploy.
                    pulumi.ResourceOptions.merge(
                        self._named_before(
                            index, names.first_discovery_domain_before_names(domain)
                        ),
                        pulumi.ResourceOptions(ignore_changes=["status"]),
                    ),
                )
                groups.setdefault(domain_proof.group_of(spec.name), []).append(
                    domain_proof.DiscoveryRecord(
                        spec.name,
                        organization.id,
                        domain,
                        discovery.id,
                        discovery.verification_host,
                        discovery.verification_txt,
                    )
                )
        first = domain_proof.group_of(config.organizations[0].name)
        proofs = {
            group: domain_proof.DomainProof(
                names.domain_proof(group),
                group=group,
                domains=records,
                resolvers=config.dns_resolvers,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    aliases=(
                        [pulumi.Alias(name=names.first_domain_proof_before_groups)]
                        if group == first
                        else None
                    ),
                ),
            )
            for group, records in sorted(groups.items())
        }
        # One answer a proof: each record's host and text are known even while a new domain's
        # are not (those are named from the next preview on), so the others' are said in this
        # one.
        unproven = [
            gather([proof.proven, proof.domains]).apply(_unproven, run_with_unknowns=True)
            for proof in proofs.values()
        ]
        gather(unproven).apply(lambda answers: _say_unproven([u for a in answers for u in a]))
        return Proofs(proofs, free)

    def _provision_actions(
        self,
        plan: ShardPlan,
        planned: tuple[RenderedAction, ...],
        clients: dict[str, auth0.Client],
        organizations: dict[str, auth0.Organization],
        proofs: "Proofs",
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
            known = gather_named(
                {
                    "organizations": gather_named({name: organizations[name].id for name in mine}),
                    "proven": proofs.admitted(mine),
                }
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
        undeclared = [spec.name for spec in self._config.organizations if spec.branding is None]
        branding_checked = gather([organizations[name].branding for name in undeclared]).apply(
            functools.partial(_refuse_undeclared_brandings, undeclared)
        )
        ids = gather([o.id for o in organizations.values()])
        self.organization_ids = gather([branding_checked, ids]).apply(
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


@dataclass(frozen=True)
class Proofs:
    """The stack's proofs, by group, and each organization's free-mail domains it allows
    (``allowFreeMailDomains``), which nobody can prove and which are admitted as declared."""

    by_group: dict[int, domain_proof.DomainProof]
    free: dict[str, list[str]]

    def admitted(self, organizations: Sequence[str]) -> pulumi.Output[dict[str, list[str]]]:
        """The domains each of ``organizations``' rule admits through: its free-mail ones and
        those its group's proof found (none under mocks, which run no check). It waits for
        their groups' proofs alone."""
        groups = sorted(
            {domain_proof.group_of(name) for name in organizations} & set(self.by_group)
        )
        return gather([self.by_group[group].proven for group in groups]).apply(
            functools.partial(_admitted, list(organizations), self.free)
        )


def _admitted(
    organizations: list[str], free: dict[str, list[str]], answers: list[Any]
) -> dict[str, list[str]]:
    found: dict[str, Any] = {}
    for proven in answers:
        found |= proven if isinstance(proven, dict) else {}
    return {
        name: [*free[name], *(found[name] if isinstance(found.get(name), list) else [])]
        for name in organizations
    }


def _unproven(answer: Any) -> list[Unproven]:
    """A proof's domains, with their record, whose record is known and not found in DNS."""
    proven, records = answer if isinstance(answer, list) else (None, None)
    if not (isinstance(proven, dict) and isinstance(records, list)):
        return []
    unproven = []
    for record in records:
        if not isinstance(record, dict):
            continue
        organization, domain = record.get("organization"), record.get("domain")
        host, txt = record.get("verification_host"), record.get("verification_txt")
        found = proven.get(organization)
        if not isinstance(found, list) or domain in found:
            continue
        if isinstance(host, str) and isinstance(txt, str):
            unproven.append(Unproven(str(organization), str(domain), host, txt))
    return unproven


UNPROVEN_SHOWN = 10
"""How many unproven domains a preview or deploy names one by one; past that, one line counts
the rest (a first deploy of thousands of organizations would otherwise print a line each)."""


def _say_unproven(answers: list[Unproven]) -> None:
    """Name, in the preview and the deploy, each domain that admits nobody yet and the record to
    publish (the first ``UNPROVEN_SHOWN``), and how many more there are."""
    unproven = sorted(answers, key=lambda u: (u.organization, u.domain))
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
    """``Output.all(*outputs)`` for thousands of outputs, or outputs of large values. The SDK's
    unwraps each value deeply (a new output, and a task, for every item of every list and dict
    in it) and merges the outputs' resources into a new set one output at a time; this takes
    each value as it is and adds each output's resources to one set."""

    async def gathered() -> tuple[set[pulumi.Resource], list[Any], bool, bool]:
        resources: set[pulumi.Resource] = set()
        values, known, secret = [], True, False
        for output in outputs:
            resources |= await output.resources()
            value, is_known = await output.future(with_unknowns=True), await output.is_known()
            # As Output.all gives an unknown output's value to an apply that runs with unknowns.
            unknown = not is_known and not pulumi.output.contains_unknowns(value)
            values.append(pulumi.output.UNKNOWN if unknown else value)
            known = is_known and known
            secret = await output.is_secret() or secret
        return resources, values, known, secret

    data = asyncio.ensure_future(gathered())

    async def part(index: int) -> Any:
        # The output awaits its resources first: that one carries a fault, the others, which
        # it then never awaits, do not raise it again.
        try:
            return (await data)[index]
        except Exception:
            if index == 0:
                raise
            return None

    return pulumi.Output(*(asyncio.ensure_future(part(index)) for index in range(4)))


def gather_named(outputs: dict[str, pulumi.Output[Any]]) -> pulumi.Output[dict[str, Any]]:
    """``Output.all(**outputs)``, as ``gather`` does it."""
    return gather(list(outputs.values())).apply(
        lambda values: dict(zip(outputs, values, strict=True))
    )


def _refuse_undeclared_brandings(organizations: list[str], brandings: list[Any]) -> None:
    """``_refuse_undeclared_branding`` for each organization that declares no branding."""
    for organization, branding in zip(organizations, brandings, strict=True):
        _refuse_undeclared_branding(organization, branding)


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
