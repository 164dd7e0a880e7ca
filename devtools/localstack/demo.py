"""The whole product on a local tenant: ``scripts/local-up`` (``--destroy`` to tear down,
``--shell`` to try the operations commands on it).

Starts ``python -m devtools.localtenant serve`` on localhost:8443 with its state in
``.localtenant/``, creates the connection the ``local`` stack names and a deployer application
holding exactly the deployer's scopes (``credentials.DEPLOY``), runs the real ``pulumi up
--stack local`` (state in ``.pulumi-state/``), then signs a user up and logs them in twice: the
deployed Action assigns them to the organization on the first login and makes no Management API
call on the second.

The stack's email domain admits nobody until it is proven. Playing the domain's owner, the demo
publishes the TXT record Auth0 named for it on a DNS server of its own on loopback
(``127.0.0.1:8553``, the local stack's ``dnsResolvers``), and says so; when the first ``up``
has just declared the domain, a second ``up`` finds the record and admits through it.

With ``--shell`` it then opens a shell with the tenant and the DNS server still running, the
engine's environment, and an application for each operations command holding exactly its
scopes (``AUTH0_EXPLAIN_CLIENT_ID``, ``AUTH0_RECONCILE_CLIENT_ID``, ...): ``auth0-org-assignment
explain local --email ada@example.com`` then runs as an operator would run it; leaving the
shell stops them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from auth0_org_assignment import credentials
from auth0_org_assignment.commands import COMMANDS
from auth0_org_assignment.commands.management_client import credential_variables
from auth0_org_assignment.config import load_stack_file
from devtools import ROOT
from devtools.dns import LoopbackDns
from devtools.localstack.local_stack import LOCAL_PASSPHRASE, STACK, engine_environment
from devtools.localtenant.testing import LocalTenant

PORT = 8443
STATE = ROOT / ".localtenant"
BACKEND = ROOT / ".pulumi-state"
USER_EMAIL = "ada@example.com"
DNS_PORT = 8553
"""Where the demo's DNS server listens: the local stack's ``dnsResolvers``."""
OPERATORS = tuple(name for name, module in COMMANDS.items() if hasattr(module, "CALLS"))
"""The commands ``--shell`` makes an application for, each with its role's scopes: those that
call the Management API."""


def main(argv: list[str]) -> int:
    config = load_stack_file(STACK, ROOT)
    STATE.mkdir(exist_ok=True)
    BACKEND.mkdir(exist_ok=True)  # pulumi login file:// needs the folder to exist
    try:
        tenant = LocalTenant.spawn(STATE / "state.json", PORT)
    except RuntimeError as error:
        print(f"error: {error}; is something else listening on port {PORT}?", file=sys.stderr)
        return 1
    try:
        dns = LoopbackDns.start(DNS_PORT)
    except OSError as error:
        tenant.stop()
        print(f"error: {error}; is something else listening on port {DNS_PORT}?", file=sys.stderr)
        return 1
    try:
        deployer = _deployer(tenant)
        environment = {
            **engine_environment(tenant.ca_cert, BACKEND, LOCAL_PASSPHRASE),
            # The deployer's credentials reach the provider through its environment variables,
            # so nothing is written into the committed stack file.
            "AUTH0_CLIENT_ID": deployer["client_id"],
            "AUTH0_CLIENT_SECRET": deployer["client_secret"],
        }

        def pulumi(*args: str) -> None:
            print(f"\n$ pulumi {' '.join(args)}", flush=True)
            subprocess.run(["pulumi", *args], cwd=ROOT, env=environment, check=True)

        subprocess.run(
            ["pulumi", "stack", "select", "--create", STACK, "--secrets-provider", "passphrase"],
            cwd=ROOT,
            env=environment,
            check=True,
            capture_output=True,
        )
        if "--destroy" in argv:
            pulumi("destroy", "--yes", "--stack", STACK)
            print(
                f"\nTo remove the stack too, add --preserve-config: `pulumi stack rm {STACK}` "
                f"alone also deletes the committed Pulumi.{STACK}.yaml, without which "
                "scripts/local-up stops."
            )
            return 0
        for name in config.all_connections:
            tenant.ensure_connection(name)
        proven = _publish_proofs(tenant, dns)
        pulumi("up", "--yes", "--stack", STACK)
        if _publish_proofs(tenant, dns) != proven:
            print(
                "\nThe first up declared the email domain, and Auth0 named its proof record; the"
                " demo has published it. The next up finds it and admits through the domain:"
            )
            pulumi("up", "--yes", "--stack", STACK)
        _show_logins(tenant, config.all_connections[0])
        if "--shell" in argv:
            return _shell({**environment, **operator_environment(tenant)})
        return 0
    except subprocess.CalledProcessError as error:
        print(f"error: {' '.join(error.cmd)} failed ({error.returncode})", file=sys.stderr)
        return 1
    finally:
        dns.stop()
        tenant.stop()


def _deployer(tenant: LocalTenant) -> dict[str, str]:
    """The deployer application, created with the deployer's scopes and kept; created anew
    when those scopes changed since (a newer version needs ``update:client_keys``)."""
    return _application(tenant, "deployer", "Pulumi deployer (local)", sorted(credentials.DEPLOY))


def _application(
    tenant: LocalTenant, key: str, name: str, scopes: list[str], directory: Path = STATE
) -> dict[str, str]:
    """An application of the tenant holding ``scopes``, kept in ``<directory>/<key>.json``
    (mode 600) and created anew when its scopes changed since."""
    saved = directory / f"{key}.json"
    if saved.is_file():
        kept: dict[str, str] = json.loads(saved.read_text(encoding="utf-8"))
        if kept.pop("scopes", None) == " ".join(scopes):
            return kept
    application = tenant.m2m_client(name, scopes)
    saved.touch(mode=0o600)
    saved.write_text(json.dumps({**application, "scopes": " ".join(scopes)}), encoding="utf-8")
    return application


def operator_environment(tenant: LocalTenant, directory: Path = STATE) -> dict[str, str]:
    """``AUTH0_<COMMAND>_CLIENT_ID`` and ``_SECRET`` for each of ``OPERATORS``: an application
    holding exactly that command's scopes (``credentials.<COMMAND>``), as an operator gives
    it."""
    environment: dict[str, str] = {}
    for command in OPERATORS:
        role = command.upper()
        scopes = sorted(getattr(credentials, role))
        application = _application(tenant, command, f"{command} (local)", scopes, directory)
        client_id, client_secret = credential_variables(role)
        environment[client_id] = application["client_id"]
        environment[client_secret] = application["client_secret"]
    return environment


def _shell(environment: dict[str, str]) -> int:
    print(
        "\nA shell with the local tenant running, the engine's environment and an application "
        f"for each of {', '.join(OPERATORS)} (AUTH0_<COMMAND>_CLIENT_ID and _SECRET). Try:\n"
        f"  auth0-org-assignment explain {STACK} --email {USER_EMAIL}\n"
        f"  auth0-org-assignment domains {STACK}\n"
        f"  auth0-org-assignment reconcile {STACK} --dry-run\n"
        "Leave it (exit) to stop the tenant.",
        flush=True,
    )
    # The engine's environment puts the pinned engine first on PATH; the console script too.
    path = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{environment['PATH']}"
    shell = os.environ.get("SHELL") or "/bin/sh"
    return subprocess.run([shell], cwd=ROOT, env={**environment, "PATH": path}).returncode


def _publish_proofs(tenant: LocalTenant, dns: LoopbackDns) -> set[str]:
    """Publish, on the demo's loopback DNS, the proof record of every email domain the tenant's
    organizations have declared, as each domain's owner would on theirs; the domains published."""
    published: set[str] = set()
    for organization in tenant.call("GET", "/api/v2/organizations"):
        for domain in tenant.discovery_domains(organization["id"]):
            dns.publish(domain["verification_host"], domain["verification_txt"])
            published.add(domain["domain"])
            print(
                f'(as the owner of {domain["domain"]}: TXT "{domain["verification_txt"]}" '
                f"published at {domain['verification_host']} on 127.0.0.1:{DNS_PORT})"
            )
    return published


def _show_logins(tenant: LocalTenant, connection: str) -> None:
    user = tenant.user_with_email(USER_EMAIL) or tenant.sign_up(
        USER_EMAIL, connection, verified=True
    )
    print(f"\n{USER_EMAIL} ({user['user_id']}) logs in through {connection}:")
    for attempt in ("first", "second"):
        before = tenant.calls()
        login = tenant.login(user["user_id"], connection)
        made = tenant.calls() - before
        for execution in login["executions"]:
            for line in execution["logs"]:
                print(f"  Action log: {line}")
        requests = ", ".join(f"{name} x{count}" for name, count in made.items()) or "none"
        print(
            f"  {attempt} login of this run: member of {login['member_of'] or 'no organization'}; "
            f"requests the Action made to the tenant: {requests}"
        )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
