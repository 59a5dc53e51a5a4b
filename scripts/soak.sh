#!/usr/bin/env bash
# A soak with faults: Gatling resume clients on container sessions while faults are injected.
#   scripts/soak.sh [--minutes N] [--fault-every S] [--faults LIST] [--cut-seconds S] [--tail S]
#                   [--port P] [--report FILE] [-Dname=value ...]
# Builds (scripts/build.sh), starts an engine socket proxy (socat, target/soak/engine.sock) and a
# gateway on a copy of config/loadtest.yaml that talks to the engine through it (route soak,
# onShutdown: keep, warm pool of 2, listing feed 1/s), then runs loadtest/ SoakSimulation for N
# minutes (default 30) while a sampler records the gateway every 10 s (fds, threads, RSS, heap
# after a forced GC once a minute, /health sessions, the route's containers) and faults come every
# S seconds (default 100) in turn: a session container killed (docker kill), the engine's socket
# cut for --cut-seconds (default 5) and restored, the gateway SIGKILLed and started again on the
# same port and config. --faults picks and orders them (default container,engine,gateway; none
# for a run without faults). After the last users leave it samples --tail seconds more (default
# 60: past the 30 s grace), stops the gateway (SIGTERM), removes every container of route soak,
# stops the proxy and writes the report (docs/benchmarks/soak.md and its SVG plots, or --report),
# with the raw CSVs and logs in target/soak/. -D options go to the simulation (loadtest/README.md).
# Exits non-zero when a resume client saw a lost or duplicated frame, a KO, or sessions leaked.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

minutes=30
fault_every=100
faults=container,engine,gateway
cut_seconds=5
tail_seconds=60
port=0
report=docs/benchmarks/soak.md
gatling_properties=()
command_line="scripts/soak.sh $*"
usage() { sed -n '2,19s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=${2:?--minutes needs a number}; shift 2 ;;
    --fault-every) fault_every=${2:?--fault-every needs seconds}; shift 2 ;;
    --faults) faults=${2:?--faults needs a list: container,engine,gateway or none}; shift 2 ;;
    --cut-seconds) cut_seconds=${2:?--cut-seconds needs seconds}; shift 2 ;;
    --tail) tail_seconds=${2:?--tail needs seconds}; shift 2 ;;
    --port) port=${2:?--port needs a number}; shift 2 ;;
    --report) report=${2:?--report needs a file}; shift 2 ;;
    -D*) gatling_properties+=("$1"); shift ;;
    -h|--help) usage ;;
    *) echo "soak.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ "$minutes" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "soak.sh: --minutes must be a number" >&2; exit 2; }
[[ "$fault_every" =~ ^[0-9]+$ && "$fault_every" -ge 10 ]] || { echo "soak.sh: --fault-every must be 10 s or more" >&2; exit 2; }
[[ "$cut_seconds" =~ ^[0-9]+$ && "$tail_seconds" =~ ^[0-9]+$ ]] || { echo "soak.sh: --cut-seconds and --tail take whole seconds" >&2; exit 2; }
fault_kinds=()
if [ "$faults" != none ]; then
  IFS=, read -r -a fault_kinds <<<"$faults"
  for kind in "${fault_kinds[@]}"; do
    case "$kind" in container|engine|gateway) ;; *) echo "soak.sh: unknown fault '$kind' (container, engine, gateway)" >&2; exit 2 ;; esac
  done
fi

me=soak.sh
route=soak
out=target/soak
config=$out/soak.yaml
proxy_socket=$PWD/$out/engine.sock
engine_socket=/var/run/docker.sock
now_ms() { date +%s%3N; }

leftover_containers() { docker ps -a -q --filter label=berth.managed=true --filter "label=berth.route=$route"; }
docker info >/dev/null 2>&1 || { echo "$me: no Docker engine answers at $engine_socket" >&2; exit 1; }
if [ -n "$(leftover_containers)" ]; then
  echo "$me: containers of route $route exist from an earlier run; remove them first:" >&2
  echo "  docker rm -f \$(docker ps -a -q --filter label=berth.route=$route)" >&2
  exit 1
