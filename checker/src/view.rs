//! What a person sees of a behavior: each step with its rule instance, the
//! process lane it ran on, what it changed (inside records, arrays, sets
//! and sequences, not whole values), and the messages it sent, received or
//! lost — matched send to receipt, so a page can draw a message sequence
//! diagram. The HTML trace (`--trace-format html`), `fathom validate
//! --html` and `fathom explore` all render this one structure with the
//! same page script (`checker/assets/`).

use model::Model;
use model::ir::{Rule, StepKind, Ty};
use model::step::Stepper;
use model::value::Value;
use serde::Serialize;

/// A behavior as the page draws it.
#[derive(Serialize, Clone, Debug, Default)]
pub struct View {
    pub spec: String,
    /// What the page is about ("invariant `X` is violated", "log of run ...").
    pub title: String,
    /// One lane per process instance (empty for specs without processes).
    pub lanes: Vec<String>,
    pub steps: Vec<ViewStep>,
    /// Every message sent, in order; steps refer to them by index.
    pub messages: Vec<Message>,
    /// A lasso's cycle: the 1-based state it returns to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loop_start: Option<usize>,
    /// The step that closes the cycle, or that fails after the last state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

#[derive(Serialize, Clone, Debug, Default)]
pub struct ViewStep {
    /// 1-based, as traces number states.
    pub index: usize,
    pub label: String,
    /// `init`, `rule`, `receive`, `timeout`, `input`, `lose` or `crash`.
    pub kind: &'static str,
    /// The process lane it ran on (`None`: a global rule, the network).
    pub lane: Option<usize>,
    /// The whole state after the step: (variable, value).
    pub state: Vec<(String, String)>,
    pub changes: Vec<Change>,
    /// Messages (indexes into [`View::messages`]) this step sent.
    pub sent: Vec<usize>,
    /// The message this step received, when it is a handler's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<usize>,
    /// Received again (a duplicating network): the receipt is not the first.
    pub duplicate: bool,
    /// The message the network lost in this step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost: Option<usize>,
}

/// One change inside a variable: a path (`rm[1].state`) and its old and
/// new value, or for a set the members added and removed.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Change {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

#[derive(Serialize, Clone, Debug)]
pub struct Message {
    pub from: usize,
    pub to: usize,
    pub text: String,
    /// The step (index into [`View::steps`]) that sent it.
    pub sent_at: usize,
    /// The first step that received it.
    pub received_at: Option<usize>,
    pub lost_at: Option<usize>,
    #[serde(skip)]
    value: Option<Value>,
}

/// Builds a [`View`] state by state: the first state, then each step's
/// instance and the state after it.
pub struct Builder<'m> {
    model: &'m Model,
    stepper: Stepper<'m>,
    view: View,
    prev: Vec<(String, Value)>,
}

