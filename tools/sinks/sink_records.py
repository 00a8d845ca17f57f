"""What a local sink keeps in its --out file: one JSON line per message it
got, shared by http_sink.py and smtp_sink.py."""

import json
import os
import signal
import sys


def owner_only():
    """Files the sink creates from now on are the owner's alone: they hold
    phone numbers and e-mail addresses."""
    os.umask(0o077)


def exit_on_sigterm():
    """`tools/stack down` stops a sink with SIGTERM: a clean exit, 0."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def append(out_path, entry):
    if out_path:
        with open(out_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def load_accepted(out_path, key_field):
    """The keys and entries an earlier run accepted, so that a message sent
    again after a restart of the sink is still a duplicate."""
    keys, messages = set(), []
    if not out_path or not os.path.exists(out_path):
        return keys, messages
    os.chmod(out_path, 0o600)  # one written before owner_only()
    with open(out_path, encoding="utf-8") as f:
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short when the sink was killed
            if entry.get("result") == "accepted":
                if entry.get(key_field):
                    keys.add(entry[key_field])
                messages.append(entry)
    return keys, messages
