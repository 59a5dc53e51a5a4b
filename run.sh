#!/usr/bin/env bash
# Builds what is missing or stale, then starts the gateway on the default config:
#   ./run.sh                          -> http://127.0.0.1:8080/
#   ./run.sh --config FILE --port N   (later flags win)
# Without a Docker engine, 'launcher: auto' runs each session's handler as a local process.
set -euo pipefail
cd "$(dirname "$0")"
scripts/build.sh
exec java -jar gateway/target/berth-gateway.jar --config config/berth.yaml "$@"
