#!/usr/bin/env python3
"""Every metric an alert uses is one the services export (docs/development.md
lists them), and every alert's runbook anchor exists in docs/operations.md."""
import re
import sys

import yaml

rules_path, dev_md, ops_md = sys.argv[1:4]
known = set(re.findall(r"`(lienthong_[a-z_<>]+)`", open(dev_md, encoding="utf-8").read()))
patterns = [re.compile("^" + k.replace("<svc>", "[a-z]+") + "(_bucket|_count|_sum)?$") for k in known]
services = ["intake", "routing", "deadline", "notify"]
ops = open(ops_md, encoding="utf-8").read()
anchors = {re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-")
           for h in re.findall(r"^#+ (.+)$", ops, re.M)}
problems = []
for group in yaml.safe_load(open(rules_path, encoding="utf-8"))["groups"]:
    for rule in group["rules"]:
        expr = rule["expr"]
        names = set(re.findall(r"\b(lienthong_[a-z_]+)\b", expr))
        for regex in re.findall(r'__name__=~"([^"]+)"', expr):
            names |= {n for n in (regex.replace("lienthong_.+_", f"lienthong_{s}_") for s in services)}
        for n in names:
            if not any(p.match(n) for p in patterns):
                problems.append(f"{rule['alert']}: unknown metric {n}")
        anchor = rule["annotations"]["runbook_url"].split("#", 1)[1]
        if anchor not in anchors:
            problems.append(f"{rule['alert']}: no section #{anchor} in docs/operations.md")
for p in problems:
    print(p)
print(f"{len(problems)} problems")
sys.exit(1 if problems else 0)
