"""Drive the pinned Pulumi engine (``scripts/engine``) against a local tenant.

``LocalProject`` is a copy of this project whose ``local`` stack points at a local tenant
(``devtools.localtenant.testing.LocalTenant``), with its own file backend and its own DNS server
on loopback (the stack's ``dnsResolvers``, where ``prove_domains`` publishes the email domains'
proof records as their owners would), and runs real ``pulumi`` commands in it;
``engine_environment`` is the environment those commands run in. The lifecycle tests, their
benchmark and ``scripts/local-up`` use these.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from auth0_org_assignment import rate_limits
from devtools import ROOT
from devtools.dns import LoopbackDns
from devtools.localtenant.testing import LocalTenant

ENGINE = ROOT / ".engine"
STACK = "local"
PROJECT_FILES = ("pyproject.toml", "uv.lock", "README.md", "hatch_build.py")
"""What makes a copy of the project a uv project of its own (copied)..."""
PROJECT_FOLDERS = ("auth0_org_assignment", "action_templates", "node_modules")
"""...and what its package is built from (linked)."""


def engine_environment(ca_cert: str, backend: Path, passphrase: str) -> dict[str, str]:
    """This process's environment with the pinned engine first on PATH, a file backend, the
    stack's passphrase, and the local tenant's certificate trusted by the provider (a Go
    program: SSL_CERT_FILE). Pulumi and Auth0 settings from outside are left out."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "AUTH0_"))}
    return {
        **base,
        "PATH": f"{ENGINE / 'bin'}{os.pathsep}{base.get('PATH', '')}",
        "PULUMI_HOME": str(ENGINE / "home"),
        "PULUMI_BACKEND_URL": backend.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": passphrase,
        "PULUMI_SKIP_UPDATE_CHECK": "1",
        "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "1",
        "SSL_CERT_FILE": ca_cert,
    }


PULUMI = ENGINE / "bin" / "pulumi"
"""The pinned Pulumi CLI ``scripts/engine`` builds."""


def engine_ready() -> bool:
    """True when ``scripts/engine`` has made the CLI, language host and plugin available."""
    return (ENGINE / "env").is_file() and PULUMI.exists()


@dataclass
class Run:
    """One ``pulumi`` command: its arguments, exit code, output and duration."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    output: str
    """stdout and stderr together."""
    seconds: float


LOCAL_PASSPHRASE = "local-tenant-only"
"""The ``local`` stack's passphrase: public, like the salt in Pulumi.local.yaml."""


