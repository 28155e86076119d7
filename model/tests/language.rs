//! The front end, construct by construct, as data: each case in
//! `tests/language/*.txt` is a small spec and what it must give.
//!
//! ```text
//! ### name of the case
//! spec source...
//! --- kind
//! expected output...
//! ```
//!
//! Kinds: `tokens` (the lexer's tokens, one per line), `parse` (each
//! invariant's expression as the parser grouped it, fully parenthesized),
//! `init` (every
//! initial state, each variable's value), `next` (every enabled rule
//! instance from the first initial state, and what it changes, or the
//! error it raises), `reach` (reachable states and depth by breadth-first
//! search through the reference evaluator, with the first invariant
//! violation), `liveness` (each temporal property: its form, its instances
//! and their atoms P and Q in the first initial state; each fairness
//! condition and the rule instances it makes actions of), `error` (the
//! rendered diagnostics). Expected outputs were
//! written from ../shared/LANGUAGE.md's meaning of each construct and
//! checked by hand; `UPDATE_EXPECT=1 cargo test -p model --test language`
//! rewrites them (review the diff).
//!
//! `every_diagnostic_has_a_case` checks that each `Diagnostic::error` site
//! in the front end is produced by some case here or in specs/errors/, or
//! is listed in `UNREACHABLE` with the reason no spec can produce it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use model::step::{Fired, Stepper};
use model::value::Value;
use model::{CompileError, Model, Source};

struct Case {
    name: String,
    source: String,
    kind: String,
    expected: String,
}

fn parse_cases(text: &str, file: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(name) = line.strip_prefix("### ") else {
            assert!(
                line.trim().is_empty(),
                "{}: text outside a case: {line}",
                file.display()
            );
            continue;
        };
        let mut source = String::new();
        let mut kind = None;
        for l in lines.by_ref() {
            if let Some(k) = l.strip_prefix("--- ") {
                kind = Some(k.trim().to_string());
                break;
            }
            source.push_str(l);
            source.push('\n');
        }
        let kind = kind.unwrap_or_else(|| panic!("{}: `{name}` has no `---`", file.display()));
        let mut expected = String::new();
        while let Some(l) = lines.peek() {
            if l.starts_with("### ") {
                break;
            }
            expected.push_str(l);
            expected.push('\n');
            lines.next();
        }
        cases.push(Case {
            name: name.to_string(),
            source,
            kind,
            expected: expected.trim_end().to_string(),
        });
    }
    cases
}

fn compile(case: &Case) -> Result<Model, String> {
    let source = Source::new("case.fathom".to_string(), case.source.clone());
    match model::compile(&source, &HashMap::new()) {
        Ok(m) => Ok(m),
        Err(CompileError::Spec(d)) => Err(model::diagnostic::render_all(&d, &source, false)),
        Err(e) => Err(format!("{e}")),
    }
}

fn state_text(m: &Model, state: &[i64], only: Option<&[i64]>) -> String {
    let mut parts = Vec::new();
    for v in &m.vars {
        let range = v.offset as usize..(v.offset + v.len) as usize;
        if only.is_some_and(|prev| prev[range.clone()] == state[range.clone()]) {
            continue;
        }
        let value = Value::decode(&m.types, &v.ty, &state[range]);
        parts.push(format!("{} = {value}", v.name));
    }
    if parts.is_empty() {
        "(no change)".into()
    } else {
        parts.join(", ")
    }
}

