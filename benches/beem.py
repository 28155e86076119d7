#!/usr/bin/env python3
"""BEEM (../shared/corpora/beem): every DVE instance checked by Fathom's CPU
backend, its counts compared with the BEEM database's.

Per instance, once, with a time limit (`--timeout`, default 300 s):
  fathom check <model>.<n>.dve --backend cpu --no-deadlock --dve-errors state
      --json --threads <T>
BEEM's `states` must equal `distinct`; its `transitions` (where it has
them) must equal `generated - 1`: Fathom counts the initial state as a
generated state, DiVinE counts edges only (docs/dve.md). Where BEEM's count
is incomplete (DiVinE ran out of resources) it is a lower bound, and a
complete Fathom count must be at least that.

Writes results/beem.jsonl (one row per instance) and results/beem.md (the
summary, the machine, and every mismatch). Rows already in the jsonl are
kept unless --redo; so a long run can be resumed, and a later run with a
larger --timeout fills in only what timed out (--only-missing).

  python3 benches/beem.py --threads 2 --timeout 300
"""

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FATHOM = ROOT / "target/release/fathom"
CORPUS = ROOT.parent / "shared/corpora/beem"


def run(path, threads, timeout, memory):
    # --dve-errors state: DiVinE 2's error state, which BEEM's counts have.
    cmd = [str(FATHOM), "check", str(path), "--backend", "cpu", "--no-deadlock",
           "--dve-errors", "state", "--json", "--threads", str(threads)]
    if memory:
        cmd += ["--memory", memory]
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"result": "timeout", "seconds": round(time.monotonic() - start, 2)}
    try:
        d = json.loads(p.stdout)
    except json.JSONDecodeError:
        return {"result": "crash", "exit": p.returncode, "stderr": p.stderr[-2000:]}
    out = {k: d.get(k) for k in ("result", "distinct", "generated", "depth", "seconds")}
    if d.get("violation"):
        v = d["violation"]
        out["violation"] = {"kind": v.get("kind"), "name": v.get("name"),
                            "message": v.get("message")}
    if d.get("result") == "error":
        out["error"] = d.get("error") or p.stderr[-2000:]
    return out


def verdict(exp, got):
    """'exact', 'states' (states only: BEEM has no transitions), 'above-bound',
    'mismatch', or what stopped the run."""
    if got["result"] != "pass":
        return got["result"]
    if not exp["complete"]:
        return "above-bound" if got["distinct"] >= exp["states"] else "mismatch"
    if got["distinct"] != exp["states"]:
        return "mismatch"
    if exp["transitions"] is None:
        return "states"
    return "exact" if got["generated"] - 1 == exp["transitions"] else "mismatch"


# Every mismatch, and why (docs/dve.md has the details).
EXPLAINED = {
    "resistance/resistance.1.dve": (
        "Fathom counts 23 states past DiVinE 2's error state that BEEM does not. Whether "
        "DiVinE 2's error state has successors depends on an out-of-bounds read "
        "(dve_process_t::get_commited tests lid <= size); BEEM's count is Fathom's with the "
        "error state's successors cut off (8,183,469, checked with a build made for it), and "
        "anderson.1 needs them (347,039). Fathom takes the defined reading."
    ),
    "resistance/resistance.2.dve": (
        "The same out-of-bounds read as resistance.1: with the error state's successors cut "
        "off Fathom counts BEEM's 51,516,701 exactly (checked with a build made for it); "
        "Fathom's 4,169,645 more are the states the other processes reach after the error. "
        "Fathom takes the defined reading."
    ),
}


