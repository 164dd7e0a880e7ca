"""The scale benchmark's side by side (bench/deploycli_bench.py) keeps working: Auth0's Deploy
CLI imports a few of its organizations into a fresh local tenant, each with its connection and
discovery domains, and the tenant counts what it was asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from auth0_org_assignment.config import parse_config
from bench.deploycli_bench import import_organizations, row, writes
from bench.scale_bench import stack


@pytest.mark.slow
def test_three_organizations_are_imported_and_counted(node_modules: Path, tmp_path: Path) -> None:
    measured = import_organizations(3, workdir=tmp_path)
    assert measured.organizations == 3
    # Its token, its reads of the tenant, and the 12 creates: the floor's writes.
    made = sum(writes(parse_config(stack(3), "bench")).values())
    assert made == 12
    assert measured.requests > made
    assert measured.rate_limited == 0  # within every bucket's burst
    assert measured.floor.seconds == 0
    assert 0 < measured.seconds < 300
    assert row(measured).startswith("| 3 | ")
