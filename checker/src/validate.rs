//! Whether the step logs of an emitted implementation's nodes are a
//! behavior of the spec.
//!
//! Each node logs its steps (JSON lines, written by the emitted runtime):
//! the rule and its arguments, the message it handled (sender and
//! sequence number), the messages it sent, its variables after the step,
//! and a vector clock. Validation
//! 1. checks each log on its own: one node, its clock entry counting
//!    1, 2, 3, ... (no step missing), and no clock naming a step of
//!    another node that no log holds;
//! 2. matches every receipt to the send it names (same message, sent to
//!    this node, and before it by the clocks);
//! 3. replays the steps from the initial state through the model's own
//!    `step::Stepper`, in an interleaving consistent with the clocks: a
//!    step may go once every step that happened before it has. Each step
//!    must be an enabled instance of its rule (a handler's arguments must
//!    be the message it logged), send exactly the messages the spec's step
//!    sends, leave the node's variables as logged, and keep every
//!    invariant.
//!
//! Any one interleaving that works is enough, and step 3 finds one when
//! one exists by firing, at each point, any step that is ready and
//! enabled: a node's step reads only its own variables and the message it
//! handles (the emitter refuses anything else), so firing a step of one
//! node never disables another node's ready step. Its sends only add
//! messages for their receivers (and count against the capacity of its
//! own links only), its receipt only frees capacity for the sender. When
//! no ready step is enabled, the one first by its clocks is reported.

use std::collections::HashMap;

use model::ir::Model;
use model::step::{Fired, Stepper};
use serde::Deserialize;

/// One logged step, as the runtime writes it.
#[derive(Clone, Debug, Deserialize)]
pub struct LoggedStep {
    pub node: String,
    pub pid: usize,
    pub clock: Vec<u64>,
    pub rule: String,
    pub args: Vec<i64>,
    pub recv: Option<Received>,
    pub sent: Vec<Sent>,
    pub state: Vec<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Received {
    pub from: usize,
    pub seq: u64,
    pub msg: Vec<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Sent {
    pub to: usize,
    pub seq: u64,
    pub msg: Vec<i64>,
}

/// Where a step is: the log (its index among the inputs) and the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    pub log: usize,
    pub line: usize,
}

/// The first step that is not a behavior of the spec, and why.
#[derive(Clone, Debug)]
pub struct Invalid {
    pub at: Option<At>,
    pub node: Option<String>,
    pub rule: Option<String>,
    /// Position in the merged order (1-based), when replay got there.
    pub position: Option<usize>,
    pub reason: String,
    /// The steps replayed before it (`validate --html` draws them).
    pub path: Box<Path>,
}

/// The replayed run as the spec sees it: its initial state and each step's
/// global rule instance with the state after it.
#[derive(Clone, Debug, Default)]
pub struct Path {
    pub initial: Vec<i64>,
    pub steps: Vec<(u64, Vec<i64>)>,
}

#[derive(Clone, Debug)]
pub struct Valid {
    pub steps: usize,
    pub nodes: usize,
    /// Steps per rule name.
    pub rules: Vec<(String, usize)>,
    /// The replayed run (`validate --html`).
    pub path: Path,
}

fn invalid(at: Option<At>, step: Option<&LoggedStep>, reason: String) -> Invalid {
    Invalid {
        at,
        node: step.map(|s| s.node.clone()),
        rule: step.map(|s| s.rule.clone()),
        path: Box::default(),
        position: None,
        reason,
    }
}

/// Parses the logs' lines; a line that does not parse is invalid (but
/// for a torn last line, which never took effect).
pub fn parse(logs: &[String]) -> Result<Vec<Vec<LoggedStep>>, Invalid> {
    let mut out = Vec::new();
    for (log, text) in logs.iter().enumerate() {
        // The runtime zero-fills its log ahead of the lines: it ends at the
        // first zero byte.
        let text = text.split('\0').next().unwrap_or("");
        let mut steps = Vec::new();
        let count = text.lines().count();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<LoggedStep>(line) {
                Ok(s) => steps.push(s),
                // A torn last line: the node died writing it, before its
                // fsync, so the step never took effect (the runtime says so).
                Err(_) if i + 1 == count && !text.ends_with('\n') => {}
                Err(e) => {
                    return Err(invalid(
                        Some(At { log, line: i + 1 }),
                        None,
                        format!("not a step record: {e}"),
                    ));
                }
            }
        }
        out.push(steps);
    }
    Ok(out)
}

