"""How the program's Python process works while Pulumi evaluates thousands of resources.

Two costs of Pulumi's Python SDK grow with every resource the program declares:

- **Garbage collection.** The SDK makes several cyclic objects (outputs, futures, tasks) for
  each resource. CPython's full collections traverse the whole heap, and with thousands of
  resources alive their number and their size both grow with the organizations: evaluation
  became quadratic (3,000 organizations under mocks, on 2 vCPU x86_64: 65 s with CPython's
  thresholds, 24 to 32 s with these; bench/scale_bench.py measures it). The program evaluates
  once and exits, so full collections are made rare and young ones less frequent; cycles are
  still collected.
- **Stack traces.** For each registration the SDK records the call stack, which the engine
  keeps in the state beside the resource: every frame down to the language host's event loop,
  each file looked up in the line cache and turned into a URI (about half of a deployed
  stack's state in one `up` measured by hand, a tenth to a fifth of its evaluation in one
  profile and one comparison under mocks, neither kept). The program records the frames
  the SDK does from the resource's caller outward, up to the first of Pulumi's runtime or the
  standard library (where the program's own code ends: the SDK's loop, ``asyncio``, the
  language host): the first frame, the source position the engine shows, is unchanged (no
  frame at all when Pulumi's own code declares the resource, as it does the root stack).
"""

from __future__ import annotations

import gc
import os
import site
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import FrameType

import pulumi
import pulumi.runtime.resource as sdk_resource
from pulumi.runtime.proto import source_pb2

THRESHOLDS = (10_000, 10, 1_000)
"""``gc.set_threshold``'s: allocations before a young collection (CPython: 700), young
collections before a middle one (10), middle ones before a full one (CPython: 10)."""

RESOURCE_INITS = 3
"""``__init__`` frames between a registration and the resource's caller: Pulumi's
``Resource``, ``CustomResource`` (or ``ComponentResource``), and the concrete resource's (the
SDK's ``_get_stack_trace`` counts the same)."""


def for_many_resources() -> None:
    """Set the process for a program that declares many resources: ``infra/__main__.py``
    calls it first."""
    gc.set_threshold(*THRESHOLDS)
    sdk_resource._get_stack_trace = program_stack_trace


@contextmanager
def many_resources() -> Iterator[None]:
    """The same, for one evaluation inside a longer process (the program under mocks)."""
    previous: tuple[tuple[int, ...], Callable[[], source_pb2.StackTrace]] = (
        gc.get_threshold(),
        sdk_resource._get_stack_trace,
    )
    for_many_resources()
    try:
        yield
    finally:
        gc.set_threshold(*previous[0])
        sdk_resource._get_stack_trace = previous[1]


def program_stack_trace() -> source_pb2.StackTrace:
    """The stack trace of a registration as the SDK records it (innermost first, from the
    resource's caller), the program's frames only."""
    frame: FrameType | None = sys._getframe(1)
    inits = 0
    while frame is not None and inits < RESOURCE_INITS:
        inits += frame.f_code.co_name == "__init__"
        frame = frame.f_back
    frames = []
    while frame is not None and not in_runtime(frame.f_code.co_filename):
        uri = file_uri(frame.f_code.co_filename)
        frames.append(
            source_pb2.StackFrame(pc=source_pb2.SourcePosition(uri=uri, line=frame.f_lineno))
            if uri
            else source_pb2.StackFrame()  # as the SDK records a frame it cannot place
        )
        frame = frame.f_back
    return source_pb2.StackTrace(frames=frames)


@cache
def in_runtime(filename: str) -> bool:
    """Whether a frame's file is what runs the program rather than the program: Pulumi's SDK,
    the standard library (not the packages installed beside it), or no file ("<frozen runpy>")."""
    if not filename.endswith(".py"):
        return True
    path = Path(filename).resolve()
    pulumi_sdk, standard_library, installed = _runtime()
    if path.is_relative_to(pulumi_sdk):
        return True
    return path.is_relative_to(standard_library) and not any(
        path.is_relative_to(packages) for packages in installed
    )


@cache
def file_uri(filename: str) -> str:
    """A file's URI as the SDK writes it (``file:///…``); empty for a relative file name
    (code compiled with one), which the SDK cannot place either."""
    try:
        return Path(filename).as_uri()
    except ValueError:
        return ""


@cache
def _runtime() -> tuple[Path, Path, tuple[Path, ...]]:
    """Pulumi's SDK, the standard library, and where packages are installed (a system
    Python's may be inside its standard library)."""
    installed = [*site.getsitepackages(), site.getusersitepackages()]
    return (
        Path(pulumi.__file__).parent.resolve(),
        Path(os.__file__).parent.resolve(),
        tuple(Path(path).resolve() for path in installed),
    )
