#!/usr/bin/env bash
# Runs every test of the repository: Rust (format, lints, unit, integration, property, doc tests)
# and Python (golden vectors against PyPI lilcom 1.8.2; the lilcom_rs package against it). Installs
# what it needs into a venv.
#
#   scripts/test-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo rustfmt cargo-clippy; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found; install the Rust toolchain with rustfmt and clippy" >&2; exit 1; }
done

echo "== cargo fmt --check"
cargo fmt --all -- --check
cargo fmt --manifest-path python/Cargo.toml -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --manifest-path python/Cargo.toml -- -D warnings
echo "== cargo test (dispatched SIMD kernels)"
cargo test --workspace
echo "== cargo test (scalar reference kernels, LILCOM_FORCE_SCALAR=1)"
LILCOM_FORCE_SCALAR=1 cargo test --workspace

echo "== python tests"
venv="${LILCOM_TEST_VENV:-.venv}"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
echo "== pip install ./python (builds the lilcom_rs extension with maturin)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check ./python
"$venv/bin/python" -m pytest -q tests/python python/tests
