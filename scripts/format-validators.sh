#!/usr/bin/env bash
# Installs, once, what checks the CLI's asff, junit and sarif output against the formats'
# published definitions, into .tools/formats (git-ignored), and prints that folder:
#   - botocore (PyPI): the Security Hub API model, whose AwsSecurityFinding shape defines ASFF;
#   - jsonschema (PyPI) and the OASIS SARIF 2.1.0 JSON schema, as shipped in the serde-sarif
#     crate (crates.io);
#   - xmlschema (PyPI) and junit-10.xsd, the JUnit schema pytest tests its own output against,
#     from pytest's source distribution (PyPI).
# Versions and archive digests are pinned, so a check means the same thing on every machine.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.tools/formats
if [ -f "$dir/ready" ]; then
  echo "$dir"
  exit 0
fi
mkdir -p "$dir"
python3 -m venv "$dir/venv"
"$dir/venv/bin/pip" install --quiet --disable-pip-version-check \
  jsonschema==4.26.0 xmlschema==4.3.2 botocore==1.44.8 >&2

fetch_checked() { # url file sha256
  curl -sSfL --retry 3 -o "$2" "$1"
  echo "$3  $2" | sha256sum -c --quiet -
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch_checked https://static.crates.io/crates/serde-sarif/serde-sarif-0.8.0.crate \
  "$tmp/serde-sarif.crate" a053c46f18a8043570d4e32fefc4c6377f82bf29ec310a33e93f273048e3b0be
tar -xzf "$tmp/serde-sarif.crate" -C "$tmp" serde-sarif-0.8.0/src/schema.json
cp "$tmp/serde-sarif-0.8.0/src/schema.json" "$dir/sarif-schema-2.1.0.json"

"$dir/venv/bin/pip" download --quiet --disable-pip-version-check --no-deps \
  --no-binary :all: -d "$tmp" pytest==8.3.4 >&2
echo "965370d062bce11e73868e0335abac31b4d3de0e82f4007408d242b4f8610761  $tmp/pytest-8.3.4.tar.gz" \
  | sha256sum -c --quiet -
tar -xzf "$tmp/pytest-8.3.4.tar.gz" -C "$tmp" pytest-8.3.4/testing/example_scripts/junit-10.xsd
cp "$tmp/pytest-8.3.4/testing/example_scripts/junit-10.xsd" "$dir/junit-10.xsd"

touch "$dir/ready"
echo "$dir"
