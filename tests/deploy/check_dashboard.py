#!/usr/bin/env python3
"""Every PromQL query of the Grafana dashboard names only metrics the
services really export, found in the code itself (metrics::Counter / Gauge /
Histogram registrations in libs/ and services/, with `lienthong_<svc>_...`
templates expanded over the four services); label names come from the
docs/development.md metric table; exact label values (tier="district") must
be values the code or the protos can produce. The panels the ops teams asked
for must be there.

  check_dashboard.py DASHBOARD.json SOURCE_DIR [--expect TEXT ...]
  --expect: pass only if every TEXT is among the problems found."""
import argparse
import glob
import itertools
import json
import os
import re
import sys

from report import finish

SERVICES = ["intake", "routing", "deadline", "notify"]
PROM_BUILTIN = {"up": {"job", "instance"}}
ALWAYS_LABELS = {"job", "instance", "le", "__name__"}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
            "and", "or", "unless", "inf", "nan"}

problems = []
problem = problems.append


def exported_metrics(source):
    """name -> type, from the registrations in the code."""
    out = {}
    files = [f for d in ("libs", "services") for f in glob.glob(os.path.join(source, d, "**", "*.cc"), recursive=True)
             if not f.endswith("_test.cc") and "/testing/" not in f]
    for f in files:
        text = open(f, encoding="utf-8").read()
        for kind, name in re.findall(r'metrics::(Counter|Gauge|Histogram)\(\s*"(lienthong_[a-z0-9_]+)"', text):
            out[name] = kind
        for kind, suffix in re.findall(
                r'metrics::(Counter|Gauge|Histogram)\(\s*absl::StrCat\(\s*"lienthong_",\s*[*\w.>-]+,\s*"(_[a-z0-9_]+)"\)',
                text):
            for s in SERVICES:
                out[f"lienthong_{s}{suffix}"] = kind
        # Names held in constants: `kX = "lienthong_..."` registered as
        # metrics::Gauge(kX, ...) or prometheus::BuildGauge().Name(kX).
        consts = dict(re.findall(r'\b(k\w+)\s*=\s*"(lienthong_[a-z0-9_]+)"', text))
        for kind, const in re.findall(r'metrics::(Counter|Gauge|Histogram)\(\s*(k\w+)', text) + \
                re.findall(r'Build(Counter|Gauge|Histogram)\(\)\s*\.Name\(\s*(k\w+)', text):
            if const in consts:
                out[consts[const]] = kind
    series = {}
    for name, kind in out.items():
        series[name] = name
        if kind == "Histogram":
            for s in ("_bucket", "_count", "_sum"):
                series[name + s] = name
    return series


def documented_labels(dev_md):
    """metric (or lienthong_<svc>_ template) -> its label names, from the table."""
    labels = {}
    for m, cols in re.findall(r"^\| `(lienthong_[a-z_<>]+)` \|[^|]*\|([^|]*)\|", open(dev_md, encoding="utf-8").read(), re.M):
        names = set(re.findall(r"`([a-z_]+)`", cols.split("(")[0] if "(" in cols else cols))
        for s in SERVICES if "<svc>" in m else [None]:
            labels[m.replace("<svc>", s) if s else m] = names
    return labels


def label_values(source):
    """Strings the code or the protos can put in a label."""
    vals = set()
    for f in glob.glob(os.path.join(source, "libs", "**", "*.cc"), recursive=True) + \
            glob.glob(os.path.join(source, "services", "**", "*.cc"), recursive=True):
        vals |= set(re.findall(r'"([^"\\]{1,64})"', open(f, encoding="utf-8").read()))
    for f in glob.glob(os.path.join(source, "proto", "**", "*.proto"), recursive=True):
        vals |= set(re.findall(r"^\s*([A-Z][A-Z0-9_]+)\s*=\s*\d+;", open(f, encoding="utf-8").read(), re.M))
    return vals


def expand(expr, variables):
    """The expression once per value of each Grafana variable it uses."""
    expr = re.sub(r"\$__(rate_interval|interval|range)|\$\{__(rate_interval|interval|range)\}", "5m", expr)
    used = [v for v in variables if re.search(rf"\$\{{{v}\}}|\${v}\b|\[\[{v}\]\]", expr)]
    for combo in itertools.product(*(variables[v] for v in used)):
        e = expr
        for v, val in zip(used, combo):
            e = re.sub(rf"\$\{{{v}\}}|\${v}\b|\[\[{v}\]\]", val, e)
        yield e


