#!/usr/bin/env bash
# Session-start benchmark of the real gateway: client connect -> first frame (the handler's hello)
# from the session's own backend, broken into the gateway's start phases, with and without the
# warm pool, on the Docker engine, with the process launcher, and on a one-node swarm.
#
# Usage: scripts/bench-start.sh [--scenarios LIST] [--sessions N] [--burst B] [--pool P]
#                               [--pause-ms MS] [--cold-pause-ms MS] [--warmup W]
#                               [--max-load L] [--load-wait-s S] [--time-limit-s S]
#   --scenarios LIST    comma-separated (default: all, in this order)
#                         docker-cold   docker, no pool: sessions one after another
#                         docker-pool   docker, pool P: one connect every MS, slower than refills
#                         docker-burst  docker, pool P: B sessions at once, ceil(N / B) bursts
#                         process-cold  process launcher, no pool: one after another
#                         process-pool  process launcher, pool P: one connect every MS
#                         swarm-cold    swarm launcher, no pool: one after another
#                         swarm-pool    swarm launcher, pool P: one connect every MS
#                         docker-spaced   docker, config/berth.yaml's pool: --spaced sessions
#                                         arriving --spaced-ms apart (10, 3000), kept open
#                         docker-arrivals docker, config/berth.yaml's pool: two waves of --arrivals
#                                         sessions --arrival-ms apart (20, 100), open loop, kept open
#                       (swarm scenarios start a one-node swarm, advertised on 127.0.0.1, when
#                       the engine is in none, and leave it at the end)
#   --sessions N        measured sessions per scenario (default 50)
#   --burst B           sessions opened at once in docker-burst (default 10)
#   --pool P            routes[0].pool.size of the pool scenarios (default 2)
#   --pause-ms MS       pool scenarios: connect to connect (default 2000, more than a refill
#                       takes here: about 1.1 s, at most 1.6 s); 0 picks 1.5 x the slowest
#                       refill seen in the warm-up, at least 500
#   --cold-pause-ms MS  cold scenarios: pause after the previous session ended (default 200)
#   --warmup W          sessions per scenario before the measured ones, not counted (default 2)
#   --max-load L        first wait until the 1-minute load average is below L (default 1.5)...
#   --load-wait-s S     ...for at most S seconds, then run anyway and say so (default 300; 0: no wait)
#   --time-limit-s S    the run itself, after the load wait, stops after S seconds (default 780)
#
# Builds what is missing or stale (scripts/build.sh), then runs
# benchmarks/src/main/java/dev/berth/gateway/bench/StartBenchmark.java. Each scenario gets its own
# gateway process (`java -Xmx512m -jar gateway/target/berth-gateway.jar --config
# config/.bench-<stamp>-<scenario>.yaml --port 0`) and its own route (bench-<random>); the
# config (and its token secret) is written inside config/ so relative paths resolve, and deleted
# afterwards. Each session is a new client that connects, reads its hello and closes with 1000.
# Per session the gateway's log line (backend = pool claim or launch, upstream, handshake, first
# frame) is joined to the client's own times by the session key of the hello.
# At the end every gateway is SIGTERMed (sessions.onShutdown: end) and whatever of its route is
# left is removed: containers by their berth.route label, handler processes by the pids its log
# names; also on failure or Ctrl-C (shutdown hook).
# The Markdown report goes to stdout and target/bench/start-<stamp>.md, each gateway's log to
# target/bench/start-<stamp>-<scenario>.log, progress to stderr; a completed run also rewrites
# docs/benchmarks/start.md with the report. A default run takes about 10 minutes on 2 cores (plus the
# load wait) and needs a Docker engine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

for arg in "$@"; do
  case "$arg" in
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
  esac
done

mkdir -p target/bench
marker=$(mktemp target/bench/.start-marker.XXXXXX)
trap 'rm -f "$marker"' EXIT

status=0
scripts/run-benchmark.sh "${BASH_SOURCE[0]}" dev.berth.gateway.bench.StartBenchmark "$@" || status=$?

report=$(find target/bench -maxdepth 1 -name 'start-*.md' -newer "$marker" -print | sort | tail -n 1)
if [ "$status" -ne 0 ]; then
  echo "bench-start.sh: the benchmark did not complete (exit $status); docs/benchmarks/start.md left as it was${report:+ (report: $report)}" >&2
  exit "$status"
fi
if [ -z "$report" ]; then
  echo "bench-start.sh: no report was written; docs/benchmarks/start.md left as it was" >&2
  exit 1
fi

{
  cat <<'HEADER'
# Benchmark: session start

How long a new browser session waits for its first frame, and where that time goes. Every
session is a new websocket client that connects, reads the first frame (its own handler's hello)
and closes. The client times connect → 101 and connect → first frame; the gateway logs each new
session's phases (`session <key> on route <r>: started in …us: backend …us (pool|launch),
upstream …us, handshake …us, first frame …us`), which the benchmark joins to the client by the
session key of the hello:

- **backend**: claiming a ready handler from the warm pool (`routes[i].pool.size`), or, with the
  pool empty or off, the whole launch (container create + start, a service created and its task running, or a child process, then the
  handler's JVM until its readiness answers);
- **upstream**: dialling the handler's websocket (already done for pool entries);
- **handshake**: until the client's 101; **first frame**: 101 → the hello written to the client;
- **the gateway's own share**: total − backend.

Scenarios: `docker-cold` (no pool), `docker-pool` (sessions arriving slower than the pool
refills), `docker-burst` (more sessions at once than the pool holds: pool hits and launches
reported apart), `process-cold` and `process-pool` (`launcher: process`), `swarm-cold` and
`swarm-pool` (`launcher: swarm` on a one-node swarm: each session a one-task service), `docker-spaced`
and `docker-arrivals` (open-loop arrivals on config/berth.yaml's own pool). Each runs on a
gateway process and route of its own. The same phases are the Prometheus timers
`berth_session_start_duration_seconds{route,phase}`; see also `berth_pool_claims_total`,
`berth_pool_idle` and `berth_pool_refill_duration_seconds`.

Targets: with the pool, connect → first frame p50 ≤ 15 ms and p99 ≤ 60 ms for sessions that
arrive slower than the pool refills; without the pool, the gateway's own share ≤ 30 ms at p50.

Run it (builds what is stale, needs a Docker engine, about 7 minutes on 2 cores after waiting for
the load to settle; `--help` for the options):

```
scripts/bench-start.sh
```

It rewrites this file (docs/benchmarks/start.md) with its latest report, below (also kept as `target/bench/start-<stamp>.md`,
with each gateway's log next to it).

HEADER
  printf '## Latest report (%s)\n\n' "$(basename "$report")"
  # the report's headings one level down, under this file's own
  sed -e 's/^# /### /' -e 's/^## /#### /' "$report"
} > docs/benchmarks/start.md.tmp
mv docs/benchmarks/start.md.tmp docs/benchmarks/start.md
echo "bench-start.sh: docs/benchmarks/start.md updated from $report" >&2
