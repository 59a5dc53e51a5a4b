#!/usr/bin/env bash
# Runs deploy/compose/compose.yaml and checks that it does what scripts/run-in-container.sh does:
#   deploy/compose/check.sh [--port N] [--admin-port N]
#   1. scripts/run-in-container.sh --no-build starts the gateway's container on a copy of
#      config/berth.yaml (its own ports and gateway id, sessions.onShutdown: end); its settings are
#      noted; --stop,
#   2. docker-compose up (or docker compose) on the same config copy: waits for /health/ready, the
#      page, a session through it (scripts/probe-first-frame.py: the 101 and the session's first
#      frame); the compose container's settings must be those of 1 (network, user, groups, read-only
#      root, tmpfs, capabilities, security options, mounts, stop signal and timeout, command),
#   3. docker-compose down: no gateway container left, and no session container (onShutdown: end).
# Needs an engine, the images (scripts/build.sh --gateway-image) and docker-compose (Debian:
# apt-get install -y docker-compose) or the compose plugin; run it as root or as a user who can
# give a folder to uid 10001 (the image's user, which writes the key files).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

me=compose/check.sh
default_port=18580
source deploy/check-lib.sh "$@"

if docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then compose=(docker-compose)
else fail "no docker-compose and no compose plugin (Debian: apt-get install -y docker-compose)"; fi
say "using $("${compose[@]}" version --short 2>/dev/null || "${compose[@]}" --version)"
docker info >/dev/null 2>&1 || fail "no Docker engine answers"

work="$(mktemp -d /tmp/berth-compose-check.XXXXXX)"
suffix="$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
gateway_id="compose-check-$suffix" name="berth-gateway-check-$suffix" project="berth-check-$suffix"
export BERTH_DOCKER_GID BERTH_CONFIG="$work/berth.yaml" BERTH_STATE_DIR="$work/compose" BERTH_PORT="$port"
BERTH_DOCKER_GID="$(stat -c %g /var/run/docker.sock)"
compose_file=deploy/compose/compose.yaml
cleanup() {
  "${compose[@]}" -f "$compose_file" -p "$project" down --timeout 70 >/dev/null 2>&1 || true
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker ps -aq --filter label=berth.managed=true --filter "name=\\.$gateway_id\$" | xargs -r docker rm -f >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

sed -e "s|^  port: 8081|  port: $admin_port|" -e "s|^  onShutdown: keep|  onShutdown: end|" \
    -e "s|^  gatewayId: default|  gatewayId: $gateway_id|" config/berth.yaml >"$BERTH_CONFIG"
[[ "$(grep -c "port: $admin_port\|onShutdown: end\|gatewayId: $gateway_id" "$BERTH_CONFIG")" == 3 ]] \
  || fail "could not set up the config copy"
chmod 644 "$BERTH_CONFIG"
mkdir -p "$BERTH_STATE_DIR"
chown 10001:10001 "$BERTH_STATE_DIR" || fail "cannot give $BERTH_STATE_DIR to uid 10001 (run as root)"

# What a container runs with, one setting a line; the user as it takes effect (the image's when unset).
settings() {
  local id="$1" image_user
  image_user="$(docker image inspect -f '{{.Config.User}}' "$(docker inspect -f '{{.Image}}' "$id")")"
  docker inspect -f '
network {{.HostConfig.NetworkMode}}
user {{if .Config.User}}{{.Config.User}}{{else}}'"$image_user"'{{end}}
groups {{.HostConfig.GroupAdd}}
read-only root {{.HostConfig.ReadonlyRootfs}}
tmpfs {{json .HostConfig.Tmpfs}}
capabilities dropped {{.HostConfig.CapDrop}} added {{.HostConfig.CapAdd}}
security options {{.HostConfig.SecurityOpt}}
privileged {{.HostConfig.Privileged}}
stop signal {{.Config.StopSignal}} timeout {{.Config.StopTimeout}}
image {{.Config.Image}}
command {{json .Config.Cmd}}
{{range .Mounts}}mount {{.Destination}} rw={{.RW}}
{{end}}' "$id" | sed '/^$/d' | sort
}

# --- 1 -----------------------------------------------------------------------------------
scripts/run-in-container.sh --no-build --config "$BERTH_CONFIG" --port "$port" --state-dir "$work/script" --name "$name" >/dev/null
settings "$name" >"$work/script.settings"
scripts/run-in-container.sh --stop --name "$name" 2>&1 | tail -n 1 | sed "s|^|$me: |"

# --- 2 -----------------------------------------------------------------------------------
started=$SECONDS
"${compose[@]}" -f "$compose_file" -p "$project" up -d 2>&1 | sed "s|^|$me: [compose] |"
id="$("${compose[@]}" -f "$compose_file" -p "$project" ps -q gateway)"
[[ -n "$id" ]] || fail "compose started no gateway container"
until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/health/ready" 2>/dev/null; do
  [[ "$(docker inspect -f '{{.State.Running}}' "$id")" == true ]] || { docker logs --tail 30 "$id" >&2; fail "the compose gateway exited"; }
  (( SECONDS - started < 120 )) || { docker logs --tail 30 "$id" >&2; fail "not ready within 120 s"; }
  sleep 0.2
done
say "compose gateway ready after $(( SECONDS - started )) s on http://127.0.0.1:$port/"
curl -fsS "http://127.0.0.1:$port/" | grep -q 'berth.js' || fail "no page at /"
python3 scripts/probe-first-frame.py --sessions 1 --warm-up 0 --gap 0 --url "ws://127.0.0.1:$port/ws" | sed "s|^|$me: [session] |"
settings "$id" >"$work/compose.settings"
if ! diff -u --label run-in-container.sh --label compose.yaml "$work/script.settings" "$work/compose.settings"; then
  fail "the compose container differs from run-in-container.sh's (above)"
fi
say "the same settings as run-in-container.sh's container:"
sed "s|^|$me:   |" "$work/compose.settings"
say "(and restart: $(docker inspect -f '{{.HostConfig.RestartPolicy.Name}}' "$id"), where the script's container has none)"

# --- 3 -----------------------------------------------------------------------------------
stopping=$SECONDS
"${compose[@]}" -f "$compose_file" -p "$project" down 2>&1 | sed "s|^|$me: [compose] |"
say "down after $(( SECONDS - stopping )) s"
[[ -z "$(docker ps -aq --filter "id=$id")" ]] || fail "the compose gateway's container is left"
left="$(docker ps -aq --filter label=berth.managed=true --filter "name=\\.$gateway_id\$")"
[[ -z "$left" ]] || fail "session containers left: $left"
say "no gateway container and no session container left (sessions.onShutdown: end)"
say "OK"
