"""A stand-in for ``pulumi-language-python``, built from the Python SDK's own parts.

The real language host is a Go program that the Go module proxy this was built against did
not serve, so ``scripts/engine`` installs this instead when it has to build the engine. It
speaks the same gRPC LanguageRuntime protocol to the real engine, using the SDK's
``LanguageServer`` (the one Automation API inline programs use), and runs the project's
``main`` program in this process, with this virtualenv's packages; a project whose
``runtime.options.virtualenv`` is another virtualenv runs in that one's Python instead (this
same file, ``--run``), as the real host would run it.

It refuses what the real host refuses: a project with ``toolchain: uv`` and no ``uv.lock``.

It also runs Python plugins (a component provider: a folder with ``PulumiPlugin.yaml``,
``runtime: python``): ``RunPlugin`` starts the folder's ``__main__.py`` with this virtualenv's
Python and streams its output to the engine, as the real host does.

Started by the Pulumi CLI as ``pulumi-language-python [-flags] ENGINE_ADDRESS``; prints the
port it listens on, then serves until the engine closes it.
"""

from __future__ import annotations

import json
import os
import queue
import runpy
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from concurrent import futures
from importlib import metadata
from pathlib import Path
from typing import Any

import grpc
from pulumi.automation._server import LanguageServer
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

_MAX_MESSAGE = 400 * 1024 * 1024


