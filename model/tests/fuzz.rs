//! Nothing a user writes may panic the front end or the evaluator: random
//! token soups and random mutations of the corpus specs are compiled, and
//! the mutants that compile are explored a little (errors are fine; a panic
//! fails the test).

use std::collections::HashMap;
use std::path::Path;

use model::Source;
use model::step::{Fired, Stepper};
use proptest::prelude::*;

const WORDS: &[&str] = &[
    "spec",
    "const",
    "type",
    "enum",
    "record",
    "fn",
    "var",
    "init",
    "rule",
    "when",
    "invariant",
    "reachable",
    "constraint",
    "terminal",
    "true",
    "false",
    "if",
    "then",
    "else",
    "in",
    "notin",
    "union",
    "inter",
    "minus",
    "subseteq",
    "forall",
    "exists",
    "count",
    "sum",
    "let",
    "for",
    "assert",
    "send",
    "broadcast",
    "reply",
    "to",
    "from",
    "on",
    "process",
    "network",
    "timeout",
    "input",
    "durable",
    "is",
    "self",
    "set",
    "seq",
    "bool",
    "all",
    "card",
    "min",
    "max",
    "abs",
    "len",
    "head",
    "last",
    "x",
    "y",
    "N",
    "Msg",
    "T",
    "0",
    "1",
    "3",
    "-1",
    "99999999999",
    "..",
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    "=>",
    "+=",
    "-=",
    "->",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    ";",
    ":",
    ".",
    "=",
    "<",
    ">",
    "+",
    "-",
    "*",
    "/",
    "%",
    "!",
    "\"s\"",
    "/*",
    "//",
    "\n",
    "é",
];

fn corpus() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let mut out = Vec::new();
    for sub in [dir.clone(), dir.join("errors")] {
        if let Ok(rd) = std::fs::read_dir(sub) {
            for e in rd.flatten() {
                if e.path().extension().is_some_and(|x| x == "fathom")
                    && let Ok(t) = std::fs::read_to_string(e.path())
                {
                    out.push(t);
                }
            }
        }
    }
    out.sort();
    out
}

/// Compiles, and if that works, explores up to a few hundred states.
fn exercise(text: &str) {
    let source = Source::new("fuzz.fathom", text);
    let Ok(model) = model::compile(&source, &HashMap::new()) else {
        return;
    };
    if model.state_len > 4096 || model.instance_count() > 2000 {
        return;
    }
    let mut stepper = Stepper::new(&model);
    let Ok(init) = stepper.initial_states() else {
        return;
    };
    let mut frontier: Vec<Vec<i64>> = init.into_iter().take(20).collect();
    let mut seen = 0;
    let mut next = Vec::new();
    while let Some(s) = frontier.pop() {
        seen += 1;
        if seen > 200 {
            break;
        }
        let _ = stepper.check_invariants(&s);
        let _ = stepper.reachables(&s);
        let _ = stepper.in_constraint(&s);
        for i in 0..model.instance_count() {
            if let Ok(Fired::Enabled) = stepper.fire(i, &s, &mut next) {
                // Every successor must still be in bounds: it is packed next.
                for (v, (lo, hi)) in next.iter().zip(&model.bounds) {
                    assert!(lo <= v && v <= hi, "successor slot within bounds");
                }
                if frontier.len() < 50 {
                    frontier.push(next.clone());
                }
            }
        }
    }
}

fn mutate(text: &str, ops: &[(u8, usize, usize)]) -> String {
    let mut s: Vec<char> = text.chars().collect();
    for &(op, a, b) in ops {
        if s.is_empty() {
            break;
        }
        let i = a % s.len();
        let j = (i + b % 16).min(s.len());
        match op % 4 {
            0 => {
                s.drain(i..j);
            }
            1 => {
                let chunk: Vec<char> = s[i..j].to_vec();
                let k = b % s.len();
                s.splice(k..k, chunk);
            }
            2 => s[i] = ['{', '}', ';', '(', ')', '0', 'x', ' ', '[', ']'][b % 10],
            _ => {
                let k = b % s.len();
                s.swap(i, k);
            }
        }
    }
    s.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(words in prop::collection::vec(0..WORDS.len(), 0..80)) {
        let text: Vec<&str> = words.iter().map(|i| WORDS[*i]).collect();
        exercise(&text.join(" "));
    }

    #[test]
    fn mutated_specs_never_panic(pick in 0usize..64, ops in prop::collection::vec((0u8..4, 0usize..100_000, 0usize..100_000), 1..6)) {
        let corpus = corpus();
        prop_assume!(!corpus.is_empty());
        exercise(&mutate(&corpus[pick % corpus.len()], &ops));
    }
}

#[test]
fn corpus_specs_explore() {
    for text in corpus() {
        exercise(&text);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    exercise(&format!(
        "invariant X: {}1{};",
        "(".repeat(5000),
        ")".repeat(5000)
    ));
    exercise(&format!("invariant X: {}true;", "!".repeat(5000)));
}
