#!/usr/bin/env bash
# Measures the session handler's start inside its container, with a session's default limits.
#
# Usage: handler-image/bench-start.sh [-n RUNS] [IMAGE...]
#   -n RUNS   starts per image (default 10)
#   IMAGE     images to compare (default berth/handler:<version from the pom>); with several,
#             the runs are interleaved (a, b, a, b, ...) so drift in the machine hits all alike
#
# Each run creates a container (--cpus 0.5 --memory 128m --read-only --tmpfs /tmp:size=16m
# --user 65534:65534 --network none, label $BERTH_BENCH_LABEL, default berth.test=bench-start),
# starts it attached and reads the handler's own "listening on ... started in N ms" line (process
# start -> listening, from /proc, 10 ms resolution; the process exists from the container runtime's
# setup on, so this includes ~100 ms before the JVM runs), then removes the container. Prints
# every run and p50/p90/max per image. Containers carrying the label are removed on exit, also after a failure or Ctrl-C (so
# do not run two with the same label at once).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
runs=10
images=()
while (($#)); do
  case "$1" in
    -n) runs="${2:?-n needs a number}"; shift 2 ;;
    -h|--help) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bench-start.sh: unknown option '$1'" >&2; exit 64 ;;
    *) images+=("$1"); shift ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ && "$runs" -le 1000 ]] || { echo "bench-start.sh: -n must be 1-1000" >&2; exit 64; }
if ((${#images[@]} == 0)); then
  version="$(sed -n '/<parent>/,/<\/parent>/s:.*<version>\(.*\)</version>.*:\1:p' "$here/pom.xml" | head -n1)"
  images=("berth/handler:$version")
fi

label="${BERTH_BENCH_LABEL:-berth.test=bench-start}"
cleanup() {
  local ids
  ids="$(docker ps -aq --filter "label=$label" 2>/dev/null || true)"
  [[ -z "$ids" ]] || docker rm -f $ids >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for image in "${images[@]}"; do
  docker image inspect "$image" >/dev/null 2>&1 || { echo "bench-start.sh: no image $image" >&2; exit 1; }
done

declare -A results
for ((i = 1; i <= runs; i++)); do
  for image in "${images[@]}"; do
    cid="$(docker create --label "$label" --cpus 0.5 --memory 128m --read-only --tmpfs /tmp:size=16m \
      --user 65534:65534 --network none -e BERTH_SESSION="bench-$i" -e BERTH_FEED_PER_SECOND=0 "$image")"
    line="$(timeout 10 docker start -a "$cid" 2>&1 | grep -m1 'listening on' || true)"
    docker rm -f "$cid" >/dev/null 2>&1 || true
    ms="$(sed -n 's/.*started in \([0-9][0-9]*\) ms.*/\1/p' <<<"$line")"
    if [[ -z "$ms" ]]; then
      echo "run $i $image: no \"started in\" line (${line:-no output})" >&2
      ms="NA"
    fi
    echo "run $i $image: ${ms} ms"
    results[$image]+="$ms "
  done
done

for image in "${images[@]}"; do
  # shellcheck disable=SC2086
  sorted="$(printf '%s\n' ${results[$image]} | grep -v NA | sort -n || true)"
  n="$(grep -c . <<<"$sorted" || true)"
  if ((n == 0)); then
    echo "$image: no successful run"
    continue
  fi
  pick() { sed -n "$(( ($1 * n + 99) / 100 ))p" <<<"$sorted"; } # nearest rank
  echo "$image: runs ${results[$image]% }| p50 $(pick 50) ms, p90 $(pick 90) ms, max $(tail -n1 <<<"$sorted") ms ($n of $runs ok)"
done
