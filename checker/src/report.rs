//! What a run prints: the JSON summary of CLI.md, the human summary, and
//! violations' traces in text, JSON or ITF.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use model::value::Value;
use model::{Model, Source};
use serde::Serialize;
use serde_json::{Map, Value as Json, json};

use crate::engine::Violation;
use crate::engine::trace::{Action, Trace};

/// The `--json` summary object (CLI.md).
#[derive(Serialize, Debug)]
pub struct Summary {
    pub spec: String,
    pub consts: BTreeMap<String, i64>,
    pub result: &'static str,
    pub backend: &'static str,
    /// The GPU that ran the check (with `backend: "gpu"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The GPU backend's traffic (with `backend: "gpu"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuSummary>,
    pub distinct: u64,
    pub generated: u64,
    pub depth: u32,
    pub seconds: f64,
    pub states_per_second: f64,
    pub collision_probability: f64,
    pub violation: Option<ViolationSummary>,
    /// With `--continue`: every violated property, each once, in the order
    /// found (the first is `violation`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violations: Option<Vec<ViolationSummary>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Of `distinct`, the fingerprints in the visited set's disk tier.
    pub disk_fingerprints: u64,
    /// The process's peak resident memory (Linux), for `--memory` budgets.
    pub peak_rss_bytes: Option<u64>,
    /// With temporal properties, once decided (docs/liveness.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness: Option<crate::liveness::Report>,
    /// With `--coverage`: one entry per rule (`on`, `timeout`, `input` and
    /// the network's steps included), in the model's order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Vec<StepCoverage>>,
    /// With `--coverage` (extension): how often each property was evaluated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property_coverage: Option<Vec<PropertyCoverage>>,
    /// For specs with symmetric types (extension, docs/symmetry.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symmetry: Option<SymmetrySummary>,
}

#[derive(Serialize, Debug, Clone)]
pub struct SymmetrySummary {
    /// The symmetric types and their sizes.
    pub types: Vec<SymmetricType>,
    /// Whether `distinct` counts orbits (false: `--no-symmetry`, or temporal
    /// properties, which are checked on every state).
    pub reduced: bool,
}

#[derive(Serialize, Debug, Clone)]
pub struct SymmetricType {
    pub name: String,
    pub size: u32,
}

impl SymmetrySummary {
    pub fn of(model: &Model, reduced: bool) -> Option<SymmetrySummary> {
        (!model.types.syms.is_empty()).then(|| SymmetrySummary {
            types: model
                .types
                .syms
                .iter()
                .map(|s| SymmetricType { name: s.name.clone(), size: s.size })
                .collect(),
            reduced,
        })
    }

    /// One line for the text summary.
    pub fn text(&self) -> String {
        let types: Vec<String> = self
            .types
            .iter()
            .map(|t| format!("{} ({})", t.name, t.size))
            .collect();
        if self.reduced {
            format!(
                "symmetry: one state per orbit under permutations of {}",
                types.join(", ")
            )
        } else {
            format!(
                "symmetry: off, every state explored ({} as plain ranges)",
                types.join(", ")
            )
        }
    }
}

#[derive(Serialize, Debug, Clone)]
pub struct StepCoverage {
    pub step: String,
    /// Instances enabled, over all states expanded.
    pub enabled: u64,
    /// Successors generated: one per enabled instance (those outside the
    /// constraint included), so equal to `enabled`.
    pub generated: u64,
    /// Distinct states this step found first (their trace's last step).
    pub new: u64,
}

#[derive(Serialize, Debug, Clone)]
pub struct PropertyCoverage {
    pub property: String,
    /// `invariant`, `reachable` or `property` (temporal).
    pub kind: &'static str,
    pub evaluated: u64,
    /// For an invariant `[forall ...:] A => B`: the states where some A
    /// held; for `P leadsto Q`: the (state, instance) pairs where P held.
    /// 0 means never exercised (it holds vacuously). Absent for other shapes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exercised: Option<u64>,
}

