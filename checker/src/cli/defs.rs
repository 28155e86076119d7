//! Every command and flag of the `fathom` command line (../shared/CLI.md is
//! the contract), with the parsers of their values. `--help` is generated
//! from the doc comments here.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "fathom",
    version,
    about = "A model checker for specifications of concurrent and distributed systems"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Explore every reachable state of SPEC and check its properties
    Check(CheckArgs),
    /// Random walks through SPEC with the same checks
    Simulate(SimulateArgs),
    /// Write a runnable implementation of SPEC: a Rust crate whose binary runs one node
    Emit(EmitArgs),
    /// Check an implementation's step logs against SPEC
    Validate(ValidateArgs),
    /// Step through SPEC by hand in a browser: a local page served on 127.0.0.1
    Explore(ExploreArgs),
}

#[derive(Args, Debug)]
pub struct ExploreArgs {
    /// The spec file (.fathom, .dve or .m)
    pub spec: PathBuf,
    /// Override a `const` of the spec, e.g. `--const N=5` (repeatable)
    #[arg(long = "const", value_name = "NAME=VALUE", value_parser = parse_const)]
    pub consts: Vec<(String, i64)>,
    /// The port on 127.0.0.1 (default: any free one)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub port: u16,
    /// Start with this trace (written by `fathom check --trace-format json`)
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// A hardware GPU if there is one, else the CPU
    Auto,
    Cpu,
    Gpu,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    /// Each step's rule instance and the variables it changed
    Text,
    /// Fathom's JSON trace (docs/cli.md, "Traces")
    Json,
    /// The Informal Trace Format (Apalache ADR-015), as Quint reads it
    Itf,
    /// A self-contained page: the steps, what changed, and a message
    /// sequence diagram for specs with processes
    Html,
}

/// Options shared by `check` and `simulate`.
#[derive(Args, Debug)]
pub struct SpecArgs {
    /// The spec file (NAME.fathom)
    pub spec: PathBuf,
    /// Override a `const` of the spec, e.g. `--const N=5` (repeatable)
    #[arg(long = "const", value_name = "NAME=VALUE", value_parser = parse_const)]
    pub consts: Vec<(String, i64)>,
    /// Do not report states with no enabled rule
    #[arg(long)]
    pub no_deadlock: bool,
    /// CPU threads (default: all cores)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub threads: Option<u32>,
    /// How a violation's trace is written
    #[arg(long, value_enum, default_value_t = TraceFormat::Text)]
    pub trace_format: TraceFormat,
    /// Write the trace to FILE instead of the standard output
    #[arg(long, value_name = "FILE")]
    pub trace_out: Option<PathBuf>,
    /// Print one JSON summary object on stdout; progress goes to stderr
    #[arg(long)]
    pub json: bool,
    /// No progress display
    #[arg(long, short)]
    pub quiet: bool,
    /// DVE models: a runtime error (a value outside its type, an index
    /// outside its array, division by zero) is a violation (`stop`), or
    /// leads to DiVinE 2's shared error state and the search goes on
    /// (`state`, BEEM's counts); docs/dve.md
    #[arg(long, value_enum, default_value_t = DveErrors::Stop)]
    pub dve_errors: DveErrors,
    /// What a deadlock is: no rule enabled (`stuck`), or no enabled rule
    /// that changes the state (`stuttering`). Default: the language's —
    /// `stuttering` for Murphi (CMurphi's and Rumur's), else `stuck`
    #[arg(long, value_enum, value_name = "KIND")]
    pub deadlock: Option<DeadlockArg>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DeadlockArg {
    Stuck,
    Stuttering,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DveErrors {
    Stop,
    State,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Where states are expanded
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
    /// Let `gpu`/`auto` use a software adapter (Mesa lavapipe)
    #[arg(long)]
    pub allow_software: bool,
    /// GPU memory the search may use, e.g. 40G (default: on a hardware GPU
    /// the most of 96G, 64G, 48G, ... it can allocate; 256M on software)
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub gpu_memory: Option<u64>,
    /// Stop expanding at depth N (an initial state is at depth 1)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_depth: Option<u32>,
    /// RAM budget for the visited set and queues, e.g. 512M, 16G; past it, disk
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory: Option<u64>,
    /// Where disk tiers, the trace log and checkpoints live
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Checkpoint at this interval, e.g. 10m (also on SIGINT/SIGTERM)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub checkpoint_every: Option<Duration>,
    /// Continue a checkpointed run
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
    /// Fingerprint width in bits
    #[arg(long, value_name = "BITS", default_value = "64", value_parser = ["64", "128"])]
    pub fingerprint: String,
    /// Per rule: instances enabled, successors generated, new states found;
    /// rules never enabled are flagged.
    #[arg(long)]
    pub coverage: bool,
    /// Explore every state: symmetric types count as plain ranges
    #[arg(long)]
    pub no_symmetry: bool,
    /// Keep going after a violation: report each violated property once,
    /// with its shortest trace (exit code 1 all the same)
    #[arg(long = "continue")]
    pub keep_going: bool,
    /// Before the search, check on STATES sampled reachable states (default
    /// 1000) that the spec really is symmetric in its symmetric types
    #[arg(
        long,
        value_name = "STATES",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "1000"
    )]
    pub symmetry_audit: Option<usize>,
}

