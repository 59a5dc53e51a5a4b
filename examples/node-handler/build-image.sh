#!/usr/bin/env bash
# Builds the Node.js example's image, berth/node-handler:<version>, FROM scratch: no base image is
# pulled, the image holds this machine's node binary, the libraries it links, and the app.
#
# Usage: examples/node-handler/build-image.sh [--skip-without-engine] [--skip-without-node]
#   (runnable from any directory; the gateway's Maven build runs it before its tests)
#
#   --skip-without-engine   when no Docker engine answers (`docker info` fails), print a
#                           warning and exit 0 instead of failing.
#   --skip-without-node     the same when there is no node, or node_modules must be installed
#                           and there is no npm.
#
# Environment:
#   BERTH_IMAGE   full image tag to build (default berth/node-handler:<version from package.json>)
#   NODE          the node binary to put in the image (default: the node on PATH, Node 18 or later)
#
# What it does (a few seconds; nothing when the image is up to date):
#   1. installs node_modules with `npm ci` when it is missing or was installed from another
#      package-lock.json: the only step that needs the npm registry, so later builds work offline,
#   2. skips the build when the image was built from the same app, node, libraries and script,
#   3. copies node and the shared libraries ldd lists for it, at their absolute paths, plus the
#      dynamic loader (the image has no libc of its own) and the builtins a distribution's node
#      keeps outside itself (Debian's: /usr/share/nodejs/{acorn,cjs-module-lexer,undici}), with
#      the app under /app,
#   4. writes a Dockerfile FROM scratch: /tmp (1777), /etc/{passwd,group,nsswitch.conf}, user
#      65534, EXPOSE 8080, label berth.version=<version>, and a RUN that starts the app once with
#      the image's own node (a missing library or module fails here, not in a session),
#   5. docker builds it (a failed step leaves no container: --force-rm), removes the image the tag pointed to before (if now unused) and prints
#      the tag and size.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
script="$here/$(basename "${BASH_SOURCE[0]}")"

skip_without_engine=false
skip_without_node=false
for arg in "$@"; do
  case "$arg" in
    --skip-without-engine) skip_without_engine=true ;;
    --skip-without-node) skip_without_node=true ;;
    -h|--help) sed -n '2,/^set /p' "$script" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "node-handler/build-image.sh: unknown argument '$arg' (accepted: --skip-without-engine, --skip-without-node)" >&2; exit 64 ;;
  esac
done

say() { echo "node-handler/build-image.sh: $*"; }
die() { echo "node-handler/build-image.sh: ERROR: $*" >&2; exit 1; }
no_node() { # no_node MESSAGE: fails, or with --skip-without-node warns and stops
  if $skip_without_node; then
    say "WARNING: $1; image $image NOT built"
    exit 0
  fi
  die "$1"
}

version="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$here/package.json" | head -n1)"
[[ -n "$version" ]] || die "cannot read the version from $here/package.json"
image="${BERTH_IMAGE:-berth/node-handler:$version}"

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
  if $skip_without_engine; then
    say "WARNING: no Docker engine answers (docker info failed); image $image NOT built"
    exit 0
  fi
  die "no Docker engine answers (docker info failed); start one or pass --skip-without-engine"
fi

node_bin="$(readlink -f "${NODE:-$(command -v node || true)}" 2>/dev/null || true)"
[[ -x "$node_bin" ]] || no_node "no node: install Node.js 18 or later (Debian: apt-get install -y nodejs npm) or set NODE"

# --- 1: node_modules, from the lock file -------------------------------------------------------
lock_sum="$(sha256sum "$here/package-lock.json" | cut -c1-64)"
stamp="$here/node_modules/.berth-lock.sha256"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]]; then
  command -v npm >/dev/null 2>&1 || no_node "node_modules is missing or stale and there is no npm (Debian: apt-get install -y npm)"
  say "npm ci (node_modules is missing, or was installed from another package-lock.json)"
  (cd "$here" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
  echo "$lock_sum" >"$stamp"
fi

# --- 2: up to date? ------------------------------------------------------------------------------
libs="$(ldd "$node_bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)"
[[ -n "$libs" ]] || die "ldd listed no libraries for $node_bin (a static node needs none: drop this check)"
# Files a distribution's node reads at start besides its libraries: Debian's keeps some builtins
# (cjs-module-lexer, undici, acorn) in /usr/share/nodejs, and its build config names each one.
builtins="$("$node_bin" -p 'JSON.stringify(process.config)' | grep -o 'NODE_SHARED_BUILTIN_[A-Z_]*_PATH=[^"\\]*' |
  cut -d= -f2 | sort -u || true)"
app_files=(server.js test-hooks.js package.json package-lock.json)
inputs="$({
  cd "$here" && sha256sum "${app_files[@]}" "$script" && "$node_bin" --version &&
    while read -r file; do [[ -z "$file" ]] || sha256sum "$file"; done <<<"$libs"$'\n'"$builtins" && sha256sum "$node_bin"
} | sha256sum | cut -c1-16)"
if [[ "$(docker image inspect -f '{{index .Config.Labels "berth.node-handler.inputs"}}' "$image" 2>/dev/null)" == "$inputs" ]]; then
  say "$image is up to date (built from this app, node $("$node_bin" --version) and script)"
  exit 0
fi

# --- 3: the image's files ----------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/berth-node-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
mkdir -p "$rootfs/etc" "$rootfs/tmp" "$rootfs/usr/bin" "$rootfs/app"
cp "$node_bin" "$rootfs/usr/bin/node"
while read -r lib; do
  [[ -n "$lib" ]] || continue
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done <<<"$libs"$'\n'"$builtins"
(cd "$here" && cp -r "${app_files[@]}" node_modules "$rootfs/app/")
rm -f "$rootfs/app/node_modules/.berth-lock.sha256"

# Name lookups (the probe command's host names) read /etc/hosts first, where docker writes the
# container's own name; and the image's user has a name.
printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
printf 'root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/tmp:/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
chmod 1777 "$rootfs/tmp"

# --- 4: Dockerfile -------------------------------------------------------------------------------
# The RUN starts the app once with the image's own node, on a free port with a 1 ms idle grace:
# it loads its modules, listens and exits 0, or the build fails here rather than in a session.
smoke_env="{BERTH_HOST: '127.0.0.1', BERTH_PORT: '0', BERTH_IDLE_GRACE_MS: '1'}"
cat >"$work/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
WORKDIR /app
RUN ["/usr/bin/node", "-e", "Object.assign(process.env, $smoke_env); require('./server.js')"]
LABEL berth.version="$version" berth.node-handler.inputs="$inputs"
ENV BERTH_VERSION="$version" BERTH_PORT=8080
USER 65534:65534
EXPOSE 8080
ENTRYPOINT ["/usr/bin/node", "/app/server.js"]
EOF

# --- 5: build ------------------------------------------------------------------------------------
old_id="$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
if ! build_log="$(docker build --force-rm --tag "$image" "$work" 2>&1)"; then
  echo "$build_log" >&2
  die "docker build of $image failed"
fi
new_id="$(docker image inspect --format '{{.Id}}' "$image")"
if [[ -n "$old_id" && "$old_id" != "$new_id" ]]; then
  docker rmi "$old_id" >/dev/null 2>&1 || true # the previous build, unless a container still uses it
fi
size="$(docker image inspect --format '{{.Size}}' "$image")"
say "built $image in ${SECONDS}s: $(( size / 1024 / 1024 )) MiB ($size bytes), node $("$node_bin" --version)"
