#!/usr/bin/env python3
"""GPU backend against CPU backend, in one run on one machine.

For each workload -- TwoPhase at each --n, and German's cache-coherence
protocol at --german's constants -- runs `fathom check --backend cpu` (all
cores, or --threads) and `--backend gpu`, alternating, --repeat times;
reports the median distinct states/s of each (the engine's own search time:
process start, shader compilation and spec loading excluded, as in the
summary's `seconds`), the GPU/CPU ratio, and fails if the two backends ever
disagree on a count (the CPU is the oracle).

On a software adapter (lavapipe: pass --allow-software) the numbers prove
correctness only, not speed: the "GPU" is the same CPU cores.

Writes results/NAME.json and results/NAME.md.
Usage: python3 benches/gpu.py [--n 9 10 11] [--german NodeNum=4 DataNum=2]
       [--repeat 3] [--threads N] [--allow-software] [--timeout 1800]
       [--name gpu_vs_cpu]
"""
import argparse, json, os, statistics, subprocess, sys, time
from datetime import datetime, timezone

from compare import machine  # benches/ is on the path: this script's directory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FATHOM = os.path.join(ROOT, "target", "release", "fathom")


def check(spec, consts, backend, args):
    cmd = [FATHOM, "check", os.path.join(ROOT, "specs", spec), "--json", "-q", "--backend", backend]
    for c in consts:
        cmd += ["--const", c]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if backend == "gpu" and args.allow_software:
        cmd.append("--allow-software")
    t = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    wall = time.monotonic() - t
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    j = json.loads(p.stdout)
    if j["backend"] != backend:
        sys.exit(f"asked for {backend}, ran on {j['backend']}: {p.stderr}")
    return {"wall": wall, "seconds": j["seconds"], "distinct": j["distinct"],
            "generated": j["generated"], "depth": j["depth"], "device": j.get("device"),
            "command": " ".join(["fathom"] + cmd[1:])}


def workload(name, spec, consts, args):
    runs = {"cpu": [], "gpu": []}
    for _ in range(args.repeat):
        for backend in ("cpu", "gpu"):
            r = check(spec, consts, backend, args)
            runs[backend].append(r)
            print(f"{name} {backend}: {r['distinct']} states in {r['seconds']:.2f}s", file=sys.stderr)
    counts = {(r["distinct"], r["generated"], r["depth"]) for b in runs for r in runs[b]}
    if len(counts) != 1:
        sys.exit(f"{name}: the backends disagree: {sorted(counts)}")
    (distinct, generated, depth), = counts
    out = {"workload": name, "spec": spec, "consts": consts, "distinct": distinct,
           "generated": generated, "depth": depth, "device": runs["gpu"][0]["device"]}
    for b in ("cpu", "gpu"):
        secs = statistics.median(r["seconds"] for r in runs[b])
        out[b] = {"median_seconds": secs, "median_states_per_second": distinct / secs if secs else 0.0,
                  "median_wall": statistics.median(r["wall"] for r in runs[b]),
                  "seconds": [r["seconds"] for r in runs[b]], "command": runs[b][0]["command"]}
    out["gpu_over_cpu"] = out["gpu"]["median_states_per_second"] / max(out["cpu"]["median_states_per_second"], 1e-9)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[9, 10, 11])
    ap.add_argument("--german", nargs="+", default=["NodeNum=4", "DataNum=2"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--allow-software", action="store_true")
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--name", default="gpu_vs_cpu")
    args = ap.parse_args()
    if not os.path.exists(FATHOM):
        sys.exit("build first: cargo build --release")
    results = [workload(f"TwoPhase N={n}", "two_phase.fathom", [f"N={n}"], args) for n in args.n]
    results.append(workload("German " + " ".join(args.german), "german.fathom", args.german, args))
    doc = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
           "command": "python3 benches/gpu.py " + " ".join(sys.argv[1:]), "results": results}
    os.makedirs(os.path.join(ROOT, "results"), exist_ok=True)
    with open(os.path.join(ROOT, "results", args.name + ".json"), "w") as f:
        json.dump(doc, f, indent=2)
    m = doc["machine"]
    lines = [f"# GPU vs CPU backend ({doc['date']})", "",
             f"Command: `{doc['command']}`", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_mib']} MiB; "
             f"GPU: {results[0]['device']}", "",
             "Medians of the engine's search seconds; the counts of both backends were equal in every run.", "",
             "| workload | distinct | CPU states/s | GPU states/s | GPU/CPU |",
             "|---|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['workload']} | {r['distinct']} | {r['cpu']['median_states_per_second']:,.0f} | "
                     f"{r['gpu']['median_states_per_second']:,.0f} | {r['gpu_over_cpu']:.2f}x |")
    if args.allow_software:
        lines += ["", "The GPU here may be a software adapter (see the device): these numbers show "
                  "agreement, not GPU speed."]
    with open(os.path.join(ROOT, "results", args.name + ".md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
