#!/usr/bin/env bash
# Builds what is missing or stale: the gateway and handler jars (tests skipped), and the
# berth/handler image when a Docker engine answers. Used by run.sh and the benchmarks.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

gateway_jar=gateway/target/berth-gateway.jar
handler_jar=handler-image/target/berth-handler.jar
image="berth/handler:$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' pom.xml | head -n 1)"

stale() { # true when the jar is missing or its module's sources or poms are newer than it
  [ ! -f "$1" ] || [ -n "$(find pom.xml "$2/pom.xml" "$2/src" -newer "$1" -type f -print -quit)" ]
}

image_stale() { # true when the image is missing or older than the handler jar
  local created
  created=$(docker image inspect -f '{{.Created}}' "$image" 2>/dev/null) || return 0
  [ -n "$(find "$handler_jar" -newermt "$created" -print -quit)" ]
}

if stale "$gateway_jar" gateway || stale "$handler_jar" handler-image; then
  echo "build.sh: building the gateway and the handler (mvn package, tests skipped)" >&2
  mvn -q -B -DskipTests -Dberth.image.skip=true package
fi

if docker info >/dev/null 2>&1; then
  if image_stale; then
    echo "build.sh: building image $image" >&2
    handler-image/build-image.sh
  fi
else
  echo "build.sh: no Docker engine answers; image $image not built" >&2
fi
