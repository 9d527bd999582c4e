#!/usr/bin/env bash
# End-to-end timing of `dynamodb-backup-rule evaluate --format json` on the project's benchmark
# accounts (benches/gen_snapshot.py 10000 1000 5 and 10000 10000 5, the targets' accounts: a
# fifth of the selections mention every table) and on our own generator's (10,000 tables against
# 100, 1,000 and 10,000 selections). Prints the median and best wall time of RUNS runs each, and
# peak RSS. Then every --format on gen_snapshot.py 10000 1000 5 (median of 3): asff, junit and
# sarif include finding each NON_COMPLIANT table's verified fix.
# Last, check-template on a 1 MB template of 500 tables (benches/gen_template.py).
# Usage: scripts/bench-evaluate.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-11}
cargo build --quiet --release --bin dynamodb-backup-rule --example gen_snapshot
bin=target/release/dynamodb-backup-rule
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

printf '%-26s %-12s %-10s %-10s %s\n' account snapshot median best peak-rss
measure() { # NAME FILE
  local name=$1 snap=$2 times=() status start end
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    status=0
    "$bin" evaluate --snapshot "$snap" --format json > "$work/out.json" || status=$?
    end=$(date +%s%N)
    # 0 and 3 are verdicts; anything else is a failure worth stopping for.
    if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then echo "evaluate failed with $status" >&2; exit 1; fi
    times+=($(( (end - start) / 1000000 )))
  done
  local sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  local rss=$( { /usr/bin/time -f '%M' "$bin" evaluate --snapshot "$snap" --format json > /dev/null; } 2>&1 | tail -1 || true)
  printf '%-26s %-12s %-10s %-10s %s\n' "$name" "$(( $(stat -c %s "$snap") / 1024 )) KiB" \
    "${sorted[$(( runs / 2 ))]} ms" "${sorted[0]} ms" "${rss} KiB"
}
for selections in 1000 10000; do
  python3 benches/gen_snapshot.py 10000 "$selections" 5 > "$work/g$selections.json"
  measure "gen_snapshot.py 10000 $selections 5" "$work/g$selections.json"
done
for selections in 100 1000 10000; do
  target/release/examples/gen_snapshot --tables 10000 --selections "$selections" --seed 1 > "$work/s$selections.json"
  measure "ours 10000 x $selections" "$work/s$selections.json"
done

echo
printf '%-7s %-10s %s\n' format median output
for format in text json asff junit sarif; do
  times=()
  for _ in 1 2 3; do
    start=$(date +%s%N)
    "$bin" evaluate --snapshot "$work/g1000.json" --format "$format" > "$work/out.$format" || [ $? = 3 ]
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
  done
  sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  printf '%-7s %-10s %s\n' "$format" "${sorted[1]} ms" "$(( $(stat -c %s "$work/out.$format") / 1024 )) KiB"
done

# check-template: a 1 MB template of 500 tables (benches/gen_template.py) against the
# 10,000-table, 1,000-selection account (target 1 s).
python3 benches/gen_template.py 500 > "$work/t500.yaml"
times=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  "$bin" check-template "$work/t500.yaml" --snapshot "$work/g1000.json" --region us-east-1 \
    --stack-name shop --format json > /dev/null || [ $? = 3 ]
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo
echo "check-template, $(( $(stat -c %s "$work/t500.yaml") / 1024 )) KiB template of 500 tables against gen_snapshot.py 10000 1000 5: median ${sorted[$(( runs / 2 ))]} ms, best ${sorted[0]} ms"
