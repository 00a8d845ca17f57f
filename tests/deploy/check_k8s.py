#!/usr/bin/env python3
"""Renders a kustomize overlay with `kubectl kustomize` and checks what it
would deploy, offline (no cluster here):

- every Deployment: native gRPC liveness (empty service name) and readiness
  (the full service name from proto/) probes, and the startup probe if any
  (empty name), on the container port named health, which --health_port
  (the plaintext, health-only port) opens: the kubelet's grpc probe cannot
  present the client certificate the grpc port requires under mTLS;
  requests and limits; runAsNonRoot with a numeric user, read-only root
  filesystem, no privilege escalation, all capabilities dropped, seccomp
  RuntimeDefault; spread across nodes; no service-account token; a
  termination grace of at least --drain_grace + --shutdown_deadline + 5 s;
- every ConfigMap key is LIENTHONG_<FLAG> for a flag that the binary of the
  Deployment using it lists in its --helpfull; listen, metrics and health
  ports agree with the container ports; files named in settings are mounted;
- NetworkPolicies: every port they name exists on the pods they select (or,
  for egress, on the peer pods); the paths the architecture needs are open
  (services -> PostgreSQL, each service -> the peers its *_address settings
  name, agency systems -> intake and routing, Prometheus -> metrics) and
  others are not (outside -> deadline, notify, PostgreSQL, metrics; anyone
  -> the health port, which only the kubelet asks, from the node, and
  traffic from its own node NetworkPolicies always allow);
- no Secret is rendered (they are referenced, never committed);
- per profile: dev (1 replica, no HPA/PDB, dev auth, plaintext), staging and
  prod (no spec.replicas: an HPA with minReplicas >= 2 owns the count, PDB, mTLS with cert-manager certificates for
  every service, the PrometheusRule equal to deploy/prometheus/alerts.yml,
  a ServiceMonitor for every service, 3 PostgreSQL instances with backups).

Pods that operators create (CloudNativePG instances, Prometheus, the cluster
DNS, callers outside the cluster) are modelled from their documented labels
and ports, in KNOWN_* below.

  check_k8s.py --kubectl K --overlay k8s/overlays/prod --profile prod \
      --source . --binary lienthong-intake=/path/to/lienthong-intake ...
  --expect TEXT (repeatable): pass only if every TEXT is among the problems
  found (used to show the check can fail)."""
import argparse
import os
import re
import subprocess
import sys

import yaml

from report import finish

# CloudNativePG instance pods (docs: "Architecture", "Monitoring"): labels
# the operator sets and the ports of the postgres container.
KNOWN_CNPG_PORTS = {"postgresql": 5432, "status": 8000, "metrics": 9187}
# Prometheus, as the monitoring component's policy expects it.
PROMETHEUS_NS = {"kubernetes.io/metadata.name": "monitoring"}
PROMETHEUS_LABELS = {"app.kubernetes.io/name": "prometheus"}
# An agency system or counter outside the cluster.
OUTSIDE_IP = "203.0.113.10"

problems = []


def problem(msg):
    problems.append(msg)


# --- rendering ---------------------------------------------------------------

def kustomize_major(kubectl):
    out = subprocess.run([kubectl, "version", "--client"], capture_output=True,
                         text=True).stdout
    m = re.search(r"Kustomize Version: v(\d+)", out)
    return int(m.group(1)) if m else None


def render(kubectl, overlay):
    major = kustomize_major(kubectl)
    if major is None or major < 4:
        print(f"{kubectl}: its kustomize is v{major} (or unknown); the overlays use "
              "`components`, which need kustomize v4+ (kubectl 1.21+). Run tools/setup, "
              "which installs one into .cache/kubectl when the machine's is too old.")
        sys.exit(1)
    r = subprocess.run([kubectl, "kustomize", overlay], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"kubectl kustomize {overlay} failed:\n{r.stderr}")
        sys.exit(1)
    return [d for d in yaml.safe_load_all(r.stdout) if d]


# --- facts from the source tree and the binaries ----------------------------

