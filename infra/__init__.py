"""This repository's Pulumi program (``__main__.py``) and its commands on a stack's tenant:
adopt, backfill, reconcile, render, new_stack. The component they deploy is the
``auth0_org_assignment`` package."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The project: where ``Pulumi.yaml`` and the stack files are."""
