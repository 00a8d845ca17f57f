#!/usr/bin/env python3
"""Checks deploy/Dockerfile offline (no container engine here) against the
binaries that were really built:

- a Debian bookworm builder that runs tools/setup and the release preset,
  and a debian:bookworm-slim runtime stage that installs no -dev package or
  toolchain and runs as a fixed numeric non-root user (the runAsUser of the
  k8s Deployments);
- every package the runtime stage installs exists in Debian (apt-cache);
- every shared library that `ldd` reports for each built binary belongs to
  a Debian package (dpkg -S) that the runtime stage installs, directly or
  as a dependency (apt-cache depends --recurse);
- every binary is copied from the build tree into the image, with the time
  zone data and the CA certificates;
- the seed data goes where the CLI's `seed` reads it without --dir (the
  directory its --help names).

  check_image.py --dockerfile deploy/Dockerfile --source . --build-dir build/release \
      BINARY... [--expect TEXT ...] [--ignore-lib GLOB ...]
  --expect: pass only if every TEXT is among the problems found."""
import argparse
import fnmatch
import glob
import os
import re
import shlex
import subprocess
import sys

import yaml

from report import finish

problems = []
problem = problems.append


def instructions(path):
    """(stage index, INSTRUCTION, argument text) for each instruction."""
    text = open(path, encoding="utf-8").read()
    lines, cur = [], ""
    for raw in text.splitlines():
        if not cur and raw.lstrip().startswith("#"):
            continue
        if cur and raw.lstrip().startswith("#"):
            continue  # comment lines inside a continued instruction
        if raw.rstrip().endswith("\\"):
            cur += raw.rstrip()[:-1] + " "
            continue
        cur += raw
        if cur.strip():
            lines.append(cur.strip())
        cur = ""
    out, stage = [], -1
    for line in lines:
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            stage += 1
        out.append((stage, word, rest.strip()))
    return out


def apt_installs(run_text):
    pkgs = []
    for part in re.split(r"&&|;|\|\|", run_text):
        words = shlex.split(part)
        if "apt-get" in words and "install" in words:
            after = words[words.index("install") + 1:]
            pkgs += [w for w in after if not w.startswith("-")]
    return pkgs


def known_packages(pkgs):
    """The ones among pkgs that Debian has (one `apt-cache show` call)."""
    r = subprocess.run(["apt-cache", "show", "--no-all-versions"] + pkgs, capture_output=True, text=True)
    return set(re.findall(r"^Package: (\S+)$", r.stdout, re.M)) & set(pkgs)


def closure(pkgs):
    r = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                        "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"] + pkgs,
                       capture_output=True, text=True)
    return {l.strip().strip("<>") for l in r.stdout.splitlines() if l and not l[0].isspace()}


def variants(path):
    """A library path as ldd prints it, resolved, and with or without /usr
    (bookworm is usr-merged; dpkg knows one spelling)."""
    out = []
    for p in (path, os.path.realpath(path)):
        out += [p, p[4:] if p.startswith("/usr/") else "/usr" + p]
    return out


def owners(paths):
    """path -> the Debian package that installed it (one `dpkg -S` call)."""
    wanted = sorted({v for p in paths for v in variants(p)})
    r = subprocess.run(["dpkg", "-S"] + wanted, capture_output=True, text=True)
    found = {}
    for line in r.stdout.splitlines():
        pkgs, _, f = line.partition(": ")
        found[f.strip()] = pkgs.split(",")[0].split(":")[0].strip()
    return {p: next((found[v] for v in variants(p) if v in found), None) for p in paths}


def ldd(binary):
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if r.returncode != 0:
        problem(f"ldd {binary} failed: {r.stderr.strip()}")
        return []
    libs = []
    for line in r.stdout.splitlines():
        line = line.strip()
        if "not found" in line:
            problem(f"{os.path.basename(binary)}: {line}")
        m = re.search(r"=>\s*(/\S+)", line) or re.match(r"(/\S+)", line)
        if m:
            libs.append(m.group(1))
    return libs


