#!/usr/bin/env bash
# Runs every cargo-fuzz target for a short, fixed time from the committed seeds (CI does this on
# every run; for long runs see the README). Installs cargo-fuzz if it is missing.
#
#   scripts/fuzz-smoke.sh [seconds per target, default 60]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
export RUSTC_BOOTSTRAP=1  # cargo-fuzz's sanitizer flags on the stable toolchain

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo fuzz build -O

for target in $(cargo fuzz list); do
  corpus="$(mktemp -d)"
  echo "== fuzz $target for ${seconds}s"
  cargo fuzz run -O "$target" "$corpus" "seeds/$target" -- \
    -max_total_time="$seconds" -seed=1 -rss_limit_mb=4096 -timeout=10 -print_final_stats=1 2>&1 \
    | grep -E "^(stat::number_of_executed_units|Done|==[0-9]+== ERROR|SUMMARY)" || true
  rm -rf "$corpus"
  # cargo fuzz exits non-zero on a crash; the pipeline above hides it, so check for artifacts.
  if compgen -G "artifacts/$target/*" >/dev/null; then
    echo "fuzz target $target found a failing input:" >&2
    ls "artifacts/$target" >&2
    exit 1
  fi
done
