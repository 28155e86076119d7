//! The node runtime: one process instance of the spec over real TCP.
//! Copied verbatim by `fathom emit`; only `spec.rs` differs between specs.
//!
//! - `node.rs`: the node's state and its loop (steps, group commit,
//!   exactly-once handling, timers);
//! - `links.rs`: outgoing links (outboxes, resends, reconnection) and the
//!   listener for peers;
//! - `wire.rs`: the frames on the wire;
//! - `log.rs`: the step log, which is also the write-ahead log;
//! - `client.rs`: the API of a running node ([`Handle`]) and the line port.

mod client;
mod links;
mod log;
mod node;
mod wire;

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

pub use client::{Handle, Note, Output};

use crate::spec;

/// How a node runs; `main.rs` fills it from the command line.
#[derive(Clone, Debug)]
pub struct Config {
    /// This node's name, e.g. `RMgr[0]`.
    pub node: String,
    /// Every node's name and address, from the cluster file.
    pub cluster: Vec<(String, String)>,
    /// Where the step log lives (`DIR/log.jsonl`); keep it across restarts.
    pub dir: PathBuf,
    /// The line-based client port, if any.
    pub client: Option<String>,
    /// How long a `timeout` step stays enabled before it fires.
    pub timeout: Duration,
    /// How often an unacknowledged message is sent again.
    pub resend: Duration,
    /// Exit after this long with nothing to do (no step enabled, nothing
    /// to send but messages a peer holds).
    pub exit_when_idle: Option<Duration>,
    pub seed: u64,
    pub faults: Faults,
}

impl Config {
    /// A node with the default timings, no client port and no faults.
    pub fn new(node: &str, cluster: Vec<(String, String)>, dir: PathBuf) -> Config {
        Config {
            node: node.to_string(),
            cluster,
            dir,
            client: None,
            timeout: Duration::from_millis(500),
            resend: Duration::from_millis(100),
            exit_when_idle: None,
            seed: 1,
            faults: Faults::default(),
        }
    }
}

/// Faults injected on the wire, to show that runs survive them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Probability that a frame is not written.
    pub drop: f64,
    /// Probability that a frame is written twice.
    pub dup: f64,
    /// Up to this many milliseconds before a message first leaves.
    pub delay_ms: u64,
}

/// A small xorshift generator: steps and faults are chosen from the seed.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// Reads a cluster file: one `NAME ADDRESS` per line, `#` comments.
pub fn read_cluster(path: &std::path::Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next(), parts.next()) {
            (Some(name), Some(addr), None) => out.push((name.to_string(), addr.to_string())),
            _ => return Err(format!("{}:{}: expected `NAME ADDRESS`", path.display(), i + 1)),
        }
    }
    Ok(out)
}

/// Starts a node (its threads and its loop) and returns a handle to it
/// and the loop's thread, which ends with the node.
pub fn start(cfg: Config) -> Result<(Handle, JoinHandle<Result<(), String>>), String> {
    let n = spec::NODES.len();
    let known = || spec::NODES.join(", ");
    let pid = spec::NODES
        .iter()
        .position(|x| *x == cfg.node)
        .ok_or_else(|| format!("no node `{}` in this spec; its nodes: {}", cfg.node, known()))?;
    let mut addrs: Vec<Option<String>> = vec![None; n];
    for (name, addr) in &cfg.cluster {
        let i = spec::NODES
            .iter()
            .position(|x| x == name)
            .ok_or_else(|| format!("cluster file: no node `{name}` in this spec; its nodes: {}", known()))?;
        addrs[i] = Some(addr.clone());
    }
    let addrs: Vec<String> = addrs
        .into_iter()
        .enumerate()
        .map(|(i, a)| a.ok_or_else(|| format!("cluster file: no address for node `{}`", spec::NODES[i])))
        .collect::<Result<_, _>>()?;
    let process = spec::PROCESSES
        .iter()
        .find(|p| (p.first_pid as usize..(p.first_pid + p.count) as usize).contains(&pid))
        .ok_or("no process for this node")?;

    let (log, previous) = log::StepLog::open(&cfg.dir)?;
    let links: Vec<Arc<links::Link>> = (0..n).map(|_| Arc::default()).collect();
    let mut node = node::Node::new(&cfg, pid, process, links.clone(), log)?;
    let listener = TcpListener::bind(&addrs[pid]).map_err(|e| format!("cannot listen on {}: {e}", addrs[pid]))?;
    let client = match &cfg.client {
        Some(addr) => Some(TcpListener::bind(addr).map_err(|e| format!("cannot listen on client port {addr}: {e}"))?),
        None => None,
    };
    let restarted = node.restart(&previous)?;

    let (tx, rx) = mpsc::channel();
    {
        let tx = tx.clone();
        thread::spawn(move || links::listener(listener, tx));
    }
    for (i, addr) in addrs.iter().enumerate() {
        let (link, addr, resend, faults) = (links[i].clone(), addr.clone(), cfg.resend, cfg.faults);
        let seed = cfg.seed ^ ((pid * n + i) as u64 + 7).wrapping_mul(0x9e37_79b9);
        thread::spawn(move || links::sender(link, addr, resend, faults, seed));
    }
    let handle = Handle { events: tx };
    if let Some(l) = client {
        let h = handle.clone();
        thread::spawn(move || client::port(l, h, process));
    }
    eprintln!(
        "{}: node {} up on {} ({})",
        spec::SPEC,
        spec::NODES[pid],
        addrs[pid],
        if restarted { "restarted from its log" } else { "fresh" }
    );
    let looping = thread::spawn(move || node::run(&mut node, &rx, &cfg));
    Ok((handle, looping))
}

/// Runs a node until it is killed, fails, or (with `exit_when_idle`) idles.
pub fn run(cfg: Config) -> Result<(), String> {
    let (handle, looping) = start(cfg)?;
    let result = looping.join().map_err(|_| "the node's loop panicked".to_string())?;
    drop(handle);
    result
}
