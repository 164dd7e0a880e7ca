"""The language host stand-in (devtools/engine/language_host.py) refuses what Pulumi's own
``pulumi-language-python`` refuses, and the harness's project copy is one both accept."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import language_pb2

from devtools.engine import language_host
from devtools.localstack.local_stack import LocalProject
from devtools.localtenant.testing import LocalTenant


class Aborted(Exception):
    pass


class Context:
    """What a gRPC servicer's context does on ``abort``: end the call with a status."""

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise Aborted(code, details)


def request(root: Path, toolchain: str) -> language_pb2.GetRequiredPackagesRequest:
    options = struct_pb2.Struct()
    options.update({"toolchain": toolchain, "virtualenv": ".venv"})
    info = language_pb2.ProgramInfo(
        root_directory=str(root), program_directory=str(root), entry_point=".", options=options
    )
    return language_pb2.GetRequiredPackagesRequest(info=info)


def test_a_uv_project_without_uv_lock_is_refused(tmp_path: Path) -> None:
    server = language_host.ProgramLanguageServer()
    with pytest.raises(Aborted, match=r"could not find uv\.lock: file does not exist"):
        server.GetRequiredPackages(request(tmp_path, "uv"), Context())
    with pytest.raises(Aborted, match=r"could not find uv\.lock"):
        server.GetRequiredPlugins(request(tmp_path, "uv"), Context())


def test_the_nearest_uv_lock_above_the_root_will_do(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_text("version = 1\n", encoding="utf-8")
    (tmp_path / "project").mkdir()
    answer = language_host.ProgramLanguageServer().GetRequiredPackages(
        request(tmp_path / "project", "uv"), Context()
    )
    assert "auth0" in {package.name for package in answer.packages}


def test_pip_projects_need_no_uv_lock(tmp_path: Path) -> None:
    assert language_host.uv_lock_missing(request(tmp_path, "pip").info) is None


def test_the_harness_project_is_a_uv_project(tmp_path: Path) -> None:
    with LocalTenant.start(tmp_path / "state.json") as tenant:
        project = LocalProject(tmp_path / "work", tenant)
    info = request(project.directory, "uv").info
    assert language_host.uv_lock_missing(info) is None
    assert (project.directory / "pyproject.toml").is_file()
