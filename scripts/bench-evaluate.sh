#!/usr/bin/env bash
# End-to-end timing of `dynamodb-backup-rule evaluate --format json` on generated accounts:
# 10,000 tables against 100, 1,000 and 10,000 selections. Prints the median and best wall time
# of RUNS runs each, and peak RSS. Then every --format on 10,000 x 1,000 (median of 3): asff,
# junit and sarif include finding each NON_COMPLIANT table's verified fix.
# Usage: scripts/bench-evaluate.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-11}
cargo build --quiet --release --bin dynamodb-backup-rule --example gen_snapshot
bin=target/release/dynamodb-backup-rule
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

printf '%-8s %-11s %-12s %-10s %-10s %s\n' tables selections snapshot median best peak-rss
for selections in 100 1000 10000; do
  snap="$work/s$selections.json"
  target/release/examples/gen_snapshot --tables 10000 --selections "$selections" --seed 1 > "$snap"
  times=()
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    status=0
    "$bin" evaluate --snapshot "$snap" --format json > "$work/out.json" || status=$?
    end=$(date +%s%N)
    # 0 and 3 are verdicts; anything else is a failure worth stopping for.
    if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then echo "evaluate failed with $status" >&2; exit 1; fi
    times+=($(( (end - start) / 1000000 )))
  done
  sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  median=${sorted[$(( runs / 2 ))]}
  rss=$( { /usr/bin/time -f '%M' "$bin" evaluate --snapshot "$snap" --format json > /dev/null; } 2>&1 | tail -1 || true)
  printf '%-8s %-11s %-12s %-10s %-10s %s\n' 10000 "$selections" "$(( $(stat -c %s "$snap") / 1024 )) KiB" \
    "${median} ms" "${sorted[0]} ms" "${rss} KiB"
done

echo
printf '%-7s %-10s %s\n' format median output
for format in text json asff junit sarif; do
  times=()
  for _ in 1 2 3; do
    start=$(date +%s%N)
    "$bin" evaluate --snapshot "$work/s1000.json" --format "$format" > "$work/out.$format" || [ $? = 3 ]
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
  done
  sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  printf '%-7s %-10s %s\n' "$format" "${sorted[1]} ms" "$(( $(stat -c %s "$work/out.$format") / 1024 )) KiB"
done
