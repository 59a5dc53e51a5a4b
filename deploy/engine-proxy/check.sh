#!/usr/bin/env bash
# Runs the gateway's container through the engine API proxy of deploy/engine-proxy/nginx.conf:
#   deploy/engine-proxy/check.sh [--port N] [--admin-port N]
#   1. starts nginx on that config (its paths moved to a temporary folder), its socket given to the
#      docker group,
#   2. tries calls the gateway never makes through it, which must get 403: an exec, an image pull,
#      a volume, the swarm's secrets, a container's archive, a GET of /containers/create,
#   3. scripts/run-in-container.sh --engine-socket <the proxy's socket>: the gateway's container on a
#      copy of the config (its own ports and gateway id, sessions.onShutdown: end) comes up, serves
#      the page and a session (scripts/probe-first-frame.py), and stops leaving nothing; every call
#      it made through the proxy was let through (none answered 403), and they are listed.
# Needs root (nginx's worker joins the docker group), nginx with njs (libnginx-mod-http-js), an engine and the images
# (scripts/build.sh --gateway-image).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

me=engine-proxy/check.sh
default_port=18680
source deploy/check-lib.sh "$@"
[[ "$(id -u)" == 0 ]] || fail "run it as root"
command -v nginx >/dev/null 2>&1 || fail "no nginx (apt-get install -y nginx)"
docker info >/dev/null 2>&1 || fail "no Docker engine answers"

work="$(mktemp -d /tmp/berth-engine-proxy.XXXXXX)"
chmod 755 "$work"
suffix="$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
gateway_id="proxy-check-$suffix" name="berth-gateway-proxy-$suffix"
nginx_pid=""
cleanup() {
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker ps -aq --filter label=berth.managed=true --filter "name=\\.$gateway_id\$" | xargs -r docker rm -f >/dev/null
  [[ -n "$nginx_pid" ]] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# --- 1 -----------------------------------------------------------------------------------
sed "s|/run/berth-engine-proxy|$work|g" deploy/engine-proxy/nginx.conf >"$work/nginx.conf"
cp deploy/engine-proxy/berth-policy.js "$work/"
nginx -t -c "$work/nginx.conf" -p "$work" 2>&1 | sed "s|^|$me: |"
nginx -c "$work/nginx.conf" -p "$work" -g 'daemon off;' &
nginx_pid=$!
sock="$work/engine.sock"
for _ in $(seq 1 50); do [[ -S "$sock" ]] && break; sleep 0.1; done
[[ -S "$sock" ]] || fail "nginx made no socket at $sock (see $work/error.log)"
chgrp docker "$sock" && chmod 660 "$sock"
say "proxy up at $sock"

# --- 2 -----------------------------------------------------------------------------------
call() { curl -s -o /dev/null -w '%{http_code}' --unix-socket "$sock" -X "$1" "http://engine$2"; }
[[ "$(call GET /_ping)" == 200 ]] || fail "GET /_ping does not pass"
for denied in "POST /containers/anything/exec" "POST /exec/anything/start" "POST /images/create?fromImage=x" \
  "POST /build" "POST /volumes/create" "GET /secrets" "GET /containers/anything/archive?path=/" \
  "PUT /containers/anything/archive?path=/" "GET /containers/create" "POST /containers/anything/kill" \
  "POST /v1.41/plugins/pull" "POST /swarm/init"; do
  status="$(call $denied)"
  [[ "$status" == 403 ]] || fail "$denied answered $status, not 403"
done
privileged='{"Image":"berth/handler:0.1.0","User":"65534","Labels":{"berth.managed":"true"},"HostConfig":{"Privileged":true}}'
status="$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$sock" -H 'Content-Type: application/json' \
  -X POST -d "$privileged" http://engine/containers/create)"
[[ "$status" == 403 ]] || fail "a privileged container create answered $status, not 403"
say "denied (403): exec, image pull and build, volumes, secrets, archives, kill, plugins, swarm init, GET /containers/create, a privileged container"
before="$(wc -l <"$work/access.log")"

# --- 3 -----------------------------------------------------------------------------------
sed -e "s|^  port: 8081|  port: $admin_port|" -e "s|^  onShutdown: keep|  onShutdown: end|" \
    -e "s|^  gatewayId: default|  gatewayId: $gateway_id|" config/berth.yaml >"$work/berth.yaml"
[[ "$(grep -c "port: $admin_port\|onShutdown: end\|gatewayId: $gateway_id" "$work/berth.yaml")" == 3 ]] \
  || fail "could not set up the config copy"
scripts/run-in-container.sh --no-build --engine-socket "$sock" --config "$work/berth.yaml" --port "$port" \
  --state-dir "$work/state" --name "$name" >/dev/null
curl -fsS "http://127.0.0.1:$port/" | grep -q 'berth.js' || fail "no page at /"
python3 scripts/probe-first-frame.py --sessions 1 --warm-up 0 --gap 0 --url "ws://127.0.0.1:$port/ws" | sed "s|^|$me: [session] |"
scripts/run-in-container.sh --stop --name "$name" 2>&1 | tail -n 1 | sed "s|^|$me: |"
left="$(docker ps -aq --filter label=berth.managed=true --filter "name=\\.$gateway_id\$")"
[[ -z "$left" ]] || fail "session containers left: $left"

calls="$(tail -n +"$((before + 1))" "$work/access.log" | awk '{print $2, $3, $4}' |
  sed -E 's/[0-9a-f]{64}/{id}/g; s/\?.*( [0-9]+)$/\1/; s|/images/[^ ]*/json|/images/{name}/json|; s|/networks/[^ ]+ |/networks/{id} |' | sort | uniq -c)"
echo "$calls" | sed "s|^|$me:   |"
! grep -q ' 403$' <<<"$calls" || fail "the proxy refused a call the gateway made (above)"
say "the gateway served a session through the proxy, every call it made let through; nothing left"
say "OK"
