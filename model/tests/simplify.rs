//! The IR simplification changes no meaning: every corpus spec (and a spec
//! written to exercise the rewrites, errors included) is compiled with and
//! without it, and on the first few thousand reachable states every guard,
//! successor, invariant, `reachable` and error must agree.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;

use model::step::Stepper;
use model::{CompileOptions, Source};

const SHAPES: &str = r#"
const N = 3;
type T = 0..N-1;
var a: [T]0..3 = 0;
var d: 0..2 = 0;
rule Inc(i: T) when a[i] < 3 { a[i] += 1; }
rule D when d < 2 { d += 1; }
rule Reset(i: T) when a[i] == 3 { a[i] = 0; }
// Hoistable left operands, some of which fail (division by d = 0).
invariant I1: forall x in T: forall y in T: !(a[x] == 3 && a[y] == 2 && x != y && a[0] == 3);
invariant I2: forall x in T: (10 / d > 6) => a[x] >= 0;
invariant I3: forall x in T: (d == 1 && a[x] == 9) => false;
invariant I4: forall x in T: d == 2 || a[x] <= 3;
reachable R1: exists x in T: a[0] == 3 && a[x] == 1;
reachable R2: exists x in T: (4 / (d - 1) == 4) && a[x] == 2;
"#;

fn corpus() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let mut out = vec![("shapes".to_string(), SHAPES.to_string())];
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("specs/")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for p in files {
        if p.extension().is_some_and(|x| x == "fathom") {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).expect("read"),
            ));
        }
    }
    out
}

#[test]
fn simplification_preserves_meaning() {
    for (name, text) in corpus() {
        let source = Source::new(name.clone(), text);
        let fast =
            model::compile(&source, &HashMap::new()).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let plain =
            model::compile_with(&source, &HashMap::new(), CompileOptions { simplify: false })
                .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let (mut sf, mut sp) = (Stepper::new(&fast), Stepper::new(&plain));
        let init = sf.initial_states();
        assert_eq!(init, sp.initial_states(), "{name}: initial states");
        let Ok(init) = init else { continue };
        let mut queue: VecDeque<Vec<i64>> = init.into_iter().collect();
        let mut seen = HashSet::new();
        let (mut nf, mut np) = (Vec::new(), Vec::new());
        while let Some(s) = queue.pop_front() {
            if !seen.insert(s.clone()) || seen.len() > 3000 {
                continue;
            }
            assert_eq!(
                sf.check_invariants(&s),
                sp.check_invariants(&s),
                "{name}: invariants"
            );
            assert_eq!(sf.reachables(&s), sp.reachables(&s), "{name}: reachables");
            assert_eq!(
                sf.in_constraint(&s),
                sp.in_constraint(&s),
                "{name}: constraint"
            );
            for i in 0..fast.instance_count() {
                let (rf, rp) = (sf.fire(i, &s, &mut nf), sp.fire(i, &s, &mut np));
                assert_eq!(rf, rp, "{name}: instance {i}");
                if rf == Ok(model::step::Fired::Enabled) {
                    assert_eq!(nf, np, "{name}: successor by instance {i}");
                    queue.push_back(nf.clone());
                }
            }
        }
    }
}
