# Shared by scripts/loadtest.sh and scripts/loadtest-upgrade.sh (sourced, not run): a gateway of
# the load test's own, started and stopped around Gatling, and the checks around it. The caller
# sets: me (its name, for messages), config, route (routes[0].name: containers carry
# berth.route=$route), out (where logs go) and port (0: any free one).

leftover_containers() {
  docker ps -a -q --filter label=berth.managed=true --filter "label=berth.route=$route"
}

# The engine answers, the jars and image are fresh, and no container of the route is left from an
# earlier run (a gateway would adopt it as a session of its own and skew the numbers).
prepare_run() {
  docker info >/dev/null 2>&1 || { echo "$me: no Docker engine answers; the load tests need one" >&2; exit 1; }
  scripts/build.sh
  if [ -n "$(leftover_containers)" ]; then
    echo "$me: containers of route $route exist from an earlier run; remove them first:" >&2
    echo "  docker rm -f \$(docker ps -a -q --filter label=berth.route=$route)" >&2
    exit 1
  fi
  mkdir -p "$out"
}

gateway_pid=
stop_gateway() {
  [ -n "$gateway_pid" ] || return 0
  if kill -0 "$gateway_pid" 2>/dev/null; then
    echo "$me: stopping the gateway (pid $gateway_pid, SIGTERM)" >&2
    kill -TERM "$gateway_pid" 2>/dev/null || true
    # The gateway gives its drain and shutdown about 35 s; past 40 s it is stuck.
    for _ in $(seq 1 400); do kill -0 "$gateway_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$gateway_pid" 2>/dev/null; then
      echo "$me: the gateway did not exit within 40 s; SIGKILL" >&2
      kill -KILL "$gateway_pid" 2>/dev/null || true
    fi
  fi
  wait "$gateway_pid" 2>/dev/null || true
  gateway_pid=
}

# $1: a name for its log. Starts the gateway on $config and $port, retrying for a few seconds when
# the port is still held by a gateway that just exited; sets gateway_pid, gateway_log, base_url
# and gateway_port (the port it listens on).
start_gateway() {
  local actual_port= attempt
  gateway_log="$out/gateway-$1.log"
  for attempt in $(seq 1 20); do
    java -jar gateway/target/berth-gateway.jar --config "$config" --port "$port" >"$gateway_log" 2>&1 &
    gateway_pid=$!
    for _ in $(seq 1 300); do # 30 s
      if ! kill -0 "$gateway_pid" 2>/dev/null; then
        if grep -q 'Address already in use' "$gateway_log" && [ "$attempt" -lt 20 ]; then break; fi
        echo "$me: the gateway exited; see $gateway_log:" >&2; tail -n 20 "$gateway_log" >&2; exit 1
      fi
      actual_port=$(sed -n 's|.*Berth gateway listening on http://[^:]*:\([0-9]*\)/.*|\1|p' "$gateway_log" | head -n 1)
      if [ -n "$actual_port" ] && curl -fsS -o /dev/null "http://127.0.0.1:$actual_port/health"; then
        gateway_port=$actual_port
        base_url="http://127.0.0.1:$actual_port"
        echo "$me: gateway up at $base_url (pid $gateway_pid, log $gateway_log)" >&2
        return 0
      fi
      sleep 0.1
    done
    kill -0 "$gateway_pid" 2>/dev/null && break
    sleep 0.5
  done
  echo "$me: the gateway did not answer GET /health within 30 s; see $gateway_log" >&2
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

# The newest Gatling report written since epoch second $1.
report_since() {
  find loadtest/target/gatling -maxdepth 2 -name index.html -newermt "@$1" 2>/dev/null | sort | tail -n 1
}
