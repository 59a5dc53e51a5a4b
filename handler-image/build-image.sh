#!/usr/bin/env bash
# Builds the session handler image, berth/handler:<version>, FROM scratch.
#
# Usage: handler-image/build-image.sh [--skip-without-engine]
#   (runnable from any directory; `mvn -pl handler-image package` runs it after the shade step)
#
#   --skip-without-engine   when no Docker engine answers (`docker info` fails), print a
#                           warning and exit 0 instead of failing.
#
# Environment:
#   BERTH_IMAGE   full image tag to build (default berth/handler:<version from the pom>)
#   JAVA_HOME     JDK whose jlink/jdeps/jmods build the runtime (default: the java on PATH)
#
# What it does (scripts/scratch-image.sh does the part shared with the gateway's image, in a
# temporary directory removed on exit; ~10 s cold, ~3-5 s warm):
#   1. takes target/berth-handler.jar (the shaded, runnable jar),
#   2. jlinks a minimal JRE with the modules jdeps reports for it (java.base, and jdk.unsupported
#      for NativeMemory's sun.misc.Unsafe)
#      and its CDS archive; the JRE is cached in target/image-cache keyed by JDK and modules,
#   3. copies in the shared libraries ldd lists for that JRE, at their absolute paths, plus the
#      dynamic loader (the image has no libc of its own),
#   4. writes a Dockerfile FROM scratch: runtime, jar, /tmp (1777), /etc/{passwd,group,
#      nsswitch.conf}, user 65534, EXPOSE 8080, label berth.version=<version>, and a RUN of
#      `java -jar berth-handler.jar --self-test` (no shell needed) that smoke-tests the image
#      and records an AppCDS archive for a faster start,
#   5. docker builds it, removes the image the tag pointed to before (if now unused) and prints
#      the tag and size.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="$here/target/berth-handler.jar"

skip_without_engine=false
for arg in "$@"; do
  case "$arg" in
    --skip-without-engine) skip_without_engine=true ;;
    -h|--help) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image.sh: unknown argument '$arg' (accepted: --skip-without-engine)" >&2; exit 64 ;;
  esac
done

die() { echo "build-image.sh: ERROR: $*" >&2; exit 1; }

# --- version and tag ---------------------------------------------------------------------
version="$(sed -n '/<parent>/,/<\/parent>/s:.*<version>\(.*\)</version>.*:\1:p' "$here/pom.xml" | head -n1)"
[[ -n "$version" ]] || die "cannot read the parent version from $here/pom.xml"
image="${BERTH_IMAGE:-berth/handler:$version}"

[[ -f "$jar" ]] || die "$jar is missing; build it first: (cd $(dirname "$here") && mvn -pl handler-image package)"

# --- the Dockerfile (the rest is scripts/scratch-image.sh's) --------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/berth-handler-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# The RUN needs no shell: it runs the handler's own self-test (start, /ready, websocket hello,
# echo, a claim, a probe, state, close) with -XX:ArchiveClassesAtExit, so the image carries a CDS
# archive of the classes a session start needs (a faster start) and a runtime missing a module
# or a library fails here, not in a session. -Xmx keeps compressed oops as at run time.
# @INPUTS@ becomes the hash of what the image is built from (scripts/scratch-image.sh).
jvm_flags='"-XX:+UseSerialGC", "-Xss512k", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData"'
cat >"$work/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
COPY jre/ /opt/berth/jre/
COPY berth-handler.jar /opt/berth/berth-handler.jar
RUN ["/opt/berth/jre/bin/java", $jvm_flags, "-Xmx128m", "-Xlog:cds=error", \\
     "-XX:ArchiveClassesAtExit=/opt/berth/berth-handler.jsa", \\
     "-jar", "/opt/berth/berth-handler.jar", "--self-test"]
LABEL berth.version="$version" berth.handler.inputs="@INPUTS@"
ENV BERTH_VERSION="$version" BERTH_PORT=8080
USER 65534:65534
EXPOSE 8080
ENTRYPOINT ["/opt/berth/jre/bin/java", $jvm_flags, "-XX:MaxRAMPercentage=70", \\
  "-XX:SharedArchiveFile=/opt/berth/berth-handler.jsa", "-Xshare:auto", \\
  "-XX:+ExitOnOutOfMemoryError", "-Djava.io.tmpdir=/tmp", \\
  "-jar", "/opt/berth/berth-handler.jar"]
EOF

# NativeMemory (the leak command) uses sun.misc.Unsafe: jdk.unsupported, whatever jdeps reports.
build=("$here/../scripts/scratch-image.sh" --name build-image.sh
  --jar "$jar" --image "$image" --dockerfile "$work/Dockerfile" --input "${BASH_SOURCE[0]}"
  --cache "$here/target/image-cache" --inputs-label berth.handler.inputs
  --user nobody:65534 --group nogroup:65534 --add-modules jdk.unsupported)
$skip_without_engine && build+=(--skip-without-engine)
"${build[@]}"