@dataclass
class LocalProject:
    """A copy of the project in ``workdir`` whose ``local`` stack targets ``tenant``."""

    workdir: Path
    tenant: LocalTenant
    passphrase: str = LOCAL_PASSPHRASE
    runs: list[Run] = field(default_factory=list)
    deployer: dict[str, str] = field(default_factory=dict)
    """The credentials the stack was created with (``init``)."""
    _credentials: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.directory = self.workdir / "project"
        self.directory.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "Pulumi.yaml", self.directory / "Pulumi.yaml")
        # A real uv project, as Pulumi.yaml's `toolchain: uv` needs: Pulumi's own Python host
        # reads the packages from uv.lock ("could not find uv.lock" otherwise) and `uv sync`s
        # the project into its virtualenv, which builds the package from these.
        for name in PROJECT_FILES:
            shutil.copy(ROOT / name, self.directory / name)
        for name in ("infra", *PROJECT_FOLDERS):
            (self.directory / name).symlink_to(ROOT / name)
        self.stack_file = self.directory / f"Pulumi.{STACK}.yaml"
        document = yaml.safe_load((ROOT / f"Pulumi.{STACK}.yaml").read_text(encoding="utf-8"))
        document["config"]["auth0:domain"] = self.tenant.domain
        # A DNS server of its own (never stopped: a daemon thread, gone with the process).
        self.dns = LoopbackDns.start()
        document["config"]["auth0-org-assignment:dnsResolvers"] = [self.dns.address]
        self.write_config(document["config"])
        (self.workdir / "state").mkdir(exist_ok=True)

    @property
    def config(self) -> dict[str, Any]:
        document: dict[str, Any] = yaml.safe_load(self.stack_file.read_text(encoding="utf-8"))
        return dict(document["config"])

    def write_config(self, config: dict[str, Any]) -> None:
        """Rewrite the stack file's plain keys (secrets stay as the CLI encrypted them)."""
        document = {"config": config}
        if self.stack_file.exists():
            old = yaml.safe_load(self.stack_file.read_text(encoding="utf-8"))
            document = {**old, "config": {**old["config"], **config}}
        self.stack_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")

    def environment(self) -> dict[str, str]:
        return {
            **engine_environment(self.tenant.ca_cert, self.workdir / "state", self.passphrase),
            "NO_COLOR": "1",
            **self._credentials,
        }

    def _pulumi_environment(
        self, args: tuple[str, ...], extra_env: dict[str, str]
    ) -> dict[str, str]:
        """The environment of ``pulumi ARGS``: the project's, ``extra_env``, and the operations
        at once the paced plugin's action gives a job for its tier and share."""
        env = {**self.environment(), **extra_env}
        try:
            refresh = "refresh" in args or "--refresh" in args
            parallel = rate_limits.deploy_parallelism(
                *rate_limits.from_environment(env), refresh=refresh
            )
            env.setdefault(rate_limits.PARALLEL_VARIABLE, str(parallel))
        except ValueError:
            pass  # the deploy refuses the tier or share itself, naming the variable
        return env

    def start(self, *args: str, **extra_env: str) -> subprocess.Popen[str]:
        """``pulumi ARGS`` started, not waited for (to interrupt it, say); output on stdout."""
        return subprocess.Popen(
            ["pulumi", *args, "--non-interactive"],
            cwd=self.directory,
            env=self._pulumi_environment(args, extra_env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def pulumi(
        self, *args: str, check: bool = True, stdin: str | None = None, **extra_env: str
    ) -> Run:
        started = time.monotonic()
        result = subprocess.run(
            ["pulumi", *args, "--non-interactive"],
            cwd=self.directory,
            env=self._pulumi_environment(args, extra_env),
            input=stdin,
            capture_output=True,
            text=True,
        )
        elapsed = time.monotonic() - started
        output = result.stdout + result.stderr
        run = Run(args, result.returncode, result.stdout, output, elapsed)
        self.runs.append(run)
        if check and result.returncode != 0:
            raise RuntimeError(
                f"pulumi {' '.join(args)} failed ({result.returncode}):\n{run.output}"
            )
        return run

    def script(self, name: str, *args: str) -> Run:
        """One of this repository's ``scripts/``, run in the project with the same engine."""
        started = time.monotonic()
        result = subprocess.run(
            [str(ROOT / "scripts" / name), *args],
            cwd=self.directory,
            env={k: v for k, v in self.environment().items() if k != "GITHUB_STEP_SUMMARY"},
            capture_output=True,
            text=True,
        )
        elapsed = time.monotonic() - started
        run = Run(
            (name, *args), result.returncode, result.stdout, result.stdout + result.stderr, elapsed
        )
        self.runs.append(run)
        return run

    def init(self, credentials: dict[str, str]) -> None:
        """Create the stack and give it the deployer's credentials."""
        self.deployer = credentials
        self.pulumi("stack", "init", STACK, "--secrets-provider", "passphrase")
        self.use_credentials(credentials)

    def use_credentials(self, credentials: dict[str, str]) -> None:
        """The credentials the next commands run with, in the environment variables the auth0
        provider and ``ActionCredential`` read, as the pipeline passes them: set as
        ``auth0:clientSecret``, Pulumi would record the secret in the stack's state."""
        self._credentials = {
            "AUTH0_CLIENT_ID": credentials["client_id"],
            "AUTH0_CLIENT_SECRET": credentials["client_secret"],
        }

    def outputs(self) -> dict[str, Any]:
        outputs: dict[str, Any] = json.loads(self.pulumi("stack", "output", "--json").stdout)
        return outputs

    def prove_domains(self) -> list[str]:
        """Publish on this project's DNS the proof record of every discovery domain the
        tenant's organizations have, as each domain's owner would; the domains published. The
        next ``pulumi up`` finds them and admits through them."""
        published = []
        for organization in self.tenant.call("GET", "/api/v2/organizations"):
            for domain in self.tenant.discovery_domains(organization["id"]):
                self.dns.publish(domain["verification_host"], domain["verification_txt"])
                published.append(domain["domain"])
        return published

    def up_proven(self, *args: str) -> Run:
        """``pulumi up``, then, when it declared a domain whose record was not published yet,
        the owner publishes it and a second ``up`` admits through it: the run of the second."""
        first = self.pulumi("up", "--yes", "--skip-preview", *args)
        before = {host: set(texts) for host, texts in self.dns.records.items()}
        self.prove_domains()
        if self.dns.records == before:
            return first
        return self.pulumi("up", "--yes", "--skip-preview", *args)
