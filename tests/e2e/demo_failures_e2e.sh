#!/usr/bin/env bash
# The demo says so when it did not do what it shows. Against the real
# stack, each way a run can fall short must make it exit 1 with one last
# line naming what failed: dossiers refused instead of returned, no message
# in the sinks it reads, a webhook whose signature does not verify, a
# webhook URL without its secret, and a wait that times out (naming the
# last error it saw). The run that succeeds is e2e_birth_workflow's.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/stack_lib.sh"
start_stack
start_sim() {
  "$bin/tools/agency-sim/lienthong-agency-sim" --routing=127.0.0.1:${port[routing]} \
    --agencies=002.08.19.H26,003.08.19.H26,000.91.19.H26 --delay=100ms "$@" >>"$work/sim.log" 2>&1 &
  pid[sim]=$!
}
stop_sim() {
  kill -TERM "${pid[sim]}"
  if wait "${pid[sim]}"; then :; else fail "the agency simulator exited $? on SIGTERM"; fi
  unset "pid[sim]"
}
# check_failure NAME RC WANT: the demo run logged in $work/NAME.log exited
# RC, which must be 1, and its last line is the failure line naming WANT.
check_failure() {
  local name="$1" rc="$2" want="$3" line
  [[ "$rc" == 1 ]] || { cat "$work/$name.log"; fail "$name: the demo exited $rc, not 1"; }
  line="$(tail -n 1 "$work/$name.log")"
  [[ "$line" == "demo: FAILED (thất bại): "* ]] || fail "$name: no failure line; last line: $line"
  grep -qF -- "$want" <<<"$line" || fail "$name: the failure line does not name '$want': $line"
  echo "e2e: $name: $line"
}
# expect_failure NAME WANT [demo flags...]: the flags override demo_args.
expect_failure() {
  local name="$1" want="$2" rc=0
  shift 2
  "$bin/tools/demo/lienthong-demo" "${demo_args[@]}" --timeout=60s "$@" >"$work/$name.log" 2>&1 || rc=$?
  check_failure "$name" "$rc" "$want"
}

# Every leg refused: the dossiers end REFUSED, ReturnResult is refused.
start_sim --refuse_probability=1
expect_failure refused "not returned, final state Từ chối giải quyết (DOSSIER_STATE_REFUSED)"
grep -qF "ReturnResult: FAILED_PRECONDITION" <(tail -n 1 "$work/refused.log") ||
  fail "refused: the failed ReturnResult is not named"
stop_sim

# The dossiers finish, but the demo reads sinks nothing was delivered to.
start_sim
mkdir -p "$work/empty-sinks"
expect_failure no_messages "no message landed in the sinks" --sinks_dir="$work/empty-sinks"

# A second webhook registered with a secret the sink does not know: its
# deliveries land with signatures that do not verify.
echo "not-the-sink-secret-$$-0123456789" >"$work/wrong.secret"
expect_failure bad_signature "webhook signature(s) invalid" \
  --webhook_url="http://127.0.0.1:${sink_port[webhook]}/hooks/wrong" \
  --webhook_secret_file="$work/wrong.secret"

# A webhook URL whose secret cannot be read: nothing is submitted.
expect_failure no_secret "needs a secret" --webhook_secret_file="$work/missing.secret"
grep -q "^Tiếp nhận" "$work/no_secret.log" && fail "no_secret: dossiers were submitted"

# No agency works the legs and intake goes away mid-wait: the timeout names
# the state the dossiers were left in and the last error.
stop_sim
rc=0
"$bin/tools/demo/lienthong-demo" "${demo_args[@]}" --timeout=8s >"$work/timeout.log" 2>&1 &
demo=$!
for _ in $(seq 100); do
  [[ $(grep -c "^Tiếp nhận" "$work/timeout.log" || true) == 2 ]] && break
  sleep 0.1
done
[[ $(grep -c "^Tiếp nhận" "$work/timeout.log" || true) == 2 ]] || fail "timeout: the dossiers were not submitted"
kill -TERM "${pid[intake]}"
if wait "${pid[intake]}"; then :; else fail "intake exited $? on SIGTERM"; fi
wait "$demo" || rc=$?
check_failure timeout "$rc" "last error: GetDossier: UNAVAILABLE"
grep -qF "gave up after 8s on dossier" <(tail -n 1 "$work/timeout.log") ||
  fail "timeout: the dossier left waiting is not named"
start_svc intake
wait_serving intake
stop_stack
echo "e2e: demo failures: 5 passed, 0 failed"
