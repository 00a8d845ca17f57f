#!/usr/bin/python3
"""Local SMS-gateway sink and webhook receiver for lienthong-notify.

Records every POST it gets (one JSON line per request in --out) and answers
like a gateway would. Deliveries are deduplicated on the Idempotency-Key /
X-Lienthong-Delivery header, the way a receiver must (notify delivers at
least once). Deliveries it accepted before a restart are read back from --out, so they
stay duplicates. With --webhook_secret (or --webhook_secret_file) it verifies X-Lienthong-Signature
(HMAC-SHA256 over "<t>.<body>", see docs/notify.md) and records the result.
With --tls_cert/--tls_key it speaks HTTPS (what a real gateway or webhook
receiver does), records "tls": true and counts refused handshakes in
"tls_failures"; the control endpoints then stay plain HTTP on
--control_port so tests can steer it without trusting its certificate.

Control endpoints (for tests and the demo):
  POST /_control/fail?n=3        the next 3 requests answer 503
  POST /_control/fail?n=-1       every request answers 503 until reset
  POST /_control/fail?n=1&code=410  the next request answers 410 (any code)
  POST /_control/delay?ms=500    hold each answer this long
  POST /_control/reset           forget failures and delay (keeps messages)
  GET  /_control/messages        accepted deliveries (first copy of each key)
  GET  /_control/stats           {"received", "accepted", "duplicates", "failed",
                                  "tls_failures"}

Usage: http_sink.py --port 0 --port_file /tmp/sms.port --out /tmp/sms.jsonl
       http_sink.py --port 8443 --control_port 8444 --tls_cert c.crt \
           --tls_key c.key --out /tmp/sms.jsonl
"""

import argparse
import hashlib
import hmac
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import sink_records


class State:
    def __init__(self, out_path, secret, tolerance):
        self.lock = threading.Lock()
        self.fail_next = 0
        self.fail_code = 503
        self.delay_ms = 0
        self.stats = {"received": 0, "accepted": 0, "duplicates": 0,
                      "failed": 0, "tls_failures": 0}
        self.out_path = out_path
        self.secret = secret.encode() if secret else None
        self.tolerance = tolerance
        self.keys, self.messages = sink_records.load_accepted(out_path, "key")

    def record(self, entry):
        sink_records.append(self.out_path, entry)