/// `--coverage`'s tables from the search's counts.
pub fn coverage(
    model: &Model,
    o: &crate::engine::Outcome,
) -> Option<(Vec<StepCoverage>, Vec<PropertyCoverage>)> {
    let c = o.coverage.as_ref()?;
    // Two steps of one name (a process's handlers of one message, with
    // different guards) are told apart by their order: `Name #1`, `Name #2`.
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let names: Vec<String> = model
        .rules
        .iter()
        .map(|rule| {
            let total = model.rules.iter().filter(|r| r.name == rule.name).count();
            let k = seen.entry(&rule.name).or_insert(0);
            *k += 1;
            if total > 1 {
                format!("{} #{k}", rule.name)
            } else {
                rule.name.clone()
            }
        })
        .collect();
    let steps = model
        .rules
        .iter()
        .enumerate()
        .map(|(r, _)| StepCoverage {
            step: names[r].clone(),
            enabled: c.enabled[r],
            generated: c.enabled[r],
            new: c.new[r],
        })
        .collect();
    let mut props: Vec<PropertyCoverage> = Vec::new();
    for (kind, list) in [
        ("invariant", &model.invariants),
        ("reachable", &model.reachables),
    ] {
        props.extend(list.iter().enumerate().map(|(i, p)| {
            PropertyCoverage {
                property: p.name.clone(),
                kind,
                evaluated: c.checked,
                exercised: (kind == "invariant" && p.premise().is_some())
                    .then(|| c.premises.get(i).copied().unwrap_or(0)),
            }
        }));
    }
    if let Some(l) = &o.liveness {
        props.extend(model.temporals.iter().enumerate().map(|(i, t)| {
            PropertyCoverage {
                property: t.name.clone(),
                kind: "property",
                evaluated: l.states * t.instances,
                exercised: (t.kind == model::ir::TemporalKind::LeadsTo)
                    .then(|| c.leadsto.get(i).copied().unwrap_or(0)),
            }
        }));
    }
    Some((steps, props))
}

/// `--coverage` as a person reads it.
pub fn coverage_text(steps: &[StepCoverage], props: &[PropertyCoverage]) -> String {
    let width = steps.iter().map(|s| s.step.len()).max().unwrap_or(4).max(4);
    let mut s = format!(
        "coverage:\n  {:<width$} {:>12} {:>12} {:>12}\n",
        "step", "enabled", "generated", "new"
    );
    for c in steps {
        let _ = writeln!(
            s,
            "  {:<width$} {:>12} {:>12} {:>12}",
            c.step, c.enabled, c.generated, c.new
        );
    }
    for p in props {
        let _ = write!(
            s,
            "  {} `{}`: evaluated in {} states",
            p.kind, p.property, p.evaluated
        );
        match p.exercised {
            Some(n) if p.kind == "invariant" => {
                let _ = writeln!(s, ", its premise held in {n}");
            }
            Some(n) => {
                let _ = writeln!(s, ", its `leadsto` premise held {n} times");
            }
            None => s.push('\n'),
        }
    }
    s
}

/// What crossed the host-device boundary in a GPU run (CLI.md's `gpu`
/// object), and how the device's table fared.
#[derive(Serialize, Debug, Clone, Copy)]
pub struct GpuSummary {
    pub levels: u64,
    pub bytes_to_host: u64,
    pub bytes_to_device: u64,
    /// Host waits on the device's results.
    pub blocking_reads: u64,
    pub submits: u64,
    /// Slots of the visited table, and the times it went to the host's store.
    pub table_slots: u64,
    pub table_spills: u64,
    /// Levels the CPU expanded for the device (a flagged state).
    pub cpu_levels: u64,
    /// "64-bit" (one 64-bit compare-exchange) or "32-bit" table slots.
    pub table_atomics: &'static str,
    /// "subgroup" (buckets probed together) or "thread".
    pub probe: &'static str,
    /// Device memory the search allocated.
    pub device_bytes: u64,
    /// Successors a workgroup's own table caught before the global one.
    pub workgroup_duplicates: u64,
}

