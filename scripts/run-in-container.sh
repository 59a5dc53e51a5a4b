#!/usr/bin/env bash
# Runs the gateway in a container of its own (berth/gateway:<version>, built FROM scratch by
# gateway-image/build-image.sh) on this machine's Docker engine, on the default config:
#   scripts/run-in-container.sh [--port N] [--admin-port N] [--config FILE] [--on-shutdown keep|end]
#                               [--gateway-id ID] [--state-dir DIR] [--name NAME] [--no-build]
#                               [--engine-socket PATH]
#   scripts/run-in-container.sh --stop [--name NAME]
# Starts it in the background and returns once GET /health/ready answers (at most 120 s), printing
# the container's id (its log: docker logs berth-gateway). The page is then at http://127.0.0.1:8080/,
# as with ./run.sh. --stop stops it (SIGTERM: a drain of at most sessions.drainDeadline, then the
# sessions are kept or ended as sessions.onShutdown says: the default config keeps them, so the next
# start, in a container or not, re-adopts them with their state; --on-shutdown end removes them)
# and removes the container.
#
#   --port N, --admin-port N  the public and admin ports (default: the config's, 8080 and 8081)
#   --config FILE             the config to run (default config/berth.yaml)
#   --on-shutdown keep|end, --gateway-id ID
#                             override sessions.onShutdown and sessions.gatewayId
#   --state-dir DIR           the gateway's folder (default target/gateway-container): a copy of the
#                             config with the overrides, berth.yaml, mounted read-only at
#                             /etc/berth/berth.yaml, in DIR mounted writable at /etc/berth for the key
#                             files the config names next to it (berth-token.key, berth-admin.key:
#                             ./berth --config DIR/berth.yaml sessions talks to the admin API)
#   --name NAME               the container's name (default berth-gateway)
#   --no-build                use the images as they are (default: scripts/build.sh first, as ./run.sh)
#   --engine-socket PATH      the socket mounted as the gateway's engine (default: the engine's own,
#                             /var/run/docker.sock or DOCKER_HOST's): an engine API proxy that allows
#                             only the gateway's calls (deploy/engine-proxy/nginx.conf)
#
# The container: the host's network (the gateway reaches session containers at their addresses on
# the berth-sessions bridge, where containers cannot reach each other, and listens on 127.0.0.1
# exactly as ./run.sh does), the engine's socket mounted with its group added (root-equivalent
# control of the engine: docs/operations.md, "Run the gateway in a container", says how to narrow
# it), user berth (10001; as a non-root caller, the caller's uid), a read-only root with a tmpfs
# /tmp, no capabilities, no-new-privileges.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

me=run-in-container.sh
say() { echo "$me: $*" >&2; }
die() { echo "$me: $*" >&2; exit 1; }
usage() { sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }

stop=false build=true
port="" admin_port="" on_shutdown="" gateway_id=""
config=config/berth.yaml state=target/gateway-container name=berth-gateway engine_socket=""
while (( $# )); do
  case "$1" in
    --stop) stop=true; shift ;;
    --no-build) build=false; shift ;;
    --port|--admin-port|--config|--on-shutdown|--gateway-id|--state-dir|--name|--engine-socket)
      (( $# >= 2 )) || die "$1 needs a value"
      case "$1" in
        --port) port="$2" ;; --admin-port) admin_port="$2" ;; --config) config="$2" ;;
        --on-shutdown) on_shutdown="$2" ;; --gateway-id) gateway_id="$2" ;;
        --state-dir) state="$2" ;; --name) name="$2" ;; --engine-socket) engine_socket="$2" ;;
      esac
      shift 2 ;;
    -h|--help) usage ;;
    *) echo "$me: unknown argument '$1'" >&2; usage ;;
  esac
done
for number in "$port" "$admin_port"; do
  [[ -z "$number" || "$number" =~ ^[0-9]+$ ]] || die "a port is a number, not '$number'"
done
[[ -z "$on_shutdown" || "$on_shutdown" == keep || "$on_shutdown" == end ]] || die "--on-shutdown takes keep or end"

docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed): the gateway's container runs on one"

if $stop; then
  [[ -z "$port$admin_port$on_shutdown$gateway_id" ]] \
    || die "--stop takes only --name: the ports, onShutdown and gateway id were set at the start"
  if ! docker container inspect "$name" >/dev/null 2>&1; then
    say "no container $name: nothing to stop"
    exit 0
  fi
  # docker stop waits for the gateway's drain, up to the --stop-timeout it was started with.
  docker stop "$name" >/dev/null
  status="$(docker container inspect -f '{{.State.ExitCode}}' "$name")"
  docker logs --tail 5 "$name" 2>&1 | sed "s/^/$me: [gateway] /" >&2
  docker rm "$name" >/dev/null
  say "stopped (exit status $status) and removed $name"
  exit 0
fi

# --- images ------------------------------------------------------------------------------
version="$(sed -n '/<parent>/,/<\/parent>/s:.*<version>\(.*\)</version>.*:\1:p' gateway/pom.xml | head -n1)"
image="${BERTH_GATEWAY_IMAGE:-berth/gateway:$version}"
if $build; then
  scripts/build.sh --gateway-image # the jars, the handler's image and the gateway's, whichever are stale
fi
docker image inspect "$image" >/dev/null 2>&1 || die "image $image is missing: scripts/build.sh --gateway-image builds it"

if docker container inspect "$name" >/dev/null 2>&1; then
  if [[ "$(docker container inspect -f '{{.State.Running}}' "$name")" == true ]]; then
    die "$name is running already ($(docker container inspect -f '{{.Id}}' "$name")); stop it first: $0 --stop --name $name"
  fi
  docker rm "$name" >/dev/null # an earlier run's, stopped
fi

# --- the gateway's folder: the config, read-only, and its key files -------------------------
[[ -f "$config" ]] || die "no config file $config"
mkdir -p "$state"
state="$(cd "$state" && pwd)"
# In place of the file (not a new file renamed over it): a running gateway's mount keeps the inode.
cat "$config" >"$state/berth.yaml"
section_key() { # section_key SECTION KEY VALUE: sets a two-space-indented key of a top-level section
  local edited
  edited="$(awk -v section="$1:" -v key="$2" -v value="$3" '
    /^[^ #]/ { inside = ($1 == section) }
    inside && !done && $1 == key ":" { sub(/:[^#]*/, ": " value " "); done = 1 }
    { print }
    END { if (!done) exit 1 }' "$state/berth.yaml")" || die "$config has no $1.$2 line to set (the shipped config has one)"
  printf '%s\n' "$edited" >"$state/berth.yaml"
}
[[ -n "$admin_port" ]] && section_key admin port "$admin_port"
[[ -n "$on_shutdown" ]] && section_key sessions onShutdown "$on_shutdown"
[[ -n "$gateway_id" ]] && section_key sessions gatewayId "$gateway_id"
config_value() { # config_value SECTION KEY DEFAULT
  awk -v section="$1:" -v key="$2" -v fallback="$3" '
    /^[^ #]/ { inside = ($1 == section) }
    inside && $1 == key ":" { print $2; found = 1; exit }
    END { if (!found) print fallback }' "$state/berth.yaml"
}
port="${port:-$(config_value listen port 8080)}"
host="$(config_value listen host 127.0.0.1)"
[[ "$host" == 0.0.0.0 || "$host" == "::" || "$host" == "[::]" ]] && host=127.0.0.1
drain="$(config_value sessions drainDeadline 30s)"
case "$drain" in
  *ms) drain_s=$(( ${drain%ms} / 1000 + 1 )) ;; *s) drain_s=${drain%s} ;; *m) drain_s=$(( ${drain%m} * 60 )) ;;
  *h) drain_s=$(( ${drain%h} * 3600 )) ;; *) die "cannot read sessions.drainDeadline '$drain' in $config" ;;
esac
# The drain, then up to 30 s for the sessions to be kept or ended (the gateway's own bound), then 5.
stop_timeout=$(( drain_s + 35 ))

