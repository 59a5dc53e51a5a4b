#!/usr/bin/env bash
# Cold-start and idle-memory benchmark of the real gateway on the real Docker engine.
#
# Usage: scripts/bench-cold-start.sh [--sessions N] [--idle M] [--concurrency C] [--pause-ms P]
#                                    [--time-limit-s S]
#   --sessions N      cold starts, one after another, each a new client without cookie (default 20)
#   --idle M          idle sessions held for the memory reading, the N above included; 0 skips it
#                     (default 100, the route's maxSessions)
#   --concurrency C   idle sessions opened at a time (default 4)
#   --pause-ms P      pause between two cold starts (default 500)
#   --time-limit-s S  the whole run stops after this many seconds (default 600)
#
# Builds what is missing or stale (scripts/build.sh), then runs
# benchmarks/src/main/java/dev/berth/gateway/bench/ColdStartBenchmark.java, which starts
# `java -Xmx512m -jar gateway/target/berth-gateway.jar --config config/berth.yaml --port 0`,
# measures, stops it and checks no container is left. The Markdown report goes to stdout and to
# target/bench/cold-start-<timestamp>.md; the gateway's log to target/bench/gateway-<timestamp>.log;
# progress to stderr. A default run takes about 3 minutes (30 s of it waiting out the warm-up
# sessions' grace period) and needs jcmd (JDK) and a Docker engine.
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" "${BASH_SOURCE[0]}" dev.berth.gateway.bench.ColdStartBenchmark "$@"