fn before_or_equal(a: &[u64], b: &[u64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x <= y)
}

/// Validates parsed logs against the model: each log alone, then the
/// logs together (no step after one that no log holds; every receipt
/// matches its send), then a replay through the spec.
pub fn validate(m: &Model, logs: &[Vec<LoggedStep>]) -> Result<Valid, Invalid> {
    let nodes = m.node_names();
    let pid_of_log = check_each_log(&nodes, logs)?;
    check_none_missing(&nodes, logs, &pid_of_log)?;
    check_receipts(m, logs)?;
    replay(m, logs, nodes.len())
}

/// Each log holds the steps of one node, numbered 1, 2, ... by its own
/// clock entry, with a clock of the spec's width; no two logs share a
/// node. The node id of each log (`usize::MAX` for an empty one).
fn check_each_log(nodes: &[String], logs: &[Vec<LoggedStep>]) -> Result<Vec<usize>, Invalid> {
    let n = nodes.len();
    let mut pid_of_log = Vec::new();
    for (log, steps) in logs.iter().enumerate() {
        let Some(first) = steps.first() else {
            pid_of_log.push(usize::MAX);
            continue;
        };
        for (i, s) in steps.iter().enumerate() {
            let at = Some(At { log, line: i + 1 });
            if s.pid >= n || nodes[s.pid] != s.node {
                return Err(invalid(
                    at,
                    Some(s),
                    format!("no node `{}` with id {} in the spec", s.node, s.pid),
                ));
            }
            if s.pid != first.pid {
                return Err(invalid(
                    at,
                    Some(s),
                    format!(
                        "a log of node `{}` holds a step of `{}`",
                        first.node, s.node
                    ),
                ));
            }
            if s.clock.len() != n {
                return Err(invalid(
                    at,
                    Some(s),
                    format!(
                        "a vector clock of {} entries; the spec has {n} nodes",
                        s.clock.len()
                    ),
                ));
            }
            if s.clock[s.pid] != i as u64 + 1 {
                return Err(invalid(
                    at,
                    Some(s),
                    format!(
                        "the node's own clock entry is {}, expected {} (a step is missing or repeated)",
                        s.clock[s.pid],
                        i + 1
                    ),
                ));
            }
        }
        if pid_of_log.contains(&first.pid) {
            return Err(invalid(
                Some(At { log, line: 1 }),
                Some(first),
                format!("two logs of node `{}`", first.node),
            ));
        }
        pid_of_log.push(first.pid);
    }
    Ok(pid_of_log)
}