impl GpuSummary {
    pub fn of(d: &crate::engine::device::DeviceReport) -> GpuSummary {
        let t = d.stats.transfers;
        GpuSummary {
            levels: t.levels,
            bytes_to_host: t.bytes_to_host,
            bytes_to_device: t.bytes_to_device,
            blocking_reads: t.blocking_reads,
            submits: t.submits,
            table_slots: d.stats.table_slots,
            table_spills: d.stats.spills,
            cpu_levels: d.cpu_levels,
            table_atomics: if d.stats.scheme_64 {
                "64-bit"
            } else {
                "32-bit"
            },
            probe: if d.stats.cooperative {
                "subgroup"
            } else {
                "thread"
            },
            device_bytes: d.stats.device_bytes,
            workgroup_duplicates: d.stats.workgroup_duplicates,
        }
    }
}

#[derive(Serialize, Debug)]
pub struct ViolationSummary {
    pub kind: &'static str,
    pub name: String,
    pub message: String,
    /// States in the trace, the initial one included; null without a trace.
    pub trace_length: Option<usize>,
    /// A liveness violation's lasso: the 1-based state its cycle returns
    /// to (the last state, when it stutters forever); null otherwise.
    #[serde(rename = "loop")]
    pub loop_start: Option<usize>,
}

impl ViolationSummary {
    pub fn of(v: &Violation) -> ViolationSummary {
        ViolationSummary {
            kind: v.kind.as_str(),
            name: v.name.clone(),
            message: v.message.clone(),
            trace_length: v.trace.as_ref().map(|t| t.states.len()),
            loop_start: v
                .trace
                .as_ref()
                .and_then(|t| t.lasso.as_ref())
                .map(|l| l.loop_start + 1),
        }
    }
}

/// The error summary printed with `--json` when a run cannot start.
pub fn error_json(spec: &str, consts: &BTreeMap<String, i64>, message: &str) -> String {
    json!({
        "spec": spec, "consts": consts, "result": "error", "backend": null,
        "distinct": 0, "generated": 0, "depth": 0, "seconds": 0.0,
        "states_per_second": 0.0, "collision_probability": 0.0,
        "violation": null, "error": message, "disk_fingerprints": 0,
        "peak_rss_bytes": crate::rss::peak_rss_bytes(),
    })
    .to_string()
}

/// The summary of a run that `--symmetry-audit` stopped: the spec is not
/// symmetric (a violation of kind `symmetry`, without a trace).
pub fn audit_failed_json(
    spec: &str,
    consts: &BTreeMap<String, i64>,
    name: &str,
    message: &str,
) -> String {
    json!({
        "spec": spec, "consts": consts, "result": "violation", "backend": null,
        "distinct": 0, "generated": 0, "depth": 0, "seconds": 0.0,
        "states_per_second": 0.0, "collision_probability": 0.0,
        "violation": {
            "kind": "symmetry", "name": name, "message": message,
            "trace_length": 0, "loop": null,
        },
        "error": null, "disk_fingerprints": 0,
        "peak_rss_bytes": crate::rss::peak_rss_bytes(),
    })
    .to_string()
}

/// A violation as a person reads it: what, where, and the trace.
pub fn violation_text(v: &Violation, source: &Source) -> String {
    let mut s = format!("violation ({}): {}\n", v.kind.as_str(), v.message);
    if let Some(span) = v.span {
        let _ = writeln!(s, "  --> {}", source.location(span));
        let (line, _) = source.line_col(span.start);
        if let Some(text) = source.text.lines().nth(line - 1) {
            let _ = writeln!(s, "   | {}", text.trim_end());
        }
    }
    s
}

/// Every variable's value. A singleton process's variables are shown as
/// plain values, not as one-element arrays.
pub(crate) fn var_values(model: &Model, slots: &[i64]) -> Vec<(String, Value)> {
    model
        .vars
        .iter()
        .map(|v| {
            let o = v.offset as usize;
            let singleton = v
                .process
                .is_some_and(|p| model.processes[p as usize].singleton);
            let value = match (&v.ty, singleton) {
                (model::ir::Ty::Array(_, elem), true) => {
                    Value::decode(&model.types, elem, &slots[o..])
                }
                _ => Value::decode(&model.types, &v.ty, &slots[o..o + v.len as usize]),
            };
            (v.name.clone(), value)
        })
        .collect()
}

