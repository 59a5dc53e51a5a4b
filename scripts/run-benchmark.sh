#!/usr/bin/env bash
# Shared by the bench-*.sh scripts: run-benchmark.sh SCRIPT MAIN_CLASS ARGS...
# Prints SCRIPT's header for --help, builds what is stale, checks a Docker engine answers, then runs
# MAIN_CLASS (a class of gateway/src/test/java/dev/berth/gateway/bench) with ARGS.
set -euo pipefail
script=$(readlink -f "$1") main=$2
shift 2
cd "$(dirname "${BASH_SOURCE[0]}")/.."

for arg in "$@"; do
  case "$arg" in
    -h|--help) sed -n '2,/^exec /p' "$script" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
  esac
done

scripts/build.sh
# BERTH_BENCH_ENGINE=none: a benchmark whose backends run in its own JVM.
if [ "${BERTH_BENCH_ENGINE:-docker}" != none ] && ! docker info >/dev/null 2>&1; then
  echo "$(basename "$script"): no Docker engine answers (docker info failed); this benchmark needs one" >&2
  exit 1
fi

# exec:java runs the benchmark inside Maven's JVM with the gateway's test classpath; the working
# directory (the repository root) is the benchmark's --root.
exec mvn -q -B -pl gateway test-compile \
  org.codehaus.mojo:exec-maven-plugin:3.5.1:java \
  -Dexec.mainClass="$main" \
  -Dexec.classpathScope=test \
  -Dexec.cleanupDaemonThreads=false \
  -Dstyle.color=never \
  -Dexec.args="$*"
