#!/usr/bin/env bash
# Builds a Java image FROM scratch: a jlink'ed runtime, the libraries it needs, and one runnable jar.
# The shared part of handler-image/build-image.sh (berth/handler) and gateway-image/build-image.sh
# (berth/gateway): each says what differs (jar, tag, extra modules, user, Dockerfile), this does the
# rest, the same way for both.
#
# Usage: scripts/scratch-image.sh --jar FILE --image TAG --dockerfile FILE --cache DIR
#            --inputs-label KEY --user NAME:UID --group NAME:GID [--add-modules M1,M2]
#            [--add-file SRC=/ABS/DEST]... [--drop JRE_PATH]... [--input FILE]...
#            [--skip-without-engine] [--name WHO]
#
#   --jar FILE            the runnable jar; copied into the build context under its own file name
#   --image TAG           the tag to build
#   --dockerfile FILE     the Dockerfile, with @INPUTS@ where the inputs hash goes (its label value);
#                         the context holds rootfs/ (the libraries, /etc, /tmp, --add-file), jre/ and
#                         the jar
#   --cache DIR           where the jlinked runtime is kept between builds, keyed by JDK and modules
#   --inputs-label KEY    the image label holding the inputs hash: an image whose label matches is up
#                         to date (same jar, JDK, Dockerfile, --add-file and scripts) and not rebuilt
#   --user NAME:UID, --group NAME:GID
#                         the image's own user and group in /etc/passwd and /etc/group (home /tmp)
#   --add-modules LIST    modules the runtime needs beyond those jdeps reports (appended if missing)
#   --add-file SRC=DEST   a file put into the image at DEST; a .so among them has its libraries copied too
#   --drop JRE_PATH       a file of the runtime left out of the image (a glob, relative to the
#                         runtime: lib/libawt*.so), e.g. a native library only a module's unused part
#                         loads, whose own libraries would otherwise be copied in too
#   --input FILE          a file whose change must rebuild the image (the calling script)
#   --skip-without-engine when no Docker engine answers, warn and exit 0 instead of failing
#   --name WHO            the name its lines start with (default scratch-image.sh)
#
# Environment: JAVA_HOME, the JDK whose jlink/jdeps/jmods build the runtime (default: java on PATH).
#
# What it does (in a temporary directory removed on exit):
#   1. jdeps lists the jar's modules; with --add-modules they are jlinked into a minimal JRE with
#      its CDS archive (--generate-cds-archive), kept in --cache,
#   2. leaves out --drop, and copies in the shared libraries ldd lists for that JRE (and any
#      --add-file .so), at their absolute paths, plus the dynamic loader (the image has no libc),
#   3. writes /etc/{passwd,group,nsswitch.conf} and /tmp (1777),
#   4. docker builds the Dockerfile, removes the image the tag pointed to before (if now unused) and
#      prints the tag and size.
set -euo pipefail

me=scratch-image.sh
jar="" image="" dockerfile="" cache="" inputs_label="" user="" group="" extra_modules=""
skip_without_engine=false
add_files=() inputs=() drops=()
while (( $# )); do
  case "$1" in
    --jar) jar="$2"; shift 2 ;;
    --image) image="$2"; shift 2 ;;
    --dockerfile) dockerfile="$2"; shift 2 ;;
    --cache) cache="$2"; shift 2 ;;
    --inputs-label) inputs_label="$2"; shift 2 ;;
    --user) user="$2"; shift 2 ;;
    --group) group="$2"; shift 2 ;;
    --add-modules) extra_modules="$2"; shift 2 ;;
    --add-file) add_files+=("$2"); shift 2 ;;
    --input) inputs+=("$2"); shift 2 ;;
    --drop) drops+=("$2"); shift 2 ;;
    --skip-without-engine) skip_without_engine=true; shift ;;
    --name) me="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "scratch-image.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
  esac
done

say() { echo "$me: $*"; }
die() { echo "$me: ERROR: $*" >&2; exit 1; }

for required in jar image dockerfile cache inputs_label user group; do
  [[ -n "${!required}" ]] || die "--${required//_/-} is required"
done
[[ "$user" == *:* && "$group" == *:* ]] || die "--user and --group take NAME:ID"
[[ -f "$jar" ]] || die "$jar is missing; build it first (mvn package)"
[[ -f "$dockerfile" ]] || die "$dockerfile is missing"