fi
scripts/build.sh
rm -rf "$out"
mkdir -p "$out"
{ git rev-parse --short HEAD 2>/dev/null || echo '?'; } | tr -d '\n' >"$out/commit"
[ -z "$(git status --porcelain -- gateway handler-image loadtest scripts config 2>/dev/null)" ] || echo -n ' (with uncommitted changes)' >>"$out/commit"

# ---- the gateway's config: config/loadtest.yaml with what the soak needs changed
sed -e 's/^  onShutdown: end$/  onShutdown: keep/' \
    -e "s|^  host: unix:///var/run/docker.sock$|  host: unix://$proxy_socket|" \
    -e 's|tokenSecretFile: ../target/loadtest/berth-token.key|tokenSecretFile: berth-token.key|' \
    -e 's/^  - name: loadtest .*$/  - name: soak             # containers berth-soak-<key>, labelled berth.route=soak/' \
    -e 's/^      size: 4$/      size: 2/' \
    -e 's/BERTH_FEED_PER_SECOND: "0"/BERTH_FEED_PER_SECOND: "1"/' \
    config/loadtest.yaml >"$config"
for expected in '^  onShutdown: keep$' "^  host: unix://$proxy_socket\$" '^  tokenSecretFile: berth-token.key$' \
    '^  - name: soak ' '^      size: 2$' 'BERTH_FEED_PER_SECOND: "1"'; do
  grep -q -- "$expected" "$config" || { echo "$me: could not make $config from config/loadtest.yaml ($expected)" >&2; exit 1; }
done
{ echo "# Made by scripts/soak.sh from config/loadtest.yaml: route soak, the engine through the proxy"
  echo "# socket (cut by the fault injector), sessions kept at shutdown (a restarted gateway adopts them),"
  echo "# a warm pool of 2, the listing feed at 1/s (backend frames while clients are away)."
  cat "$config"; } >"$config.tmp" && mv "$config.tmp" "$config"

# ---- processes this script starts, and their cleanup
proxy_pid=
gateway_pid=
gateway_gen=0
gatling_pid=
sampler_pid=
cleaned=

start_proxy() {
  rm -f "$proxy_socket"
  # Its own process group (setsid), so a cut kills the listener and every connection it forked.
  setsid socat "UNIX-LISTEN:$proxy_socket,fork,mode=600" "UNIX-CONNECT:$engine_socket" 2>>"$out/proxy.log" &
  proxy_pid=$!
  for _ in $(seq 1 50); do [ -S "$proxy_socket" ] && return 0; sleep 0.1; done
  echo "$me: the engine proxy did not create $proxy_socket" >&2
  return 1
}
stop_proxy() {
  [ -n "$proxy_pid" ] || return 0
  kill -TERM -- "-$proxy_pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 -- "-$proxy_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$proxy_pid" 2>/dev/null || true
  wait "$proxy_pid" 2>/dev/null || true
  proxy_pid=
  rm -f "$proxy_socket"
}

# Starts gateway generation N+1 on $config and $port (the first one on a free port, the next ones
# on that same port). Returns non-zero when it does not answer GET /health within 60 s.
start_gateway() {
  gateway_gen=$((gateway_gen + 1))
  local log="$out/gateway-$gateway_gen.log" actual attempt
  for attempt in $(seq 1 20); do
    java -jar gateway/target/berth-gateway.jar --config "$config" --port "$port" >"$log" 2>&1 &
    gateway_pid=$!
    for _ in $(seq 1 600); do # 60 s
      if ! kill -0 "$gateway_pid" 2>/dev/null; then
        wait "$gateway_pid" 2>/dev/null || true
        if grep -q 'Address already in use' "$log" && [ "$attempt" -lt 20 ]; then sleep 0.5; continue 2; fi
        echo "$me: gateway $gateway_gen exited; see $log:" >&2; tail -n 20 "$log" >&2
        gateway_pid=
        return 1
      fi
      actual=$(sed -n 's|.*Berth gateway listening on http://[^:]*:\([0-9]*\)/.*|\1|p' "$log" | head -n 1)
      if [ -n "$actual" ] && curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$actual/health"; then
        port=$actual
        base_url="http://127.0.0.1:$port"
        echo "$gateway_gen $gateway_pid $port" >"$out/gateway.pid"
        echo "$me: gateway $gateway_gen up at $base_url (pid $gateway_pid, log $log)" >&2
        return 0
      fi
      sleep 0.1
    done
    break
  done
  echo "$me: gateway $gateway_gen did not answer GET /health within 60 s; see $log" >&2
  return 1
}
stop_gateway() {
  [ -n "$gateway_pid" ] || return 0
  if kill -0 "$gateway_pid" 2>/dev/null; then
    echo "$me: stopping gateway $gateway_gen (pid $gateway_pid, SIGTERM)" >&2
    kill -TERM "$gateway_pid" 2>/dev/null || true
    for _ in $(seq 1 400); do kill -0 "$gateway_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$gateway_pid" 2>/dev/null; then
      echo "$me: the gateway did not exit within 40 s; SIGKILL" >&2
      kill -KILL "$gateway_pid" 2>/dev/null || true
    fi
  fi
  wait "$gateway_pid" 2>/dev/null || true
  gateway_pid=
}

