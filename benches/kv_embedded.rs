//! A program that embeds client nodes of the emitted `specs/kv_store.fathom`
//! and drives them through the crate's API, as an application would:
//! `runtime::start` runs each `Client[c]` node in this process, the typed
//! calls `spec::client::{put, get}` run its inputs, and the messages the
//! node handles (`Replicated` from every backup, `GetOk`) come back as
//! typed `spec::types::Msg` values through `Handle::subscribe`.
//!
//! Copied into the emitted crate as `examples/kv_embedded.rs` by
//! `benches/kv.py` (a fixed client load beside etcd) and by
//! `checker/tests/emit.rs`. Prints one JSON object, as `benches/kvload`.
//!
//!   kv_embedded --cluster FILE --dir DIR --clients 'Client[0],Client[1]'
//!               [--seconds 10] [--warmup 1] [--put-percent 50] [--seed 1]

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use {{crate}}::runtime::{self, Handle, Note};
use {{crate}}::spec::{self, types::Msg};

struct Args {
    cluster: String,
    dir: String,
    clients: Vec<String>,
    seconds: f64,
    warmup: f64,
    put_percent: u64,
    seed: u64,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        cluster: String::new(),
        dir: String::new(),
        clients: Vec::new(),
        seconds: 10.0,
        warmup: 1.0,
        put_percent: 50,
        seed: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().ok_or_else(|| format!("`{flag}` needs a value"))?;
        let num = |v: &str| v.parse::<f64>().map_err(|_| format!("`{flag}`: `{v}` is not a number"));
        match flag.as_str() {
            "--cluster" => a.cluster = v,
            "--dir" => a.dir = v,
            "--clients" => a.clients = v.split(',').map(str::to_string).collect(),
            "--seconds" => a.seconds = num(&v)?,
            "--warmup" => a.warmup = num(&v)?,
            "--put-percent" => a.put_percent = num(&v)? as u64,
            "--seed" => a.seed = num(&v)? as u64,
            _ => return Err(format!("unknown flag `{flag}`")),
        }
    }
    if a.cluster.is_empty() || a.dir.is_empty() || a.clients.is_empty() {
        return Err("--cluster, --dir and --clients are required".into());
    }
    Ok(a)
}

fn constant(name: &str) -> i64 {
    spec::CONSTS.iter().find(|(k, _)| *k == name).map_or(1, |(_, v)| *v)
}

fn count(process: &str) -> i64 {
    spec::PROCESSES.iter().find(|p| p.name == process).map_or(0, |p| p.count as i64)
}

/// Waits for the messages that finish an operation: `Replicated { key }`
/// from every backup (a put), or `GetOk { key, .. }` (a get).
fn await_reply(rx: &Receiver<Note>, put: bool, key: i64) -> Result<(), String> {
    let mut left = if put { count("Backup") } else { 1 };
    while left > 0 {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Note::Output(o)) => match o.msg {
                Some(Msg::Replicated { key: k }) if put && k == key => left -= 1,
                Some(Msg::GetOk { key: k, .. }) if !put && k == key => left -= 1,
                other => return Err(format!("unexpected reply {other:?}")),
            },
            Ok(_) => {}
            Err(_) => return Err("no reply in 30 s".into()),
        }
    }
    Ok(())
}

/// Latencies in microseconds: (puts, gets).
type Latencies = (Vec<u64>, Vec<u64>);

fn client(h: Handle, rx: Receiver<Note>, c: usize, a: &Args, start: Instant) -> Result<Latencies, String> {
    let (keys, vals) = (constant("Keys"), constant("Vals"));
    let mut rng = (a.seed ^ (c as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1;
    let from = start + Duration::from_secs_f64(a.warmup);
    let until = from + Duration::from_secs_f64(a.seconds);
    let (mut puts, mut gets) = (Vec::new(), Vec::new());
    while Instant::now() < until {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let key = ((rng >> 8) % keys as u64) as i64;
        let put = rng % 100 < a.put_percent;
        let t = Instant::now();
        let ran = if put {
            spec::client::put(&h, key, ((rng >> 20) % vals as u64) as i64)?
        } else {
            spec::client::get(&h, key)?
        };
        if !ran {
            return Err("the client node refused an operation while idle".into());
        }
        await_reply(&rx, put, key)?;
        let done = Instant::now();
        if t >= from && done <= until {
            let us = done.duration_since(t).as_micros() as u64;
            if put { puts.push(us) } else { gets.push(us) }
        }
    }
    Ok((puts, gets))
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize] as f64 / 1000.0
}

fn summary(v: &mut [u64], seconds: f64) -> String {
    v.sort_unstable();
    format!(
        "{{\"ops\":{},\"ops_per_s\":{},\"p50_ms\":{},\"p99_ms\":{}}}",
        v.len(),
        v.len() as f64 / seconds,
        percentile(v, 0.5),
        percentile(v, 0.99)
    )
}

fn main() {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("kv_embedded: {e}");
            std::process::exit(2);
        }
    };
    let cluster = runtime::read_cluster(std::path::Path::new(&a.cluster)).unwrap_or_else(|e| {
        eprintln!("kv_embedded: {e}");
        std::process::exit(2)
    });
    let mut nodes = Vec::new();
    for name in &a.clients {
        let dir = std::path::Path::new(&a.dir).join(name.replace(['[', ']'], ""));
        let started = runtime::start(runtime::Config::new(name, cluster.clone(), dir))
            .and_then(|(h, _)| h.subscribe().map(|rx| (h, rx)));
        match started {
            Ok(n) => nodes.push(n),
            Err(e) => {
                eprintln!("kv_embedded: {name}: {e}");
                std::process::exit(1);
            }
        }
    }
    let a = &a;
    let start = Instant::now();
    let results: Vec<Result<Latencies, String>> = std::thread::scope(|s| {
        let threads: Vec<_> = nodes
            .into_iter()
            .enumerate()
            .map(|(c, (h, rx))| s.spawn(move || client(h, rx, c, a, start)))
            .collect();
        threads.into_iter().map(|t| t.join().unwrap_or_else(|_| Err("a client panicked".into()))).collect()
    });
    let (mut puts, mut gets, mut errors) = (Vec::new(), Vec::new(), 0);
    for r in results {
        match r {
            Ok((p, g)) => {
                puts.extend(p);
                gets.extend(g);
            }
            Err(e) => {
                eprintln!("kv_embedded: {e}");
                errors += 1;
            }
        }
    }
    let mut all: Vec<u64> = puts.iter().chain(&gets).copied().collect();
    all.sort_unstable();
    println!(
        "{{\"system\":\"fathom-embedded\",\"clients\":{},\"seconds\":{},\"put_percent\":{},\"ops\":{},\"ops_per_s\":{},\"p50_ms\":{},\"p99_ms\":{},\"errors\":{errors},\"put\":{},\"get\":{}}}",
        a.clients.len(),
        a.seconds,
        a.put_percent,
        all.len(),
        all.len() as f64 / a.seconds,
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        summary(&mut puts, a.seconds),
        summary(&mut gets, a.seconds)
    );
    // The embedded nodes stop with the process, as a crash would: their
    // logs are whole up to their last sync.
    std::process::exit(if errors > 0 { 1 } else { 0 });
}
