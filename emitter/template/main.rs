//! One node of the cluster: `NODE_BINARY --cluster FILE --node NAME --dir DIR`.
//! Copied by `fathom emit` (with this crate's name filled in).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use {{crate}}::{runtime, spec};

const USAGE: &str = "usage: NODE_BINARY --cluster FILE --node NAME --dir DIR [--client ADDR]
       [--timeout-ms N] [--resend-ms N] [--exit-when-idle-ms N] [--seed N]
       [--drop P] [--dup P] [--delay-ms N]

  --cluster FILE   one line per node: NAME ADDRESS (e.g. `RMgr[0] 127.0.0.1:7001`); # comments
  --node NAME      which node this is
  --dir DIR        where this node's step log (log.jsonl) lives; keep it across restarts
  --client ADDR    a line-based port for `input` steps: `NAME ARG...` -> ok | disabled | error: ...
  --timeout-ms N   how long a `timeout` step stays enabled before it fires (default 500)
  --resend-ms N    how often an unacknowledged message is sent again (default 100)
  --exit-when-idle-ms N  exit after N ms with nothing to do (default: run until killed)
  --seed N         seed of the choice among enabled steps and of injected faults (default 1)
  --drop P, --dup P, --delay-ms N  faults injected on the wire (probabilities in 0..1)

exit codes: 0 idle exit, 1 the node stopped (a step left the spec, the log failed), 2 usage";

fn main() -> ExitCode {
    match parse(std::env::args().skip(1).collect()) {
        Ok(cfg) => match runtime::run(cfg) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{}: {e}", spec::SPEC);
                ExitCode::from(1)
            }
        },
        Err(e) if e.is_empty() => {
            println!("{USAGE}\n\nnodes: {}", spec::NODES.join(", "));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn parse(args: Vec<String>) -> Result<runtime::Config, String> {
    let mut cluster = None;
    let mut node = None;
    let mut dir = None;
    let mut cfg = runtime::Config::new("", Vec::new(), PathBuf::new());
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        let value = it.next().ok_or_else(|| format!("`{flag}` needs a value"))?;
        let int = |v: &str| v.parse::<u64>().map_err(|_| format!("`{flag}`: `{v}` is not a whole number"));
        let prob = |v: &str| match v.parse::<f64>() {
            Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
            _ => Err(format!("`{flag}`: `{v}` is not a probability in 0..1")),
        };
        match flag.as_str() {
            "--cluster" => cluster = Some(value),
            "--node" => node = Some(value),
            "--dir" => dir = Some(PathBuf::from(value)),
            "--client" => cfg.client = Some(value),
            "--timeout-ms" => cfg.timeout = Duration::from_millis(int(&value)?),
            "--resend-ms" => cfg.resend = Duration::from_millis(int(&value)?.max(1)),
            "--exit-when-idle-ms" => cfg.exit_when_idle = Some(Duration::from_millis(int(&value)?)),
            "--seed" => cfg.seed = int(&value)?,
            "--drop" => cfg.faults.drop = prob(&value)?,
            "--dup" => cfg.faults.dup = prob(&value)?,
            "--delay-ms" => cfg.faults.delay_ms = int(&value)?,
            _ => return Err(format!("unknown flag `{flag}`")),
        }
    }
    let cluster = cluster.ok_or("--cluster is required")?;
    cfg.node = node.ok_or("--node is required")?;
    cfg.dir = dir.ok_or("--dir is required")?;
    cfg.cluster = runtime::read_cluster(std::path::Path::new(&cluster))?;
    Ok(cfg)
}
