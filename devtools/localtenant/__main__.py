"""``python -m devtools.localtenant serve --state FILE [--port N]``: run a local Auth0 tenant.

Once it accepts requests it prints one JSON line: ``{"domain": "localhost:<port>",
"ca_cert": "<path of the PEM file to trust>", "admin": {"client_id": ...,
"client_secret": ...}}`` (and ``"custom_domain": "<host>:<port>"`` with ``--custom-domain``)
and serves until SIGTERM. Other
subcommands talk to a running tenant as its admin client.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from devtools.localtenant.control import TIERS
from devtools.localtenant.ratelimits import DEFAULT_TIER
from devtools.localtenant.testing import LocalTenant


def _serve(arguments: argparse.Namespace) -> int:
    from devtools.localtenant.server import TenantServer

    server = TenantServer(
        Path(arguments.state).resolve(), arguments.port, custom_domain=arguments.custom_domain
    )
    server.tenant.rate_limiter.tier = TIERS[arguments.rate_limits]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(json.dumps(server.serve_line), flush=True)
    stop.wait()
    server.close()
    return 0


def _tenant(arguments: argparse.Namespace) -> LocalTenant:
    return LocalTenant.attach(json.loads(Path(arguments.tenant).read_text(encoding="utf-8")))


def _add_connection(arguments: argparse.Namespace) -> int:
    body = {"name": arguments.name, "strategy": arguments.strategy}
    print(json.dumps(_tenant(arguments).call("POST", "/api/v2/connections", body)))
    return 0


def _add_user(arguments: argparse.Namespace) -> int:
    user = _tenant(arguments).sign_up(arguments.email, arguments.connection, arguments.verified)
    print(json.dumps(user))
    return 0


def _login(arguments: argparse.Namespace) -> int:
    result = _tenant(arguments).login(
        arguments.user_id, arguments.connection, arguments.organization, arguments.client_id
    )
    print(json.dumps(result, indent=2))
    return 0 if not result.get("denied") and not result.get("failed") else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.localtenant", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the tenant until SIGTERM")
    serve.add_argument("--state", required=True, help="JSON file holding the tenant's state")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    serve.add_argument(
        "--custom-domain",
        help="a second host name the tenant answers on as an Auth0 custom domain (e.g. 127.0.0.1)",
    )
    serve.add_argument(
        "--rate-limits",
        choices=sorted(TIERS),
        default=DEFAULT_TIER.name,
        help=f"Auth0's documented rate limits to enforce (default {DEFAULT_TIER.name})",
    )
    serve.set_defaults(run=_serve)
    for name, run, help_text in (
        ("add-connection", _add_connection, "create a connection"),
        ("add-user", _add_user, "create a user"),
        ("login", _login, "log a user in: runs the post-login Actions as deployed"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument(
            "--tenant", required=True, help="file holding the line `serve` printed"
        )
        command.set_defaults(run=run)
        if name == "add-connection":
            command.add_argument("name")
            command.add_argument("--strategy", default="auth0")
        elif name == "add-user":
            command.add_argument("email")
            command.add_argument("--connection", required=True)
            command.add_argument("--verified", action="store_true")
        else:
            command.add_argument("user_id")
            command.add_argument("--connection", required=True)
            command.add_argument("--organization", help="organization id the user logs in to")
            command.add_argument(
                "--client-id", help="the application logged in to (default: the tenant's own)"
            )
    arguments = parser.parse_args(argv)
    return int(arguments.run(arguments))


if __name__ == "__main__":
    sys.exit(main())
