#!/usr/bin/env python3
"""The prometheus-operator PrometheusRule (k8s/components/monitoring) carries
exactly the alert groups of deploy/prometheus/alerts.yml, so the rules that
promtool checks and unit-tests are the ones the cluster runs.

  check_prometheus_rule.py ALERTS.yml PROMETHEUS_RULE.yaml"""
import sys

import yaml

alerts_path, rule_path = sys.argv[1:3]
want = yaml.safe_load(open(alerts_path, encoding="utf-8"))["groups"]
rule = yaml.safe_load(open(rule_path, encoding="utf-8"))
problems = []
if rule.get("kind") != "PrometheusRule" or rule.get("apiVersion") != "monitoring.coreos.com/v1":
    problems.append(f"{rule_path} is not a monitoring.coreos.com/v1 PrometheusRule")
got = (rule.get("spec") or {}).get("groups") or []
if got != want:
    names = lambda gs: [(g["name"], [r.get("alert") for r in g["rules"]]) for g in gs]
    if names(got) != names(want):
        problems.append(f"groups/alerts differ: {names(got)} != {names(want)}")
    for g, w in zip(got, want):
        for r, s in zip(g["rules"], w["rules"]):
            if r != s:
                problems.append(f"alert {s.get('alert')} differs:\n  alerts.yml: {s}\n  PrometheusRule: {r}")
    problems = problems or ["groups differ"]
for p in problems:
    print(p)
print(f"{len(problems)} problems")
sys.exit(1 if problems else 0)
