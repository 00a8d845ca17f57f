#!/usr/bin/python3
"""The local sinks as tools/stack runs them: restarts keep duplicates
duplicates, the secret comes from a file, records are owner-only, SIGTERM
is a clean exit."""

import hashlib
import hmac
import json
import os
import signal
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


if __name__ == "__main__":
    unittest.main()
