#!/usr/bin/env bash
# Runs the whole suite N times in a row, as CI does (bash .ci/run in a clean clone of HEAD), with
# one core kept busy by a CPU burner: the suite must stay green on a loaded two-core machine.
#
#   scripts/suite-under-burner.sh [--runs 10] [--dir /tmp/berth-under-burner]
#
# Prints one line per run (exit status, seconds, the last test count) and keeps each run's output
# in DIR/run-N.log. Every run is bounded (25 minutes), and so is the burner.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs=10
dir=/tmp/berth-under-burner
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    *) echo "suite-under-burner.sh: unknown argument '$1' (see the header)" >&2; exit 64 ;;
  esac
done

rm -rf "$dir"
git clone -q . "$dir/clone"
cd "$dir/clone"
red=0
for i in $(seq 1 "$runs"); do
  timeout 1500 sh -c 'while :; do :; done' &
  burner=$!
  started=$(date +%s)
  status=0
  timeout 1500 bash .ci/run >"$dir/run-$i.log" 2>&1 || status=$?
  kill "$burner" 2>/dev/null || true
  wait "$burner" 2>/dev/null || true
  [ "$status" -eq 0 ] || red=$((red + 1))
  echo "run $i: exit $status in $(( $(date +%s) - started )) s;" \
    "$(grep -o 'Tests run: [0-9]*, Failures: [0-9]*, Errors: [0-9]*' "$dir/run-$i.log" | tail -1)"
done
echo "$((runs - red)) of $runs runs green (logs in $dir)"
[ "$red" -eq 0 ]
