#!/usr/bin/env python3
"""GPU backend against CPU backend, in one run on one machine, within a time
budget (one call of the device tool: see benches/gpu_device.sh).

Workloads, smallest first: TwoPhase at each --n, then German's protocol at
each --german NodeNum. Each runs `fathom check --backend gpu` first, then
`--backend cpu` (all cores, or --threads) unless N is at least --gpu-only
or the CPU's rate on the workload before predicts it would not finish in
the budget left. The CPU is the oracle: the script fails if the backends
ever disagree on a count. For each run it records the engine's search
seconds (process start, shader compilation and spec loading excluded, as in
the summary's `seconds`), the wall time, distinct states/s, the summary's
`gpu` object (levels, bytes each way, blocking reads, submits, table slots,
spills), the process's peak RSS, and on NVIDIA the device memory in use at
its peak (nvidia-smi, sampled every 200 ms).

Results are written after every workload (a killed run keeps what it
measured) to OUT/NAME.json and OUT/NAME.md.

On a software adapter (lavapipe: --allow-software) the numbers prove
correctness only, not speed: the "GPU" is the same CPU cores.

Last, on the largest TwoPhase both backends ran, the GPU once more with
per-thread table probes (FATHOM_GPU_PROBE=thread) against the default
cooperative (subgroup) ones, where the budget allows.

Usage: python3 benches/gpu.py [--n 10 11 12] [--german 3 4 5] [--gpu-only 12]
       [--budget 420] [--threads N] [--allow-software] [--out results]
       [--name gpu_h200] [--fathom target/release/fathom] [--no-compare-probes]
"""
import argparse, json, os, shutil, subprocess, sys, threading, time
from datetime import datetime, timezone

from compare import machine  # benches/ is on the path: this script's directory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - START:6.1f}s] {msg}", file=sys.stderr, flush=True)


class GpuMemory:
    """Peak device memory in use (MiB) while a run lasts, from nvidia-smi."""

    def __init__(self):
        self.peak = None
        self.proc = None

    def __enter__(self):
        if shutil.which("nvidia-smi"):
            self.proc = subprocess.Popen(
                ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "-lms", "200"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self):
        for line in self.proc.stdout:
            try:
                v = int(line.strip().split()[0])
            except (ValueError, IndexError):
                continue
            self.peak = v if self.peak is None else max(self.peak, v)

    def __exit__(self, *exc):
        if self.proc:
            self.proc.terminate()
            self.proc.wait()


def check(args, spec, consts, backend, timeout, env=None):
    cmd = [args.fathom, "check", os.path.join(ROOT, "specs", spec), "--json", "-q", "--backend", backend]
    for c in consts:
        cmd += ["--const", c]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if backend == "gpu" and args.allow_software:
        cmd.append("--allow-software")
    t = time.monotonic()
    with GpuMemory() as mem:
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=max(timeout, 1),
                               env={**os.environ, **(env or {})})
        except subprocess.TimeoutExpired:
            return {"timed_out": True, "timeout": timeout, "command": " ".join(["fathom"] + cmd[1:])}
    wall = time.monotonic() - t
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    j = json.loads(p.stdout)
    if j["backend"] != backend:
        sys.exit(f"asked for {backend}, ran on {j['backend']}: {p.stderr}")
    secs = j["seconds"]
    return {"wall": wall, "seconds": secs, "distinct": j["distinct"], "generated": j["generated"],
            "depth": j["depth"], "states_per_second": j["distinct"] / secs if secs else 0.0,
            "device": j.get("device"), "gpu": j.get("gpu"), "peak_rss_bytes": j.get("peak_rss_bytes"),
            "gpu_memory_peak_mib": mem.peak, "command": " ".join(["fathom"] + cmd[1:])}


def left(args):
    return args.budget - (time.monotonic() - START)


