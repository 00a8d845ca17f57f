#!/usr/bin/python3
"""Local SMTP sink for lienthong-notify (Debian's python3-aiosmtpd).

Accepts mail on --port, decodes it (RFC 2047 subjects, folded into several
encoded-words or not; base64/UTF-8 bodies, the text/plain and text/html
parts of multipart/alternative) and appends one JSON line per message to
--out. Messages are deduplicated on their Message-ID (notify delivers at
least once), also those an earlier run accepted (read back from --out).
Offers STARTTLS when given --tls_cert/--tls_key, and AUTH
PLAIN/LOGIN when given --auth user:password (also without TLS: it is a
local sink).

An HTTP control port (--control_port) answers like tools/sinks/http_sink.py:
  POST /_control/fail?n=3   the next 3 messages get "451 try again later"
  POST /_control/fail?n=-1  every message fails until reset
  POST /_control/fail?n=1&code=550  the next message is refused for good
                                    ("550 5.1.1"; any 5xx)
  POST /_control/reset
  GET  /_control/messages   accepted messages (first copy of each Message-ID)
  GET  /_control/stats      {"received", "accepted", "duplicates", "failed"}

Usage: /usr/bin/python3 smtp_sink.py --port 2525 --control_port 2526 \
         --out /tmp/mail.jsonl [--auth notify:secret]
"""

import argparse
import email
import email.policy
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

import sink_records


class State:
    def __init__(self, out_path):
        self.lock = threading.Lock()
        self.fail_next = 0
        self.fail_code = 451
        self.stats = {"received": 0, "accepted": 0, "duplicates": 0,
                      "failed": 0}
        self.out_path = out_path
        self.keys, self.messages = sink_records.load_accepted(
            out_path, "message_id")

    def record(self, entry):
        sink_records.append(self.out_path, entry)


def body_parts(msg):
    text, html = "", ""
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        try:
            content = part.get_content()
        except Exception:  # pylint: disable=broad-except
            continue
        if ctype == "text/plain" and not text:
            text = content
        elif ctype == "text/html" and not html:
            html = content
    return text, html


class Handler:
    def __init__(self, state):
        self.state = state

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content,
                                       policy=email.policy.default)
        text, html = body_parts(msg)
        key = str(msg.get("Message-ID", "")).strip()
        entry = {
            "time": time.time(),
            "mail_from": envelope.mail_from,
            "rcpt_to": list(envelope.rcpt_tos),
            "from": str(msg.get("From", "")),
            "to": str(msg.get("To", "")),
            "subject": str(msg.get("Subject", "")),
            "message_id": key,
            "text": text,
            "html": html,
            "tls": bool(session.ssl),
            "authenticated": bool(session.authenticated),
        }
        st = self.state
        with st.lock:
            st.stats["received"] += 1
            fail = st.fail_next != 0
            fail_code = st.fail_code
            if st.fail_next > 0:
                st.fail_next -= 1
            if fail:
                st.stats["failed"] += 1
            else:
                duplicate = bool(key) and key in st.keys
                if duplicate:
                    st.stats["duplicates"] += 1
                else:
                    st.keys.add(key)
                    st.stats["accepted"] += 1
                    st.messages.append(entry)
        if fail:
            entry["result"] = "failed"
            st.record(entry)
            if fail_code >= 500:
                return f"{fail_code} 5.1.1 told to refuse for good"
            return "451 4.3.0 told to fail"
        entry["result"] = "duplicate" if duplicate else "accepted"
        st.record(entry)
        return "250 2.0.0 OK"


def make_control(state):
    class Control(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def reply(self, code, obj):
            data = json.dumps(obj, ensure_ascii=False).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def handle_any(self):
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length", "0"))
            if length:
                self.rfile.read(length)
            q = parse_qs(url.query)
            with state.lock:
                if url.path == "/_control/fail":
                    state.fail_next = int(q.get("n", ["1"])[0])
                    state.fail_code = int(q.get("code", ["451"])[0])
                elif url.path == "/_control/reset":
                    state.fail_next = 0
                    state.fail_code = 451
                elif url.path == "/_control/messages":
                    return self.reply(200, {"messages": state.messages})
                elif url.path == "/_control/stats":
                    return self.reply(200, dict(state.stats))
                elif url.path != "/healthz":
                    return self.reply(404, {"error": "unknown control"})
            return self.reply(200, {"ok": True})

        do_GET = handle_any
        do_POST = handle_any

    return Control


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--control_port", type=int, default=0)
    ap.add_argument("--out", default="")
    ap.add_argument("--auth", default="", help="user:password")
    ap.add_argument("--tls_cert", default="")
    ap.add_argument("--tls_key", default="")
    ap.add_argument("--port_file", default="",
                    help="written (the SMTP port) once both ports are bound")
    args = ap.parse_args()

    sink_records.owner_only()
    state = State(args.out)
    kwargs = {}
    if args.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        kwargs["tls_context"] = ctx
    if args.auth:
        user, _, password = args.auth.partition(":")

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and
                  auth_data.login.decode() == user and
                  auth_data.password.decode() == password)
            # handled=False: aiosmtpd then answers a refusal with "535
            # 5.7.8" itself, as a real server does (handled=True would
            # leave the client waiting for a reply that never comes).
            return AuthResult(success=ok, handled=False)

        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = bool(args.tls_cert)
    # The control port first: if it is taken, exit before the SMTP
    # server's thread exists.
    control = None
    if args.control_port:
        control = ThreadingHTTPServer((args.host, args.control_port),
                                      make_control(state))
        control.daemon_threads = True
        threading.Thread(target=control.serve_forever, daemon=True).start()
    controller = Controller(Handler(state), hostname=args.host,
                            port=args.port, enable_SMTPUTF8=True, **kwargs)
    controller.start()
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(args.port))
        os.replace(args.port_file + ".tmp", args.port_file)
    print(f"smtp_sink listening on {args.host}:{args.port} "
          f"(control {args.control_port})", flush=True)
    sink_records.exit_on_sigterm()
    try:
        threading.Event().wait()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
