#!/usr/bin/env bash
# Checks deploy/systemd/berth.service as far as a machine without a running systemd allows:
#   deploy/systemd/check.sh [--port N] [--admin-port N]
#   1. systemd-analyze verify (syntax, directives, the ExecStart binary) and its offline security
#      review (the exposure score),
#   2. the unit against the config: KillSignal is SIGTERM, TimeoutStopSec covers
#      sessions.drainDeadline plus the 30 s the gateway takes at most to keep or end its sessions,
#      the user is not root and is in the docker group, the key files' folder is in ReadWritePaths,
#   3. runs the unit's ExecStart as systemd would run it in the ways that matter here (not under
#      systemd, which does not run here): as a non-root user (berth if it exists, else uid 10001) with
#      the docker group added, no capabilities, no new privileges, LimitNOFILE, the key files in a
#      state folder of its own, on a copy of config/berth.yaml set up as the unit's header says
#      (launcher: docker, key files in the state folder; plus sessions.onShutdown: end and its own
#      ports and gateway id, so it leaves nothing); waits for /health/ready, opens a session
#      through it (scripts/probe-first-frame.py: 101 and the session's first frame), sends the
#      KillSignal, and checks it exits 0 within TimeoutStopSec, leaving no session container,
#   4. the same ExecStart on a bad config exits with status 2, which RestartPreventExitStatus keeps
#      from restarting in a loop.
# Not checked: the sandboxing directives (ProtectSystem, PrivateTmp...) at run time, Restart, and the
# ordering with docker.service: that takes systemd as PID 1. Needs root (to switch users), an engine
# and the images (scripts/build.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

me=systemd/check.sh
unit=deploy/systemd/berth.service
default_port=18480
source deploy/check-lib.sh "$@"

# --- 1 -----------------------------------------------------------------------------------
command -v systemd-analyze >/dev/null || fail "no systemd-analyze (apt-get install -y systemd)"
systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
say "systemd-analyze verify: no complaint"
exposure="$(systemd-analyze security --offline=true "$unit" 2>&1 | grep 'Overall exposure' || true)"
say "systemd-analyze security --offline=true: ${exposure#→ }"

# --- 2 -----------------------------------------------------------------------------------
directive() { sed -n "s/^$1=//p" "$unit" | tail -n 1; }
seconds() { # 30s, 5m, 75 -> seconds
  case "$1" in *ms) echo $(( ${1%ms} / 1000 + 1 )) ;; *s) echo "${1%s}" ;; *min) echo $(( ${1%min} * 60 )) ;;
    *m) echo $(( ${1%m} * 60 )) ;; *) echo "$1" ;; esac
}
[[ "$(directive KillSignal)" == SIGTERM ]] || fail "KillSignal is not SIGTERM (SIGTERM drains)"
drain="$(sed -n 's/^  drainDeadline: *\([^ ]*\).*/\1/p' config/berth.yaml)"
timeout="$(seconds "$(directive TimeoutStopSec)")"
(( timeout > $(seconds "$drain") + 30 )) || fail "TimeoutStopSec=$timeout is not above drainDeadline ($drain) + 30 s"
say "KillSignal=SIGTERM, TimeoutStopSec=${timeout}s > drainDeadline $drain + 30 s"
user="$(directive User)"
[[ -n "$user" && "$user" != root ]] || fail "User= is root or missing"
[[ " $(directive SupplementaryGroups) " == *" docker "* ]] || fail "the user is not put in the docker group"
[[ " $(directive ReadWritePaths) " == *" /var/lib/berth "* ]] || fail "ReadWritePaths does not hold /var/lib/berth (the key files)"
grep -q 'tokenSecretFile: /var/lib/berth/' "$unit" && grep -q 'tokenFile: /var/lib/berth/' "$unit" \
  && grep -q 'readOnlyTokenFile: /var/lib/berth/' "$unit" \
  || fail "the unit's install notes do not put the key files in /var/lib/berth"
say "User=$user (not root), SupplementaryGroups=docker, ReadWritePaths=/var/lib/berth for the key files"

# --- 3 -----------------------------------------------------------------------------------
[[ "$(id -u)" == 0 ]] || fail "run it as root: it switches to the unit's non-root user"
docker info >/dev/null 2>&1 || fail "no Docker engine answers"
jar=gateway/target/berth-gateway.jar
[[ -f "$jar" ]] || fail "$jar is missing: scripts/build.sh"
if id -u "$user" >/dev/null 2>&1; then uid="$(id -u "$user")" gid="$(id -g "$user")"; else uid=10001 gid=10001; fi
docker_gid="$(getent group docker | cut -d: -f3)"
[[ -n "$docker_gid" ]] || fail "no docker group on this machine"

work="$(mktemp -d /tmp/berth-systemd-check.XXXXXX)"
gateway_id="systemd-check-$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null
  docker ps -aq --filter label=berth.managed=true --filter "name=\\.$gateway_id\$" | xargs -r docker rm -f >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/etc" "$work/state"
