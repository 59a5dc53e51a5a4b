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
# What it does (in a temporary directory removed on exit; ~10 s cold, ~3-5 s warm):
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

say() { echo "build-image.sh: $*"; }
die() { echo "build-image.sh: ERROR: $*" >&2; exit 1; }

# --- version and tag ---------------------------------------------------------------------
version="$(sed -n '/<parent>/,/<\/parent>/s:.*<version>\(.*\)</version>.*:\1:p' "$here/pom.xml" | head -n1)"
[[ -n "$version" ]] || die "cannot read the parent version from $here/pom.xml"
image="${BERTH_IMAGE:-berth/handler:$version}"

# --- preconditions -----------------------------------------------------------------------
[[ -f "$jar" ]] || die "$jar is missing; build it first: (cd $(dirname "$here") && mvn -pl handler-image package)"

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
  if $skip_without_engine; then
    say "WARNING: no Docker engine answers (docker info failed); image $image NOT built"
    exit 0
  fi
  die "no Docker engine answers (docker info failed); start one or pass --skip-without-engine"
fi

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/jlink" ]]; then
  jdk="$JAVA_HOME"
else
  java_bin="$(command -v java || true)"
  [[ -n "$java_bin" ]] || die "no JDK: set JAVA_HOME or put java on PATH"
  jdk="$(dirname "$(dirname "$(readlink -f "$java_bin")")")"
fi
[[ -x "$jdk/bin/jlink" && -x "$jdk/bin/jdeps" ]] || die "$jdk is not a JDK with jlink and jdeps"
[[ -d "$jdk/jmods" ]] || die "$jdk has no jmods directory (install the full JDK, e.g. openjdk-17-jdk)"
java_major="$("$jdk/bin/jlink" --version | cut -d. -f1)"

# An image built from the same jar, JDK and script is up to date: a rebuild would only hit
# docker's cache, after seconds of jdeps and of copying the runtime into a build context.
inputs="$({ sha256sum "$jar" "${BASH_SOURCE[0]}" | cut -c1-64; echo "$jdk"; "$jdk/bin/java" -version 2>&1; } | sha256sum | cut -c1-16)"
if [[ "$(docker image inspect -f '{{index .Config.Labels "berth.handler.inputs"}}' "$image" 2>/dev/null)" == "$inputs" ]]; then
  say "$image is up to date (built from this jar, JDK and script)"
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/berth-handler-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT
ctx="$work/context"
mkdir -p "$ctx/rootfs/etc" "$ctx/rootfs/tmp"

# --- 1+2: minimal JRE --------------------------------------------------------------------
modules="$("$jdk/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release "$java_major" "$jar")"
# NativeMemory (the leak command) uses sun.misc.Unsafe: make sure jdk.unsupported is there.
[[ ",$modules," == *",jdk.unsupported,"* ]] || modules="$modules,jdk.unsupported"
if (( java_major >= 21 )); then compress="zip-6"; else compress="2"; fi
# The jlinked runtime is kept in target/image-cache, keyed by JDK and modules: rebuilding only
# the jar skips jlink, and identical runtime files let docker reuse its cached layers.
cache="$here/target/image-cache"
key="$(printf '%s\n' "$jdk" "$("$jdk/bin/java" -version 2>&1)" "$modules" "$compress" | sha256sum | cut -c1-16)"
jre="$cache/jre-$key"
if [[ ! -x "$jre/bin/java" ]]; then
  rm -rf "$cache"
  mkdir -p "$cache"
  "$jdk/bin/jlink" \
    --add-modules "$modules" \
    --strip-debug --no-header-files --no-man-pages \
    --compress="$compress" \
    --generate-cds-archive \
    --output "$jre.partial" >/dev/null
  # Heaps here are far below 32 GiB, so compressed oops are always on: drop the other archive.
  rm -f "$jre.partial/lib/server/classes_nocoops.jsa"
  mv "$jre.partial" "$jre"
fi
cp -a "$jre" "$ctx/jre"

# --- 3: shared libraries the runtime needs, at their absolute paths ---------------------
libs="$(
  { echo "$ctx/jre/bin/java"; find "$ctx/jre" -name '*.so' -type f; } |
    while read -r file; do ldd "$file" 2>/dev/null || true; done |
    awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
    grep -v "^$ctx/" | sort -u
)"
[[ -n "$libs" ]] || die "ldd listed no libraries for $ctx/jre/bin/java"
while read -r lib; do
  mkdir -p "$ctx/rootfs$(dirname "$lib")"
  cp -L "$lib" "$ctx/rootfs$lib"
done <<<"$libs"

# Name lookups (the probe command's host names) read /etc/hosts first (docker writes the
# container's own name there) before DNS; and the image's user has a name.
printf 'hosts: files dns\n' >"$ctx/rootfs/etc/nsswitch.conf"
printf 'root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/tmp:/sbin/nologin\n' >"$ctx/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ctx/rootfs/etc/group"
chmod 1777 "$ctx/rootfs/tmp"
cp "$jar" "$ctx/berth-handler.jar"

# --- 4: Dockerfile -----------------------------------------------------------------------
# The RUN needs no shell: it runs the handler's own self-test (start, /ready, websocket hello,
# echo, a claim, a probe, state, close) with -XX:ArchiveClassesAtExit, so the image carries a CDS
# archive of the classes a session start needs (a faster start) and a runtime missing a module
# or a library fails here, not in a session. -Xmx keeps compressed oops as at run time.
jvm_flags='"-XX:+UseSerialGC", "-Xss512k", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData"'
cat >"$ctx/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
COPY jre/ /opt/berth/jre/
COPY berth-handler.jar /opt/berth/berth-handler.jar
RUN ["/opt/berth/jre/bin/java", $jvm_flags, "-Xmx128m", "-Xlog:cds=error", \\
     "-XX:ArchiveClassesAtExit=/opt/berth/berth-handler.jsa", \\
     "-jar", "/opt/berth/berth-handler.jar", "--self-test"]
LABEL berth.version="$version" berth.handler.inputs="$inputs"
ENV BERTH_VERSION="$version" BERTH_PORT=8080
USER 65534:65534
EXPOSE 8080
ENTRYPOINT ["/opt/berth/jre/bin/java", $jvm_flags, "-XX:MaxRAMPercentage=70", \\
  "-XX:SharedArchiveFile=/opt/berth/berth-handler.jsa", "-Xshare:auto", \\
  "-XX:+ExitOnOutOfMemoryError", "-Djava.io.tmpdir=/tmp", \\
  "-jar", "/opt/berth/berth-handler.jar"]
EOF

# --- 5: build ----------------------------------------------------------------------------
old_id="$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
if ! build_log="$(docker build --tag "$image" "$ctx" 2>&1)"; then
  echo "$build_log" >&2
  die "docker build of $image failed"
fi
new_id="$(docker image inspect --format '{{.Id}}' "$image")"
if [[ -n "$old_id" && "$old_id" != "$new_id" ]]; then
  # The previous build of this tag is now untagged: remove it unless a container still uses it.
  docker rmi "$old_id" >/dev/null 2>&1 || true
fi
size="$(docker image inspect --format '{{.Size}}' "$image")"
say "built $image in ${SECONDS}s: $(( size / 1024 / 1024 )) MiB ($size bytes), modules $modules"