# The image's user (10001) writes the key files; a non-root caller runs it as itself instead, since
# it cannot give its folder to another user.
if [[ "$(id -u)" == 0 ]]; then
  chown -R 10001:10001 "$state"
  user=()
else
  user=(--user "$(id -u):$(id -g)")
fi

socket=/var/run/docker.sock
[[ "${DOCKER_HOST:-unix://$socket}" == unix://* ]] || die "DOCKER_HOST=$DOCKER_HOST: the gateway's container needs the engine's unix socket"
socket="${DOCKER_HOST:-unix://$socket}"
socket="${engine_socket:-${socket#unix://}}"
[[ -S "$socket" ]] || die "no engine socket at $socket"

started=$SECONDS
id="$(docker run --detach --name "$name" \
  --network host \
  ${user[@]+"${user[@]}"} --group-add "$(stat -c %g "$socket")" \
  --read-only --tmpfs /tmp:rw,nosuid,nodev,size=64m \
  --cap-drop ALL --security-opt no-new-privileges \
  --stop-timeout "$stop_timeout" \
  --label berth.role=gateway \
  --volume "$socket:/var/run/docker.sock" \
  --volume "$state:/etc/berth" \
  --volume "$state/berth.yaml:/etc/berth/berth.yaml:ro" \
  "$image" --config /etc/berth/berth.yaml --port "$port")"

# --- ready? ------------------------------------------------------------------------------
# listen.tls set: https (the health check takes any certificate: it is this machine's own gateway).
scheme=http
[[ -n "$(config_value listen tls "")" ]] && scheme=https
url="$scheme://$host:$port"
deadline=$(( SECONDS + 120 ))
until curl -kfsS -o /dev/null --max-time 2 "$url/health/ready" 2>/dev/null; do
  running="$(docker container inspect -f '{{.State.Running}}' "$id")"
  if [[ "$running" != true || $SECONDS -ge $deadline ]]; then
    docker logs --tail 40 "$id" 2>&1 | sed "s/^/$me: [gateway] /" >&2
    # A stop, not a kill: the sessions it started go as sessions.onShutdown says.
    docker stop --time 40 "$id" >/dev/null 2>&1 || true
    docker rm --force "$id" >/dev/null 2>&1 || true
    [[ "$running" != true ]] && die "the gateway's container exited (its log above); removed it"
    die "$url/health/ready did not answer within 120 s (the gateway's log above); removed the container"
  fi
  sleep 0.2
done
say "gateway ready at $url/, $(( SECONDS - started )) s after its start (container $name: docker logs $name; stop: $0 --stop --name $name)"

# --- keep session containers off the host, as the gateway does when it runs as root --------
# The gateway adds these rules itself (launcher/HostIsolation) when it may change the firewall; in
# its container it may not (no iptables, no capability), and logs a warning with these commands.
if [[ "$(id -u)" == 0 ]] && command -v iptables >/dev/null 2>&1; then
  iptables -w -N BERTH-ISOLATION 2>/dev/null || true
  iptables -w -C INPUT -j BERTH-ISOLATION 2>/dev/null || iptables -w -I INPUT 1 -j BERTH-ISOLATION
  while read -r network_id bridge_name; do
    bridge="${bridge_name:-br-${network_id:0:12}}"
    iptables -w -C BERTH-ISOLATION -i "$bridge" -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN 2>/dev/null \
      || iptables -w -I BERTH-ISOLATION 1 -i "$bridge" -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
    iptables -w -C BERTH-ISOLATION -i "$bridge" -j DROP 2>/dev/null || iptables -w -A BERTH-ISOLATION -i "$bridge" -j DROP
  done < <(docker network ls -q --filter label=berth.managed=true --filter driver=bridge |
    xargs -r docker network inspect -f '{{.Id}} {{with index .Options "com.docker.network.bridge.name"}}{{.}}{{end}}')
  say "the host drops new connections from the sessions' bridges (iptables chain BERTH-ISOLATION)"
else
  say "WARNING: not root (or no iptables): session containers can reach what listens on the host's address on their bridge; the gateway's log says how to close that (docker logs $name)"
fi
echo "$id"
