#!/usr/bin/env bash
# Berth on a real Kubernetes cluster, end to end: deploy/kubernetes applied as the docs say
# (kubectl apply -k, from a copy holding the images given and a fresh berth-token.key, so no key is
# ever written into the repository), a session opened through the gateways' Service, its pod checked
# for the sandbox, one gateway pod deleted while the session lives, and everything removed again.
# First it reads each node's kubelet configuration (kubectl get --raw /api/v1/nodes/NODE/proxy/configz)
# and warns when a kubelet sets no podPidsLimit: a pod spec has no pids field, so without it a
# session's pod can fork until its node runs out of pids (docs/kubernetes.md). A warning, not a failure.
#   scripts/k8s-e2e.sh --context CTX --gateway-image IMAGE --handler-image IMAGE [--keep]
#   --context CTX            the kubectl context of the cluster to use (required: never the current one by accident);
#                            cluster-admin: it makes the namespace and the Role, and reads nodes/proxy for the kubelets
#   --gateway-image IMAGE    berth/gateway pushed where the cluster pulls from (gateway-image/build-image.sh)
#   --handler-image IMAGE    berth/handler pushed likewise (handler-image/build-image.sh)
#   --keep                   leave the namespace (default: delete it at the end, also on failure); it refuses
#                            to start when namespace berth exists already, so it never deletes one it did not make
# It cannot run on the machine Berth is developed on (no cluster can run there): the suite proves the
# launcher on fabric8's mock API server instead (docs/scale-out.md, "Kubernetes", says what each proves).
# Needs kubectl and python3 (and the config's route at /ws); a cluster whose CNI enforces NetworkPolicies (or the isolation checks
# are only as good as the CNI); Kubernetes 1.30+ (the gateway's preStop sleep).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

me=k8s-e2e.sh
context='' gateway_image='' handler_image='' keep=false
while (( $# )); do
  case "$1" in
    --context) context="$2"; shift 2 ;;
    --gateway-image) gateway_image="$2"; shift 2 ;;
    --handler-image) handler_image="$2"; shift 2 ;;
    --keep) keep=true; shift ;;
    *) sed -n '2,/^set /p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