fn run(case: &Case) -> String {
    if case.kind == "tokens" {
        let mut diags = Vec::new();
        let tokens = model::lexer::lex(&case.source, &mut diags);
        let mut out: Vec<String> = tokens
            .iter()
            .map(|t| match &t.tok {
                model::lexer::Tok::Str(s) => format!("string {s:?}"),
                other => other.describe(),
            })
            .collect();
        if !diags.is_empty() {
            let source = Source::new("case.fathom".to_string(), case.source.clone());
            out.push(model::diagnostic::render_all(&diags, &source, false));
        }
        return out.join("\n");
    }
    if case.kind == "parse" {
        return parsed(&case.source);
    }
    let m = match compile(case) {
        Ok(m) => m,
        Err(rendered) => return rendered.trim_end().to_string(),
    };
    let mut stepper = Stepper::new(&m);
    let init = match stepper.initial_states() {
        Ok(s) => s,
        Err(e) => return format!("init error: {}", e.message),
    };
    match case.kind.as_str() {
        "init" => init
            .iter()
            .map(|s| state_text(&m, s, None))
            .collect::<Vec<_>>()
            .join("\n"),
        "next" => {
            let Some(s) = init.first() else {
                return "no initial state".into();
            };
            let mut out = Vec::new();
            let mut next = Vec::new();
            for i in 0..m.instance_count() {
                let label = stepper.instance_label(i);
                match stepper.fire(i, s, &mut next) {
                    Ok(Fired::Disabled) => {}
                    Ok(Fired::Enabled) => {
                        out.push(format!("{label} -> {}", state_text(&m, &next, Some(s))))
                    }
                    Err(e) => out.push(format!("{label} -> error: {}", e.message)),
                }
            }
            if out.is_empty() {
                "no rule enabled".into()
            } else {
                out.join("\n")
            }
        }
        "reach" => reach(&m, &mut stepper, init),
        "liveness" => liveness(&m, &mut stepper, init.first()),
        "error" => "compiled without error".into(),
        other => panic!("unknown kind `{other}`"),
    }
}

/// Temporal properties with their atoms in `first`, and fairness.
fn liveness(m: &Model, stepper: &mut Stepper<'_>, first: Option<&Vec<i64>>) -> String {
    use model::ir::FairScope;
    let mut out = Vec::new();
    let mut atoms = Vec::new();
    if let Some(s) = first {
        stepper
            .temporal_atoms(s, &mut atoms)
            .expect("atoms evaluate");
    }
    let bit = |b: usize| atoms.get(b / 64).is_some_and(|w| w >> (b % 64) & 1 == 1);
    let mut b = 0;
    for t in &m.temporals {
        for i in 0..t.instances {
            let name = model::step::binding_label(m, &t.name, &t.params, i);
            let q = t.q.as_ref().map(|_| format!(", Q = {}", bit(b + 1)));
            out.push(format!(
                "property {name}: {:?}, P = {}{}",
                t.kind,
                bit(b),
                q.unwrap_or_default()
            ));
            b += t.atoms();
        }
    }
    for f in &m.fairness {
        let kind = if f.strong { "strong" } else { "weak" };
        let scope = match &f.scope {
            FairScope::EachInstance(r) => format!("each instance of {}", m.rules[*r].name),
            FairScope::EachProcess(p) => {
                format!("each instance of process {}", m.processes[*p].name)
            }
            FairScope::Rules(rules) => {
                let names: Vec<&str> = rules.iter().map(|&r| m.rules[r].name.as_str()).collect();
                format!("one action: {}", names.join(", "))
            }
        };
        out.push(format!("fairness {kind}: {scope}"));
    }
    out.join("\n")
}

/// Each invariant's expression as parsed, every operation in parentheses.
fn parsed(source: &str) -> String {
    use model::ast::Item;
    let mut diags = Vec::new();
    let tokens = model::lexer::lex(source, &mut diags);
    let file = model::parser::parse(&tokens, &mut diags);
    if !diags.is_empty() {
        let source = Source::new("case.fathom".to_string(), source.to_string());
        return model::diagnostic::render_all(&diags, &source, false);
    }
    let mut out = Vec::new();
    for item in &file.items {
        if let Item::Invariant { name, expr } = item {
            out.push(format!("{}: {}", name.name, show(expr)));
        }
    }
    out.join("\n")
}

