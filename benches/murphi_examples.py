#!/usr/bin/env python3
"""CMurphi's example models (its distribution's `ex/` folder), run as they
are by Rumur and by Fathom: the verdicts and counts compared, and the time
of each.

The models are not in this repository (CMurphi's examples carry no
redistribution grant); point the script at a checkout of them, e.g. CMurphi
5.4.9 as github.com/melver/cmurphi holds it:

  git clone https://github.com/melver/cmurphi /tmp/cmurphi
  python3 benches/murphi_examples.py --examples /tmp/cmurphi/ex

With `--cmurphi DIR` (that checkout, built: `make` in src/ with
CFLAGS="-O0 -g -fno-strict-aliasing -fpermissive -w", as the -O2 build's
compiler crashes here) CMurphi runs each model too, as a third opinion:
  mu model.m; g++ -O2 -w -I DIR/include model.cpp;
  ./model -nosym -nomultiset -ndl -m4000 -pn -tv
(`--cmurphi-memory MB` for another -m: its BFS queue is a tenth of its
table, and eadash.m needs -m16000).

Per model (`probrules/` left out: probabilistic rules are CMurphi's own):
  rumur --symmetry-reduction off --deadlock-detection off --threads T model.m
      built with cc -O3 -march=native, run once (compile time not counted)
  fathom check model.m --backend cpu --no-deadlock --threads T --json
      and `--max-depth 1` for the number of initial states
With `--threads 1` (the default) both searches are breadth-first in one
thread, so a violation's trace is a shortest one in both, and the lengths
must agree. A model with a constant too large for the time budget runs
with the constant given in SIZES, written into a copy for Rumur (it takes
no constants on its command line).

With `--symmetry`, both reduce by the models' scalarsets: Rumur with
`--symmetry-reduction exhaustive` (every permutation tried: exact orbits)
and Fathom as it checks by default (its exact representative), so the
states are the orbits, counted alike; CMurphi is not run. Without it,
Fathom gets `--no-symmetry` and Rumur `--symmetry-reduction off`.
Results: results/murphi_examples_symmetry.{json,md}.

Outcomes: `same` (both pass with the same states, and Fathom's generated
less its initial states equal Rumur's rules fired; or both find a
violation of the same property with traces of the same length), `both
reject` (neither supports a construct: the message of each), or a
mismatch, listed.

Writes results/murphi_examples.json and .md; with `--only M ...`, runs
those models and replaces their rows, keeping the others (each rerun row
notes its machine).
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402
from compare import machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FATHOM = ROOT / "target/release/fathom"

# Constants lowered for the time budget on a small machine.
SIZES = {"n_peterson.m": {"N": 5}}


def timed(cmd, timeout):
    """compare.timed, with (timeout, None) for a run that timed out."""
    try:
        return compare.timed(cmd, timeout=timeout)
    except subprocess.TimeoutExpired:
        return timeout, None


def with_consts(text, consts):
    for name, value in consts.items():
        text, n = re.subn(rf"(?im)^(\s*{name}\s*:\s*)\d+", rf"\g<1>{value}", text, count=1)
        assert n == 1, f"constant {name} not found"
    return text


def rumur(model, text, threads, timeout, work, symmetry=False):
    """(outcome, detail, seconds): outcome is pass, error or reject."""
    src = work / "model.m"
    src.write_text(text, encoding="latin-1")
    reduction = "exhaustive" if symmetry else "off"
    gen = subprocess.run(["rumur", "--symmetry-reduction", reduction, "--deadlock-detection", "off",
                          "--threads", str(threads), str(src), "--output", str(work / "r.c")],
                         capture_output=True, text=True)
    if gen.returncode != 0:
        first = next((ln for ln in gen.stderr.splitlines() if "error" in ln), gen.stderr[:120])
        return "reject", {"message": first.replace(str(src), model)}, 0.0
    subprocess.run(["cc", "-O3", "-march=native", "-mcx16", str(work / "r.c"), "-o", str(work / "r"),
                    "-lpthread", "-latomic"], check=True, capture_output=True)
    seconds, p = timed([str(work / "r")], timeout)
    if p is None:
        return "timeout", {}, seconds
    m = re.search(r"(\d+) states, (\d+) rules fired", p.stdout)
    detail = {"states": int(m.group(1)), "fired": int(m.group(2))} if m else {}
    if p.returncode == 0:
        return "pass", detail, seconds
    failed = re.search(r"^\s*(.*) failed$", p.stdout, re.M)
    # Trace: one line per startstate or rule that fired.
    steps = len(re.findall(r"^(Startstate .* fired|Rule .* fired)\.?$", p.stdout, re.M))
    detail.update({"property": failed.group(1) if failed else "", "trace": steps})
    return "error", detail, seconds


def cmurphi(home, model, text, timeout, work, memory=4000):
    """As `rumur`, by CMurphi without symmetry or multiset reduction."""
    d = work / "cm"
    d.mkdir(exist_ok=True)
    src = d / "model.m"
    src.write_text(text, encoding="latin-1")
    gen = subprocess.run([str(home / "src/mu"), "model.m"], cwd=d, capture_output=True,
                         text=True, errors="replace")
    if gen.returncode != 0 or not (d / "model.cpp").exists():
        first = next((ln for ln in gen.stdout.splitlines() + gen.stderr.splitlines()
                      if "rror" in ln), "mu failed")
        return "reject", {"message": first.strip()}, 0.0
    subprocess.run(["g++", "-O2", "-w", "-I", str(home / "include"), "model.cpp", "-o", "model"],
                   cwd=d, check=True, capture_output=True)
    (d / "model.cpp").unlink()
    seconds, p = timed([str(d / "model"), "-nosym", "-nomultiset", "-ndl", f"-m{memory}", "-pn", "-tv"],
                       timeout)
    if p is None:
        return "timeout", {}, seconds
    m = re.search(r"(\d+) states, (\d+) rules fired", p.stdout)
    detail = {"states": int(m.group(1)), "fired": int(m.group(2))} if m else {}
    if p.returncode == 0 and m:
        return "pass", detail, seconds
    # An invariant, an assertion, an error statement: the line after this.
    failed = re.search(r"error trace for the error:\s*\n\s*(.+)$", p.stdout, re.M)
    if not failed:
        # Its own limits (a full table or queue), on either stream.
        trouble = re.findall(r"Error: *(.+)$", p.stdout + p.stderr, re.M)
        return "gave up", {"message": trouble[-1].strip() if trouble else ""}, seconds
    steps = len(re.findall(r"^(Startstate .* fired|Rule .* fired)\.?$", p.stdout, re.M))
    detail.update({"property": failed.group(1), "trace": steps})
    return "error", detail, seconds


def fathom(path, consts, threads, timeout, symmetry=False):
    const_args = [a for k, v in consts.items() for a in ("--const", f"{k}={v}")]
    cmd = [str(FATHOM), "check", str(path), "--backend", "cpu", "--no-deadlock", "--threads",
           str(threads), "--json", "-q"] + const_args + ([] if symmetry else ["--no-symmetry"])
    seconds, p = timed(cmd, timeout)
    if p is None:
        return "timeout", {}, seconds
    if p.returncode == 3 or p.returncode == 4:
        first = next((ln for ln in p.stderr.splitlines() if ln.strip()), "")
        return "reject", {"message": re.sub(r"\x1b\[[0-9;]*m", "", first)}, seconds
    j = json.loads(p.stdout)
    detail = {"states": j["distinct"], "generated": j["generated"]}
    if p.returncode == 0:
        _, q = timed(cmd + ["--max-depth", "1"], timeout)
        detail["initial"] = json.loads(q.stdout)["generated"]
        return "pass", detail, seconds
    v = j["violation"]
    # Rumur and CMurphi list the rule that fails (an assert, an error) as a
    # step of the trace; Fathom's trace length counts states, and the
    # failing step comes after the last.
    steps = v.get("trace_length") + (0 if v.get("kind") in ("invariant", "deadlock") else 1)
    detail.update({"property": v.get("name", ""), "trace": steps})
    return "error", detail, seconds


def verdict(r, f, c=None):
    """Fathom against Rumur, and against CMurphi when it ran."""
    if f[0] == "timeout":
        return "timeout"
    v = verdict2(r, f)
    if r[0] == "reject" and f[0] != "reject" and (c is None or c[0] in ("gave up", "timeout")):
        # A construct Rumur lacks (a union), and no other opinion.
        return "Fathom only"
    if c is None:
        return v
    vc = verdict2(c, f)
    if r[0] == "reject" and f[0] != "reject":
        # CMurphi is the only oracle.
        return "same as CMurphi" if vc == "same" else f"{vc} (CMurphi)"
    if v == vc:
        return v
    if v == "both reject" and c[0] in ("pass", "error"):
        return "CMurphi only"
    if c[0] in ("gave up", "timeout"):
        return v
    return f"{v} (Rumur), {vc} (CMurphi)"


def verdict2(r, f):
    (ro, rd, _), (fo, fd, _) = r, f
    if ro == fo == "pass":
        fired = fd["generated"] - fd["initial"]
        same = rd.get("states") == fd["states"] and rd.get("fired") == fired
        return "same" if same else "mismatch"
    if ro == fo == "error":
        return "same" if rd.get("trace") == fd["trace"] else "mismatch"
    if ro == fo == "reject":
        return "both reject"
    return "mismatch"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", required=True, help="CMurphi's ex/ folder")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--cmurphi", help="a built CMurphi checkout (src/mu, include/)")
    ap.add_argument("--cmurphi-memory", type=int, default=4000, metavar="MB",
                    help="CMurphi's -m (default 4000)")
    ap.add_argument("--only", nargs="*", metavar="MODEL",
                    help="run these models (paths under --examples) and keep the other rows of the "
                         "results file as they are")
    ap.add_argument("--symmetry", action="store_true",
                    help="reduce by scalarsets: Rumur exhaustive, Fathom's default")
    args = ap.parse_args()
    if args.symmetry:
        args.cmurphi = None
    subprocess.run(["cargo", "build", "--release", "-p", "checker"], cwd=ROOT, check=True, capture_output=True)
    ex = Path(args.examples)
    models = sorted(p for p in ex.rglob("*.m") if "probrules" not in p.parts)
    if args.only:
        models = [p for p in models if str(p.relative_to(ex)) in args.only]
        assert len(models) == len(args.only), "every --only model is under --examples"
    rows = []
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        for path in models:
            name = str(path.relative_to(ex))
            consts = SIZES.get(path.name, {})
            text = with_consts(path.read_text(encoding="latin-1"), consts)
            copy = work / path.name
            copy.write_text(text, encoding="latin-1")
            r = rumur(name, text, args.threads, args.timeout, work, args.symmetry)
            f = fathom(copy, {}, args.threads, args.timeout, args.symmetry)
            if "message" in f[1]:
                f[1]["message"] = f[1]["message"].replace(str(copy), name)
            c = (cmurphi(Path(args.cmurphi), name, text, args.timeout, work, args.cmurphi_memory)
                 if args.cmurphi else None)
            row = {"model": name, "consts": consts, "verdict": verdict(r, f, c),
                   "rumur": {"outcome": r[0], **r[1], "seconds": round(r[2], 3)},
                   "fathom": {"outcome": f[0], **f[1], "seconds": round(f[2], 3)}}
            if c is not None:
                row["cmurphi"] = {"outcome": c[0], **c[1], "seconds": round(c[2], 3)}
                if args.cmurphi_memory != 4000:
                    row["cmurphi"]["memory_mb"] = args.cmurphi_memory
            rows.append(row)
            print(json.dumps(row), flush=True)
    out = {"machine": machine(), "threads": args.threads, "cmurphi": bool(args.cmurphi),
           "symmetry": args.symmetry, "rows": rows}
    if args.only:
        old = json.loads((ROOT / f"results/{stem(out)}.json").read_text())
        new = {r["model"]: r for r in rows}
        out["rows"] = [new.pop(r["model"], r) for r in old["rows"]] + list(new.values())
        out["rows"].sort(key=lambda r: r["model"])
        # Rows keep the machine they were measured on.
        for r in rows:
            r["machine"] = out["machine"]
        out["machine"] = old["machine"]
    (ROOT / f"results/{stem(out)}.json").write_text(json.dumps(out, indent=1) + "\n")
    write_md(out)


def stem(out):
    return "murphi_examples_symmetry" if out.get("symmetry") else "murphi_examples"


def write_md(out):
    rows = out["rows"]
    sym = out.get("symmetry")
    count = lambda v: sum(r["verdict"] == v for r in rows)  # noqa: E731
    lines = [
        "# CMurphi's examples: Rumur and Fathom on the same files",
        "",
        "Command: `python3 benches/murphi_examples.py --examples <CMurphi 5.4.9>/ex"
        f" --threads {out['threads']}{' --cmurphi <CMurphi 5.4.9>' if out.get('cmurphi') else ''}"
        f"{' --symmetry' if sym else ''}`"
        " (models from github.com/melver/cmurphi, commit 5d4a426,",
        "not redistributed here).",
        f"Machine: {out['machine']}",
        "",
        "Rumur: Debian's rumur 2022.08, `--symmetry-reduction "
        + ("exhaustive" if sym else "off") + " --deadlock-detection off`.",
        "Fathom: `fathom check --backend cpu --no-deadlock"
        + ("` (scalarsets as symmetric types: one state per orbit)." if sym else " --no-symmetry`.")
        + " Rumur's rules fired are",
        "Fathom's generated states less its initial states. Seconds: wall clock of",
        "the search (Rumur's C compile not counted), one run each.",
        "",
        f"Of {len(rows)} models: {count('same')} same outcome and counts (or the same violation",
        f"with a trace of the same length), {count('both reject')} rejected by both, "
        + (f"{count('same as CMurphi')} that Rumur rejects (unions) with CMurphi's outcome and "
           f"counts, {count('Fathom only')} that Rumur rejects and CMurphi gives up on, "
           f"{count('CMurphi only')} that only CMurphi runs (multisets, reals), "
           if out.get("cmurphi") else
           f"{count('Fathom only')} that Rumur rejects (unions: no oracle here), ")
        + f"{count('timeout')} past the time limit in Fathom, "
        + f"{sum('mismatch' in r['verdict'] for r in rows)} mismatches.",
        "",
    ]
    cm = out.get("cmurphi")
    if cm:
        lines += [
            "CMurphi: 5.4.9 as github.com/melver/cmurphi holds it, built as the script says,",
            "`-nosym -nomultiset -ndl -m4000`; the verdict is `same` only when Fathom agrees",
            "with both. CMurphi's seconds include setting up its 4,000 MB table: not a speed",
            "comparison.",
            "",
        ]
    head = "| model | constants | verdict | Rumur | Fathom |" + (" CMurphi |" if cm else "")
    lines += [head + " Rumur s | Fathom s |" + (" CMurphi s |" if cm else ""),
              "|---" * (7 + 2 * bool(cm)) + "|"]

    def cell(d):
        if "memory_mb" in d:
            return cell({k: v for k, v in d.items() if k != "memory_mb"}) + f" (-m{d['memory_mb']})"
        if d["outcome"] == "pass":
            fired = d.get("fired", d.get("generated", 0) - d.get("initial", 0))
            return f"pass: {d.get('states', 0):,} states, {fired:,} fired"
        if d["outcome"] == "error":
            return f"error: `{d.get('property', '')}`, trace {d.get('trace')}"
        if d["outcome"] in ("reject", "gave up"):
            return d["outcome"] + ": " + d.get("message", "").replace("|", "\\|")[:90]
        return d["outcome"]

    for r in rows:
        consts = ", ".join(f"{k}={v}" for k, v in r["consts"].items())
        c = r.get("cmurphi")
        line = f"| {r['model']} | {consts} | {r['verdict']} | {cell(r['rumur'])} | {cell(r['fathom'])} |"
        if cm:
            line += f" {cell(c)} |" if c else " |"
        line += f" {r['rumur']['seconds']} | {r['fathom']['seconds']} |"
        if cm:
            line += f" {c['seconds']} |" if c else " |"
        lines.append(line)
    (ROOT / f"results/{stem(out)}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
