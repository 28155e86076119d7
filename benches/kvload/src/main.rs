//! A fixed client load on a key-value store, for `benches/kv.py`: N
//! clients, each issuing one operation at a time (a put or a get of a
//! random key, chosen by a seeded generator) for a fixed time; prints one
//! JSON object with the throughput and latency percentiles.
//!
//! - `--system fathom`: the targets are the client ports of an emitted
//!   `specs/kv_store.fathom` cluster, one per `Client[c]` node; a put is
//!   `Put KEY VAL`, answered `ok`, then done once every backup's
//!   `recv Backup[b] Replicated key=KEY` has come (`--backups` of them); a
//!   get is `Get KEY`, answered `ok`, then `recv Primary GetOk key=K val=V`.
//! - `--system etcd`: the targets are etcd's client URLs; every client
//!   has its own gRPC connection over all of them, and puts and
//!   (linearizable, etcd's default) gets go through etcd's v3 KV API.

use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum System {
    Fathom,
    Etcd,
}

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, value_enum)]
    system: System,
    /// fathom: one client port per client (HOST:PORT); etcd: client URLs
    #[arg(long, value_delimiter = ',', required = true)]
    targets: Vec<String>,
    /// Concurrent clients (fathom: one per target)
    #[arg(long, default_value_t = 3)]
    clients: usize,
    /// Measured seconds (after the warm-up)
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Share of puts among operations, in percent
    #[arg(long, default_value_t = 50)]
    put_percent: u64,
    #[arg(long, default_value_t = 2)]
    keys: u64,
    #[arg(long, default_value_t = 2)]
    vals: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// fathom: the spec's `Backups` (replies that complete a put)
    #[arg(long, default_value_t = 2)]
    backups: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Put(u64, u64),
    Get(u64),
}

struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Latencies (microseconds) of the operations finished in the window.
#[derive(Default)]
struct Samples {
    put: Vec<u64>,
    get: Vec<u64>,
    errors: u64,
}

trait Store {
    async fn run(&mut self, op: Op) -> Result<(), String>;
}

struct FathomClient {
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
    line: String,
    backups: usize,
}

impl FathomClient {
    async fn connect(addr: &str, backups: usize) -> Result<FathomClient, String> {
        let s = TcpStream::connect(addr).await.map_err(|e| format!("{addr}: {e}"))?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        let (r, w) = s.into_split();
        Ok(FathomClient { r: BufReader::new(r), w, line: String::new(), backups })
    }

    async fn read_line(&mut self) -> Result<&str, String> {
        self.line.clear();
        let n = self.r.read_line(&mut self.line).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the client port closed".into());
        }
        Ok(self.line.trim_end())
    }
}

impl Store for FathomClient {
    async fn run(&mut self, op: Op) -> Result<(), String> {
        let (req, reply, replies) = match op {
            Op::Put(k, v) => (format!("Put {k} {v}\n"), format!("Replicated key={k}"), self.backups),
            Op::Get(k) => (format!("Get {k}\n"), format!("recv Primary GetOk key={k} "), 1),
        };
        self.w.write_all(req.as_bytes()).await.map_err(|e| e.to_string())?;
        let answer = self.read_line().await?;
        if answer != "ok" {
            return Err(format!("{}: {answer}", req.trim_end()));
        }
        for _ in 0..replies {
            let got = self.read_line().await?;
            let fits = match op {
                Op::Put(..) => got.starts_with("recv Backup[") && got.ends_with(&reply),
                Op::Get(_) => got.starts_with(&reply),
            };
            if !fits {
                return Err(format!("{}: expected `{reply}`, got `{got}`", req.trim_end()));
            }
        }
        Ok(())
    }
}

struct EtcdClient(etcd_client::Client);

