//! `fathom emit` and `fathom validate` end to end: specs are checked,
//! emitted, built with cargo, run as clusters of processes on loopback,
//! and their step logs validated; runs with faults on the wire and a node
//! killed and restarted still validate and lose no acknowledged write.
//! The generated step functions are also compared with the reference
//! evaluator on every reachable state (`conformance`).

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use model::Model;
use model::step::{Fired, Stepper};
use serde_json::Value;

fn spec(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../specs")
        .join(name)
}

/// A spec of `specs/`, or (`fixtures/...`) one of these tests' own.
fn spec_path(name: &str) -> PathBuf {
    match name.strip_prefix("fixtures/") {
        Some(f) => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(f),
        None => spec(name),
    }
}

/// `fathom` with its own record directory, so no test sees another's.
fn fathom(records: &Path) -> Command {
    let mut c = Command::cargo_bin("fathom").expect("the fathom binary");
    c.env("FATHOM_CACHE_DIR", records);
    c
}

fn compile(name: &str, consts: &[(&str, i64)]) -> Model {
    let path = spec_path(name);
    let text = std::fs::read_to_string(&path).expect("spec");
    let overrides = consts.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    model::compile(
        &model::Source::new(path.display().to_string(), text),
        &overrides,
    )
    .unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

/// An emitted and built crate.
struct Built {
    dir: PathBuf,
    binary: PathBuf,
}

/// Emits `name` (after its check) into a fresh directory and builds it;
/// once per spec and constants per test run. Builds share one target
/// directory, so later runs of the suite build incrementally.
fn built(name: &str, consts: &[(&str, i64)]) -> &'static Built {
    static BUILT: OnceLock<Mutex<Vec<(String, &'static Built)>>> = OnceLock::new();
    let key = format!("{name} {consts:?}");
    let mut all = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some((_, b)) = all.iter().find(|(k, _)| *k == key) {
        return b;
    }
    // Under the target directory (as every run below), not the system's
    // temporary one: a test's leftovers stay with its build.
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("tempdir")
        .keep();
    let out = work.join("crate");
    let mut cmd = fathom(&work.join("records"));
    cmd.arg("emit")
        .arg(spec_path(name))
        .arg("--out")
        .arg(&out)
        .arg("--json");
    for (k, v) in consts {
        cmd.arg("--const").arg(format!("{k}={v}"));
    }
    let o = cmd.output().expect("fathom emit");
    assert!(
        o.status.success(),
        "emit {name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let summary: Value = serde_json::from_slice(&o.stdout).expect("emit --json");
    let crate_name = summary["crate"].as_str().expect("crate name").to_string();
    // Programs around the crate live with the tests and benches, not in
    // emitted crates: the conformance driver, and for the key-value store
    // a program that embeds its client nodes (the crate's public API).
    let mut examples = vec![("conformance", include_str!("fixtures/conformance.rs"))];
    if crate_name == "kv_store" {
        examples.push(("kv_embedded", include_str!("../../benches/kv_embedded.rs")));
    }
    std::fs::create_dir_all(out.join("examples")).expect("examples dir");
    for (name, text) in &examples {
        let text = text.replace("{{crate}}", &crate_name);
        std::fs::write(out.join(format!("examples/{name}.rs")), text).expect("example");
    }
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("emitted");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let o = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "--bins",
            "--examples",
            "--manifest-path",
        ])
        .arg(out.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo build");
    assert!(
        o.status.success(),
        "the emitted crate of {name} does not build:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Copied out: another spec's build in the shared target directory
    // must not replace this binary while a test runs it.
    let binary = work.join(&crate_name);
    std::fs::copy(target.join("release").join(&crate_name), &binary).expect("copy binary");
    for (name, _) in &examples {
        std::fs::copy(target.join("release/examples").join(name), work.join(name))
            .expect("copy example");
    }
    let b: &'static Built = Box::leak(Box::new(Built { dir: work, binary }));
    all.push((key, b));
    b
}

fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("addr").port())
        .collect()
}

/// A cluster of emitted nodes on loopback.
struct Cluster {
    binary: PathBuf,
    dir: PathBuf,
    nodes: Vec<String>,
    /// Client port per node, for those that have one.
    clients: Vec<Option<u16>>,
    children: Vec<Option<Child>>,
    flags: Vec<String>,
}

