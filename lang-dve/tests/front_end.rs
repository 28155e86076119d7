//! The DVE front end on small inputs: C's arithmetic as DiVinE evaluates
//! it, constants that `--const` overrides, and a diagnostic naming the
//! file, line and column for each kind of bad input.

use std::collections::HashMap;

use lang_dve::Options;
use model::Source;
use model::step::{Fired, Stepper};

fn compile(text: &str, overrides: &[(&str, i64)]) -> Result<model::Model, String> {
    let source = Source::new("t.dve", text);
    let overrides: HashMap<String, i64> =
        overrides.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    lang_dve::compile(&source, &overrides, &Options::default()).map_err(|e| match e {
        model::CompileError::Spec(ds) => model::diagnostic::render_all(&ds, &source, false),
        e => e.to_string(),
    })
}

/// Whether each rule fires from the initial state.
fn fires(m: &model::Model) -> Vec<bool> {
    let mut st = Stepper::new(m);
    let init = st.initial_states().expect("initial state").remove(0);
    let mut out = Vec::new();
    m.rules
        .iter()
        .map(|r| st.fire_rule(r, 0, &init, &mut out).expect("no error") == Fired::Enabled)
        .collect()
}

#[test]
fn arithmetic_is_cs() {
    let m = compile(
        "int a = -7; byte b = 5, c = 3; int d = -16;
         process P { state s, t; init s;
           trans s -> t { guard a / 2 == -3 and a % 2 == -1 and 7 / -2 == -3
                 and (b & c) == 1 and (b | c) == 7 and (b ^ c) == 6 and ~b == -6
                 and (1 << b) == 32 and d >> 2 == -4 and (b imply c) and not (b < c)
                 and (b > c) + 1 == 2; }; }
         system async;",
        &[],
    )
    .expect("compiles");
    assert_eq!(fires(&m), vec![true]);
}

#[test]
fn process_state_remote_variables_and_arrays() {
    let m = compile(
        "byte g[3] = {4, 5, 6};
         process P { byte x = 2; state s, t; init s; trans s -> t { effect g[x] = g[0] + 1; }; }
         process Q { state u, v; init u;
           trans u -> v { guard P.s && P->x == 2 && g[2] == 6 && g == 4; }; }
         system async;",
        &[],
    )
    .expect("compiles");
    assert_eq!(fires(&m), vec![true, true]);
}

#[test]
fn global_constants_can_be_overridden() {
    let text = "const byte N = 2; byte a[N];
         process P { state s, t; init s; trans s -> t { guard N == 3; effect a[N - 1] = 1; }; }
         system async;";
    let m = compile(text, &[]).expect("compiles");
    assert_eq!(fires(&m), vec![false]);
    let m = compile(text, &[("N", 3)]).expect("compiles");
    assert_eq!(fires(&m), vec![true]);
    assert_eq!(m.state_len, 4, "a[3] and P's state");
    let e = compile(text, &[("M", 3)]).expect_err("no constant M");
    assert!(e.contains("its constants: N"), "{e}");
}

/// Each bad input gets one diagnostic naming `t.dve:line:col` and what is wrong.
#[test]
fn bad_input_is_a_diagnostic_with_its_place() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "byte x\nprocess P { state s; init s; }",
            "t.dve:2:1",
            "expected `;`",
        ),
        (
            "process P { state s; init s;\n trans s -> t {}; }\nsystem async;",
            "t.dve:2:13",
            "`t` is not a state of `P`",
        ),
        (
            "process P { state s; init s;\n trans s -> s { effect y = 1; }; }\nsystem async;",
            "t.dve:2:24",
            "unknown variable `y`",
        ),
        (
            "const byte K = 1;\nprocess P { state s; init s; trans s -> s { effect K = 2; }; }\nsystem async;",
            "t.dve:2:52",
            "`K` is a constant",
        ),
        (
            "byte x = 300;\nsystem async;",
            "t.dve:1:10",
            "initial value 300 is outside 0..255",
        ),
        (
            "process P {\n channel c; state s; init s; }\nsystem async;",
            "t.dve:2:2",
            "channels declared inside a process are not supported",
        ),
        (
            "process P { state s; init s; }\nsystem async property P;",
            "t.dve:2:23",
            "property processes are not supported",
        ),
        (
            "channel c;\nprocess P { state s; init s; trans s -> s { sync c!1; }; }\n\
             process Q { byte x; state s; init s; trans s -> s { sync c?; }; }\nsystem async;",
            "t.dve:3:",
            "this receive takes 0 value(s); the send sends 1",
        ),
        (
            "channel {byte} c[2];\nprocess P { state s; init s; trans s -> s { sync c!(1, 2); }; }\nsystem async;",
            "t.dve:2:",
            "channel `c` carries 1 value(s), not 2",
        ),
        (
            "process P { state s; }\nsystem async;",
            "t.dve:1:9",
            "process `P` has no `init` state",
        ),
        ("byte x; $", "t.dve:1:9", "unexpected character `$`"),
    ];
    for (text, place, message) in cases {
        let e = compile(text, &[]).expect_err(text);
        assert!(e.contains(place), "{text}:\n{e}\nshould name {place}");
        assert!(e.contains(message), "{text}:\n{e}\nshould say {message}");
    }
}

/// DiVinE 2's error state is not offered for a synchronous system.
#[test]
fn error_state_needs_an_asynchronous_system() {
    let source = Source::new(
        "t.dve",
        "process P { state s; init s; trans s -> s {}; }\nsystem sync;",
    );
    let e = lang_dve::compile(&source, &HashMap::new(), &Options { error_state: true })
        .expect_err("refused");
    let model::CompileError::Spec(ds) = e else {
        panic!("a spec error")
    };
    let text = model::diagnostic::render_all(&ds, &source, false);
    assert!(text.contains("t.dve:2:1"), "{text}");
    assert!(
        text.contains("`--dve-errors state` is not supported with `system sync`"),
        "{text}"
    );
    assert!(lang_dve::compile(&source, &HashMap::new(), &Options::default()).is_ok());
}
