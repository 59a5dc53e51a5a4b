#!/usr/bin/env bash
# Should warm-pool containers be frozen (docker pause) while they wait? Measures both sides of
# the trade on this machine, with the route's default limits:
#   - what an idle pooled handler costs: its CPU time (cgroup cpuacct) over --idle-seconds;
#   - what a frozen one would add to every claim: the engine's unpause call (POST
#     /containers/{id}/unpause on the engine's socket), --rounds times.
# Usage: scripts/bench-pool-pause.sh [--image berth/handler:<version>] [--rounds 10] [--idle-seconds 10]
# Bounded: one container, labelled berth.bench=pool-pause, removed on exit (even on failure).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

image="berth/handler:$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' pom.xml | head -n 1)"
rounds=10
idle_seconds=10
while [ $# -gt 0 ]; do
  case "$1" in
    --image) image="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --idle-seconds) idle_seconds="$2"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-pool-pause.sh: unknown argument $1 (see --help)" >&2; exit 64 ;;
  esac
done
socket=/var/run/docker.sock
engine() { curl -sf --unix-socket "$socket" -X POST "http://localhost/containers/$1/$2"; }
now_us() { echo $(( $(date +%s%N) / 1000 )); }

container=$(docker run -d --label berth.bench=pool-pause --cpus 0.5 --memory 128m --read-only \
  --tmpfs /tmp:size=16m --user 65534:65534 --network none -e BERTH_POOL=1 "$image")
trap 'docker rm -f "$container" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 50); do docker logs "$container" 2>&1 | grep -q listening && break; sleep 0.1; done
sleep 2 # past its start-up work

usage_file=$(find /sys/fs/cgroup -path "*$container*" -name cpuacct.usage 2>/dev/null | head -n 1)
if [ -n "$usage_file" ]; then
  before=$(cat "$usage_file"); sleep "$idle_seconds"; after=$(cat "$usage_file")
  used_ms=$(( (after - before) / 1000000 ))
  echo "idle pooled handler ($image): ${used_ms} ms of CPU in ${idle_seconds} s" \
    "($(awk -v u="$used_ms" -v s="$idle_seconds" 'BEGIN { printf "%.3f", u / (s * 10) }')% of one core)"
else
  echo "idle pooled handler: no cpuacct cgroup found for $container (cgroup v2?); CPU not measured"
fi
echo "memory: $(docker stats --no-stream --format '{{.MemUsage}}' "$container")"

times=()
for _ in $(seq "$rounds"); do
  engine "$container" pause
  sleep 0.2
  begun=$(now_us); engine "$container" unpause; times+=($(( $(now_us) - begun )))
  sleep 0.2
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
pick() { echo "$sorted" | sed -n "$1p"; }
n=${#times[@]}
echo "unpause (engine API, curl on $socket), $n rounds: p50 $(( $(pick $(( (n + 1) / 2 ))) / 1000 )).$(( $(pick $(( (n + 1) / 2 ))) % 1000 / 100 )) ms," \
  "max $(( $(pick "$n") / 1000 )).$(( $(pick "$n") % 1000 / 100 )) ms"
