#!/usr/bin/env python3
"""Fathom beside Rumur on identical input: the same Murphi file, in one run,
on one machine.

For each model and size, each tool `--repeat` times (the median kept):
  fathom check <model>.m --const <C>=<n> --backend cpu --no-deadlock --no-symmetry --threads <T>
  rumur --symmetry-reduction off --deadlock-detection off --threads <T> <model>.m
      (the constant rewritten in a copy: Rumur takes none on its command
      line), built with cc -O3 -march=native
Wall-clock seconds from process start to exit (Rumur's C compile not
counted). Both must report the same number of states (and Fathom's
generated states less its initial ones must equal Rumur's rules fired).

Writes results/murphi_speed.json and .md with the machine and commands.

  python3 benches/murphi_speed.py --threads 2 --repeat 3
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FATHOM = ROOT / "target/release/fathom"

MODELS = [
    ("two_phase.m", "N", [7, 8], {}),
    ("german.m", "NodeNum", [3, 4], {"DataNum": 2}),
]


def timed(cmd, timeout):
    start = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return time.monotonic() - start, p


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-p", "checker"], cwd=ROOT, check=True, capture_output=True)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        for model, const, sizes, extra in MODELS:
            text = (ROOT / "benches/murphi" / model).read_text()
            for n in sizes:
                consts = {const: n, **extra}
                src = text
                for k, v in consts.items():
                    src, count = re.subn(rf"const {k}: \d+;", f"const {k}: {v};", src)
                    assert count == 1, f"{model}: one `const {k}`"
                m = work / f"{model[:-2]}_{n}.m"
                m.write_text(src)
                c, exe = m.with_suffix(".c"), m.with_suffix("")
                subprocess.run(["rumur", "--symmetry-reduction", "off", "--deadlock-detection", "off",
                                "--threads", str(args.threads), "--output", str(c), str(m)],
                               check=True, capture_output=True)
                subprocess.run(["cc", "-O3", "-march=native", "-mcx16", "-o", str(exe), str(c),
                                "-lpthread", "-latomic"], check=True, capture_output=True)
                fathom_cmd = [str(FATHOM), "check", str(m), "--backend", "cpu", "--no-deadlock",
                              "--no-symmetry", "--threads", str(args.threads), "--json", "-q"]
                f_times, r_times = [], []
                for _ in range(args.repeat):
                    t, p = timed(fathom_cmd, args.timeout)
                    f = json.loads(p.stdout)
                    f_times.append(t)
                    t, p = timed([str(exe)], args.timeout)
                    r = re.search(r"(\d+) states, (\d+) rules fired", p.stdout)
                    assert r, p.stdout[-500:]
                    r_times.append(t)
                states, fired = int(r.group(1)), int(r.group(2))
                assert f["distinct"] == states, f"{m.name}: Fathom {f['distinct']} states, Rumur {states}"
                row = {"model": model, "consts": consts, "states": states, "rules_fired": fired,
                       "fathom_generated": f["generated"],
                       "fathom_s": round(statistics.median(f_times), 3),
                       "rumur_s": round(statistics.median(r_times), 3)}
                row["ratio"] = round(row["rumur_s"] / row["fathom_s"], 2)
                rows.append(row)
                print(row, flush=True)
    out = ROOT / "results/murphi_speed"
    out.with_suffix(".json").write_text(json.dumps({"machine": machine(), "threads": args.threads,
                                                    "repeat": args.repeat, "rows": rows}, indent=2) + "\n")
    lines = [
        "# Fathom beside Rumur on the same Murphi file",
        "",
        f"Command: `python3 benches/murphi_speed.py --threads {args.threads} --repeat {args.repeat}`",
        f"Machine: {machine()}",
        "",
        "Rumur: `rumur --symmetry-reduction off --deadlock-detection off --threads T`, built with",
        "`cc -O3 -march=native` (compile time not counted). Fathom: `fathom check --backend cpu",
        "--no-deadlock --no-symmetry --threads T` (scalarsets unreduced, as Rumur's here). Wall-clock seconds, process start to exit, median of the",
        "runs; ratio = Rumur's seconds / Fathom's (above 1: Fathom is faster). States agree in",
        "every row (the script stops otherwise).",
        "",
        "| model | constants | states | rules fired | Fathom s | Rumur s | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        consts = ", ".join(f"{k}={v}" for k, v in r["consts"].items())
        lines.append(f"| {r['model']} | {consts} | {r['states']:,} | {r['rules_fired']:,} | "
                     f"{r['fathom_s']} | {r['rumur_s']} | {r['ratio']} |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
