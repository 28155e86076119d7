//! Turns spec text into tokens. Never fails: bad characters become
//! diagnostics and are skipped.

use crate::diagnostic::Diagnostic;
use crate::span::Span;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    Ident(String),
    Int(i64),
    Str(String),
    Kw(Kw),
    Punct(&'static str),
    Eof,
}

macro_rules! keywords {
    ($($variant:ident = $text:literal),* $(,)?) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Kw { $($variant),* }
        impl Kw {
            pub fn text(self) -> &'static str {
                match self { $(Kw::$variant => $text),* }
            }
            fn from_str(s: &str) -> Option<Kw> {
                match s { $($text => Some(Kw::$variant),)* _ => None }
            }
        }
    };
}

// Reserved words. Words that start a declaration (`const`, `rule`, `init`,
// `process`, `on`, ...) or a message statement (`send`, `to`, ...) are not
// reserved: the parser recognizes them where a declaration or statement
// starts, so they remain usable as names (`enum { init, done }`).
keywords! {
    Enum = "enum", Record = "record", When = "when", True = "true", False = "false",
    If = "if", Then = "then", Else = "else", In = "in", Notin = "notin",
    Union = "union", Inter = "inter", Minus = "minus", Subseteq = "subseteq",
    Forall = "forall", Exists = "exists", Let = "let", For = "for",
    Assert = "assert", Is = "is", SelfKw = "self",
}

/// Longest first, so that `..` wins over `.` and `<=` over `<`.
const PUNCTS: &[&str] = &[
    "..", "==", "!=", "<=", ">=", "&&", "||", "=>", "+=", "-=", "->", "(", ")", "{", "}", "[", "]",
    ",", ";", ":", ".", "=", "<", ">", "+", "-", "*", "/", "%", "!",
];

#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

pub fn lex(text: &str, diagnostics: &mut Vec<Diagnostic>) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if text[i..].starts_with("//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if text[i..].starts_with("/*") {
            let start = i;
            match text[i + 2..].find("*/") {
                Some(end) => i = i + 2 + end + 2,
                None => {
                    diagnostics.push(
                        Diagnostic::error(
                            Span::new(start, start + 2),
                            "unterminated block comment",
                        )
                        .label("this comment has no closing `*/`"),
                    );
                    i = bytes.len();
                }
            }
            continue;
        }
        let start = i;
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &text[start..i];
            let tok = match Kw::from_str(word) {
                Some(kw) => Tok::Kw(kw),
                None => Tok::Ident(word.to_string()),
            };
            tokens.push(Token { tok, span: Span::new(start, i) });
            continue;
        }
        if c.is_ascii_digit() {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let digits = &text[start..i];
            let value = match digits.parse::<i64>() {
                Ok(v) => v,
                Err(_) => {
                    diagnostics.push(
                        Diagnostic::error(Span::new(start, i), "integer literal too large")
                            .label("integers must fit in 64 bits"),
                    );
                    0
                }
            };
            tokens.push(Token { tok: Tok::Int(value), span: Span::new(start, i) });
            continue;
        }
        if c == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                i += 1;
            }
            if i >= bytes.len() || bytes[i] != b'"' {
                diagnostics.push(
                    Diagnostic::error(Span::new(start, i), "unterminated string")
                        .label("this string has no closing quote on its line"),
                );
            } else {
                i += 1;
            }
            let inner = text[start + 1..i].trim_end_matches('"').to_string();
            tokens.push(Token { tok: Tok::Str(inner), span: Span::new(start, i) });
            continue;
        }
        if let Some(p) = PUNCTS.iter().find(|p| text[i..].starts_with(**p)) {
            i += p.len();
            tokens.push(Token { tok: Tok::Punct(p), span: Span::new(start, i) });
            continue;
        }
        let ch = text[i..].chars().next().unwrap_or('?');
        i += ch.len_utf8();
        diagnostics.push(
            Diagnostic::error(Span::new(start, i), format!("unexpected character `{ch}`"))
                .label("not part of the language"),
        );
    }
    tokens.push(Token {
        tok: Tok::Eof,
        span: Span::new(text.len(), text.len()),
    });
    tokens
}

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("identifier `{s}`"),
            Tok::Int(v) => format!("integer `{v}`"),
            Tok::Str(_) => "string".to_string(),
            Tok::Kw(k) => format!("keyword `{}`", k.text()),
            Tok::Punct(p) => format!("`{p}`"),
            Tok::Eof => "end of file".to_string(),
        }
    }
}