def check_seed_dir(ins, runtime, binaries):
    """`lienthong seed` in the image, without --dir, reads the directory the
    runtime stage copies data/seed to: its --help names that directory."""
    dests = []
    for s, w, r in ins:
        if s != runtime or w != "COPY":
            continue
        words = shlex.split(r)
        srcs = [x.rstrip("/") for x in words[:-1] if not x.startswith("--")]
        if "data/seed" in srcs:
            dests.append(words[-1].rstrip("/"))
    if not dests:
        problem("the runtime stage does not copy data/seed (lienthong seed reads it)")
        return
    cli = next((b for b in binaries if os.path.basename(b) == "lienthong"), None)
    if cli is None:
        return
    r = subprocess.run([cli, "--help"], capture_output=True, text=True)
    for dest in dests:
        if not re.search(rf"(?<![\w./-]){re.escape(dest)}(?![\w./-])", r.stdout):
            problem(f"the image puts the seed data in {dest}, where `lienthong seed` "
                    "does not look without --dir (see its --help)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dockerfile", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--ignore-lib", action="append", default=[],
                    help="library file glob to leave out (sanitizer runtimes of a dev build)")
    ap.add_argument("binaries", nargs="+")
    a = ap.parse_args()

    ins = instructions(a.dockerfile)
    stages = sorted({s for s, _, _ in ins if s >= 0})
    froms = {s: rest for s, w, rest in ins if w == "FROM"}
    if len(stages) < 2:
        problem("not a multi-stage build")
    build, runtime = stages[0], stages[-1]
    if not re.match(r"debian:bookworm(\s|$)", froms.get(build, "")):
        problem(f"the build stage starts FROM {froms.get(build)!r}, not debian:bookworm")
    if not re.match(r"debian:bookworm-slim(\s|$)", froms.get(runtime, "")):
        problem(f"the runtime stage starts FROM {froms.get(runtime)!r}, not debian:bookworm-slim")
    build_runs = " ".join(r for s, w, r in ins if s == build and w == "RUN")
    if "tools/setup" not in build_runs or "cmake --preset release" not in build_runs:
        problem("the build stage does not run tools/setup and `cmake --preset release`")

    runtime_pkgs = []
    for s, w, r in ins:
        if s == runtime and w == "RUN":
            runtime_pkgs += apt_installs(r)
    if not runtime_pkgs:
        problem("the runtime stage installs no package")
    exists = known_packages(runtime_pkgs) if runtime_pkgs else set()
    for p in runtime_pkgs:
        if p not in exists:
            problem(f"runtime package {p} does not exist in Debian (apt-cache show)")
        if p.endswith("-dev") or p in ("build-essential", "cmake", "g++", "gcc", "ninja-build"):
            problem(f"runtime package {p} is a build tool or header package")
    for need, why in (("tzdata", "Asia/Ho_Chi_Minh for the calendar and quiet hours"),
                      ("ca-certificates", "notify's TLS peers")):
        if need not in runtime_pkgs:
            problem(f"the runtime stage does not install {need} ({why})")
    installed = closure(sorted(exists)) if exists else set()

    users = [r for s, w, r in ins if s == runtime and w == "USER"]
    uid = users[-1].split(":")[0] if users else "root"
    if not uid.isdigit() or int(uid) == 0:
        problem(f"the runtime stage runs as {uid!r}: needs a numeric non-root USER")
    for dep in glob.glob(os.path.join(a.source, "k8s", "base", "*", "deployment.yaml")):
        d = yaml.safe_load(open(dep, encoding="utf-8"))
        want = d["spec"]["template"]["spec"].get("securityContext", {}).get("runAsUser")
        if str(want) != uid:
            problem(f"{os.path.relpath(dep, a.source)} runs as {want}, the image as {uid}")

    text = open(a.dockerfile, encoding="utf-8").read()
    libs = {}
    for b in a.binaries:
        name = os.path.basename(b)
        rel = os.path.relpath(b, a.build_dir)
        if f"build/release/{rel}" not in text:
            problem(f"{name}: the Dockerfile does not copy build/release/{rel} into the image")
        for lib in ldd(b):
            if not any(fnmatch.fnmatch(os.path.basename(lib), g) for g in a.ignore_lib):
                libs.setdefault(lib, []).append(name)
    check_seed_dir(ins, runtime, a.binaries)
    for lib, pkg in owners(list(libs)).items():
        users = ", ".join(sorted(set(libs[lib])))
        if pkg is None:
            problem(f"{users}: {lib} belongs to no Debian package")
        elif pkg not in installed:
            problem(f"{users}: {os.path.basename(lib)} comes from {pkg}, which the runtime stage does not install")

    return finish(problems, a.expect,
                  f"{len(runtime_pkgs)} runtime packages, {len(installed)} with dependencies")


if __name__ == "__main__":
    sys.exit(main())
