//! The node runtime: one process instance of the spec over real TCP.
//! Copied verbatim by `fathom emit`; only `spec.rs` differs between specs.
//!
//! - Steps. Internal `rule`s fire when enabled (one at a time, chosen at
//!   random among the enabled instances); a `timeout` fires when it has
//!   stayed enabled for `--timeout-ms`; an `input` runs when a client asks
//!   (the line port, or [`Handle::input`]); an `on` handler runs when a
//!   delivered message enables it (`fifo`: only the oldest unhandled one
//!   from each sender).
//! - The log is the write-ahead log. Each step is one JSON line (rule,
//!   arguments, message received, messages sent with their sequence
//!   numbers, the node's variables after it, a vector clock), written and
//!   fsynced before the step's messages leave. A restarted node rebuilds
//!   from it: durable variables, its clock, what it had sent (sent again
//!   until acknowledged) and what it had handled (never handled twice);
//!   the restart is logged as the spec's `network.Crash` step.
//! - Delivery. Messages carry (sender, sequence number per destination);
//!   a receiver acknowledges a message once the step that handled it is
//!   logged, and a sender resends what is unacknowledged every
//!   `--resend-ms`, reconnecting as needed. So a message sent is handled
//!   exactly once, as in a `bag` or `fifo` network without loss, whatever
//!   the wire drops, duplicates or delays.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::prelude::*;
use crate::spec;

/// How a node runs; `main.rs` fills it from the command line.
pub struct Config {
    pub node: String,
    /// Every node's name and address, from the cluster file.
    pub cluster: Vec<(String, String)>,
    /// Where the step log lives (`DIR/log.jsonl`).
    pub dir: PathBuf,
    /// The line-based client port, if any.
    pub client: Option<String>,
    pub timeout: Duration,
    pub resend: Duration,
    /// Exit after this long with nothing to do (no enabled step, nothing
    /// unhandled, everything sent acknowledged).
    pub exit_when_idle: Option<Duration>,
    pub seed: u64,
    pub faults: Faults,
}

/// Faults injected on the wire, to show the runtime survives them.
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
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

// ---------------------------------------------------------------------------
// Wire format: frames of [u32 little-endian length][payload]; payload =
// kind byte, then zigzag varints.

const DATA: u8 = 1;
const ACK: u8 = 2;
const MAX_FRAME: usize = 1 << 20;

