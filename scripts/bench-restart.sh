#!/usr/bin/env bash
# Restart benchmark of the real gateway on the real Docker engine: N streaming sessions, the gateway
# SIGKILLed and started again on the same port, R times; how long until every client has its own
# session back.
#
# Usage: scripts/bench-restart.sh [--sessions N] [--rounds R] [--concurrency C]
#                                 [--feed-per-second F] [--time-limit-s S]
#   --sessions N         sessions held across the restarts (default 20)
#   --rounds R           SIGKILL + restart rounds (default 3)
#   --concurrency C      new sessions opened at a time at the start (default 4)
#   --feed-per-second F  listing updates per second each session streams (default 20)
#   --time-limit-s S     the whole run stops after this many seconds (default 600)
#
# Builds what is missing or stale (scripts/build.sh), then runs
# benchmarks/src/main/java/dev/berth/gateway/bench/RestartBenchmark.java, which writes a temporary
# config with a route of its own (bench-<random>, docker launcher, sessions.onShutdown: keep),
# starts `java -Xmx512m -jar gateway/target/berth-gateway.jar --config <it> --port 0`, opens the
# sessions, then each round SIGKILLs the gateway, starts it again with --port <the same port> and
# measures (a) process start -> /health answers, (b) /health -> every session re-adopted,
# (c) /health -> each client, reconnecting with its cookie, has its hello and state back. At the
# end it closes every client (sessions end, containers removed), SIGTERMs the gateway and removes
# any container of its route that is left. The Markdown report goes to stdout and to
# target/bench/restart-<timestamp>.md; each gateway's log to
# target/bench/restart-<timestamp>-gateway-<n>.log; progress to stderr. A default run takes about
# a minute and needs a Docker engine.
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" "${BASH_SOURCE[0]}" dev.berth.gateway.bench.RestartBenchmark "$@"