impl Cluster {
    /// A cluster of `nodes`, of which the first `started` are started here.
    fn new(
        b: &Built,
        nodes: &[&str],
        started: usize,
        with_client: &[&str],
        flags: &[&str],
    ) -> Cluster {
        let dir = tempfile::tempdir_in(&b.dir).expect("run dir").keep();
        let ports = free_ports(2 * nodes.len());
        let mut file = String::new();
        for (i, n) in nodes.iter().enumerate() {
            file.push_str(&format!("{n} 127.0.0.1:{}\n", ports[i]));
        }
        std::fs::write(dir.join("cluster.txt"), file).expect("cluster file");
        let clients = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| with_client.contains(n).then_some(ports[nodes.len() + i]))
            .collect();
        let mut c = Cluster {
            binary: b.binary.clone(),
            dir,
            nodes: nodes.iter().map(|s| s.to_string()).collect(),
            clients,
            children: nodes.iter().map(|_| None).collect(),
            flags: flags.iter().map(|s| s.to_string()).collect(),
        };
        for i in 0..started {
            c.start(i);
        }
        c
    }

    fn log_dir(&self, i: usize) -> PathBuf {
        self.dir.join(format!("node{i}"))
    }

    fn start(&mut self, i: usize) {
        let mut cmd = Command::new(&self.binary);
        cmd.arg("--cluster")
            .arg(self.dir.join("cluster.txt"))
            .arg("--node")
            .arg(&self.nodes[i])
            .arg("--dir")
            .arg(self.log_dir(i))
            .args(&self.flags)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(p) = self.clients[i] {
            cmd.arg("--client").arg(format!("127.0.0.1:{p}"));
        }
        self.children[i] = Some(cmd.spawn().expect("start a node"));
    }

    fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.children[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Waits for every node to exit by itself (`--exit-when-idle-ms`).
    fn wait_idle(&mut self, limit: Duration) {
        let start = Instant::now();
        for (i, c) in self.children.iter_mut().enumerate() {
            let Some(child) = c else { continue };
            loop {
                match child.try_wait().expect("try_wait") {
                    Some(status) => {
                        assert!(
                            status.success(),
                            "node {} exited with {status}",
                            self.nodes[i]
                        );
                        break;
                    }
                    None if start.elapsed() > limit => {
                        panic!("node {} did not go idle", self.nodes[i])
                    }
                    None => std::thread::sleep(Duration::from_millis(20)),
                }
            }
            *c = None;
        }
    }

    fn logs(&self) -> Vec<PathBuf> {
        (0..self.nodes.len())
            .map(|i| self.log_dir(i).join("log.jsonl"))
            .collect()
    }

    fn client(&self, node: &str) -> Client {
        let i = self.nodes.iter().position(|n| n == node).expect("node");
        let port = self.clients[i].expect("a client port");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => {
                    s.set_read_timeout(Some(Duration::from_secs(20)))
                        .expect("timeout");
                    return Client {
                        r: BufReader::new(s.try_clone().expect("clone")),
                        w: s,
                        replies: Default::default(),
                    };
                }
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => panic!("cannot reach the client port of {node}: {e}"),
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.children.len() {
            self.kill(i);
        }
    }
}

/// A connection to a node's client port.
struct Client {
    r: BufReader<TcpStream>,
    w: TcpStream,
    /// `recv` lines read while waiting for an answer.
    replies: std::collections::VecDeque<String>,
}

impl Client {
    fn read(&mut self) -> String {
        let mut l = String::new();
        self.r
            .read_line(&mut l)
            .expect("a line from the client port");
        assert!(!l.is_empty(), "the client port closed");
        l.trim_end().to_string()
    }

    /// The next message the node handled (a `recv` line).
    fn line(&mut self) -> String {
        match self.replies.pop_front() {
            Some(l) => l,
            None => self.read(),
        }
    }

    /// Sends a request; returns its answer (`recv` lines may come first:
    /// they are kept for `line`).
    fn input(&mut self, req: &str) -> String {
        writeln!(self.w, "{req}").expect("write");
        loop {
            let l = self.read();
            if l.starts_with("recv ") {
                self.replies.push_back(l);
            } else {
                return l;
            }
        }
    }