/// No step may have happened after a step that no log holds.
fn check_none_missing(
    nodes: &[String],
    logs: &[Vec<LoggedStep>],
    pid_of_log: &[usize],
) -> Result<(), Invalid> {
    let n = nodes.len();
    let mut steps_of = vec![0u64; n];
    for (log, steps) in logs.iter().enumerate() {
        if let Some(&pid) = pid_of_log.get(log).filter(|p| **p < n) {
            steps_of[pid] = steps.len() as u64;
        }
    }
    for (log, steps) in logs.iter().enumerate() {
        for (i, s) in steps.iter().enumerate() {
            if let Some(j) = (0..n).find(|&j| s.clock[j] > steps_of[j]) {
                return Err(invalid(
                    Some(At { log, line: i + 1 }),
                    Some(s),
                    format!(
                        "its clock says it happened after step {} of node `{}`, which no given log holds (is a log missing?)",
                        s.clock[j], nodes[j]
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Every receipt matches its send (once, where the network consumes),
/// and happened after it.
fn check_receipts(m: &Model, logs: &[Vec<LoggedStep>]) -> Result<(), Invalid> {
    let mut sends: HashMap<(usize, usize, u64), (&LoggedStep, &Sent)> = HashMap::new();
    for steps in logs {
        for s in steps {
            for m in &s.sent {
                if sends.insert((s.pid, m.to, m.seq), (s, m)).is_some() {
                    return Err(invalid(
                        None,
                        Some(s),
                        format!("message {} to node {} sent twice", m.seq, m.to),
                    ));
                }
            }
        }
    }
    let mut received = std::collections::HashSet::new();
    let consumes = m
        .network
        .as_ref()
        .is_some_and(|net| net.order != model::ir::Order::Set && !net.duplication);
    for (log, steps) in logs.iter().enumerate() {
        for (i, s) in steps.iter().enumerate() {
            let Some(r) = &s.recv else { continue };
            let at = Some(At { log, line: i + 1 });
            // A `set` network, or one that duplicates, may deliver a message again.
            if consumes && !received.insert((r.from, s.pid, r.seq)) {
                return Err(invalid(
                    at,
                    Some(s),
                    format!("message {} from node {} handled twice", r.seq, r.from),
                ));
            }
            let Some((sender, sent)) = sends.get(&(r.from, s.pid, r.seq)) else {
                return Err(invalid(
                    at,
                    Some(s),
                    format!(
                        "received message {} from node {}, which no log shows sent",
                        r.seq, r.from
                    ),
                ));
            };
            if sent.msg != r.msg {
                return Err(invalid(
                    at,
                    Some(s),
                    format!(
                        "received message {} from node {} differs from the one sent",
                        r.seq, r.from
                    ),
                ));
            }
            if !before_or_equal(&sender.clock, &s.clock) {
                return Err(invalid(
                    at,
                    Some(s),
                    "handled a message its clock says was not yet sent".into(),
                ));
            }
        }
    }
    Ok(())
}

/// A step that cannot go yet (it may once others have): why.
struct Blocked {
    key: (u64, usize),
    log: usize,
    line: usize,
    reason: String,
}

/// The spec's one initial state (an implementation starts in one).
fn initial_state(stepper: &mut Stepper) -> Result<Vec<i64>, Invalid> {
    let initial = stepper.initial_states().map_err(|e| {
        invalid(
            None,
            None,
            format!("the initial state fails to evaluate: {}", e.message),
        )
    })?;
    let [state] = initial.as_slice() else {
        return Err(invalid(
            None,
            None,
            format!(
                "the spec has {} initial states; an implementation starts in one",
                initial.len()
            ),
        ));
    };
    Ok(state.clone())
}

/// After a replayed step: the node's variables are what it logged, and
/// every invariant holds.
fn check_after_step(
    m: &Model,
    stepper: &mut Stepper,
    s: &LoggedStep,
    state: &[i64],
) -> Result<(), String> {
    let own = own_slots(m, s.pid, state);
    if own != s.state {
        return Err(format!(
            "the node's variables after the step are {:?} in the log, {own:?} in the spec",
            s.state
        ));
    }
    match stepper.check_invariants(state) {
        Ok(None) => Ok(()),
        Ok(Some(f)) => Err(format!(
            "invariant `{}` is violated after this step",
            m.invariants[f.0].name
        )),
        Err(e) => Err(format!("an invariant fails to evaluate: {}", e.message)),
    }
}

/// Replays the logs through the spec in an interleaving the vector clocks
/// allow: any ready step that is enabled may go.
fn replay(m: &Model, logs: &[Vec<LoggedStep>], n: usize) -> Result<Valid, Invalid> {
    let mut stepper = Stepper::new(m);
    let mut state = initial_state(&mut stepper)?;
    let mut path = Path { initial: state.clone(), steps: Vec::new() };
    let mut next = Vec::new();
    let mut done_by_pid = vec![0u64; n];
    let mut next_line = vec![0usize; logs.len()];
    let total: usize = logs.iter().map(Vec::len).sum();
    let mut replayed = 0usize;
    let mut rules: HashMap<String, usize> = HashMap::new();
    while replayed < total {
        let mut progressed = false;
        let mut blocked: Option<Blocked> = None;
        for (log, steps) in logs.iter().enumerate() {
            while let Some(s) = steps.get(next_line[log]) {
                let i = next_line[log];
                let ready = (0..n).all(|j| j == s.pid || done_by_pid[j] >= s.clock[j]);
                if !ready {
                    break;
                }
                let fail = |reason: String| Invalid {
                    at: Some(At { log, line: i + 1 }),
                    node: Some(s.node.clone()),
                    rule: Some(s.rule.clone()),
                    position: Some(replayed + 1),
                    reason,
                    path: Box::new(path.clone()),
                };
                let instance =
                    match try_step(m, &mut stepper, s, &state, &mut next).map_err(fail)? {
                        Step::Fired(instance) => instance,
                        Step::NotYet(reason) => {
                            let key = (s.clock.iter().sum::<u64>(), s.pid);
                            if blocked.as_ref().is_none_or(|b| key < b.key) {
                                blocked = Some(Blocked { key, log, line: i, reason });
                            }
                            break;
                        }
                    };
                std::mem::swap(&mut state, &mut next);
                check_after_step(m, &mut stepper, s, &state).map_err(fail)?;
                path.steps.push((instance, state.clone()));
                *rules.entry(s.rule.clone()).or_default() += 1;
                done_by_pid[s.pid] += 1;
                next_line[log] += 1;
                replayed += 1;
                progressed = true;
            }
        }
        if !progressed {
            let mut e = stuck(logs, blocked, replayed);
            e.path = Box::new(path);
            return Err(e);
        }
    }
    let mut rules: Vec<(String, usize)> = rules.into_iter().collect();
    rules.sort();
    Ok(Valid {
        steps: total,
        nodes: logs.iter().filter(|l| !l.is_empty()).count(),
        rules,
        path,
    })
}

/// No remaining step can go: the earliest blocked one, and why.
fn stuck(logs: &[Vec<LoggedStep>], blocked: Option<Blocked>, replayed: usize) -> Invalid {
    let Some(b) = blocked else {
        return invalid(
            None,
            None,
            "every remaining step waits for another: the vector clocks order them in a cycle"
                .into(),
        );
    };
    let s = &logs[b.log][b.line];
    Invalid {
        at: Some(At { log: b.log, line: b.line + 1 }),
        node: Some(s.node.clone()),
        rule: Some(s.rule.clone()),
        path: Box::default(),
        position: Some(replayed + 1),
        reason: format!(
            "{} in every interleaving that the clocks allow (after {replayed} steps)",
            b.reason
        ),
    }
}

enum Step {
    /// Fired: its global rule instance.
    Fired(u64),
    /// Disabled (or failing) in this state; another interleaving may do.
    NotYet(String),
}

/// Fires one logged step from `state` into `next`. `Err` is a fault of the
/// step whatever the interleaving.
fn try_step(
    m: &Model,
    stepper: &mut Stepper,
    s: &LoggedStep,
    state: &[i64],
    next: &mut Vec<i64>,
) -> Result<Step, String> {
    let Some(r) = m.rules.iter().position(|r| r.name == s.rule) else {
        return Err(format!("`{}` is not a step of the spec", s.rule));
    };
    let rule = &m.rules[r];
    let local = instance_of(m, rule, &s.args)?;
    if owner(m, r, &s.args) != Some(s.pid) {
        return Err(format!(
            "`{}` with these arguments is not a step of node `{}`",
            s.rule, s.node
        ));
    }
    check_receipt(m, r, s)?;
    stepper.ev.sends = Some(Vec::new());
    let fired = stepper.fire_rule(rule, local, state, next);
    let sends = stepper.ev.sends.take().unwrap_or_default();
    match fired {
        Ok(Fired::Enabled) => {}
        Ok(Fired::Disabled) => {
            let label = model::step::rule_label(m, rule, local);
            return Ok(Step::NotYet(format!("{label} is not enabled")));
        }
        Err(e) => {
            return Ok(Step::NotYet(format!(
                "the step fails to evaluate: {}",
                e.message
            )));
        }
    }
    let logged: Vec<(i64, &[i64])> = s.sent.iter().map(|x| (x.to as i64, &x.msg[..])).collect();
    let spec: Vec<(i64, &[i64])> = sends.iter().map(|(d, m)| (*d, &m[..])).collect();
    if logged != spec {
        return Err(format!(
            "the step sent {logged:?} (destination, message) in the log, {spec:?} in the spec"
        ));
    }
    Ok(Step::Fired(m.instance_base[r] + local))
}

/// A handler's step must name the message it logged as received (its
/// source and fields are the handler's arguments); any other step
/// receives nothing.
fn check_receipt(m: &Model, r: usize, s: &LoggedStep) -> Result<(), String> {
    let handler = m
        .processes
        .iter()
        .flat_map(|p| &p.handlers)
        .find(|h| h.rule == r);
    match (handler, &s.recv) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(format!("`{}` receives no message", s.rule)),
        (Some(_), None) => Err(format!("`{}` handles a message; none is logged", s.rule)),
        (Some(h), Some(recv)) => {
            let Some(net) = &m.network else {
                return Err("the spec has no network".into());
            };
            let model::ir::Ty::Enum(msg_id) = net.msg else {
                return Err("`Msg` is not an enum".into());
            };
            if s.args.get(1).copied() != Some(recv.from as i64) {
                return Err(format!(
                    "the handler's source is {:?}; the message came from node {}",
                    s.args.get(1),
                    recv.from
                ));
            }
            // The message the arguments describe: the variant's tag, then
            // its fields (in the logged message's slots), all else as logged.
            let rule = &m.rules[r];
            let variant = &m.types.enums[msg_id as usize].variants[h.tag as usize];
            let base = m.types.variant_offset(msg_id, h.tag);
            let mut built = recv.msg.clone();
            if built.is_empty() {
                return Err("an empty message".into());
            }
            built[0] = i64::from(h.tag);
            let mut at = 2usize;
            for (i, p) in rule.params[2..].iter().enumerate() {
                let off = (base + m.types.fields_offset(&variant.fields, i)) as usize;
                let len = p.len as usize;
                match (built.get_mut(off..off + len), s.args.get(at..at + len)) {
                    (Some(dst), Some(src)) => dst.copy_from_slice(src),
                    _ => return Err("the message does not fit the handler's fields".into()),
                }
                at += len;
            }
            if built != recv.msg {
                return Err(format!(
                    "the handler's arguments describe the message {built:?}; it logged {:?}",
                    recv.msg
                ));
            }
            Ok(())
        }
    }
}

/// The local instance number of a rule from its parameters' flat values.
fn instance_of(m: &Model, rule: &model::ir::Rule, args: &[i64]) -> Result<u64, String> {
    let total: u32 = rule.params.iter().map(|p| p.len).sum();
    if args.len() != total as usize {
        return Err(format!(
            "{} argument slots; `{}` takes {total}",
            args.len(),
            rule.name
        ));
    }
    let mut at = 0usize;
    let mut instance = 0u64;
    for p in &rule.params {
        let slots = &args[at..at + p.len as usize];
        at += p.len as usize;
        let v = m.types.value_index(&p.ty, slots).ok_or_else(|| {
            format!(
                "argument `{}` = {slots:?} is not a value of `{}`",
                p.name,
                m.types.name(&p.ty)
            )
        })?;
        instance = instance * p.card + v;
    }
    Ok(instance)
}

/// The process id a step's arguments name as the one taking it.
fn owner(m: &Model, rule: usize, args: &[i64]) -> Option<usize> {
    if m.rules[rule].name == "network.Crash" {
        return usize::try_from(*args.first()?).ok();
    }
    let p = m
        .processes
        .iter()
        .find(|p| p.rules.iter().any(|(r, _)| *r == rule))?;
    let k = m.types.value_index(&p.index, &args[..1])?;
    Some(p.first_pid as usize + k as usize)
}

/// Node `pid`'s variables in a state, in the order the runtime logs them.
fn own_slots(m: &Model, pid: usize, state: &[i64]) -> Vec<i64> {
    let mut out = Vec::new();
    let Some(p) = m
        .processes
        .iter()
        .find(|p| (p.first_pid as usize..(p.first_pid + p.count) as usize).contains(&pid))
    else {
        return out;
    };
    let k = (pid - p.first_pid as usize) as u32;
    for &v in &p.vars {
        let var = &m.vars[v];
        let model::ir::Ty::Array(_, elem) = &var.ty else {
            continue;
        };
        let len = m.types.flat_len(elem);
        let at = (var.offset + k * len) as usize;
        out.extend_from_slice(&state[at..at + len as usize]);
    }
    out
}