/// Each step's rule instance and only the variables it changed.
pub fn trace_text(model: &Model, trace: &Trace) -> String {
    let mut s = format!("trace ({} states):\n", trace.states.len());
    let mut prev: Option<Vec<(String, Value)>> = None;
    for (i, st) in trace.states.iter().enumerate() {
        let vals = var_values(model, &st.slots);
        let _ = writeln!(s, "{:>4}: {}", i + 1, st.label);
        for (k, (name, value)) in vals.iter().enumerate() {
            match prev.as_ref().map(|p| &p[k].1) {
                None => {
                    let _ = writeln!(s, "        {name} = {value}");
                }
                Some(old) if old != value => write_change(&mut s, name, old, value),
                Some(_) => {}
            }
        }
        if i > 0 && prev.as_ref() == Some(&vals) {
            let _ = writeln!(s, "        (no variable changed)");
        }
        prev = Some(vals);
    }
    if let Some(f) = &trace.failing_step {
        let _ = writeln!(
            s,
            "{:>4}: {} fails: {}",
            trace.states.len() + 1,
            f.label,
            f.error.message
        );
    }
    if let Some(l) = &trace.lasso {
        match &l.back {
            Some(b) => {
                let _ = writeln!(
                    s,
                    "{:>4}: {}\n        back to state {}: the cycle {}..{} repeats forever",
                    trace.states.len() + 1,
                    b.label,
                    l.loop_start + 1,
                    l.loop_start + 1,
                    trace.states.len()
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "        state {} stutters forever (no fair step is enabled in it)",
                    trace.states.len()
                );
            }
        }
    }
    s
}

/// A changed variable: for an array of which less than half changed, only
/// the changed elements (`rmState[1] = prepared`); otherwise the whole value.
fn write_change(s: &mut String, name: &str, old: &Value, new: &Value) {
    if let (Value::Array(a), Value::Array(b)) = (old, new)
        && a.len() == b.len()
    {
        let changed: Vec<_> = a
            .iter()
            .zip(b)
            .filter(|(x, y)| x.1 != y.1)
            .map(|(_, y)| y)
            .collect();
        if changed.len() * 2 < b.len() {
            for (key, value) in changed {
                let _ = writeln!(s, "        {name}[{key}] = {value}");
            }
            return;
        }
    }
    let _ = writeln!(s, "        {name} = {new}");
}

fn plain_json(v: &Value) -> Json {
    match v {
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::Sym { .. } => json!(v.to_string()),
        Value::Variant { name, fields, .. } if fields.is_empty() => json!(name),
        Value::Variant { name, fields, .. } => {
            let mut m = Map::new();
            m.insert("tag".into(), json!(name));
            for (k, x) in fields {
                m.insert(k.clone(), plain_json(x));
            }
            Json::Object(m)
        }
        Value::Record(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, x)| (k.clone(), plain_json(x)))
                .collect(),
        ),
        Value::Array(items) => Json::Array(items.iter().map(|(_, x)| plain_json(x)).collect()),
        Value::Set(items) | Value::Seq(items) => {
            Json::Array(items.iter().map(plain_json).collect())
        }
    }
}

fn itf_json(v: &Value) -> Json {
    match v {
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!({ "#bigint": i.to_string() }),
        // ITF has no model values: the name, as a string.
        Value::Sym { .. } => json!(v.to_string()),
        Value::Variant { name, fields, .. } => {
            let value = if fields.is_empty() {
                json!({ "#tup": [] })
            } else {
                Json::Object(
                    fields
                        .iter()
                        .map(|(k, x)| (k.clone(), itf_json(x)))
                        .collect(),
                )
            };
            json!({ "tag": name, "value": value })
        }
        Value::Record(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, x)| (k.clone(), itf_json(x)))
                .collect(),
        ),
        Value::Array(items) => {
            json!({ "#map": items.iter().map(|(k, x)| json!([itf_json(k), itf_json(x)])).collect::<Vec<_>>() })
        }
        Value::Set(items) => json!({ "#set": items.iter().map(itf_json).collect::<Vec<_>>() }),
        Value::Seq(items) => Json::Array(items.iter().map(itf_json).collect()),
    }
}