[[ -n "$context" && -n "$gateway_image" && -n "$handler_image" ]] \
  || { sed -n '2,/^set /p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }
command -v kubectl >/dev/null || { echo "$me: kubectl is missing" >&2; exit 1; }
k() { kubectl --context "$context" -n berth "$@"; }
say() { echo "$me: $*"; }
warn() { echo "$me: WARNING: $*" >&2; }
fail() { echo "$me: FAIL: $*" >&2; exit 1; }

# Each node's kubelet podPidsLimit, from its live configuration; warns for every node that sets none
# (absent, or -1/0: unlimited) or whose configuration cannot be read. Sets pids_unset to their count.
pids_unset=0
check_pids_limit() {
  local nodes node config limit
  nodes=$(kubectl --context "$context" get nodes -o jsonpath='{.items[*].metadata.name}') \
    || fail "cannot list the cluster's nodes"
  for node in $nodes; do
    if ! config=$(kubectl --context "$context" get --raw "/api/v1/nodes/$node/proxy/configz" 2>&1); then
      warn "cannot read node $node's kubelet configuration (get on nodes/proxy): $config"
      pids_unset=$((pids_unset + 1))
      continue
    fi
    limit=$(python3 -c 'import json, sys; print(json.load(sys.stdin).get("kubeletconfig", {}).get("podPidsLimit", ""))' \
      <<<"$config") || limit=
    if [[ "$limit" =~ ^[0-9]+$ ]] && (( limit > 0 )); then
      say "node $node: kubelet podPidsLimit $limit"
    else
      warn "node $node's kubelet sets no podPidsLimit (${limit:-absent}): a session pod there can fork until the node" \
        "runs out of pids. A pod spec has no pids field; set podPidsLimit in the kubelet's configuration file."
      pids_unset=$((pids_unset + 1))
    fi
  done
}

# It makes namespace berth and deletes it at the end: one that is there already is someone's.
if kubectl --context "$context" get namespace berth >/dev/null 2>&1; then
  fail "namespace berth already exists in context $context: this test makes its own and deletes it at the end." \
    "Delete it first (kubectl --context $context delete namespace berth) if it is a test's, or use another cluster"
fi

say "the kubelets' pids limit"
check_pids_limit # before the trap: a failure here leaves the cluster as it was

work=$(mktemp -d)
forward_pid=
session_pid=
finish() {
  [[ -n "$session_pid" ]] && kill "$session_pid" 2>/dev/null || true
  [[ -n "$forward_pid" ]] && kill "$forward_pid" 2>/dev/null || true
  if ! $keep; then kubectl --context "$context" delete namespace berth --wait=false >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap finish EXIT

say "applying deploy/kubernetes to context $context (kubectl apply -k)"
# A copy, so the images given and the key never touch the repository; $work goes at the end.
cp -R deploy/kubernetes "$work/kubernetes"
rm -f "$work/kubernetes/berth-token.key" # an operator's own key, if one lies in the folder: not ours to use
sed -i "s|image: berth/handler:[^ ]*|image: $handler_image|" "$work/kubernetes/config.yaml"
sed -i "s|image: berth/gateway:[^ ]*|image: $gateway_image|" "$work/kubernetes/gateway.yaml"
grep -qF "image: $handler_image" "$work/kubernetes/config.yaml" || fail "the handler image was not set in config.yaml"
grep -qF "image: $gateway_image" "$work/kubernetes/gateway.yaml" || fail "the gateway image was not set in gateway.yaml"
(umask 077 && head -c 32 /dev/urandom | base64 -w0 >"$work/kubernetes/berth-token.key") # as the docs say
kubectl --context "$context" apply -k "$work/kubernetes"
k rollout status deployment/berth-gateway --timeout=180s

say "a session through the Service"
port=$((20000 + RANDOM % 20000))
k port-forward service/berth-gateway "$port:80" >"$work/forward.log" 2>&1 &
forward_pid=$!
for _ in $(seq 1 30); do grep -q Forwarding "$work/forward.log" && break; sleep 1; done
# A session held open (its hello read) while the checks below run; it ends with the script.
python3 - "$port" >"$work/session.log" 2>&1 <<'PY' &
import base64, os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET /ws HTTP/1.1\r\nHost: berth\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
data = b""
while b"hello" not in data:
    chunk = s.recv(65536)
    if not chunk:
        sys.exit("closed before the hello: " + data.decode(errors="replace"))
    data += chunk
print("hello", flush=True)
time.sleep(600)
PY
session_pid=$!
for _ in $(seq 1 120); do grep -q hello "$work/session.log" && break; sleep 1; done
grep -q hello "$work/session.log" || fail "no session through the Service: $(cat "$work/session.log")"
pods=$(k get pods -l berth.managed=true -o name | wc -l)
(( pods >= 1 )) || fail "no session pod in the namespace"
spec=$(k get pods -l berth.managed=true -o jsonpath='{.items[0].spec}')
for field in '"runAsNonRoot":true' '"readOnlyRootFilesystem":true' '"allowPrivilegeEscalation":false' \
             '"automountServiceAccountToken":false' '"drop":\["ALL"\]' '"RuntimeDefault"'; do
  grep -Eq "$field" <<<"$spec" || fail "the session pod's spec lacks $field"
done
say "session pods carry the sandbox: $pods pod(s)"

say "one gateway pod deleted: the other serves on, the session pods stay"
victim=$(k get pods -l app.kubernetes.io/name=berth-gateway -o name | head -1)
k delete "$victim" --wait=true
k rollout status deployment/berth-gateway --timeout=180s
(( $(k get pods -l berth.managed=true -o name | wc -l) >= pods )) || fail "session pods went with a gateway"
if (( pids_unset > 0 )); then
  say "OK, but $pids_unset node(s) without a known podPidsLimit: see the warnings above"
else
  say "OK"
fi
