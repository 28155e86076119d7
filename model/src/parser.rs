//! Recursive-descent parser. On an error it records a diagnostic, skips to
//! the next item and goes on, so one run reports every syntax error.

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::lexer::{Kw, Tok, Token};
use crate::span::Span;

/// A syntax error was recorded; the caller recovers.
struct Bail;
type PResult<T> = Result<T, Bail>;

/// Nesting deeper than this is refused rather than overflowing the stack.
const DEPTH_MAX: u32 = 200;

pub fn parse(tokens: &[Token], diagnostics: &mut Vec<Diagnostic>) -> SpecFile {
    let mut p = Parser { tokens, pos: 0, diagnostics, depth: 0 };
    p.file()
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    diagnostics: &'a mut Vec<Diagnostic>,
    depth: u32,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos.min(self.tokens.len() - 1)].tok
    }
    fn peek_at(&self, n: usize) -> &Tok {
        &self.tokens[(self.pos + n).min(self.tokens.len() - 1)].tok
    }
    fn span(&self) -> Span {
        self.tokens[self.pos.min(self.tokens.len() - 1)].span
    }
    fn prev_span(&self) -> Span {
        self.tokens[self.pos.saturating_sub(1).min(self.tokens.len() - 1)].span
    }
    fn bump(&mut self) -> Token {
        let t = self.tokens[self.pos.min(self.tokens.len() - 1)].clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }
    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }
    fn is_kw(&self, k: Kw) -> bool {
        matches!(self.peek(), Tok::Kw(q) if *q == k)
    }
    fn eat_punct(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == w)
    }
    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn expect_word(&mut self, w: &str) -> PResult<Span> {
        if self.is_word(w) {
            Ok(self.bump().span)
        } else {
            self.error(&format!("`{w}`"))
        }
    }
    fn eat_kw(&mut self, k: Kw) -> bool {
        if self.is_kw(k) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn error<T>(&mut self, expected: &str) -> PResult<T> {
        let found = self.peek().describe();
        let span = self.span();
        self.diagnostics.push(
            Diagnostic::error(span, format!("expected {expected}, found {found}"))
                .label(format!("expected {expected} here")),
        );
        Err(Bail)
    }
    fn expect_punct(&mut self, p: &str) -> PResult<Span> {
        if self.is_punct(p) {
            return Ok(self.bump().span);
        }
        if p == ";" && self.pos > 0 {
            // As rustc does: a missing `;` is shown right after what precedes it.
            let end = self.prev_span().end as usize;
            let found = self.peek().describe();
            self.diagnostics.push(
                Diagnostic::error(Span::new(end, end), format!("expected `;`, found {found}"))
                    .label("add `;` here"),
            );
            return Err(Bail);
        }
        self.error(&format!("`{p}`"))
    }
    fn expect_kw(&mut self, k: Kw) -> PResult<Span> {
        if self.is_kw(k) {
            Ok(self.bump().span)
        } else {
            self.error(&format!("`{}`", k.text()))
        }
    }
    fn ident(&mut self) -> PResult<Ident> {
        if let Tok::Ident(name) = self.peek() {
            let name = name.clone();
            let span = self.bump().span;
            Ok(Ident { name, span })
        } else {
            self.error("a name")
        }
    }
    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > DEPTH_MAX {
            let span = self.span();
            self.diagnostics.push(
                Diagnostic::error(span, "nesting too deep")
                    .label(format!("more than {DEPTH_MAX} levels of nesting")),
            );
            return Err(Bail);
        }
        Ok(())
    }

    /// Skips the broken item: from its first token, to a `;` outside braces
    /// or to the `}` that closes its first brace (and a `;` after it).
    fn recover(&mut self, item_start: usize) {
        self.pos = item_start;
        let mut depth = 0i32;
        loop {
            match self.peek() {
                Tok::Eof => return,
                Tok::Punct("{") => depth += 1,
                Tok::Punct("}") => {
                    depth -= 1;
                    if depth <= 0 {
                        self.bump();
                        self.eat_punct(";");
                        return;
                    }
                }
                Tok::Punct(";") if depth == 0 => {
                    self.bump();
                    return;
                }
                _ => {}
            }
            self.bump();
        }
    }

    fn file(&mut self) -> SpecFile {
        let mut file = SpecFile::default();
        while !matches!(self.peek(), Tok::Eof) {
            let start = self.pos;
            match self.item(&mut file) {
                Ok(()) => {}
                Err(Bail) => {
                    self.recover(start);
                    if self.pos == start {
                        self.bump();
                    }
                }
            }
        }
        file
    }

    fn item(&mut self, file: &mut SpecFile) -> PResult<()> {
        let word = match self.peek() {
            Tok::Ident(w) => w.clone(),
            _ => String::new(),
        };
        let item = match word.as_str() {
            "spec" => {
                self.bump();
                let name = self.ident()?;
                self.expect_punct(";")?;
                file.name = Some(name);
                return Ok(());
            }
            "const" => {
                self.bump();
                let name = self.ident()?;
                self.expect_punct("=")?;
                let value = self.expr()?;
                self.expect_punct(";")?;
                Item::Const { name, value }
            }
            "type" => {
                self.bump();
                let name = self.ident()?;
                self.expect_punct("=")?;
                let ty = self.type_expr()?;
                self.expect_punct(";")?;
                Item::Type { name, ty }
            }
            "fn" => {
                self.bump();
                let name = self.ident()?;
                let params = self.params()?;
                self.expect_punct("->")?;
                let ret = self.type_expr()?;
                self.expect_punct("=")?;
                let body = self.expr()?;
                self.expect_punct(";")?;
                Item::Fn { name, params, ret, body }
            }
            "var" | "durable" => Item::Var(self.var_decl()?),
            "init" => Item::Init(self.rule_decl(RuleKind::Init)?),
            "rule" => Item::Rule(self.rule_decl(RuleKind::Rule)?),
            "fair" => {
                let fair = self.fair_mark();
                if self.is_word("rule") {
                    let mut r = self.rule_decl(RuleKind::Rule)?;
                    r.fair = fair;
                    Item::Rule(r)
                } else if self.is_word("process") {
                    let mut p = self.process()?;
                    p.fair = fair;
                    Item::Process(p)
                } else {
                    return self.error("`rule` or `process` after `fair` (fairness marks a step)");
                }
            }
            "fairness" => Item::Fairness(self.fairness_decl()?),
            "property" => Item::Property(self.property_decl()?),
            "invariant" | "reachable" => {
                let invariant = word == "invariant";
                self.bump();
                let name = self.ident()?;
                self.expect_punct(":")?;
                let expr = self.expr()?;
                self.expect_punct(";")?;
                if invariant {
                    Item::Invariant { name, expr }
                } else {
                    Item::Reachable { name, expr }
                }
            }
            "constraint" | "terminal" => {
                let constraint = word == "constraint";
                self.bump();
                let expr = self.expr()?;
                self.expect_punct(";")?;
                if constraint {
                    Item::Constraint(expr)
                } else {
                    Item::Terminal(expr)
                }
            }
            "network" => {
                let start = self.bump().span;
                self.expect_punct("{")?;
                let mut settings = Vec::new();
                while !self.is_punct("}") {
                    let key = self.ident()?;
                    self.expect_punct(":")?;
                    let value = self.expr()?;
                    settings.push((key, value));
                    if !self.eat_punct(",") {
                        break;
                    }
                }
                let end = self.expect_punct("}")?;
                Item::Network(NetworkDecl { settings, span: start.to(end) })
            }
            "process" => Item::Process(self.process()?),
            _ => {
                return self
                    .error("a declaration (`const`, `type`, `var`, `rule`, `invariant`, ...)");
            }
        };
        file.items.push(item);
        Ok(())
    }

    /// `fair` or `fair+`, when the next tokens are one.
    fn fair_mark(&mut self) -> Option<FairMark> {
        if !self.is_word("fair") {
            return None;
        }
        let start = self.bump().span;
        let strong = self.eat_punct("+");
        Some(FairMark { strong, span: start.to(self.prev_span()) })
    }

    /// `fairness weak: all;` or `fairness strong: R, P.S;`
    fn fairness_decl(&mut self) -> PResult<FairnessDecl> {
        let start = self.bump().span;
        let strong = if self.eat_word("weak") {
            false
        } else if self.eat_word("strong") {
            true
        } else {
            return self.error("`weak` or `strong` after `fairness`");
        };
        self.expect_punct(":")?;
        let targets = if self.eat_word("all") {
            None
        } else {
            let mut names = Vec::new();
            loop {
                let mut path = vec![self.ident()?];
                while self.eat_punct(".") {
                    path.push(self.ident()?);
                }
                names.push(path);
                if !self.eat_punct(",") {
                    break;
                }
            }
            Some(names)
        };
        let end = self.expect_punct(";")?;
        Ok(FairnessDecl { strong, targets, span: start.to(end) })
    }

    /// `property Name: [forall x in T:]* eventually P | always eventually P
    /// | eventually always P | P leadsto Q;`
    fn property_decl(&mut self) -> PResult<PropertyDecl> {
        let start = self.bump().span;
        let name = self.ident()?;
        self.expect_punct(":")?;
        let mut binders = Vec::new();
        while self.is_kw(Kw::Forall)
            && matches!(self.peek_at(1), Tok::Ident(_))
            && matches!(self.peek_at(2), Tok::Kw(Kw::In))
        {
            self.bump();
            let var = self.ident()?;
            self.expect_kw(Kw::In)?;
            let ty = self.type_expr()?;
            self.expect_punct(":")?;
            binders.push(Param { name: var, ty });
        }
        let (kind, p, q) = if self.eat_word("eventually") {
            if self.eat_word("always") {
                (TemporalKind::EventuallyAlways, self.expr()?, None)
            } else {
                (TemporalKind::Eventually, self.expr()?, None)
            }
        } else if self.is_word("always") {
            self.bump();
            if !self.eat_word("eventually") {
                return self
                    .error("`eventually` after `always` (`always P` alone is an `invariant`)");
            }
            (TemporalKind::AlwaysEventually, self.expr()?, None)
        } else {
            let p = self.expr()?;
            if !self.eat_word("leadsto") {
                return self.error("`leadsto` (or start with `eventually` or `always eventually`)");
            }
            if self.is_word("eventually") || self.is_word("always") {
                return self
                    .error("a state expression after `leadsto` (its operands are not temporal)");
            }
            let q = self.expr()?;
            (TemporalKind::LeadsTo, p, Some(q))
        };
        if self.is_word("leadsto") {
            return self.error("`;` (`leadsto` takes state expressions, not temporal ones)");
        }
        let end = self.expect_punct(";")?;
        Ok(PropertyDecl { name, binders, kind, p, q, span: start.to(end) })
    }

    fn var_decl(&mut self) -> PResult<VarDecl> {
        let durable = self.eat_word("durable");
        self.expect_word("var")?;
        let name = self.ident()?;
        self.expect_punct(":")?;
        let ty = self.type_expr()?;
        let init = if self.eat_punct("=") {
            Some(self.expr()?)
        } else {
            None
        };
        self.expect_punct(";")?;
        Ok(VarDecl { name, ty, init, durable })
    }

    fn params(&mut self) -> PResult<Vec<Param>> {
        let mut params = Vec::new();
        if self.eat_punct("(") {
            while !self.is_punct(")") {
                let name = self.ident()?;
                self.expect_punct(":")?;
                let ty = self.type_expr()?;
                params.push(Param { name, ty });
                if !self.eat_punct(",") {
                    break;
                }
            }
            self.expect_punct(")")?;
        }
        Ok(params)
    }

    fn rule_decl(&mut self, kind: RuleKind) -> PResult<RuleDecl> {
        let start = self.bump().span;
        let name = if kind == RuleKind::Init && self.is_punct("{") {
            Ident { name: "Init".to_string(), span: start }
        } else {
            self.ident()?
        };
        let params = self.params()?;
        let guard = if self.eat_kw(Kw::When) {
            Some(self.expr()?)
        } else {
            None
        };
        let body = self.block()?;
        Ok(RuleDecl {
            kind,
            fair: None,
            name,
            params,
            guard,
            body,
            span: start.to(self.prev_span()),
        })
    }

    fn process(&mut self) -> PResult<ProcessDecl> {
        let start = self.bump().span;
        let name = self.ident()?;
        let index = if self.eat_punct("[") {
            let pname = self.ident()?;
            self.expect_punct(":")?;
            let ty = self.type_expr()?;
            self.expect_punct("]")?;
            Some(Param { name: pname, ty })
        } else {
            None
        };
        self.expect_punct("{")?;
        let mut decl = ProcessDecl {
            fair: None,
            name,
            index,
            vars: Vec::new(),
            rules: Vec::new(),
            handlers: Vec::new(),
            span: start,
        };
        while !self.is_punct("}") && !matches!(self.peek(), Tok::Eof) {
            let word = match self.peek() {
                Tok::Ident(w) => w.clone(),
                _ => String::new(),
            };
            let fair = self.fair_mark();
            let word = match (fair, self.peek()) {
                (None, _) => word,
                (Some(_), Tok::Ident(w)) => w.clone(),
                (Some(_), _) => String::new(),
            };
            match word.as_str() {
                "var" | "durable" if fair.is_none() => decl.vars.push(self.var_decl()?),
                "rule" | "timeout" | "input" => {
                    let kind = match word.as_str() {
                        "rule" => RuleKind::Rule,
                        "timeout" => RuleKind::Timeout,
                        _ => RuleKind::Input,
                    };
                    let mut r = self.rule_decl(kind)?;
                    r.fair = fair;
                    decl.rules.push(r);
                }
                "on" => {
                    let mut h = self.on_decl()?;
                    h.fair = fair;
                    decl.handlers.push(h);
                }
                _ if fair.is_some() => {
                    return self.error(
                        "`rule`, `on`, `timeout` or `input` after `fair` (fairness marks a step)",
                    );
                }
                _ => return self.error("`var`, `rule`, `on`, `timeout` or `input` in a process"),
            }
        }
        let end = self.expect_punct("}")?;
        decl.span = start.to(end);
        Ok(decl)
    }

    fn on_decl(&mut self) -> PResult<OnDecl> {
        let start = self.bump().span;
        let variant = self.ident()?;
        let mut fields = Vec::new();
        if self.is_punct("{") && !self.starts_block_after_pattern() {
            self.bump();
            while !self.is_punct("}") {
                fields.push(self.ident()?);
                if !self.eat_punct(",") {
                    break;
                }
            }
            self.expect_punct("}")?;
        }
        let from = if self.eat_word("from") {
            Some(self.ident()?)
        } else {
            None
        };
        let guard = if self.eat_kw(Kw::When) {
            Some(self.expr()?)
        } else {
            None
        };
        let body = self.block()?;
        Ok(OnDecl {
            fair: None,
            variant,
            fields,
            from,
            guard,
            body,
            span: start.to(self.prev_span()),
        })
    }

    /// In `on V { ... }`, tells a field pattern `{ a, b }` from the body.
    fn starts_block_after_pattern(&self) -> bool {
        // A pattern is `{` ident (`,` ident)* `}` followed by `from`, `when` or `{`.
        let mut n = 1;
        if matches!(self.peek_at(n), Tok::Punct("}")) {
            return !self.ends_pattern(n + 1);
        }
        loop {
            if !matches!(self.peek_at(n), Tok::Ident(_)) {
                return true;
            }
            n += 1;
            match self.peek_at(n) {
                Tok::Punct(",") => n += 1,
                Tok::Punct("}") => {
                    return !self.ends_pattern(n + 1);
                }
                _ => return true,
            }
        }
    }

    fn ends_pattern(&self, n: usize) -> bool {
        match self.peek_at(n) {
            Tok::Kw(Kw::When) | Tok::Punct("{") => true,
            Tok::Ident(w) => w == "from",
            _ => false,
        }
    }

    fn type_expr(&mut self) -> PResult<TypeExpr> {
        self.enter()?;
        let result = self.type_expr_inner();
        self.depth -= 1;
        result
    }

    fn type_expr_inner(&mut self) -> PResult<TypeExpr> {
        let start = self.span();
        match self.peek().clone() {
            Tok::Ident(name) if name == "bool" => {
                self.bump();
                Ok(TypeExpr::Bool(start))
            }
            Tok::Ident(name)
                if (name == "set" || name == "seq")
                    && matches!(self.peek_at(1), Tok::Punct("[")) =>
            {
                self.bump();
                self.bump();
                let elem = Box::new(self.type_expr()?);
                if name == "set" {
                    let end = self.expect_punct("]")?;
                    Ok(TypeExpr::Set { elem, span: start.to(end) })
                } else {
                    self.expect_punct(";")?;
                    let capacity = Box::new(self.expr()?);
                    let end = self.expect_punct("]")?;
                    Ok(TypeExpr::Seq { elem, capacity, span: start.to(end) })
                }
            }
            // `symmetric` is a contextual word: only before an expression.
            Tok::Ident(name)
                if name == "symmetric"
                    && matches!(
                        self.peek_at(1),
                        Tok::Punct("(") | Tok::Ident(_) | Tok::Int(_)
                    ) =>
            {
                self.bump();
                let count = Box::new(self.additive()?);
                let span = start.to(count.span);
                Ok(TypeExpr::Symmetric { count, span })
            }
            Tok::Punct("[") => {
                self.bump();
                let index = Box::new(self.type_expr()?);
                self.expect_punct("]")?;
                let elem = Box::new(self.type_expr()?);
                let span = start.to(self.prev_span());
                Ok(TypeExpr::Array { index, elem, span })
            }
            Tok::Kw(Kw::Enum) => {
                self.bump();
                self.expect_punct("{")?;
                let mut variants = Vec::new();
                while !self.is_punct("}") {
                    let name = self.ident()?;
                    let mut fields = Vec::new();
                    if self.eat_punct("{") {
                        fields = self.field_list()?;
                    }
                    variants.push((name, fields));
                    if !self.eat_punct(",") {
                        break;
                    }
                }
                let end = self.expect_punct("}")?;
                Ok(TypeExpr::Enum { variants, span: start.to(end) })
            }
            Tok::Kw(Kw::Record) => {
                self.bump();
                self.expect_punct("{")?;
                let fields = self.field_list()?;
                Ok(TypeExpr::Record { fields, span: start.to(self.prev_span()) })
            }
            _ => {
                let lo = self.additive()?;
                if self.eat_punct("..") {
                    let hi = self.additive()?;
                    let span = lo.span.to(hi.span);
                    return Ok(TypeExpr::Range { lo: Box::new(lo), hi: Box::new(hi), span });
                }
                match lo.kind {
                    ExprKind::Name(name) => Ok(TypeExpr::Named(Ident { name, span: lo.span })),
                    _ => self.error("`..` of a range type `lo..hi`"),
                }
            }
        }
    }

    /// `f: T, g: U }` — consumes the closing brace.
    fn field_list(&mut self) -> PResult<Vec<Param>> {
        let mut fields = Vec::new();
        while !self.is_punct("}") {
            let name = self.ident()?;
            self.expect_punct(":")?;
            let ty = self.type_expr()?;
            fields.push(Param { name, ty });
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_punct("}")?;
        Ok(fields)
    }

    fn block(&mut self) -> PResult<Vec<Stmt>> {
        self.expect_punct("{")?;
        let mut stmts = Vec::new();
        while !self.is_punct("}") {
            if matches!(self.peek(), Tok::Eof) {
                return self.error("`}`");
            }
            stmts.push(self.stmt()?);
        }
        self.bump();
        Ok(stmts)
    }

    fn stmt(&mut self) -> PResult<Stmt> {
        self.enter()?;
        let result = self.stmt_inner();
        self.depth -= 1;
        result
    }

    fn stmt_inner(&mut self) -> PResult<Stmt> {
        let start = self.span();
        let kind = match self.peek() {
            Tok::Kw(Kw::Let) => {
                self.bump();
                let name = self.ident()?;
                self.expect_punct("=")?;
                let value = self.expr()?;
                self.expect_punct(";")?;
                StmtKind::Let { name, value }
            }
            Tok::Kw(Kw::If) => return self.if_stmt(),
            Tok::Kw(Kw::For) => {
                self.bump();
                let var = self.ident()?;
                self.expect_kw(Kw::In)?;
                let domain = self.expr()?;
                let body = self.block()?;
                StmtKind::For { var, domain, body }
            }
            Tok::Kw(Kw::Assert) => {
                self.bump();
                let cond = self.expr()?;
                let message = if self.eat_punct(",") {
                    match self.peek().clone() {
                        Tok::Str(s) => {
                            self.bump();
                            s
                        }
                        _ => return self.error("a message string"),
                    }
                } else {
                    String::new()
                };
                self.expect_punct(";")?;
                StmtKind::Assert { cond, message }
            }
            Tok::Ident(w) if w == "send" && self.starts_message_stmt() => {
                self.bump();
                let msg = self.expr()?;
                self.expect_word("to")?;
                let dest = self.expr()?;
                self.expect_punct(";")?;
                StmtKind::Send { msg, dest }
            }
            Tok::Ident(w) if w == "broadcast" && self.starts_message_stmt() => {
                self.bump();
                let msg = self.expr()?;
                self.expect_word("to")?;
                let dest = self.ident()?;
                self.expect_punct(";")?;
                StmtKind::Broadcast { msg, dest }
            }
            Tok::Ident(w) if w == "reply" && self.starts_message_stmt() => {
                self.bump();
                let msg = self.expr()?;
                self.expect_punct(";")?;
                StmtKind::Reply { msg }
            }
            _ => {
                let target = self.postfix()?;
                let op = if self.eat_punct("=") {
                    Some(AssignOp::Set)
                } else if self.eat_punct("+=") {
                    Some(AssignOp::Add)
                } else if self.eat_punct("-=") {
                    Some(AssignOp::Sub)
                } else {
                    None
                };
                let kind = match (op, target.kind) {
                    (Some(op), kind) => {
                        let value = self.expr()?;
                        StmtKind::Assign {
                            target: Expr { kind, span: target.span },
                            op,
                            value,
                        }
                    }
                    (None, ExprKind::Method { recv, name, args }) => {
                        StmtKind::Method { recv: *recv, name, args }
                    }
                    (None, _) => {
                        return self.error("`=`, `+=`, `-=` or a method call like `.add(x)`");
                    }
                };
                self.expect_punct(";")?;
                kind
            }
        };
        Ok(Stmt { kind, span: start.to(self.prev_span()) })
    }

    /// `send`, `broadcast` and `reply` start a message statement unless the
    /// word is a variable being assigned or called on.
    fn starts_message_stmt(&self) -> bool {
        !matches!(
            self.peek_at(1),
            Tok::Punct("=" | "+=" | "-=" | "." | "[" | "(")
        )
    }

    fn if_stmt(&mut self) -> PResult<Stmt> {
        let start = self.expect_kw(Kw::If)?;
        let cond = self.expr()?;
        let then = self.block()?;
        let otherwise = if self.eat_kw(Kw::Else) {
            if self.is_kw(Kw::If) {
                vec![self.if_stmt()?]
            } else {
                self.block()?
            }
        } else {
            Vec::new()
        };
        Ok(Stmt {
            kind: StmtKind::If { cond, then, otherwise },
            span: start.to(self.prev_span()),
        })
    }

    pub fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let result = self.implies();
        self.depth -= 1;
        result
    }

    fn binary(op: BinOp, a: Expr, b: Expr) -> Expr {
        let span = a.span.to(b.span);
        Expr {
            kind: ExprKind::Binary(op, Box::new(a), Box::new(b)),
            span,
        }
    }

    fn implies(&mut self) -> PResult<Expr> {
        let lhs = self.or()?;
        if self.eat_punct("=>") {
            let rhs = self.expr()?;
            return Ok(Self::binary(BinOp::Implies, lhs, rhs));
        }
        Ok(lhs)
    }

    fn or(&mut self) -> PResult<Expr> {
        let mut lhs = self.and()?;
        while self.eat_punct("||") {
            let rhs = self.and()?;
            lhs = Self::binary(BinOp::Or, lhs, rhs);
        }
        Ok(lhs)
    }

    fn and(&mut self) -> PResult<Expr> {
        let mut lhs = self.comparison()?;
        while self.eat_punct("&&") {
            let rhs = self.comparison()?;
            lhs = Self::binary(BinOp::And, lhs, rhs);
        }
        Ok(lhs)
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let lhs = self.range()?;
        let op = match self.peek() {
            Tok::Punct("==") => BinOp::Eq,
            Tok::Punct("!=") => BinOp::Ne,
            Tok::Punct("<") => BinOp::Lt,
            Tok::Punct("<=") => BinOp::Le,
            Tok::Punct(">") => BinOp::Gt,
            Tok::Punct(">=") => BinOp::Ge,
            Tok::Kw(Kw::In) => BinOp::In,
            Tok::Kw(Kw::Notin) => BinOp::Notin,
            Tok::Kw(Kw::Subseteq) => BinOp::Subseteq,
            Tok::Kw(Kw::Is) => {
                self.bump();
                let variant = self.ident()?;
                let span = lhs.span.to(variant.span);
                return Ok(Expr { kind: ExprKind::Is(Box::new(lhs), variant), span });
            }
            _ => return Ok(lhs),
        };
        self.bump();
        let rhs = self.range()?;
        Ok(Self::binary(op, lhs, rhs))
    }

    fn range(&mut self) -> PResult<Expr> {
        let lhs = self.additive()?;
        if self.eat_punct("..") {
            let rhs = self.additive()?;
            return Ok(Self::binary(BinOp::Range, lhs, rhs));
        }
        Ok(lhs)
    }

    fn additive(&mut self) -> PResult<Expr> {
        let mut lhs = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Tok::Punct("+") => BinOp::Add,
                Tok::Punct("-") => BinOp::Sub,
                Tok::Kw(Kw::Union) => BinOp::Union,
                Tok::Kw(Kw::Minus) => BinOp::Minus,
                _ => return Ok(lhs),
            };
            self.bump();
            let rhs = self.multiplicative()?;
            lhs = Self::binary(op, lhs, rhs);
        }
    }

    fn multiplicative(&mut self) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Punct("*") => BinOp::Mul,
                Tok::Punct("/") => BinOp::Div,
                Tok::Punct("%") => BinOp::Mod,
                Tok::Kw(Kw::Inter) => BinOp::Inter,
                _ => return Ok(lhs),
            };
            self.bump();
            let rhs = self.unary()?;
            lhs = Self::binary(op, lhs, rhs);
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        self.enter()?;
        let result = self.unary_inner();
        self.depth -= 1;
        result
    }

    fn unary_inner(&mut self) -> PResult<Expr> {
        let start = self.span();
        if self.eat_punct("-") {
            let e = self.unary()?;
            let span = start.to(e.span);
            return Ok(Expr { kind: ExprKind::Neg(Box::new(e)), span });
        }
        if self.eat_punct("!") {
            let e = self.unary()?;
            let span = start.to(e.span);
            return Ok(Expr { kind: ExprKind::Not(Box::new(e)), span });
        }
        self.postfix()
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        loop {
            if self.eat_punct("[") {
                let index = self.expr()?;
                let end = self.expect_punct("]")?;
                let span = e.span.to(end);
                e = Expr {
                    kind: ExprKind::Index(Box::new(e), Box::new(index)),
                    span,
                };
            } else if self.is_punct(".") && !matches!(self.peek_at(1), Tok::Punct(".")) {
                self.bump();
                let name = self.ident()?;
                if self.is_punct("(") {
                    let args = self.args()?;
                    let span = e.span.to(self.prev_span());
                    e = Expr {
                        kind: ExprKind::Method { recv: Box::new(e), name, args },
                        span,
                    };
                } else if self.is_struct_start() {
                    let path = match Self::path_of(&e) {
                        Some(mut path) => {
                            path.push(name);
                            path
                        }
                        None => return self.error("a type name before a literal"),
                    };
                    e = self.struct_lit(path, e.span)?;
                } else {
                    let span = e.span.to(name.span);
                    e = Expr { kind: ExprKind::Field(Box::new(e), name), span };
                }
            } else {
                return Ok(e);
            }
        }
    }

    fn path_of(e: &Expr) -> Option<Vec<Ident>> {
        match &e.kind {
            ExprKind::Name(n) => Some(vec![Ident { name: n.clone(), span: e.span }]),
            _ => None,
        }
    }

    /// `{ ident :` starts a record or variant literal; anything else after a
    /// name (a rule body, say) does not.
    fn is_struct_start(&self) -> bool {
        matches!(self.peek(), Tok::Punct("{"))
            && matches!(self.peek_at(1), Tok::Ident(_))
            && matches!(self.peek_at(2), Tok::Punct(":"))
    }

    fn struct_lit(&mut self, path: Vec<Ident>, start: Span) -> PResult<Expr> {
        self.expect_punct("{")?;
        let mut fields = Vec::new();
        while !self.is_punct("}") {
            let name = self.ident()?;
            self.expect_punct(":")?;
            let value = self.expr()?;
            fields.push((name, value));
            if !self.eat_punct(",") {
                break;
            }
        }
        let end = self.expect_punct("}")?;
        Ok(Expr {
            kind: ExprKind::Struct { path, fields },
            span: start.to(end),
        })
    }

    fn args(&mut self) -> PResult<Vec<Expr>> {
        self.expect_punct("(")?;
        let mut args = Vec::new();
        while !self.is_punct(")") {
            args.push(self.expr()?);
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_punct(")")?;
        Ok(args)
    }

    fn list(&mut self, close: &str) -> PResult<Vec<Expr>> {
        let mut items = Vec::new();
        while !self.is_punct(close) {
            items.push(self.expr()?);
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_punct(close)?;
        Ok(items)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let start = self.span();
        let tok = self.peek().clone();
        let kind = match tok {
            Tok::Int(v) => {
                self.bump();
                ExprKind::Int(v)
            }
            Tok::Kw(Kw::True) => {
                self.bump();
                ExprKind::Bool(true)
            }
            Tok::Kw(Kw::False) => {
                self.bump();
                ExprKind::Bool(false)
            }
            Tok::Kw(Kw::SelfKw) => {
                self.bump();
                ExprKind::SelfRef
            }
            Tok::Punct("(") => {
                self.bump();
                let e = self.expr()?;
                let end = self.expect_punct(")")?;
                return Ok(Expr { kind: e.kind, span: start.to(end) });
            }
            Tok::Punct("{") => {
                self.bump();
                ExprKind::SetLit(self.list("}")?)
            }
            Tok::Punct("[") => {
                self.bump();
                ExprKind::SeqLit(self.list("]")?)
            }
            Tok::Kw(Kw::If) => {
                self.bump();
                let c = self.expr()?;
                self.expect_kw(Kw::Then)?;
                let a = self.expr()?;
                self.expect_kw(Kw::Else)?;
                let b = self.expr()?;
                let span = start.to(b.span);
                return Ok(Expr {
                    kind: ExprKind::If(Box::new(c), Box::new(a), Box::new(b)),
                    span,
                });
            }
            Tok::Kw(Kw::Forall | Kw::Exists) => {
                let kind = if self.is_kw(Kw::Forall) {
                    QuantKind::Forall
                } else {
                    QuantKind::Exists
                };
                self.bump();
                return self.quantifier(kind, start);
            }
            Tok::Ident(name)
                if (name == "count" || name == "sum")
                    && matches!(self.peek_at(1), Tok::Ident(_))
                    && matches!(self.peek_at(2), Tok::Kw(Kw::In)) =>
            {
                self.bump();
                let kind = if name == "count" {
                    QuantKind::Count
                } else {
                    QuantKind::Sum
                };
                return self.quantifier(kind, start);
            }
            Tok::Ident(name) => {
                let ident = self.ident()?;
                if self.is_punct("(") {
                    let args = self.args()?;
                    let span = start.to(self.prev_span());
                    return Ok(Expr { kind: ExprKind::Call { func: ident, args }, span });
                }
                if self.is_struct_start() {
                    return self.struct_lit(vec![ident], start);
                }
                ExprKind::Name(name)
            }
            _ => return self.error("an expression"),
        };
        Ok(Expr { kind, span: start.to(self.prev_span()) })
    }

    fn quantifier(&mut self, kind: QuantKind, start: Span) -> PResult<Expr> {
        let var = self.ident()?;
        self.expect_kw(Kw::In)?;
        let domain = self.range()?;
        self.expect_punct(":")?;
        let body = self.expr()?;
        let span = start.to(body.span);
        Ok(Expr {
            kind: ExprKind::Quant {
                kind,
                var,
                domain: Box::new(domain),
                body: Box::new(body),
            },
            span,
        })
    }
}
