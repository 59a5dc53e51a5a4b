#!/usr/bin/env bash
# What a spawn flood from one address costs other clients' round trips: five victim sessions echo
# in a closed loop, quiet and then while one address opens 1,000 websocket upgrades a second
# (a thousand times the new sessions it may open), side by side in each round; the result is the
# median round's flooded p99 over its quiet p99 (the target is 2x).
#
# Usage: scripts/bench-flood.sh [--rounds R] [--flood-seconds S] [--warmup-seconds W] [--rate N]
#                               [--threads T] [--victims V] [--think-ms MS]
#   --rounds R          quiet then flooded phases (default 3)
#   --flood-seconds S   each phase's length (default 3)
#   --warmup-seconds W  the unmeasured warm-up flood, which compiles the refusal path (default 10)
#   --rate N            upgrade attempts a second; 0: as fast as three threads can, which saturates
#                       this 2-core machine with the flooder's own work (default 1000)
#   --threads T         the flooder's threads (default 3)
#   --victims V         victim sessions, one address each from 127.0.0.2 (default 5)
#   --think-ms MS       each victim's pause between round trips (default 1)
#
# Runs benchmarks/src/main/java/dev/berth/gateway/bench/FloodBenchmark.java: a gateway in the
# benchmark's JVM with in-JVM echo backends (no Docker engine needed; admission is what is
# measured), the same per-client limits as SpawnFloodTest, which asserts the admission side in the
# test suite. About 40 s with the defaults; the Markdown report goes to stdout and to
# target/bench/flood-<timestamp>.md, progress to stderr.
BERTH_BENCH_ENGINE=none exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" "${BASH_SOURCE[0]}" dev.berth.gateway.bench.FloodBenchmark "$@"
