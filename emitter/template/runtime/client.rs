//! Calls from outside the cluster: the public API of a running node
//! ([`Handle`]) and the line-based client port over it.
//!
//! The port takes one request per line and answers each in order:
//! - `NAME ARG...` runs the node's `input NAME` with the parameters after
//!   the instance as integers (`true`/`false` for booleans; a parameter of
//!   several slots, a record say, as its flat slots in order); the
//!   answer, once the step is logged, is `ok`, `disabled` (its guard is
//!   false) or `error: WHY`;
//! - `state` answers `state VAR=VALUE ...`, the node's variables;
//! - `help` lists the inputs.
//!
//! Every message the node handles from then on is written to the
//! connection too, as `recv SENDER VARIANT FIELD=VALUE ...` (a value of
//! several slots is written `[a,b,...]`): the answers a client process of
//! the spec receives are its outputs. It is written as soon as a handler
//! takes the message, before that step is synced: the message itself is
//! in its sender's log already, and should this node die first it handles
//! the message again after its restart (so a caller may see it twice).

use std::fmt;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use super::node::Event;
use crate::prelude::*;
use crate::spec;

/// What a node tells a caller.
#[derive(Clone, Debug)]
pub enum Note {
    /// The answer to an input: `Ok(true)` ran and logged, `Ok(false)` its
    /// guard is false, `Err` a bad call.
    Answer(Result<bool, String>),
    /// A message the node handled.
    Output(Output),
    /// The node's variables, for `state`.
    State(Vec<(&'static str, Vec<i64>)>),
    /// A line of text (`help`).
    Text(String),
}

/// A message a node handled, as its callers see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The node that sent it.
    pub from: &'static str,
    pub variant: &'static str,
    /// Each field's name and flat value.
    pub fields: Vec<(&'static str, Vec<i64>)>,
    /// The message as a Rust value.
    pub msg: Option<spec::types::Msg>,
}

impl Output {
    pub fn of(from: usize, msg: &[i64]) -> Output {
        let tag = msg.first().copied().unwrap_or(0).clamp(0, spec::MESSAGES.len() as i64 - 1) as usize;
        let fields = spec::MSG_FIELDS[tag]
            .iter()
            .map(|(name, at, len)| (*name, msg[*at as usize..(*at + *len) as usize].to_vec()))
            .collect();
        Output { from: spec::NODES[from], variant: spec::MESSAGES[tag], fields, msg: spec::types::Msg::from_flat(msg) }
    }

    /// The value of a one-slot field.
    pub fn field(&self, name: &str) -> Option<i64> {
        self.fields.iter().find(|(n, v)| *n == name && v.len() == 1).map(|(_, v)| v[0])
    }
}

fn write_value(f: &mut fmt::Formatter<'_>, v: &[i64]) -> fmt::Result {
    match v {
        [x] => write!(f, "{x}"),
        _ => {
            write!(f, "[")?;
            for (i, x) in v.iter().enumerate() {
                write!(f, "{}{x}", if i > 0 { "," } else { "" })?;
            }
            write!(f, "]")
        }
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "recv {} {}", self.from, self.variant)?;
        for (name, v) in &self.fields {
            write!(f, " {name}=")?;
            write_value(f, v)?;
        }
        Ok(())
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Answer(Ok(true)) => write!(f, "ok"),
            Note::Answer(Ok(false)) => write!(f, "disabled"),
            Note::Answer(Err(e)) => write!(f, "error: {e}"),
            Note::Output(o) => write!(f, "{o}"),
            Note::State(vars) => {
                write!(f, "state")?;
                for (name, v) in vars {
                    write!(f, " {name}=")?;
                    write_value(f, v)?;
                }
                Ok(())
            }
            Note::Text(t) => write!(f, "{t}"),
        }
    }
}

/// A running node, for code in the same process: `runtime::start` gives one.
#[derive(Clone)]
pub struct Handle {
    pub(super) events: Sender<Event>,
}

const STOPPED: &str = "the node has stopped";

impl Handle {
    /// Runs input `name` (its short name, e.g. `Put`) with the flat slots
    /// of its parameters after the instance, and returns once the step is
    /// logged: `Ok(false)` when its guard is false. The generated calls
    /// (`spec::<process>::<input>`) take typed values.
    pub fn input(&self, name: &str, args: &[i64]) -> Result<bool, String> {
        let (tx, rx) = mpsc::channel();
        self.send_input(name, args, tx)?;
        loop {
            match rx.recv().map_err(|_| STOPPED.to_string())? {
                Note::Answer(a) => return a,
                _ => continue,
            }
        }
    }