def proto_services(source):
    """svc -> its own service's full name (lienthong.<svc>.v1.<Name>)."""
    out = {}
    base = os.path.join(source, "proto", "lienthong")
    for svc in sorted(os.listdir(base)):
        d = os.path.join(base, svc, "v1")
        for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            text = open(os.path.join(d, f), encoding="utf-8").read()
            pkg = re.search(r"^package\s+([\w.]+);", text, re.M)
            for name in re.findall(r"^service\s+(\w+)\s*\{", text, re.M):
                out.setdefault(svc, []).append(f"{pkg.group(1)}.{name}")
    return out


def helpfull(binary):
    """flag -> default (text) as the binary prints them."""
    r = subprocess.run([binary, "--helpfull"], capture_output=True, text=True, timeout=30)
    text = r.stdout + r.stderr
    flags = {}
    for chunk in re.split(r"\n\s+--", "\n" + text)[1:]:
        m = re.match(r"([A-Za-z0-9_]+) \(", chunk)
        if not m:
            continue
        d = re.search(r"default: (.*?);", chunk, re.S)
        flags[m.group(1)] = d.group(1).strip().strip('"') if d else ""
    if len(flags) < 10:
        print(f"{binary} --helpfull listed {len(flags)} flags; expected the servers' flags")
        sys.exit(1)
    return flags