stop_gatling() {
  [ -n "$gatling_pid" ] || return 0
  if kill -0 -- "-$gatling_pid" 2>/dev/null; then
    echo "$me: stopping Gatling (process group $gatling_pid)" >&2
    kill -TERM -- "-$gatling_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 -- "-$gatling_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$gatling_pid" 2>/dev/null || true
  fi
  wait "$gatling_pid" 2>/dev/null || true
  gatling_pid=
}

stop_sampler() {
  [ -n "$sampler_pid" ] || return 0
  kill -TERM "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=
}

cleanup() {
  [ -z "$cleaned" ] || return 0
  cleaned=1
  stop_sampler
  stop_gatling
  stop_gateway
  local left
  left=$(leftover_containers)
  [ -z "$left" ] || docker rm -f $left >/dev/null 2>&1 || true
  stop_proxy
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the sampler: one row every 10 s, the heap after a forced GC every 6th row (once a minute)
sample_once() { # $1: whether to measure the heap
  local gen pid p fds= threads= rss= heap= committed= info health sessions= attached= detached= engine= names total pool conns=
  read -r gen pid p <"$out/gateway.pid" 2>/dev/null || { gen=; pid=; p=; }
  if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
    fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l || true)
    threads=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    if [ "${1:-}" = heap ]; then
      if timeout 20 jcmd "$pid" GC.run >/dev/null 2>&1; then
        info=$(timeout 20 jcmd "$pid" GC.heap_info 2>/dev/null || true)
        heap=$(sed -n 's/.*heap *total [0-9]*K, used \([0-9]*\)K.*/\1/p' <<<"$info" | head -n 1 || true)
        committed=$(sed -n 's/.*heap *total \([0-9]*\)K, used [0-9]*K.*/\1/p' <<<"$info" | head -n 1 || true)
      fi
    fi
    health=$(curl -fsS -m 2 "http://127.0.0.1:$p/health" 2>/dev/null || true)
    sessions=$(sed -n 's/.*"sessions":\([0-9]*\).*/\1/p' <<<"$health" || true)
    attached=$(sed -n 's/.*"attached":\([0-9]*\).*/\1/p' <<<"$health" || true)
    detached=$(sed -n 's/.*"detached":\([0-9]*\).*/\1/p' <<<"$health" || true)
    engine=$(sed -n 's/.*"engine":{"state":"\([a-z]*\)".*/\1/p' <<<"$health" || true)
    conns=$(curl -fsS -m 2 "http://127.0.0.1:$p/metrics" 2>/dev/null | sed -n 's/^berth_connections_open \([0-9.]*\).*/\1/p' | head -n 1 || true)
  fi
  names=$(docker ps --filter "label=berth.route=$route" --format '{{.Names}}' 2>/dev/null || true)
  total=$(grep -c . <<<"$names" || true)
  pool=$(grep -c -- '-pool-' <<<"$names" || true)
  echo "$(now_ms),$gen,$pid,$fds,$threads,$rss,$heap,$sessions,${attached:-0},${detached:-0},$engine,$total,$((total - pool)),$pool,${conns%.*},$(cut -d' ' -f1 /proc/loadavg),$committed" >>"$out/samples.csv"
}
sampler() { # runs until killed, at most max_samples rows
  local sleeper= n=0
  set +e # a sample that fails is an empty cell, not the end of the sampler
  trap '[ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null; exit 0' TERM
  while [ "$n" -lt "$max_samples" ]; do
    if [ $((n % 6)) -eq 0 ]; then sample_once heap; else sample_once; fi
    n=$((n + 1))
    sleep 10 & sleeper=$!
    wait "$sleeper" 2>/dev/null || true
    sleeper=
  done
}

