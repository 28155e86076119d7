//! The node: one process instance of the spec, its state, and the loop
//! that runs its steps.
//!
//! - Steps. An `on` handler runs when a delivered message enables it
//!   (`fifo`: only the oldest unhandled message from each sender); an
//!   internal `rule` fires when enabled (chosen at random among the
//!   enabled instances); a `timeout` fires once it has stayed enabled for
//!   the timeout; an `input` runs when a caller asks.
//! - Group commit. The steps run since the last sync are appended to the
//!   log and fsynced together; only then do their effects leave the node:
//!   the messages they sent, the acknowledgements of the messages they
//!   handled, the answers to inputs. So whatever another node has seen,
//!   and every input a caller was told ran, is in the log, and a node
//!   killed at any point restarts from its log into a state the spec
//!   allows (`restart`). (A message handled is reported to subscribers at
//!   once: its content is in its sender's log already.)
//! - Exactly once. A message is handled once (its (sender, seq) is
//!   remembered, in the log too) and acknowledged only when logged; until
//!   then its sender sends it again (`links`). That is what a `bag` or
//!   `fifo` network without loss promises, and it is a behavior of a `set`
//!   network, whatever the wire drops, duplicates or delays.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::{Duration, Instant};

use super::client::{Note, Output};
use super::links::Link;
use super::log::{self, StepLog, json_ints, json_str};
use super::wire::{self, Envelope, Frame};
use super::{Config, Rng};
use crate::prelude::*;
use crate::spec;

/// What the node's loop is told by the other threads.
pub enum Event {
    Frame(Frame),
    Input { name: String, args: Vec<i64>, reply: Sender<Note> },
    Subscribe(Sender<Note>),
    State(Sender<Note>),
}

/// At most this many steps share one sync of the log.
const MAX_BATCH: usize = 256;

/// Effects of the steps since the last sync, released after it.
#[derive(Default)]
struct Effects {
    /// (destination, seq, frame)
    sends: Vec<(usize, u64, Vec<u8>)>,
    /// (sender, seq) of handled messages.
    acks: Vec<(usize, u64)>,
    /// Answers to callers.
    notes: Vec<(Sender<Note>, Note)>,
}

pub struct Node {
    pub pid: usize,
    process: &'static ProcessDef,
    /// This instance's value of the process's index type.
    me: i64,
    /// This instance's position among the process's instances.
    k: u32,
    s: Slots,
    clock: Vec<u64>,
    log: StepLog,
    rng: Rng,
    links: Vec<Arc<Link>>,
    resend: Duration,
    timeout: Duration,
    delay_ms: u64,
    /// Delivered, not yet handled: (sender, seq) -> envelope.
    pending: BTreeMap<(usize, u64), Envelope>,
    /// Per sender: every seq below `.0` was handled, and those in `.1`.
    handled: Vec<(u64, BTreeSet<u64>)>,
    /// When each enabled timeout instance became enabled.
    timers: HashMap<(usize, u64), Instant>,
    subscribers: Vec<Sender<Note>>,
    effects: Effects,
    /// Messages that arrived since the last release (a held note for each
    /// that is still pending then).
    arrived: Vec<(usize, u64)>,
    /// Steps since the last sync.
    batch: usize,
}

fn fault(step: &str) -> String {
    format!("step `{step}` failed to evaluate: this run has left the spec")
}

impl Node {
    pub fn new(
        cfg: &Config,
        pid: usize,
        process: &'static ProcessDef,
        links: Vec<Arc<Link>>,
        log: StepLog,
    ) -> Result<Node, String> {
        let n = spec::NODES.len();
        let k = pid as u32 - process.first_pid;
        let mut s = Slots::new(spec::STATE_LEN as u32);
        spec::init(&mut s).map_err(|_| "the initial state failed to evaluate".to_string())?;
        Ok(Node {
            pid,
            process,
            me: process.index_values[k as usize],
            k,
            s,
            clock: vec![0; n],
            log,
            rng: Rng::new(cfg.seed ^ (pid as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d)),
            links,
            resend: cfg.resend,
            timeout: cfg.timeout,
            delay_ms: cfg.faults.delay_ms,
            pending: BTreeMap::new(),
            handled: vec![(0, BTreeSet::new()); n],
            timers: HashMap::new(),
            subscribers: Vec::new(),
            effects: Effects::default(),
            arrived: Vec::new(),
            batch: 0,
        })
    }