fn show(e: &model::ast::Expr) -> String {
    use model::ast::{ExprKind, QuantKind};
    let list = |v: &[model::ast::Expr]| v.iter().map(show).collect::<Vec<_>>().join(", ");
    match &e.kind {
        ExprKind::Int(v) => v.to_string(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Name(n) => n.clone(),
        ExprKind::SelfRef => "self".into(),
        ExprKind::Neg(a) => format!("(-{})", show(a)),
        ExprKind::Not(a) => format!("(!{})", show(a)),
        ExprKind::Binary(op, a, b) => format!("({} {} {})", show(a), op.text(), show(b)),
        ExprKind::If(c, a, b) => format!("(if {} then {} else {})", show(c), show(a), show(b)),
        ExprKind::SetLit(v) => format!("{{{}}}", list(v)),
        ExprKind::SeqLit(v) => format!("[{}]", list(v)),
        ExprKind::Struct { path, fields } => {
            let path: Vec<&str> = path.iter().map(|i| i.name.as_str()).collect();
            let fields: Vec<String> = fields
                .iter()
                .map(|(f, v)| format!("{}: {}", f.name, show(v)))
                .collect();
            format!("{} {{ {} }}", path.join("."), fields.join(", "))
        }
        ExprKind::Quant { kind, var, domain, body } => {
            let k = match kind {
                QuantKind::Forall => "forall",
                QuantKind::Exists => "exists",
                QuantKind::Count => "count",
                QuantKind::Sum => "sum",
            };
            format!("({k} {} in {}: {})", var.name, show(domain), show(body))
        }
        ExprKind::Call { func, args } => format!("{}({})", func.name, list(args)),
        ExprKind::Index(a, i) => format!("{}[{}]", show(a), show(i)),
        ExprKind::Field(a, f) => format!("{}.{}", show(a), f.name),
        ExprKind::Is(a, v) => format!("({} is {})", show(a), v.name),
        ExprKind::Method { recv, name, args } => {
            format!("{}.{}({})", show(recv), name.name, list(args))
        }
    }
}

/// Breadth-first search over flat states with the reference evaluator.
fn reach(m: &Model, stepper: &mut Stepper, init: Vec<Vec<i64>>) -> String {
    let mut seen: HashSet<Vec<i64>> = HashSet::new();
    let mut queue = VecDeque::new();
    for s in init {
        if seen.insert(s.clone()) {
            queue.push_back((s, 1u32));
        }
    }
    let mut depth = 0;
    let mut next = Vec::new();
    while let Some((s, d)) = queue.pop_front() {
        depth = depth.max(d);
        match stepper.check_invariants(&s) {
            Ok(Some(f)) => {
                return format!(
                    "invariant {} violated at depth {d}: {}",
                    m.invariants[f.0].name,
                    state_text(m, &s, None)
                );
            }
            Ok(None) => {}
            Err(e) => return format!("error at depth {d}: {}", e.message),
        }
        if !stepper.in_constraint(&s).unwrap_or(false) {
            continue;
        }
        for i in 0..m.instance_count() {
            match stepper.fire(i, &s, &mut next) {
                Ok(Fired::Disabled) => {}
                Ok(Fired::Enabled) => {
                    if seen.insert(next.clone()) {
                        queue.push_back((next.clone(), d + 1));
                    }
                }
                Err(e) => {
                    return format!(
                        "error at depth {d} in {}: {}",
                        stepper.instance_label(i),
                        e.message
                    );
                }
            }
        }
    }
    format!("states {}, depth {depth}", seen.len())
}

/// Output without trailing blanks on any line or at the end (editors
/// strip them; they mean nothing here).
fn tidy(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_string()
}

fn case_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/language");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/language exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    files
}

#[test]
fn language_cases() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    let mut total = 0;
    for file in case_files() {
        let text = std::fs::read_to_string(&file).expect("read cases");
        let cases = parse_cases(&text, &file);
        let mut rewritten = String::new();
        for case in &cases {
            total += 1;
            let got = match std::panic::catch_unwind(|| run(case)) {
                Ok(out) => tidy(&out),
                Err(_) => {
                    failures.push(format!("{} / {}: panicked", file.display(), case.name));
                    case.expected.clone()
                }
            };
            if update {
                let _ = write!(
                    rewritten,
                    "### {}\n{}--- {}\n{}\n\n",
                    case.name, case.source, case.kind, got
                );
            } else if got != tidy(&case.expected) {
                failures.push(format!(
                    "{} / {}:\n--- expected\n{}\n--- got\n{got}",
                    file.display(),
                    case.name,
                    case.expected
                ));
            }
        }
        if update {
            std::fs::write(&file, rewritten.trim_end().to_string() + "\n").expect("rewrite");
        }
    }
    assert!(total >= 100, "the case files are there ({total} cases)");
    assert!(
        failures.is_empty(),
        "{} case(s) differ (UPDATE_EXPECT=1 to accept, then review):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Diagnostic sites no spec can reach, and why. Each entry is the site's
/// message as written in the source.
const UNREACHABLE: &[(&str, &str)] = &[(
    "no constant `{name}`",
    "const_value is called only for a name that const_decls or the overrides hold \
     (lower/expr.rs and the constants loop in lower/mod.rs check first); an unknown \
     name is `unknown name` instead",
)];

/// The message literals of every `Diagnostic::error(span, "...")` /
/// `format!("...")` in the front end's sources: (file:line, literal).
fn diagnostic_sites() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut dirs = vec![src];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("src").flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut sites = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("source");
        let mut from = 0;
        while let Some(at) = text[from..].find("Diagnostic::error(") {
            let start = from + at;
            let open = start + text[start..].find('"').expect("a message literal");
            let mut end = open + 1;
            let bytes = text.as_bytes();
            while !(bytes[end] == b'"' && bytes[end - 1] != b'\\') {
                end += 1;
            }
            let line = text[..start].lines().count();
            let name = f.file_name().map(|n| n.to_string_lossy().into_owned());
            sites.push((
                format!("{}:{line}", name.unwrap_or_default()),
                text[open + 1..end].to_string(),
            ));
            from = end;
        }
    }
    sites
}

