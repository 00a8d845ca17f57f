#!/usr/bin/env bash
# End to end: the four services, the agency simulator and the demo as real
# processes against a private PostgreSQL. Mid-run, routing and the agency
# simulator are killed with SIGKILL and started again: both dossiers must
# still finish (nothing lost, no leg skipped, none done twice); the
# restarted simulator claims on delivery (WatchTasks with a lease) instead
# of calling ClaimTask. Finally the simulator and each service get SIGTERM
# and must exit 0 (the simulator within 5 s, from its open watch streams).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/stack_lib.sh"
start_stack
start_sim() {
  "$bin/tools/agency-sim/lienthong-agency-sim" --routing=127.0.0.1:${port[routing]} \
    --agencies=002.08.19.H26,003.08.19.H26,000.91.19.H26 --delay=700ms --lease=3s "$@" >>"$work/sim.log" 2>&1 &
  pid[sim]=$!
}
start_sim
"$bin/tools/demo/lienthong-demo" "${demo_args[@]}" --timeout=90s >"$work/demo.log" 2>&1 &
demo=$!
sleep 1
echo "e2e: kill -9 routing and the agency simulator mid-run, then restart them"
kill -9 "${pid[routing]}" "${pid[sim]}"
sleep 1
start_svc routing
wait_serving routing
start_sim --claim_on_delivery
wait "$demo" || fail "the demo did not finish"
cat "$work/demo.log"
returned=$(grep -c "Trạng thái cuối: Đã trả kết quả (DOSSIER_STATE_RETURNED)" "$work/demo.log" || true)
[[ "$returned" == 2 ]] || fail "expected 2 returned dossiers, got $returned"
# No leg done twice: every task of both routes completed exactly once.
dup=$(/usr/lib/postgresql/15/bin/psql "$dsn" -tAc \
  "SELECT count(*) FROM (SELECT dossier, leg_id FROM routing.tasks GROUP BY 1,2 HAVING count(*) > 1) x")
[[ "$dup" == 0 ]] || fail "duplicated legs"
done_legs=$(/usr/lib/postgresql/15/bin/psql "$dsn" -tAc "SELECT count(*) FROM routing.tasks WHERE state = 4")
[[ "$done_legs" == 6 ]] || fail "expected 6 legs done, got $done_legs"
# Notifications: the citizens got their messages in Vietnamese through the
# real channels, each exactly once, and the ward's webhook verified every
# signature. Dossier 1's father prefers SMS, dossier 2's e-mail.
codes=($(grep -o '^Tiếp nhận [^ ]*' "$work/demo.log" | cut -d' ' -f3))
[[ ${#codes[@]} == 2 ]] || fail "expected 2 dossier codes in the demo output"
/usr/bin/python3 - "$work/sinks" "${codes[@]}" <<'PY' || fail "notifications"
import json, sys
sinks, code1, code2 = sys.argv[1], sys.argv[2], sys.argv[3]
def accepted(name):
    with open(f"{sinks}/{name}.jsonl", encoding="utf-8") as f:
        return [e for e in map(json.loads, f) if e["result"] == "accepted"]
sms = [json.loads(e["body"]) for e in accepted("sms")]
texts = [m["text"] for m in sms if code1 in m["text"]]
assert any("đã được tiếp nhận" in t for t in texts), texts
assert any("đã có kết quả" in t for t in texts), texts
assert all(m["to"] == "0912345678" for m in sms), "SMS only to dossier 1's father"
subjects = [e["subject"] for e in accepted("mail") if code2 in e["subject"]]
# Received, supplement requested, result ready. The supplement came
# within seconds, so the restarted legal time leaves the appointment as
# printed to the minute and no "new appointment" message goes out.
assert len(subjects) == 3 and any("cần bổ sung" in s for s in subjects), subjects
assert all(e["rcpt_to"] == ["pham.van.cuong@example.vn"] for e in accepted("mail"))
hooks = accepted("webhook")
assert hooks and all(e["signature_valid"] for e in hooks), hooks
events = sorted(json.loads(e["body"])["event_type"] for e in hooks
                if code2 in e["body"])
assert events.count("supplement_requested") == 1, events
assert events.count("appointment_rescheduled") == 0, events
for name in ("sms", "mail", "webhook"):
    keys = [e.get("key") or e.get("message_id") for e in accepted(name)]
    assert len(keys) == len(set(keys)), f"{name}: a message delivered twice"
print(f"e2e: notifications ok: {len(sms)} SMS, {len(subjects)} e-mails, {len(hooks)} webhooks")
PY
grep -q "Nơi nhận" "$work/demo.log" || fail "the demo did not show where messages landed"
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
kill -TERM "${pid[sim]}"
for _ in $(seq 50); do kill -0 "${pid[sim]}" 2>/dev/null || break; sleep 0.1; done
if kill -0 "${pid[sim]}" 2>/dev/null; then fail "the agency simulator still runs 5s after SIGTERM"; fi
if wait "${pid[sim]}"; then :; else fail "the agency simulator exited $? on SIGTERM"; fi
unset "pid[sim]"
stop_stack
echo "e2e: 1 passed, 0 failed"
