# Shared by the end-to-end scripts: a private PostgreSQL, the four services
# as real processes on ports of their own, health waits and clean-up.
# Source it after `set -euo pipefail`; needs LIENTHONG_SOURCE_DIR and
# LIENTHONG_BINARY_DIR (ctest sets both).
src="${LIENTHONG_SOURCE_DIR:?}"
bin="${LIENTHONG_BINARY_DIR:?}"
work="$(mktemp -d /tmp/lienthong-e2e-XXXXXX)"
chmod 755 "$work"
export LIENTHONG_PG_DIR="$work/pg" LIENTHONG_PG_PORT=$((40000 + $$ % 10000))
base=$((17000 + ($$ % 50) * 10))
declare -A port=([intake]=$((base + 1)) [routing]=$((base + 2)) [deadline]=$((base + 3)) [notify]=$((base + 4)))
declare -A pid
cleanup() {
  for p in "${pid[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  "$src/tools/pg" stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "e2e: FAIL: $*"; for f in "$work"/*.log; do echo "== $f"; tail -n 20 "$f"; done; exit 1; }

"$src/tools/pg" start >/dev/null
dsn="$("$src/tools/pg" dsn)"
peers=(--intake_address=127.0.0.1:${port[intake]} --routing_address=127.0.0.1:${port[routing]}
  --deadline_address=127.0.0.1:${port[deadline]} --notify_address=127.0.0.1:${port[notify]})
start_svc() {
  local s="$1"
  "$bin/services/$s/lienthong-$s" --listen_address=127.0.0.1:${port[$s]} --db_dsn="$dsn" \
    --insecure_dev_auth --drain_grace=200ms --shutdown_deadline=5s "${peers[@]}" \
    >>"$work/$s.log" 2>&1 &
  pid[$s]=$!
}
wait_serving() {
  local s="$1" name
  case "$s" in
    intake) name=lienthong.intake.v1.IntakeService ;;
    routing) name=lienthong.routing.v1.RoutingService ;;
    deadline) name=lienthong.deadline.v1.DeadlineService ;;
    notify) name=lienthong.notify.v1.NotifyService ;;
  esac
  "$bin/tools/healthcheck/lienthong-healthcheck" --quiet --address=127.0.0.1:${port[$s]} \
    --service=$name --wait=30s || fail "$s is not SERVING"
}
# All four services up and the seed catalog (Hà Nội's agencies, LT.01) loaded.
start_stack() {
  for s in intake routing deadline notify; do start_svc $s; done
  for s in intake routing deadline notify; do wait_serving $s; done
  "$bin/tools/cli/lienthong" --address=127.0.0.1:${port[intake]} --dev_role=admin seed \
    --dir "$src/data/seed" >"$work/seed.log" 2>&1 || fail "seed"
}
# SIGTERM to every service; each must exit 0.
stop_stack() {
  for s in intake routing deadline notify; do
    kill -TERM "${pid[$s]}"
    if wait "${pid[$s]}"; then :; else fail "$s exited $? on SIGTERM"; fi
    unset "pid[$s]"
  done
}