# --- preconditions -----------------------------------------------------------------------
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

# An image built from the same jar, JDK, Dockerfile, added files and scripts is up to date: a
# rebuild would only hit docker's cache, after seconds of jdeps and of copying the runtime into a
# build context.
add_sources=()
for spec in ${add_files[@]+"${add_files[@]}"}; do
  [[ "$spec" == *=/* ]] || die "--add-file takes SRC=/ABSOLUTE/DEST, not '$spec'"
  [[ -f "${spec%%=*}" ]] || die "--add-file: ${spec%%=*} is missing"
  add_sources+=("${spec%%=*}")
done
inputs_hash="$({
  sha256sum "$jar" "${BASH_SOURCE[0]}" "$dockerfile" ${inputs[@]+"${inputs[@]}"} \
    ${add_sources[@]+"${add_sources[@]}"} | cut -c1-64
  echo "$jdk" "$extra_modules" "$user" "$group" ${drops[@]+"${drops[@]}"}; "$jdk/bin/java" -version 2>&1
} | sha256sum | cut -c1-16)"
if [[ "$(docker image inspect -f "{{index .Config.Labels \"$inputs_label\"}}" "$image" 2>/dev/null)" == "$inputs_hash" ]]; then
  say "$image is up to date (built from this jar, JDK and scripts)"
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/berth-scratch-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT
ctx="$work/context"
mkdir -p "$ctx/rootfs/etc" "$ctx/rootfs/tmp"

# --- 1: minimal JRE ----------------------------------------------------------------------
modules="$("$jdk/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release "$java_major" "$jar")"
IFS=, read -r -a wanted <<<"$extra_modules"
for module in ${wanted[@]+"${wanted[@]}"}; do
  [[ ",$modules," == *",$module,"* ]] || modules="$modules,$module"
done
if (( java_major >= 21 )); then compress="zip-6"; else compress="2"; fi
# Keyed by JDK and modules: rebuilding only the jar skips jlink, and identical runtime files let
# docker reuse its cached layers.
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
for drop in ${drops[@]+"${drops[@]}"}; do
  (cd "$ctx/jre" && shopt -s nullglob && for file in $drop; do rm -f -- "$file"; done)
done

# --- 2: added files, and the shared libraries the runtime and they need -------------------
for spec in ${add_files[@]+"${add_files[@]}"}; do
  dest="${spec#*=}"
  mkdir -p "$ctx/rootfs$(dirname "$dest")"
  cp -L "${spec%%=*}" "$ctx/rootfs$dest"
done
libs="$(
  { echo "$ctx/jre/bin/java"; find "$ctx/jre" "$ctx/rootfs" -name '*.so' -type f; } |
    while read -r file; do ldd "$file" 2>/dev/null || true; done |
    awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
    grep -v "^$ctx/" | sort -u
)"
[[ -n "$libs" ]] || die "ldd listed no libraries for $ctx/jre/bin/java"
while read -r lib; do
  mkdir -p "$ctx/rootfs$(dirname "$lib")"
  cp -L "$lib" "$ctx/rootfs$lib"
done <<<"$libs"

# --- 3: /etc and /tmp --------------------------------------------------------------------
# Name lookups read /etc/hosts first (docker writes the container's own name there) before DNS;
# and the image's user has a name.
printf 'hosts: files dns\n' >"$ctx/rootfs/etc/nsswitch.conf"
printf 'root:x:0:0:root:/:/sbin/nologin\n%s:x:%s:%s:%s:/tmp:/sbin/nologin\n' \
  "${user%%:*}" "${user#*:}" "${group#*:}" "${user%%:*}" >"$ctx/rootfs/etc/passwd"
printf 'root:x:0:\n%s:x:%s:\n' "${group%%:*}" "${group#*:}" >"$ctx/rootfs/etc/group"
chmod 1777 "$ctx/rootfs/tmp"
cp "$jar" "$ctx/$(basename "$jar")"
sed "s/@INPUTS@/$inputs_hash/g" "$dockerfile" >"$ctx/Dockerfile"

# --- 4: build ----------------------------------------------------------------------------
old_id="$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
if ! build_log="$(docker build --force-rm --tag "$image" "$ctx" 2>&1)"; then
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
