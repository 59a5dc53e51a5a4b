#!/usr/bin/env bash
# The zero-downtime proof under Gatling load (loadtest/ UpgradeSimulation):
#   scripts/loadtest-upgrade.sh [--users N] [-Dname=value ...]
# Starts a gateway on a copy of config/loadtest.yaml that keeps sessions at shutdown, runs the
# simulation, and meanwhile plays the operator: at switchAt it upgrades the route from 0.1.0 to
# 0.2.0 (image berth/handler:0.2.0, tagged from 0.1.0 for the run) by rewriting the config file,
# which the gateway reloads; at restartAt it restarts the gateway (SIGTERM: drain, clients told
# 1012, containers kept; then a new gateway process on the same port, which re-adopts them). The
# simulation checks that no session failed, that sessions started after the switch run 0.2.0, and
# that every earlier session came back to its own container with its state. Bounded: about 3 min.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

gatling_properties=()
users=100
ramp=50
while [ $# -gt 0 ]; do
  case "$1" in
    --users) users=${2:?--users needs a number}; shift 2 ;;
    -Dramp=*) ramp=${1#-Dramp=}; gatling_properties+=("$1"); shift ;;
    -D*) gatling_properties+=("$1"); shift ;;
    -h|--help) sed -n '2,10s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
    *) echo "loadtest-upgrade.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

me=loadtest-upgrade.sh
route=loadtest
out=target/loadtest
config=$out/upgrade.yaml
port=0
source scripts/loadtest-lib.sh
prepare_run

from=0.1.0
to=0.2.0
docker tag "berth/handler:$from" "berth/handler:$to"
# keep: a restart hands sessions to the next gateway. Its own token key, so both gateways accept
# the same cookies.
sed -e 's/^  onShutdown: end$/  onShutdown: keep/' \
    -e 's|tokenSecretFile: ../target/loadtest/berth-token.key|tokenSecretFile: berth-token.key|' \
    config/loadtest.yaml >"$config"
grep -q '^  onShutdown: keep$' "$config" || { echo "$me: could not set onShutdown: keep in $config" >&2; exit 1; }

left_behind() { # session containers: every session ended by its user's close, so none may remain
  docker ps -a --filter label=berth.managed=true --filter "label=berth.route=$route" --format '{{.Names}}' \
    | grep -v -E "^berth-$route-pool-[0-9a-f]+$" || true
}
cleanup() {
  stop_gateway
  # With onShutdown: keep the warm pool's containers stay for a next gateway: none comes.
  local all
  all=$(leftover_containers)
  [ -z "$all" ] || docker rm -f $all >/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_gateway upgrade-1
now_ms() { date +%s%3N; }
start_at=$(( $(now_ms) + 25000 )) # Gatling compiles and starts meanwhile
switch_at=$(( start_at + ramp * 1000 + 10000 ))
restart_at=$(( switch_at + 30000 ))
sleep_until() { local ms=$(( $1 - $(now_ms) )); [ "$ms" -le 0 ] || sleep "$(( ms / 1000 )).$(printf '%03d' $(( ms % 1000 )))"; }

started=$(date +%s)
mvn -B -q -pl loadtest gatling:test -Dgatling.simulationClass=dev.berth.loadtest.UpgradeSimulation \
  -DbaseUrl="$base_url" -Dusers="$users" -DfromVersion="$from" -DtoVersion="$to" \
  -DstartAt="$start_at" -DswitchAt="$switch_at" -DrestartAt="$restart_at" "${gatling_properties[@]}" \
  >"$out/gatling-upgrade.log" 2>&1 &
gatling_pid=$!

sleep_until "$switch_at"
echo "$me: upgrading route $route to $to (config file rewritten; the gateway reloads it)" >&2
sed -i -e "s/^    version: $from$/    version: $to/" -e "s|image: berth/handler:$from$|image: berth/handler:$to|" "$config"
for _ in $(seq 1 50); do grep -q 'config reloaded (the file changed)' "$gateway_log" && break; sleep 0.1; done
grep 'config reloaded\|config reload' "$gateway_log" >&2 || { echo "$me: the gateway did not reload $config" >&2; exit 1; }

sleep_until "$restart_at"
sessions_before=$(curl -fsS "$base_url/health")
echo "$me: restarting the gateway (SIGTERM, then a new process on port $gateway_port); before: $sessions_before" >&2
stop_gateway
port=$gateway_port
start_gateway upgrade-2
grep 'adopted' "$gateway_log" >&2 || true

status=0
wait "$gatling_pid" || status=$?
cat "$out/gatling-upgrade.log"
curl -fsS "$base_url/metrics" >"$out/metrics-upgrade.txt" || true
stop_gateway
left=$(left_behind)
if [ -n "$left" ]; then
  echo "$me: session containers left behind after every session ended:" >&2
  echo "$left" | sed 's/^/  /' >&2
  status=1
fi
report=$(report_since "$started")
[ -z "$report" ] || summarize_report "$report" >&2
echo "$me: ${report:+report $report; }gateway logs $out/gateway-upgrade-{1,2}.log; metrics $out/metrics-upgrade.txt" >&2
if [ "$status" -ne 0 ]; then
  echo "$me: FAILED (exit $status): see the assertions above and $out/gatling-upgrade.log" >&2
  exit 1
fi
echo "$me: passed" >&2
