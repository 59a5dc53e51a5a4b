# Sourced by the deploy/*/check.sh scripts: their messages and their two options.
#   me=NAME; default_port=N; source deploy/check-lib.sh "$@"   -> say, fail, $port, $admin_port
say() { echo "$me: $*"; }
fail() { echo "$me: FAIL: $*" >&2; exit 1; }
port=$default_port admin_port=$((default_port + 1))
while (( $# )); do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --admin-port) admin_port="$2"; shift 2 ;;
    *) sed -n '2,/^set /p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