def verify(secret, header, body, tolerance):
    """True when header is a fresh v1 signature of body under secret."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(time.time() - ts) > tolerance:
        return False
    want = hmac.new(secret, str(ts).encode() + b"." + body,
                    hashlib.sha256).hexdigest()
    sigs = [v for k, v in (p.split("=", 1) for p in header.split(",")
                           if "=" in p) if k == "v1"]
    return any(hmac.compare_digest(want, s) for s in sigs)


def make_handler(state, tls=False, control_only=False):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            if tls:
                # The handshake runs here, in the request's thread, so a
                # client that refuses our certificate (or never speaks)
                # holds up nobody else.
                try:
                    self.request.do_handshake()
                except (ssl.SSLError, OSError):
                    with state.lock:
                        state.stats["tls_failures"] += 1
                    raise
            super().setup()

        def log_message(self, fmt, *args):  # quiet
            pass

        def reply(self, code, obj):
            data = json.dumps(obj, ensure_ascii=False).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def control(self, url):
            q = parse_qs(url.query)
            with state.lock:
                if url.path == "/_control/fail":
                    state.fail_next = int(q.get("n", ["1"])[0])
                    state.fail_code = int(q.get("code", ["503"])[0])
                elif url.path == "/_control/delay":
                    state.delay_ms = int(q.get("ms", ["0"])[0])
                elif url.path == "/_control/reset":
                    state.fail_next = 0
                    state.fail_code = 503
                    state.delay_ms = 0
                elif url.path == "/_control/messages":
                    return self.reply(200, {"messages": state.messages})
                elif url.path == "/_control/stats":
                    return self.reply(200, dict(state.stats))
                else:
                    return self.reply(404, {"error": "unknown control"})
            return self.reply(200, {"ok": True})

        def do_GET(self):
            url = urlparse(self.path)
            if url.path.startswith("/_control/"):
                return self.control(url)
            if control_only:
                return self.reply(404, {"error": "control port"})
            if url.path == "/healthz":
                return self.reply(200, {"ok": True})
            return self.reply(404, {"error": "not found"})

        def do_POST(self):
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length) if length else b""
            if url.path.startswith("/_control/"):
                return self.control(url)
            if control_only:
                return self.reply(404, {"error": "control port"})
            key = (self.headers.get("X-Lienthong-Delivery") or
                   self.headers.get("Idempotency-Key") or "")
            sig = self.headers.get("X-Lienthong-Signature", "")
            entry = {
                "time": time.time(),
                "path": url.path,
                "host": self.headers.get("Host", ""),
                "key": key,
                "event": self.headers.get("X-Lienthong-Event", ""),
                "authorization": bool(self.headers.get("Authorization")),
                "signature": sig,
                "body": body.decode("utf-8", "replace"),
                "tls": tls,
            }
            if state.secret is not None:
                entry["signature_valid"] = verify(state.secret, sig, body,
                                                  state.tolerance)
            with state.lock:
                state.stats["received"] += 1
                delay = state.delay_ms
                fail = state.fail_next != 0
                fail_code = state.fail_code
                if state.fail_next > 0:
                    state.fail_next -= 1
            if delay:
                time.sleep(delay / 1000.0)
            if fail:
                with state.lock:
                    state.stats["failed"] += 1
                entry["result"] = "failed"
                state.record(entry)
                return self.reply(fail_code, {"error": "told to fail"})
            with state.lock:
                duplicate = bool(key) and key in state.keys
                if duplicate:
                    state.stats["duplicates"] += 1
                else:
                    if key:
                        state.keys.add(key)
                    state.stats["accepted"] += 1
                    state.messages.append(entry)
            entry["result"] = "duplicate" if duplicate else "accepted"
            state.record(entry)
            return self.reply(200, {"ok": True, "duplicate": duplicate,
                                    "message_id": key})

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A sender killed mid-request (as the tests do) is not news.
        # Nor is a client refusing our certificate (counted in setup()).
        if isinstance(sys.exc_info()[1], (BrokenPipeError,
                                           ConnectionResetError,
                                           ssl.SSLError)):
            return
        super().handle_error(request, client_address)


class TlsServer(Server):
    """Server whose connections are TLS; the handshake is left to setup()."""

    def __init__(self, address, handler, context):
        self.context = context
        super().__init__(address, handler)

    def get_request(self):
        sock, address = self.socket.accept()
        return (self.context.wrap_socket(sock, server_side=True,
                                         do_handshake_on_connect=False),
                address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port_file", default="")
    ap.add_argument("--out", default="", help="JSONL file of requests")
    ap.add_argument("--webhook_secret", default="")
    ap.add_argument("--webhook_secret_file", default="",
                    help="file holding the secret (kept off the command line)")
    ap.add_argument("--tolerance", type=int, default=300,
                    help="seconds a signature timestamp may be off")
    ap.add_argument("--tls_cert", default="", help="PEM certificate: HTTPS")
    ap.add_argument("--tls_key", default="", help="PEM private key")
    ap.add_argument("--control_port", type=int, default=-1,
                    help="plain-HTTP port for /_control/ (with --tls_cert)")
    args = ap.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls_cert and --tls_key go together")
    secret = args.webhook_secret
    if args.webhook_secret_file:
        with open(args.webhook_secret_file, encoding="utf-8") as f:
            secret = f.read().strip()
    sink_records.owner_only()
    state = State(args.out, secret, args.tolerance)
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server = TlsServer((args.host, args.port),
                           make_handler(state, tls=True), context)
    else:
        server = Server((args.host, args.port), make_handler(state))
    if args.control_port >= 0:
        control = Server((args.host, args.control_port),
                         make_handler(state, control_only=True))
        threading.Thread(target=control.serve_forever, daemon=True).start()
        print(f"http_sink control on {args.host}:"
              f"{control.server_address[1]}", flush=True)
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(args.port_file + ".tmp", args.port_file)
    print(f"http_sink listening on {args.host}:{port}", flush=True)
    sink_records.exit_on_sigterm()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