def selectors(expr):
    """(metric name or None, {label: (op, value)}) for each vector selector."""
    out = []
    # name{...} or {...}
    for m in re.finditer(r'([a-zA-Z_:][a-zA-Z0-9_:]*)?\{([^}]*)\}', expr):
        matchers = {}
        for lm in re.finditer(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"', m.group(2)):
            matchers[lm.group(1)] = (lm.group(2), lm.group(3))
        out.append((m.group(1), matchers, m.start(), m.end()))
    return out


def names_in(expr):
    """Metric names: selectors' names, __name__ matchers, and bare identifiers
    that are not functions, keywords or label lists."""
    found = []
    sels = selectors(expr)
    for name, matchers, _, _ in sels:
        if name:
            found.append((name, matchers))
        if "__name__" in matchers:
            op, val = matchers["__name__"]
            if op == "=":
                found.append((val, matchers))
            elif op == "=~":
                # lienthong_.+_serving: the name over each service.
                for s in SERVICES:
                    cand = val.replace(".+", s, 1)
                    if re.fullmatch(val, cand):
                        found.append((cand, matchers))
        elif not name:
            problem(f"selector without a metric name: {expr}")
    rest = expr
    for _, _, a, b in reversed(sels):
        rest = rest[:a] + " " + rest[b:]
    rest = re.sub(r'"(?:[^"\\]|\\.)*"', " ", rest)
    rest = re.sub(r"\[[^\]]*\]", " ", rest)
    rest = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", rest)
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?", rest):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in KEYWORDS:
            continue
        found.append((word, {}))
    return found


def grouping_labels(expr):
    return {l.strip() for g in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr) for l in g.split(",") if l.strip()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dashboard")
    ap.add_argument("source")
    ap.add_argument("--expect", action="append", default=[])
    a = ap.parse_args()

    series = exported_metrics(a.source)
    if len(series) < 20:
        print(f"found only {len(series)} exported series in the code; the scan is broken")
        return 1
    doc_labels = documented_labels(os.path.join(a.source, "docs", "development.md"))
    values = label_values(a.source)
    dash = json.load(open(a.dashboard, encoding="utf-8"))

    variables = {}
    for v in dash.get("templating", {}).get("list", []):
        if v["type"] == "custom":
            variables[v["name"]] = [x.strip() for x in v["query"].split(",")]
        elif v["type"] == "query":
            variables[v["name"]] = [".*"]
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            m = re.match(r"label_values\(\s*([a-zA-Z_:][\w:]*)", q or "")
            if not m or m.group(1) not in series:
                problem(f"variable {v['name']}: query {q!r} names no exported metric")

    queries = []  # (panel title, expr)

    def walk(ps):
        for p in ps:
            if p.get("type") == "row":
                walk(p.get("panels", []))
                continue
            targets = p.get("targets") or []
            if not targets:
                problem(f"panel {p.get('title')!r} has no query")
            if (p.get("datasource") or {}).get("uid") != "${datasource}":
                problem(f"panel {p.get('title')!r}: datasource is not the ${{datasource}} variable")
            for t in targets:
                if not t.get("expr"):
                    problem(f"panel {p.get('title')!r}: a target without expr")
                queries.append((p.get("title"), t.get("expr", "")))
    walk(dash.get("panels", []))

    used = set()
    for title, raw in queries:
        for expr in expand(raw, variables):
            for name, matchers in names_in(expr):
                base = series.get(name)
                if base is None and name not in PROM_BUILTIN:
                    problem(f"panel {title!r}: unknown metric {name} in {raw}")
                    continue
                used.add(name)
                allowed_labels = PROM_BUILTIN.get(name) or doc_labels.get(base, set())
                for label, (op, val) in matchers.items():
                    if label not in allowed_labels | ALWAYS_LABELS:
                        problem(f"panel {title!r}: {name} has no label {label}")
                    if op in ("=", "!=") and label != "__name__" and val not in values:
                        problem(f"panel {title!r}: {label}={val!r} is not a value the code produces")
            for label in grouping_labels(expr):
                metric_labels = set()
                for name, _ in names_in(expr):
                    metric_labels |= PROM_BUILTIN.get(name, set()) | doc_labels.get(series.get(name), set())
                if label not in metric_labels | ALWAYS_LABELS:
                    problem(f"panel {title!r}: groups by {label}, which none of its metrics has: {raw}")

    # What the ops teams asked for (issue 8).
    wanted = {
        "on-time rate per district": r'lienthong_deadline_on_time_ratio\{tier="district"',
        "on-time rate per ward": r'lienthong_deadline_on_time_ratio\{tier="commune"',
        "dossiers received per hour": r"increase\(lienthong_intake_dossiers_received_total\[1h\]\)",
        "task queue depth per agency": r"by \(agency[^)]*\) \(lienthong_routing_queue_depth",
        "task queue age per agency": r"by \(agency\) \(lienthong_routing_queue_oldest_age_seconds",
        "RPC latency per method": r"histogram_quantile\(0\.\d+, sum by \(le, method\) \(rate\(lienthong_\$\{service\}_rpc_duration_seconds_bucket",
        "RPC error ratio per method": r"sum by \(method\) \(rate\(lienthong_\$\{service\}_rpc_requests_total\{code=~",
        "notification deliveries by channel": r"by \(channel[^)]*\) \(increase\(lienthong_notify_deliveries_total",
    }
    for what, pattern in wanted.items():
        if not any(re.search(pattern, e) for _, e in queries):
            problem(f"no panel shows {what}")

    return finish(problems, a.expect,
                  f"{len(queries)} queries, {len(used)} metrics used of {len(series)} exported series")


if __name__ == "__main__":
    sys.exit(main())
