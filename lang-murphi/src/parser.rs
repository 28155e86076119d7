//! Tokens to a [`Program`], with Rumur's grammar and operator precedence
//! (lowest first): `? :`, `->`, `||`, `&&`, `|`, `^`, `&`, prefix `!`,
//! comparisons, `<< >>`, `+ -`, `* / %` and prefix `+ -`, prefix `~`. The
//! first syntax error stops the parse.

use model::{Diagnostic, Span};

use crate::ast::*;
use crate::lexer::{Tok, Token};

type P<T> = Result<T, Diagnostic>;

pub fn parse(toks: &[Token]) -> Result<Program, Diagnostic> {
    let mut p = Parser { toks, at: 0 };
    p.program()
}

struct Parser<'t> {
    toks: &'t [Token],
    at: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Kw(k) => format!("`{k}`"),
        Tok::Num(n) => format!("`{n}`"),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Punct(p) => format!("`{p}`"),
        Tok::Eof => "the end of the file".to_string(),
    }
}

const CATEGORIES: &[(&str, Category)] = &[
    ("assert", Category::Assert),
    ("invariant", Category::Assert),
    ("assume", Category::Assume),
    ("cover", Category::Cover),
    ("liveness", Category::Liveness),
];

impl<'t> Parser<'t> {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].tok
    }
    fn span(&self) -> Span {
        self.toks[self.at].span
    }
    fn prev_span(&self) -> Span {
        self.toks[self.at.saturating_sub(1)].span
    }
    fn bump(&mut self) -> Span {
        let s = self.toks[self.at].span;
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
        s
    }
    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }
    fn is_kw(&self, k: &str) -> bool {
        matches!(self.peek(), Tok::Kw(q) if *q == k)
    }
    fn eat_punct(&mut self, p: &str) -> bool {
        let yes = self.is_punct(p);
        if yes {
            self.bump();
        }
        yes
    }
    fn eat_kw(&mut self, k: &str) -> bool {
        let yes = self.is_kw(k);
        if yes {
            self.bump();
        }
        yes
    }
    fn semis(&mut self) {
        while self.eat_punct(";") {}
    }
    fn unexpected(&self, wanted: &str) -> Diagnostic {
        Diagnostic::error(
            self.span(),
            format!("expected {wanted}, found {}", describe(self.peek())),
        )
        .label(format!("expected {wanted}"))
    }
    fn expect_punct(&mut self, p: &str) -> P<()> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{p}`")))
        }
    }
    fn expect_kw(&mut self, k: &str) -> P<()> {
        if self.eat_kw(k) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{k}`")))
        }
    }
    /// `end`, or the construct's own closing keyword(s).
    fn end(&mut self, own: &[&str]) -> P<()> {
        if self.eat_kw("end") || own.iter().any(|k| self.eat_kw(k)) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("`end` or `{}`", own.join("`/`"))))
        }
    }
    fn ident(&mut self) -> P<Ident> {
        match self.peek().clone() {
            Tok::Ident(name) => {
                let span = self.bump();
                Ok(Ident { name, span })
            }
            _ => Err(self.unexpected("a name")),
        }
    }
    fn string_opt(&mut self) -> Option<String> {
        match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                Some(s)
            }
            _ => None,
        }
    }
    /// One or more names separated by commas (a trailing comma allowed).
    fn ident_list(&mut self) -> P<Vec<Ident>> {
        let mut v = vec![self.ident()?];
        while self.eat_punct(",") {
            if !matches!(self.peek(), Tok::Ident(_)) {
                break;
            }
            v.push(self.ident()?);
        }
        Ok(v)
    }
    fn category(&self) -> Option<Category> {
        CATEGORIES
            .iter()
            .find(|(k, _)| self.is_kw(k))
            .map(|(_, c)| *c)
    }

    // ---- the model ----

    fn program(&mut self) -> P<Program> {
        let mut prog = Program::default();
        loop {
            self.semis();
            if matches!(self.peek(), Tok::Eof) {
                return Ok(prog);
            }
            if self.is_kw("const") || self.is_kw("type") || self.is_kw("var") {
                prog.nodes.extend(self.decl()?.into_iter().map(Node::Decl));
            } else if self.is_kw("function") || self.is_kw("procedure") {
                prog.nodes.push(Node::Function(self.function()?));
            } else if let Some(r) = self.rule_opt()? {
                prog.nodes.push(Node::Rule(r));
            } else {
                return Err(self.unexpected("a declaration, a procedure or function, or a rule"));
            }
        }
    }

    /// One `const`, `type` or `var` section.
    fn decl(&mut self) -> P<Vec<Decl>> {
        let kind = match self.peek() {
            Tok::Kw(k) => *k,
            _ => return Err(self.unexpected("`const`, `type` or `var`")),
        };
        self.bump();
        let mut out = Vec::new();
        while matches!(self.peek(), Tok::Ident(_)) {
            let names = self.ident_list()?;
            self.expect_punct(":")?;
            match kind {
                "const" => {
                    let e = self.expr()?;
                    out.extend(names.into_iter().map(|n| Decl::Const(n, e.clone())));
                }
                "type" => {
                    let t = self.type_expr()?;
                    out.extend(names.into_iter().map(|n| Decl::Type(n, t.clone())));
                }
                _ => {
                    let t = self.type_expr()?;
                    out.extend(names.into_iter().map(|n| Decl::Var(n, t.clone())));
                }
            }
            self.semis();
        }
        Ok(out)
    }

    fn decls(&mut self) -> P<Vec<Decl>> {
        let mut out = Vec::new();
        while self.is_kw("const") || self.is_kw("type") || self.is_kw("var") {
            out.extend(self.decl()?);
        }
        Ok(out)
    }

    fn type_expr(&mut self) -> P<TypeExpr> {
        let start = self.span();
        if self.is_kw("boolean") {
            let span = self.bump();
            return Ok(TypeExpr::Named(Ident { name: "boolean".into(), span }));
        }
        if self.eat_kw("enum") {
            self.expect_punct("{")?;
            let names = if matches!(self.peek(), Tok::Ident(_)) {
                self.ident_list()?
            } else {
                Vec::new()
            };
            self.expect_punct("}")?;
            return Ok(TypeExpr::Enum(names, start.to(self.prev_span())));
        }
        if self.eat_kw("record") {
            let mut fields = Vec::new();
            while matches!(self.peek(), Tok::Ident(_)) {
                let names = self.ident_list()?;
                self.expect_punct(":")?;
                let t = self.type_expr()?;
                fields.extend(names.into_iter().map(|n| (n, t.clone())));
                self.semis();
            }
            self.end(&["endrecord"])?;
            return Ok(TypeExpr::Record(fields, start.to(self.prev_span())));
        }
        if self.eat_kw("array") {
            self.expect_punct("[")?;
            let index = self.type_expr()?;
            self.expect_punct("]")?;
            self.expect_kw("of")?;
            let elem = self.type_expr()?;
            return Ok(TypeExpr::Array(
                Box::new(index),
                Box::new(elem),
                start.to(self.prev_span()),
            ));
        }
        if self.eat_kw("scalarset") {
            self.expect_punct("(")?;
            let n = self.expr()?;
            self.expect_punct(")")?;
            return Ok(TypeExpr::Scalarset(Box::new(n), start.to(self.prev_span())));
        }
        if self.eat_kw("union") {
            self.expect_punct("{")?;
            let mut members = vec![self.type_expr()?];
            while self.eat_punct(",") {
                if self.is_punct("}") {
                    break;
                }
                members.push(self.type_expr()?);
            }
            self.expect_punct("}")?;
            return Ok(TypeExpr::Union(members, start.to(self.prev_span())));
        }
        // CMurphi's `multiset [N] of T` (Rumur has no multisets either).
        if let Tok::Ident(name) = self.peek()
            && name.eq_ignore_ascii_case("multiset")
        {
            return Err(
                Diagnostic::error(self.span(), "`multiset` is not supported yet")
                    .label("CMurphi's multisets are not lowered")
                    .note("docs/murphi.md lists what is supported"),
            );
        }
        if self.is_kw("real") {
            return Err(Diagnostic::error(self.span(), "`real` is not supported")
                .label("Fathom's states hold integers only"));
        }
        let lo = self.expr()?;
        if self.eat_punct("..") {
            let hi = self.expr()?;
            let span = lo.span().to(hi.span());
            return Ok(TypeExpr::Range(Box::new(lo), Box::new(hi), span));
        }
        match lo {
            Expr::Id(i) => Ok(TypeExpr::Named(i)),
            e => Err(Diagnostic::error(e.span(), "expected a type")
                .label("a type name, `lo..hi`, `enum`, `record`, `array`, `scalarset` or `union`")),
        }
    }

    fn function(&mut self) -> P<Function> {
        let start = self.bump(); // `function` / `procedure`
        let name = self.ident()?;
        self.expect_punct("(")?;
        let mut params = Vec::new();
        while !self.is_punct(")") {
            let by_ref = self.eat_kw("var");
            let names = self.ident_list()?;
            self.expect_punct(":")?;
            let ty = self.type_expr()?;
            params.extend(
                names
                    .into_iter()
                    .map(|name| Param { by_ref, name, ty: ty.clone() }),
            );
            self.semis();
        }
        self.expect_punct(")")?;
        let ret = if self.eat_punct(":") {
            let t = self.type_expr()?;
            Some(t)
        } else {
            None
        };
        self.semis();
        let decls = self.decls()?;
        self.eat_kw("begin");
        let body = self.stmts()?;
        self.end(&["endfunction", "endprocedure"])?;
        Ok(Function {
            name,
            params,
            ret,
            decls,
            body,
            span: start.to(self.prev_span()),
        })
    }

    fn quantifier(&mut self) -> P<Quantifier> {
        let name = self.ident()?;
        if self.eat_punct(":=") {
            let from = self.expr()?;
            self.expect_kw("to")?;
            let to = self.expr()?;
            let by = if self.eat_kw("by") {
                Some(self.expr()?)
            } else {
                None
            };
            return Ok(Quantifier::Range(name, from, to, by));
        }
        self.expect_punct(":")?;
        Ok(Quantifier::Type(name, self.type_expr()?))
    }

    /// `name : expr` pairs of an `alias`.
    fn aliases(&mut self) -> P<Vec<(Ident, Expr)>> {
        let mut out = Vec::new();
        while matches!(self.peek(), Tok::Ident(_)) {
            let names = self.ident_list()?;
            self.expect_punct(":")?;
            let e = self.expr()?;
            out.extend(names.into_iter().map(|n| (n, e.clone())));
            self.semis();
        }
        Ok(out)
    }

    /// `decls begin`, or nothing.
    fn decls_header(&mut self) -> P<Vec<Decl>> {
        let decls = self.decls()?;
        if !decls.is_empty() {
            self.expect_kw("begin")?;
        } else {
            self.eat_kw("begin");
        }
        Ok(decls)
    }

    fn rule_opt(&mut self) -> P<Option<Rule>> {
        let start = self.span();
        if self.eat_kw("rule") {
            let name = self.string_opt();
            // A guard is an expression followed by `==>`; else the body starts.
            let at = self.at;
            let guard = match self.expr() {
                Ok(e) if self.eat_punct("==>") => Some(e),
                _ => {
                    self.at = at;
                    None
                }
            };
            let decls = self.decls_header()?;
            let body = self.stmts()?;
            self.end(&["endrule"])?;
            self.semis();
            return Ok(Some(Rule::Simple {
                name,
                guard,
                decls,
                body,
                span: start.to(self.prev_span()),
            }));
        }
        if self.eat_kw("startstate") {
            let name = self.string_opt();
            let decls = self.decls_header()?;
            let body = self.stmts()?;
            self.end(&["endstartstate"])?;
            self.semis();
            return Ok(Some(Rule::Start {
                name,
                decls,
                body,
                span: start.to(self.prev_span()),
            }));
        }
        if let Some(category) = self.category() {
            self.bump();
            let (name, expr) = self.property_body()?;
            self.semis();
            return Ok(Some(Rule::Property {
                category,
                name,
                expr,
                span: start.to(self.prev_span()),
            }));
        }
        if self.eat_kw("ruleset") {
            let mut quants = vec![self.quantifier()?];
            while self.eat_punct(";") {
                self.semis();
                if self.is_kw("do") {
                    break;
                }
                quants.push(self.quantifier()?);
            }
            self.expect_kw("do")?;
            let rules = self.rules()?;
            self.end(&["endruleset"])?;
            self.semis();
            return Ok(Some(Rule::Ruleset(
                quants,
                rules,
                start.to(self.prev_span()),
            )));
        }
        if self.eat_kw("alias") {
            let aliases = self.aliases()?;
            self.expect_kw("do")?;
            let rules = self.rules()?;
            self.end(&["endalias"])?;
            self.semis();
            return Ok(Some(Rule::Alias(
                aliases,
                rules,
                start.to(self.prev_span()),
            )));
        }
        Ok(None)
    }

    fn rules(&mut self) -> P<Vec<Rule>> {
        let mut out = Vec::new();
        self.semis();
        while let Some(r) = self.rule_opt()? {
            out.push(r);
        }
        Ok(out)
    }

    /// After a property's keyword: `"name" expr` or `expr ["name"]`.
    fn property_body(&mut self) -> P<(Option<String>, Expr)> {
        if let Some(name) = self.string_opt() {
            return Ok((Some(name), self.expr()?));
        }
        let e = self.expr()?;
        Ok((self.string_opt(), e))
    }

    // ---- statements ----

    fn stmts(&mut self) -> P<Vec<Stmt>> {
        let mut out = Vec::new();
        self.semis();
        while let Some(s) = self.stmt_opt()? {
            out.push(s);
            self.semis();
        }
        Ok(out)
    }

    fn stmt_opt(&mut self) -> P<Option<Stmt>> {
        let start = self.span();
        let done = |p: &Self| start.to(p.prev_span());
        if let Some(category) = self.category() {
            self.bump();
            let (name, e) = self.property_body()?;
            return Ok(Some(Stmt::Property(category, name, e, done(self))));
        }
        let kw = match self.peek() {
            Tok::Kw(k) => Some(*k),
            Tok::Ident(_) => None,
            _ => return Ok(None),
        };
        let s = match kw {
            Some("alias") => {
                self.bump();
                let aliases = self.aliases()?;
                self.expect_kw("do")?;
                let body = self.stmts()?;
                self.end(&["endalias"])?;
                Stmt::Alias(aliases, body, done(self))
            }
            Some("error") => {
                self.bump();
                let msg = self
                    .string_opt()
                    .ok_or_else(|| self.unexpected("a message string"))?;
                Stmt::Error(msg, done(self))
            }
            Some("clear") => {
                self.bump();
                let d = self.designator()?;
                Stmt::Clear(d, done(self))
            }
            Some("undefine") => {
                self.bump();
                let d = self.designator()?;
                Stmt::Undefine(d, done(self))
            }
            Some("for") => {
                self.bump();
                let q = self.quantifier()?;
                self.expect_kw("do")?;
                let body = self.stmts()?;
                self.end(&["endfor"])?;
                Stmt::For(q, body, done(self))
            }
            Some("while") => {
                self.bump();
                let c = self.expr()?;
                self.expect_kw("do")?;
                let body = self.stmts()?;
                self.end(&["endwhile"])?;
                Stmt::While(c, body, done(self))
            }
            Some("if") => {
                self.bump();
                let mut clauses = Vec::new();
                let c = self.expr()?;
                self.expect_kw("then")?;
                clauses.push((Some(c), self.stmts()?));
                while self.eat_kw("elsif") {
                    let c = self.expr()?;
                    self.expect_kw("then")?;
                    clauses.push((Some(c), self.stmts()?));
                }
                if self.eat_kw("else") {
                    clauses.push((None, self.stmts()?));
                }
                self.end(&["endif"])?;
                Stmt::If(clauses, done(self))
            }
            Some("switch") => {
                self.bump();
                let e = self.expr()?;
                let mut cases = Vec::new();
                while self.eat_kw("case") {
                    let mut values = vec![self.expr()?];
                    while self.eat_punct(",") {
                        if self.is_punct(":") {
                            break;
                        }
                        values.push(self.expr()?);
                    }
                    self.expect_punct(":")?;
                    cases.push((values, self.stmts()?));
                }
                if self.eat_kw("else") {
                    cases.push((Vec::new(), self.stmts()?));
                }
                self.end(&["endswitch"])?;
                Stmt::Switch(e, cases, done(self))
            }
            Some("put") => {
                self.bump();
                let arg = if self.string_opt().is_some() {
                    None
                } else {
                    Some(self.expr()?)
                };
                Stmt::Put(arg, done(self))
            }
            Some("return") => {
                self.bump();
                let value = if self.is_punct(";") || self.at_block_end() {
                    None
                } else {
                    Some(self.expr()?)
                };
                Stmt::Return(value, done(self))
            }
            Some(_) => return Ok(None),
            None => {
                if matches!(
                    self.toks.get(self.at + 1).map(|t| &t.tok),
                    Some(Tok::Punct("("))
                ) {
                    let name = self.ident()?;
                    let args = self.args()?;
                    Stmt::Call(name, args, done(self))
                } else {
                    let d = self.designator()?;
                    self.expect_punct(":=")?;
                    let e = self.expr()?;
                    Stmt::Assign(d, e, done(self))
                }
            }
        };
        Ok(Some(s))
    }

    /// Whether the next token closes a block (so a bare `return` ends).
    fn at_block_end(&self) -> bool {
        matches!(self.peek(), Tok::Kw(k) if k.starts_with("end") || ["else", "elsif", "case"].contains(k))
    }

    /// `(e, e, ...)`, a trailing comma allowed.
    fn args(&mut self) -> P<Vec<Expr>> {
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

    fn designator(&mut self) -> P<Expr> {
        let name = self.ident()?;
        self.postfix(Expr::Id(name))
    }

    fn postfix(&mut self, mut e: Expr) -> P<Expr> {
        loop {
            if self.eat_punct(".") {
                let f = self.ident()?;
                let span = e.span().to(f.span);
                e = Expr::Field(Box::new(e), f, span);
            } else if self.eat_punct("[") {
                let i = self.expr()?;
                self.expect_punct("]")?;
                let span = e.span().to(self.prev_span());
                e = Expr::Index(Box::new(e), Box::new(i), span);
            } else {
                return Ok(e);
            }
        }
    }

    // ---- expressions ----

    pub fn expr(&mut self) -> P<Expr> {
        let c = self.implies()?;
        if self.eat_punct("?") {
            let a = self.expr()?;
            self.expect_punct(":")?;
            let b = self.expr()?;
            let span = c.span().to(b.span());
            return Ok(Expr::Ternary(Box::new(c), Box::new(a), Box::new(b), span));
        }
        Ok(c)
    }

    fn implies(&mut self) -> P<Expr> {
        let a = self.binary(0)?;
        if self.eat_punct("->") {
            let b = self.binary(0)?;
            let span = a.span().to(b.span());
            return Ok(Expr::Binary(BinOp::Implies, Box::new(a), Box::new(b), span));
        }
        Ok(a)
    }

    /// Left-associative levels: `||`, `&&`, `|`, `^`, `&`; then `!`.
    fn binary(&mut self, level: usize) -> P<Expr> {
        const LEVELS: &[(&str, BinOp)] = &[
            ("||", BinOp::Or),
            ("&&", BinOp::And),
            ("|", BinOp::Pipe),
            ("^", BinOp::Xor),
            ("&", BinOp::Amp),
        ];
        let Some(&(tok, op)) = LEVELS.get(level) else {
            return self.not();
        };
        let mut lhs = self.binary(level + 1)?;
        while self.eat_punct(tok) {
            let rhs = self.binary(level + 1)?;
            let span = lhs.span().to(rhs.span());
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs), span);
        }
        Ok(lhs)
    }

    fn not(&mut self) -> P<Expr> {
        let start = self.span();
        if self.eat_punct("!") {
            let e = self.not()?;
            let span = start.to(e.span());
            return Ok(Expr::Unary(UnOp::Not, Box::new(e), span));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> P<Expr> {
        let a = self.shift()?;
        let op = match self.peek() {
            Tok::Punct("<") => BinOp::Lt,
            Tok::Punct("<=") => BinOp::Le,
            Tok::Punct(">") => BinOp::Gt,
            Tok::Punct(">=") => BinOp::Ge,
            Tok::Punct("=") | Tok::Punct("==") => BinOp::Eq,
            Tok::Punct("!=") => BinOp::Ne,
            _ => return Ok(a),
        };
        self.bump();
        let b = self.shift()?;
        let span = a.span().to(b.span());
        Ok(Expr::Binary(op, Box::new(a), Box::new(b), span))
    }

    fn left(&mut self, ops: &[(&str, BinOp)], next: fn(&mut Self) -> P<Expr>) -> P<Expr> {
        let mut lhs = next(self)?;
        loop {
            let Some(&(_, op)) = ops.iter().find(|(t, _)| self.is_punct(t)) else {
                return Ok(lhs);
            };
            self.bump();
            let rhs = next(self)?;
            let span = lhs.span().to(rhs.span());
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs), span);
        }
    }

    fn shift(&mut self) -> P<Expr> {
        self.left(&[("<<", BinOp::Shl), (">>", BinOp::Shr)], Self::additive)
    }

    fn additive(&mut self) -> P<Expr> {
        self.left(
            &[("+", BinOp::Add), ("-", BinOp::Sub)],
            Self::multiplicative,
        )
    }

    fn multiplicative(&mut self) -> P<Expr> {
        self.left(
            &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Mod)],
            Self::unary,
        )
    }

    fn unary(&mut self) -> P<Expr> {
        let start = self.span();
        let op = if self.eat_punct("-") {
            UnOp::Neg
        } else if self.eat_punct("+") {
            UnOp::Plus
        } else if self.eat_punct("~") {
            UnOp::Bnot
        } else if self.eat_punct("!") {
            // `x = !y`: `!` binds looser than `=`, but as an operand it
            // takes what follows up to the comparison.
            let e = self.comparison()?;
            let span = start.to(e.span());
            return Ok(Expr::Unary(UnOp::Not, Box::new(e), span));
        } else {
            return self.primary();
        };
        let e = self.unary()?;
        let span = start.to(e.span());
        Ok(Expr::Unary(op, Box::new(e), span))
    }

    fn primary(&mut self) -> P<Expr> {
        let start = self.span();
        match self.peek().clone() {
            Tok::Num(n) => {
                self.bump();
                Ok(Expr::Num(n, start))
            }
            Tok::Punct("(") => {
                self.bump();
                let e = self.expr()?;
                self.expect_punct(")")?;
                self.postfix(e)
            }
            Tok::Kw(k @ ("forall" | "exists")) => {
                self.bump();
                let q = self.quantifier()?;
                self.expect_kw("do")?;
                let body = self.expr()?;
                if k == "forall" {
                    self.end(&["endforall"])?;
                    Ok(Expr::Forall(
                        Box::new(q),
                        Box::new(body),
                        start.to(self.prev_span()),
                    ))
                } else {
                    self.end(&["endexists"])?;
                    Ok(Expr::Exists(
                        Box::new(q),
                        Box::new(body),
                        start.to(self.prev_span()),
                    ))
                }
            }
            Tok::Kw("isundefined") => {
                self.bump();
                self.expect_punct("(")?;
                let d = self.designator()?;
                self.expect_punct(")")?;
                Ok(Expr::IsUndefined(Box::new(d), start.to(self.prev_span())))
            }
            Tok::Kw("ismember") => {
                self.bump();
                self.expect_punct("(")?;
                let e = self.expr()?;
                self.expect_punct(",")?;
                let t = self.type_expr()?;
                self.expect_punct(")")?;
                Ok(Expr::IsMember(
                    Box::new(e),
                    Box::new(t),
                    start.to(self.prev_span()),
                ))
            }
            Tok::Ident(_) => {
                let name = self.ident()?;
                if self.is_punct("(") {
                    let args = self.args()?;
                    let span = start.to(self.prev_span());
                    return self.postfix(Expr::Call(name, args, span));
                }
                self.postfix(Expr::Id(name))
            }
            _ => Err(self.unexpected("an expression")),
        }
    }
}
