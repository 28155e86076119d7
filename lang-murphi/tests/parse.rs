//! The parser against Rumur's own test suite (../shared/corpora/rumur-tests,
//! whose README says what each test expects): every model Rumur accepts
//! parses. Models Rumur rejects may fail here or in a later phase; the
//! test prints how many fail to parse.

use std::path::PathBuf;

fn corpus() -> PathBuf {
    [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "shared",
        "corpora",
        "rumur-tests",
    ]
    .iter()
    .collect()
}

#[test]
fn every_model_rumur_accepts_parses() {
    let expected =
        std::fs::read_to_string(corpus().join("expected.jsonl")).expect("expected.jsonl");
    let (mut accepted, mut rejected, mut rejected_here) = (0, 0, 0);
    let mut failures = Vec::new();
    for line in expected.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON row");
        let file = v["file"].as_str().expect("file");
        let text = std::fs::read_to_string(corpus().join(file)).expect("the model");
        let source = model::Source::new(file, text);
        let parsed = lang_murphi::parse(&source);
        if v["rumur_exit_code"] == 0 {
            accepted += 1;
            if let Err(ds) = parsed {
                failures.push(model::diagnostic::render_all(&ds, &source, false));
            }
        } else {
            rejected += 1;
            rejected_here += parsed.is_err() as usize;
        }
    }
    assert!(accepted > 250, "the corpus is there");
    assert!(
        failures.is_empty(),
        "{} of {accepted} fail to parse:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!(
        "{accepted} accepted models parse; {rejected_here} of the {rejected} Rumur rejects fail to parse"
    );
}

/// The project's own Murphi models (benches/murphi, German's protocol and
/// two-phase commit, which the benchmarks give to Rumur) parse.
#[test]
fn the_benchmark_models_parse() {
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "benches", "murphi"]
        .iter()
        .collect();
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("benches/murphi") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "m") {
            let text = std::fs::read_to_string(&path).expect("model");
            let source = model::Source::new(path.display().to_string(), text);
            if let Err(ds) = lang_murphi::parse(&source) {
                panic!("{}", model::diagnostic::render_all(&ds, &source, false));
            }
            n += 1;
        }
    }
    assert!(n >= 3, "german.m, two_phase.m, two_phase_sym.m");
}

/// A syntax error names the file, line and column, and what was expected.
#[test]
fn a_syntax_error_names_its_place() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "var x: 0..3;\nrule x > 1 ==> begin x := end;",
            "t.m:2:27",
            "expected an expression, found `end`",
        ),
        (
            "var x: boolean;\nstartstate x := true endstartstat;",
            "t.m:2:34",
            "expected `:=`",
        ),
        ("type t: real(4, 2);", "t.m:1:9", "`real` is not supported"),
        (
            "var s: 0..3;\nrule \"r\" s = 1 ==> s := 2 $",
            "t.m:2:27",
            "unexpected character `$`",
        ),
        (
            "var a: array [0..1] of 0..2;\nruleset i: 0..1 rule a[i] := 0; endrule endruleset",
            "t.m:2:17",
            "expected `do`",
        ),
    ];
    for (text, place, message) in cases {
        let source = model::Source::new("t.m", *text);
        let ds = lang_murphi::parse(&source).expect_err(text);
        let out = model::diagnostic::render_all(&ds, &source, false);
        assert!(out.contains(place), "{text}:\n{out}\nshould name {place}");
        assert!(
            out.contains(message),
            "{text}:\n{out}\nshould say {message}"
        );
    }
}

/// CMurphi's multisets and reals are named in the diagnostic, at their
/// place, not reported as a syntax error.
#[test]
fn multisets_and_reals_are_named() {
    for (text, want, at) in [
        (
            "type m: multiset [2] of boolean;\nvar x: m;\n",
            "`multiset` is not supported yet",
            8,
        ),
        ("var x: real(4, 2);\n", "real", 7),
    ] {
        let source = model::Source::new("t.m", text.to_string());
        let Err(ds) = lang_murphi::parse(&source) else {
            panic!("{text}: rejected")
        };
        assert!(ds[0].message.contains(want), "{}", ds[0].message);
        let span = ds[0].labels[0].span;
        assert_eq!(span.start, at, "{text}");
    }
}
