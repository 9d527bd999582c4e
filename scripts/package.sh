#!/usr/bin/env bash
# Builds the deployable arm64 package for provided.al2023:
#   target/lambda/dynamodb-backup-rule-lambda/bootstrap.zip
# Installs what it needs into .tools/ (git-ignored): cargo-lambda and zig from the Python
# package index, and the aarch64 standard library from rustup.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned, and installed only when the pinned versions are not already there.
CARGO_LAMBDA_VERSION=1.9.2
ZIG_VERSION=0.17.1
venv=.tools/venv
have() { "$venv/bin/pip" show "$1" 2>/dev/null | grep -qx "Version: $2"; }
if [ ! -x "$venv/bin/pip" ] || ! have cargo-lambda "$CARGO_LAMBDA_VERSION" || ! have ziglang "$ZIG_VERSION"; then
  echo "== installing cargo-lambda $CARGO_LAMBDA_VERSION and zig $ZIG_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "cargo-lambda==$CARGO_LAMBDA_VERSION" "ziglang==$ZIG_VERSION"
fi

if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  echo "== adding the aarch64-unknown-linux-gnu target"
  rustup target add aarch64-unknown-linux-gnu || {
    echo "error: rustup could not add aarch64-unknown-linux-gnu; the arm64 package needs it" >&2
    exit 1
  }
fi

echo "== cargo lambda build --profile lambda --arm64 --output-format zip"
PATH="$PWD/$venv/bin:$PATH" cargo lambda build --profile lambda --arm64 --output-format zip \
  --bin dynamodb-backup-rule-lambda

# cargo-lambda writes under the target directory, wherever CARGO_TARGET_DIR puts it.
zip="${CARGO_TARGET_DIR:-target}/lambda/dynamodb-backup-rule-lambda/bootstrap.zip"
[ -f "$zip" ] || { echo "error: $zip was not produced" >&2; exit 1; }
echo "built $zip ($(stat -c %s "$zip") bytes)"
