//! The wire format between nodes: frames of `[u32 little-endian length]
//! [payload]`; a payload is a kind byte, then zigzag varints. Messages are
//! their flat values (`spec::MSG_LEN` integers), so a message of a few
//! small fields takes a few bytes.

use std::io::Read;

use crate::prelude::{get_varint, put_varint};
use crate::spec;

const DATA: u8 = 1;
const ACK: u8 = 2;
const HELD: u8 = 3;
/// No frame is larger: a peer that says otherwise is not speaking this format.
const MAX_FRAME: usize = 1 << 20;

/// A message on the wire: who sent it, its number on that link (from 0,
/// per destination), the sender's clock after the sending step, and the
/// message's flat value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub src: usize,
    pub seq: u64,
    pub clock: Vec<u64>,
    pub msg: Vec<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    Data(Envelope),
    /// `from` handled message `seq` and logged it: never send it again.
    Ack { from: usize, seq: u64 },
    /// `from` holds message `seq` but no handler takes it yet: send it
    /// again only rarely (in case `from` restarts and forgets it).
    Held { from: usize, seq: u64 },
}

/// The frame's bytes, length prefix included.
pub fn encode(f: &Frame) -> Vec<u8> {
    let mut p = vec![0u8; 4];
    match f {
        Frame::Data(e) => {
            p.push(DATA);
            put_varint(&mut p, e.src as i64);
            put_varint(&mut p, e.seq as i64);
            for c in &e.clock {
                put_varint(&mut p, *c as i64);
            }
            for v in &e.msg {
                put_varint(&mut p, *v);
            }
        }
        Frame::Ack { from, seq } | Frame::Held { from, seq } => {
            p.push(if matches!(f, Frame::Ack { .. }) { ACK } else { HELD });
            put_varint(&mut p, *from as i64);
            put_varint(&mut p, *seq as i64);
        }
    }
    assert!(p.len() - 4 <= MAX_FRAME, "a frame this node writes is one its peers read");
    let len = (p.len() - 4) as u32;
    p[..4].copy_from_slice(&len.to_le_bytes());
    // The pair check: what goes on the wire reads back as what was meant.
    debug_assert_eq!(decode(&p[4..]).as_ref(), Some(f), "a frame decodes as encoded");
    p
}

/// A payload (without its length) back to a frame; `None` for anything
/// this spec's nodes would not have sent.
pub fn decode(p: &[u8]) -> Option<Frame> {
    let n = spec::NODES.len();
    let node = |v: i64| usize::try_from(v).ok().filter(|s| *s < n);
    let mut at = 1;
    let frame = match *p.first()? {
        DATA => {
            let src = node(get_varint(p, &mut at)?)?;
            let seq = u64::try_from(get_varint(p, &mut at)?).ok()?;
            let mut clock = Vec::with_capacity(n);
            for _ in 0..n {
                clock.push(u64::try_from(get_varint(p, &mut at)?).ok()?);
            }
            let mut msg = Vec::with_capacity(spec::MSG_LEN);
            for _ in 0..spec::MSG_LEN {
                msg.push(get_varint(p, &mut at)?);
            }
            Frame::Data(Envelope { src, seq, clock, msg })
        }
        kind @ (ACK | HELD) => {
            let from = node(get_varint(p, &mut at)?)?;
            let seq = u64::try_from(get_varint(p, &mut at)?).ok()?;
            if kind == ACK {
                Frame::Ack { from, seq }
            } else {
                Frame::Held { from, seq }
            }
        }
        _ => return None,
    };
    (at == p.len()).then_some(frame)
}

/// Reads one frame's payload.
pub fn read_frame(r: &mut impl Read) -> std::io::Result<Vec<u8>> {
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
