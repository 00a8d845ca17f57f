#!/usr/bin/env bash
# The health port as the mTLS overlays' native grpc probes use it:
# lienthong-notify on loopback requiring client certificates (a throwaway CA
# made here) with LIENTHONG_HEALTH_PORT set, its own PostgreSQL in a
# temporary directory (tools/pg: Unix socket, no TCP), and
# lienthong-healthcheck asking over plaintext without a certificate, as the
# kubelet does.
#
#   health_port_test.sh SOURCE_DIR NOTIFY_BINARY HEALTHCHECK_BINARY
# Liveness ("") and readiness (the full name) are SERVING on the health
# port while the grpc port refuses plaintext; an unknown service is not
# SERVING; with PostgreSQL stopped readiness fails while liveness holds, and
# recovers when it is back; after SIGTERM readiness is NOT_SERVING for the
# drain and the process exits 0.
set -euo pipefail
src="$1"
notify="$2"
healthcheck="$3"
tmp="$(mktemp -d /tmp/lienthong-health-port-test.XXXXXX)"
chmod 755 "$tmp"  # the PostgreSQL server runs as postgres when we are root
export LIENTHONG_PG_DIR="$tmp/pg"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  "$src/tools/pg" stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "--- server log" >&2; tail -n 20 "$tmp/notify.log" >&2 || true; exit 1; }
# ask PORT SERVICE: exit 0 when SERVING (one plaintext Check, 2 s deadline).
ask() { "$healthcheck" --address="127.0.0.1:$1" --service="$2" --timeout=2s --quiet; }

# A CA, and one certificate for server and client use (CN=notify, OU=service).
(
  cd "$tmp"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
    -out ca.crt -subj "/CN=lienthong-test-ca" -days 1 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -out tls.csr \
    -subj "/O=000.00.00.H26/OU=service/CN=notify" 2>/dev/null
  printf 'subjectAltName=DNS:notify,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >ext
  openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out tls.crt -days 1 \
    -extfile ext 2>/dev/null
)

"$src/tools/pg" start >/dev/null
dsn="$("$src/tools/pg" dsn)"
read -r port hport < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
export LIENTHONG_TLS_CERT="$tmp/tls.crt" LIENTHONG_TLS_KEY="$tmp/tls.key" \
  LIENTHONG_TLS_CLIENT_CA="$tmp/ca.crt" LIENTHONG_PEER_TLS_CA="$tmp/ca.crt" \
  LIENTHONG_PEER_TLS_CERT="$tmp/tls.crt" LIENTHONG_PEER_TLS_KEY="$tmp/tls.key" \
  LIENTHONG_HEALTH_PORT="$hport"
"$notify" --listen_address="127.0.0.1:$port" --db_dsn="$dsn" --drain_grace=3s \
  --shutdown_deadline=2s >"$tmp/notify.log" 2>&1 &
server_pid=$!

full=lienthong.notify.v1.NotifyService
up=0
for _ in $(seq 150); do
  if ask "$hport" ""; then up=1; break; fi
  kill -0 "$server_pid" 2>/dev/null || fail "lienthong-notify exited"
  sleep 0.2
done
[[ $up == 1 ]] || fail "liveness never SERVING on the health port"
grep -q "tls=mtls" "$tmp/notify.log" || fail "the grpc port does not require client certificates"
grep -q "health_port=$hport" "$tmp/notify.log" || fail "the log does not name health_port=$hport"
ask "$hport" "$full" || fail "readiness not SERVING on the health port"
if ask "$hport" lienthong.nosuch.v1.Service; then fail "an unknown service counts as SERVING"; fi
if ask "$port" ""; then fail "a plaintext check passed the grpc port: it does not require TLS"; fi

# PostgreSQL away: readiness goes NOT_SERVING (checked every 2 s), liveness stays.
"$src/tools/pg" stop >/dev/null
down=0
for _ in $(seq 50); do
  if ! ask "$hport" "$full"; then down=1; break; fi
  sleep 0.2
done
[[ $down == 1 ]] || fail "readiness stayed SERVING without PostgreSQL"
ask "$hport" "" || fail "liveness failed while only PostgreSQL was away"
"$src/tools/pg" start >/dev/null
back=0
for _ in $(seq 75); do
  if ask "$hport" "$full"; then back=1; break; fi
  sleep 0.2
done
[[ $back == 1 ]] || fail "readiness did not come back with PostgreSQL"

# SIGTERM: NOT_SERVING on the health port for the drain grace, then exit 0.
kill -TERM "$server_pid"
sleep 0.5
kill -0 "$server_pid" 2>/dev/null || fail "exited before the drain grace was over"
if ask "$hport" "$full"; then fail "readiness SERVING during the drain"; fi
rc=0
wait "$server_pid" || rc=$?
server_pid=""
[[ $rc == 0 ]] || fail "exit $rc after SIGTERM"
if ask "$hport" ""; then fail "the health port still answers after exit"; fi
echo "health port: liveness, readiness, the database's absence and the drain as expected under mTLS"