chmod 755 "$work" "$work/etc"
chown "$uid:$gid" "$work/state" && chmod 700 "$work/state" # StateDirectoryMode=0700
sed -e "s|^launcher: auto|launcher: docker|" \
    -e "s|^  tokenSecretFile: berth-token.key|  tokenSecretFile: $work/state/berth-token.key|" \
    -e "s|^  tokenFile: berth-admin.key|  tokenFile: $work/state/berth-admin.key|" \
    -e "s|^  readOnlyTokenFile: berth-admin-read.key|  readOnlyTokenFile: $work/state/berth-admin-read.key|" \
    -e "s|^  port: 8081|  port: $admin_port|" \
    -e "s|^  onShutdown: keep|  onShutdown: end|" \
    -e "s|^  gatewayId: default|  gatewayId: $gateway_id|" \
    config/berth.yaml >"$work/etc/berth.yaml"
[[ "$(grep -c "^launcher: docker\|$work/state/berth-\|port: $admin_port\|onShutdown: end\|gatewayId: $gateway_id" "$work/etc/berth.yaml")" == 7 ]] \
  || fail "could not set up the config copy"
chmod 644 "$work/etc/berth.yaml"

# The unit's ExecStart, with the install paths mapped onto this checkout.
exec_start="$(directive ExecStart)"
exec_start="${exec_start//\/opt\/berth\/berth-gateway.jar/$PWD/$jar}"
exec_start="${exec_start//\/etc\/berth\/berth.yaml/$work/etc/berth.yaml}"
read -r -a command <<<"$exec_start"
nofile="$(directive LimitNOFILE)"
hard="$(ulimit -Hn)" # a container's own cap may be lower than the unit's: then up to that
[[ "$hard" == unlimited ]] || (( nofile <= hard )) || { say "LimitNOFILE=$nofile is above this machine's hard limit $hard: using $hard"; nofile=$hard; }
as_unit=(prlimit --nofile="$nofile:$nofile" -- setpriv --reuid="$uid" --regid="$gid" --groups="$docker_gid"
  --inh-caps=-all --bounding-set=-all --no-new-privs --)
say "running as uid $uid (groups $gid, docker $docker_gid), no capabilities: ${command[*]} --port $port"
started=$SECONDS
(cd "$work/state" && exec "${as_unit[@]}" env -i PATH=/usr/bin:/bin "${command[@]}" --port "$port") >"$work/gateway.log" 2>&1 &
pid=$!
until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/health/ready" 2>/dev/null; do
  kill -0 "$pid" 2>/dev/null || { cat "$work/gateway.log" >&2; pid=""; fail "the gateway exited"; }
  (( SECONDS - started < 120 )) || { tail -n 30 "$work/gateway.log" >&2; fail "not ready within 120 s"; }
  sleep 0.2
done
say "ready after $(( SECONDS - started )) s; process uid $(ps -o uid= -p "$pid" | tr -d ' '), key files: $(cd "$work/state" && echo *)"
[[ "$(stat -c %u "$work/state/berth-token.key")" == "$uid" ]] || fail "the key file is not the unit user's"
python3 scripts/probe-first-frame.py --sessions 1 --warm-up 0 --gap 0 --url "ws://127.0.0.1:$port/ws" | sed "s|^|$me: [session] |"

stopping=$SECONDS
kill -"$(directive KillSignal | sed 's/^SIG//')" "$pid"
status=0
while kill -0 "$pid" 2>/dev/null && (( SECONDS - stopping <= timeout )); do sleep 0.2; done
kill -0 "$pid" 2>/dev/null && fail "still running $timeout s after SIGTERM: systemd would SIGKILL it"
wait "$pid" || status=$?
pid=""
grep -q "shut down cleanly" "$work/gateway.log" || { tail -n 20 "$work/gateway.log" >&2; fail "no clean shutdown"; }
(( status == 0 )) || fail "exit status $status after SIGTERM (Restart=on-failure would restart it)"
say "SIGTERM: drained and exited 0 after $(( SECONDS - stopping )) s (TimeoutStopSec=$timeout)"
left="$(docker ps -aq --filter label=berth.managed=true --filter "name=\\.$gateway_id\$")"
[[ -z "$left" ]] || fail "session containers left: $left"
say "no session container left (sessions.onShutdown: end)"

# --- 4 -----------------------------------------------------------------------------------
printf 'listen: {port: %s}\nroutes: []\nbogus: 1\n' "$port" >"$work/etc/berth.yaml"
status=0
(cd "$work/state" && exec "${as_unit[@]}" env -i PATH=/usr/bin:/bin "${command[@]}") >"$work/bad.log" 2>&1 || status=$?
[[ "$status" == "$(directive RestartPreventExitStatus)" ]] || { cat "$work/bad.log" >&2; fail "a bad config exited $status"; }
say "a bad config exits $status = RestartPreventExitStatus: no restart loop ($(head -n 1 "$work/bad.log"))"
say "OK"
