#!/usr/bin/env bash
# What an idle proxied session costs the gateway: N websockets held open through the gateway jar
# (launcher: fixed, each a session with its own backend websocket, to in-JVM echo backends), and
# the gateway's heap after full GCs, RSS and class histogram, with none and with N, per session.
#
# Usage: scripts/bench-memory.sh [--sessions N] [--time-limit-s T]
#   --sessions N      idle sessions held at once (default 9000: each costs the gateway two sockets,
#                     and a process may have 20,000 open files on this machine)
#   --time-limit-s T  the whole run stops after this many seconds (default 600)
#
# About 2 minutes. Writes docs/benchmarks/memory.md (and target/bench/memory-<stamp>/ with the
# gateway's log). Needs no Docker engine.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" "$0" dev.berth.gateway.bench.IdleMemoryBenchmark "$@"