    /// This node's variables, flat, in declaration order (as logged).
    fn own_state(&self) -> Vec<i64> {
        let mut out = Vec::new();
        for v in self.process.vars {
            let at = (v.offset + self.k * v.len) as usize;
            out.extend_from_slice(&self.s.0[at..at + v.len as usize]);
        }
        out
    }

    fn named_state(&self) -> Vec<(&'static str, Vec<i64>)> {
        self.process
            .vars
            .iter()
            .map(|v| {
                let at = (v.offset + self.k * v.len) as usize;
                (v.name, self.s.0[at..at + v.len as usize].to_vec())
            })
            .collect()
    }

    /// Takes the node back to where its log ends: the spec's
    /// `network.Crash` for this node, which keeps only `durable` variables.
    /// Returns false when the log was empty (a fresh node).
    pub fn restart(&mut self, previous: &str) -> Result<bool, String> {
        let r = log::recover(previous)?;
        if r.steps == 0 {
            return Ok(false);
        }
        if r.clock.len() != self.clock.len() {
            return Err("the step log is from a cluster of another size".into());
        }
        self.clock = r.clock;
        for (to, seq, msg, clock) in r.sent {
            let Some(link) = self.links.get(to) else {
                return Err(format!("the step log sends to node {to}, which this spec lacks"));
            };
            let env = Envelope { src: self.pid, seq, clock, msg };
            link.queue(seq, wire::encode(&Frame::Data(env)), Instant::now());
        }
        for (from, seq) in r.handled {
            if from < self.handled.len() {
                self.mark_handled(from, seq);
            }
        }
        if let Some(state) = r.state {
            let mut at = 0usize;
            for v in self.process.vars {
                let len = v.len as usize;
                if v.durable && at + len <= state.len() {
                    let o = (v.offset + self.k * v.len) as usize;
                    self.s.0[o..o + len].copy_from_slice(&state[at..at + len]);
                }
                at += len;
            }
        }
        if spec::CRASHES == 0 {
            eprintln!(
                "{}: warning: `{}` does not model crashes (`crash` in its network): this run will not validate",
                spec::SPEC,
                spec::SPEC
            );
        }
        self.clock[self.pid] += 1;
        let line = format!(
            "{{\"node\":{},\"pid\":{},\"clock\":{},\"rule\":\"network.Crash\",\"args\":[{}],\"recv\":null,\"sent\":[],\"state\":{}}}",
            json_str(spec::NODES[self.pid]),
            self.pid,
            json_ints(&self.clock),
            self.pid,
            json_ints(&self.own_state())
        );
        self.log.append(&line);
        self.release()?;
        Ok(true)
    }

    fn is_handled(&self, src: usize, seq: u64) -> bool {
        let (floor, above) = &self.handled[src];
        seq < *floor || above.contains(&seq)
    }

    fn mark_handled(&mut self, src: usize, seq: u64) {
        let (floor, above) = &mut self.handled[src];
        if seq < *floor {
            return;
        }
        above.insert(seq);
        while above.remove(floor) {
            *floor += 1;
        }
        // Every seq below the floor was handled; none at it yet.
        debug_assert!(above.iter().all(|s| *s > *floor), "handled numbers above the floor");
        assert!(self.is_handled(src, seq), "a message marked handled is handled");
    }

