//! Links between nodes. Each peer has an outbox and one thread that
//! writes it to a TCP connection, connecting again whenever the
//! connection fails. A message stays in the outbox until the peer
//! acknowledges it (it handled the message and logged that), and is
//! written again every resend interval until then; a message the peer
//! holds without handling it yet is written again only every
//! `HELD_FACTOR` intervals, in case the peer restarts and forgets it.
//! Every incoming connection has a thread that turns frames into events
//! for the node.

use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use super::node::Event;
use super::wire::{self, Frame};
use super::{Faults, Rng};

const HELD_FACTOR: u32 = 20;

struct Unacked {
    frame: Vec<u8>,
    due: Instant,
    held: bool,
}

#[derive(Default)]
struct Outbox {
    next_seq: u64,
    unacked: BTreeMap<u64, Unacked>,
    /// Acknowledgements (and held notes) to write to this peer.
    control: Vec<Vec<u8>>,
}

/// The outgoing side of the link to one peer.
#[derive(Default)]
pub struct Link {
    outbox: Mutex<Outbox>,
    wake: Condvar,
}

impl Link {
    fn lock(&self) -> MutexGuard<'_, Outbox> {
        // A sender thread that panicked holding the lock left the outbox
        // as it was between two whole operations: still usable.
        self.outbox.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The sequence number the next message to this peer gets.
    pub fn take_seq(&self) -> u64 {
        let mut ob = self.lock();
        let seq = ob.next_seq;
        assert!(!ob.unacked.contains_key(&seq), "a fresh sequence number names no message yet");
        ob.next_seq += 1;
        seq
    }

    /// A message (as a whole frame) to write from `at` on until acknowledged.
    pub fn queue(&self, seq: u64, frame: Vec<u8>, at: Instant) {
        let mut ob = self.lock();
        ob.next_seq = ob.next_seq.max(seq + 1);
        // Exactly once: a sequence number names one message, whether it is
        // queued when sent or again from the log after a restart.
        if let Some(old) = ob.unacked.get(&seq) {
            assert!(old.frame == frame, "sequence number {seq} names two messages");
        }
        ob.unacked.insert(seq, Unacked { frame, due: at, held: false });
        drop(ob);
        self.wake.notify_one();
    }

    /// An acknowledgement or held note to write once.
    pub fn control(&self, f: &Frame) {
        self.lock().control.push(wire::encode(f));
        self.wake.notify_one();
    }

    /// The peer handled `seq`: it is never written again. (An
    /// acknowledgement of a number never sent comes from a peer, not from
    /// this node's state: it is ignored, not asserted.)
    pub fn acked(&self, seq: u64) {
        self.lock().unacked.remove(&seq);
    }

    pub fn held(&self, seq: u64, resend: Duration) {
        if let Some(u) = self.lock().unacked.get_mut(&seq).filter(|u| !u.held) {
            u.held = true;
            u.due = Instant::now() + resend * HELD_FACTOR;
        }
    }

    /// Nothing to write but messages the peer holds.
    pub fn settled(&self) -> bool {
        let ob = self.lock();
        ob.control.is_empty() && ob.unacked.values().all(|u| u.held)
    }

    /// Waits until something is due, then takes it (frames, concatenated).
    fn next_batch(&self, resend: Duration) -> Vec<u8> {
        let mut ob = self.lock();
        loop {
            let now = Instant::now();
            let mut out = Vec::new();
            for c in ob.control.drain(..) {
                out.extend(c);
            }
            let mut next: Option<Instant> = None;
            if let Some((&last, _)) = ob.unacked.last_key_value() {
                assert!(last < ob.next_seq, "every unacknowledged message was numbered");
            }
            for u in ob.unacked.values_mut() {
                if u.due <= now {
                    out.extend_from_slice(&u.frame);
                    u.due = now + if u.held { resend * HELD_FACTOR } else { resend };
                }
                next = Some(next.map_or(u.due, |n| n.min(u.due)));
            }
            if !out.is_empty() {
                return out;
            }
            let wait = next.map_or(Duration::from_secs(1), |n| n.saturating_duration_since(now));
            ob = self
                .wake
                .wait_timeout(ob, wait.max(Duration::from_micros(100)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// The thread that writes `link` to the peer at `addr`, for ever.
pub fn sender(link: Arc<Link>, addr: String, resend: Duration, faults: Faults, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut conn: Option<TcpStream> = None;
    loop {
        let batch = link.next_batch(resend);
        if conn.is_none() {
            conn = connect(&addr);
        }
        let Some(c) = conn.as_mut() else {
            // The peer is down: what was due is written again when due.
            thread::sleep(resend.min(Duration::from_millis(50)));
            continue;
        };
        let bytes = if faults.drop > 0.0 || faults.dup > 0.0 {
            with_faults(&batch, &faults, &mut rng)
        } else {
            batch
        };
        if c.write_all(&bytes).and_then(|()| c.flush()).is_err() {
            conn = None;
        }
    }
}

/// The batch with each frame dropped or doubled at random.
fn with_faults(batch: &[u8], faults: &Faults, rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::with_capacity(batch.len());
    let mut at = 0;
    while at + 4 <= batch.len() {
        let len = u32::from_le_bytes([batch[at], batch[at + 1], batch[at + 2], batch[at + 3]]) as usize;
        let frame = &batch[at..(at + 4 + len).min(batch.len())];
        at += 4 + len;
        if rng.chance(faults.drop) {
            continue;
        }
        out.extend_from_slice(frame);
        if rng.chance(faults.dup) {
            out.extend_from_slice(frame);
        }
    }
    out
}

fn connect(addr: &str) -> Option<TcpStream> {
    let sa: SocketAddr = addr.to_socket_addrs().ok()?.next()?;
    let c = TcpStream::connect_timeout(&sa, Duration::from_millis(200)).ok()?;
    let _ = c.set_nodelay(true);
    let _ = c.set_write_timeout(Some(Duration::from_secs(2)));
    Some(c)
}

/// Accepts peers' connections; each one's frames become events.
pub fn listener(listener: TcpListener, events: Sender<Event>) {
    for stream in listener.incoming().flatten() {
        let events = events.clone();
        thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            let mut r = BufReader::new(stream);
            while let Ok(p) = wire::read_frame(&mut r) {
                // A peer speaking something else loses its connection.
                let Some(f) = wire::decode(&p) else { return };
                if events.send(Event::Frame(f)).is_err() {
                    return;
                }
            }
        });
    }
}