fn action_json(model: &Model, action: &Action) -> Json {
    match action {
        Action::Init { ordinal } => json!({ "init": ordinal }),
        Action::Rule { instance } => {
            let rule = model
                .rule_of_instance(*instance)
                .map(|(r, _)| model.rules[r].name.clone());
            let params: Map<String, Json> = model::step::instance_params(model, *instance)
                .iter()
                .map(|(k, v)| (k.clone(), plain_json(v)))
                .collect();
            json!({ "rule": rule, "params": params, "instance": instance })
        }
    }
}

/// `value` as one line of JSON. The reports are plain data (string keys,
/// no custom serializers), which always serializes: a failure is a bug.
pub fn json_line<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("a report serializes")
}

fn json_pretty<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("a report serializes")
}

/// A state as the JSON trace shows it: `{variable: value}`.
pub(crate) fn state_json(model: &Model, slots: &[i64]) -> Json {
    Json::Object(
        var_values(model, slots)
            .iter()
            .map(|(k, x)| (k.clone(), plain_json(x)))
            .collect(),
    )
}

/// Fathom's JSON trace: states in order, each with its action, its
/// variables, and the names of those that changed.
pub fn trace_json(model: &Model, spec: &str, v: &Violation, trace: &Trace) -> String {
    let mut prev: Option<Vec<(String, Value)>> = None;
    let states: Vec<Json> = trace
        .states
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let vals = var_values(model, &st.slots);
            let changed: Vec<&String> = vals
                .iter()
                .enumerate()
                .filter(|(k, (_, x))| prev.as_ref().is_none_or(|p| p[*k].1 != *x))
                .map(|(_, (n, _))| n)
                .collect();
            let j = json!({
                "index": i + 1,
                "label": st.label,
                "action": action_json(model, &st.action),
                "state": Json::Object(vals.iter().map(|(k, x)| (k.clone(), plain_json(x))).collect()),
                "changed": changed,
            });
            prev = Some(vals);
            j
        })
        .collect();
    let failing = trace.failing_step.as_ref().map(|f| {
        json!({ "label": f.label, "action": action_json(model, &Action::Rule { instance: f.instance }), "error": f.error.message })
    });
    let lasso = trace.lasso.as_ref();
    let back = lasso.and_then(|l| l.back.as_ref()).map(|b| {
        json!({ "label": b.label, "action": action_json(model, &Action::Rule { instance: b.instance }) })
    });
    let out = json!({
        "spec": spec,
        "violation": { "kind": v.kind.as_str(), "name": v.name, "message": v.message },
        "states": states,
        "failing_step": failing,
        "loop": lasso.map(|l| l.loop_start + 1),
        "back": back,
    });
    json_pretty(&out)
}

/// The Informal Trace Format (ITF, Apalache ADR-015).
pub fn trace_itf(model: &Model, spec: &str, v: &Violation, trace: &Trace) -> String {
    let states: Vec<Json> = trace
        .states
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let mut m = Map::new();
            m.insert("#meta".into(), json!({ "index": i, "action": st.label }));
            for (k, x) in var_values(model, &st.slots) {
                m.insert(k, itf_json(&x));
            }
            Json::Object(m)
        })
        .collect();
    let out = json!({
        "#meta": {
            "format": "ITF",
            "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
            "source": spec,
            "description": format!("{} violation: {}", v.kind.as_str(), v.message),
        },
        "vars": model.vars.iter().map(|v| v.name.clone()).collect::<Vec<_>>(),
        "states": states,
    });
    // ITF's lasso: the 0-based state that follows the last one.
    let mut out = out;
    if let (Some(l), Json::Object(m)) = (&trace.lasso, &mut out) {
        m.insert("loop".into(), json!(l.loop_start));
    }
    json_pretty(&out)
}
