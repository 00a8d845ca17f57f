#!/usr/bin/env bash
# End to end: the four services, the agency simulator and the demo as real
# processes against a private PostgreSQL. Mid-run, routing and the agency
# simulator are killed with SIGKILL and started again: both dossiers must
# still finish (nothing lost, no leg skipped, none done twice). Finally each
# service gets SIGTERM and must exit 0.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/stack_lib.sh"
start_stack
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
stop_stack
echo "e2e: 1 passed, 0 failed"