    /// Logs a fired step; its effects wait for the next `release`.
    fn commit(
        &mut self,
        step: usize,
        fr: &Slots,
        recv: Option<Envelope>,
        sent: Vec<(i64, Vec<i64>)>,
    ) -> Result<(), String> {
        let st = &self.process.steps[step];
        if let Some(e) = &recv {
            for (c, m) in self.clock.iter_mut().zip(&e.clock) {
                *c = (*c).max(*m);
            }
        }
        self.clock[self.pid] += 1;
        let mut args = Vec::new();
        for p in st.params {
            args.extend_from_slice(&fr.0[p.local as usize..(p.local + p.len) as usize]);
        }
        let mut line = format!(
            "{{\"node\":{},\"pid\":{},\"clock\":{},\"rule\":{},\"args\":{}",
            json_str(spec::NODES[self.pid]),
            self.pid,
            json_ints(&self.clock),
            json_str(st.name),
            json_ints(&args)
        );
        match &recv {
            Some(e) => line.push_str(&format!(
                ",\"recv\":{{\"from\":{},\"seq\":{},\"msg\":{}}}",
                e.src,
                e.seq,
                json_ints(&e.msg)
            )),
            None => line.push_str(",\"recv\":null"),
        }
        line.push_str(",\"sent\":[");
        for (i, (dst, msg)) in sent.into_iter().enumerate() {
            let dst = usize::try_from(dst)
                .ok()
                .filter(|d| *d < spec::NODES.len())
                .ok_or_else(|| format!("{}: a send to process id {dst}", st.name))?;
            let seq = self.links[dst].take_seq();
            if i > 0 {
                line.push(',');
            }
            line.push_str(&format!("{{\"to\":{dst},\"seq\":{seq},\"msg\":{}}}", json_ints(&msg)));
            let env = Envelope { src: self.pid, seq, clock: self.clock.clone(), msg };
            self.effects.sends.push((dst, seq, wire::encode(&Frame::Data(env))));
        }
        line.push_str(&format!("],\"state\":{}}}", json_ints(&self.own_state())));
        self.log.append(&line);
        if let Some(e) = recv {
            self.mark_handled(e.src, e.seq);
            self.effects.acks.push((e.src, e.seq));
            // Out before the sync: what it says is in its sender's log. Should
            // this node die first, it handles the message again (no ack left).
            let note = Note::Output(Output::of(e.src, &e.msg));
            self.subscribers.retain(|tx| tx.send(note.clone()).is_ok());
        }
        self.batch += 1;
        Ok(())
    }

    /// Syncs the log, then lets the synced steps' effects out.
    fn release(&mut self) -> Result<(), String> {
        self.log.sync()?;
        self.batch = 0;
        let fx = std::mem::take(&mut self.effects);
        // Answers first: a caller hears `ok` before any reply to what its
        // input sent can come back.
        for (tx, note) in fx.notes {
            let _ = tx.send(note);
        }
        let now = Instant::now();
        for (dst, seq, frame) in fx.sends {
            let delay = Duration::from_millis(self.rng.below(self.delay_ms + 1));
            self.links[dst].queue(seq, frame, now + delay);
        }
        for (src, seq) in fx.acks {
            self.links[src].control(&Frame::Ack { from: self.pid, seq });
        }
        for (src, seq) in std::mem::take(&mut self.arrived) {
            if self.pending.contains_key(&(src, seq)) {
                self.links[src].control(&Frame::Held { from: self.pid, seq });
            }
        }
        self.log.fill_ahead()
    }

