#!/usr/bin/env python3
"""The state store's benchmarks, in one run on one machine:

1. bytes per state of the visited set on disk (bin store_bytes: a run of the
   fingerprints of N distinct states; TLC's disk fingerprint set stores 8);
2. disk tier against memory only: `fathom check` of TwoPhase with and without
   `--memory`, the same threads, alternating, medians;
3. resume overhead: a run stopped by SIGTERM halfway and resumed, against
   one uninterrupted run with the same store options.

Writes results/NAME.json and results/NAME.md.
Usage: python3 benches/store.py [--n 9] [--memory 32M] [--threads 2]
       [--repeat 3] [--bytes 1000000 10000000 100000000] [--name store]
"""
import argparse, json, os, signal, statistics, subprocess, sys, tempfile, time
from datetime import datetime, timezone

from compare import machine  # benches/ is on the path: this script's directory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FATHOM = os.path.join(ROOT, "target", "release", "fathom")
BYTES = os.path.join(ROOT, "target", "release", "store_bytes")
SPEC = os.path.join(ROOT, "specs", "two_phase.fathom")


def check(args, n, threads):
    cmd = [FATHOM, "check", SPEC, "--const", f"N={n}", "--json", "-q", "--threads", str(threads)] + args
    t = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    j = json.loads(p.stdout)
    return {"wall": wall, "distinct": j["distinct"], "generated": j["generated"],
            "disk_fingerprints": j["disk_fingerprints"], "peak_rss_bytes": j["peak_rss_bytes"],
            "command": " ".join(cmd[1:])}


def stopped_and_resumed(extra, n, threads, after):
    with tempfile.TemporaryDirectory() as d:
        store = os.path.join(d, "store")
        cmd = [FATHOM, "check", SPEC, "--const", f"N={n}", "--json", "-q", "--threads", str(threads),
               "--store", store] + extra
        t = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(after)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate()
        first = time.monotonic() - t
        if p.returncode != 5:
            sys.exit(f"expected exit 5 after SIGTERM, got {p.returncode}: {err}")
        t = time.monotonic()
        r = subprocess.run([FATHOM, "check", SPEC, "--const", f"N={n}", "--json", "-q", "--threads",
                            str(threads), "--resume", store] + extra, capture_output=True, text=True)
        second = time.monotonic() - t
        if r.returncode != 0:
            sys.exit(f"resume failed: {r.stderr}")
        j = json.loads(r.stdout)
        return {"stopped_at_depth": json.loads(out)["depth"], "first_wall": first, "resume_wall": second,
                "total_wall": first + second, "distinct": j["distinct"], "generated": j["generated"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=9)
    ap.add_argument("--memory", default="32M")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--bytes", type=int, nargs="*", default=[1_000_000, 10_000_000, 100_000_000])
    ap.add_argument("--name", default="store")
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-p", "checker", "-p", "fathom-benches", "--bins"],
                   cwd=ROOT, check=True)

    sizes = []
    for n in a.bytes:
        p = subprocess.run([BYTES, str(n)], capture_output=True, text=True, check=True)
        sizes.append(json.loads(p.stdout))

    mem, disk = [], []
    for _ in range(a.repeat):
        mem.append(check([], a.n, a.threads))
        disk.append(check(["--memory", a.memory], a.n, a.threads))
    for r in mem + disk:
        assert (r["distinct"], r["generated"]) == (mem[0]["distinct"], mem[0]["generated"]), "same counts"
    m_med = statistics.median(r["wall"] for r in mem)
    d_med = statistics.median(r["wall"] for r in disk)

    resume = []
    for extra in ([], ["--memory", a.memory]):
        whole = check(["--store", tempfile.mkdtemp(prefix="fathom-bench-"), "--checkpoint-every", "1h"] + extra,
                      a.n, a.threads)
        part = stopped_and_resumed(extra, a.n, a.threads, whole["wall"] / 2)
        assert (part["distinct"], part["generated"]) == (mem[0]["distinct"], mem[0]["generated"]), "resumed counts"
        resume.append({"options": extra, "uninterrupted_wall": whole["wall"], **part,
                       "overhead": part["total_wall"] / whole["wall"] - 1})

    out = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "command": "python3 benches/store.py " + " ".join(sys.argv[1:]),
        "bytes_per_state": sizes,
        "disk_vs_memory": {"spec": f"two_phase N={a.n}", "threads": a.threads, "memory": a.memory,
                           "memory_only": mem, "with_budget": disk,
                           "median_wall_memory_only": m_med, "median_wall_with_budget": d_med,
                           "slowdown": d_med / m_med},
        "resume": resume,
    }
    os.makedirs(os.path.join(ROOT, "results"), exist_ok=True)
    with open(os.path.join(ROOT, "results", a.name + ".json"), "w") as f:
        json.dump(out, f, indent=2)
    lines = [f"# State store benchmarks ({out['when']})", "",
             f"Machine: {out['machine']['cpu']}, {out['machine']['cores']} cores. Command: `{out['command']}`.", "",
             "## Bytes per state of the visited set on disk (TLC: 8)", "",
             "| states | run bytes | bytes/state |", "|---|---|---|"]
    lines += [f"| {s['states']:,} | {s['run_bytes']:,} | {s['bytes_per_state']:.3f} |" for s in sizes]
    lines += ["", f"## Disk tier against memory only: TwoPhase N={a.n}, {a.threads} threads, medians of {a.repeat}", "",
              "| | wall s (median) | peak RSS MiB (median) | fingerprints on disk |", "|---|---|---|---|",
              f"| memory only | {m_med:.2f} | {statistics.median(r['peak_rss_bytes'] for r in mem) / 2**20:.0f} | 0 |",
              f"| --memory {a.memory} | {d_med:.2f} | {statistics.median(r['peak_rss_bytes'] for r in disk) / 2**20:.0f} | {disk[0]['disk_fingerprints']:,} |",
              "", f"Slowdown with the disk tier: {d_med / m_med:.2f}x (target: within 2x).", "",
              "## Resume overhead (SIGTERM at half the uninterrupted wall time, then --resume)", "",
              "| options | uninterrupted s | stopped at depth | first part s | resume s | total s | overhead |",
              "|---|---|---|---|---|---|---|"]
    lines += [f"| {' '.join(r['options']) or '(in memory)'} | {r['uninterrupted_wall']:.2f} | {r['stopped_at_depth']} | "
              f"{r['first_wall']:.2f} | {r['resume_wall']:.2f} | {r['total_wall']:.2f} | {100 * r['overhead']:+.1f}% |"
              for r in resume]
    with open(os.path.join(ROOT, "results", a.name + ".md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
