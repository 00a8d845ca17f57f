#!/usr/bin/python3
"""The local sinks as tools/stack runs them: restarts keep duplicates
duplicates, the secret comes from a file, records are owner-only, SIGTERM
is a clean exit."""

import hashlib
import hmac
import json
import os
import signal
import smtplib
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


class HttpSink:
    def __init__(self, work, *args):
        self.port_file = os.path.join(work, "port")
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "http_sink.py"), "--port", "0",
             "--port_file", self.port_file, *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(100):
            if os.path.exists(self.port_file):
                break
            time.sleep(0.05)
        with open(self.port_file) as f:
            self.port = int(f.read())

    def post(self, body, headers):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/sms",
                                     data=body, headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=5)


class HttpSinkTest(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp()
        self.out = os.path.join(self.work, "sms.jsonl")

    def test_a_restart_keeps_what_was_accepted(self):
        body = json.dumps({"to": "0912345678", "text": "Hồ sơ đã được tiếp nhận"},
                          ensure_ascii=False).encode()
        sink = HttpSink(self.work, "--out", self.out)
        first = sink.post(body, {"X-Lienthong-Delivery": "d-1"})
        self.assertEqual(0, sink.stop())
        self.assertFalse(first["duplicate"])
        sink = HttpSink(self.work, "--out", self.out)
        again = sink.post(body, {"X-Lienthong-Delivery": "d-1"})
        other = sink.post(body, {"X-Lienthong-Delivery": "d-2"})
        self.assertEqual(0, sink.stop())
        self.assertTrue(again["duplicate"])
        self.assertFalse(other["duplicate"])
        with open(self.out, encoding="utf-8") as f:
            results = [json.loads(l)["result"] for l in f]
        self.assertEqual(["accepted", "duplicate", "accepted"], results)
        # Phone numbers inside: only the owner may read the file.
        self.assertEqual(0o600, stat.S_IMODE(os.stat(self.out).st_mode))

    def test_secret_from_a_file(self):
        secret_file = os.path.join(self.work, "secret")
        with open(secret_file, "w") as f:
            f.write("a-secret-of-sixteen-plus\n")
        sink = HttpSink(self.work, "--out", self.out,
                        "--webhook_secret_file", secret_file)
        body = b'{"event_type":"dossier_received"}'
        t = str(int(time.time()))

        def signed(secret):
            mac = hmac.new(secret, t.encode() + b"." + body, hashlib.sha256)
            return {"X-Lienthong-Signature": f"t={t},v1={mac.hexdigest()}",
                    "X-Lienthong-Delivery": secret.decode()}

        sink.post(body, signed(b"a-secret-of-sixteen-plus"))
        sink.post(body, signed(b"another-secret-entirely"))
        self.assertEqual(0, sink.stop())
        with open(self.out, encoding="utf-8") as f:
            valid = [json.loads(l)["signature_valid"] for l in f]
        self.assertEqual([True, False], valid)
        # The secret is not on the command line (visible to every user).
        self.assertNotIn("a-secret", " ".join(sink.proc.args))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSinkTest(unittest.TestCase):
    def start(self, work, out, port):
        port_file = os.path.join(work, "smtp.port")
        if os.path.exists(port_file):
            os.remove(port_file)
        proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "smtp_sink.py"), "--port",
             str(port), "--port_file", port_file, "--out", out],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(100):
            if os.path.exists(port_file):
                return proc
            time.sleep(0.05)
        proc.kill()
        self.fail("smtp_sink did not start: " + proc.stderr.read().decode())

    def send(self, port, message_id):
        msg = ("From: mot-cua@hanoi.gov.vn\r\nTo: dan@example.vn\r\n"
               f"Message-ID: <{message_id}@hanoi.gov.vn>\r\n"
               "Subject: test\r\n\r\nXin chao\r\n")
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as c:
            c.sendmail("mot-cua@hanoi.gov.vn", ["dan@example.vn"], msg)

    def test_a_restart_keeps_what_was_accepted(self):
        work = tempfile.mkdtemp()
        out = os.path.join(work, "mail.jsonl")
        port = free_port()
        sink = self.start(work, out, port)
        self.send(port, "m-1")
        sink.send_signal(signal.SIGTERM)
        self.assertEqual(0, sink.wait(timeout=5))
        sink = self.start(work, out, port)
        self.send(port, "m-1")
        self.send(port, "m-2")
        sink.send_signal(signal.SIGTERM)
        self.assertEqual(0, sink.wait(timeout=5))
        with open(out, encoding="utf-8") as f:
            results = [json.loads(l)["result"] for l in f]
        self.assertEqual(["accepted", "duplicate", "accepted"], results)
        self.assertEqual(0o600, stat.S_IMODE(os.stat(out).st_mode))


if __name__ == "__main__":
    unittest.main()
