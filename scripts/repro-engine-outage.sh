#!/usr/bin/env bash
# Replays, in about a minute each, two engine outages the soak (scripts/soak.sh,
# docs/benchmarks/soak.md) found bugs in; both are fixed, and DockerSessionTest holds them:
#   scripts/repro-engine-outage.sh pool-claim      # a session claimed from the warm pool while the
#       engine is unreachable keeps its pool name; the gateway is SIGKILLed before the engine is
#       back. The bug: the next gateway put that container back in its pool and gave it to a NEW
#       session. Now: it adopts it as its own session (the handler greets with its hello), and
#       the new clients B and C get sessions of their own
#   scripts/repro-engine-outage.sh ended-session   # a session its client ends (close 1000) while the
#       engine is unreachable. The bug: its container was not stopped, the reaper adopted it once
#       the engine was back, and the old cookie got the ended session back. Now: the removal is
#       tried again at each look on the engine, and the cookie gets a new session
# Each starts an engine socket proxy (socat) and a gateway (route repro, a copy of
# config/loadtest.yaml as soak.sh makes it) and removes everything at the end, also on Ctrl-C.
# The clients are a small berth.resume.v1 client on the JDK's own websocket (target/repro/WsPeek.java).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

case "${1:-}" in
  pool-claim|ended-session) scenario=$1 ;;
  *) sed -n '2,16s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
me=repro-engine-outage.sh
route=repro
out=target/repro
sock=$PWD/$out/engine.sock
leftover() { docker ps -aq --filter label=berth.managed=true --filter "label=berth.route=$route"; }
docker info >/dev/null 2>&1 || { echo "$me: no Docker engine answers" >&2; exit 1; }
[ -z "$(leftover)" ] || { echo "$me: containers of route $route exist; remove them first" >&2; exit 1; }
scripts/build.sh
rm -rf "$out"
mkdir -p "$out"
sed -e 's/^  onShutdown: end$/  onShutdown: keep/' \
    -e "s|^  host: unix:///var/run/docker.sock$|  host: unix://$sock|" \
    -e 's|tokenSecretFile: ../target/loadtest/berth-token.key|tokenSecretFile: berth-token.key|' \
    -e 's/^  - name: loadtest .*$/  - name: repro/' \
    -e 's/^      size: 4$/      size: 2/' \
    -e 's/BERTH_FEED_PER_SECOND: "0"/BERTH_FEED_PER_SECOND: "1"/' \
    config/loadtest.yaml >"$out/repro.yaml"
grep -q '^  - name: repro$' "$out/repro.yaml" && grep -q "unix://$sock" "$out/repro.yaml" \
  || { echo "$me: could not make $out/repro.yaml" >&2; exit 1; }

cat >"$out/WsPeek.java" <<'JAVA'
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.concurrent.CompletionStage;

/**
 * java WsPeek.java NAME ws://HOST:PORT/ws SECONDS [end|drop] [COOKIE]: a berth.resume.v1 client that
 * sends "resume 0 -" and one message, prints its session cookie and what it gets for SECONDS, then
 * closes with 1000 ("end", the default) or drops the connection without a close ("drop"). COOKIE
 * (berth_session=...) goes with the handshake.
 */
public class WsPeek {
  public static void main(String[] args) throws Exception {
    String name = args[0];
    long seconds = Long.parseLong(args[2]);
    String mode = args.length > 3 ? args[3] : "end";
    CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
    WebSocket.Builder builder = HttpClient.newBuilder().cookieHandler(cookies).build().newWebSocketBuilder()
        .subprotocols("berth.resume.v1");
    if (args.length > 4) {
      builder.header("Cookie", args[4]);
    }
    WebSocket ws = builder.buildAsync(URI.create(args[1]), new WebSocket.Listener() {
      public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
        System.out.println(name + " got: " + data);
        w.request(1);
        return null;
      }
      public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
        System.out.println(name + " closed: " + code + " " + reason);
        return null;
      }
    }).join();
    cookies.getCookieStore().getCookies().forEach(c -> System.out.println(name + " cookie: " + c));
    try {
      ws.sendText("resume 0 -", true).join();
      ws.sendText("1 hello from " + name, true).join();
    } catch (RuntimeException e) {
      System.out.println(name + ": could not send (" + e.getCause() + ")");
    }
    Thread.sleep(seconds * 1000);
    System.out.println(name + ": (nothing more within " + seconds + " s)");
    if (mode.equals("drop")) {
      System.exit(0);
    }
    if (!ws.isOutputClosed()) {
      ws.sendClose(1000, "done").join();
    }
    Thread.sleep(300);
  }
}
JAVA

