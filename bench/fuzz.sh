#!/usr/bin/env bash
# Runs each fuzz target for a bounded time (default 60 s each): the product CSV import parser,
# the list query-string parser, and the webhook signature verifier. Not part of CI.
#   bench/fuzz.sh [seconds-per-target]
# Needs cargo-fuzz (`cargo install cargo-fuzz`). The toolchain here is stable, so nightly-only
# flags are let through with RUSTC_BOOTSTRAP; no sanitizer is used, panics are what is sought.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
for target in products_csv list_query verify_signature; do
  echo "== $target, ${seconds}s"
  RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none "$target" -- -max_total_time="$seconds"
done
