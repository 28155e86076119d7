//! Murphi text to tokens, as Rumur's lexer reads it: keywords in any case,
//! identifiers as written, decimal and `0x` numbers, `"strings"`, `--` and
//! `/* */` comments, and the Unicode spellings of operators (`≔`, `→`,
//! `∧`, ...) mapped to their ASCII ones.

use model::{Diagnostic, Span};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    Ident(String),
    /// A keyword, lower-cased.
    Kw(&'static str),
    Num(i128),
    Str(String),
    Punct(&'static str),
    Eof,
}

#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

pub const KEYWORDS: &[&str] = &[
    "alias",
    "array",
    "assert",
    "assume",
    "begin",
    "boolean",
    "by",
    "case",
    "clear",
    "const",
    "cover",
    "do",
    "else",
    "elsif",
    "end",
    "endalias",
    "endexists",
    "endfor",
    "endforall",
    "endfunction",
    "endif",
    "endprocedure",
    "endrecord",
    "endrule",
    "endruleset",
    "endstartstate",
    "endswitch",
    "endwhile",
    "enum",
    "error",
    "exists",
    "for",
    "forall",
    "function",
    "if",
    "invariant",
    "ismember",
    "isundefined",
    "liveness",
    "of",
    "procedure",
    "put",
    "real",
    "record",
    "return",
    "rule",
    "ruleset",
    "scalarset",
    "startstate",
    "switch",
    "then",
    "to",
    "type",
    "undefine",
    "union",
    "var",
    "while",
];

/// Longest first.
const PUNCTS: &[(&str, &str)] = &[
    ("==>", "==>"),
    (":=", ":="),
    ("..", ".."),
    (">=", ">="),
    (">>", ">>"),
    ("->", "->"),
    ("<=", "<="),
    ("<<", "<<"),
    ("!=", "!="),
    ("==", "=="),
    ("&&", "&&"),
    ("||", "||"),
    ("≔", ":="),
    ("≥", ">="),
    ("→", "->"),
    ("≤", "<="),
    ("≠", "!="),
    ("⇒", "==>"),
    ("¬", "!"),
    ("∧", "&&"),
    ("∨", "||"),
    ("÷", "/"),
    ("−", "-"),
    ("∕", "/"),
    ("×", "*"),
    ("^", "^"),
    ("~", "~"),
    ("&", "&"),
    ("!", "!"),
    ("|", "|"),
    (":", ":"),
    ("=", "="),
    (">", ">"),
    ("<", "<"),
    ("-", "-"),
    ("%", "%"),
    ("+", "+"),
    (";", ";"),
    ("{", "{"),
    ("}", "}"),
    (",", ","),
    ("[", "["),
    ("]", "]"),
    (".", "."),
    ("(", "("),
    (")", ")"),
    ("/", "/"),
    ("*", "*"),
    ("?", "?"),
];

pub fn lex(text: &str, diagnostics: &mut Vec<Diagnostic>) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let c = rest.chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            i += c.len_utf8();
        } else if rest.starts_with("--") {
            i = rest.find('\n').map_or(text.len(), |n| i + n);
        } else if let Some(comment) = rest.strip_prefix("/*") {
            match comment.find("*/") {
                Some(n) => i += n + 4,
                None => {
                    diagnostics.push(
                        Diagnostic::error(Span::new(i, i + 2), "unterminated comment")
                            .label("this comment has no `*/`"),
                    );
                    i = text.len();
                }
            }
        } else if rest.starts_with('∀') || rest.starts_with('∃') {
            let kw = if c == '∀' { "forall" } else { "exists" };
            out.push(Token {
                tok: Tok::Kw(kw),
                span: Span::new(i, i + c.len_utf8()),
            });
            i += c.len_utf8();
        } else if c.is_ascii_alphabetic() {
            let end = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .map_or(text.len(), |n| i + n);
            let word = &text[i..end];
            let lower = word.to_ascii_lowercase();
            let tok = match KEYWORDS.iter().find(|k| **k == lower) {
                Some(k) => Tok::Kw(k),
                None => Tok::Ident(word.to_string()),
            };
            out.push(Token { tok, span: Span::new(i, end) });
            i = end;
        } else if c.is_ascii_digit() {
            let (digits, radix, skip) =
                match rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
                    Some(hex) => (hex, 16, 2),
                    None => (rest, 10, 0),
                };
            let n = digits
                .find(|ch: char| !ch.is_digit(radix))
                .unwrap_or(digits.len());
            let end = i + skip + n;
            let span = Span::new(i, end);
            if text[end..].starts_with('.') && !text[end..].starts_with("..") {
                diagnostics.push(
                    Diagnostic::error(span, "real numbers are not supported")
                        .label("Murphi's `real` type is not supported"),
                );
            }
            // A leading zero makes an octal number, as in C (and Rumur).
            let radix = if radix == 10 && n > 1 && digits.starts_with('0') {
                if digits[..n].contains(['8', '9']) {
                    diagnostics.push(
                        Diagnostic::error(span, "not an octal number")
                            .label("a leading 0 makes an octal number: digits 0 to 7"),
                    );
                    i = end;
                    continue;
                }
                8
            } else {
                radix
            };
            match i128::from_str_radix(&digits[..n], radix) {
                Ok(v) => out.push(Token { tok: Tok::Num(v), span }),
                Err(_) => diagnostics
                    .push(Diagnostic::error(span, "number too large").label("beyond 127 bits")),
            }
            i = end;
        } else if c == '"' || c == '“' {
            let close = if c == '"' { '"' } else { '”' };
            let body = &rest[c.len_utf8()..];
            // The closing quote: the first not escaped by a backslash.
            let mut escaped = false;
            let found = body.char_indices().find(|&(_, ch)| {
                let closes = ch == close && !escaped;
                escaped = ch == '\\' && !escaped;
                closes
            });
            match found.map(|(n, _)| n) {
                Some(n) => {
                    let end = i + c.len_utf8() + n + close.len_utf8();
                    out.push(Token {
                        tok: Tok::Str(body[..n].to_string()),
                        span: Span::new(i, end),
                    });
                    i = end;
                }
                None => {
                    diagnostics.push(
                        Diagnostic::error(Span::new(i, i + 1), "unterminated string")
                            .label("this string has no closing quote"),
                    );
                    i = text.len();
                }
            }
        } else if let Some((p, ascii)) = PUNCTS.iter().find(|(p, _)| rest.starts_with(p)) {
            out.push(Token {
                tok: Tok::Punct(ascii),
                span: Span::new(i, i + p.len()),
            });
            i += p.len();
        } else {
            let end = i + c.len_utf8();
            diagnostics.push(
                Diagnostic::error(Span::new(i, end), format!("unexpected character `{c}`"))
                    .label("not part of the Murphi language"),
            );
            i = end;
        }
    }
    out.push(Token {
        tok: Tok::Eof,
        span: Span::new(text.len(), text.len()),
    });
    out
}
