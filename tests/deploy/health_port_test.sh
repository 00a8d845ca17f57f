#!/usr/bin/env bash
# deploy/lienthong-probe against a real server with mTLS, as the probes of
# the mTLS overlays use it: lienthong-notify on loopback requiring client
# certificates (a throwaway CA made here), its own PostgreSQL in a temporary
# directory (tools/pg: Unix socket, no TCP).
#
#   probe_test.sh SOURCE_DIR NOTIFY_BINARY
# Liveness ("") and readiness (the full name) are SERVING; an unknown
# service, a probe without a client certificate and a plaintext probe are
# not; with PostgreSQL stopped readiness fails while liveness holds, and
# recovers when it is back.
set -euo pipefail
src="$1"
notify="$2"
probe="$src/deploy/lienthong-probe"
tmp="$(mktemp -d /tmp/lienthong-probe-test.XXXXXX)"
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
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export LIENTHONG_TLS_CERT="$tmp/tls.crt" LIENTHONG_TLS_KEY="$tmp/tls.key" \
  LIENTHONG_TLS_CLIENT_CA="$tmp/ca.crt" LIENTHONG_PEER_TLS_CA="$tmp/ca.crt" \
  LIENTHONG_PEER_TLS_CERT="$tmp/tls.crt" LIENTHONG_PEER_TLS_KEY="$tmp/tls.key"
"$notify" --listen_address="127.0.0.1:$port" --db_dsn="$dsn" --drain_grace=0s \
  --shutdown_deadline=2s >"$tmp/notify.log" 2>&1 &
server_pid=$!

full=lienthong.notify.v1.NotifyService
up=0
for _ in $(seq 150); do
  if "$probe" "$port" "" 2>/dev/null; then up=1; break; fi
  kill -0 "$server_pid" 2>/dev/null || fail "lienthong-notify exited"
  sleep 0.2
done
[[ $up == 1 ]] || fail "liveness never SERVING"
grep -q "tls=mtls" "$tmp/notify.log" || fail "the server does not require client certificates"
"$probe" "$port" "$full" || fail "readiness not SERVING"
if "$probe" "$port" lienthong.nosuch.v1.Service 2>/dev/null; then fail "an unknown service counts as SERVING"; fi
if env -u LIENTHONG_PEER_TLS_CERT "$probe" "$port" "" 2>/dev/null; then
  fail "a probe without a client certificate passed: the port does not require one"
fi
if env -u LIENTHONG_TLS_CERT "$probe" "$port" "" 2>/dev/null; then fail "a plaintext probe passed a TLS port"; fi

# PostgreSQL away: readiness goes NOT_SERVING (checked every 2 s), liveness stays.
"$src/tools/pg" stop >/dev/null
down=0
for _ in $(seq 50); do
  if ! "$probe" "$port" "$full" 2>/dev/null; then down=1; break; fi
  sleep 0.2
done
[[ $down == 1 ]] || fail "readiness stayed SERVING without PostgreSQL"
"$probe" "$port" "" || fail "liveness failed while only PostgreSQL was away"
"$src/tools/pg" start >/dev/null
back=0
for _ in $(seq 75); do
  if "$probe" "$port" "$full" 2>/dev/null; then back=1; break; fi
  sleep 0.2
done
[[ $back == 1 ]] || fail "readiness did not come back with PostgreSQL"
echo "lienthong-probe: liveness, readiness, refusals and the database's absence as expected"