impl<'m> Builder<'m> {
    pub fn new(model: &'m Model, spec: &str, title: &str) -> Builder<'m> {
        Builder {
            model,
            stepper: Stepper::new(model),
            view: View {
                spec: spec.to_string(),
                title: title.to_string(),
                lanes: lanes(model),
                ..View::default()
            },
            prev: Vec::new(),
        }
    }

    /// The first state (an initial state, or where a walk starts).
    pub fn start(&mut self, label: &str, slots: &[i64]) {
        let vals = values(self.model, slots);
        let changes = Vec::new();
        self.push_state(label, "init", None, vals, changes);
    }

    /// Rule instance `instance` fired from the previous state gave `slots`.
    pub fn step(&mut self, instance: u64, label: &str, prev: &[i64], slots: &[i64]) {
        let model = self.model;
        let Some((r, local)) = model.rule_of_instance(instance) else {
            return;
        };
        let rule = &model.rules[r];
        let raw = self.raw_params(rule, local);
        let kind = step_kind(model, r);
        let lane = match kind {
            "crash" => raw.first().and_then(|&p| usize::try_from(p).ok()),
            "lose" => None,
            _ => owner(model, r, &raw),
        };
        // The messages the step sends, by firing it again with sends on.
        let mut sends = Vec::new();
        if let Some(net) = &model.network {
            self.stepper.ev.sends = Some(Vec::new());
            let mut next = Vec::new();
            let _ = self.stepper.fire(instance, prev, &mut next);
            for (dst, msg) in self.stepper.ev.sends.take().unwrap_or_default() {
                let value = Value::decode(&model.types, &net.msg, &msg);
                sends.push((dst, value));
            }
        }
        let vals = values(model, slots);
        let mut changes = Vec::new();
        for ((name, old), (_, new)) in self.prev.iter().zip(&vals) {
            diff(name.clone(), old, new, &mut changes);
        }
        let at = self.view.steps.len();
        self.push_state(label, kind, lane, vals, changes);
        for (dst, value) in sends {
            let id = self.view.messages.len();
            self.view.messages.push(Message {
                from: lane.unwrap_or(0),
                to: usize::try_from(dst).unwrap_or(0),
                text: value.to_string(),
                sent_at: at,
                received_at: None,
                lost_at: None,
                value: Some(value),
            });
            self.view.steps[at].sent.push(id);
        }
        match kind {
            "receive" => self.receipt(r, &raw, at),
            "lose" => self.loss(instance, at),
            _ => {}
        }
    }

    /// A lasso's cycle, or the step that fails after the last state.
    pub fn finish(mut self, loop_start: Option<usize>, after: Option<String>) -> View {
        self.view.loop_start = loop_start;
        self.view.after = after;
        self.view
    }

    fn push_state(
        &mut self,
        label: &str,
        kind: &'static str,
        lane: Option<usize>,
        vals: Vec<(String, Value)>,
        changes: Vec<Change>,
    ) {
        let index = self.view.steps.len() + 1;
        self.view.steps.push(ViewStep {
            index,
            label: label.to_string(),
            kind,
            lane,
            state: vals
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect(),
            changes,
            ..ViewStep::default()
        });
        self.prev = vals;
    }

    fn raw_params(&mut self, rule: &Rule, local: u64) -> Vec<i64> {
        self.stepper.ev.bind_params(&rule.params, local);
        let frame = &self.stepper.ev.frame;
        rule.params
            .iter()
            .flat_map(|p| {
                let at = p.local as usize;
                frame.get(at..at + p.len as usize).unwrap_or(&[]).to_vec()
            })
            .collect()
    }

    /// A handler's receipt: its parameters are (self, source, fields).
    fn receipt(&mut self, rule: usize, raw: &[i64], at: usize) {
        let model = self.model;
        let Some(net) = &model.network else { return };
        let Some(h) = model
            .processes
            .iter()
            .flat_map(|p| &p.handlers)
            .find(|h| h.rule == rule)
        else {
            return;
        };
        let Ty::Enum(id) = net.msg else { return };
        let def = &model.types.enums[id as usize];
        let Some(variant) = def.variants.get(h.tag as usize) else {
            return;
        };
        // The message's flat form: tag, then its fields from the parameters.
        let mut flat = vec![0i64; model.types.flat_len(&net.msg) as usize];
        flat[0] = h.tag as i64;
        let mut offset = model.types.variant_offset(id, h.tag) as usize;
        let params = &model.rules[rule].params;
        let mut from_param = params.iter().skip(2).map(|p| p.len as usize);
        let mut at_raw = params.iter().take(2).map(|p| p.len as usize).sum::<usize>();
        for (_, ty) in &variant.fields {
            let len = model.types.flat_len(ty) as usize;
            let plen = from_param.next().unwrap_or(len);
            if let (Some(dst), Some(src)) = (
                flat.get_mut(offset..offset + len),
                raw.get(at_raw..at_raw + plen.min(len)),
            ) && dst.len() == src.len()
            {
                dst.copy_from_slice(src);
            }
            offset += len;
            at_raw += plen;
        }
        let value = Value::decode(&model.types, &net.msg, &flat);
        let (Some(to), Some(&src)) = (self.view.steps[at].lane, raw.get(1)) else {
            return;
        };
        let from = usize::try_from(src).unwrap_or(usize::MAX);
        let same = |m: &Message| m.from == from && m.to == to && m.value.as_ref() == Some(&value);
        let pending = self
            .view
            .messages
            .iter()
            .position(|m| same(m) && m.received_at.is_none() && m.lost_at.is_none());
        match pending {
            Some(i) => {
                self.view.messages[i].received_at = Some(at);
                self.view.steps[at].received = Some(i);
            }
            None => {
                // Received before: a duplicate (a duplicating network).
                if let Some(i) = self.view.messages.iter().rposition(same) {
                    self.view.steps[at].received = Some(i);
                    self.view.steps[at].duplicate = true;
                }
            }
        }
    }

    /// The network lost a message: by its envelope (sets, bags), or by its
    /// position among those in flight from `src` to `dst` (FIFO).
    fn loss(&mut self, instance: u64, at: usize) {
        let params = model::step::instance_params(self.model, instance);
        let find = |name: &str| {
            params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let lane_of = |v: &Value| self.view.lanes.iter().position(|l| *l == v.to_string());
        let target = if let Some(Value::Record(fields)) = find("message") {
            let get = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
            match (get("src"), get("dst"), get("msg")) {
                (Some(s), Some(d), Some(m)) => {
                    let (s, d) = (lane_of(&s), lane_of(&d));
                    self.view.messages.iter().position(|x| {
                        Some(x.from) == s
                            && Some(x.to) == d
                            && x.value.as_ref() == Some(&m)
                            && x.received_at.is_none()
                            && x.lost_at.is_none()
                    })
                }
                _ => None,
            }
        } else {
            let (s, d) = (find("src"), find("dst"));
            let position = match find("position") {
                Some(Value::Int(p)) => usize::try_from(p).ok(),
                _ => None,
            };
            match (
                s.as_ref().and_then(lane_of),
                d.as_ref().and_then(lane_of),
                position,
            ) {
                (Some(s), Some(d), Some(p)) => self
                    .view
                    .messages
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| {
                        x.from == s && x.to == d && x.received_at.is_none() && x.lost_at.is_none()
                    })
                    .nth(p)
                    .map(|(i, _)| i),
                _ => None,
            }
        };
        if let Some(i) = target {
            self.view.messages[i].lost_at = Some(at);
            self.view.steps[at].lost = Some(i);
        }
    }
}

/// The lanes: one per process instance, in process-id order, named as the
/// process-id values print (`RM[1]`, `Server`).
pub fn lanes(model: &Model) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(net) = &model.network {
        let n = model.types.card(&net.pid).unwrap_or(0);
        let mut v = vec![0i64; model.types.flat_len(&net.pid) as usize];
        for i in 0..n {
            model.types.value_at(&net.pid, i, &mut v);
            out.push(Value::decode(&model.types, &net.pid, &v).to_string());
        }
        return out;
    }
    for p in &model.processes {
        let mut v = vec![0i64; model.types.flat_len(&p.index) as usize];
        for k in 0..p.count as u64 {
            if p.singleton {
                out.push(p.name.clone());
            } else {
                model.types.value_at(&p.index, k, &mut v);
                let index = Value::decode(&model.types, &p.index, &v);
                out.push(format!("{}[{index}]", p.name));
            }
        }
    }
    out
}

