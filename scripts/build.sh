#!/usr/bin/env bash
# Builds what is missing or stale: the gateway and handler jars (tests skipped), and the
# berth/handler image when a Docker engine answers. Used by run.sh and the benchmarks.
#   scripts/build.sh [--gateway-image]
# --gateway-image also builds the gateway's own image, berth/gateway (gateway-image/build-image.sh),
# for scripts/run-in-container.sh and deploy/compose: ./run.sh runs the jar and does not wait for it
# (a changed jar makes the image stale, and jdeps alone takes ~30 s on that jar).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

gateway_image=false
for arg in "$@"; do
  case "$arg" in
    --gateway-image) gateway_image=true ;;
    *) echo "build.sh: unknown argument '$arg' (accepted: --gateway-image)" >&2; exit 2 ;;
  esac
done

gateway_jar=gateway/target/berth-gateway.jar
handler_jar=handler-image/target/berth-handler.jar
image="berth/handler:$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' pom.xml | head -n 1)"

stale() { # true when the jar is missing or its module's sources or poms are newer than it
  [ ! -f "$1" ] || [ -n "$(find pom.xml "$2/pom.xml" "$2/src" -newer "$1" -type f -print -quit)" ]
}

if stale "$gateway_jar" gateway || stale "$handler_jar" handler-image; then
  echo "build.sh: building the gateway and the handler (mvn package, tests skipped)" >&2
  mvn -q -B -DskipTests -Dberth.image.skip=true package
fi

if docker info >/dev/null 2>&1; then
  handler-image/build-image.sh >&2 # builds it unless it is up to date with the jar, JDK and script
  if $gateway_image; then
    gateway-image/build-image.sh >&2 # the same for the gateway's image
  fi
else
  echo "build.sh: no Docker engine answers; image $image not built" >&2
fi
