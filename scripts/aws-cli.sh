#!/usr/bin/env bash
# Installs, once, the real AWS CLI the remediation tests paste the printed fixes into, into
# .tools/awscli (git-ignored), and prints the folder holding its `aws`. Pinned: the AWS CLI v1
# from PyPI (its own botocore inside), which validates every parameter against the service
# models before sending, as an operator's CLI does.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.tools/awscli
if [ -x "$dir/bin/aws" ] && [ -f "$dir/ready" ]; then
  echo "$dir/bin"
  exit 0
fi
python3 -m venv "$dir"
"$dir/bin/pip" install --quiet --disable-pip-version-check awscli==1.46.3 >&2
"$dir/bin/aws" --version >&2
touch "$dir/ready"
echo "$dir/bin"
