"""The program's process while Pulumi evaluates it: the stack traces it records."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

import pulumi
import pulumi.runtime.resource as sdk_resource
import pulumi_auth0 as auth0
from pulumi.runtime.proto import source_pb2

from auth0_org_assignment import evaluation
from devtools.localstack.pulumi_mocks import build_program

THIS_FILE = Path(__file__).resolve().as_uri()


def declare(line: list[int]) -> None:
    """The program under test: one organization, declared on the line after the one noted."""
    line.append(sys._getframe().f_lineno + 1)
    auth0.Organization("acme", name="acme")


def traces_of_a_registration() -> tuple[source_pb2.StackTrace, source_pb2.StackTrace, int]:
    """The SDK's stack trace and the program's, taken at the same registration."""
    taken: list[source_pb2.StackTrace] = []
    sdk: Callable[[], source_pb2.StackTrace] = sdk_resource._get_stack_trace

    def both() -> source_pb2.StackTrace:
        taken.extend((sdk(), evaluation.program_stack_trace()))
        return taken[-1]

    line: list[int] = []
    with evaluation.many_resources():
        assert sdk_resource._get_stack_trace is evaluation.program_stack_trace
        sdk_resource._get_stack_trace = both
        build_program(lambda: declare(line))
    assert sdk_resource._get_stack_trace is sdk, "many_resources() restores the SDK's"
    pairs = list(zip(taken[::2], taken[1::2], strict=True))
    (sdk_trace, program_trace) = next(
        (sdk, program)
        for sdk, program in pairs
        if program.frames and program.frames[0].pc.uri == THIS_FILE
    )
    return sdk_trace, program_trace, line[0]


def uris(trace: source_pb2.StackTrace) -> list[tuple[str, int]]:
    return [(frame.pc.uri, frame.pc.line) for frame in trace.frames]


def test_the_program_records_the_sdks_frames_up_to_the_runtime() -> None:
    sdk_trace, program_trace, line = traces_of_a_registration()
    program, sdk = uris(program_trace), uris(sdk_trace)

    assert program[0] == (THIS_FILE, line), "the source position: where it was declared"
    assert program == sdk[: len(program)], "the same frames, innermost first"
    assert len(sdk) > len(program), "the SDK's trace goes on into the runtime"
    first_left_out = sdk[len(program)][0]
    assert evaluation.in_runtime(first_left_out.removeprefix("file://")) or not first_left_out


def test_no_frame_of_pulumi_or_the_standard_library_is_recorded() -> None:
    _, program_trace, _ = traces_of_a_registration()
    pulumi_sdk = Path(pulumi.__file__).parent.as_uri()
    asyncio_module = Path(asyncio.__file__).parent.as_uri()
    for uri, _ in uris(program_trace):
        assert not uri.startswith((pulumi_sdk, asyncio_module)), uri


def test_runtime_files() -> None:
    assert evaluation.in_runtime(pulumi.__file__)
    assert evaluation.in_runtime(asyncio.__file__)
    assert evaluation.in_runtime("<frozen runpy>")
    assert not evaluation.in_runtime(evaluation.__file__)
    assert not evaluation.in_runtime(auth0.__file__), (
        "a provider's SDK is a library the program uses"
    )


def test_a_file_named_relatively_is_recorded_as_a_frame_the_sdk_cannot_place() -> None:
    assert evaluation.file_uri("pkg/module.py") == ""
    assert evaluation.file_uri(evaluation.__file__) == Path(evaluation.__file__).as_uri()
