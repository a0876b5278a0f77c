#!/usr/bin/env bash
# The whole test suite: unit and integration tests (cargo, debug profile), then the boto3 and
# AWS CLI compatibility tests against the binary cargo just built. compat-tests/run.sh makes its
# own Python venv; Chromium (for the browser CORS test) is installed with apt-get when running as
# root. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
# The browser test (compat-tests/test_browser_cors.py) needs Chromium; install it when we can.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing chromium for the browser test" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
cargo build --locked --bins
cargo test --locked --workspace
FIRELOCAL_BIN="$CARGO_TARGET_DIR/debug/firelocal" bash compat-tests/run.sh
