#!/usr/bin/env bash
# An example deployment on this machine: two gateways on one Docker engine behind nginx.
#   scripts/run-two-gateways.sh [--swarm] [--check]
# Clients use http://127.0.0.1:8090/ (nginx, Debian's package, balancing websockets over the two);
# the gateways listen on 8091 and 8092 (admin 8181 and 8182), each with its own sessions.gatewayId
# and the same token secret, so a client reaches its own session through either of them
# (docs/scale-out.md). Configs, logs and nginx's files go to target/two-gateways/. Runs until
# Ctrl-C, which stops nginx and both gateways (sessions.onShutdown: keep leaves the session
# containers for the next start). --check starts everything, opens a page and a session through
# nginx, and stops again, ending every session and removing its container. --swarm uses the swarm
# launcher (each session a one-task service); when the engine is in no swarm, it makes this machine
# a one-node swarm (advertised on 127.0.0.1) and leaves it again when it stops.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

check=false
launcher=docker
for arg in "$@"; do
  case "$arg" in
    --check) check=true ;;
    --swarm) launcher=swarm ;;
    *) sed -n '2,13s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
  esac
done

me=run-two-gateways.sh
# keep: stopping leaves the session containers for the next start; a check leaves nothing behind.
on_shutdown=keep
$check && on_shutdown=end
dir=$PWD/target/two-gateways
mkdir -p "$dir"
docker info >/dev/null 2>&1 || { echo "$me: no Docker engine answers; two gateways share one" >&2; exit 1; }
command -v nginx >/dev/null 2>&1 || { echo "$me: nginx is missing: apt-get install -y nginx" >&2; exit 1; }
scripts/build.sh

swarm_started=false
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if $swarm_started; then
    docker swarm leave --force >/dev/null 2>&1 || true
    # The swarm networks go a moment after the swarm; the config-only ones they came from, after them.
    for _ in $(seq 1 50); do
      docker network rm berth-swarm-config berth-swarm-egress-config docker_gwbridge >/dev/null 2>&1 || true
      docker network ls --format '{{.Name}}' | grep -qx 'berth-swarm-config\|docker_gwbridge' || break
      sleep 0.2
    done
  fi
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$launcher" = swarm ] && [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
  swarm_started=true
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
  echo "$me: made this machine a one-node swarm; it leaves it again when it stops" >&2
fi

start_gateway() { # $1 id, $2 port, $3 admin port
  local config="$dir/$1.yaml"
  # The default config, with what differs per gateway; the docker (or swarm) launcher, since both
  # must share one engine, and one token secret for both.
  sed -e "s/^  port: 8080.*/  port: $2/" -e "s/^  port: 8081.*/  port: $3/" \
      -e "s/^  gatewayId: default.*/  gatewayId: $1/" -e "s/^launcher: auto/launcher: $launcher/" \
      -e "s|tokenSecretFile: berth-token.key|tokenSecretFile: $dir/berth-token.key|" \
      -e "s|tokenFile: berth-admin.key|tokenFile: $dir/$1-admin.key|" \
      -e "s/^  onShutdown: keep/  onShutdown: $on_shutdown/" \
      config/berth.yaml >"$config"
  grep -q "gatewayId: $1" "$config" || { echo "$me: could not write $config" >&2; exit 1; }
  java -jar gateway/target/berth-gateway.jar --config "$config" >"$dir/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$2/health/ready" 2>/dev/null && { echo "$me: gateway $1 ready on :$2 (log $dir/$1.log)" >&2; return 0; }
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "$me: gateway $1 exited; see $dir/$1.log" >&2; tail -n 20 "$dir/$1.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "$me: gateway $1 not ready within 30 s; see $dir/$1.log" >&2
  exit 1
}

start_gateway gw-one 8091 8181
start_gateway gw-two 8092 8182

mkdir -p "$dir/nginx"
cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/nginx/body;
  proxy_temp_path $dir/nginx/proxy;
  fastcgi_temp_path $dir/nginx/fastcgi;
  uwsgi_temp_path $dir/nginx/uwsgi;
  scgi_temp_path $dir/nginx/scgi;
  map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
  upstream berth {
    server 127.0.0.1:8091 max_fails=1 fail_timeout=5s;
    server 127.0.0.1:8092 max_fails=1 fail_timeout=5s;
  }
  server {
    listen 127.0.0.1:8090;
    location / {
      proxy_pass http://berth;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header Host \$host;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      # A draining gateway answers 503: the next one takes the client.
      proxy_next_upstream error timeout http_503;
    }
  }
}
EOF
nginx -c "$dir/nginx.conf" -p "$dir/nginx" &
pids+=($!)
for _ in $(seq 1 50); do curl -fsS -o /dev/null http://127.0.0.1:8090/health 2>/dev/null && break; sleep 0.1; done
curl -fsS -o /dev/null http://127.0.0.1:8090/health || { echo "$me: nginx does not answer on :8090; see $dir/nginx/error.log" >&2; exit 1; }
echo "$me: open http://127.0.0.1:8090/ (nginx over gw-one :8091 and gw-two :8092); Ctrl-C stops all" >&2

if $check; then
  curl -fsS http://127.0.0.1:8090/ | grep -q '<html' || { echo "$me: no page through nginx" >&2; exit 1; }
  status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
    -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' http://127.0.0.1:8090/ws || true)
  [ "$status" = 101 ] || { echo "$me: a websocket through nginx got $status, not 101" >&2; exit 1; }
  echo "$me: check passed ($launcher launcher): page and websocket session through nginx" >&2
  exit 0
fi
wait
