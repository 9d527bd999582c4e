#!/usr/bin/env bash
# Renders the `report` page of the demo account in a real headless Chromium (Debian's package,
# driven by playwright-core from npm, both installed here when missing) and fails on any console
# error, page error, outside request, missing section or wrong row; then shows that the check
# fails on a page with a broken script and an outside image. Run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.tools/browser
mkdir -p "$dir"
if ! command -v chromium >/dev/null 2>&1; then
  # As root on CI; otherwise sudo.
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -q --no-install-recommends chromium >/dev/null \
    || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q --no-install-recommends chromium >/dev/null; }
fi
if [ ! -d "$dir/node_modules/playwright-core" ]; then
  (cd "$dir" && npm install --silent --no-audit --no-fund --no-save playwright-core@1.57.0 >/dev/null)
fi
cp scripts/browser/check-report.mjs "$dir/check-report.mjs"

bin=${CARGO_TARGET_DIR:-target}/debug/dynamodb-backup-rule
cargo build --quiet --bin dynamodb-backup-rule
demo=testdata/snapshots/demo-account.json
"$bin" -q report --snapshot "$demo" --output "$dir/demo-report.html" >/dev/null || [ $? = 3 ]
"$bin" evaluate --snapshot "$demo" --format json >"$dir/demo-expected.json" || [ $? = 3 ]
node "$dir/check-report.mjs" "$PWD/$dir/demo-report.html" "$dir/demo-expected.json" "$dir/demo-report.png"

# The check must be able to fail: a script error and an outside image are caught.
sed 's#</body>#<img src="https://example.invalid/x.png"><script>undefinedFunction()</script></body>#' \
  "$dir/demo-report.html" >"$dir/broken-report.html"
if node "$dir/check-report.mjs" "$PWD/$dir/broken-report.html" "$dir/demo-expected.json" "$dir/broken.png" >"$dir/broken.log"; then
  echo "the browser check passed a broken page" >&2
  exit 1
fi
echo "a broken page is caught: $(grep -c '^problem:' "$dir/broken.log") problem(s), e.g. $(grep -m1 '^problem:' "$dir/broken.log")"