def workload(args, name, spec, consts, gpu_only, cpu_rate):
    out = {"workload": name, "spec": spec, "consts": consts}
    log(f"{name}: GPU ...")
    g = check(args, spec, consts, "gpu", left(args) - 5)
    out["gpu"] = g
    if g.get("timed_out"):
        log(f"{name}: the GPU run did not finish in the budget")
        return out
    log(f"{name}: GPU {g['distinct']:,} states in {g['seconds']:.2f}s "
        f"({g['states_per_second']:,.0f}/s; wall {g['wall']:.1f}s)")
    out.update({"distinct": g["distinct"], "generated": g["generated"], "depth": g["depth"],
                "device": g["device"]})
    if gpu_only:
        out["cpu"] = {"skipped": "GPU only at this size"}
        return out
    if cpu_rate:
        predicted = g["distinct"] / cpu_rate
        if predicted > left(args) - 10:
            out["cpu"] = {"skipped": f"predicted {predicted:.0f}s at the CPU's last rate, "
                                     f"{left(args):.0f}s of the budget left"}
            log(f"{name}: CPU skipped ({out['cpu']['skipped']})")
            return out
    log(f"{name}: CPU ...")
    c = check(args, spec, consts, "cpu", left(args) - 5)
    out["cpu"] = c
    if c.get("timed_out"):
        log(f"{name}: the CPU run did not finish in the budget")
        return out
    if (c["distinct"], c["generated"], c["depth"]) != (g["distinct"], g["generated"], g["depth"]):
        sys.exit(f"{name}: the backends disagree: CPU {c['distinct']}/{c['generated']}/{c['depth']}, "
                 f"GPU {g['distinct']}/{g['generated']}/{g['depth']}")
    out["gpu_over_cpu"] = g["states_per_second"] / max(c["states_per_second"], 1e-9)
    log(f"{name}: CPU {c['distinct']:,} states in {c['seconds']:.2f}s ({c['states_per_second']:,.0f}/s); "
        f"GPU/CPU {out['gpu_over_cpu']:.1f}x")
    return out


