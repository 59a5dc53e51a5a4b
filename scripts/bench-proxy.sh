#!/usr/bin/env bash
# The data path side by side: the same echo containers reached directly, through nginx, through a
# bare Netty relay (a reference: a relay on Netty alone, without Vert.x) and through Berth, by the same
# clients, in interleaved rounds; round trips at a fixed rate and maximum throughput. Two shapes:
#   shared    4 echo containers, 1, 100 and 1,000 connections, binary messages of 64 B, 16 KiB, 1 MiB
#             (Berth on launcher: fixed);
#   sessions  sessions each in their own container launched by Berth (launcher: docker), one
#             closed-loop connection per session that leaves and comes back between measurements,
#             text and binary messages of 64 B and 16 KiB.
#
# Usage: scripts/bench-proxy.sh [--shape shared|sessions|both] [--rounds R] [--backends K] [--sessions N]
#                               [--seconds S] [--max-connections N] [--max-size B] [--time-limit-s T]
#   --shape S            which shapes (default both)
#   --rounds R           interleaved rounds of every case (default 2)
#   --backends K         echo containers of the shared shape (default 4)
#   --sessions N         sessions of the sessions shape (default 6)
#   --seconds S          each measurement's length (default 3)
#   --max-connections N  leave out shared cases with more connections (default 1000)
#   --max-size B         leave out cases with larger messages (default 1048576)
#   --time-limit-s T     the whole run stops after this many seconds (default 2400)
#
# Needs a Docker engine and nginx (Debian's package; installed here with apt-get when missing and
# run as root). A default run takes about 18 minutes on 2 cores. Writes docs/benchmarks/proxy.md
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
