#!/usr/bin/env bash
# Shared by the bench-*.sh scripts: run-benchmark.sh SCRIPT MAIN_CLASS ARGS...
# Prints SCRIPT's header for --help, builds what is stale, checks a Docker engine answers, then runs
# MAIN_CLASS (a class of benchmarks/src/main/java/dev/berth/gateway/bench) with ARGS.
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
# The benchmarks module, on the gateway's test jar: built when missing or older than the gateway.
classpath=benchmarks/target/classpath.txt
if [ ! -f "$classpath" ] || [ -n "$(find benchmarks/pom.xml benchmarks/src gateway/target/berth-gateway.jar \
    -newer "$classpath" -type f -print -quit)" ]; then
  echo "$(basename "$script"): building the benchmarks (mvn package, tests skipped)" >&2
  mvn -q -B -DskipTests -Dberth.image.skip=true -Dberth.smoke.skip=true -pl benchmarks -am package
fi
# BERTH_BENCH_ENGINE=none: a benchmark whose backends run in its own JVM.
if [ "${BERTH_BENCH_ENGINE:-docker}" != none ] && ! docker info >/dev/null 2>&1; then
  echo "$(basename "$script"): no Docker engine answers (docker info failed); this benchmark needs one" >&2
  exit 1
fi

# The benchmark runs in a JVM of its own, on the benchmarks module's classes and the classpath its
# build wrote; the working directory (the repository root) is the benchmark's --root.
exec java -cp "benchmarks/target/classes:$(cat "$classpath")" \
  -Dberth.root="$PWD" "$main" "$@"