def seconds(duration):
    """absl duration text (5s, 1m30s, 250ms, 2h) -> seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6, "ns": 1e-9}
    parts = re.findall(r"([\d.]+)(ms|us|ns|h|m|s)", duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        raise ValueError(duration)
    return sum(float(n) * units[u] for n, u in parts)


# --- selectors and network policies -----------------------------------------

def matches(selector, labels):
    if selector is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        k, op, vals = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and labels.get(k) in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


class Pod:
    def __init__(self, name, ns, labels, ports, ip=None, external=False):
        self.name, self.ns, self.labels = name, ns, labels
        self.ports = ports  # name -> number
        self.ip, self.external = ip, external

    def resolve(self, port):
        if isinstance(port, int):
            return port if port in self.ports.values() else None
        return self.ports.get(port)


def ip_in(ip, cidr):
    def num(a):
        return int.from_bytes(bytes(int(x) for x in a.split(".")), "big")
    net, bits = cidr.split("/")
    mask = (0xFFFFFFFF << (32 - int(bits))) & 0xFFFFFFFF
    return (num(ip) & mask) == (num(net) & mask)


def peer_matches(peer, pod, policy_ns, namespaces):
    """One entry of from/to against a pod (or an outside address)."""
    if "ipBlock" in peer:
        if not pod.external:
            return False  # pod IPs and ipBlock: implementation-defined; not relied on
        b = peer["ipBlock"]
        return ip_in(pod.ip, b["cidr"]) and not any(ip_in(pod.ip, e) for e in b.get("except", []))
    if pod.external:
        return False
    if "namespaceSelector" in peer:
        if not matches(peer["namespaceSelector"], namespaces.get(pod.ns, {})):
            return False
    elif pod.ns != policy_ns:
        return False
    if "podSelector" in peer:
        return matches(peer["podSelector"], pod.labels)
    return True


def rule_allows(rule, peer_key, other, port_pod, port, policy_ns, namespaces):
    peers = rule.get(peer_key)
    if peers and not any(peer_matches(p, other, policy_ns, namespaces) for p in peers):
        return False
    ports = rule.get("ports")
    if not ports:
        return True
    for p in ports:
        want = p.get("port")
        if want is None or port_pod.resolve(want) == port:
            return True
    return False


def allowed(src, dst, port, policies, namespaces):
    """Whether src may open a TCP connection to dst:port."""
    def side(pod, ptype, rules_key, peer_key, other):
        if pod.external:
            return True
        sel = [np for np in policies if np["metadata"]["namespace"] == pod.ns
               and matches(np["spec"].get("podSelector", {}), pod.labels)
               and ptype in np["spec"].get("policyTypes", ["Ingress"])]
        if not sel:
            return True
        return any(rule_allows(r, peer_key, other, dst, port, np["metadata"]["namespace"], namespaces)
                   for np in sel for r in np["spec"].get(rules_key) or [])
    return side(src, "Egress", "egress", "to", dst) and side(dst, "Ingress", "ingress", "from", src)


# --- the checks --------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kubectl", required=True)
    ap.add_argument("--overlay", required=True)
    ap.add_argument("--profile", required=True, choices=["dev", "staging", "prod"])
    ap.add_argument("--source", required=True)
    ap.add_argument("--binary", action="append", default=[], help="name=path")
    ap.add_argument("--expect", action="append", default=[])
    a = ap.parse_args()

    docs = render(a.kubectl, a.overlay)
    binaries = dict(b.split("=", 1) for b in a.binary)
    flags = {name: helpfull(path) for name, path in binaries.items()}
    protos = proto_services(a.source)
    secure = a.profile in ("staging", "prod")

    by_kind = {}
    for d in docs:
        d["metadata"].setdefault("namespace", "default")
        by_kind.setdefault(d["kind"], []).append(d)
    get = lambda kind: by_kind.get(kind, [])
    ns = {d["metadata"]["namespace"] for d in docs if d["kind"] != "Namespace"}
    if len(ns) != 1:
        problem(f"objects spread over namespaces {sorted(ns)}; an overlay deploys into one")
    namespace = sorted(ns)[0]
    namespaces = {namespace: {"kubernetes.io/metadata.name": namespace},
                  "monitoring": PROMETHEUS_NS, "kube-system": {"kubernetes.io/metadata.name": "kube-system"}}
    for n in get("Namespace"):
        namespaces[n["metadata"]["name"]] = dict(n["metadata"].get("labels") or {},
                                                 **{"kubernetes.io/metadata.name": n["metadata"]["name"]})
    configmaps = {c["metadata"]["name"]: c for c in get("ConfigMap")}
    services = {s["metadata"]["name"]: s for s in get("Service")}
    accounts = {s["metadata"]["name"]: s for s in get("ServiceAccount")}
    policies = get("NetworkPolicy")

    for s in get("Secret"):
        problem(f"Secret {s['metadata']['name']} is rendered: secrets are referenced, never committed")

    # Pods: one per Deployment, one per CloudNativePG instance, plus the
    # operators' and the outside world's.
    pods, cnpg = {}, {}
    for d in get("Deployment"):
        t = d["spec"]["template"]
        ports = {p["name"]: p["containerPort"] for c in t["spec"]["containers"]
                 for p in c.get("ports", []) if "name" in p}
        pods[d["metadata"]["name"]] = Pod(d["metadata"]["name"], d["metadata"]["namespace"],
                                          t["metadata"].get("labels", {}), ports)
    for c in get("Cluster"):
        name = c["metadata"]["name"]
        cnpg[name] = c
        pods[f"{name}-1"] = Pod(f"{name}-1", c["metadata"]["namespace"],
                                {"cnpg.io/cluster": name, "cnpg.io/podRole": "instance",
                                 "cnpg.io/instanceRole": "primary", "role": "primary"}, KNOWN_CNPG_PORTS)
    prometheus = Pod("prometheus", "monitoring", PROMETHEUS_LABELS, {"web": 9090})
    outside = Pod("agency-system", None, {}, {}, ip=OUTSIDE_IP, external=True)
    dns = Pod("coredns", "kube-system", {"k8s-app": "kube-dns"}, {"dns": 53, "dns-tcp": 53})
    everything = list(pods.values()) + [prometheus, dns]

    # NetworkPolicies: named ports exist where they point.
    for np in policies:
        name, spec, np_ns = np["metadata"]["name"], np["spec"], np["metadata"]["namespace"]
        selected = [p for p in pods.values() if p.ns == np_ns and matches(spec.get("podSelector", {}), p.labels)]
        if spec.get("podSelector") and not selected:
            problem(f"NetworkPolicy {name} selects no pod")
        for r in spec.get("ingress") or []:
            for port in r.get("ports") or []:
                for p in selected:
                    if p.resolve(port.get("port")) is None:
                        problem(f"NetworkPolicy {name}: ingress port {port.get('port')} does not exist on {p.name}")
        for r in spec.get("egress") or []:
            peers = [pp for pp in everything for peer in r.get("to") or []
                     if peer_matches(peer, pp, np_ns, namespaces)]
            pod_peers = [peer for peer in r.get("to") or [] if "podSelector" in peer and "namespaceSelector" not in peer]
            if pod_peers and not peers:
                problem(f"NetworkPolicy {name}: an egress rule's peers select no pod")
            for port in r.get("ports") or []:
                if not pod_peers:
                    if not isinstance(port.get("port"), int):
                        problem(f"NetworkPolicy {name}: egress port {port.get('port')} to peers outside "
                                "this namespace must be a number")
                    continue
                for p in peers:
                    if p.resolve(port.get("port")) is None:
                        problem(f"NetworkPolicy {name}: egress port {port.get('port')} does not exist on {p.name}")
    if not any(np["spec"].get("podSelector") == {} and set(np["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
               and not np["spec"].get("ingress") and not np["spec"].get("egress") for np in policies):
        problem("no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)")

    used_configmaps = set()
    alerts_path = os.path.join(a.source, "deploy", "prometheus", "alerts.yml")
    for d in get("Deployment"):
        name = d["metadata"]["name"]
        spec, t = d["spec"], d["spec"]["template"]
        pod_spec, labels = t["spec"], t["metadata"].get("labels", {})
        where = f"Deployment {name}"
        if not matches(spec.get("selector"), labels):
            problem(f"{where}: selector does not match its pod labels")
        sc = pod_spec.get("securityContext") or {}
        if sc.get("runAsNonRoot") is not True:
            problem(f"{where}: pod securityContext.runAsNonRoot is not true")
        if not isinstance(sc.get("runAsUser"), int) or sc.get("runAsUser") <= 0:
            problem(f"{where}: pod securityContext.runAsUser is not a numeric non-root user")
        if (sc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            problem(f"{where}: seccompProfile is not RuntimeDefault")
        if pod_spec.get("automountServiceAccountToken") is not False:
            problem(f"{where}: automountServiceAccountToken is not false")
        sa = accounts.get(pod_spec.get("serviceAccountName"))
        if sa is None:
            problem(f"{where}: its ServiceAccount {pod_spec.get('serviceAccountName')} is not rendered")
        elif sa.get("automountServiceAccountToken") is not False:
            problem(f"ServiceAccount {sa['metadata']['name']}: automountServiceAccountToken is not false")
        if not any(c.get("topologyKey") == "kubernetes.io/hostname" and matches(c.get("labelSelector"), labels)
                   for c in pod_spec.get("topologySpreadConstraints") or []):
            problem(f"{where}: no topologySpreadConstraint across nodes (kubernetes.io/hostname) for its pods")
        replicas = spec.get("replicas", 1)
        if a.profile == "dev" and replicas != 1:
            problem(f"{where}: dev runs one replica, not {replicas}")
        # Where an HPA owns the count (its minReplicas is checked below),
        # spec.replicas would set it back on every `kubectl apply`.
        if a.profile != "dev" and "replicas" in spec:
            problem(f"{where}: spec.replicas is set ({spec['replicas']}) beside its HPA: "
                    "every apply would scale it to that; leave the count to the HPA's minReplicas")

        mounts_by_path = {}
        for c in pod_spec["containers"]:
            cw = f"{where} container {c['name']}"
            res = c.get("resources") or {}
            for kind in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in (res.get(kind) or {}):
                        problem(f"{cw}: no {kind}.{r}")
            csc = c.get("securityContext") or {}
            if csc.get("readOnlyRootFilesystem") is not True:
                problem(f"{cw}: readOnlyRootFilesystem is not true")
            if csc.get("allowPrivilegeEscalation") is not False:
                problem(f"{cw}: allowPrivilegeEscalation is not false")
            if csc.get("privileged"):
                problem(f"{cw}: privileged")
            if "ALL" not in ((csc.get("capabilities") or {}).get("drop") or []):
                problem(f"{cw}: capabilities do not drop ALL")
            if csc.get("runAsNonRoot") is False or (csc.get("runAsUser") == 0):
                problem(f"{cw}: runs as root")
            for m in c.get("volumeMounts") or []:
                mounts_by_path[m["mountPath"]] = m

            binary = os.path.basename((c.get("command") or [""])[0])
            if binary not in flags:
                problem(f"{cw}: command {c.get('command')} is not one of the binaries {sorted(flags)}")
                continue
            known = flags[binary]
            svc = binary.removeprefix("lienthong-")
            # The settings as the binary will see them.
            env = {}
            for ef in c.get("envFrom") or []:
                ref = (ef.get("configMapRef") or {}).get("name")
                if ref:
                    used_configmaps.add(ref)
                    if ref not in configmaps:
                        problem(f"{cw}: ConfigMap {ref} is not rendered")
                        continue
                    for k, v in (configmaps[ref].get("data") or {}).items():
                        env[k] = v
                        if not k.startswith("LIENTHONG_") or k[len("LIENTHONG_"):].lower() not in known:
                            problem(f"ConfigMap {ref}: key {k} is not LIENTHONG_<FLAG> for a flag "
                                    f"{binary} --helpfull lists")
                        elif k[len("LIENTHONG_"):] != k[len("LIENTHONG_"):].upper():
                            problem(f"ConfigMap {ref}: key {k} must be upper case")
            for e in c.get("env") or []:
                ref = ((e.get("valueFrom") or {}).get("configMapKeyRef") or {}).get("name")
                if ref:
                    used_configmaps.add(ref)
                if e["name"].startswith("LIENTHONG_"):
                    if e["name"][len("LIENTHONG_"):].lower() not in known:
                        problem(f"{cw}: env {e['name']} is not LIENTHONG_<FLAG> for a flag {binary} accepts")
                    env[e["name"]] = e.get("value", "<from elsewhere>")
            setting = lambda f: env.get("LIENTHONG_" + f.upper(), known.get(f, ""))

            cports = {p.get("name"): p["containerPort"] for p in c.get("ports") or []}
            listen = setting("listen_address")
            if not listen.startswith("0.0.0.0:") and not listen.startswith("[::]:"):
                problem(f"{cw}: --listen_address {listen!r} is not reachable from outside the pod")
            if "grpc" not in cports or listen.rsplit(":", 1)[-1] != str(cports["grpc"]):
                problem(f"{cw}: --listen_address {listen} does not match the container port named grpc")
            if "metrics" not in cports or setting("metrics_port") != str(cports["metrics"]):
                problem(f"{cw}: --metrics_port {setting('metrics_port')} does not match the container port named metrics")
            if "health" not in cports or setting("health_port") != str(cports["health"]):
                problem(f"{cw}: --health_port {setting('health_port')} does not match the container port named health")
            if not setting("db_dsn"):
                problem(f"{cw}: --db_dsn is not set")
            # Files the settings name (whole values or key=/path in the DSN)
            # must be in a mounted volume; the image has nothing else.
            for k, v in env.items():
                for path in re.findall(r"(?:^|=)(/[^\s'\"]+)", v):
                    if not any(path.startswith(mp.rstrip("/") + "/") for mp in mounts_by_path):
                        problem(f"{cw}: {k} names {path}, which no volume mounts")

            # The binary itself reads the settings: with --db_dsn emptied on
            # the command line (which wins) it stops right after checking
            # them, before any connection, with the db_dsn line. Any other
            # line is a setting it refuses. Files are left out (checked as
            # mounted above; they exist only in the pod).
            run_env = {k: v for k, v in env.items() if not v.startswith("/")}
            run_env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
            r = subprocess.run([binaries[binary], "--db_dsn="], env=run_env, capture_output=True,
                               text=True, timeout=30)
            last = (r.stderr.strip().splitlines() or ["(nothing)"])[-1]
            if r.returncode != 2 or "--db_dsn (LIENTHONG_DB_DSN) must be set" not in last:
                problem(f"{cw}: {binary} refuses its settings: {last} (exit {r.returncode})")

            try:
                need = seconds(setting("drain_grace")) + seconds(setting("shutdown_deadline")) + 5
            except ValueError as e:
                problem(f"{cw}: cannot read duration {e}")
                need = 0
            grace = pod_spec.get("terminationGracePeriodSeconds", 30)
            if grace < need:
                problem(f"{where}: terminationGracePeriodSeconds {grace} < drain_grace + shutdown_deadline + 5 s = {need:g}")

            # TLS as the profile wants it.
            tls_flags = ["tls_cert", "tls_key", "tls_client_ca", "peer_tls_ca", "peer_tls_cert", "peer_tls_key"]
            tls_on = bool(setting("tls_cert"))
            dev_auth = setting("insecure_dev_auth").lower() in ("true", "1", "yes", "t", "y")
            if secure:
                for f in tls_flags:
                    if not setting(f):
                        problem(f"{cw}: {a.profile} needs mTLS but --{f} is not set")
                if dev_auth:
                    problem(f"{cw}: --insecure_dev_auth outside dev")
            else:
                if tls_on:
                    problem(f"{cw}: dev is plaintext but --tls_cert is set")
                if not dev_auth:
                    problem(f"{cw}: dev needs --insecure_dev_auth")

            # Probes: liveness = empty name, readiness = the full name.
            full = [n for n in protos.get(svc, []) if n.startswith(f"lienthong.{svc}.")]
            if len(full) != 1:
                problem(f"{cw}: no single service lienthong.{svc}.*.* in proto/ ({full})")
                full = ["?"]
            probes = (("startupProbe", "", False), ("livenessProbe", "", True),
                      ("readinessProbe", full[0], True))
            for probe_kind, want, required in probes:
                probe = c.get(probe_kind)
                if not probe:
                    if required:
                        problem(f"{cw}: no {probe_kind}")
                    continue
                if "grpc" not in probe:
                    problem(f"{cw}: {probe_kind} is not a native grpc probe on the health port")
                    continue
                g = probe["grpc"]
                port = g.get("port")
                if tls_on and port == cports.get("grpc"):
                    problem(f"{cw}: {probe_kind} is a native grpc probe, which cannot speak TLS "
                            "to a port that requires it")
                elif not isinstance(port, int) or port not in cports.values():
                    problem(f"{cw}: {probe_kind} port {port!r} is not a numbered port of the container")
                elif port != cports.get("health"):
                    problem(f"{cw}: {probe_kind} port {port} is not the health port {cports.get('health')}")
                if g.get("service", "") != want:
                    problem(f"{cw}: {probe_kind} asks for service {g.get('service', '')!r}, not {want!r}")

            # Paths: PostgreSQL, and the peers this service calls.
            me = pods[name]
            dsn = dict(re.findall(r"(\w+)=(\S+)", setting("db_dsn")))
            # A PostgreSQL node that vanishes (a failover after a node
            # loss) sends no reset: without keepalives a connection waiting
            # for a wake-up hears nothing for good, and a query on a pooled
            # one waits for TCP's retransmissions (~15 min).
            if dsn.get("keepalives") != "1":
                problem(f"{cw}: --db_dsn does not set keepalives=1")
            if not dsn.get("tcp_user_timeout", "").isdigit() or int(dsn["tcp_user_timeout"]) <= 0:
                problem(f"{cw}: --db_dsn sets no tcp_user_timeout (ms)")
            cluster = dsn.get("host", "").removesuffix("-rw")
            if cluster not in cnpg:
                problem(f"{cw}: --db_dsn host {dsn.get('host')} is not the -rw Service of a rendered CloudNativePG Cluster")
            else:
                if not allowed(me, pods[f"{cluster}-1"], 5432, policies, namespaces):
                    problem(f"{cw}: NetworkPolicies block {name} -> PostgreSQL")
                # One database, a schema owned by the service's own role, whose
                # password the pod gets from the role's Secret.
                cs = cnpg[cluster]["spec"]
                initdb = (cs.get("bootstrap") or {}).get("initdb") or {}
                if dsn.get("dbname") != initdb.get("database"):
                    problem(f"{cw}: --db_dsn dbname {dsn.get('dbname')} is not the Cluster's database {initdb.get('database')}")
                role = [r for r in (cs.get("managed") or {}).get("roles") or [] if r.get("name") == dsn.get("user")]
                if dsn.get("user") != svc or not role or not role[0].get("login"):
                    problem(f"{cw}: --db_dsn user {dsn.get('user')} is not a managed login role named {svc}")
                else:
                    pw = [e for e in c.get("env") or [] if e["name"] == "PGPASSWORD"]
                    ref = ((pw[0].get("valueFrom") or {}).get("secretKeyRef") or {}) if pw else {}
                    if ref.get("name") != role[0].get("passwordSecret", {}).get("name"):
                        problem(f"{cw}: PGPASSWORD does not come from the role's Secret "
                                f"{role[0].get('passwordSecret', {}).get('name')}")
                if f"CREATE SCHEMA {svc} AUTHORIZATION {svc}" not in initdb.get("postInitApplicationSQL", []):
                    problem(f"Cluster {cluster}: no schema {svc} owned by role {svc}")
            for f in ("intake_address", "routing_address", "deadline_address", "notify_address"):
                addr = setting(f)
                if not addr:
                    continue
                host, _, port = addr.rpartition(":")
                target = services.get(host)
                if target is None:
                    problem(f"{cw}: --{f} {addr}: no Service {host}")
                    continue
                sp = [p for p in target["spec"]["ports"] if str(p["port"]) == port]
                dst = [p for p in pods.values() if matches({"matchLabels": target["spec"]["selector"]}, p.labels)]
                if not sp or not dst:
                    problem(f"{cw}: --{f} {addr}: Service {host} has no port {port} or no pods")
                    continue
                tp = sp[0].get("targetPort", sp[0]["port"])
                for p in dst:
                    if p.resolve(tp) is None or not allowed(me, p, p.resolve(tp), policies, namespaces):
                        problem(f"{cw}: NetworkPolicies block {name} -> {p.name}:{tp} (--{f})")
            if not allowed(me, dns, 53, policies, namespaces):
                problem(f"{cw}: NetworkPolicies block DNS")
            public = svc in ("intake", "routing")
            if allowed(outside, me, cports.get("grpc"), policies, namespaces) != public:
                problem(f"{cw}: callers outside the cluster {'cannot' if public else 'can'} reach its grpc port")
            if allowed(outside, me, cports.get("metrics"), policies, namespaces):
                problem(f"{cw}: callers outside the cluster can reach its metrics port")
            # Plaintext and unauthenticated: only the kubelet asks it, from
            # the pod's node, which NetworkPolicies always let in.
            if "health" in cports:
                for src in [outside, prometheus] + [p for p in pods.values() if p is not me]:
                    if allowed(src, me, cports["health"], policies, namespaces):
                        who = "callers outside the cluster" if src is outside else src.name
                        problem(f"{cw}: NetworkPolicies let {who} reach its health port")
            if get("ServiceMonitor") and not allowed(prometheus, me, cports.get("metrics"), policies, namespaces):
                problem(f"{cw}: NetworkPolicies block Prometheus -> metrics")

        # Per-Deployment companions.
        svcs = [s for s in services.values() if matches({"matchLabels": s["spec"].get("selector") or {}}, labels)]
        if not svcs:
            problem(f"{where}: no Service selects its pods")
        for s in svcs:
            for p in s["spec"]["ports"]:
                if pods[name].resolve(p.get("targetPort", p["port"])) is None:
                    problem(f"Service {s['metadata']['name']}: targetPort {p.get('targetPort')} not on {name}")
        hpas = [h for h in get("HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"].get("name") == name]
        pdbs = [p for p in get("PodDisruptionBudget") if matches(p["spec"].get("selector"), labels)]
        if a.profile == "dev":
            if hpas or pdbs:
                problem(f"{where}: dev has one replica: no HPA or PDB")
        else:
            if not hpas or hpas[0]["spec"].get("minReplicas", 1) < 2:
                problem(f"{where}: {a.profile} needs an HPA with minReplicas >= 2")
            if not pdbs:
                problem(f"{where}: {a.profile} needs a PodDisruptionBudget")
            if get("ServiceMonitor") and not any(
                    matches(sm["spec"]["selector"], s["metadata"].get("labels", {})) and
                    any(e.get("port") == "metrics" for e in sm["spec"]["endpoints"])
                    for sm in get("ServiceMonitor") for s in svcs):
                problem(f"{where}: no ServiceMonitor scrapes its Service's metrics port")
            # Its certificate, from cert-manager, mounted where the flags say.
            certs = [ct for ct in get("Certificate")
                     if any(v.get("secret", {}).get("secretName") == ct["spec"]["secretName"]
                            for v in pod_spec.get("volumes") or [])]
            if not certs:
                problem(f"{where}: no cert-manager Certificate whose Secret it mounts")
            for ct in certs:
                cs = ct["spec"]
                if not set(cs.get("dnsNames") or []) & {s["metadata"]["name"] for s in svcs}:
                    problem(f"Certificate {ct['metadata']['name']}: dnsNames lack the Service name")
                if not {"server auth", "client auth"} <= set(cs.get("usages") or []):
                    problem(f"Certificate {ct['metadata']['name']}: needs server auth and client auth usages")
                if "service" not in ((cs.get("subject") or {}).get("organizationalUnits") or []):
                    problem(f"Certificate {ct['metadata']['name']}: subject OU must be the role `service`")
                ref = cs.get("issuerRef", {})
                if ref.get("kind", "Issuer") == "Issuer" and ref.get("name") not in {i["metadata"]["name"] for i in get("Issuer")}:
                    problem(f"Certificate {ct['metadata']['name']}: Issuer {ref.get('name')} is not rendered")

    deployed = {os.path.basename((c.get("command") or [""])[0]) for d in get("Deployment")
                for c in d["spec"]["template"]["spec"]["containers"]}
    for b in sorted(set(binaries) - deployed):
        problem(f"no Deployment runs {b}")
    for cm in configmaps:
        if cm not in used_configmaps:
            problem(f"ConfigMap {cm} is used by no Deployment, so no binary can be checked against it")
    for h in get("HorizontalPodAutoscaler"):
        if h["spec"]["scaleTargetRef"].get("name") not in pods:
            problem(f"HorizontalPodAutoscaler {h['metadata']['name']}: no such Deployment")

    # PostgreSQL and the profile's extras.
    if len(cnpg) != 1:
        problem(f"expected one CloudNativePG Cluster, found {len(cnpg)}")
    for name, c in cnpg.items():
        pg = pods[f"{name}-1"]
        if allowed(outside, pg, 5432, policies, namespaces):
            problem(f"Cluster {name}: callers outside the cluster can reach PostgreSQL")
        if secure:
            if c["spec"].get("instances") != 3:
                problem(f"Cluster {name}: {a.profile} runs 3 instances, not {c['spec'].get('instances')}")
            if not (c["spec"].get("backup") or {}).get("barmanObjectStore"):
                problem(f"Cluster {name}: {a.profile} has no backup object store")
            if not any(b["spec"]["cluster"]["name"] == name for b in get("ScheduledBackup")):
                problem(f"Cluster {name}: no ScheduledBackup")
    if secure:
        rules = get("PrometheusRule")
        want = yaml.safe_load(open(alerts_path, encoding="utf-8"))["groups"]
        if len(rules) != 1 or rules[0]["spec"]["groups"] != want:
            problem("PrometheusRule groups differ from deploy/prometheus/alerts.yml")
        if not get("ServiceMonitor"):
            problem(f"{a.profile} has no ServiceMonitor")

    return finish(problems, a.expect)


if __name__ == "__main__":
    sys.exit(main())
