#!/usr/bin/env bash
# Runs the firelocal compatibility suite (boto3 + AWS CLI) against a built firelocal binary.
#
#   bash compat-tests/run.sh [extra pytest args]
#
# FIRELOCAL_BIN overrides the binary (default: ${CARGO_TARGET_DIR:-target}/debug/firelocal,
# relative to the repo root). Works from any directory. Exits non-zero on any failure.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
VENV="$HERE/.venv"
REQS="$HERE/requirements.txt"
MARKER="$VENV/.requirements.sha256"

if [[ ! -x "$VENV/bin/python" ]]; then
    echo "compat-tests: creating venv at $VENV" >&2
    python3 -m venv "$VENV"
fi

want="$(sha256sum "$REQS" | cut -d' ' -f1)"
have="$(cat "$MARKER" 2>/dev/null || true)"
if [[ "$want" != "$have" ]]; then
    echo "compat-tests: installing requirements" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS"
    echo "$want" > "$MARKER"
fi

# The Node packages of the CDK app (aws-cdk-lib and the cdk CLI) and of the JS SDK suite, each
# pinned by its package-lock.json and installed again only when that changes.
for app in "$HERE/cdk" "$HERE/js"; do
    marker="$app/node_modules/.lock.sha256"
    want="$(sha256sum "$app/package-lock.json" | cut -d' ' -f1)"
    if [[ "$want" != "$(cat "$marker" 2>/dev/null || true)" ]]; then
        command -v npm >/dev/null || { echo "compat-tests: npm (Node.js) is needed for the CDK and JS SDK tests" >&2; exit 2; }
        echo "compat-tests: installing the packages of $app" >&2
        (cd "$app" && npm ci --no-audit --no-fund --loglevel=error >&2)
        echo "$want" > "$marker"
    fi
done

if [[ -z "${FIRELOCAL_BIN:-}" ]]; then
    target="${CARGO_TARGET_DIR:-target}"
    [[ "$target" = /* ]] || target="$ROOT/$target"
    FIRELOCAL_BIN="$target/debug/firelocal"
elif [[ "$FIRELOCAL_BIN" != /* ]]; then
    FIRELOCAL_BIN="$ROOT/$FIRELOCAL_BIN"
fi
export FIRELOCAL_BIN
if [[ ! -x "$FIRELOCAL_BIN" ]]; then
    echo "compat-tests: firelocal binary not found or not executable: $FIRELOCAL_BIN (build it or set FIRELOCAL_BIN)" >&2
    exit 2
fi

cd "$ROOT"
exec "$VENV/bin/python" -m pytest -q compat-tests/ "$@"
