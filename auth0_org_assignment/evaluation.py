"""How the program's Python process collects garbage while Pulumi evaluates it.

Pulumi's Python SDK makes several cyclic objects (outputs, futures, tasks) for each resource.
CPython's full collections traverse the whole heap, and with thousands of resources alive their
number and their size both grow with the organizations: evaluation became quadratic (3,000
organizations under mocks, on 2 vCPU x86_64: 65 s with CPython's thresholds, 24 to 32 s with
these; bench/scale_bench.py measures it). The program evaluates once and exits, so full
collections are made rare and young ones less frequent; cycles are still collected.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

THRESHOLDS = (10_000, 10, 1_000)
"""``gc.set_threshold``'s: allocations before a young collection (CPython: 700), young
collections before a middle one (10), middle ones before a full one (CPython: 10)."""


def for_many_resources() -> None:
    """Set the process's collection thresholds for a program that declares many resources:
    ``infra/__main__.py`` calls it first."""
    gc.set_threshold(*THRESHOLDS)


@contextmanager
def many_resources() -> Iterator[None]:
    """The same, for one evaluation inside a longer process (the program under mocks)."""
    previous = gc.get_threshold()
    for_many_resources()
    try:
        yield
    finally:
        gc.set_threshold(*previous)
