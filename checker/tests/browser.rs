//! The pages in a real browser: headless Chromium, driven through
//! ChromeDriver's WebDriver API, against `fathom explore` (load, fire a
//! step, see the state change, load a trace, see the diagram's lanes, a bad
//! question answered on the page) and against an HTML trace written by
//! `fathom check --trace-format html`. Screenshots are saved under
//! `target/browser/` (CI keeps them as artifacts).
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's chromium
//! and chromium-driver). Without them the tests say so and pass, unless
//! `FATHOM_BROWSER_TESTS=required` (CI sets it), where that is a failure.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

mod common;

const CHROMIUM: &str = "/usr/bin/chromium";
const DRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Kills a child process when dropped (a failed test leaves nothing behind).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn available() -> bool {
    let there = Path::new(CHROMIUM).exists() && Path::new(DRIVER).exists();
    if !there {
        assert!(
            std::env::var("FATHOM_BROWSER_TESTS").as_deref() != Ok("required"),
            "FATHOM_BROWSER_TESTS=required, but {CHROMIUM} or {DRIVER} is missing (apt-get install chromium chromium-driver)"
        );
        eprintln!("browser tests: no {CHROMIUM} / {DRIVER}; skipped");
    }
    there
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A WebDriver session on a fresh headless Chromium.
struct Browser {
    base: String,
    session: String,
    _driver: Killed,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start() -> Browser {
        let port = free_port();
        let driver = Killed(
            Command::new(DRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver starts"),
        );
        let base = format!("http://127.0.0.1:{port}");
        let t0 = Instant::now();
        while ureq::get(&format!("{base}/status")).call().is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "chromedriver answers"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        // Flags that keep Chromium off the network it cannot reach here.
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1400,1000",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args }
        }}});
        let reply = post(&format!("{base}/session"), &caps);
        let session = reply["value"]["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        Browser { base, session, _driver: driver, _profile: profile }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    fn go(&self, url: &str) {
        post(&self.url("/url"), &json!({ "url": url }));
    }

    fn run(&self, script: &str) -> Value {
        post(
            &self.url("/execute/sync"),
            &json!({ "script": script, "args": [] }),
        )["value"]
            .clone()
    }

    fn find(&self, css: &str) -> String {
        let v = post(
            &self.url("/element"),
            &json!({ "using": "css selector", "value": css }),
        );
        v["value"][ELEMENT]
            .as_str()
            .expect("the element exists")
            .to_string()
    }

    fn click(&self, css: &str) {
        let e = self.find(css);
        post(&self.url(&format!("/element/{e}/click")), &json!({}));
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        post(
            &self.url(&format!("/element/{e}/value")),
            &json!({ "text": text }),
        );
    }

    fn text(&self, css: &str) -> String {
        let script = format!(
            "const e = document.querySelector({}); return e ? e.textContent : null;",
            json!(css)
        );
        self.run(&script).as_str().unwrap_or("").to_string()
    }

    fn count(&self, css: &str) -> u64 {
        let script = format!("return document.querySelectorAll({}).length;", json!(css));
        self.run(&script).as_u64().unwrap_or(0)
    }

    /// Waits until `what` holds (the page updates asynchronously).
    fn wait(&self, what: &str, cond: impl Fn(&Browser) -> bool) {
        let t0 = Instant::now();
        while !cond(self) {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "timed out waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn screenshot(&self, name: &str) {
        let v = ureq::get(&self.url("/screenshot"))
            .call()
            .expect("screenshot")
            .body_mut()
            .read_json::<Value>()
            .expect("JSON");
        let png = base64::engine::general_purpose::STANDARD
            .decode(v["value"].as_str().unwrap_or(""))
            .expect("base64 PNG");
        let dir = shots_dir();
        std::fs::create_dir_all(&dir).expect("target/browser");
        std::fs::write(dir.join(name), png).expect("screenshot written");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session)).call();
    }
}

fn shots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser")
}

fn post(url: &str, body: &Value) -> Value {
    let mut r = ureq::post(url)
        .send_json(body)
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    r.body_mut().read_json::<Value>().expect("a JSON reply")
}

fn fathom_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("fathom")
}

/// `fathom explore SPEC`, and the address it printed.
fn explore(spec: &str) -> (Killed, String) {
    let mut child = Command::new(fathom_bin())
        .args(["explore", &common::spec(spec)])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("fathom explore starts");
    let out = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(out)
        .read_line(&mut line)
        .expect("the address line");
    let url = line.trim().to_string();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.contains("/?token="),
        "{url}"
    );
    (Killed(child), url)
}

/// A JSON or HTML trace of the seeded bug, written by `fathom check`.
fn trace(dir: &Path, format: &str) -> PathBuf {
    let path = dir.join(format!("trace.{format}"));
    let status = Command::new(fathom_bin())
        .args(["check", &common::spec("alternating_bit_bug.fathom"), "-q"])
        .args(["--trace-format", format, "--trace-out"])
        .arg(&path)
        .stdout(Stdio::null())
        .status()
        .expect("fathom check runs");
    assert_eq!(status.code(), Some(1), "the seeded bug is found");
    path
}

