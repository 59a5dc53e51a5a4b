#!/usr/bin/env bash
# An example deployment on this machine: two gateways on one Docker engine behind nginx, which
# terminates TLS as a real front door does.
#   scripts/run-two-gateways.sh [--swarm] [--check]
# Clients use https://127.0.0.1:8443/ (nginx, Debian's package, balancing websockets over the two,
# with a self-signed certificate for 127.0.0.1 made into target/two-gateways/: a browser warns once,
# curl needs -k); plain http://127.0.0.1:8090/ is served too. nginx passes the client's address,
# scheme and host on (X-Forwarded-For, -Proto, -Host), and both gateways trust it
# (listen.trustedProxies: ["127.0.0.1/32"]), so per-client limits count real clients, not nginx, and
# the https page's websocket is same-origin with a Secure session cookie. The gateways listen on
# 8091 and 8092 (admin 8181 and 8182), each with its own sessions.gatewayId and the same token
# secret, so a client reaches its own session through either of them (docs/scale-out.md). Configs,
# logs, the certificate and nginx's files go to target/two-gateways/. Runs until Ctrl-C, which stops
# nginx and both gateways (sessions.onShutdown: keep leaves the session containers for the next
# start). --check starts everything, opens a page and a websocket session through nginx over https
# (wss), checks the session cookie is Secure, and stops again, ending every session and removing its
# container. --swarm uses the swarm launcher (each session a one-task service); when the engine is
# in no swarm, it makes this machine a one-node swarm (advertised on 127.0.0.1) and leaves it again
# when it stops.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

check=false
launcher=docker
for arg in "$@"; do
  case "$arg" in
    --check) check=true ;;
    --swarm) launcher=swarm ;;
    *) sed -n '2,21s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
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
  # must share one engine, one token secret for both, and nginx on loopback as their trusted proxy.
  sed -e "s/^  port: 8080.*/  port: $2/" -e "s/^  port: 8081.*/  port: $3/" \
      -e 's|^  trustedProxies: .*|  trustedProxies: ["127.0.0.1/32"]|' \
      -e "s/^  gatewayId: default.*/  gatewayId: $1/" -e "s/^launcher: auto/launcher: $launcher/" \
      -e "s|tokenSecretFile: berth-token.key|tokenSecretFile: $dir/berth-token.key|" \
      -e "s|tokenFile: berth-admin.key|tokenFile: $dir/$1-admin.key|" \
      -e "s/^  onShutdown: keep/  onShutdown: $on_shutdown/" \
      config/berth.yaml >"$config"
  grep -q "gatewayId: $1" "$config" && [ "$(grep -c '^  trustedProxies: \["127.0.0.1/32"\]$' "$config")" = 1 ] \
    || { echo "$me: could not write $config" >&2; exit 1; }
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
# A self-signed certificate for 127.0.0.1, made once and kept.
if [ ! -s "$dir/tls-cert.pem" ] || [ ! -s "$dir/tls-key.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$dir/tls-key.pem" -out "$dir/tls-cert.pem" >/dev/null 2>&1 \
    || { echo "$me: openssl could not make a certificate (apt-get install -y openssl)" >&2; exit 1; }
fi
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
    listen 127.0.0.1:8443 ssl;
    listen 127.0.0.1:8090;
    ssl_certificate $dir/tls-cert.pem;
    ssl_certificate_key $dir/tls-key.pem;
    location / {
      proxy_pass http://berth;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header Host \$host;
      # Who the client is and what it asked for: the gateways trust these from 127.0.0.1 only.
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$host;
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
for _ in $(seq 1 50); do curl -kfsS -o /dev/null https://127.0.0.1:8443/health 2>/dev/null && break; sleep 0.1; done
curl -kfsS -o /dev/null https://127.0.0.1:8443/health || { echo "$me: nginx does not answer on :8443; see $dir/nginx/error.log" >&2; exit 1; }
echo "$me: open https://127.0.0.1:8443/ (nginx, TLS, over gw-one :8091 and gw-two :8092; plain http on :8090); Ctrl-C stops all" >&2

if $check; then
  curl -kfsS https://127.0.0.1:8443/ | grep -q '<html' || { echo "$me: no page through nginx over https" >&2; exit 1; }
  # The page's own websocket over wss, as its browser opens it (its origin, the https one).
  status=$(curl -k --http1.1 -s -o /dev/null -D "$dir/check-headers.txt" -w '%{http_code}' --max-time 30 \
    -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
    -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H 'Origin: https://127.0.0.1:8443' \
    https://127.0.0.1:8443/ws || true)
  [ "$status" = 101 ] || { echo "$me: a websocket through nginx over wss got $status, not 101" >&2; exit 1; }
  grep -qi '^set-cookie: berth_session=.*; secure' "$dir/check-headers.txt" \
    || { echo "$me: the session cookie over https is not Secure: $(grep -i '^set-cookie' "$dir/check-headers.txt")" >&2; exit 1; }
  echo "$me: check passed ($launcher launcher): page and websocket session through nginx over https, cookie Secure" >&2
  exit 0
fi
wait
