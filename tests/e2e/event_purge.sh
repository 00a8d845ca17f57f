#!/usr/bin/env bash
# Event retention, as a real intake process does it: a retention below its
# floor stops start-up with one clear line (exit 2); a running service
# deletes delivered outbox events past --outbox_retention and inbox ids past
# --inbox_retention, keeps undelivered events whatever their age, logs
# events_purged and counts both in lienthong_intake_events_purged_total.
set -euo pipefail
src="${LIENTHONG_SOURCE_DIR:?}"
bin="${LIENTHONG_BINARY_DIR:?}"
intake="$bin/services/intake/lienthong-intake"
work="$(mktemp -d /tmp/lienthong-purge-XXXXXX)"
chmod 755 "$work"  # the PostgreSQL server runs as postgres when we are root
export LIENTHONG_PG_DIR="$work/pg"
svc=""
cleanup() {
  if [[ -n "$svc" ]]; then kill -9 "$svc" 2>/dev/null || true; fi
  "$src/tools/pg" stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "event_purge: FAIL: $*"; tail -n 20 "$work/intake.log" 2>/dev/null || true; exit 1; }

"$src/tools/pg" start >/dev/null
dsn="$("$src/tools/pg" dsn)"
psql() { /usr/lib/postgresql/15/bin/psql "$dsn" -v ON_ERROR_STOP=1 -tAq "$@"; }
# Peers nobody listens on: events to them stay pending.
peers=(--routing_address=127.0.0.1:9 --deadline_address=127.0.0.1:9 --notify_address=127.0.0.1:9)
common=(--listen_address=127.0.0.1:0 --db_dsn="$dsn" --insecure_dev_auth
  --drain_grace=0s --shutdown_deadline=2s "${peers[@]}")

# 1. Retentions the inbox (and notify's deliveries) cannot safely have.
set +e
"$intake" "${common[@]}" --inbox_retention=2h >"$work/refused.log" 2>&1
code=$?
set -e
[[ $code == 2 ]] || fail "--inbox_retention=2h: exit $code, want 2"
grep -q -- "--inbox_retention must be 0 (keep) or at least 24h" "$work/refused.log" ||
  fail "no clear line for --inbox_retention=2h: $(cat "$work/refused.log")"
# notify's deliveries must outlive the inbox's memory of their events
# (a notify that starts anyway is stopped by timeout: exit 124).
set +e
timeout 30 "$bin/services/notify/lienthong-notify" --listen_address=127.0.0.1:0 --db_dsn="$dsn" \
  --insecure_dev_auth --delivery_retention=720h >"$work/refused-notify.log" 2>&1
code=$?
set -e
[[ $code == 2 ]] || fail "notify --delivery_retention=720h: exit $code, want 2"
grep -q -- "--delivery_retention must be 0 (keep) or longer than --inbox_retention (720h)" \
  "$work/refused-notify.log" ||
  fail "no clear line for --delivery_retention=720h: $(cat "$work/refused-notify.log")"

# 2. Migrate (a first start with purging off), then rows of every age.
read -r mport < <(python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$intake" "${common[@]}" --outbox_retention=0 --inbox_retention=0 >"$work/first.log" 2>&1 &
svc=$!
for _ in $(seq 100); do grep -q "event=serving" "$work/first.log" && break; sleep 0.1; done
grep -q "event=serving" "$work/first.log" || fail "intake did not start: $(tail -n 5 "$work/first.log")"
kill -TERM "$svc"
wait "$svc" || fail "intake did not exit 0 on SIGTERM"
svc=""
psql <<'SQL'
-- Events 1 and 2 with their payload stored once; 3 as rows written before
-- that (payload in the row); 4's payload alone, younger than the retention
-- (its rows may still be committing).
INSERT INTO intake.outbox (event_id, destination, event_type, payload, created_at, next_attempt_at, delivered_at) VALUES
  ('00000000-0000-0000-0000-000000000001', 'routing', 'lienthong.intake.v1.DossierReceived', NULL, now() - interval '9 days', now() - interval '9 days', now() - interval '8 days'),
  ('00000000-0000-0000-0000-000000000001', 'notify',  'lienthong.intake.v1.DossierReceived', NULL, now() - interval '9 days', now() - interval '9 days', now() - interval '8 days'),
  ('00000000-0000-0000-0000-000000000002', 'routing', 'lienthong.intake.v1.DossierReceived', NULL, now() - interval '2 days', now() - interval '2 days', now() - interval '1 day'),
  ('00000000-0000-0000-0000-000000000003', 'nowhere', 'lienthong.intake.v1.DossierReceived', '\x00', now() - interval '60 days', now() + interval '1 day', NULL);
INSERT INTO intake.outbox_payloads (event_id, payload, created_at) VALUES
  ('00000000-0000-0000-0000-000000000001', '\x00', now() - interval '9 days'),
  ('00000000-0000-0000-0000-000000000002', '\x00', now() - interval '2 days'),
  ('00000000-0000-0000-0000-000000000004', '\x00', now() - interval '1 day');
INSERT INTO intake.inbox (event_id, received_at) VALUES
  ('00000000-0000-0000-0000-00000000000a', now() - interval '31 days'),
  ('00000000-0000-0000-0000-00000000000b', now() - interval '1 day');
SQL

# 3. Started with the defaults (a week, 30 days), it purges at once.
"$intake" "${common[@]}" --metrics_port="$mport" >"$work/intake.log" 2>&1 &
svc=$!
for _ in $(seq 100); do grep -q "event=events_purged" "$work/intake.log" && break; sleep 0.1; done
grep -q "event=events_purged outbox=2 outbox_payloads=1 inbox=1" "$work/intake.log" ||
  fail "no events_purged outbox=2 outbox_payloads=1 inbox=1 line"
left=$(psql -c "SELECT string_agg(right(event_id::text, 1) || ':' || destination, ' ' ORDER BY 1) FROM intake.outbox")
[[ "$left" == "2:routing 3:nowhere" ]] || fail "outbox left: '$left', want '2:routing 3:nowhere'"
left=$(psql -c "SELECT string_agg(right(event_id::text, 1), ' ' ORDER BY 1) FROM intake.outbox_payloads")
[[ "$left" == "2 4" ]] || fail "payloads left: '$left', want '2 4'"
left=$(psql -c "SELECT string_agg(right(event_id::text, 1), ' ' ORDER BY 1) FROM intake.inbox")
[[ "$left" == "b" ]] || fail "inbox left: '$left', want 'b'"
metrics=$(curl -s "http://127.0.0.1:$mport/metrics")
grep -q '^lienthong_intake_events_purged_total{table="outbox"} 2' <<<"$metrics" ||
  fail "metric for the outbox missing: $(grep purged <<<"$metrics")"
grep -q '^lienthong_intake_events_purged_total{table="outbox_payloads"} 1' <<<"$metrics" ||
  fail "metric for the payloads missing: $(grep purged <<<"$metrics")"
grep -q '^lienthong_intake_events_purged_total{table="inbox"} 1' <<<"$metrics" ||
  fail "metric for the inbox missing: $(grep purged <<<"$metrics")"
kill -TERM "$svc"
wait "$svc" || fail "intake did not exit 0 on SIGTERM"
svc=""
echo "event_purge: passed"