#[test]
fn explore_in_a_browser() {
    if !available() {
        return;
    }
    let (_server, url) = explore("alternating_bit_bug.fathom");
    let b = Browser::start();

    // Without the token: refused.
    let (base, _) = url.split_once("/?token=").expect("token in the address");
    b.go(&format!("{base}/"));
    assert!(b.text("body").contains("forbidden"), "{}", b.text("body"));

    // Load: the initial state, one enabled step, two lanes.
    b.go(&url);
    b.wait("the enabled steps", |b| b.count("#enabled button.fire") > 0);
    assert_eq!(b.text("#position"), "state 1 of 1 on this path");
    assert_eq!(b.count("#steps tr"), 1);
    assert!(
        b.text("#state").contains("Sender.sent"),
        "{}",
        b.text("#state")
    );
    b.screenshot("explore-start.png");

    // Fire Sender.Send: the state changes, a message appears in flight.
    assert_eq!(b.text("#enabled button.fire"), "Sender.Send");
    b.click("#enabled button.fire");
    b.wait("the second state", |b| b.count("#steps tr") == 2);
    assert_eq!(b.text("#position"), "state 2 of 2 on this path");
    assert!(
        b.text("#steps").contains("Sender.sent: 0 → 1"),
        "{}",
        b.text("#steps")
    );
    assert_eq!(
        b.count("svg.msd line.msg.flight"),
        1,
        "the message is in flight"
    );
    b.screenshot("explore-fired.png");

    // Back and forward.
    b.click("#back");
    b.wait("back", |b| b.count("#steps tr") == 1);
    b.click("#forward");
    b.wait("forward", |b| b.count("#steps tr") == 2);

    // A bad question is answered on the page; the server goes on.
    b.type_into("#query", "Receiver.nope == 1");
    b.click("#reach");
    b.wait("the error", |b| {
        b.text("#error").contains("does not compile")
    });
    b.click("#back");
    b.wait("the server still answers", |b| b.count("#steps tr") == 1);

    // Load a trace written by check: five states, a lost and a duplicated
    // message, the invariant violated at the end.
    let dir = tempfile::tempdir().expect("temp dir");
    let json_trace = std::fs::read_to_string(trace(dir.path(), "json")).expect("trace");
    b.run(&format!(
        "document.getElementById('tracetext').value = {};",
        json!(json_trace)
    ));
    b.click("#load");
    b.wait("the loaded trace", |b| b.count("#steps tr") == 5);
    assert_eq!(b.text("#message"), "loaded a trace of 5 states");
    assert!(
        b.text("#status").contains("AtMostOnce"),
        "{}",
        b.text("#status")
    );
    assert_eq!(
        b.run("return document.querySelector('svg.msd').dataset.lanes;"),
        json!("2")
    );
    assert_eq!(b.count("svg.msd .lane"), 2, "one lane per process");
    assert_eq!(
        b.count("svg.msd line.msg.lost"),
        1,
        "the lost acknowledgement"
    );
    assert_eq!(
        b.count("svg.msd line.msg.dup"),
        1,
        "the duplicated data message"
    );
    b.screenshot("explore-trace.png");

    // A reproducible walk: the same seed, the same path.
    let walk = |b: &Browser| {
        b.click("#reset");
        b.wait("restart", |b| b.count("#steps tr") == 1);
        b.run("document.getElementById('seed').value = '7'; document.getElementById('walksteps').value = '4';");
        b.click("#walk");
        b.wait("the walk", |b| {
            b.text("#message").contains("seed 7") || b.text("#message").starts_with("stopped")
        });
        b.text("#steps")
    };
    assert_eq!(walk(&b), walk(&b), "the same seed walks the same path");
}

#[test]
fn html_trace_in_a_browser() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let page = trace(dir.path(), "html");
    let text = std::fs::read_to_string(&page).expect("page");
    // Self-contained: nothing loaded from elsewhere.
    assert!(
        !text.contains("src=\"http") && !text.contains("href=\"http"),
        "no external resources"
    );
    let b = Browser::start();
    b.go(&format!("file://{}", page.display()));
    b.wait("the steps", |b| b.count("#steps tr") == 5);
    assert!(b.text("h1").contains("AtMostOnce"), "{}", b.text("h1"));
    assert_eq!(b.count("svg.msd .lane"), 2);
    assert_eq!(b.count("svg.msd line.msg.lost"), 1);
    assert_eq!(b.count("svg.msd line.msg.dup"), 1);
    // Changes inside values: the network's bag entry, the receiver's count.
    assert!(
        b.text("#steps").contains("Receiver.taken: 1 → 2"),
        "{}",
        b.text("#steps")
    );
    b.click("#steps tr[data-step='1']");
    b.wait("state 2 shown", |b| b.text("#state h2") == "state 2");
    b.screenshot("trace-html.png");
}
