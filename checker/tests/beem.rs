//! BEEM (../shared/corpora/beem, whose README says where its counts come
//! from): a representative part of the corpus on the CPU backend. Per
//! model, its smallest complete instance with a transition count (at most
//! 40,000 states, so the suite stays quick); synapse.1 for `<<`; and
//! anderson.1, which reaches DiVinE 2's error state. `distinct` must equal
//! the BEEM database's states and `generated - 1` its transitions
//! (docs/dve.md). Every instance is benches/beem.py's job (results/beem.md).

use std::collections::HashMap;
use std::path::Path;

use checker::engine::{SearchConfig, ViolationKind};
use checker::frontend::{self, Options};
use model::Model;

mod common;
use common::*;

const INSTANCES: &[&str] = &[
    "adding/adding.1.dve",
    "anderson/anderson.2.dve",
    "at/at.1.dve",
    "bakery/bakery.2.dve",
    "blocks/blocks.2.dve",
    "bopdp/bopdp.1.dve",
    "bridge/bridge.1.dve",
    "brp/brp.1.dve",
    "cambridge/cambridge.1.dve",
    "collision/collision.1.dve",
    "cyclic_scheduler/cyclic_scheduler.2.dve",
    "driving_phils/driving_phils.1.dve",
    "elevator/elevator.2.dve",
    "elevator2/elevator2.1.dve",
    "elevator_planning/elevator_planning.1.dve",
    "exit/exit.2.dve",
    "extinction/extinction.1.dve",
    "firewire_link/firewire_link.1.dve",
    "firewire_tree/firewire_tree.1.dve",
    "fischer/fischer.1.dve",
    "frogs/frogs.1.dve",
    "gear/gear.1.dve",
    "hanoi/hanoi.1.dve",
    "iprotocol/iprotocol.1.dve",
    "krebs/krebs.1.dve",
    "lamport/lamport.1.dve",
    "lamport_nonatomic/lamport_nonatomic.2.dve",
    "lann/lann.2.dve",
    "leader_election/leader_election.1.dve",
    "leader_filters/leader_filters.1.dve",
    "lifts/lifts.1.dve",
    "loyd/loyd.1.dve",
    "lup/lup.1.dve",
    "mcs/mcs.2.dve",
    "msmie/msmie.1.dve",
    "needham/needham.1.dve",
    "peg_solitaire/peg_solitaire.1.dve",
    "peterson/peterson.1.dve",
    "pgm_protocol/pgm_protocol.1.dve",
    "phils/phils.1.dve",
    "plc/plc.1.dve",
    "pouring/pouring.1.dve",
    "production_cell/production_cell.2.dve",
    "protocols/protocols.1.dve",
    "public_subscribe/public_subscribe.1.dve",
    "reader_writer/reader_writer.1.dve",
    "rether/rether.1.dve",
    "rushhour/rushhour.1.dve",
    "schedule_world/schedule_world.1.dve",
    "sorter/sorter.2.dve",
    "szymanski/szymanski.1.dve",
    "telephony/telephony.1.dve",
    "train-gate/train-gate.1.dve",
    "synapse/synapse.1.dve",
];

/// BEEM's (states, transitions, complete) per instance.
fn expected() -> HashMap<String, (u64, Option<u64>, bool)> {
    let text = std::fs::read_to_string(beem_corpus().join("expected.jsonl"))
        .expect("../shared/corpora/beem/expected.jsonl");
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("a JSON row");
            let file = v["file"].as_str().expect("file").to_string();
            let states = v["states"].as_u64().expect("states");
            (
                file,
                (states, v["transitions"].as_u64(), v["complete"] == true),
            )
        })
        .collect()
}

fn compile(file: &str, error_state: bool) -> Model {
    let path = beem_corpus().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let source = model::Source::new(file.to_string(), text);
    let options = Options { dve: lang_dve::Options { error_state } };
    frontend::compile(Path::new(file), &source, &HashMap::new(), &options)
        .unwrap_or_else(|e| panic!("{file}: {e:?}"))
}

fn no_deadlock() -> SearchConfig {
    config(&["--no-deadlock".to_string()])
}

#[test]
fn beem_instances_give_beems_counts() {
    let expected = expected();
    for file in INSTANCES {
        let (states, transitions, complete) = expected[*file];
        assert!(complete, "{file}: BEEM's count is complete");
        let model = compile(file, false);
        let o = search(&model, &no_deadlock(), 2);
        assert!(
            o.violation.is_none(),
            "{file}: {:?}",
            o.violation.map(|v| v.message)
        );
        assert_eq!(o.distinct, states, "{file}: distinct = BEEM's states");
        if let Some(t) = transitions {
            assert_eq!(
                o.generated - 1,
                t,
                "{file}: generated - 1 = BEEM's transitions"
            );
        }
    }
}

/// anderson.1 overflows a byte. By default that is a range error with its
/// trace; with DiVinE 2's error state the search goes on through it, and
/// the count is BEEM's.
#[test]
fn a_runtime_error_stops_or_goes_to_divines_error_state() {
    let file = "anderson/anderson.1.dve";
    let model = compile(file, false);
    let o = search(&model, &no_deadlock(), 2);
    verify_trace(&model, &o);
    let v = o.violation.expect("a range error");
    assert_eq!(v.kind, ViolationKind::Range);
    assert!(v.message.contains("256"), "{}", v.message);
    let trace = v.trace.expect("a trace");
    assert!(trace.states.len() > 2);

    let model = compile(file, true);
    let o = search(&model, &no_deadlock(), 2);
    assert!(o.violation.is_none());
    assert_eq!(o.distinct, expected()[file].0, "{file}: BEEM's states");
}
