#!/usr/bin/env bash
# docs/integration.md §6 is runnable: its Python block, extracted verbatim,
# plays Tây Mỗ ward's civil-status system against the real stack (the agency
# simulator plays police and social insurance) while the demo submits its
# two birth dossiers. Both must finish, each civil-status leg completed by
# the Python client exactly once.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/stack_lib.sh"
/usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null || fail "python3-grpcio/python3-grpc-tools missing (tools/setup)"
awk '/^## 6\./ {s=1} s && /^```python$/ {p=1; next} p && /^```$/ {exit} p' \
  "$src/docs/integration.md" >"$work/agency.py"
[[ -s "$work/agency.py" ]] || fail "no Python block in docs/integration.md §6"
start_stack
(cd "$src" && ROUTING=127.0.0.1:${port[routing]} AGENCY=002.08.19.H26 \
  exec /usr/bin/python3 "$work/agency.py") >"$work/python.log" 2>&1 &
pid[python]=$!
"$bin/tools/agency-sim/lienthong-agency-sim" --routing=127.0.0.1:${port[routing]} \
  --agencies=003.08.19.H26,000.91.19.H26 --delay=100ms >>"$work/sim.log" 2>&1 &
pid[sim]=$!
"$bin/tools/demo/lienthong-demo" "${demo_args[@]}" --timeout=90s >"$work/demo.log" 2>&1 || fail "the demo did not finish"
cat "$work/python.log"
returned=$(grep -c "Trạng thái cuối: Đã trả kết quả (DOSSIER_STATE_RETURNED)" "$work/demo.log" || true)
[[ "$returned" == 2 ]] || fail "expected 2 returned dossiers, got $returned"
completed=$(grep -c '^completed tasks/' "$work/python.log" || true)
[[ "$completed" == 2 ]] || fail "expected the Python client to complete 2 tasks, got $completed"
# Its outputs are on the routes: a 12-digit personal id per child.
ids=$(/usr/lib/postgresql/15/bin/psql "$dsn" -tAc \
  "SELECT count(*) FROM routing.tasks WHERE leg_id = 'civil_status' AND state = 4")
[[ "$ids" == 2 ]] || fail "expected 2 civil-status legs done, got $ids"
grep -q 'personal_id *[0-9]\{12\}$' "$work/demo.log" || fail "no 12-digit personal id in the demo's outputs"
kill "${pid[python]}" "${pid[sim]}" 2>/dev/null || true
stop_stack
echo "e2e: integration doc (Python) passed"