class ProgramLanguageServer(LanguageServer):
    """Runs the program directory the engine names, and reports the provider plugins it needs."""

    def __init__(self) -> None:
        super().__init__(self._run_program)
        self._program_directory = Path.cwd()

    def _run_program(self) -> None:
        main = self._program_directory / "__main__.py"
        runpy.run_path(str(main), run_name="__main__")

    def Run(self, request: Any, context: Any) -> Any:
        if request.info and request.info.program_directory:
            self._program_directory = Path(request.info.program_directory)
        elif request.program:
            self._program_directory = Path(request.pwd or ".") / request.program
        python = _project_python(request)
        if python is not None:
            return _run_in(python, request)
        return super().Run(request, context)  # type: ignore[no-untyped-call]

    def GetRequiredPackages(self, request: Any, context: Any) -> Any:
        _refuse_what_the_host_refuses(request, context)
        return language_pb2.GetRequiredPackagesResponse(packages=_installed_plugins())

    def GetRequiredPlugins(self, request: Any, context: Any) -> Any:
        _refuse_what_the_host_refuses(request, context)
        plugins = [
            plugin_pb2.PluginDependency(name=p.name, kind=p.kind, version=p.version)
            for p in _installed_plugins()
        ]
        return language_pb2.GetRequiredPluginsResponse(plugins=plugins)

    def GetPluginInfo(self, request: Any, context: Any) -> Any:
        return plugin_pb2.PluginInfo(version=metadata.version("pulumi"))

    def InstallDependencies(self, request: Any, context: Any) -> Iterator[Any]:
        # Everything a plugin or program needs is this virtualenv's already (uv.lock).
        yield from ()

    def RunPlugin(self, request: Any, context: Any) -> Iterator[Any]:
        """Run a Python plugin's folder, its output streamed back, then its exit code."""
        folder = Path(request.info.program_directory or request.program or request.pwd)
        environment = dict(os.environ)
        environment.update(entry.split("=", 1) for entry in request.env if "=" in entry)
        process = subprocess.Popen(  # the engine names the plugin to run
            [sys.executable, "-u", str(folder), *request.args],
            cwd=request.pwd or None,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        chunks: queue.Queue[tuple[str, bytes]] = queue.Queue()

        def forward(name: str, stream: Any) -> None:
            for chunk in iter(lambda: stream.read1(65536), b""):
                chunks.put((name, chunk))
            chunks.put((name, b""))

        readers = [
            threading.Thread(target=forward, args=(name, stream), daemon=True)
            for name, stream in (("stdout", process.stdout), ("stderr", process.stderr))
        ]
        for reader in readers:
            reader.start()
        open_streams = len(readers)
        while open_streams:
            name, chunk = chunks.get()
            if not chunk:
                open_streams -= 1
                continue
            yield (
                language_pb2.RunPluginResponse(stdout=chunk)
                if name == "stdout"
                else language_pb2.RunPluginResponse(stderr=chunk)
            )
        yield language_pb2.RunPluginResponse(exitcode=process.wait())


def uv_lock_missing(info: Any) -> str | None:
    """Why Pulumi's own host could not list the packages of the project ``info`` describes,
    or None: with ``toolchain: uv`` it reads them from the nearest ``uv.lock`` in the project's
    root directory or above (pulumi/pulumi sdk/python/toolchain/uv.go, ``ListPackages``)."""
    options = info.options if info else None
    toolchain = (
        options.fields["toolchain"].string_value
        if options and "toolchain" in options.fields
        else ""
    )
    if toolchain != "uv":
        return None
    root = Path(info.root_directory or ".").absolute()
    if any((folder / "uv.lock").is_file() for folder in (root, *root.parents)):
        return None
    return "could not find uv.lock: file does not exist"


def _refuse_what_the_host_refuses(request: Any, context: Any) -> None:
    """Refuse a project as ``pulumi-language-python`` would (the engine then reports "failed to
    discover package requirements: <why>"), so that what passes here passes there too."""
    why = uv_lock_missing(request.info)
    if why is not None:
        context.abort(grpc.StatusCode.UNKNOWN, why)


def _project_python(request: Any) -> str | None:
    """The Python of the project's own virtualenv (``runtime.options.virtualenv``), when it is
    not this one's."""
    options = request.info.options if request.info else None
    virtualenv = (
        options.fields["virtualenv"].string_value
        if options and "virtualenv" in options.fields
        else ""
    )
    if not virtualenv:
        return None
    root = Path(request.info.root_directory or request.pwd or ".")
    python = (root / virtualenv / "bin" / "python").absolute()
    if not python.exists() or Path(sys.prefix).resolve() == python.parent.parent.resolve():
        return None
    return str(python)


def _run_in(python: str, request: Any) -> Any:
    """Run the program with another virtualenv's Python: this file, ``--run``, the request on
    stdin, the response written to a file; the program's own output goes where ours does."""
    with tempfile.TemporaryDirectory() as scratch:
        answer = Path(scratch) / "response"
        finished = subprocess.run(  # the project names its own virtualenv
            [python, str(Path(__file__).resolve()), "--run", str(answer)],
            input=request.SerializeToString(),
            check=False,
        )
        if not answer.exists():
            return language_pb2.RunResponse(
                error=f"the program's Python ({python}) stopped with {finished.returncode}"
            )
        return language_pb2.RunResponse.FromString(answer.read_bytes())


def _installed_plugins() -> list[Any]:
    """The resource plugins that installed SDKs declare in ``pulumi-plugin.json``."""
    found = []
    for distribution in metadata.distributions():
        for file in distribution.files or []:
            if file.name == "pulumi-plugin.json":
                declared = json.loads(Path(str(distribution.locate_file(file))).read_text())
                if declared.get("resource"):
                    found.append(
                        plugin_pb2.PackageDependency(
                            name=declared["name"], kind="resource", version=declared["version"]
                        )
                    )
    return found


def main() -> int:
    if sys.argv[1:2] == ["--run"]:
        # In the project's Python (see _run_in): run the program, as the host would.
        request = language_pb2.RunRequest.FromString(sys.stdin.buffer.read())
        response = ProgramLanguageServer().Run(request, None)
        Path(sys.argv[2]).write_bytes(response.SerializeToString())
        return 0
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4),
        options=[("grpc.max_receive_message_length", _MAX_MESSAGE)],
    )
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(ProgramLanguageServer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    # The engine ends its plugins with SIGINT, then SIGKILL: leave quietly.
    signal.signal(signal.SIGINT, lambda *_: server.stop(0))
    server.wait_for_termination()
    return 0


if __name__ == "__main__":
    sys.exit(main())
