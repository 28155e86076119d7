//! `fathom explore SPEC`: a local web server and a page for stepping
//! through a spec by hand (`docs/explore.md`). It binds 127.0.0.1 only and
//! answers only requests that carry the random token of the address it
//! prints, so other local users and other sites cannot drive it. The page's
//! files are plain and embedded in the binary (`checker/assets/`).

pub mod session;

use std::io::Read;

use serde_json::{Value as Json, json};
use session::{Refused, Session};

/// Requests larger than this (a loaded trace) are refused.
const MAX_BODY: u64 = 16 << 20;

/// The page, self-contained: style and scripts inline.
pub fn page() -> String {
    include_str!("../../assets/explore.html")
        .replacen("/*CSS*/", crate::view::STYLE, 1)
        .replacen("/*VIEW*/", crate::view::SCRIPT, 1)
        .replacen("/*EXPLORE*/", include_str!("../../assets/explore.js"), 1)
}

/// A random token: 128 bits from the operating system's generator.
pub fn token() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the server answers: a status and a body.
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Answer {
    fn json(status: u16, body: Json) -> Answer {
        Answer {
            status,
            content_type: "application/json",
            body: body.to_string(),
        }
    }
}

/// Answers one request (method, path with query, token header, body):
/// the server's whole behavior, testable without a socket.
pub fn answer(
    session: &mut Session<'_>,
    token: &str,
    method: &str,
    url: &str,
    header_token: Option<&str>,
    body: &str,
) -> Answer {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let query_token = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .unwrap_or("");
    let presented = header_token.unwrap_or(query_token);
    if !constant_time_eq(presented.as_bytes(), token.as_bytes()) {
        return Answer {
            status: 403,
            content_type: "text/plain; charset=utf-8",
            body: "forbidden: this address needs the token that `fathom explore` printed\n".into(),
        };
    }
    if method == "GET" && (path == "/" || path == "/index.html") {
        return Answer {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: page(),
        };
    }
    if method == "GET" && path == "/api/state" {
        return reply(session, Ok(None));
    }
    if method != "POST" {
        return Answer::json(
            404,
            json!({ "error": format!("no such page: {method} {path}") }),
        );
    }
    let args: Json = if body.trim().is_empty() {
        json!({})
    } else {
        match serde_json::from_str(body) {
            Ok(j) => j,
            Err(e) => return refused(session, Refused(format!("the request is not JSON: {e}"))),
        }
    };
    let num = |k: &str| args.get(k).and_then(Json::as_u64);
    let result: Result<Option<String>, Refused> = match path {
        "/api/fire" => match num("instance") {
            Some(i) => session.fire(i).map(|()| None),
            None => Err(Refused("`instance` must be a rule instance number".into())),
        },
        "/api/back" => {
            session.back();
            Ok(None)
        }
        "/api/forward" => {
            session.forward();
            Ok(None)
        }
        "/api/reset" => session.reset(num("ordinal").unwrap_or(0)).map(|()| None),
        "/api/walk" => session
            .walk(num("seed").unwrap_or(0), num("steps").unwrap_or(20))
            .map(Some),
        "/api/load" => match args.get("trace").and_then(Json::as_str) {
            Some(t) => session.load(t).map(Some),
            None => Err(Refused("`trace` must be the text of a JSON trace".into())),
        },
        "/api/reach" => {
            let depth = num("depth").unwrap_or(20).min(1000) as u32;
            match args.get("query").and_then(Json::as_str) {
                Some(q) => session.reach(q, depth, 1_000_000).map(Some),
                None => Err(Refused("`query` must be an expression".into())),
            }
        }
        _ => return Answer::json(404, json!({ "error": format!("no such action: {path}") })),
    };
    reply(session, result)
}

fn reply(session: &Session<'_>, result: Result<Option<String>, Refused>) -> Answer {
    match result {
        Ok(message) => Answer::json(200, json!(session.reply(message))),
        Err(r) => refused(session, r),
    }
}

fn refused(session: &Session<'_>, r: Refused) -> Answer {
    let mut j = json!(session.reply(None));
    j["error"] = json!(r.0);
    Answer::json(400, j)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serves `session` on 127.0.0.1:`port` (0: any free port) until the
/// process ends; `ready` gets the address with the token.
pub fn serve(mut session: Session<'_>, port: u16, ready: impl FnOnce(&str)) -> Result<(), String> {
    let server = tiny_http::Server::http(("127.0.0.1", port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .ok_or("the server has no IP address")?;
    let token = token();
    ready(&format!("http://127.0.0.1:{port}/?token={token}"));
    for mut request in server.incoming_requests() {
        let mut body = String::new();
        let read = request
            .as_reader()
            .take(MAX_BODY + 1)
            .read_to_string(&mut body);
        let header = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("X-Fathom-Token"))
            .map(|h| h.value.as_str().to_string());
        let answer = if read.is_err() {
            Answer::json(
                400,
                json!({ "error": "the request body is not UTF-8 text" }),
            )
        } else if body.len() as u64 > MAX_BODY {
            Answer::json(413, json!({ "error": "the request is larger than 16 MiB" }))
        } else {
            let method = request.method().as_str().to_string();
            let url = request.url().to_string();
            // A bug in a request's handling answers 500 and the server goes on.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                answer(
                    &mut session,
                    &token,
                    &method,
                    &url,
                    header.as_deref(),
                    &body,
                )
            }))
            .unwrap_or_else(|_| {
                Answer::json(
                    500,
                    json!({ "error": "internal error while answering; the server goes on" }),
                )
            })
        };
        let content_type = tiny_http::Header::from_bytes("Content-Type", answer.content_type)
            .map_err(|()| "a bad header")?;
        let response = tiny_http::Response::from_string(answer.body)
            .with_status_code(answer.status)
            .with_header(content_type);
        // A client that went away is not the server's failure.
        let _ = request.respond(response);
    }
    Ok(())
}
