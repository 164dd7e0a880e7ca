"""scripts/setup behind a TLS-inspecting proxy: uv, the pip that installs it, and npm trust the
system's certificates."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from devtools import ROOT

# Stand-ins for python3 (its venv and pip) and for the uv that pip installs: each records how
# it was called and with which certificate settings, and does nothing else.
FAKE_PYTHON3 = """#!/bin/sh
[ "$1 $2" = "-m venv" ] || exit 64
mkdir -p "$3/bin"
cat > "$3/bin/python" <<'EOF'
#!/bin/sh
echo "pip $*" >> "$LOG"
cat > "$(dirname "$0")/uv" <<'UV'
#!/bin/sh
echo "uv $* UV_SYSTEM_CERTS=${UV_SYSTEM_CERTS:-unset}" \\
  "SSL_CERT_FILE=${SSL_CERT_FILE:-unset}" >> "$LOG"
UV
chmod +x "$(dirname "$0")/uv"
EOF
chmod +x "$3/bin/python"
"""
FAKE_NPM = """#!/bin/sh
echo "npm $* NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS:-unset}" >> "$LOG"
prefix=.
while [ $# -gt 0 ]; do [ "$1" = --prefix ] && prefix=$2; shift; done
mkdir -p "$prefix/node_modules"
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup", tmp_path / "scripts" / "setup")
    (tmp_path / "scripts" / "engine").write_text('#!/bin/sh\necho engine >> "$LOG"\n')
    (tmp_path / "scripts" / "engine").chmod(0o755)
    (tmp_path / "fakebin").mkdir()
    (tmp_path / "fakebin" / "python3").write_text(FAKE_PYTHON3)
    (tmp_path / "fakebin" / "python3").chmod(0o755)
    (tmp_path / "fakebin" / "npm").write_text(FAKE_NPM)
    (tmp_path / "fakebin" / "npm").chmod(0o755)
    (tmp_path / "package-lock.json").write_text("{}\n")
    (tmp_path / "tests" / "conformance").mkdir(parents=True)
    (tmp_path / "tests" / "conformance" / "package-lock.json").write_text("{}\n")
    return tmp_path


def run_setup(checkout: Path, **env: str) -> list[str]:
    log = checkout / "log"
    result = subprocess.run(
        [str(checkout / "scripts" / "setup")],
        env={"PATH": f"{checkout / 'fakebin'}:/usr/bin:/bin", "LOG": str(log), **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return log.read_text().splitlines()


def test_a_certificate_bundle_you_name_is_used_by_uv_and_by_the_pip_that_installs_it(
    checkout: Path,
) -> None:
    bundle = checkout / "proxy-root.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    pip, sync, npm, conformance_npm, engine = run_setup(checkout, SSL_CERT_FILE=str(bundle))
    assert pip.endswith(
        f"pip install --quiet --disable-pip-version-check --cert {bundle} uv==0.13.9"
    )
    certificates = f"UV_SYSTEM_CERTS=true SSL_CERT_FILE={bundle}"
    assert sync == f"uv sync --locked --quiet --compile-bytecode {certificates}"
    assert npm.endswith(f"NODE_EXTRA_CA_CERTS={bundle}")
    assert conformance_npm.startswith("npm ci --prefix tests/conformance ")
    assert conformance_npm.endswith(f"NODE_EXTRA_CA_CERTS={bundle}")
    assert engine == "engine"


def test_uv_uses_the_system_store_when_the_machine_has_one(checkout: Path) -> None:
    stores = [Path("/etc/ssl/certs/ca-certificates.crt"), Path("/etc/pki/tls/certs/ca-bundle.crt")]
    store = next((s for s in stores if s.is_file() and s.stat().st_size), None)
    if store is None:
        pytest.skip("no system certificate bundle on the host running the tests")
    pip, sync, npm, _, _ = run_setup(checkout)
    assert f"--cert {store} " in pip
    assert "UV_SYSTEM_CERTS=true" in sync
    assert npm.endswith(f"NODE_EXTRA_CA_CERTS={store}")


def test_settings_you_made_win(checkout: Path) -> None:
    _, sync, npm, _, _ = run_setup(
        checkout, UV_SYSTEM_CERTS="false", NODE_EXTRA_CA_CERTS="/etc/mine.pem"
    )
    assert "UV_SYSTEM_CERTS=false" in sync
    assert npm.endswith("NODE_EXTRA_CA_CERTS=/etc/mine.pem")
