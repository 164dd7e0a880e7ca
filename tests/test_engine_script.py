"""scripts/engine run twice at once: one build, the other waits and uses it; nothing half-written.

A stand-in Go toolchain takes a second per build and writes its output slowly, and a stand-in
Pulumi CLI answers `version` and `plugin`; the real build takes minutes (tests/test_lifecycle.py
uses the real engine)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from devtools import ROOT

TABLE = "auth0_org_assignment/rate_limits.json"

FAKE_PULUMI = """#!/bin/sh
case "$1 $2" in
  "version ") echo "v$PULUMI_VERSION" ;;
  "plugin ls") [ -e "$PULUMI_HOME/auth0-installed" ] && echo "auth0  resource  3.55.1  1 MB" ;;
  "plugin install")
    case "$*" in *--file*) touch "$PULUMI_HOME/auth0-installed" ;; *) exit 1 ;; esac ;;
  *) exit 64 ;;
esac
exit 0
"""

# go mod download -json names a module directory; go build (its -o file) and go install (into
# GOBIN) write the binary in two halves a second apart (so a reader of a shared file would see
# half of it) and log each build.
FAKE_GO = """#!/bin/bash
set -eu
case "$1" in
  mod)
    if [ "$2" = download ]; then
      mkdir -p "$FAKE_MODULES/src" && echo "{\\"Dir\\": \\"$FAKE_MODULES/src\\"}"
    fi ;;
  get) ;;
  install)
    name=${2%@*}; name=${name##*/}
    echo "build $name" >> "$LOG"
    printf '#!/bin/sh\n' > "$GOBIN/$name"
    sleep 1
    echo 'exit 0' >> "$GOBIN/$name"
    chmod +x "$GOBIN/$name" ;;
  build)
    out=""; target=""
    while [ $# -gt 0 ]; do
      case "$1" in -o) out=$2; shift ;; ./cmd/*) target=${1#./cmd/} ;; esac
      shift
    done
    echo "build $target" >> "$LOG"
    printf '#!/bin/sh\\n' > "$out"
    sleep 1
    case "$target" in
      pulumi) cat "$FAKE_PULUMI" >> "$out" ;;
      pulumi-tfgen-auth0) echo 'mkdir -p "$3" && echo {} > "$3/schema.json"' >> "$out" ;;
      *) echo 'exit 0' >> "$out" ;;
    esac
    chmod +x "$out" ;;
  *) exit 64 ;;
esac
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "engine", repo / "scripts" / "engine")
    for name in (".pulumi-version", "uv.lock"):
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(
        ROOT / "devtools" / "engine" / "auth0-provider",
        repo / "devtools" / "engine" / "auth0-provider",
    )
    (repo / "auth0_org_assignment").mkdir()
    shutil.copy(ROOT / TABLE, repo / TABLE)
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    (bin_dir / "go").write_text(FAKE_GO)
    (bin_dir / "go").chmod(0o755)
    (tmp_path / "fake-pulumi").write_text(FAKE_PULUMI)
    return repo


def start(checkout: Path, name: str) -> subprocess.Popen[str]:
    tmp = checkout.parent
    return subprocess.Popen(
        [str(checkout / "scripts" / "engine")],
        env={
            "PATH": f"{tmp / 'fakebin'}:/usr/bin:/bin",
            "HOME": str(tmp / name),
            "XDG_CACHE_HOME": str(tmp / "cache"),
            "LOG": str(tmp / "builds.log"),
            "FAKE_MODULES": str(tmp / "modules"),
            "FAKE_PULUMI": str(tmp / "fake-pulumi"),
            "PULUMI_VERSION": (ROOT / ".pulumi-version").read_text().strip(),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.skipif(shutil.which("flock") is None, reason="flock(1) is not installed here")
@pytest.mark.slow
def test_two_runs_at_once_build_once_and_both_get_the_engine(checkout: Path) -> None:
    first = start(checkout, "first")
    second = start(checkout, "second")
    results = [(run, *run.communicate(timeout=120)) for run in (first, second)]
    for run, _, stderr in results:
        assert run.returncode == 0, stderr
    builds = (checkout.parent / "builds.log").read_text().splitlines()
    assert sorted(builds) == [
        "build pulumi",
        "build pulumi-language-yaml",
        "build pulumi-resource-auth0",
        "build pulumi-tfgen-auth0",
    ]
    assert any("waiting for another scripts/engine run" in stderr for _, _, stderr in results)
    assert any("Pulumi CLI v3.274.1: cached" in stderr for _, _, stderr in results)
    (cache,) = (checkout.parent / "cache" / "auth0-org-assignment-engine").iterdir()
    names = sorted(p.name for p in cache.iterdir())
    assert names[:3] == [".lock", "pulumi", "pulumi-language-yaml-v1.25.0"]
    assert len(names) == 4
    assert re.fullmatch(r"pulumi-resource-auth0-[0-9a-f]{16}", names[3])
    assert (cache / "pulumi").read_text() == "#!/bin/sh\n" + (
        checkout.parent / "fake-pulumi"
    ).read_text()
    assert (checkout / ".engine" / "env").is_file()


def test_a_build_writes_to_a_path_of_its_own_and_renames_it_into_the_cache() -> None:
    script = (ROOT / "scripts" / "engine").read_text()
    assert ".partial" not in script
    assert 'build=$(mktemp -d "$cache/' in script  # beside the cache: mv is a rename
    assert '-o "$build/pulumi"' in script
    assert 'mv -f "$build/pulumi" "$cache/pulumi"' in script
    assert '-o "$build/pulumi-resource-auth0"' in script
    assert 'mv -f "$build/pulumi-resource-auth0" "$cache/$plugin_binary"' in script


def plugin_runs(checkout: Path) -> tuple[list[str], str]:
    run = start(checkout, "home")
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 0, stderr
    log = checkout.parent / "builds.log"
    builds = (
        [line for line in log.read_text().splitlines() if "auth0" in line] if log.exists() else []
    )
    log.unlink(missing_ok=True)
    return builds, stderr


@pytest.mark.slow
def test_the_plugin_is_rebuilt_when_its_source_or_the_rate_limit_table_changes(
    checkout: Path,
) -> None:
    """The plugin embeds the pacer and the table: a change to either is a new plugin, built
    and installed in place of the old one; an unchanged checkout builds nothing."""
    first, _ = plugin_runs(checkout)
    assert "build pulumi-resource-auth0" in first
    again, stderr = plugin_runs(checkout)
    assert again == []
    assert "(paced, source" in stderr
    assert ": installed" in stderr
    table = checkout / TABLE
    table.write_text(table.read_text().replace('"burst": 50', '"burst": 49'))
    after_table, _ = plugin_runs(checkout)
    assert "build pulumi-resource-auth0" in after_table
    pacer = checkout / "devtools" / "engine" / "auth0-provider" / "pacing" / "pacing.go"
    pacer.write_text(pacer.read_text() + "\n// changed\n")
    after_pacer, _ = plugin_runs(checkout)
    assert "build pulumi-resource-auth0" in after_pacer
    cache = next((checkout.parent / "cache" / "auth0-org-assignment-engine").iterdir())
    assert len(list(cache.glob("pulumi-resource-auth0-*"))) == 3
