#!/usr/bin/env bash
# Runs the Gatling load tests (loadtest/) against a gateway of its own:
#   scripts/loadtest.sh [--simulation ramp|echo|reconnect|all] [--users N] [--port P] [-Dname=value ...]
# For each simulation: builds what is stale, starts the gateway on config/loadtest.yaml (a free
# port unless --port; log in target/loadtest/gateway-<sim>.log), waits for GET /health, runs the
# simulation, saves the gateway's /metrics, stops the gateway (SIGTERM; onShutdown: end removes
# every container) and checks that no container of the loadtest route is left. -D options go to
# the simulation (loadtest/README.md lists them). Exits non-zero when an assertion failed, the
# gateway did not come up, or a container was left behind.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

simulation=all
port=0
gatling_properties=()
usage() { sed -n '2,9s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --simulation) simulation=${2:?--simulation needs ramp, echo, reconnect or all}; shift 2 ;;
    --users) gatling_properties+=("-Dusers=${2:?--users needs a number}"); shift 2 ;;
    --port) port=${2:?--port needs a number}; shift 2 ;;
    -D*) gatling_properties+=("$1"); shift ;;
    -h|--help) usage ;;
    *) echo "loadtest.sh: unknown argument '$1'" >&2; usage ;;
  esac
done

class_of() {
  case "$1" in
    ramp) echo dev.berth.loadtest.RampSessionsSimulation ;;
    echo) echo dev.berth.loadtest.EchoSimulation ;;
    reconnect) echo dev.berth.loadtest.ReconnectStormSimulation ;;
    *) echo "loadtest.sh: unknown simulation '$1' (ramp, echo, reconnect or all)" >&2; exit 2 ;;
  esac
}
if [ "$simulation" = all ]; then simulations=(ramp echo reconnect); else simulations=("$simulation"); fi
for sim in "${simulations[@]}"; do class_of "$sim" >/dev/null; done

config=config/loadtest.yaml
route=loadtest   # routes[0].name in config/loadtest.yaml: containers carry berth.route=loadtest
out=target/loadtest
mkdir -p "$out"

leftover_containers() {
  docker ps -a -q --filter label=berth.managed=true --filter "label=berth.route=$route"
}

docker info >/dev/null 2>&1 || { echo "loadtest.sh: no Docker engine answers; the load tests need one" >&2; exit 1; }
scripts/build.sh
if [ -n "$(leftover_containers)" ]; then
  # A gateway would adopt them as sessions of its own and skew the numbers.
  echo "loadtest.sh: containers of route $route exist from an earlier run; remove them first:" >&2
  echo "  docker rm -f \$(docker ps -a -q --filter label=berth.route=$route)" >&2
  exit 1
fi

gateway_pid=
stop_gateway() {
  [ -n "$gateway_pid" ] || return 0
  if kill -0 "$gateway_pid" 2>/dev/null; then
    echo "loadtest.sh: stopping the gateway (pid $gateway_pid, SIGTERM)" >&2
    kill -TERM "$gateway_pid" 2>/dev/null || true
    # The gateway gives its shutdown 30 s (ending sessions, removing containers); then it is stuck.
    for _ in $(seq 1 400); do kill -0 "$gateway_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$gateway_pid" 2>/dev/null; then
      echo "loadtest.sh: the gateway did not exit within 40 s; SIGKILL" >&2
      kill -KILL "$gateway_pid" 2>/dev/null || true
    fi
  fi
  wait "$gateway_pid" 2>/dev/null || true
  gateway_pid=
}
trap stop_gateway EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_gateway() { # $1: simulation name; sets gateway_pid and base_url
  local log="$out/gateway-$1.log" actual_port=
  java -jar gateway/target/berth-gateway.jar --config "$config" --port "$port" >"$log" 2>&1 &
  gateway_pid=$!
  for _ in $(seq 1 300); do # 30 s
    kill -0 "$gateway_pid" 2>/dev/null || { echo "loadtest.sh: the gateway exited; see $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
    actual_port=$(sed -n 's|.*Berth gateway listening on http://[^:]*:\([0-9]*\)/.*|\1|p' "$log" | head -n 1)
    if [ -n "$actual_port" ] && curl -fsS -o /dev/null "http://127.0.0.1:$actual_port/health"; then
      base_url="http://127.0.0.1:$actual_port"
      echo "loadtest.sh: gateway up at $base_url (log $log)" >&2
      return 0
    fi
    sleep 0.1
  done
  echo "loadtest.sh: the gateway did not answer GET /health within 30 s; see $log" >&2
  exit 1
}

summarize_report() { # $1: index.html; prints its statistics table, one row per request name
  # Gatling prints only global numbers on the console; the per-request ones are in the report's
  # table (cells col-1..col-14 in Gatling 3.15; if a later version changes that, read the report).
  awk '
    /class="ellipsed-name">/ { sub(/.*class="ellipsed-name">/, ""); sub(/<.*/, ""); name = $0; n = 0 }
    /<td class="value / && name != "" { v = $0; sub(/.*">/, "", v); sub(/<.*/, "", v); cell[++n] = v
      if (n == 13) { printf "  %-26s %7s %7s %5s %7s %7s %7s %7s\n", name, cell[1], cell[2], cell[3], cell[7], cell[9], cell[10], cell[11]; name = "" } }
    BEGIN { printf "  %-26s %7s %7s %5s %7s %7s %7s %7s\n", "request (ms)", "total", "OK", "KO", "p50", "p95", "p99", "max" }
  ' "$1"
}

failed=()
for sim in "${simulations[@]}"; do
  echo "==== $sim ====" >&2
  start_gateway "$sim"
  started=$(date +%s)
  status=0
  mvn -B -q -pl loadtest gatling:test -Dgatling.simulationClass="$(class_of "$sim")" \
    -DbaseUrl="$base_url" "${gatling_properties[@]}" 2>&1 | tee "$out/gatling-$sim.log" || status=$?
  # The gateway's own view of the run (refusals, launches, session ends), kept next to its log.
  curl -fsS "$base_url/metrics" >"$out/metrics-$sim.txt" || true
  grep -E '^berth_(refusals_total|launches_total|sessions_ended_total|pool_claims_total)\{' "$out/metrics-$sim.txt" \
    | grep -v ' 0\.0$' >&2 || true
  stop_gateway
  left=$(leftover_containers)
  if [ -n "$left" ]; then
    echo "loadtest.sh: the gateway left containers of route $route behind (removing them):" >&2
    docker ps -a --filter "label=berth.route=$route" --format '  {{.Names}} {{.Status}}' >&2
    docker rm -f $left >/dev/null
    status=1
  fi
  report=$(find loadtest/target/gatling -maxdepth 2 -name index.html -newermt "@$started" 2>/dev/null | sort | tail -n 1)
  [ -z "$report" ] || summarize_report "$report" >&2
  echo "loadtest.sh: $sim: ${report:+report $report; }gateway log $out/gateway-$sim.log; metrics $out/metrics-$sim.txt" >&2
  if [ "$status" -ne 0 ]; then
    echo "loadtest.sh: $sim FAILED (exit $status): see the assertions above and $out/gatling-$sim.log" >&2
    failed+=("$sim")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "loadtest.sh: failed: ${failed[*]}" >&2
  exit 1
fi
echo "loadtest.sh: passed: ${simulations[*]}" >&2
