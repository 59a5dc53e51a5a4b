#!/usr/bin/env bash
# Builds the gateway's image, berth/gateway:<version>, FROM scratch, as the handler's is built.
#
# Usage: gateway-image/build-image.sh [--skip-without-engine]
#   (runnable from any directory; scripts/build.sh runs it, and so does GatewayImageIT)
#
#   --skip-without-engine   when no Docker engine answers, print a warning and exit 0.
#
# Environment:
#   BERTH_GATEWAY_IMAGE  full image tag to build (default berth/gateway:<version from the pom>)
#   JAVA_HOME            JDK whose jlink/jdeps/jmods build the runtime (default: the java on PATH)
#
# What it does (scripts/scratch-image.sh does the part shared with the handler's image; 70-80 s
# cold on two busy cores, most of it jdeps reading the 35 MB jar and jlink; a few seconds when the
# image is up to date with the jar, JDK and scripts):
#   1. takes gateway/target/berth-gateway.jar (the shaded, runnable jar),
#   2. jlinks a minimal JRE with the modules jdeps reports for it (java.base, java.compiler,
#      java.desktop, java.naming, java.security.jgss, java.sql, jdk.jfr, jdk.management,
#      jdk.unsupported) plus jdk.crypto.ec, which jdeps cannot see (the SunEC provider is found
#      through the security providers list: without it a TLS key on an elliptic curve fails to load,
#      and ES256 JWTs need it too), and its CDS archive; cached in gateway-image/target/image-cache,
#   3. puts Netty's epoll library, taken out of the jar, at /opt/berth/lib (java.library.path):
#      Netty looks there before it extracts the library to java.io.tmpdir, so the gateway gets
#      epoll with a read-only root and a noexec /tmp,
#   4. leaves out java.desktop's AWT, font, image and sound libraries (it is there for java.beans),
#      copies in the shared libraries ldd lists for the runtime and Netty's, plus the dynamic
#      loader (the image has no libc of its own),
#   5. writes a Dockerfile FROM scratch: runtime, jar, /tmp (1777), /etc/{passwd,group,
#      nsswitch.conf}, user berth (10001:10001), EXPOSE 8080 8081, label berth.version; the entry
#      point runs the jar, and the command is `--config /etc/berth/berth.yaml` (mount the config
#      there read-only, in a writable folder for its key files: scripts/run-in-container.sh),
#   6. docker builds it, removes the image the tag pointed to before (if now unused) and prints the
#      tag and size.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
jar="$root/gateway/target/berth-gateway.jar"

skip_without_engine=false
for arg in "$@"; do
  case "$arg" in
    --skip-without-engine) skip_without_engine=true ;;
    -h|--help) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image.sh: unknown argument '$arg' (accepted: --skip-without-engine)" >&2; exit 64 ;;
  esac
done

die() { echo "gateway-image/build-image.sh: ERROR: $*" >&2; exit 1; }

version="$(sed -n '/<parent>/,/<\/parent>/s:.*<version>\(.*\)</version>.*:\1:p' "$root/gateway/pom.xml" | head -n1)"
[[ -n "$version" ]] || die "cannot read the parent version from $root/gateway/pom.xml"
image="${BERTH_GATEWAY_IMAGE:-berth/gateway:$version}"

[[ -f "$jar" ]] || die "$jar is missing; build it first: (cd $root && mvn -pl gateway -am package -DskipTests)"

work="$(mktemp -d "${TMPDIR:-/tmp}/berth-gateway-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT

epoll=META-INF/native/libnetty_transport_native_epoll_x86_64.so
unzip -q -o "$jar" "$epoll" -d "$work" 2>/dev/null || die "$jar holds no $epoll (netty-transport-native-epoll, linux-x86_64)"

# The gateway writes nothing but its key files (next to its config: mount a writable folder at
# /etc/berth) and Vert.x's file cache (java.io.tmpdir: give it a tmpfs with a read-only root). JVM
# options (a heap size: -Xmx512m) go in JAVA_TOOL_OPTIONS; a docker stop sends SIGTERM, which drains
# for sessions.drainDeadline: give the stop that long and 30 s more (docker run --stop-timeout).
# @INPUTS@ becomes the hash of what the image is built from (scripts/scratch-image.sh).
cat >"$work/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
COPY jre/ /opt/berth/jre/
COPY berth-gateway.jar /opt/berth/berth-gateway.jar
LABEL berth.version="$version" berth.gateway.inputs="@INPUTS@"
USER 10001:10001
EXPOSE 8080 8081
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/berth/jre/bin/java", "-XX:+ExitOnOutOfMemoryError", "-Djava.io.tmpdir=/tmp", \\
  "-Djava.library.path=/opt/berth/lib", "-jar", "/opt/berth/berth-gateway.jar"]
CMD ["--config", "/etc/berth/berth.yaml"]
EOF

build=("$root/scripts/scratch-image.sh" --name gateway-image/build-image.sh
  --jar "$jar" --image "$image" --dockerfile "$work/Dockerfile" --input "${BASH_SOURCE[0]}"
  --cache "$here/target/image-cache" --inputs-label berth.gateway.inputs
  --user berth:10001 --group berth:10001 --add-modules jdk.crypto.ec
  --add-file "$work/$epoll=/opt/berth/lib/$(basename "$epoll")")
# java.desktop is there for java.beans (Jackson, SnakeYAML, Micrometer): its AWT, font, image and
# sound libraries never load in the gateway, and would bring X11, ALSA, FreeType... (~10 MB) along.
for unused in 'lib/libawt*.so' lib/libfontmanager.so lib/libjavajpeg.so lib/libjawt.so lib/libjsound.so \
  lib/liblcms.so lib/libmlib_image.so lib/libsplashscreen.so; do
  build+=(--drop "$unused")
done
$skip_without_engine && build+=(--skip-without-engine)
"${build[@]}"