/// Whether `message` (a diagnostic's first line) is what the literal
/// makes, `{...}` standing for any text.
fn matches(literal: &str, message: &str) -> bool {
    let mut parts = Vec::new();
    let mut rest = literal;
    while let Some(open) = rest.find('{') {
        parts.push(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        rest = &rest[close..];
    }
    parts.push(rest);
    let (first, others) = parts.split_first().expect("one part");
    let Some(mut at) = message.strip_prefix(first).map(|r| message.len() - r.len()) else {
        return false;
    };
    for (i, part) in others.iter().enumerate() {
        let last = i + 1 == others.len();
        if last {
            return message[at..].ends_with(part);
        }
        match message[at..].find(part) {
            Some(p) => at = at + p + part.len(),
            None => return false,
        }
    }
    at == message.len()
}

#[test]
fn every_diagnostic_has_a_case() {
    // Every diagnostic the cases and the error corpus render: the message
    // of each `Error: message (file:line:col)` line.
    let mut rendered = Vec::new();
    for file in case_files() {
        let text = std::fs::read_to_string(&file).expect("read cases");
        for case in parse_cases(&text, &file) {
            if case.kind == "error" || case.kind == "tokens" {
                rendered.push(case.expected);
            }
        }
    }
    let errors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/errors");
    for e in std::fs::read_dir(errors).expect("specs/errors").flatten() {
        if e.path().extension().is_some_and(|x| x == "stderr") {
            rendered.push(std::fs::read_to_string(e.path()).expect("snapshot"));
        }
    }
    let messages: Vec<String> = rendered
        .iter()
        .flat_map(|r| r.lines())
        .filter_map(|l| l.strip_prefix("Error: "))
        .map(|l| match l.rfind(" (") {
            Some(p) => l[..p].to_string(),
            None => l.to_string(),
        })
        .collect();
    let sites = diagnostic_sites();
    assert!(sites.len() >= 80, "found the sites ({})", sites.len());
    let mut missing = Vec::new();
    for (site, literal) in &sites {
        if UNREACHABLE.iter().any(|(l, _)| l == literal) {
            continue;
        }
        if !messages.iter().any(|m| matches(literal, m)) {
            missing.push(format!("{site}: {literal}"));
        }
    }
    for (literal, _) in UNREACHABLE {
        assert!(
            sites.iter().any(|(_, l)| l == literal),
            "UNREACHABLE lists `{literal}`, which no site has"
        );
    }
    assert!(
        missing.is_empty(),
        "{} diagnostic site(s) without a case:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[test]
fn the_message_matcher_matches() {
    assert!(matches("unknown name `{name}`", "unknown name `x`"));
    assert!(!matches("unknown name `{name}`", "unknown type `x`"));
    assert!(matches(
        "`{}` takes {n} argument{}",
        "`f` takes 2 arguments"
    ));
    assert!(matches("`{}` takes {n} argument{}", "`f` takes 1 argument"));
    assert!(matches("empty range", "empty range"));
    assert!(!matches("empty range", "empty range type"));
}
