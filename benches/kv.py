#!/usr/bin/env python3
"""The emitted key-value store beside etcd, in one run, on one machine.

Emits specs/kv_store.fathom (after its check, with --const Clients=<C>),
builds it, and then, alternating, `--repeat` times each:
  - an etcd cluster of 3 members on loopback (Debian package etcd-server),
  - the emitted cluster on loopback: Primary, Backup[0], Backup[1] (the
    store's 3 nodes) and the C client nodes (Client[c], whose client
    ports are the store's API),
  - the same with the client nodes embedded in the load program through
    the emitted crate's API (benches/kv_embedded.rs), as etcd's clients
    are in-process libraries,
under the same fixed client load: C clients, each with one operation at a
time (puts and gets of random keys, `--put-percent` puts), for `--seconds`
after a warm-up (benches/kvload, built here; it needs protoc, Debian
package protobuf-compiler, for etcd's gRPC client). Both fsync their logs
(etcd's WAL, the emitted nodes' step logs) on the same disk. After each
emitted run the nodes' step logs are checked with `fathom validate`.

Writes throughput (operations/s) and latency percentiles, medians of the
runs and their ratios, to results/<name>.json and .md with the machine and
the commands.

  python3 benches/kv.py --clients 3 --seconds 10 --repeat 3
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benches"))
from compare import machine  # noqa: E402


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def wait_port(port, limit=20.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{p.stdout}\n{p.stderr}")
    return p


def stop(procs):
    for p in procs:
        p.kill()
    for p in procs:
        p.wait()


def etcd_run(args, work, kvload):
    ports = free_ports(6)
    peers = [f"http://127.0.0.1:{ports[i]}" for i in range(3)]
    clients = [f"http://127.0.0.1:{ports[3 + i]}" for i in range(3)]
    initial = ",".join(f"e{i}={peers[i]}" for i in range(3))
    procs = []
    for i in range(3):
        cmd = ["etcd", "--name", f"e{i}", "--data-dir", str(work / f"etcd{i}"),
               "--listen-peer-urls", peers[i], "--initial-advertise-peer-urls", peers[i],
               "--listen-client-urls", clients[i], "--advertise-client-urls", clients[i],
               "--initial-cluster", initial, "--initial-cluster-state", "new",
               "--initial-cluster-token", "kvbench", "--log-level", "error"]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        for i in range(3):
            wait_port(ports[3 + i])
        # A leader is elected once a write goes through.
        deadline = time.monotonic() + 30
        while True:
            p = subprocess.run(["etcdctl", "--endpoints", ",".join(clients), "put", "warm", "1"],
                               capture_output=True, text=True, env={**os.environ, "ETCDCTL_API": "3"})
            if p.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"etcd did not elect a leader: {p.stderr}")
            time.sleep(0.2)
        cmd = [str(kvload), "--system", "etcd", "--targets", ",".join(clients)] + load_flags(args)
        out = json.loads(run(cmd, timeout=args.seconds + 120).stdout)
        return out, " ".join(["kvload"] + cmd[1:])
    finally:
        stop(procs)


def fathom_run(args, work, binary, fathom, kvload):
    nodes = ["Primary", "Backup[0]", "Backup[1]"] + [f"Client[{c}]" for c in range(args.clients)]
    ports = free_ports(2 * len(nodes))
    cluster = work / "cluster.txt"
    cluster.write_text("".join(f"{n} 127.0.0.1:{ports[i]}\n" for i, n in enumerate(nodes)))
    procs, client_ports = [], []
    for i, n in enumerate(nodes):
        cmd = [str(binary), "--cluster", str(cluster), "--node", n, "--dir", str(work / f"node{i}")]
        if n.startswith("Client"):
            cmd += ["--client", f"127.0.0.1:{ports[len(nodes) + i]}"]
            client_ports.append(ports[len(nodes) + i])
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        for p in client_ports:
            wait_port(p)
        targets = ",".join(f"127.0.0.1:{p}" for p in client_ports)
        cmd = [str(kvload), "--system", "fathom", "--targets", targets] + load_flags(args)
        out = json.loads(run(cmd, timeout=args.seconds + 120).stdout)
    finally:
        stop(procs)
    logs = [str(work / f"node{i}" / "log.jsonl") for i in range(len(nodes))]
    v = run([str(fathom), "validate", str(ROOT / "specs/kv_store.fathom"), "--const",
             f"Clients={args.clients}", "--json"] + logs, timeout=600)
    valid = json.loads(v.stdout)
    out["validated_steps"] = valid["steps"]
    return out, " ".join(["kvload"] + cmd[1:])


def embedded_run(args, work, crate, fathom):
    """The client nodes inside one program (benches/kv_embedded.rs), through
    the emitted crate's API; the store's nodes as processes."""
    nodes = ["Primary", "Backup[0]", "Backup[1]"] + [f"Client[{c}]" for c in range(args.clients)]
    ports = free_ports(len(nodes))
    cluster = work / "cluster.txt"
    cluster.write_text("".join(f"{n} 127.0.0.1:{ports[i]}\n" for i, n in enumerate(nodes)))
    binary = crate / "target/release" / "kv_store"
    procs = [subprocess.Popen([str(binary), "--cluster", str(cluster), "--node", n, "--dir", str(work / f"node{i}")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for i, n in enumerate(nodes[:3])]
    clients = ",".join(nodes[3:])
    cmd = [str(crate / "target/release/examples/kv_embedded"), "--cluster", str(cluster), "--dir", str(work),
           "--clients", clients, "--seconds", str(args.seconds), "--warmup", str(args.warmup),
           "--put-percent", str(args.put_percent), "--seed", "1"]
    try:
        for p in ports[:3]:
            wait_port(p)
        out = json.loads(run(cmd, timeout=args.seconds + 120).stdout)
    finally:
        stop(procs)
    logs = [str(work / f"node{i}" / "log.jsonl") for i in range(3)]
    logs += [str(work / n.replace("[", "").replace("]", "") / "log.jsonl") for n in nodes[3:]]
    v = run([str(fathom), "validate", str(ROOT / "specs/kv_store.fathom"), "--const",
             f"Clients={args.clients}", "--json"] + logs, timeout=600)
    out["validated_steps"] = json.loads(v.stdout)["steps"]
    return out, " ".join(["kv_embedded"] + cmd[1:])


def load_flags(args):
    return ["--clients", str(args.clients), "--seconds", str(args.seconds),
            "--warmup", str(args.warmup), "--put-percent", str(args.put_percent),
            "--keys", "2", "--vals", "2", "--seed", "1"]


def median_of(runs, key, sub=None):
    vals = [(r[sub][key] if sub else r[key]) for r in runs]
    return statistics.median(vals)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--put-percent", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--name", default="kv_vs_etcd")
    args = ap.parse_args()

    for tool in ("etcd", "etcdctl", "cargo"):
        if not shutil.which(tool):
            sys.exit(f"kv.py: `{tool}` is not on PATH (etcd: apt-get install etcd-server etcd-client)")
    run(["cargo", "build", "--release", "-p", "checker"], cwd=ROOT)
    fathom = ROOT / "target/release/fathom"
    run(["cargo", "build", "--release", "--manifest-path", str(ROOT / "benches/kvload/Cargo.toml")])
    kvload = ROOT / "benches/kvload/target/release/kvload"

    base = Path(tempfile.mkdtemp(prefix="kvbench-", dir=ROOT / "target"))
    crate = base / "crate"
    emit_cmd = [str(fathom), "emit", str(ROOT / "specs/kv_store.fathom"), "--const",
                f"Clients={args.clients}", "--out", str(crate), "--json"]
    emitted = json.loads(run(emit_cmd, timeout=3600).stdout)
    (crate / "examples").mkdir()
    example = (ROOT / "benches/kv_embedded.rs").read_text().replace("{{crate}}", emitted["crate"])
    (crate / "examples/kv_embedded.rs").write_text(example)
    run(["cargo", "build", "--release", "--bins", "--examples", "--manifest-path", str(crate / "Cargo.toml")])
    binary = crate / "target/release" / emitted["crate"]

    systems = ("etcd", "fathom", "fathom-embedded")
    runs = {s: [] for s in systems}
    commands = {}
    for i in range(args.repeat):
        for system in systems:
            work = base / f"{system}{i}"
            work.mkdir()
            if system == "etcd":
                out, cmd = etcd_run(args, work, kvload)
            elif system == "fathom":
                out, cmd = fathom_run(args, work, binary, fathom, kvload)
            else:
                out, cmd = embedded_run(args, work, crate, fathom)
            commands[system] = cmd
            runs[system].append(out)
            print(f"{system} run {i + 1}: {out['ops_per_s']:.0f} ops/s, p50 {out['p50_ms']:.2f} ms, "
                  f"p99 {out['p99_ms']:.2f} ms", file=sys.stderr)
            shutil.rmtree(work)

    med = {}
    for system, rs in runs.items():
        med[system] = {
            "ops_per_s": median_of(rs, "ops_per_s"),
            "p50_ms": median_of(rs, "p50_ms"),
            "p99_ms": median_of(rs, "p99_ms"),
            "put_p99_ms": median_of(rs, "p99_ms", "put"),
            "get_p99_ms": median_of(rs, "p99_ms", "get"),
        }
    ratio = med["fathom"]["ops_per_s"] / med["etcd"]["ops_per_s"]
    ratio_embedded = med["fathom-embedded"]["ops_per_s"] / med["etcd"]["ops_per_s"]
    etcd_version = run(["etcd", "--version"]).stdout.splitlines()[0]
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine(),
        "spec": "specs/kv_store.fathom",
        "consts": emitted["consts"],
        "etcd": etcd_version,
        "load": {"clients": args.clients, "seconds": args.seconds, "warmup": args.warmup,
                 "put_percent": args.put_percent, "keys": 2},
        "command": "python3 benches/kv.py " + " ".join(sys.argv[1:]),
        "commands": {"emit": " ".join(["fathom"] + emit_cmd[1:]), **commands},
        "runs": runs,
        "median": med,
        "throughput_ratio_fathom_over_etcd": ratio,
        "throughput_ratio_fathom_embedded_over_etcd": ratio_embedded,
    }
    out_dir = ROOT / "results"
    (out_dir / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"# The emitted key-value store beside etcd ({args.name})",
        "",
        f"Made by `{result['command']}` on {result['date']}.",
        f"Machine: {result['machine']['cpu']}, {result['machine']['cores']} cores, shared and noisy.",
        f"Load: {args.clients} clients, one operation at a time each, {args.put_percent}% puts, "
        f"2 keys, {args.seconds:g} s measured after {args.warmup:g} s of warm-up; "
        f"medians of {args.repeat} runs, alternating.",
        f"Fathom: `specs/kv_store.fathom` ({emitted['consts']}) emitted, 3 store nodes + "
        f"{args.clients} client nodes; every run's logs validated with `fathom validate`. "
        f"etcd: {etcd_version}, 3 members, client over gRPC (etcd-client crate).",
        "",
        "| system | ops/s | p50 ms | p99 ms | put p99 ms | get p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for system in systems:
        m = med[system]
        lines.append(f"| {system} | {m['ops_per_s']:.0f} | {m['p50_ms']:.2f} | {m['p99_ms']:.2f} | "
                     f"{m['put_p99_ms']:.2f} | {m['get_p99_ms']:.2f} |")
    lines += ["", f"Throughput, Fathom / etcd: {ratio:.2f}x through the client ports "
              f"(benches/kvload, a line per request), {ratio_embedded:.2f}x with the client nodes "
              "embedded in the load program through the emitted crate's API (benches/kv_embedded.rs).", ""]
    (out_dir / f"{args.name}.md").write_text("\n".join(lines))
    print("\n".join(lines))
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
