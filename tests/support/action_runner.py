"""Drive the rendered Action in Node (tests/support/action_harness.js) against a FakeTenant."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.action_code import TEMPLATES, RenderedAction
from tests.support.fake_management_api import FakeTenant, TenantState

HARNESS = Path(__file__).resolve().parent / "action_harness.js"
NODE_MODULES = TEMPLATES / "node_modules"
ORGANIZATION_ID = "org_T3stAcme"


@dataclass(frozen=True)
class Login:
    """What one execution of the Action did."""

    logs: list[str]
    denied: str | None
    app_metadata_set: dict[str, Any] | None
    ms: float
    thrown: str | None
    sdk_loaded: bool

    @property
    def report(self) -> dict[str, Any]:
        """The Action's one structured log line for this login."""
        (line,) = self.logs
        report: dict[str, Any] = json.loads(line)
        return report

    @property
    def outcome(self) -> str:
        return str(self.report["outcome"])


def connection_id(name: str) -> str:
    """The id the fake tenant gives a connection name."""
    return f"con_{name}"


def tenant_state_for(rendered: RenderedAction, **overrides: Any) -> TenantState:
    """A tenant whose M2M client holds exactly the scopes the stack grants to this code."""
    values: dict[str, Any] = {
        "client_id": "m2m_" + secrets.token_hex(8),
        "client_secret": "sec_" + secrets.token_urlsafe(32),
        "organization_id": ORGANIZATION_ID,
        "granted_scopes": set(rendered.scopes),
        "enabled_connection_ids": {connection_id(name) for name in rendered.connections},
    }
    values.update(overrides)
    return TenantState(**values)


class ActionProcess:
    """One Node process running the Action: one container, whose module state persists."""

    def __init__(self, code: str, tenant: FakeTenant, workdir: Path) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not on PATH: install Node.js 20.19 or newer")
        if not (NODE_MODULES / "auth0").is_dir():
            raise RuntimeError("run `npm ci --prefix action_templates` first")
        code_path = workdir / "post_login_action.js"
        code_path.write_text(code, encoding="utf-8")
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "NODE_PATH": str(NODE_MODULES),
            "NODE_EXTRA_CA_CERTS": str(tenant.ca_file),
        }
        self._process = subprocess.Popen(
            [node, str(HARNESS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=environment,
        )
        state = tenant.state
        self.loaded = self._ask(
            op="init",
            code_path=str(code_path),
            secrets={
                "TENANT_DOMAIN": tenant.domain,
                "CLIENT_ID": state.client_id,
                "CLIENT_SECRET": state.client_secret,
                "ORGANIZATION_ID": state.organization_id,
            },
        )

    def login(
        self,
        user_id: str,
        connection: str = "Username-Password-Authentication",
        organization_id: str | None = None,
        app_metadata: dict[str, Any] | None = None,
    ) -> Login:
        """One login of ``user_id`` through ``connection``."""
        user: dict[str, Any] = {"user_id": user_id}
        if app_metadata is not None:
            user["app_metadata"] = app_metadata
        answer = self._ask(
            op="login",
            user=user,
            connection={"id": connection_id(connection), "name": connection},
            organization={"id": organization_id} if organization_id else None,
        )
        return Login(**answer)

    def advance_clock(self, ms: int) -> None:
        """Move the Action's clock (Date.now) forward, as time passing between logins."""
        self._ask(op="advance_clock", ms=ms)

    def state(self) -> dict[str, Any]:
        """The cache keys, cache errors and unhandled rejections seen so far."""
        return self._ask(op="state")

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()

    def _ask(self, **request: Any) -> dict[str, Any]:
        assert self._process.stdin and self._process.stdout
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the Action harness exited ({self._process.poll()})")
        answer: dict[str, Any] = json.loads(line)
        if "harness_error" in answer:
            raise RuntimeError(answer["harness_error"])
        return answer