    /// Runs an input and waits for the reply message the node receives.
    fn call(&mut self, req: &str) -> String {
        let answer = self.input(req);
        assert_eq!(answer, "ok", "{req}");
        self.line()
    }
}

fn validate(
    records: &Path,
    name: &str,
    consts: &[(&str, i64)],
    logs: &[PathBuf],
) -> std::process::Output {
    let mut cmd = fathom(records);
    cmd.arg("validate").arg(spec_path(name)).arg("--json");
    for (k, v) in consts {
        cmd.arg("--const").arg(format!("{k}={v}"));
    }
    cmd.args(logs).output().expect("fathom validate")
}

fn assert_valid(name: &str, consts: &[(&str, i64)], logs: &[PathBuf]) -> Value {
    let records = tempfile::tempdir().expect("tempdir");
    let o = validate(records.path(), name, consts, logs);
    let v: Value = serde_json::from_slice(&o.stdout).expect("validate --json");
    assert!(
        o.status.success() && v["result"] == "valid",
        "{name}: {v}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    v
}

/// The node's variables after its last logged step.
fn last_state(log: &Path) -> Vec<i64> {
    let text = std::fs::read_to_string(log).expect("log");
    // A killed node's log ends in the zeros it was filled with ahead.
    let text = text.split('\0').next().expect("text");
    let line = text.lines().last().expect("a step");
    let v: Value = serde_json::from_str(line).expect("json");
    v["state"]
        .as_array()
        .expect("state")
        .iter()
        .map(|x| x.as_i64().expect("int"))
        .collect()
}

#[test]
fn emit_needs_a_passing_check() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let records = tmp.path().join("records");
    let emit_json = |out: &str, consts: &[&str]| -> Value {
        let o = fathom(&records)
            .arg("emit")
            .arg(spec("two_phase_processes.fathom"))
            .args(consts)
            .arg("--out")
            .arg(tmp.path().join(out))
            .arg("--json")
            .output()
            .expect("emit");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).expect("json")
    };
    // Not checked yet: emit runs the check, then a record makes it quick.
    let v = emit_json("a", &[]);
    assert_eq!(v["check"], "ran");
    assert_eq!(v["distinct"], 288, "TLC's count for TwoPhase with 3 RMs");
    assert_eq!(v["crate"], "two_phase_processes");
    assert_eq!(
        v["nodes"],
        serde_json::json!(["TM", "RMgr[0]", "RMgr[1]", "RMgr[2]"])
    );
    assert_eq!(emit_json("b", &[])["check"], "record");
    // Other constants are another spec: checked again.
    assert_eq!(emit_json("c", &["--const", "N=2"])["check"], "ran");

    // A spec whose check fails is refused (exit 1), unless --force.
    let failing = tmp.path().join("failing.fathom");
    let text = std::fs::read_to_string(spec("two_phase_processes.fathom")).expect("spec");
    std::fs::write(
        &failing,
        format!("{text}\ninvariant NeverCommits: TM.state != done_commit;\n"),
    )
    .expect("write");
    let o = fathom(&records)
        .arg("emit")
        .arg(&failing)
        .arg("--out")
        .arg(tmp.path().join("d"))
        .output()
        .expect("emit");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("did not pass its check") && err.contains("NeverCommits"),
        "{err}"
    );
    assert!(!tmp.path().join("d").exists(), "nothing written");
    let o = fathom(&records)
        .arg("emit")
        .arg(&failing)
        .arg("--out")
        .arg(tmp.path().join("e"))
        .arg("--force")
        .output()
        .expect("emit");
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("warning"));
    assert!(tmp.path().join("e/src/spec.rs").exists());
}

#[test]
fn emit_names_what_it_cannot_emit() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let records = tmp.path().join("records");
    // `in_flight` reads the network, which no node can see.
    let o = fathom(&records)
        .arg("emit")
        .arg(spec("durable_register.fathom"))
        .arg("--out")
        .arg(tmp.path().join("a"))
        .output()
        .expect("emit");
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("durable_register.fathom:15:"),
        "names the line: {err}"
    );
    assert!(err.contains("reads the network"), "{err}");
    // A spec without processes has nothing to emit.
    let o = fathom(&records)
        .arg("emit")
        .arg(spec("die_hard.fathom"))
        .arg("--out")
        .arg(tmp.path().join("b"))
        .output()
        .expect("emit");
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no processes"));
}

