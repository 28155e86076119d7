//! The one path for every byte the binary prints.
//!
//! A reader may close its end early (`fathom check spec | head -1`). As in
//! ripgrep, the first failed write closes that stream for the rest of the
//! run, quietly: nothing panics, nothing more is tried, and the exit code
//! still says what the run found. `print!` and `eprint!` panic instead, so
//! the binary uses these macros and nothing else.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Where a write goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout = 0,
    Stderr = 1,
}

static CLOSED: [AtomicBool; 2] = [AtomicBool::new(false), AtomicBool::new(false)];

/// Writes `args` to `stream` unless an earlier write to it failed. Each call
/// is flushed, so a pipe that closes is seen at the write that met it.
pub fn write(stream: Stream, args: fmt::Arguments<'_>) {
    let closed = &CLOSED[stream as usize];
    if closed.load(Ordering::Relaxed) {
        return;
    }
    let written = match stream {
        Stream::Stdout => {
            let mut out = io::stdout().lock();
            out.write_fmt(args).and_then(|()| out.flush())
        }
        Stream::Stderr => io::stderr().lock().write_fmt(args),
    };
    if written.is_err() {
        closed.store(true, Ordering::Relaxed);
    }
}

/// Writes a block of text, ending it with a newline if it has none.
pub fn write_block(stream: Stream, text: &str) {
    let end = if text.ends_with('\n') { "" } else { "\n" };
    write(stream, format_args!("{text}{end}"));
}

/// Whether a write to `stream` has failed (the reader went away).
pub fn closed(stream: Stream) -> bool {
    CLOSED[stream as usize].load(Ordering::Relaxed)
}

/// `print!` that never panics.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write($crate::output::Stream::Stdout, format_args!($($arg)*))
    };
}

/// `println!` that never panics.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::write(
            $crate::output::Stream::Stdout,
            format_args!("{}\n", format_args!($($arg)*)),
        )
    };
}

/// `eprint!` that never panics.
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::output::write($crate::output::Stream::Stderr, format_args!($($arg)*))
    };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    () => {
        $crate::output::write($crate::output::Stream::Stderr, format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write(
            $crate::output::Stream::Stderr,
            format_args!("{}\n", format_args!($($arg)*)),
        )
    };
}

pub(crate) use {err, errln, out, outln};