fault() { # start_ms end_ms kind detail
  echo "$1,$2,$3,${4//,/;}" >>"$out/faults.csv"
  echo "$me: $(date -u +%H:%M:%S) fault $3: $4" >&2
}
kill_container() {
  local name start
  name=$(docker ps --filter "label=berth.route=$route" --format '{{.Names}}' | grep -v -- '-pool-' | shuf -n 1 || true)
  start=$(now_ms)
  if [ -z "$name" ]; then fault "$start" "$start" container_kill "skipped: no session container"; return 0; fi
  docker kill "$name" >/dev/null 2>&1 || true
  fault "$start" "$(now_ms)" container_kill "$name"
}
cut_engine() {
  local start
  start=$(now_ms)
  stop_proxy
  sleep "$cut_seconds"
  start_proxy
  fault "$start" "$(now_ms)" engine_cut "proxy and its connections killed and its socket removed; restored after ${cut_seconds} s"
}
kill_gateway() {
  local start old_gen=$gateway_gen old_pid=$gateway_pid detail
  curl -fsS -m 5 "$base_url/metrics" >"$out/metrics-$old_gen.txt" 2>/dev/null || true
  start=$(now_ms)
  kill -KILL "$gateway_pid" 2>/dev/null || true
  wait "$gateway_pid" 2>/dev/null || true
  gateway_pid=
  if start_gateway; then
    detail="gateway $old_gen (pid $old_pid) SIGKILLed; gateway $gateway_gen up on port $port: $(grep -o 'adopted [0-9]* running session(s)[^;]*' "$out/gateway-$gateway_gen.log" | head -n 1 || true)"
  else
    detail="gateway $old_gen (pid $old_pid) SIGKILLed; gateway $gateway_gen DID NOT START"
  fi
  fault "$start" "$(now_ms)" gateway_kill "${detail//,/;}"
}

# ---- run
start_proxy
start_gateway || exit 1
echo "epoch_ms,gen,pid,fds,threads,rss_kb,heap_after_gc_kb,sessions,attached,detached,engine,containers,session_containers,pool_containers,connections_open,loadavg,heap_committed_kb" >"$out/samples.csv"
echo "start_ms,end_ms,kind,detail" >"$out/faults.csv"
run_seconds=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')
max_exchanges=140
for p in "${gatling_properties[@]}"; do case "$p" in -DmaxExchanges=*) max_exchanges=${p#-DmaxExchanges=} ;; esac; done
# Gatling compiles and starts (about a minute), runs, then its last users finish (up to about
# twice maxExchanges seconds with faults): past that something hangs.
gatling_limit=$((run_seconds + 2 * max_exchanges + 600))
max_samples=$(( (gatling_limit + tail_seconds + 300) / 10 ))
# A baseline first: the idle gateway with its warm pool full, sampled for 20 s before any user.
for _ in $(seq 1 120); do
  idle=$(curl -fsS -m 2 "$base_url/metrics" 2>/dev/null | sed -n 's/^berth_pool_idle{route="soak".*} \([0-9]*\).*/\1/p' | head -n 1 || true)
  [ "${idle:-0}" -ge 2 ] && break
  sleep 0.5
done
sampler &
sampler_pid=$!
sleep 20

started=$(date +%s)
setsid mvn -B -q -pl loadtest gatling:test -Dgatling.simulationClass=dev.berth.loadtest.SoakSimulation \
  -DbaseUrl="$base_url" -Dminutes="$minutes" -DstatsFile="$PWD/$out/client.csv" -DeventsFile="$PWD/$out/client-events.csv" \
  "${gatling_properties[@]}" >"$out/gatling.log" 2>&1 &
gatling_pid=$!
echo "$me: Gatling started (log $out/gatling.log); waiting for the simulation to begin" >&2
for _ in $(seq 1 300); do [ -s "$out/client.csv" ] && break; kill -0 "$gatling_pid" 2>/dev/null || break; sleep 1; done
[ -s "$out/client.csv" ] || { echo "$me: the simulation did not start; see $out/gatling.log" >&2; tail -n 30 "$out/gatling.log" >&2; exit 1; }
t0=$(date +%s)
echo "$t0" >"$out/simulation-start"
fault_end=$((t0 + run_seconds))
next_fault=$((t0 + fault_every))
faults_done=0
echo "$me: simulation running for $minutes min; faults every $fault_every s: ${fault_kinds[*]:-none}" >&2
while kill -0 "$gatling_pid" 2>/dev/null && [ "$(date +%s)" -lt $((started + gatling_limit)) ]; do
  now=$(date +%s)
  if [ ${#fault_kinds[@]} -gt 0 ] && [ "$now" -ge "$next_fault" ] && [ "$next_fault" -lt "$fault_end" ]; then
    case "${fault_kinds[$((faults_done % ${#fault_kinds[@]}))]}" in
      container) kill_container ;;
      engine) cut_engine ;;
      gateway) kill_gateway || true ;;
    esac
    faults_done=$((faults_done + 1))
    next_fault=$((next_fault + fault_every))
    if [ -z "$gateway_pid" ]; then # the gateway did not come back: try once more, else give up
      start_gateway || { echo "$me: the gateway does not start again; stopping the run" >&2; break; }
    fi
  fi
  sleep 1
