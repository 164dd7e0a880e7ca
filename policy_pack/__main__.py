"""Entry point of the policy pack: Pulumi's policy runtime runs this file (``python <folder>``
or ``python -m pulumi.policy <engine> <folder>``), with this folder first on ``sys.path``."""

import sys
from pathlib import Path

# The repository root: ``policy_pack`` and ``auth0_org_assignment`` import from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policy_pack.analyzer import serve
from policy_pack.policies import PACK_NAME, POLICIES

serve(PACK_NAME, POLICIES)
