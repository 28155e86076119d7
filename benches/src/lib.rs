//! Benchmarks of Fathom. `benches/expand.rs` (criterion) measures the
//! expansion loop; `compare.py` runs `fathom check` beside TLC and Rumur on
//! the same spec and machine and writes the ratios to `results/`
//! (`symmetry.py` the same with symmetry reduction). The bins measure one
//! thing each; this library holds what they share.

use std::collections::HashMap;

/// The command line of the spec-reading bins (`workgroup_dups`,
/// `canon_cost`): `SPEC [NAME=VALUE]...`, where `option` names the bin's
/// own numeric setting among the constants. Returns the path, the compiled
/// model and the option's value (or `default`); exits 2 or 3, with a line
/// on stderr, on a bad command line or spec.
pub fn spec_args(tool: &str, option: &str, default: i64) -> (String, model::Model, i64) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: {tool} SPEC [NAME=VALUE]... [{option}={default}]");
        std::process::exit(2);
    };
    let mut consts = HashMap::new();
    let mut value = default;
    for a in &args[1..] {
        let Some((k, v)) = a.split_once('=') else {
            continue;
        };
        let Ok(v) = v.parse::<i64>() else { continue };
        if k == option {
            value = v;
        } else {
            consts.insert(k.to_string(), v);
        }
    }
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{tool}: {path}: {e}");
            std::process::exit(2);
        }
    };
    let source = model::Source::new(path.clone(), text);
    let Ok(m) = model::compile(&source, &consts) else {
        eprintln!("{tool}: {path} does not compile");
        std::process::exit(3);
    };
    (path.clone(), m, value)
}
