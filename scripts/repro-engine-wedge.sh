#!/usr/bin/env bash
# Does bounding the container stops and removals at once on one network keep dockerd from wedging?
#
# Once, on a machine like this one (Debian's dockerd 20.10), a gateway with 20 sessions was
# SIGKILLed and restarted while their containers were being removed: 40 engine goroutines waited on
# one network's lock in libnetwork's endpoint deletion, GET /info never answered again, and only a
# dockerd restart helped. Berth now runs at most docker.stopsPerNetwork (4) stops and removals at
# once per network; before, up to 16 (its stop workers).
#
# This replays the pattern without a gateway, in rounds: N containers on one bridge network with
# inter-container traffic off (as berth-sessions), then all stopped and removed at once, C at a time,
# for each concurrency C given. After each storm, GET /info must answer within 10 s and every stop
# within 60 s; a call past that is a wedge: the script says so, leaves the engine as it is (for a
# goroutine dump: kill -USR1 <dockerd pid>) and exits 1.
#
#   scripts/repro-engine-wedge.sh [--rounds 10] [--containers 20] [--concurrency "16 4"]
#
# The containers run a static busybox `sleep` (apt-get install busybox-static) in an image built
# here FROM scratch; everything it makes is labelled berth.wedge-probe and removed at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

rounds=10
containers=20
levels="16 4"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --containers) containers="$2"; shift 2 ;;
    --concurrency) levels="$2"; shift 2 ;;
    *) echo "repro-engine-wedge.sh: unknown argument '$1' (see the header)" >&2; exit 64 ;;
  esac
done

say() { echo "repro-engine-wedge: $*"; }
image=berth/wedge-probe:local
network=berth-wedge-probe
label=berth.wedge-probe=true

[ -x /bin/busybox ] || { say "needs a static busybox: apt-get install -y busybox-static" >&2; exit 1; }
docker info >/dev/null 2>&1 || { say "no Docker engine answers" >&2; exit 1; }

cleanup() {
  docker ps -aq --filter "label=$label" | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker network rm "$network" >/dev/null 2>&1 || true
  docker rmi "$image" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM # so that a stopped run cleans up too

context=$(mktemp -d)
cp /bin/busybox "$context/busybox"
printf 'FROM scratch\nCOPY busybox /bin/busybox\nLABEL %s\nENTRYPOINT ["/bin/busybox", "sleep", "3600"]\n' "$label" >"$context/Dockerfile"
docker build -q -t "$image" "$context" >/dev/null
rm -rf "$context"
docker network create --label "$label" -o com.docker.network.bridge.enable_icc=false "$network" >/dev/null

stop_and_remove() { # one container as the gateway ends a session: stop (1 s grace), then remove
  timeout 60 docker stop -t 1 "$1" >/dev/null && timeout 60 docker rm "$1" >/dev/null
}
export -f stop_and_remove

say "dockerd $(docker version -f '{{.Server.Version}}'), $rounds round(s) of $containers containers, concurrency: $levels"
declare -A worst total
for round in $(seq 1 "$rounds"); do
  for level in $levels; do
    seq 1 "$containers" | xargs -P 4 -I{} docker run -d --network "$network" --label "$label" \
      --name "wedge-probe-$round-$level-{}" "$image" >/dev/null
    started=$(date +%s%N)
    if ! docker ps -q --filter "label=$label" | xargs -P "$level" -I{} bash -c 'stop_and_remove {}'; then
      say "WEDGE? round $round, concurrency $level: a stop or removal did not finish within 60 s" >&2
      trap - EXIT
      exit 1
    fi
    ms=$(( ($(date +%s%N) - started) / 1000000 ))
    if ! timeout 10 docker info >/dev/null 2>&1; then
      say "WEDGE: round $round, concurrency $level: GET /info unanswered for 10 s after the storm" >&2
      trap - EXIT
      exit 1
    fi
    total[$level]=$(( ${total[$level]:-0} + ms ))
    [ "$ms" -gt "${worst[$level]:-0}" ] && worst[$level]=$ms
    say "round $round, concurrency $level: $containers stopped and removed in ${ms} ms, engine answers"
  done
done
for level in $levels; do
  say "concurrency $level: $rounds storm(s), no wedge; mean $(( total[$level] / rounds )) ms, worst ${worst[$level]} ms"
done