fn put_varint(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    loop {
        let b = (z & 0x7f) as u8;
        z >>= 7;
        if z == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn get_varint(buf: &[u8], at: &mut usize) -> Option<i64> {
    let mut z = 0u64;
    let mut shift = 0;
    loop {
        let b = *buf.get(*at)?;
        *at += 1;
        z |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(((z >> 1) as i64) ^ -((z & 1) as i64));
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// A message on the wire: who sent it, its number on that link, the
/// sender's clock after the sending step, and the message's flat value.
#[derive(Clone, Debug)]
struct Envelope {
    src: usize,
    seq: u64,
    clock: Vec<u64>,
    msg: Vec<i64>,
}

fn encode_data(e: &Envelope) -> Vec<u8> {
    let mut p = vec![DATA];
    put_varint(&mut p, e.src as i64);
    put_varint(&mut p, e.seq as i64);
    for c in &e.clock {
        put_varint(&mut p, *c as i64);
    }
    for v in &e.msg {
        put_varint(&mut p, *v);
    }
    frame(p)
}

fn encode_ack(from: usize, seq: u64) -> Vec<u8> {
    let mut p = vec![ACK];
    put_varint(&mut p, from as i64);
    put_varint(&mut p, seq as i64);
    frame(p)
}

fn frame(payload: Vec<u8>) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_le_bytes().to_vec();
    out.extend(payload);
    out
}

enum Frame {
    Data(Envelope),
    Ack { from: usize, seq: u64 },
}

fn decode(p: &[u8]) -> Option<Frame> {
    let mut at = 1;
    let n = spec::NODES.len();
    match *p.first()? {
        DATA => {
            let src = get_varint(p, &mut at)?;
            let seq = get_varint(p, &mut at)?;
            let mut clock = Vec::with_capacity(n);
            for _ in 0..n {
                clock.push(u64::try_from(get_varint(p, &mut at)?).ok()?);
            }
            let mut msg = Vec::with_capacity(spec::MSG_LEN);
            for _ in 0..spec::MSG_LEN {
                msg.push(get_varint(p, &mut at)?);
            }
            let src = usize::try_from(src).ok().filter(|s| *s < n)?;
            (at == p.len()).then_some(Frame::Data(Envelope {
                src,
                seq: u64::try_from(seq).ok()?,
                clock,
                msg,
            }))
        }
        ACK => {
            let from = usize::try_from(get_varint(p, &mut at)?).ok().filter(|s| *s < n)?;
            let seq = u64::try_from(get_varint(p, &mut at)?).ok()?;
            (at == p.len()).then_some(Frame::Ack { from, seq })
        }
        _ => None,
    }
}

fn read_frame(r: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = u32::from_le_bytes(len) as usize;
    if len == 0 || len > MAX_FRAME {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "bad frame length"));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

// ---------------------------------------------------------------------------
// Outgoing links: one thread per peer, reconnecting and resending.

#[derive(Default)]
struct Outbox {
    next_seq: u64,
    /// seq -> (frame, when it may next be written).
    unacked: BTreeMap<u64, (Vec<u8>, Instant)>,
    /// Acknowledgements to write to this peer.
    acks: Vec<Vec<u8>>,
}

fn sender_thread(addr: String, outbox: Arc<Mutex<Outbox>>, resend: Duration, faults: Faults, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut conn: Option<TcpStream> = None;
    loop {
        let now = Instant::now();
        let mut frames = Vec::new();
        if let Ok(mut ob) = outbox.lock() {
            frames.append(&mut ob.acks);
            for (frame, due) in ob.unacked.values_mut() {
                if *due <= now {
                    frames.push(frame.clone());
                    *due = now + resend;
                }
            }
        }
        if !frames.is_empty() {
            if conn.is_none() {
                conn = connect(&addr);
            }
            if let Some(c) = conn.as_mut() {
                let mut ok = true;
                for f in &frames {
                    if rng.chance(faults.drop) {
                        continue;
                    }
                    let times = if rng.chance(faults.dup) { 2 } else { 1 };
                    for _ in 0..times {
                        ok &= c.write_all(f).is_ok();
                    }
                }
                if !ok || c.flush().is_err() {
                    conn = None;
                }
            }
        }
        thread::sleep(Duration::from_millis(5));
    }
}

fn connect(addr: &str) -> Option<TcpStream> {
    let sa: SocketAddr = addr.to_socket_addrs().ok()?.next()?;
    let c = TcpStream::connect_timeout(&sa, Duration::from_millis(200)).ok()?;
    let _ = c.set_nodelay(true);
    let _ = c.set_write_timeout(Some(Duration::from_secs(2)));
    Some(c)
}

// ---------------------------------------------------------------------------
// Events for the node's one thread.

enum Event {
    Frame(Frame),
    Input {
        name: String,
        args: Vec<i64>,
        reply: Sender<Result<bool, String>>,
    },
}

/// Calls an `input` step of a running node from this process.
#[derive(Clone)]
pub struct Handle(Sender<Event>);

impl Handle {
    /// Runs input `name` (its short name, e.g. `Put`) with one value per
    /// parameter after the instance; `Ok(false)` when its guard is false.
    pub fn input(&self, name: &str, args: Vec<i64>) -> Result<bool, String> {
        let (tx, rx) = mpsc::channel();
        self.0
            .send(Event::Input {
                name: name.to_string(),
                args,
                reply: tx,
            })
            .map_err(|_| "the node has stopped".to_string())?;
        rx.recv().map_err(|_| "the node has stopped".to_string())?
    }
}

fn listener_thread(listener: TcpListener, events: Sender<Event>) {
    for stream in listener.incoming().flatten() {
        let events = events.clone();
        thread::spawn(move || {
            let mut r = BufReader::new(stream);
            while let Ok(p) = read_frame(&mut r) {
                match decode(&p) {
                    Some(f) => {
                        if events.send(Event::Frame(f)).is_err() {
                            return;
                        }
                    }
                    None => return, // a peer speaking something else: drop the link
                }
            }
        });
    }
}

/// The client port: one request per line, `NAME ARG...` (integers, or
/// `true`/`false`); the answer is `ok`, `disabled` or `error: ...`.
fn client_thread(listener: TcpListener, handle: Handle) {
    for stream in listener.incoming().flatten() {
        let handle = handle.clone();
        thread::spawn(move || {
            let Ok(read) = stream.try_clone() else { return };
            let mut w = BufWriter::new(stream);
            for line in BufReader::new(read).lines() {
                let Ok(line) = line else { return };
                let mut words = line.split_whitespace();
                let Some(name) = words.next() else { continue };
                let args: Result<Vec<i64>, String> = words
                    .map(|w| match w {
                        "true" => Ok(1),
                        "false" => Ok(0),
                        _ => w.parse().map_err(|_| format!("`{w}` is not an integer")),
                    })
                    .collect();
                let answer = match args.and_then(|a| handle.input(name, a)) {
                    Ok(true) => "ok".to_string(),
                    Ok(false) => "disabled".to_string(),
                    Err(e) => format!("error: {e}"),
                };
                if writeln!(w, "{answer}").is_err() || w.flush().is_err() {
                    return;
                }
            }
        });
    }
}

// ---------------------------------------------------------------------------
// The node.

struct Node {
    pid: usize,
    process: &'static ProcessDef,
    /// This instance's value of the process's index type.
    me: i64,
    k: u32,
    s: Slots,
    clock: Vec<u64>,
    log: File,
    rng: Rng,
    outboxes: Vec<Arc<Mutex<Outbox>>>,
    /// Delivered, not yet handled: (src, seq) -> envelope.
    pending: BTreeMap<(usize, u64), Envelope>,
    /// Per sender: every seq below `.0` was handled, and those in `.1`.
    handled: Vec<(u64, BTreeSet<u64>)>,
    /// When each enabled timeout instance became enabled.
    timers: HashMap<(usize, u64), Instant>,
    faults_delay: u64,
}

struct Fired {
    step: usize,
    args: Vec<i64>,
    recv: Option<Envelope>,
    sent: Vec<(i64, Vec<i64>)>,
}

impl Node {
    fn own_state(&self) -> Vec<i64> {
        let mut out = Vec::new();
        for v in self.process.vars {
            let at = (v.offset + self.k * v.len) as usize;
            out.extend_from_slice(&self.s.0[at..at + v.len as usize]);
        }
        out
    }

    fn args_of(&self, step: &StepDef, fr: &Slots) -> Vec<i64> {
        let mut args = Vec::new();
        for p in step.params {
            args.extend_from_slice(&fr.0[p.local as usize..(p.local + p.len) as usize]);
        }
        args
    }

    fn is_handled(&self, src: usize, seq: u64) -> bool {
        let (floor, above) = &self.handled[src];
        seq < *floor || above.contains(&seq)
    }

    fn mark_handled(&mut self, src: usize, seq: u64) {
        let (floor, above) = &mut self.handled[src];
        above.insert(seq);
        while above.remove(floor) {
            *floor += 1;
        }
    }

    /// Logs a fired step (fsynced), then hands its messages to the links.
    fn commit(&mut self, f: Fired) -> Result<(), String> {
        if let Some(e) = &f.recv {
            for (c, m) in self.clock.iter_mut().zip(&e.clock) {
                *c = (*c).max(*m);
            }
        }
        self.clock[self.pid] += 1;
        let step = &self.process.steps[f.step];
        let mut line = format!(
            "{{\"node\":{},\"pid\":{},\"clock\":{},\"rule\":{},\"args\":{}",
            json_str(spec::NODES[self.pid]),
            self.pid,
            json_ints(&self.clock),
            json_str(step.name),
            json_ints(&f.args)
        );
        match &f.recv {
            Some(e) => line.push_str(&format!(
                ",\"recv\":{{\"from\":{},\"seq\":{},\"msg\":{}}}",
                e.src,
                e.seq,
                json_ints(&e.msg)
            )),
            None => line.push_str(",\"recv\":null"),
        }
        let mut frames = Vec::new();
        line.push_str(",\"sent\":[");
        for (i, (dst, msg)) in f.sent.iter().enumerate() {
            let dst = usize::try_from(*dst)
                .ok()
                .filter(|d| *d < spec::NODES.len())
                .ok_or_else(|| format!("{}: a send to process id {dst}", step.name))?;
            let seq = {
                let mut ob = self.outboxes[dst].lock().map_err(|_| "poisoned outbox")?;
                ob.next_seq += 1;
                ob.next_seq - 1
            };
            if i > 0 {
                line.push(',');
            }
            line.push_str(&format!("{{\"to\":{dst},\"seq\":{seq},\"msg\":{}}}", json_ints(msg)));
            let env = Envelope {
                src: self.pid,
                seq,
                clock: self.clock.clone(),
                msg: msg.clone(),
            };
            frames.push((dst, seq, encode_data(&env)));
        }
        line.push_str(&format!("],\"state\":{}}}\n", json_ints(&self.own_state())));
        self.log
            .write_all(line.as_bytes())
            .and_then(|()| self.log.sync_data())
            .map_err(|e| format!("cannot write the step log: {e}"))?;
        // Logged: now the messages may leave, and the received one is acknowledged.
        for (dst, seq, frame) in frames {
            let delay = Duration::from_millis(self.rng.below(self.faults_delay + 1));
            if let Ok(mut ob) = self.outboxes[dst].lock() {
                ob.unacked.insert(seq, (frame, Instant::now() + delay));
            }
        }
        if let Some(e) = f.recv {
            self.mark_handled(e.src, e.seq);
            if let Ok(mut ob) = self.outboxes[e.src].lock() {
                ob.acks.push(encode_ack(self.pid, e.seq));
            }
        }
        Ok(())
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_ints<T: std::fmt::Display>(v: &[T]) -> String {
    let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", parts.join(","))
}

// ---------------------------------------------------------------------------
// Reading the node's own log back (restart): a small JSON reader for the
// lines `commit` writes.

#[derive(Debug)]
enum J {
    Null,
    Num(i64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn int(&self) -> Option<i64> {
        match self {
            J::Num(n) => Some(*n),
            _ => None,
        }
    }
    fn ints(&self) -> Option<Vec<i64>> {
        match self {
            J::Arr(xs) => xs.iter().map(J::int).collect(),
            _ => None,
        }
    }
}

fn parse_json(text: &str) -> Option<J> {
    let b = text.as_bytes();
    let mut at = 0;
    let v = parse_value(b, &mut at)?;
    skip_ws(b, &mut at);
    (at == b.len()).then_some(v)
}

fn skip_ws(b: &[u8], at: &mut usize) {
    while *at < b.len() && b[*at].is_ascii_whitespace() {
        *at += 1;
    }
}

fn parse_value(b: &[u8], at: &mut usize) -> Option<J> {
    skip_ws(b, at);
    match *b.get(*at)? {
        b'n' => {
            *at += 4;
            (b.get(*at - 4..*at)? == b"null").then_some(J::Null)
        }
        b'"' => parse_str(b, at).map(J::Str),
        b'[' => {
            *at += 1;
            let mut xs = Vec::new();
            skip_ws(b, at);
            if b.get(*at) == Some(&b']') {
                *at += 1;
                return Some(J::Arr(xs));
            }
            loop {
                xs.push(parse_value(b, at)?);
                skip_ws(b, at);
                match *b.get(*at)? {
                    b',' => *at += 1,
                    b']' => {
                        *at += 1;
                        return Some(J::Arr(xs));
                    }
                    _ => return None,
                }
            }
        }
        b'{' => {
            *at += 1;
            let mut fields = Vec::new();
            skip_ws(b, at);
            if b.get(*at) == Some(&b'}') {
                *at += 1;
                return Some(J::Obj(fields));
            }
            loop {
                skip_ws(b, at);
                let k = parse_str(b, at)?;
                skip_ws(b, at);
                if *b.get(*at)? != b':' {
                    return None;
                }
                *at += 1;
                fields.push((k, parse_value(b, at)?));
                skip_ws(b, at);
                match *b.get(*at)? {
                    b',' => *at += 1,
                    b'}' => {
                        *at += 1;
                        return Some(J::Obj(fields));
                    }
                    _ => return None,
                }
            }
        }
        _ => {
            let start = *at;
            while *at < b.len() && (b[*at] == b'-' || b[*at].is_ascii_digit()) {
                *at += 1;
            }
            std::str::from_utf8(&b[start..*at]).ok()?.parse().ok().map(J::Num)
        }
    }
}

fn parse_str(b: &[u8], at: &mut usize) -> Option<String> {
    if *b.get(*at)? != b'"' {
        return None;
    }
    *at += 1;
    let mut out = Vec::new();
    loop {
        match *b.get(*at)? {
            b'"' => {
                *at += 1;
                return String::from_utf8(out).ok();
            }
            b'\\' => {
                *at += 1;
                match *b.get(*at)? {
                    b'u' => {
                        let hex = std::str::from_utf8(b.get(*at + 1..*at + 5)?).ok()?;
                        let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                        out.extend(c.to_string().bytes());
                        *at += 5;
                        continue;
                    }
                    c => out.push(c),
                }
                *at += 1;
            }
            c => {
                out.push(c);
                *at += 1;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Running a node.

/// Runs the node until it is killed (or idle, with `exit_when_idle`).
pub fn run(cfg: Config) -> Result<(), String> {
    let n = spec::NODES.len();
    let pid = spec::NODES
        .iter()
        .position(|x| *x == cfg.node)
        .ok_or_else(|| format!("no node `{}` in this spec; its nodes: {}", cfg.node, spec::NODES.join(", ")))?;
    let mut addrs = vec![None; n];
    for (name, addr) in &cfg.cluster {
        let i = spec::NODES
            .iter()
            .position(|x| x == name)
            .ok_or_else(|| format!("cluster file: no node `{name}` in this spec; its nodes: {}", spec::NODES.join(", ")))?;
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
    let k = pid as u32 - process.first_pid;
    std::fs::create_dir_all(&cfg.dir).map_err(|e| format!("cannot create {}: {e}", cfg.dir.display()))?;
    let log_path = cfg.dir.join("log.jsonl");
    let previous = std::fs::read_to_string(&log_path).unwrap_or_default();
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
    let mut s = Slots::new(spec::STATE_LEN as u32);
    spec::init(&mut s).map_err(|_| "the initial state failed to evaluate".to_string())?;
    let outboxes: Vec<Arc<Mutex<Outbox>>> = (0..n).map(|_| Arc::default()).collect();
    let mut node = Node {
        pid,
        process,
        me: process.index_values[k as usize],
        k,
        s,
        clock: vec![0; n],
        log,
        rng: Rng::new(cfg.seed ^ (pid as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d)),
        outboxes: outboxes.clone(),
        pending: BTreeMap::new(),
        handled: vec![(0, BTreeSet::new()); n],
        timers: HashMap::new(),
        faults_delay: cfg.faults.delay_ms,
    };
    let restarted = recover(&mut node, &previous)?;

    let listener = TcpListener::bind(&addrs[pid]).map_err(|e| format!("cannot listen on {}: {e}", addrs[pid]))?;
    let (tx, rx) = mpsc::channel();
    {
        let tx = tx.clone();
        thread::spawn(move || listener_thread(listener, tx));
    }
    for (i, addr) in addrs.iter().enumerate() {
        let (addr, ob, resend, faults) = (addr.clone(), outboxes[i].clone(), cfg.resend, cfg.faults);
        let seed = cfg.seed ^ ((pid * n + i) as u64 + 7).wrapping_mul(0x9e37_79b9);
        thread::spawn(move || sender_thread(addr, ob, resend, faults, seed));
    }
    if let Some(client) = &cfg.client {
        let l = TcpListener::bind(client).map_err(|e| format!("cannot listen on client port {client}: {e}"))?;
        let h = Handle(tx.clone());
        thread::spawn(move || client_thread(l, h));
    }
    if restarted {
        node.crash_step()?;
    }
    eprintln!("{}: node {} up on {} ({})", spec::SPEC, spec::NODES[pid], addrs[pid], if restarted { "restarted" } else { "fresh" });
    event_loop(&mut node, &rx, &cfg)
}

/// Rebuilds a restarted node from its log; false when there was none.
fn recover(node: &mut Node, previous: &str) -> Result<bool, String> {
    let mut last_state = None;
    let mut any = false;
    for (i, line) in previous.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        // A torn last line (killed mid-write, before its fsync) never
        // happened: its messages never left.
        let Some(j) = parse_json(line) else {
            if i + 1 == previous.lines().count() {
                break;
            }
            return Err(format!("the step log's line {} is not valid", i + 1));
        };
        any = true;
        if let Some(c) = j.get("clock").and_then(J::ints) {
            node.clock = c.into_iter().map(|x| x.max(0) as u64).collect();
        }
        last_state = j.get("state").and_then(J::ints);
        if let Some(J::Arr(sent)) = j.get("sent") {
            for m in sent {
                let (Some(to), Some(seq), Some(msg)) = (
                    m.get("to").and_then(J::int),
                    m.get("seq").and_then(J::int),
                    m.get("msg").and_then(J::ints),
                ) else {
                    return Err(format!("the step log's line {}: a bad `sent` entry", i + 1));
                };
                let (to, seq) = (to as usize, seq as u64);
                let Some(ob) = node.outboxes.get(to) else { continue };
                let env = Envelope { src: node.pid, seq, clock: node.clock.clone(), msg };
                if let Ok(mut ob) = ob.lock() {
                    ob.next_seq = ob.next_seq.max(seq + 1);
                    ob.unacked.insert(seq, (encode_data(&env), Instant::now()));
                }
            }
        }
        if let Some(r) = j.get("recv").filter(|r| !matches!(r, J::Null)) {
            if let (Some(from), Some(seq)) = (r.get("from").and_then(J::int), r.get("seq").and_then(J::int)) {
                if (from as usize) < node.handled.len() {
                    node.mark_handled(from as usize, seq as u64);
                }
            }
        }
    }
    // Durable variables come back; the others keep their initial values.
    if let Some(state) = last_state {
        let mut at = 0usize;
        for v in node.process.vars {
            let len = v.len as usize;
            if v.durable && at + len <= state.len() {
                let o = (v.offset + node.k * v.len) as usize;
                node.s.0[o..o + len].copy_from_slice(&state[at..at + len]);
            }
            at += len;
        }
    }
    Ok(any)
}

impl Node {
    /// The spec's `network.Crash` step for this node, logged on restart.
    fn crash_step(&mut self) -> Result<(), String> {
        self.clock[self.pid] += 1;
        let line = format!(
            "{{\"node\":{},\"pid\":{},\"clock\":{},\"rule\":\"network.Crash\",\"args\":[{}],\"recv\":null,\"sent\":[],\"state\":{}}}\n",
            json_str(spec::NODES[self.pid]),
            self.pid,
            json_ints(&self.clock),
            self.pid,
            json_ints(&self.own_state())
        );
        self.log
            .write_all(line.as_bytes())
            .and_then(|()| self.log.sync_data())
            .map_err(|e| format!("cannot write the step log: {e}"))
    }

    fn frame_for(&self, step: &StepDef) -> Slots {
        Slots::new(step.frame_len.max(1))
    }

    /// Every enabled instance of this node's steps of `kind`.
    fn enabled(&self, kind: Kind) -> Result<Vec<(usize, u64)>, String> {
        let mut out = Vec::new();
        for (i, st) in self.process.steps.iter().enumerate() {
            if st.kind != kind {
                continue;
            }
            let mut fr = self.frame_for(st);
            for rest in 0..st.per_instance {
                let inst = u64::from(self.k) * st.per_instance + rest;
                (st.bind)(&mut fr, inst);
                if (st.guard)(&self.s, &mut fr).map_err(|_| fault(st.name))? {
                    out.push((i, inst));
                }
            }
        }
        Ok(out)
    }

    fn fire(&mut self, i: usize, inst: u64) -> Result<(), String> {
        let st = &self.process.steps[i];
        let mut fr = self.frame_for(st);
        (st.bind)(&mut fr, inst);
        let args = self.args_of(st, &fr);
        let mut sent = Vec::new();
        (st.body)(&mut self.s, &mut fr, &mut sent).map_err(|_| fault(st.name))?;
        self.commit(Fired { step: i, args, recv: None, sent })
    }

    /// Handles one deliverable message if some handler is enabled for it.
    fn receive_one(&mut self) -> Result<bool, String> {
        let keys: Vec<(usize, u64)> = self.pending.keys().copied().collect();
        for (src, seq) in keys {
            if spec::ORDER == Order::Fifo && self.handled[src].0 != seq {
                continue; // not the oldest unhandled message from `src`
            }
            let Some(env) = self.pending.get(&(src, seq)).cloned() else { continue };
            for (i, st) in self.process.steps.iter().enumerate() {
                let Some(bind_msg) = st.bind_msg else { continue };
                let mut fr = self.frame_for(st);
                if !bind_msg(&mut fr, self.me, src as i64, &env.msg) {
                    continue;
                }
                if !(st.guard)(&self.s, &mut fr).map_err(|_| fault(st.name))? {
                    continue;
                }
                bind_msg(&mut fr, self.me, src as i64, &env.msg);
                let args = self.args_of(st, &fr);
                let mut sent = Vec::new();
                (st.body)(&mut self.s, &mut fr, &mut sent).map_err(|_| fault(st.name))?;
                self.pending.remove(&(src, seq));
                self.commit(Fired { step: i, args, recv: Some(env), sent })?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn input(&mut self, name: &str, values: &[i64]) -> Result<bool, String> {
        let (i, st) = self
            .process
            .steps
            .iter()
            .enumerate()
            .find(|(_, st)| st.kind == Kind::Input && st.name.rsplit('.').next() == Some(name))
            .ok_or_else(|| format!("no input `{name}` on this node"))?;
        let params = &st.params[1..];
        if params.len() != values.len() {
            return Err(format!("`{name}` takes {} argument(s)", params.len()));
        }
        let mut fr = self.frame_for(st);
        fr[i64::from(st.params[0].local)] = self.me;
        for (p, v) in params.iter().zip(values) {
            if p.hi < p.lo {
                return Err(format!("`{}` is not a one-value parameter", p.name));
            }
            if *v < p.lo || *v > p.hi {
                return Err(format!("`{}` must be in {}..{}", p.name, p.lo, p.hi));
            }
            fr[i64::from(p.local)] = *v;
        }
        let bound = fr.clone();
        if !(st.guard)(&self.s, &mut fr).map_err(|_| fault(st.name))? {
            return Ok(false);
        }
        let mut fr = bound;
        let args = self.args_of(st, &fr);
        let mut sent = Vec::new();
        (st.body)(&mut self.s, &mut fr, &mut sent).map_err(|_| fault(st.name))?;
        self.commit(Fired { step: i, args, recv: None, sent })?;
        Ok(true)
    }

    fn deliver(&mut self, f: Frame) {
        match f {
            Frame::Data(env) => {
                if self.is_handled(env.src, env.seq) {
                    // Handled before (a resend, or its ack was lost): ack again.
                    if let Ok(mut ob) = self.outboxes[env.src].lock() {
                        ob.acks.push(encode_ack(self.pid, env.seq));
                    }
                } else {
                    self.pending.entry((env.src, env.seq)).or_insert(env);
                }
            }
            Frame::Ack { from, seq } => {
                if let Ok(mut ob) = self.outboxes[from].lock() {
                    ob.unacked.remove(&seq);
                }
            }
        }
    }

    fn all_acked(&self) -> bool {
        self.outboxes
            .iter()
            .all(|o| o.lock().map(|o| o.unacked.is_empty() && o.acks.is_empty()).unwrap_or(true))
    }
}

fn fault(step: &str) -> String {
    format!("step `{step}` failed to evaluate: this run has left the spec")
}

fn event_loop(node: &mut Node, rx: &Receiver<Event>, cfg: &Config) -> Result<(), String> {
    let mut idle_since: Option<Instant> = None;
    loop {
        // Everything that has arrived, without waiting.
        loop {
            match rx.try_recv() {
                Ok(Event::Frame(f)) => node.deliver(f),
                Ok(Event::Input { name, args, reply }) => {
                    let r = node.input(&name, &args);
                    if let Err(e) = &r {
                        if e.contains("left the spec") {
                            return Err(e.clone());
                        }
                    }
                    let _ = reply.send(r);
                }
                Err(_) => break,
            }
        }
        let mut busy = node.receive_one()?;
        if !busy {
            let enabled = node.enabled(Kind::Rule)?;
            if !enabled.is_empty() {
                let (i, inst) = enabled[node.rng.below(enabled.len() as u64) as usize];
                node.fire(i, inst)?;
                busy = true;
            }
        }
        if !busy {
            // Timers: a timeout fires once it has stayed enabled long enough.
            let now = Instant::now();
            let enabled = node.enabled(Kind::Timeout)?;
            node.timers.retain(|key, _| enabled.contains(key));
            for key in &enabled {
                node.timers.entry(*key).or_insert(now);
            }
            let due: Vec<(usize, u64)> = node
                .timers
                .iter()
                .filter(|(_, t)| now.duration_since(**t) >= cfg.timeout)
                .map(|(k, _)| *k)
                .collect();
            if let Some(&(i, inst)) = due.first() {
                node.timers.remove(&(i, inst));
                node.fire(i, inst)?;
                busy = true;
            }
        }
        if busy {
            idle_since = None;
            continue;
        }
        if let Some(limit) = cfg.exit_when_idle {
            if node.pending.is_empty() && node.timers.is_empty() && node.all_acked() {
                let since = *idle_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= limit {
                    eprintln!("{}: node {} idle, exiting", spec::SPEC, spec::NODES[node.pid]);
                    return Ok(());
                }
            } else {
                idle_since = None;
            }
        }
        match rx.recv_timeout(Duration::from_millis(5)) {
            Ok(Event::Frame(f)) => node.deliver(f),
            Ok(Event::Input { name, args, reply }) => {
                let r = node.input(&name, &args);
                let _ = reply.send(r);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
    }
}