impl Store for EtcdClient {
    async fn run(&mut self, op: Op) -> Result<(), String> {
        match op {
            Op::Put(k, v) => {
                self.0.put(format!("k{k}"), format!("{v}"), None).await.map_err(|e| e.to_string())?;
            }
            Op::Get(k) => {
                self.0.get(format!("k{k}"), None).await.map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }
}

async fn client_loop<S: Store>(mut store: S, args: &Args, c: usize, start: Instant) -> Samples {
    let mut rng = Rng((args.seed ^ (c as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1);
    let from = start + Duration::from_secs_f64(args.warmup);
    let until = from + Duration::from_secs_f64(args.seconds);
    let mut out = Samples::default();
    loop {
        let now = Instant::now();
        if now >= until {
            return out;
        }
        let r = rng.next_u64();
        let key = (r >> 8) % args.keys;
        let op = if r % 100 < args.put_percent { Op::Put(key, (r >> 20) % args.vals) } else { Op::Get(key) };
        let t = Instant::now();
        let result = store.run(op).await;
        let done = Instant::now();
        if t < from || done > until {
            continue;
        }
        match result {
            Ok(()) => {
                let us = done.duration_since(t).as_micros() as u64;
                match op {
                    Op::Put(..) => out.put.push(us),
                    Op::Get(_) => out.get.push(us),
                }
            }
            Err(e) => {
                if out.errors == 0 {
                    eprintln!("kvload: client {c}: {e}");
                }
                out.errors += 1;
            }
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn summary(name: &str, mut v: Vec<u64>, seconds: f64) -> serde_json::Value {
    v.sort_unstable();
    serde_json::json!({
        name: {
            "ops": v.len(),
            "ops_per_s": v.len() as f64 / seconds,
            "p50_ms": percentile(&v, 0.50),
            "p99_ms": percentile(&v, 0.99),
        }
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    if args.system == System::Fathom && args.targets.len() != args.clients {
        eprintln!("kvload: --system fathom takes one client port per client ({} given for {} clients)", args.targets.len(), args.clients);
        std::process::exit(2);
    }
    let args: &'static Args = Box::leak(Box::new(args));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let task = match args.system {
            System::Fathom => {
                let store = match FathomClient::connect(&args.targets[c], args.backups).await {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("kvload: {e}");
                        std::process::exit(1);
                    }
                };
                tokio::spawn(client_loop(store, args, c, start))
            }
            System::Etcd => {
                let store = match etcd_client::Client::connect(&args.targets, None).await {
                    Ok(s) => EtcdClient(s),
                    Err(e) => {
                        eprintln!("kvload: etcd: {e}");
                        std::process::exit(1);
                    }
                };
                tokio::spawn(client_loop(store, args, c, start))
            }
        };
        tasks.push(task);
    }
    let mut all = Samples::default();
    for t in tasks {
        match t.await {
            Ok(s) => {
                all.put.extend(s.put);
                all.get.extend(s.get);
                all.errors += s.errors;
            }
            Err(e) => {
                eprintln!("kvload: a client failed: {e}");
                std::process::exit(1);
            }
        }
    }
    let mut both: Vec<u64> = all.put.iter().chain(&all.get).copied().collect();
    both.sort_unstable();
    let ops = both.len();
    let mut out = serde_json::json!({
        "system": format!("{:?}", args.system).to_lowercase(),
        "clients": args.clients,
        "seconds": args.seconds,
        "put_percent": args.put_percent,
        "keys": args.keys,
        "ops": ops,
        "ops_per_s": ops as f64 / args.seconds,
        "p50_ms": percentile(&both, 0.50),
        "p99_ms": percentile(&both, 0.99),
        "errors": all.errors,
    });
    for (name, v) in [("put", all.put), ("get", all.get)] {
        if let (Some(o), serde_json::Value::Object(s)) = (out.as_object_mut(), summary(name, v, args.seconds)) {
            o.extend(s);
        }
    }
    println!("{out}");
    if all.errors > 0 {
        std::process::exit(1);
    }
}