    /// Every enabled instance of this node's steps of `kind`.
    fn enabled(&self, kind: Kind) -> Result<Vec<(usize, u64)>, String> {
        let mut out = Vec::new();
        for (i, st) in self.process.steps.iter().enumerate() {
            if st.kind != kind {
                continue;
            }
            let mut fr = Slots::new(st.frame_len);
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
        let mut fr = Slots::new(st.frame_len);
        (st.bind)(&mut fr, inst);
        let bound = fr.clone();
        let mut sent = Vec::new();
        (st.body)(&mut self.s, &mut fr, &mut sent).map_err(|_| fault(st.name))?;
        self.commit(i, &bound, None, sent)
    }

    /// Handles one delivered message that some handler is enabled for.
    fn receive_one(&mut self) -> Result<bool, String> {
        let keys: Vec<(usize, u64)> = self.pending.keys().copied().collect();
        for (src, seq) in keys {
            if spec::ORDER == Order::Fifo && self.handled[src].0 != seq {
                continue; // not the oldest unhandled message from `src`
            }
            let Some(env) = self.pending.get(&(src, seq)) else { continue };
            let mut taker = None;
            for (i, st) in self.process.steps.iter().enumerate() {
                let Some(bind_msg) = st.bind_msg else { continue };
                let mut fr = Slots::new(st.frame_len);
                if !bind_msg(&mut fr, self.me, src as i64, &env.msg) {
                    continue;
                }
                let bound = fr.clone();
                if (st.guard)(&self.s, &mut fr).map_err(|_| fault(st.name))? {
                    taker = Some((i, bound));
                    break;
                }
            }
            if let Some((i, bound)) = taker {
                let st = &self.process.steps[i];
                let Some(env) = self.pending.remove(&(src, seq)) else { continue };
                let mut fr = bound.clone();
                let mut sent = Vec::new();
                (st.body)(&mut self.s, &mut fr, &mut sent).map_err(|_| fault(st.name))?;
                self.commit(i, &bound, Some(env), sent)?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Runs input `name`; the answer goes to `reply` once logged.
    fn input(&mut self, name: &str, values: &[i64], reply: Sender<Note>) -> Result<(), String> {
        let answer = self.try_input(name, values);
        let answer = match answer {
            Err(Left(e)) => return Err(e),
            Err(Bad(e)) => Err(e),
            Ok(b) => Ok(b),
        };
        self.effects.notes.push((reply, Note::Answer(answer)));
        Ok(())
    }

    fn try_input(&mut self, name: &str, values: &[i64]) -> Result<bool, InputError> {
        let (i, st) = self
            .process
            .steps
            .iter()
            .enumerate()
            .find(|(_, st)| st.kind == Kind::Input && st.name.rsplit('.').next() == Some(name))
            .ok_or_else(|| Bad(format!("no input `{name}` on this node (`help` lists them)")))?;
        // One integer per slot of each parameter after the instance.
        let params = &st.params[1..];
        let slots: u32 = params.iter().map(|p| p.len).sum();
        if values.len() != slots as usize {
            let names: Vec<&str> = params.iter().map(|p| p.name).collect();
            return Err(Bad(format!("`{name}` takes {slots} value(s): {}", names.join(", "))));
        }
        let mut fr = Slots::new(st.frame_len);
        fr[i64::from(st.params[0].local)] = self.me;
        let mut at = 0;
        for p in params {
            let v = &values[at..at + p.len as usize];
            if p.hi >= p.lo && (v[0] < p.lo || v[0] > p.hi) {
                return Err(Bad(format!("`{}` must be in {}..{}", p.name, p.lo, p.hi)));
            }
            fr.0[p.local as usize..(p.local + p.len) as usize].copy_from_slice(v);
            at += p.len as usize;
        }
        if !st.args_ok.is_some_and(|ok| ok(&fr)) {
            return Err(Bad(format!("the arguments of `{name}` are not values of its parameters' types")));
        }
        let bound = fr.clone();
        if !(st.guard)(&self.s, &mut fr).map_err(|_| Left(fault(st.name)))? {
            return Ok(false);
        }
        let mut fr = bound.clone();
        let mut sent = Vec::new();
        (st.body)(&mut self.s, &mut fr, &mut sent).map_err(|_| Left(fault(st.name)))?;
        self.commit(i, &bound, None, sent).map_err(Left)?;
        Ok(true)
    }

    /// Fires the timeouts that have stayed enabled long enough.
    fn timeouts(&mut self) -> Result<(), String> {
        loop {
            let now = Instant::now();
            let enabled = self.enabled(Kind::Timeout)?;
            self.timers.retain(|key, _| enabled.contains(key));
            for key in &enabled {
                self.timers.entry(*key).or_insert(now);
            }
            let due = self
                .timers
                .iter()
                .filter(|(_, t)| now.duration_since(**t) >= self.timeout)
                .map(|(k, _)| *k)
                .min();
            let Some((i, inst)) = due else { return Ok(()) };
            self.timers.remove(&(i, inst));
            self.fire(i, inst)?;
        }
    }

    /// How long until the next timeout is due.
    fn next_timer(&self) -> Option<Duration> {
        let now = Instant::now();
        self.timers
            .values()
            .map(|t| (*t + self.timeout).saturating_duration_since(now))
            .min()
    }

    fn event(&mut self, e: Event) -> Result<(), String> {
        match e {
            Event::Frame(Frame::Data(env)) => {
                let key = (env.src, env.seq);
                if self.is_handled(env.src, env.seq) {
                    // A resend (its acknowledgement was lost, or is not out yet).
                    self.effects.acks.push(key);
                } else {
                    self.pending.entry(key).or_insert(env);
                    self.arrived.push(key);
                }
            }
            Event::Frame(Frame::Ack { from, seq }) => self.links[from].acked(seq),
            Event::Frame(Frame::Held { from, seq }) => self.links[from].held(seq, self.resend),
            Event::Input { name, args, reply } => self.input(&name, &args, reply)?,
            Event::Subscribe(tx) => self.subscribers.push(tx),
            Event::State(tx) => self.effects.notes.push((tx, Note::State(self.named_state()))),
        }
        Ok(())
    }

    /// Runs steps until none is enabled or the batch is full; true when full.
    fn steps(&mut self) -> Result<bool, String> {
        loop {
            if self.batch >= MAX_BATCH {
                return Ok(true);
            }
            if self.receive_one()? {
                continue;
            }
            let enabled = self.enabled(Kind::Rule)?;
            if enabled.is_empty() {
                return Ok(false);
            }
            let (i, inst) = enabled[self.rng.below(enabled.len() as u64) as usize];
            self.fire(i, inst)?;
        }
    }

    /// Whether the batch has effects that must not wait: messages to send
    /// or answers to callers.
    fn urgent(&self) -> bool {
        !self.effects.sends.is_empty() || !self.effects.notes.is_empty()
    }

    /// Whether anything waits for a release at all.
    fn owes(&self) -> bool {
        self.log.is_dirty() || !self.effects.acks.is_empty() || !self.arrived.is_empty()
    }

    fn settled(&self) -> bool {
        self.timers.is_empty() && self.links.iter().all(|l| l.settled())
    }
}

enum InputError {
    /// The caller's mistake: answered, the node goes on.
    Bad(String),
    /// The step failed to evaluate: the node stops.
    Left(String),
}
use InputError::{Bad, Left};

/// How long the acknowledgements of handled messages may wait for a sync
/// that something else needs (a message to send, an answer to a caller).
const ACK_DELAY: Duration = Duration::from_millis(2);

/// The node's loop: events in, steps, one sync, effects out; until the
/// event channel closes, a step fails, or (with `exit_when_idle`) nothing
/// has happened for that long.
///
/// A batch whose steps send nothing and answer no caller (a client's
/// handler of a reply, say) owes only acknowledgements: its sync waits up
/// to `ACK_DELAY` for a batch that must sync now, so that one sync serves
/// both. Until then nothing of it has left the node (the reply itself,
/// reported to subscribers, was logged by its sender).
pub fn run(node: &mut Node, rx: &Receiver<Event>, cfg: &Config) -> Result<(), String> {
    let mut idle_since: Option<Instant> = None;
    let mut owed: Option<Instant> = None;
    let mut more = true;
    loop {
        let mut wait = node.next_timer().unwrap_or(Duration::from_millis(50)).min(Duration::from_millis(50));
        if let Some(since) = owed {
            wait = wait.min(ACK_DELAY.saturating_sub(since.elapsed()));
        }
        if more {
            wait = Duration::ZERO;
        }
        let first = if wait.is_zero() {
            match rx.try_recv() {
                Ok(e) => Some(e),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => return Ok(()),
            }
        } else {
            match rx.recv_timeout(wait) {
                Ok(e) => Some(e),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
        };
        if let Some(e) = first {
            node.event(e)?;
            for _ in 0..4096 {
                match rx.try_recv() {
                    Ok(e) => node.event(e)?,
                    Err(_) => break,
                }
            }
        }
        more = node.steps()?;
        node.timeouts()?;
        let stepped = node.log.is_dirty();
        if node.urgent() || more || owed.is_some_and(|t| t.elapsed() >= ACK_DELAY) {
            node.release()?;
            owed = None;
        } else if node.owes() {
            owed.get_or_insert_with(Instant::now);
        }
        if stepped || more || owed.is_some() {
            idle_since = None;
            continue;
        }
        if let Some(limit) = cfg.exit_when_idle {
            if node.settled() {
                let since = *idle_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= limit {
                    node.log.trim()?;
                    eprintln!("{}: node {} idle, exiting", spec::SPEC, spec::NODES[node.pid]);
                    return Ok(());
                }
            } else {
                idle_since = None;
            }
        }
    }
}