    fn send_input(&self, name: &str, args: &[i64], reply: Sender<Note>) -> Result<(), String> {
        self.events
            .send(Event::Input { name: name.to_string(), args: args.to_vec(), reply })
            .map_err(|_| STOPPED.to_string())
    }

    /// Every message the node handles from now on (see the module's doc).
    pub fn subscribe(&self) -> Result<Receiver<Note>, String> {
        let (tx, rx) = mpsc::channel();
        self.events.send(Event::Subscribe(tx)).map_err(|_| STOPPED.to_string())?;
        Ok(rx)
    }

    /// The node's variables, flat, in declaration order: a process's
    /// `State::from_flat` makes them a Rust value.
    pub fn own_state(&self) -> Result<Vec<i64>, String> {
        Ok(self.state()?.into_iter().flat_map(|(_, v)| v).collect())
    }

    /// The node's variables (name, flat value), in declaration order.
    pub fn state(&self) -> Result<Vec<(&'static str, Vec<i64>)>, String> {
        let (tx, rx) = mpsc::channel();
        self.events.send(Event::State(tx)).map_err(|_| STOPPED.to_string())?;
        match rx.recv().map_err(|_| STOPPED.to_string())? {
            Note::State(v) => Ok(v),
            _ => Err("unexpected answer".into()),
        }
    }
}

/// The inputs of this node's process, as `help` lists them.
fn help(process: &ProcessDef) -> String {
    let mut out = Vec::new();
    for st in process.steps.iter().filter(|s| s.kind == Kind::Input) {
        let short = st.name.rsplit('.').next().unwrap_or(st.name);
        let params: Vec<String> = st.params[1..]
            .iter()
            .map(|p| if p.hi >= p.lo { format!("{}:{}..{}", p.name, p.lo, p.hi) } else { p.name.to_string() })
            .collect();
        out.push(format!("{short} {}", params.join(" ")).trim_end().to_string());
    }
    format!("inputs: {}; also: state, help", if out.is_empty() { "none".into() } else { out.join(", ") })
}

/// Serves the client port: a reader and a writer thread per connection.
pub fn port(listener: TcpListener, handle: Handle, process: &'static ProcessDef) {
    for stream in listener.incoming().flatten() {
        let handle = handle.clone();
        let Ok(read) = stream.try_clone() else { continue };
        let _ = stream.set_nodelay(true);
        let (tx, rx) = mpsc::channel::<Note>();
        if handle.events.send(Event::Subscribe(tx.clone())).is_err() {
            return;
        }
        let mut w = BufWriter::new(stream);
        thread::spawn(move || {
            // Notes in the order the node produced them; flush when none is waiting.
            while let Ok(note) = rx.recv() {
                let mut ok = writeln!(w, "{note}").is_ok();
                while let Ok(more) = rx.try_recv() {
                    ok &= writeln!(w, "{more}").is_ok();
                }
                if !ok || w.flush().is_err() {
                    return;
                }
            }
        });
        thread::spawn(move || serve_lines(read, &handle, &tx, process));
    }
}

fn serve_lines(read: TcpStream, handle: &Handle, tx: &Sender<Note>, process: &ProcessDef) {
    for line in BufReader::new(read).lines() {
        let Ok(line) = line else { return };
        let mut words = line.split_whitespace();
        let Some(name) = words.next() else { continue };
        let sent = match name {
            "state" => handle.events.send(Event::State(tx.clone())).is_ok(),
            "help" => tx.send(Note::Text(help(process))).is_ok(),
            _ => {
                let args: Result<Vec<i64>, String> = words
                    .map(|w| match w {
                        "true" => Ok(1),
                        "false" => Ok(0),
                        _ => w.parse().map_err(|_| format!("`{w}` is not an integer")),
                    })
                    .collect();
                match args {
                    Ok(args) => handle.send_input(name, &args, tx.clone()).is_ok(),
                    Err(e) => tx.send(Note::Answer(Err(e))).is_ok(),
                }
            }
        };
        if !sent {
            return;
        }
    }
}
