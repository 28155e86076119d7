//! The step log (`DIR/log.jsonl`): one JSON object per step, appended and
//! fsynced before the step's effects (messages, acknowledgements, answers
//! to clients) leave the node, so it is also the node's write-ahead log.
//! `fathom validate` reads these lines; a restarted node reads them back
//! (`recover`).
//!
//! A step line: `{"node","pid","clock","rule","args","recv","sent","state"}`
//! where `recv` is `null` or `{"from","seq","msg"}`, `sent` lists
//! `{"to","seq","msg"}`, and `state` is the node's variables after the
//! step (flat, in declaration order), so its durable writes are there.
//! The file may end in zero bytes (see [`StepLog`]); the log ends at the
//! first one.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

/// The open log of this node. The file is zero-filled ahead of the lines
/// (`AHEAD` at a time): a sync that does not grow the file writes data
/// only, with no metadata for the filesystem's journal to commit, which
/// keeps syncs short and steady (write-ahead logs such as etcd's do the
/// same). A line never holds a zero byte, so the log ends at the first.
pub struct StepLog {
    file: File,
    /// Lines appended since the last `sync`.
    buf: Vec<u8>,
    /// Where the next line goes: the end of the synced lines.
    end: u64,
    /// The file's length: zeros from `end` to here.
    zeroed: u64,
}

const AHEAD: u64 = 8 << 20;

impl StepLog {
    /// Opens (or creates) `dir/log.jsonl`; returns it and its previous
    /// complete lines. A torn last line (the node was killed while writing
    /// it, before its fsync, so the step never took effect) is cut off.
    pub fn open(dir: &Path) -> Result<(StepLog, String), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join("log.jsonl");
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let data = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
        let keep = bytes[..data].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        if keep < bytes.len() {
            file.set_len(keep as u64)
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("cannot cut the end of {}: {e}", path.display()))?;
        }
        let text = String::from_utf8(bytes[..keep].to_vec())
            .map_err(|_| format!("{} is not UTF-8", path.display()))?;
        let end = keep as u64;
        Ok((StepLog { file, buf: Vec::new(), end, zeroed: end }, text))
    }

    pub fn append(&mut self, line: &str) {
        // A step is one line: recovery splits on newlines.
        debug_assert!(!line.contains('\n'), "a step record is one line");
        self.buf.extend_from_slice(line.as_bytes());
        self.buf.push(b'\n');
    }

    pub fn is_dirty(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Writes what was appended and waits until it is on disk.
    pub fn sync(&mut self) -> Result<(), String> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let err = |e: std::io::Error| format!("cannot write the step log: {e}");
        let needed = self.end + self.buf.len() as u64;
        if needed > self.zeroed {
            self.zero_to(needed + AHEAD)?;
        }
        self.file.seek(SeekFrom::Start(self.end)).map_err(err)?;
        self.file.write_all(&self.buf).map_err(err)?;
        self.file.sync_data().map_err(err)?;
        self.end = needed;
        self.buf.clear();
        assert!(self.end <= self.zeroed, "lines are written over zeros, never past them");
        Ok(())
    }

    /// Zero-fills ahead when less than a quarter of `AHEAD` is left: done
    /// after a batch's effects are out, so that no step waits for it.
    pub fn fill_ahead(&mut self) -> Result<(), String> {
        if self.zeroed - self.end < AHEAD / 4 {
            self.zero_to(self.end + AHEAD)?;
        }
        Ok(())
    }

    fn zero_to(&mut self, to: u64) -> Result<(), String> {
        let err = |e: std::io::Error| format!("cannot extend the step log: {e}");
        let zeros = vec![0u8; (to - self.zeroed) as usize];
        self.file.seek(SeekFrom::Start(self.zeroed)).map_err(err)?;
        self.file.write_all(&zeros).map_err(err)?;
        self.file.sync_all().map_err(err)?;
        self.zeroed = to;
        Ok(())
    }

    /// Cuts the zeros after the last line (on a clean exit).
    pub fn trim(&mut self) -> Result<(), String> {
        self.sync()?;
        self.file
            .set_len(self.end)
            .and_then(|()| self.file.sync_all())
            .map_err(|e| format!("cannot trim the step log: {e}"))?;
        self.zeroed = self.end;
        Ok(())
    }
}

