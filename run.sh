#!/usr/bin/env bash
# Builds what is missing or stale, then starts the gateway on the default config:
#   ./run.sh                      -> http://127.0.0.1:8080/
#   ./run.sh --config FILE --port N
set -euo pipefail
cd "$(dirname "$0")"

gateway_jar=gateway/target/berth-gateway.jar
handler_jar=handler-image/target/berth-handler.jar
image="berth/handler:$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' pom.xml | head -n 1)"

stale() { # true when the jar is missing or its module's sources or poms are newer than it
  [ ! -f "$1" ] || [ -n "$(find pom.xml "$2/pom.xml" "$2/src" -newer "$1" -type f -print -quit)" ]
}

if stale "$gateway_jar" gateway || stale "$handler_jar" handler-image; then
  echo "run.sh: building the gateway and the handler (mvn package, tests skipped)" >&2
  mvn -q -B -DskipTests -Dberth.image.skip=true package
fi

image_stale() { # true when the image is missing or older than the handler jar
  local created
  created=$(docker image inspect -f '{{.Created}}' "$image" 2>/dev/null) || return 0
  [ -n "$(find "$handler_jar" -newermt "$created" -print -quit)" ]
}

if docker info >/dev/null 2>&1; then
  if image_stale; then
    echo "run.sh: building image $image" >&2
    handler-image/build-image.sh
  fi
else
  echo "run.sh: no Docker engine answers; with 'launcher: auto' sessions run as local processes" >&2
fi

# Later flags win, so ./run.sh --config other.yaml works.
exec java -jar "$gateway_jar" --config config/berth.yaml "$@"
