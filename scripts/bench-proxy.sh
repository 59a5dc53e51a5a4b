#!/usr/bin/env bash
# The data path side by side: the same echo containers reached directly, through nginx and through
# Berth, by the same clients, in interleaved rounds; round trips at a fixed rate and maximum
# throughput for 64 B, 16 KiB and 1 MiB messages with 1, 100 and 1,000 connections.
#
# Usage: scripts/bench-proxy.sh [--rounds R] [--backends K] [--seconds S] [--max-connections N] [--max-size B]
#                               [--time-limit-s T]
#   --rounds R           interleaved rounds of every case (default 2)
#   --backends K         echo containers (default 4)
#   --seconds S          each measurement's length (default 3)
#   --max-connections N  leave out cases with more connections (default 1000)
#   --max-size B         leave out cases with larger messages (default 1048576)
#   --time-limit-s T     the whole run stops after this many seconds (default 1500)
#
# Needs a Docker engine and nginx (Debian's package; installed here with apt-get when missing and
# run as root). A default run takes about 8 minutes on 2 cores. Writes docs/benchmarks/proxy.md
# and docs/benchmarks/proxy.png (and keeps target/bench/proxy-<stamp>/ with nginx's and the
# gateway's logs). Containers are labelled berth.bench=proxy and removed at the end.
# BERTH_BENCH_GATEWAY_JVM adds JVM options to the gateway's command line, e.g. for a profile:
#   BERTH_BENCH_GATEWAY_JVM="-XX:StartFlightRecording=filename=target/bench/gw.jfr,settings=profile"
# BERTH_BENCH_EVENT_LOOPS sets the gateways' listen.eventLoops (default 2, one per core here).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v nginx >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "bench-proxy.sh: installing nginx (Debian's package)" >&2
    apt-get install -y -qq nginx >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nginx; }
  else
    echo "bench-proxy.sh: nginx is missing: sudo apt-get install -y nginx" >&2
    exit 1
  fi
fi
exec scripts/run-benchmark.sh "$0" dev.berth.gateway.bench.ProxyBenchmark "$@"