def summary(rows, args, expected):
    total = len(rows)
    by = {}
    for r in rows:
        by.setdefault(r["verdict"], []).append(r)
    complete = [r for r in rows if r["complete"]]
    states_ok = [r for r in complete if r["verdict"] in ("exact", "states")]
    with_tr = [r for r in complete if r["transitions"] is not None]
    tr_ok = [r for r in with_tr if r["verdict"] == "exact"]
    done = {r["file"] for r in rows}
    not_run = [e["file"] for e in expected if e["file"] not in done]
    lines = [
        "# BEEM: Fathom's counts against the BEEM database",
        "",
        f"Command: `python3 benches/beem.py --threads {args.threads} --timeout {args.timeout}"
        + (f" --incomplete-timeout {args.incomplete_timeout}" if args.incomplete_timeout is not None else "")
        + (f" --memory {args.memory}" if args.memory else "") + "`",
        f"Machine: {machine()}",
        f"Corpus: ../shared/corpora/beem ({total} instances; its README says where the counts come from).",
        "",
        "Each instance once on the CPU backend, with `--no-deadlock` (DiVinE counts",
        "deadlocks as states without successors) and `--dve-errors state` (DiVinE 2's",
        "error state, which BEEM's counts include). `distinct` must equal BEEM's",
        "states and `generated - 1` its transitions (docs/dve.md).",
        "",
        "| | instances |",
        "|---|---|",
        f"| BEEM complete | {len(complete)} |",
        f"| states equal (of complete) | {len(states_ok)} ({100 * len(states_ok) / max(1, len(complete)):.0f}%) |",
        f"| BEEM has transitions | {len(with_tr)} |",
        f"| states and transitions equal | {len(tr_ok)} ({100 * len(tr_ok) / max(1, len(with_tr)):.0f}%) |",
        f"| BEEM incomplete, Fathom complete and above BEEM's bound | {len(by.get('above-bound', []))} |",
        f"| timed out | {len(by.get('timeout', []))} |",
        f"| mismatches | {len(by.get('mismatch', []))} |",
        f"| other (violation, error, crash) | {sum(len(v) for k, v in by.items() if k not in ('exact', 'states', 'above-bound', 'timeout', 'mismatch'))} |",
        f"| not run yet | {len(not_run)} |",
        "",
        "Mismatches, each explained:",
        "",
    ]
    for r in by.get("mismatch", []):
        lines.append(f"- {r['file']}: BEEM {r['states']:,}, Fathom {r['fathom'].get('distinct', 0):,}. "
                     + EXPLAINED.get(r["file"], "NOT EXPLAINED"))
    lines += [
        "",
        "Timed out: " + (", ".join(r["file"] for r in by.get("timeout", [])) or "none") + ".",
        "",
        "Not run yet (the run was stopped for time; `--only-missing` goes on): "
        + (", ".join(not_run) or "none") + ".",
        "",
        "| instance | BEEM states | BEEM transitions | complete | Fathom distinct | generated - 1 | s | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        g = r["fathom"]
        gen = g.get("generated")
        lines.append(
            f"| {r['file']} | {r['states']} | {r['transitions'] if r['transitions'] is not None else ''} "
            f"| {'yes' if r['complete'] else 'no'} | {g.get('distinct', '')} "
            f"| {gen - 1 if gen else ''} | {g.get('seconds') or ''} | {r['verdict']} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--incomplete-timeout", type=float,
                    help="time limit where BEEM's own count is incomplete (default: --timeout)")
    ap.add_argument("--memory", help="fathom --memory (default: its own)")
    ap.add_argument("--filter", default="", help="regex on the instance path")
    ap.add_argument("--redo", action="store_true", help="rerun rows already recorded")
    ap.add_argument("--only-missing", action="store_true",
                    help="rerun only rows that timed out or failed")
    ap.add_argument("--out", default=str(ROOT / "results/beem.jsonl"))
    ap.add_argument("--summary-only", action="store_true",
                    help="run nothing; write the summary of the rows recorded")
    args = ap.parse_args()
    # Always: a stale binary would measure old code (a no-op when current).
    subprocess.run(["cargo", "build", "--release", "-p", "checker"], cwd=ROOT, check=True)
    out = Path(args.out)
    rows = {}
    if out.exists() and not args.redo:
        for line in out.read_text().splitlines():
            r = json.loads(line)
            rows[r["file"]] = r
    expected = [json.loads(line) for line in (CORPUS / "expected.jsonl").read_text().splitlines()]
    # Complete counts first, smallest first: a run cut short has the most
    # exact comparisons; BEEM's lower bounds (incomplete) last.
    order = sorted(expected, key=lambda e: (not e["complete"], e["states"]))
    for exp in order:
        if not re.search(args.filter, exp["file"]):
            continue
        old = rows.get(exp["file"])
        if old and not (args.only_missing and old["verdict"] not in ("exact", "states", "above-bound", "mismatch")):
            continue
        if args.summary_only:
            continue
        limit = args.timeout
        if not exp["complete"] and args.incomplete_timeout is not None:
            limit = args.incomplete_timeout
        got = run(CORPUS / exp["file"], args.threads, limit, args.memory)
        row = {k: exp[k] for k in ("file", "states", "transitions", "complete")}
        row["fathom"] = got
        row["verdict"] = verdict(exp, got)
        rows[exp["file"]] = row
        print(f"{exp['file']:45} {row['verdict']:12} {got.get('distinct')} / {exp['states']}"
              f"  {got.get('seconds')}", flush=True)
        ordered = [rows[e["file"]] for e in expected if e["file"] in rows]
        out.write_text("".join(json.dumps(r) + "\n" for r in ordered))
    ordered = [rows[e["file"]] for e in expected if e["file"] in rows]
    out.with_suffix(".md").write_text(summary(ordered, args, expected))


if __name__ == "__main__":
    main()
