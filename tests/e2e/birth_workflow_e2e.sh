#!/usr/bin/env bash
# End to end: the four services, the agency simulator and the demo as real
# processes against a private PostgreSQL. Mid-run, routing and the agency
# simulator are killed with SIGKILL and started again: both dossiers must
# still finish (nothing lost, no leg skipped, none done twice). Finally each
# service gets SIGTERM and must exit 0.
set -euo pipefail
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
for s in intake routing deadline notify; do start_svc $s; done
for s in intake routing deadline notify; do wait_serving $s; done
"$bin/tools/cli/lienthong" --address=127.0.0.1:${port[intake]} --dev_role=admin seed \
  --dir "$src/data/seed" >"$work/seed.log" 2>&1 || fail "seed"
start_sim() {
  "$bin/tools/agency-sim/lienthong-agency-sim" --routing=127.0.0.1:${port[routing]} \
    --agencies=002.08.19.H26,003.08.19.H26,000.91.19.H26 --delay=700ms --lease=3s >>"$work/sim.log" 2>&1 &
  pid[sim]=$!
}
start_sim
"$bin/tools/demo/lienthong-demo" --intake_address=127.0.0.1:${port[intake]} \
  --routing_address=127.0.0.1:${port[routing]} --sinks_dir="$work/sinks" \
  --timeout=90s >"$work/demo.log" 2>&1 &
demo=$!
sleep 1
echo "e2e: kill -9 routing and the agency simulator mid-run, then restart them"
kill -9 "${pid[routing]}" "${pid[sim]}"
sleep 1
start_svc routing
wait_serving routing
start_sim
wait "$demo" || fail "the demo did not finish"
cat "$work/demo.log"
returned=$(grep -c "Trạng thái cuối: DOSSIER_STATE_RETURNED" "$work/demo.log" || true)
[[ "$returned" == 2 ]] || fail "expected 2 returned dossiers, got $returned"
# No leg done twice: every task of both routes completed exactly once.
dup=$(/usr/lib/postgresql/15/bin/psql "$dsn" -tAc \
  "SELECT count(*) FROM (SELECT dossier, leg_id FROM routing.tasks GROUP BY 1,2 HAVING count(*) > 1) x")
[[ "$dup" == 0 ]] || fail "duplicated legs"
done_legs=$(/usr/lib/postgresql/15/bin/psql "$dsn" -tAc "SELECT count(*) FROM routing.tasks WHERE state = 4")
[[ "$done_legs" == 6 ]] || fail "expected 6 legs done, got $done_legs"
# The on-time report (CSV through the CLI) counts both dossiers as finished
# early at Tây Mỗ ward once deadline has applied the events.
csv=""
for _ in $(seq 50); do
  csv="$("$bin/tools/cli/lienthong" --deadline_address=127.0.0.1:${port[deadline]} \
    --dev_role=supervisor --dev_agency=000.00.19.H26 report 000.00.19.H26 \
    --from=2000-01-01 --to=2100-12-31 2>&1 || true)"
  grep -q '^"agencies/000.08.19.H26","",2,2,0,0,0,0,1.0000$' <<<"$csv" && break
  sleep 0.2
done
echo "$csv"
grep -q '^"agencies/000.08.19.H26","",2,2,0,0,0,0,1.0000$' <<<"$csv" || fail "on-time report"
for s in intake routing deadline notify; do
  kill -TERM "${pid[$s]}"
  if wait "${pid[$s]}"; then :; else fail "$s exited $? on SIGTERM"; fi
  unset "pid[$s]"
done
echo "e2e: 1 passed, 0 failed"