done
gatling_status=0
if kill -0 "$gatling_pid" 2>/dev/null; then
  echo "$me: Gatling still runs after $gatling_limit s: stopping it" >&2
  stop_gatling
  gatling_status=124
else
  wait "$gatling_pid" || gatling_status=$?
  gatling_pid=
fi
gatling_end=$(date +%s)
echo "$gatling_end" >"$out/simulation-end"
echo "$me: Gatling ended (exit $gatling_status); sampling $tail_seconds s more" >&2
sleep "$tail_seconds"
stop_sampler
sample_once heap

# The end state: every user departed, so no session should be left (only the warm pool).
curl -fsS -m 5 "$base_url/metrics" >"$out/metrics-$gateway_gen.txt" 2>/dev/null || true
curl -fsS -m 5 "$base_url/health" >"$out/health-end.json" 2>/dev/null || true
docker ps -a --filter "label=berth.route=$route" --format '{{.Names}} {{.Status}}' >"$out/containers-end.txt" 2>/dev/null || true
stop_gateway
cleanup

report_html=$(find loadtest/target/gatling -maxdepth 2 -name index.html -newermt "@$started" 2>/dev/null | sort | tail -n 1)
if [ -n "$report_html" ]; then
  # The per-request table of Gatling's report (cells col-1..col-14 in Gatling 3.15, as loadtest-lib.sh reads them).
  awk '
    /class="ellipsed-name">/ { sub(/.*class="ellipsed-name">/, ""); sub(/<.*/, ""); name = $0; n = 0 }
    /<td class="value / && name != "" { v = $0; sub(/.*">/, "", v); sub(/<.*/, "", v); cell[++n] = v
      if (n == 13) { printf "%s,%s,%s,%s,%s,%s,%s,%s\n", name, cell[1], cell[2], cell[3], cell[7], cell[9], cell[10], cell[11]; name = "" } }
    BEGIN { print "request,total,ok,ko,p50_ms,p95_ms,p99_ms,max_ms" }
  ' "$report_html" >"$out/gatling-requests.csv"
  echo "${report_html%/index.html}" >"$out/gatling-report-dir"
fi
grep -A 60 'SoakSimulation totals' "$out/gatling.log" >"$out/client-totals.txt" || true

python3 scripts/soak-report.py --dir "$out" --report "$report" --command "$command_line" \
  --minutes "$minutes" --fault-every "$fault_every" --faults "$faults" --cut-seconds "$cut_seconds" \
  --gatling-status "$gatling_status" --properties="${gatling_properties[*]:-}"
