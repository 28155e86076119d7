//! The progress display: an indicatif line on a terminal, otherwise a plain
//! line on stderr every few seconds (for batch jobs' logs).

use crate::output::errln;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::engine::progress::{Progress, Snapshot};

/// Seconds between plain progress lines when stderr is not a terminal.
const PLAIN_INTERVAL: Duration = Duration::from_secs(5);

pub struct Display {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// Resident memory of this process, from /proc (0 where unavailable).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

pub fn human(n: f64) -> String {
    match n {
        n if n >= 1e9 => format!("{:.2}G", n / 1e9),
        n if n >= 1e6 => format!("{:.2}M", n / 1e6),
        n if n >= 1e4 => format!("{:.1}k", n / 1e3),
        n => format!("{n:.0}"),
    }
}

fn line(s: &Snapshot, elapsed: f64, rate: f64) -> String {
    format!(
        "depth {} | distinct {} | generated {} ({}/s) | frontier {} ({} done) | memory {} MiB | {:.0}s",
        s.depth,
        human(s.distinct as f64),
        human(s.generated as f64),
        human(rate),
        human(s.frontier as f64),
        human(s.expanded as f64),
        rss_bytes() >> 20,
        elapsed
    )
}

impl Display {
    /// Starts the display; `enabled` false shows nothing.
    pub fn start(progress: Arc<Progress>, enabled: bool) -> Display {
        let stop = Arc::new(AtomicBool::new(false));
        if !enabled {
            return Display { stop, handle: None };
        }
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let start = Instant::now();
            let terminal = std::io::stderr().is_terminal();
            let bar = terminal.then(|| {
                let b = ProgressBar::new_spinner();
                b.set_style(
                    ProgressStyle::with_template("{spinner} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                b
            });
            let mut last_plain = Instant::now();
            let (mut last_generated, mut last_t) = (0u64, Instant::now());
            let mut rate = 0.0;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let s = progress.snapshot();
                let dt = last_t.elapsed().as_secs_f64();
                if dt >= 1.0 {
                    rate = s.generated.saturating_sub(last_generated) as f64 / dt;
                    (last_generated, last_t) = (s.generated, Instant::now());
                }
                let elapsed = start.elapsed().as_secs_f64();
                match &bar {
                    Some(b) => {
                        b.set_message(line(&s, elapsed, rate));
                        b.tick();
                    }
                    None if last_plain.elapsed() >= PLAIN_INTERVAL => {
                        errln!("fathom: {}", line(&s, elapsed, rate));
                        last_plain = Instant::now();
                    }
                    None => {}
                }
            }
            if let Some(b) = bar {
                b.finish_and_clear();
            }
        });
        Display { stop, handle: Some(handle) }
    }

    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
