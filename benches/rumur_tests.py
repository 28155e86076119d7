#!/usr/bin/env python3
"""Rumur's test suite (../shared/corpora/rumur-tests): the share of its
models whose outcome Fathom reproduces.

Per test (skipping only those that need an SMT solver or that Rumur itself
skips), once:
  fathom check <test>.m --backend cpu --threads 1 --json [flags]
with Rumur's flags mapped: `--deadlock-detection off` is `--no-deadlock`,
`--deadlock-detection stuck|stuttering` is `--deadlock stuck|stuttering`
(Fathom's default for Murphi is Rumur's, `stuttering`),
`--bound N` is `--max-depth N+1`; other Rumur flags change nothing that
Fathom checks. The expected outcome is the test's:
  - rumur_exit_code 1: Rumur rejects the model; Fathom must reject it too
    (exit 3, a spec error);
  - a `--bound` that is not a number: Rumur rejects the flag, Fathom must
    reject `--max-depth` with it (exit 2, a usage error);
  - checker_exit_code 1: an error is found; Fathom must report a
    violation (exit 1);
  - otherwise the check passes (exit 0).

Writes results/rumur_tests.jsonl (one row per test) and
results/rumur_tests.md (the summary and every test Fathom does not
reproduce, with Fathom's first message).

  python3 benches/rumur_tests.py
"""

import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FATHOM = ROOT / "target/release/fathom"
CORPUS = ROOT.parent / "shared/corpora/rumur-tests"


# Why each test that Fathom does not reproduce is not (the same reasons as
# NOT_YET in checker/tests/murphi.rs).
WHY = {
    "uint64-model.m": "a range past 2^63: Fathom's values are 64-bit signed",
}


def flags(rumur_flags):
    out = []
    it = iter(rumur_flags)
    for f in it:
        if f == "--deadlock-detection" or f.startswith("--deadlock-detection="):
            mode = f.split("=", 1)[1] if "=" in f else next(it, "")
            # Rumur's modes are Fathom's `--deadlock` kinds, or off.
            out += ["--no-deadlock"] if mode == "off" else ["--deadlock", mode]
        elif f == "--bound":
            b = next(it, "")
            if b.isdigit():
                out += ["--max-depth", str(int(b) + 1)]
            else:
                out += ["--max-depth", b]
    return out


def main():
    # Always: a stale binary would measure old code (a no-op when current).
    subprocess.run(["cargo", "build", "--release", "-p", "checker"], cwd=ROOT, check=True)
    rows = []
    for line in (CORPUS / "expected.jsonl").read_text().splitlines():
        t = json.loads(line)
        if t["needs_smt"] or t["skip_reason"]:
            continue
        bound = flags(t["rumur_flags"])[1:2] if "--bound" in t["rumur_flags"] else []
        if bound and not bound[0].isdigit():
            # Rumur rejects the flag's value; so must Fathom, as a usage
            # error (exit 2) of the flag it maps to.
            want = 2
        elif t["rumur_exit_code"] == 1:
            want = 3
        elif t["checker_exit_code"] == 1:
            want = 1
        else:
            want = 0
        cmd = [str(FATHOM), "check", str(CORPUS / t["file"]), "--backend", "cpu",
               "--threads", "1", "--json"] + flags(t["rumur_flags"])
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            got = p.returncode
            message = ""
            try:
                j = json.loads(p.stdout)
                if j.get("violation"):
                    message = j["violation"].get("message", "")
                elif j.get("error"):
                    message = j["error"]
            except json.JSONDecodeError:
                message = p.stderr
        except subprocess.TimeoutExpired:
            got, message = "timeout", ""
        first = next((ln for ln in message.splitlines() if ln.strip()), "")
        first = re.sub(r"\x1b\[[0-9;]*m", "", first)[:160]
        # A rejection counts only for the model's fault, not for a construct
        # Fathom does not support yet.
        ok = got == want and not (want == 3 and "not supported yet" in message)
        rows.append({"file": t["file"], "want": want, "got": got, "ok": ok,
                     "message": first})
        print(f"{t['file']:40} want {want} got {got} {'ok' if ok else first}", flush=True)
    (ROOT / "results/rumur_tests.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    ok = [r for r in rows if r["ok"]]
    lines = [
        "# Rumur's test suite: the outcomes Fathom reproduces",
        "",
        "Command: `python3 benches/rumur_tests.py`",
        f"Machine: {machine()}",
        "Corpus: ../shared/corpora/rumur-tests (its README says how each test states its outcome).",
        "",
        "Tests that need an SMT solver or that Rumur skips are left out. Expected",
        "exit codes: 3 where Rumur rejects the model, 2 where it rejects a flag's",
        "value, 1 where its checker finds an error, else 0. A rejection because",
        "Fathom does not support a construct yet does not count as reproduced.",
        "",
        f"Reproduced: {len(ok)} of {len(rows)} ({100 * len(ok) / max(1, len(rows)):.1f}%).",
        "",
    ]
    for want, what in ((0, "pass"), (1, "find an error"), (3, "reject"), (2, "reject a flag")):
        group = [r for r in rows if r["want"] == want]
        good = sum(r["ok"] for r in group)
        lines.append(f"- models that {what}: {good} of {len(group)}")
    lines += ["", "## Not reproduced", "",
              "| test | want | got | Fathom says | why |", "|---|---|---|---|---|"]
    for r in rows:
        if not r["ok"]:
            msg = r["message"].replace("|", "\\|")
            why = WHY.get(r["file"], "not explained yet")
            lines.append(f"| {r['file']} | {r['want']} | {r['got']} | {msg} | {why} |")
    (ROOT / "results/rumur_tests.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
