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

me=loadtest.sh
config=config/loadtest.yaml
route=loadtest   # routes[0].name in config/loadtest.yaml: containers carry berth.route=loadtest
out=target/loadtest
source scripts/loadtest-lib.sh
prepare_run
trap stop_gateway EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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
  report=$(report_since "$started")
  [ -z "$report" ] || summarize_report "$report" >&2
  echo "loadtest.sh: $sim: ${report:+report $report; }gateway log $gateway_log; metrics $out/metrics-$sim.txt" >&2
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
