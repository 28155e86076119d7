//! `fathom explore`'s API without a socket (`explore::answer`): the token,
//! each action, and bad input answered with a message, never a crash.

use checker::explore::{answer, session::Session};
use serde_json::Value;

mod common;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

fn call(s: &mut Session<'_>, method: &str, url: &str, body: &str) -> (u16, Value) {
    let a = answer(s, TOKEN, method, url, Some(TOKEN), body);
    let j = serde_json::from_str(&a.body).unwrap_or(Value::Null);
    (a.status, j)
}

fn session(model: &model::Model) -> Session<'_> {
    let name = "alternating_bit_bug.fathom";
    let text = std::fs::read_to_string(common::specs_dir().join(name)).expect("spec");
    let source = model::Source::new(name.to_string(), text);
    Session::new(model, name, Some((source, Default::default()))).expect("a session")
}

#[test]
fn the_token_is_required() {
    let m = common::compile_file("alternating_bit_bug.fathom", &[]);
    let mut s = session(&m);
    for (header, url) in [
        (None, "/api/state"),
        (Some("wrong"), "/api/state"),
        (None, "/?token=wrong"),
    ] {
        let a = answer(&mut s, TOKEN, "GET", url, header, "");
        assert_eq!(a.status, 403, "{url} {header:?}");
    }
    let a = answer(&mut s, TOKEN, "GET", &format!("/?token={TOKEN}"), None, "");
    assert_eq!(a.status, 200);
    assert!(a.body.contains("<title>Fathom explore</title>"));
    assert!(!a.body.contains("src=\"http"), "the page is self-contained");
}

#[test]
fn fire_back_forward_and_bad_input() {
    let m = common::compile_file("alternating_bit_bug.fathom", &[]);
    let mut s = session(&m);
    let (status, j) = call(&mut s, "GET", "/api/state", "");
    assert_eq!(status, 200);
    assert_eq!(j["enabled"][0]["label"], "Sender.Send");
    let send = j["enabled"][0]["instance"].as_u64().expect("instance");
    let (status, j) = call(
        &mut s,
        "POST",
        "/api/fire",
        &format!("{{\"instance\": {send}}}"),
    );
    assert_eq!(status, 200);
    assert_eq!(j["cursor"], 2);
    assert_eq!(j["view"]["messages"].as_array().map(Vec::len), Some(1));
    // Sender.Send is no longer enabled (the network holds one message).
    let (status, j) = call(
        &mut s,
        "POST",
        "/api/fire",
        &format!("{{\"instance\": {send}}}"),
    );
    assert_eq!(status, 400);
    assert!(
        j["error"].as_str().unwrap_or("").contains("not enabled"),
        "{j}"
    );
    assert_eq!(j["cursor"], 2, "a refused step changes nothing");
    let (_, j) = call(&mut s, "POST", "/api/back", "");
    assert_eq!(
        (j["cursor"].as_u64(), j["length"].as_u64()),
        (Some(1), Some(2))
    );
    let (_, j) = call(&mut s, "POST", "/api/forward", "");
    assert_eq!(j["cursor"], 2);
    for (url, body, says) in [
        ("/api/fire", "not json", "not JSON"),
        ("/api/fire", "{}", "instance"),
        ("/api/fire", "{\"instance\": 999999}", "no rule instance"),
        ("/api/reset", "{\"ordinal\": 5}", "no initial state 5"),
        ("/api/load", "{\"trace\": \"[1, 2]\"}", "no `states`"),
        ("/api/reach", "{\"query\": \"nope +\"}", "does not compile"),
        ("/api/reach", "{\"query\": \"true; x\"}", "without `;`"),
        ("/api/walk", "{\"steps\": 100000000}", "at most"),
    ] {
        let (status, j) = call(&mut s, "POST", url, body);
        assert_eq!(status, 400, "{url} {body}");
        assert!(
            j["error"].as_str().unwrap_or("").contains(says),
            "{url} {body}: {j}"
        );
        assert!(
            j["view"].is_object(),
            "the page still gets the current view"
        );
    }
    let (status, _) = call(&mut s, "POST", "/api/nothing", "{}");
    assert_eq!(status, 404);
}

/// The shortest path to a state where the question holds: the seeded bug's
/// violation needs 4 steps (its trace has 5 states, TLC-independent: the
/// same BFS as `check`, whose trace the spec suite verifies).
#[test]
fn reach_answers_with_the_shortest_path() {
    let m = common::compile_file("alternating_bit_bug.fathom", &[]);
    let mut s = session(&m);
    let (status, j) = call(
        &mut s,
        "POST",
        "/api/reach",
        "{\"query\": \"Receiver.taken > Sender.sent\", \"depth\": 10}",
    );
    assert_eq!(status, 200, "{j}");
    assert_eq!(j["message"], "reachable in 4 steps: the path is appended");
    assert_eq!(j["cursor"], 5);
    assert!(
        j["violated"][0]
            .as_str()
            .unwrap_or("")
            .contains("AtMostOnce")
    );
    let (_, j) = call(
        &mut s,
        "POST",
        "/api/reach",
        "{\"query\": \"Receiver.taken == 3\", \"depth\": 0}",
    );
    assert!(
        j["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("no state within 0 steps"),
        "{j}"
    );
    // A walk is reproducible from its seed.
    let walk = |s: &mut Session<'_>| {
        call(s, "POST", "/api/reset", "{}");
        let (_, j) = call(s, "POST", "/api/walk", "{\"seed\": 3, \"steps\": 6}");
        j["view"]["steps"].clone()
    };
    assert_eq!(walk(&mut s), walk(&mut s));
}

/// A crash is drawn on its process's lane (specs/durable_register.fathom:
/// `crash: 1`), and a lost message ends at the step that lost it.
#[test]
fn crashes_and_losses_are_marked() {
    let m = common::compile_file("durable_register.fathom", &[]);
    let mut s = Session::new(&m, "durable_register.fathom", None).expect("a session");
    let (_, j) = call(&mut s, "GET", "/api/state", "");
    assert_eq!(j["view"]["lanes"], serde_json::json!(["Client", "Server"]));
    let crash = j["enabled"]
        .as_array()
        .expect("enabled")
        .iter()
        .find(|e| e["label"] == "network.Crash(process = Client)")
        .and_then(|e| e["instance"].as_u64())
        .expect("the client may crash");
    let (status, j) = call(
        &mut s,
        "POST",
        "/api/fire",
        &format!("{{\"instance\": {crash}}}"),
    );
    assert_eq!(status, 200);
    let last = &j["view"]["steps"][1];
    assert_eq!(
        (last["kind"].as_str(), last["lane"].as_u64()),
        (Some("crash"), Some(0))
    );
    // Questions need a Fathom spec's text: this session has none.
    let (status, j) = call(&mut s, "POST", "/api/reach", "{\"query\": \"true\"}");
    assert_eq!(status, 400);
    assert!(
        j["error"].as_str().unwrap_or("").contains("Fathom spec"),
        "{j}"
    );
}