#[derive(Args, Debug)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Seed of the random walks: the same seed gives the same walks
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Number of random walks
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub walks: u64,
    /// Steps per walk at most
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub walk_length: u64,
}

#[derive(Args, Debug)]
pub struct EmitArgs {
    /// The spec file (NAME.fathom); it must have passed `fathom check`
    pub spec: PathBuf,
    /// The directory to write the crate into (created if needed)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Override a `const` of the spec, e.g. `--const N=5` (repeatable)
    #[arg(long = "const", value_name = "NAME=VALUE", value_parser = parse_const)]
    pub consts: Vec<(String, i64)>,
    /// Emit without a passing check (prints a warning)
    #[arg(long)]
    pub force: bool,
    /// The check that emit runs does not report deadlocks
    #[arg(long)]
    pub no_deadlock: bool,
    /// Print one JSON object on stdout (files written, how the check was found)
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// The spec the implementation was emitted from
    pub spec: PathBuf,
    /// Step logs of the nodes (`DIR/log.jsonl`), one per node
    #[arg(required = true)]
    pub logs: Vec<PathBuf>,
    /// Also write the replayed run as a page: each node a lane, its
    /// messages drawn, up to the first invalid step (docs/trace-html.md)
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Override a `const` of the spec, e.g. `--const N=5` (repeatable)
    #[arg(long = "const", value_name = "NAME=VALUE", value_parser = parse_const)]
    pub consts: Vec<(String, i64)>,
    /// Print one JSON object on stdout
    #[arg(long)]
    pub json: bool,
}

/// `NAME=VALUE`, VALUE an integer (or `true`/`false`).
pub fn parse_const(s: &str) -> Result<(String, i64), String> {
    let Some((name, value)) = s.split_once('=') else {
        return Err(format!("expected NAME=VALUE, e.g. N=5, got `{s}`"));
    };
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("`{name}` is not a constant name"));
    }
    let value = match value.trim() {
        "true" => 1,
        "false" => 0,
        v => v
            .parse::<i64>()
            .map_err(|_| format!("`{v}` is not an integer"))?,
    };
    Ok((name.to_string(), value))
}

/// `512M`, `16G`, `1024K`, `100000` (bytes); binary units.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("expected a size like 512M or 16G, got `{s}`"))?;
    let mult: u64 = match unit
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return Err(format!("unknown size unit in `{s}`; use K, M, G or T")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size `{s}` is too large"))
}

/// `90s`, `10m`, `2h`, `1d`; a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("expected a duration like 10m or 2h, got `{s}`"))?;
    let secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("unknown duration unit in `{s}`; use s, m, h or d")),
    };
    Ok(Duration::from_secs(n * secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn const_values() {
        assert_eq!(parse_const("N=5"), Ok(("N".to_string(), 5)));
        assert_eq!(parse_const("Flag=true"), Ok(("Flag".to_string(), 1)));
        assert_eq!(parse_const("N=-2"), Ok(("N".to_string(), -2)));
        assert!(parse_const("N").is_err());
        assert!(parse_const("N=x").is_err());
        assert!(parse_const("=3").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("16G"), Ok(16 << 30));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("M").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("10x").is_err());
    }

    #[test]
    fn definitions_are_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
