# Shared by the end-to-end scripts: a private PostgreSQL, the four services
# as real processes on ports of their own, health waits and clean-up.
# Source it after `set -euo pipefail`; needs LIENTHONG_SOURCE_DIR and
# LIENTHONG_BINARY_DIR (ctest sets both).
src="${LIENTHONG_SOURCE_DIR:?}"
bin="${LIENTHONG_BINARY_DIR:?}"
work="$(mktemp -d /tmp/lienthong-e2e-XXXXXX)"
chmod 755 "$work"
export LIENTHONG_PG_DIR="$work/pg"  # Unix socket only: no TCP port to share
# Each script runs on a slot of ten ports, 17000 + slot*10 + 1..7. ctest runs
# the e2e scripts side by side, and a slot picked from the PID alone once
# gave two of them the same ports (one demo's dossiers landed in the other
# stack). A slot is taken by an flock on its file; the lock lives as long as
# this shell and the services it starts (they inherit the descriptor).
slot=""
for ((i = 0; i < 50; i++)); do
  s=$(((i + $$) % 50))
  exec {slot_fd}>"/tmp/lienthong-e2e-slot.$s"
  if flock -n "$slot_fd"; then slot=$s; break; fi
  exec {slot_fd}>&-
done
[[ -n "$slot" ]] || { echo "e2e: FAIL: all 50 port slots are taken"; exit 1; }
base=$((17000 + slot * 10))
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
# notify's channels go to the local sinks (tools/sinks), which record every
# accepted message in $work/sinks/{sms,mail,webhook}.jsonl.
declare -A sink_port=([sms]=$((base + 5)) [smtp]=$((base + 6)) [webhook]=$((base + 7)))
mkdir -p "$work/sinks"
# At least 16 characters (notify refuses shorter secrets), whatever the PID.
webhook_secret="e2e-$$-webhook-signing-secret"
webhook_url="http://127.0.0.1:${sink_port[webhook]}/hooks/tay-mo"
echo "$webhook_secret" >"$work/sinks/webhook.secret"
notify_flags=(--sms_gateway_url=http://127.0.0.1:${sink_port[sms]}/sms
  --smtp_url=smtp://127.0.0.1:${sink_port[smtp]} --smtp_tls=try --allow_http_webhooks
  --webhook_allow_cidrs=127.0.0.0/8
  --quiet_hours=off --retry_initial=1s)
start_sinks() {
  /usr/bin/python3 "$src/tools/sinks/http_sink.py" --port ${sink_port[sms]} \
    --out "$work/sinks/sms.jsonl" >>"$work/sms-sink.log" 2>&1 &
  pid[sms]=$!
  /usr/bin/python3 "$src/tools/sinks/http_sink.py" --port ${sink_port[webhook]} \
    --out "$work/sinks/webhook.jsonl" --webhook_secret_file "$work/sinks/webhook.secret" >>"$work/webhook-sink.log" 2>&1 &
  pid[webhook]=$!
  /usr/bin/python3 "$src/tools/sinks/smtp_sink.py" --port ${sink_port[smtp]} \
    --out "$work/sinks/mail.jsonl" >>"$work/smtp-sink.log" 2>&1 &
  pid[smtp]=$!
}
start_svc() {
  local s="$1" extra=()
  [[ "$s" == notify ]] && extra=("${notify_flags[@]}")
  "$bin/services/$s/lienthong-$s" --listen_address=127.0.0.1:${port[$s]} --db_dsn="$dsn" \
    --insecure_dev_auth --drain_grace=200ms --shutdown_deadline=5s "${peers[@]}" "${extra[@]}" \
    >>"$work/$s.log" 2>&1 &
  pid[$s]=$!
}
# The demo against this stack, its notifications going to the sinks.
demo_args=(--intake_address=127.0.0.1:${port[intake]} --routing_address=127.0.0.1:${port[routing]}
  --notify_address=127.0.0.1:${port[notify]} --sinks_dir="$work/sinks"
  --webhook_url="$webhook_url" --webhook_secret_file="$work/sinks/webhook.secret")
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
  start_sinks
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
