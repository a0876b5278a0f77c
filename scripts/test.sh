#!/usr/bin/env bash
# The whole test suite: unit and integration tests (cargo, debug profile), then the boto3 and
# AWS CLI compatibility tests against the binary cargo just built. compat-tests/run.sh makes its
# own Python venv. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --locked --bins
cargo test --locked
FIRELOCAL_BIN="$CARGO_TARGET_DIR/debug/firelocal" bash compat-tests/run.sh