/// The generated guards and bodies against the reference evaluator, on
/// every reachable state and every instance of every process step.
fn conformance(name: &str, consts: &[(&str, i64)]) {
    let m = compile(name, consts);
    let b = built(name, consts);
    let mut stepper = Stepper::new(&m);
    let init = stepper.initial_states().expect("initial state");
    let mut seen: HashSet<Vec<i64>> = init.iter().cloned().collect();
    let mut queue = init;
    let mut states = Vec::new();
    let mut next = Vec::new();
    while let Some(s) = queue.pop() {
        for r in &m.rules {
            for i in 0..r.instances {
                if stepper.fire_rule(r, i, &s, &mut next).expect("eval") == Fired::Enabled
                    && seen.insert(next.clone())
                {
                    queue.push(next.clone());
                }
            }
        }
        states.push(s);
    }
    let net = m.network.as_ref().expect("network");
    let net_var = &m.vars[net.var];
    let net_slots = net_var.offset as usize..(net_var.offset + net_var.len) as usize;
    let handlers: HashSet<usize> = m
        .processes
        .iter()
        .flat_map(|p| p.handlers.iter().map(|h| h.rule))
        .collect();
    let mut input = String::new();
    let mut cases = Vec::new();
    for s in &states {
        for (pi, p) in m.processes.iter().enumerate() {
            for (si, &(r, _)) in p.rules.iter().enumerate() {
                for inst in 0..m.rules[r].instances {
                    // A handler is compared where the spec enables it (below).
                    if handlers.contains(&r)
                        && stepper
                            .fire_rule(&m.rules[r], inst, s, &mut next)
                            .expect("eval")
                            == Fired::Disabled
                    {
                        continue;
                    }
                    let slots: Vec<String> = s.iter().map(|x| x.to_string()).collect();
                    input.push_str(&format!("{pi} {si} {inst} {}\n", slots.join(" ")));
                    cases.push((s, r, inst));
                }
            }
        }
    }
    let mut child = Command::new(b.dir.join("conformance"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("conformance driver");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("driver output");
    writer.join().expect("writer").expect("write");
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout)
        .expect("utf8")
        .lines()
        .collect();
    assert_eq!(lines.len(), cases.len(), "{name}: one answer per case");
    let mut enabled = 0;
    for ((s, r, inst), line) in cases.iter().zip(lines) {
        let rule = &m.rules[*r];
        stepper.ev.sends = Some(Vec::new());
        let fired = stepper.fire_rule(rule, *inst, s, &mut next).expect("eval");
        let sends = stepper.ev.sends.take().expect("sends");
        let what = format!(
            "{name}: {} on {s:?}",
            model::step::rule_label(&m, rule, *inst)
        );
        if fired == Fired::Disabled {
            // A handler's generated guard is only its `when`: the runtime
            // knows the message arrived. Other steps must agree exactly.
            if !handlers.contains(r) {
                assert_eq!(line, "0", "{what}: disabled in the spec");
            }
            continue;
        }
        enabled += 1;
        let (state, sent) = line
            .strip_prefix("1 ")
            .and_then(|l| l.split_once(" ; "))
            .unwrap_or_else(|| {
                panic!("{what}: enabled in the spec, the generated step says `{line}`")
            });
        let state: Vec<i64> = state.split(' ').map(|x| x.parse().expect("int")).collect();
        for (i, (a, b)) in state.iter().zip(&next).enumerate() {
            if !net_slots.contains(&i) {
                assert_eq!(a, b, "{what}: slot {i} after the step");
            }
        }
        let spec_sent: Vec<String> = sends
            .iter()
            .map(|(d, m)| {
                format!(
                    "{d}:{}",
                    m.iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                )
            })
            .collect();
        assert_eq!(sent, spec_sent.join(" "), "{what}: messages sent");
    }
    assert!(
        enabled > states.len(),
        "{name}: the comparison covered enabled steps"
    );
}

#[test]
fn generated_steps_agree_with_the_evaluator() {
    conformance("two_phase_processes.fathom", &[]);
    conformance("kv_store.fathom", &[("Clients", 1)]);
    conformance("fixtures/typed.fathom", &[]);
}

/// Records, arrays, sets, sequences and variants with fields, in an
/// input's parameters (flat slots on the client port) and in messages.
#[test]
fn compound_values_cross_the_client_port_and_the_wire() {
    let b = built("fixtures/typed.fathom", &[]);
    let nodes = ["Node[0]", "Node[1]"];
    let flags = ["--exit-when-idle-ms", "400"];
    let mut c = Cluster::new(b, &nodes, 2, &nodes, &flags);
    let mut n0 = c.client("Node[0]");
    // p = Pt { x: 1, ok: true }, c = green
    assert_eq!(n0.input("Go 1 1 1"), "ok");
    assert_eq!(n0.input("Go 1 1 1"), "disabled", "sent already");
    let mut n1 = c.client("Node[1]");
    let not_values = "error: the arguments of `Go` are not values of its parameters' types";
    assert_eq!(n1.input("Go 2 0 0"), not_values, "x is 0..1");
    assert_eq!(n1.input("Go 0 5 0"), not_values, "ok is a bool");
    assert_eq!(n1.input("Go 0 0 2"), "error: `c` must be in 0..1");
    assert_eq!(n1.input("Go 0 1"), "error: `Go` takes 3 value(s): p, c");
    assert_eq!(n1.input("Go 0 0 0"), "ok");
    // Each node handles the other's Ping, then the Pong.
    // Sets are bits per value, arrays and records their slots in order, a
    // sequence its length then its elements, a variant its tag then fields.
    let mut got: Vec<String> = (0..2).map(|_| n0.line()).collect();
    got.sort();
    assert_eq!(
        got,
        [
            "recv Node[1] Ping colors=[1,0] pts=[1,1,0,0]",
            "recv Node[1] Pong who=1 notes=[1,1,1]"
        ]
    );
    c.wait_idle(Duration::from_secs(30));
    let v = assert_valid("fixtures/typed.fathom", &[], &c.logs());
    assert_eq!(v["rules"]["Node.Go"], 2, "{v}");
}

#[test]
fn two_phase_commit_runs_and_its_logs_validate() {
    let b = built("two_phase_processes.fathom", &[]);
    let nodes = ["TM", "RMgr[0]", "RMgr[1]", "RMgr[2]"];
    for (seed, faults) in [("1", false), ("2", true), ("3", true)] {
        let mut flags = vec![
            "--exit-when-idle-ms",
            "400",
            "--timeout-ms",
            "300",
            "--seed",
            seed,
        ];
        if faults {
            flags.extend([
                "--drop",
                "0.3",
                "--dup",
                "0.3",
                "--delay-ms",
                "20",
                "--resend-ms",
                "20",
            ]);
        }
        let mut c = Cluster::new(b, &nodes, nodes.len(), &[], &flags);
        c.wait_idle(Duration::from_secs(30));
        let v = assert_valid("two_phase_processes.fathom", &[], &c.logs());
        // Every resource manager prepared; the TM decided; all agree.
        let tm = last_state(&c.logs()[0]);
        let rms: Vec<i64> = c.logs()[1..].iter().map(|l| last_state(l)[0]).collect();
        assert!(tm[0] == 1 || tm[0] == 2, "the TM decided: {tm:?}");
        let outcome = if tm[0] == 1 { 2 } else { 3 }; // committed or aborted
        assert_eq!(rms, vec![outcome; 3], "seed {seed}: {v}");
        assert_eq!(v["rules"]["RMgr.Prepare"], 3, "{v}");
        if faults {
            html_of_run(&c.logs(), &nodes);
        }
    }
}

/// `validate --html`: the run drawn against its spec: a lane per node, a
/// step per logged step, every logged send a message and every logged
/// receipt matched to one (the logs are the independent record).
fn html_of_run(logs: &[PathBuf], nodes: &[&str]) {
    let records = tempfile::tempdir().expect("tempdir");
    let page = records.path().join("run.html");
    let o = fathom(records.path())
        .arg("validate")
        .arg(spec_path("two_phase_processes.fathom"))
        .args(logs)
        .arg("--html")
        .arg(&page)
        .output()
        .expect("fathom validate --html");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&page).expect("the page");
    let start = text
        .find(r#"<script id="fathom-view" type="application/json">"#)
        .expect("view data");
    let data = &text[start..];
    let data =
        &data[data.find('>').expect("tag end") + 1..data.find("</script>").expect("script end")];
    let view: Value = serde_json::from_str(&data.replace("<\\/", "</")).expect("view JSON");
    let lanes: Vec<&str> = view["lanes"]
        .as_array()
        .expect("lanes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(lanes, nodes);
    let (mut steps, mut sends, mut receipts) = (0, 0, 0);
    for l in logs {
        for line in std::fs::read_to_string(l).expect("log").lines() {
            let s: Value = serde_json::from_str(line).expect("a logged step");
            steps += 1;
            sends += s["sent"].as_array().map_or(0, Vec::len);
            receipts += usize::from(!s["recv"].is_null());
        }
    }
    let vsteps = view["steps"].as_array().expect("steps");
    assert_eq!(
        vsteps.len(),
        steps + 1,
        "the initial state and every logged step"
    );
    assert_eq!(view["messages"].as_array().map(Vec::len), Some(sends));
    let matched = vsteps.iter().filter(|s| s["received"].is_u64()).count();
    assert_eq!(matched, receipts, "every receipt drawn from its send");
}

#[test]
fn validate_names_the_first_step_that_is_not_a_behavior() {
    let b = built("two_phase_processes.fathom", &[]);
    let nodes = ["TM", "RMgr[0]", "RMgr[1]", "RMgr[2]"];
    let flags = ["--exit-when-idle-ms", "300", "--timeout-ms", "200"];
    let mut c = Cluster::new(b, &nodes, nodes.len(), &[], &flags);
    c.wait_idle(Duration::from_secs(30));
    let logs = c.logs();
    assert_valid("two_phase_processes.fathom", &[], &logs);
    let records = tempfile::tempdir().expect("tempdir");
    let tampered = |edit: &dyn Fn(&str) -> String| -> Value {
        let dir = tempfile::tempdir_in(&c.dir).expect("dir").keep();
        let mut paths = Vec::new();
        for (i, l) in logs.iter().enumerate() {
            let text = std::fs::read_to_string(l).expect("log");
            let text = if i == 1 { edit(&text) } else { text };
            let p = dir.join(format!("{i}.jsonl"));
            std::fs::write(&p, text).expect("write");
            paths.push(p);
        }
        let o = validate(records.path(), "two_phase_processes.fathom", &[], &paths);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: Value = serde_json::from_slice(&o.stdout).expect("json");
        assert_eq!(v["result"], "invalid");
        v["invalid"].clone()
    };
    // RMgr[0] claims a different state after its first step.
    let x = tampered(&|t| t.replacen("\"state\":[1]", "\"state\":[2]", 1));
    assert_eq!(x["line"], 1);
    assert!(
        x["reason"]
            .as_str()
            .expect("reason")
            .contains("variables after the step"),
        "{x}"
    );
    // RMgr[0] claims to commit before any message told it to.
    let x = tampered(&|t| {
        let mut lines: Vec<&str> = t.lines().collect();
        lines.truncate(1);
        let forged = r#"{"node":"RMgr[0]","pid":1,"clock":[0,2,0,0],"rule":"RMgr.ChooseToAbort","args":[0],"recv":null,"sent":[],"state":[3]}"#;
        format!("{}\n{forged}\n", lines.join("\n"))
    });
    assert!(
        x["reason"]
            .as_str()
            .expect("reason")
            .contains("not enabled"),
        "{x}"
    );
    assert_eq!(x["line"], 2);
    // A step left out of the middle of a log.
    let x = tampered(&|t| {
        let lines: Vec<&str> = t.lines().collect();
        format!("{}\n", lines[1..].join("\n"))
    });
    assert!(
        x["reason"].as_str().expect("reason").contains("clock"),
        "{x}"
    );
}

/// The nodes of `specs/kv_store.fathom` with its constants as written.
const KV_NODES: [&str; 5] = [
    "Primary",
    "Backup[0]",
    "Backup[1]",
    "Client[0]",
    "Client[1]",
];

#[test]
fn kv_store_serves_clients_and_survives_faults_and_a_restart() {
    let consts: [(&str, i64); 0] = [];
    let b = built("kv_store.fathom", &consts);
    let nodes = KV_NODES;
    let clients = ["Client[0]", "Client[1]"];
    let flags = [
        "--drop",
        "0.2",
        "--dup",
        "0.2",
        "--delay-ms",
        "10",
        "--resend-ms",
        "20",
        "--seed",
        "7",
    ];
    let mut c = Cluster::new(b, &nodes, nodes.len(), &clients, &flags);
    // Client c writes key c, alternating values, and reads it back; the
    // primary is killed and restarted halfway (the spec allows one crash).
    let mut last_acked: [Option<i64>; 2] = [None, None];
    let rounds = 12;
    for round in 0..rounds {
        if round == rounds / 2 {
            c.kill(0);
            c.start(0);
        }
        for (k, node) in clients.iter().enumerate() {
            let mut cl = c.client(node);
            let val = (round % 2) as i64;
            // Acknowledged once every backup says it holds the put.
            assert_eq!(cl.input(&format!("Put {k} {val}")), "ok");
            let mut got = [cl.line(), cl.line()];
            got.sort();
            let want = [0, 1].map(|b| format!("recv Backup[{b}] Replicated key={k}"));
            assert_eq!(got, want, "round {round}");
            last_acked[k] = Some(val);
            let got = cl.call(&format!("Get {k}"));
            assert_eq!(
                got,
                format!("recv Primary GetOk key={k} val={val}"),
                "round {round}: no acknowledged write is lost"
            );
        }
    }
    // A put while the client waits is refused by the spec's guard.
    let mut cl = c.client("Client[0]");
    assert_eq!(cl.input("Get 1"), "ok");
    let reply = cl.line();
    assert!(reply.starts_with("recv Primary GetOk key=1"), "{reply}");
    assert_eq!(cl.input("Put 0 5"), "error: `val` must be in 0..1");
    assert_eq!(
        cl.input("Nope"),
        "error: no input `Nope` on this node (`help` lists them)"
    );
    // Every backup holds every acknowledged write.
    std::thread::sleep(Duration::from_millis(300));
    for i in 0..nodes.len() {
        c.kill(i);
    }
    let logs = c.logs();
    let acked: Vec<i64> = last_acked.iter().map(|v| v.expect("acked")).collect();
    for (b, log) in logs[1..=2].iter().enumerate() {
        assert_eq!(
            last_state(log),
            acked,
            "Backup[{b}] holds every acknowledged write"
        );
    }
    let v = assert_valid("kv_store.fathom", &consts, &logs);
    assert_eq!(v["rules"]["network.Crash"], 1, "{v}");
    assert_eq!(v["rules"]["Client.Put"], 2 * rounds, "{v}");
}

#[test]
fn kv_store_clients_embedded_through_the_api() {
    let consts: [(&str, i64); 0] = [];
    let b = built("kv_store.fathom", &consts);
    let nodes = KV_NODES;
    // The store's nodes run as processes; the clients inside one program.
    let mut c = Cluster::new(b, &nodes, 3, &[], &[]);
    let o = Command::new(b.dir.join("kv_embedded"))
        .arg("--cluster")
        .arg(c.dir.join("cluster.txt"))
        .arg("--dir")
        .arg(&c.dir)
        .args([
            "--clients",
            "Client[0],Client[1]",
            "--seconds",
            "1",
            "--warmup",
            "0.2",
        ])
        .output()
        .expect("kv_embedded");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["errors"], 0, "{v}");
    assert!(
        v["put"]["ops"].as_u64() > Some(0) && v["get"]["ops"].as_u64() > Some(0),
        "{v}"
    );
    for i in 0..3 {
        c.kill(i);
    }
    let mut logs = c.logs()[..3].to_vec();
    logs.push(c.dir.join("Client0/log.jsonl"));
    logs.push(c.dir.join("Client1/log.jsonl"));
    let v = assert_valid("kv_store.fathom", &consts, &logs);
    assert!(v["rules"]["Client.Put"].as_u64() > Some(0), "{v}");
}