/// The process instance whose step rule `rule` with these raw parameters is.
fn owner(model: &Model, rule: usize, raw: &[i64]) -> Option<usize> {
    let p = model
        .processes
        .iter()
        .find(|p| p.rules.iter().any(|(r, _)| *r == rule))?;
    let len = model.types.flat_len(&p.index) as usize;
    let k = model.types.value_index(&p.index, raw.get(..len)?)?;
    Some(p.first_pid as usize + k as usize)
}

fn step_kind(model: &Model, rule: usize) -> &'static str {
    match model.rules[rule].name.as_str() {
        "network.Lose" => return "lose",
        "network.Crash" => return "crash",
        _ => {}
    }
    let kind = model
        .processes
        .iter()
        .flat_map(|p| &p.rules)
        .find(|(r, _)| *r == rule)
        .map(|(_, k)| *k);
    match kind {
        Some(StepKind::Receive) => "receive",
        Some(StepKind::Timeout) => "timeout",
        Some(StepKind::Input) => "input",
        Some(StepKind::Environment) => "environment",
        Some(StepKind::Rule) | None => "rule",
    }
}

/// The state's variables as values (process variables as arrays over
/// their instances; a singleton's as its one value).
pub fn values(model: &Model, slots: &[i64]) -> Vec<(String, Value)> {
    crate::report::var_values(model, slots)
}

