"""Development only: nothing here ships in the component's wheel.

``localtenant``: a local Auth0 tenant (an emulator of the Management and Authentication APIs,
with the post-login flow), and ``localtenant.testing``, the one harness that drives it.
``localstack``: the product run against a local tenant (the real engine, the rendered Action
alone, the program under Pulumi's mocks, the demo behind ``scripts/local-up``).
``engine``: what ``scripts/engine`` needs to provide the Pulumi engine offline (the auth0
provider's bridge mapping, the Python language host's stand-in).
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The checkout: where ``Pulumi.yaml``, the stack files and the installed tools are."""