def write(args, doc):
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, args.name + ".json"), "w") as f:
        json.dump(doc, f, indent=2)
    m = doc["machine"]
    device = next((r["device"] for r in doc["results"] if r.get("device")), "none")
    lines = [f"# GPU vs CPU backend ({doc['date']})", "",
             f"Command: `{doc['command']}`", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_mib']} MiB; GPU: {device}", "",
             "One run each; distinct states per second of the engine's search (process start, "
             "shader compilation and spec loading excluded); the counts of both backends were "
             "equal wherever both ran.", "",
             "| workload | distinct | GPU s | GPU states/s | CPU s | CPU states/s | GPU/CPU | "
             "to host B/state | blocking reads / level | GPU memory MiB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in doc["results"]:
        g, c = r["gpu"], r.get("cpu", {})
        if g.get("timed_out"):
            lines.append(f"| {r['workload']} | - | timed out | | | | | | | |")
            continue
        st = g.get("gpu") or {}
        per_state = st.get("bytes_to_host", 0) / max(g["distinct"], 1)
        reads = st.get("blocking_reads", 0) / max(st.get("levels", 1), 1)
        cpu_s = f"{c['seconds']:.2f}" if "seconds" in c else ("timed out" if c.get("timed_out") else "-")
        cpu_rate = f"{c['states_per_second']:,.0f}" if "seconds" in c else "-"
        ratio = f"{r['gpu_over_cpu']:.1f}x" if "gpu_over_cpu" in r else "-"
        lines.append(f"| {r['workload']} | {g['distinct']:,} | {g['seconds']:.2f} | "
                     f"{g['states_per_second']:,.0f} | {cpu_s} | {cpu_rate} | {ratio} | "
                     f"{per_state:.1f} | {reads:.2f} | {g.get('gpu_memory_peak_mib') or '-'} |")
    skipped = [f"{r['workload']}: {r['cpu']['skipped']}" for r in doc["results"]
               if isinstance(r.get("cpu"), dict) and "skipped" in r["cpu"]]
    if skipped:
        lines += ["", "CPU runs not made: " + "; ".join(skipped) + "."]
    pc = doc.get("probe_comparison")
    if pc and not pc["thread"].get("timed_out"):
        lines += ["", f"Table probing on {pc['workload']}: cooperative (subgroup) "
                  f"{pc['subgroup_states_per_second']:,.0f} states/s, per thread "
                  f"{pc['thread']['states_per_second']:,.0f} states/s."]
    if args.allow_software:
        lines += ["", "The GPU here may be a software adapter (see the device): these numbers show "
                  "agreement, not GPU speed."]
    with open(os.path.join(args.out, args.name + ".md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="*", default=[10, 11, 12])
    ap.add_argument("--german", type=int, nargs="*", default=[3, 4, 5],
                    help="German's NodeNum values (DataNum=2), smallest first")
    ap.add_argument("--gpu-only", type=int, default=12, help="TwoPhase N from which the CPU is not run")
    ap.add_argument("--budget", type=float, default=420, help="seconds for the whole script")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--allow-software", action="store_true")
    ap.add_argument("--out", default=os.path.join(ROOT, "results"))
    ap.add_argument("--name", default="gpu_h200")
    ap.add_argument("--fathom", default=os.path.join(ROOT, "target", "release", "fathom"))
    ap.add_argument("--no-compare-probes", dest="compare_probes", action="store_false",
                    help="skip the per-thread probing run")
    args = ap.parse_args()
    if not os.path.exists(args.fathom):
        sys.exit("build first: cargo build --release")
    doc = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
           "command": "python3 benches/gpu.py " + " ".join(sys.argv[1:]), "budget_seconds": args.budget,
           "results": []}
    plan = [(f"TwoPhase N={n}", "two_phase.fathom", [f"N={n}"], n >= args.gpu_only) for n in args.n]
    plan += [(f"German NodeNum={k} DataNum=2", "german.fathom", [f"NodeNum={k}", "DataNum=2"], False)
             for k in args.german]
    cpu_rate = {}
    gave_up = set()
    for name, spec, consts, gpu_only in plan:
        if spec in gave_up:
            log(f"{name}: not run, a smaller one did not finish")
            continue
        if left(args) < 20:
            log(f"{name}: not run, {left(args):.0f}s of the budget left")
            doc["results"].append({"workload": name, "spec": spec, "consts": consts,
                                   "gpu": {"timed_out": True, "timeout": 0}})
            continue
        r = workload(args, name, spec, consts, gpu_only, cpu_rate.get(spec))
        c = r.get("cpu", {})
        if "states_per_second" in c:
            cpu_rate[spec] = c["states_per_second"]
        doc["results"].append(r)
        write(args, doc)
        if r["gpu"].get("timed_out"):
            # A larger one of the same spec would not finish either.
            gave_up.add(spec)
    # Cooperative (subgroup) against per-thread probing of the table, on
    # the largest TwoPhase both backends ran: which default is right is a
    # hardware question.
    both = [r for r in doc["results"] if r["spec"] == "two_phase.fathom" and "distinct" in r]
    if args.compare_probes and both and left(args) > 60:
        r = both[-1]
        if (r["gpu"].get("gpu") or {}).get("probe") == "subgroup":
            log(f"{r['workload']}: GPU with per-thread probes ...")
            t = check(args, r["spec"], r["consts"], "gpu", left(args) - 5, {"FATHOM_GPU_PROBE": "thread"})
            if not t.get("timed_out"):
                if (t["distinct"], t["generated"], t["depth"]) != (r["distinct"], r["generated"], r["depth"]):
                    sys.exit(f"{r['workload']}: per-thread probes changed the counts")
                log(f"{r['workload']}: per-thread probes {t['states_per_second']:,.0f}/s, "
                    f"subgroup {r['gpu']['states_per_second']:,.0f}/s")
            doc["probe_comparison"] = {"workload": r["workload"], "thread": t,
                                       "subgroup_states_per_second": r["gpu"]["states_per_second"]}
    lines = write(args, doc)
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