proxy=
gateway=
port=0
cleanup() {
  if [ -n "$gateway" ]; then kill -KILL "$gateway" 2>/dev/null || true; wait "$gateway" 2>/dev/null || true; fi
  local left
  left=$(leftover)
  [ -z "$left" ] || docker rm -f $left >/dev/null 2>&1 || true
  if [ -n "$proxy" ]; then kill -TERM -- "-$proxy" 2>/dev/null || true; wait "$proxy" 2>/dev/null || true; fi
  rm -f "$sock"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_proxy() {
  setsid socat "UNIX-LISTEN:$sock,fork,mode=600" UNIX-CONNECT:/var/run/docker.sock 2>/dev/null &
  proxy=$!
  for _ in $(seq 1 50); do [ -S "$sock" ] && return 0; sleep 0.1; done
  echo "$me: the proxy did not start" >&2; exit 1
}
cut_proxy() {
  kill -TERM -- "-$proxy" 2>/dev/null || true
  wait "$proxy" 2>/dev/null || true
  proxy=
  rm -f "$sock"
}
start_gateway() { # $1: log name; waits until it listens and its pool of 2 is ready
  local log="$out/gateway-$1.log" p
  java -jar gateway/target/berth-gateway.jar --config "$out/repro.yaml" --port "$port" >"$log" 2>&1 &
  gateway=$!
  for _ in $(seq 1 600); do
    p=$(sed -n 's|.*listening on http://[^:]*:\([0-9]*\)/.*|\1|p' "$log" | head -n 1)
    if [ -n "$p" ] && grep -q 'ready (2 of 2 idle)' "$log"; then port=$p; return 0; fi
    kill -0 "$gateway" 2>/dev/null || break
    sleep 0.1
  done
  echo "$me: gateway $1 did not start with a full pool; see $log" >&2; exit 1
}
peek() { java "$out/WsPeek.java" "$@" || true; }
show() { # $1: log, $2: pattern
  grep -E "$2" "$1" | cut -c1-260 || true
}

start_proxy
start_gateway 1
url="ws://127.0.0.1:$port/ws"
if [ "$scenario" = pool-claim ]; then
  echo "== gateway 1 on port $port, its pool full; the engine socket is cut"
  cut_proxy
  sleep 3
  echo "== client A starts a session: a pool claim, whose rename fails; then A drops without a close"
  peek A "$url" 2 drop
  show "$out/gateway-1.log" 'will not find it'
  echo "== gateway 1 SIGKILLed; the engine socket back; gateway 2 on the same port"
  kill -KILL "$gateway"; wait "$gateway" 2>/dev/null || true; gateway=
  start_proxy
  start_gateway 2
  show "$out/gateway-2.log" 'pool of route'
  echo "== clients B and C start sessions, one after the other; each must get a session of its own"
  peek B "$url" 3
  peek C "$url" 3
  echo "== gateway 2's log"
  show "$out/gateway-2.log" 'LAUNCHING -> CONNECTING|SEVERE|WebSocket is closed'
  echo "Expected: gateway 2's log says it adopts A's container as A's session; B's and C's hellos name"
  echo "sessions of their own (connection 1) and every message is echoed. Before the fix one of them was"
  echo "given A's container: greeted with A's key and hostname, or closed with 1008."
else
  echo "== client A starts a session with the engine up, then drops without a close"
  peek A "$url" 2 drop | tee "$out/a.txt"
  cookie=$(sed -n 's/^A cookie: //p' "$out/a.txt" | head -n 1)
  echo "== the engine socket is cut; A comes back with its cookie and ends its session (close 1000)"
  cut_proxy
  sleep 3
  peek A2 "$url" 2 end "$cookie" | grep -v listing
  show "$out/gateway-1.log" 'could not remove|-> ENDING|ENDING ->'
  echo "== the engine socket back; 20 s for the reaper (sessions.reapInterval 15s)"
  start_proxy
  sleep 20
  show "$out/gateway-1.log" 'adopted'
  echo "GET /health: $(curl -fsS "http://127.0.0.1:$port/health")"
  echo "== A comes back once more with the cookie of the session it ended"
  peek A3 "$url" 2 end "$cookie" | grep -v listing
  echo "Expected: gateway 1's log says the removal failed and is tried again; no 'adopted' line; A3's"
  echo "hello names a new session. Before the fix it named the session A ended (connection 2)."
fi