/// What a restarted node takes back from its log.
#[derive(Debug, Default)]
pub struct Recovered {
    pub steps: usize,
    pub clock: Vec<u64>,
    /// The node's variables after its last step.
    pub state: Option<Vec<i64>>,
    /// Every message it sent: (to, seq, msg, the clock of the sending step).
    pub sent: Vec<(usize, u64, Vec<i64>, Vec<u64>)>,
    /// Every message it handled: (from, seq).
    pub handled: Vec<(usize, u64)>,
}

/// Reads back the complete lines of a log.
pub fn recover(text: &str) -> Result<Recovered, String> {
    let mut r = Recovered::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| format!("the step log's line {}: {what}", i + 1);
        let j = parse_json(line).ok_or_else(|| bad("not a JSON object"))?;
        r.steps += 1;
        let clock = j.get("clock").and_then(J::ints).ok_or_else(|| bad("no clock"))?;
        r.clock = clock.iter().map(|x| (*x).max(0) as u64).collect();
        r.state = Some(j.get("state").and_then(J::ints).ok_or_else(|| bad("no state"))?);
        if let Some(J::Arr(sent)) = j.get("sent") {
            for m in sent {
                let (Some(to), Some(seq), Some(msg)) = (
                    m.get("to").and_then(J::int),
                    m.get("seq").and_then(J::int),
                    m.get("msg").and_then(J::ints),
                ) else {
                    return Err(bad("a bad `sent` entry"));
                };
                r.sent.push((to.max(0) as usize, seq.max(0) as u64, msg, r.clock.clone()));
            }
        }
        if let Some(rv) = j.get("recv").filter(|x| !matches!(x, J::Null)) {
            let (Some(from), Some(seq)) = (rv.get("from").and_then(J::int), rv.get("seq").and_then(J::int)) else {
                return Err(bad("a bad `recv` entry"));
            };
            r.handled.push((from.max(0) as usize, seq.max(0) as u64));
        }
    }
    Ok(r)
}

pub fn json_str(s: &str) -> String {
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

pub fn json_ints<T: std::fmt::Display>(v: &[T]) -> String {
    let mut out = String::from("[");
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&x.to_string());
    }
    out.push(']');
    out
}

// A small JSON reader for the lines this runtime writes (the emitted crate
// depends on nothing but std, so it builds offline).

#[derive(Debug)]
enum J {
    Null,
    Num(i64),
    Str,
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
    let v = parse_value(b, &mut at, 0)?;
    skip_ws(b, &mut at);
    (at == b.len()).then_some(v)
}

fn skip_ws(b: &[u8], at: &mut usize) {
    while *at < b.len() && b[*at].is_ascii_whitespace() {
        *at += 1;
    }
}

fn parse_value(b: &[u8], at: &mut usize, depth: u32) -> Option<J> {
    if depth > 32 {
        return None;
    }
    skip_ws(b, at);
    match *b.get(*at)? {
        b'n' => {
            let end = *at + 4;
            (b.get(*at..end)? == b"null").then(|| {
                *at = end;
                J::Null
            })
        }
        b'"' => parse_str(b, at).map(|_| J::Str),
        b'[' => {
            *at += 1;
            let mut xs = Vec::new();
            skip_ws(b, at);
            if b.get(*at) == Some(&b']') {
                *at += 1;
                return Some(J::Arr(xs));
            }
            loop {
                xs.push(parse_value(b, at, depth + 1)?);
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
                fields.push((k, parse_value(b, at, depth + 1)?));
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
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
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