/// What changed from `a` to `b`, as deep as the values' shapes agree.
pub fn diff(path: String, a: &Value, b: &Value, out: &mut Vec<Change>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Record(fa), Value::Record(fb))
            if fa.len() == fb.len() && fa.iter().zip(fb).all(|(x, y)| x.0 == y.0) =>
        {
            for ((name, x), (_, y)) in fa.iter().zip(fb) {
                diff(format!("{path}.{name}"), x, y, out);
            }
        }
        (
            Value::Variant { name: na, fields: fa, .. },
            Value::Variant { name: nb, fields: fb, .. },
        ) if na == nb && !fa.is_empty() => {
            for ((name, x), (_, y)) in fa.iter().zip(fb) {
                diff(format!("{path}.{name}"), x, y, out);
            }
        }
        (Value::Array(ea), Value::Array(eb))
            if ea.len() == eb.len() && ea.iter().zip(eb).all(|(x, y)| x.0 == y.0) =>
        {
            for ((k, x), (_, y)) in ea.iter().zip(eb) {
                diff(format!("{path}[{k}]"), x, y, out);
            }
        }
        (Value::Set(sa), Value::Set(sb)) => out.push(Change {
            path,
            from: None,
            to: None,
            added: sb
                .iter()
                .filter(|x| !sa.contains(x))
                .map(ToString::to_string)
                .collect(),
            removed: sa
                .iter()
                .filter(|x| !sb.contains(x))
                .map(ToString::to_string)
                .collect(),
        }),
        // A sequence that grew at its end or lost its head: what moved.
        (Value::Seq(sa), Value::Seq(sb)) if sb.len() > sa.len() && sb.starts_with(sa) => {
            out.push(Change {
                path,
                from: None,
                to: None,
                added: sb[sa.len()..].iter().map(ToString::to_string).collect(),
                removed: Vec::new(),
            })
        }
        (Value::Seq(sa), Value::Seq(sb)) if sa.len() > sb.len() && sa.ends_with(sb) => {
            out.push(Change {
                path,
                from: None,
                to: None,
                added: Vec::new(),
                removed: sa[..sa.len() - sb.len()]
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            })
        }
        _ => out.push(Change {
            path,
            from: Some(a.to_string()),
            to: Some(b.to_string()),
            added: Vec::new(),
            removed: Vec::new(),
        }),
    }
}

/// The view of a replayed run (`fathom validate --html`): its initial
/// state and each step's global rule instance with the state after it;
/// `after` says where and why it stopped, if it did.
pub fn of_path(
    model: &Model,
    spec: &str,
    title: &str,
    initial: &[i64],
    steps: &[(u64, Vec<i64>)],
    after: Option<String>,
) -> View {
    let mut b = Builder::new(model, spec, title);
    b.start("initial state", initial);
    let mut prev = initial;
    for (instance, state) in steps {
        let label = match model.rule_of_instance(*instance) {
            Some((r, local)) => model::step::rule_label(model, &model.rules[r], local),
            None => format!("instance {instance}"),
        };
        b.step(*instance, &label, prev, state);
        prev = state;
    }
    b.finish(None, after)
}

/// The view of a violation's trace.
pub fn of_trace(
    model: &Model,
    spec: &str,
    title: &str,
    trace: &crate::engine::trace::Trace,
) -> View {
    use crate::engine::trace::Action;
    let mut b = Builder::new(model, spec, title);
    for (i, st) in trace.states.iter().enumerate() {
        match &st.action {
            Action::Init { .. } => b.start(&st.label, &st.slots),
            Action::Rule { instance } => {
                let prev = &trace.states[i - 1].slots;
                b.step(*instance, &st.label, prev, &st.slots);
            }
        }
    }
    let after = match (&trace.lasso, &trace.failing_step) {
        (Some(l), _) => Some(match &l.back {
            Some(back) => format!(
                "{} — back to state {}: the cycle {}..{} repeats forever",
                back.label,
                l.loop_start + 1,
                l.loop_start + 1,
                trace.states.len()
            ),
            None => format!("state {} stutters forever", trace.states.len()),
        }),
        (None, Some(f)) => Some(format!("{} fails: {}", f.label, f.error.message)),
        (None, None) => None,
    };
    b.finish(trace.lasso.as_ref().map(|l| l.loop_start + 1), after)
}

/// The page script and style every view page shares (the explore page too).
pub const SCRIPT: &str = include_str!("../assets/view.js");
pub const STYLE: &str = include_str!("../assets/view.css");

/// A self-contained page (no network needed) that shows `view`.
pub fn page(view: &View) -> String {
    // `</` inside the JSON would end the script element; `<\/` is the same
    // JSON string.
    let data = crate::report::json_line(view).replace("</", "<\\/");
    include_str!("../assets/trace.html")
        .replacen("/*CSS*/", STYLE, 1)
        .replacen("/*JS*/", SCRIPT, 1)
        .replacen("/*DATA*/", &data, 1)
}
