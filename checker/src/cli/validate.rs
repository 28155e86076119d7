//! `fathom validate SPEC LOG...`: whether an emitted implementation's step
//! logs are a behavior of the spec (`crate::validate`). Exit 0 when they
//! are, 1 with the first step that is not, 3 for a spec error, 4 for a log
//! that cannot be read.

use super::defs::ValidateArgs;
use super::{Exit, RunError, load_spec};
use crate::output::{err, errln, outln};
use crate::validate::{self, Invalid};

pub(super) fn run(args: &ValidateArgs) -> Exit {
    let loaded = match load_spec(&args.spec, &args.consts) {
        Ok(l) => l,
        Err(e) => {
            err!("{e}");
            if !e.to_string().ends_with('\n') {
                errln!();
            }
            return e.exit();
        }
    };
    let texts = match read_logs(args) {
        Ok(t) => t,
        Err(e) => {
            errln!("{e}");
            return e.exit();
        }
    };
    let result = validate::parse(&texts).and_then(|logs| validate::validate(&loaded.model, &logs));
    let spec = args.spec.display().to_string();
    if let Some(out) = &args.html {
        let (path, title, after) = match &result {
            Ok(v) => (
                &v.path,
                format!("valid: {} steps of {} node(s)", v.steps, v.nodes),
                None,
            ),
            Err(x) => (
                x.path.as_ref(),
                "not a behavior of the spec".to_string(),
                Some(describe(args, x)),
            ),
        };
        let page = crate::view::page(&crate::view::of_path(
            &loaded.model,
            &spec,
            &title,
            &path.initial,
            &path.steps,
            after,
        ));
        if let Err(e) = std::fs::write(out, page) {
            errln!("fathom validate: cannot write `{}`: {e}", out.display());
            return super::Exit::Environment;
        }
    }
    match result {
        Ok(v) => {
            if v.steps == 0 {
                errln!(
                    "fathom validate: warning: the logs hold no steps (is that the right directory?)"
                );
            }
            if args.json {
                let rules: serde_json::Map<String, serde_json::Value> = v
                    .rules
                    .iter()
                    .map(|(k, n)| (k.clone(), (*n).into()))
                    .collect();
                outln!(
                    "{}",
                    serde_json::json!({"spec": spec, "consts": loaded.consts, "result": "valid",
                        "steps": v.steps, "nodes": v.nodes, "rules": rules, "invalid": null})
                );
            } else {
                outln!(
                    "valid: {} steps of {} node(s) are a behavior of `{}`",
                    v.steps,
                    v.nodes,
                    loaded.model.name
                );
                for (rule, n) in &v.rules {
                    outln!("  {n:>6}  {rule}");
                }
            }
            Exit::Pass
        }
        Err(x) => {
            let text = describe(args, &x);
            if args.json {
                outln!(
                    "{}",
                    serde_json::json!({"spec": spec, "consts": loaded.consts, "result": "invalid",
                        "invalid": {
                            "log": x.at.map(|a| args.logs[a.log].display().to_string()),
                            "line": x.at.map(|a| a.line), "position": x.position,
                            "node": x.node, "rule": x.rule, "reason": x.reason}})
                );
            }
            errln!(
                "fathom validate: not a behavior of `{}`: {text}",
                loaded.model.name
            );
            Exit::Violation
        }
    }
}

fn read_logs(args: &ValidateArgs) -> Result<Vec<String>, RunError> {
    args.logs
        .iter()
        .map(|path| {
            std::fs::read_to_string(path).map_err(|e| {
                RunError::Environment(format!(
                    "fathom validate: cannot read `{}`: {e}",
                    path.display()
                ))
            })
        })
        .collect()
}

/// Where the first invalid step is (log and line, position, node, rule)
/// and why, as one line.
fn describe(args: &ValidateArgs, x: &Invalid) -> String {
    let mut where_ = String::new();
    if let Some(at) = x.at {
        where_ = format!("{}:{}", args.logs[at.log].display(), at.line);
    }
    let mut who = Vec::new();
    if let Some(p) = x.position {
        who.push(format!("step {p} of the merged run"));
    }
    if let Some(n) = &x.node {
        who.push(format!("node {n}"));
    }
    if let Some(r) = &x.rule {
        who.push(format!("`{r}`"));
    }
    format!(
        "{where_}{}{}: {}",
        if where_.is_empty() { "" } else { ": " },
        who.join(", "),
        x.reason
    )
}
