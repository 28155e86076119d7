//! Tokens to a [`System`]. The first syntax error stops the parse: DVE
//! files are machine-generated more often than not, and one clear error
//! beats a cascade.

use model::{Diagnostic, Span};

use crate::ast::*;
use crate::lexer::{Tok, Token};

type P<T> = Result<T, Diagnostic>;

struct Parser<'t> {
    toks: &'t [Token],
    at: usize,
}

pub fn parse(toks: &[Token]) -> Result<System, Diagnostic> {
    let mut p = Parser { toks, at: 0 };
    p.system()
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Num(n) => format!("`{n}`"),
        Tok::Punct(p) => format!("`{p}`"),
        Tok::Eof => "the end of the file".to_string(),
    }
}

impl<'t> Parser<'t> {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].tok
    }
    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.at + n).min(self.toks.len() - 1)].tok
    }
    fn span(&self) -> Span {
        self.toks[self.at].span
    }
    fn prev_span(&self) -> Span {
        self.toks[self.at.saturating_sub(1)].span
    }
    fn bump(&mut self) -> &Token {
        let t = &self.toks[self.at];
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
        t
    }
    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }
    fn is_kw(&self, k: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == k)
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
    fn unexpected(&self, wanted: &str) -> Diagnostic {
        Diagnostic::error(
            self.span(),
            format!("expected {wanted}, found {}", describe(self.peek())),
        )
        .label(format!("expected {wanted}"))
    }
    fn expect(&mut self, p: &str) -> P<()> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{p}`")))
        }
    }
    fn ident(&mut self) -> P<Ident> {
        match self.peek().clone() {
            Tok::Ident(name) => {
                let span = self.bump().span;
                Ok(Ident { name, span })
            }
            _ => Err(self.unexpected("a name")),
        }
    }
    /// One or more `item`s separated by commas.
    fn comma_list<T>(&mut self, mut item: impl FnMut(&mut Self) -> P<T>) -> P<Vec<T>> {
        let mut v = vec![item(self)?];
        while self.eat_punct(",") {
            v.push(item(self)?);
        }
        Ok(v)
    }

    fn ident_list(&mut self) -> P<Vec<Ident>> {
        let v = self.comma_list(Self::ident)?;
        self.expect(";")?;
        Ok(v)
    }

    fn system(&mut self) -> P<System> {
        let mut sys = System {
            decls: Vec::new(),
            chans: Vec::new(),
            processes: Vec::new(),
            kind: None,
            property: None,
        };
        loop {
            if matches!(self.peek(), Tok::Eof) {
                break;
            }
            if self.is_kw("process") {
                sys.processes.push(self.process()?);
            } else if self.is_kw("channel") {
                self.channels(&mut sys.chans)?;
            } else if self.is_kw("system") {
                let start = self.bump().span;
                let sync = if self.eat_kw("async") {
                    false
                } else if self.eat_kw("sync") {
                    true
                } else {
                    return Err(self.unexpected("`async` or `sync`"));
                };
                sys.kind = Some((sync, start.to(self.prev_span())));
                if self.eat_kw("property") {
                    sys.property = Some(self.ident()?);
                }
                self.expect(";")?;
            } else if self.is_kw("const") || self.is_kw("byte") || self.is_kw("int") {
                self.var_decls(&mut sys.decls)?;
            } else {
                return Err(self.unexpected(
                    "a declaration (`byte`, `int`, `const`, `channel`, `process` or `system`)",
                ));
            }
        }
        Ok(sys)
    }

    fn int_ty(&mut self) -> P<IntTy> {
        if self.eat_kw("byte") {
            Ok(IntTy::Byte)
        } else if self.eat_kw("int") {
            Ok(IntTy::Int)
        } else {
            Err(self.unexpected("`byte` or `int`"))
        }
    }

    fn var_decls(&mut self, out: &mut Vec<VarDecl>) -> P<()> {
        let is_const = self.eat_kw("const");
        let ty = self.int_ty()?;
        loop {
            let name = self.ident()?;
            let size = self.index()?.map(|e| *e);
            let init = if self.eat_punct("=") {
                if self.is_punct("{") {
                    let start = self.bump().span;
                    let mut items = Vec::new();
                    if !self.is_punct("}") {
                        items = self.comma_list(Self::expr)?;
                    }
                    self.expect("}")?;
                    Some(Init::List(items, start.to(self.prev_span())))
                } else {
                    Some(Init::Scalar(self.expr()?))
                }
            } else {
                None
            };
            out.push(VarDecl { is_const, ty, name, size, init });
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect(";")
    }

    fn channels(&mut self, out: &mut Vec<ChanDecl>) -> P<()> {
        self.bump(); // `channel`
        let mut types = Vec::new();
        if self.eat_punct("{") {
            types = self.comma_list(Self::int_ty)?;
            self.expect("}")?;
        }
        loop {
            let name = self.ident()?;
            let size = self.index()?.map(|e| *e);
            out.push(ChanDecl { name, types: types.clone(), size });
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect(";")
    }

    fn process(&mut self) -> P<Process> {
        self.bump(); // `process`
        let name = self.ident()?;
        self.expect("{")?;
        let mut proc = Process {
            name,
            decls: Vec::new(),
            states: Vec::new(),
            init: None,
            commits: Vec::new(),
            asserts: Vec::new(),
            trans: Vec::new(),
        };
        loop {
            if self.eat_punct("}") {
                break;
            } else if self.is_kw("const") || self.is_kw("byte") || self.is_kw("int") {
                self.var_decls(&mut proc.decls)?;
            } else if self.eat_kw("state") {
                proc.states.extend(self.ident_list()?);
            } else if self.eat_kw("init") {
                proc.init = Some(self.ident()?);
                self.expect(";")?;
            } else if self.eat_kw("commit") {
                proc.commits.extend(self.ident_list()?);
            } else if self.eat_kw("accept") {
                self.ident_list()?;
            } else if self.eat_kw("assert") {
                let asserts = self.comma_list(|p| {
                    let s = p.ident()?;
                    p.expect(":")?;
                    Ok((s, p.expr()?))
                })?;
                proc.asserts.extend(asserts);
                self.expect(";")?;
            } else if self.eat_kw("trans") {
                let trans = self.comma_list(Self::transition)?;
                proc.trans.extend(trans);
                self.expect(";")?;
            } else if self.is_kw("channel") {
                return Err(Diagnostic::error(
                    self.span(),
                    "channels declared inside a process are not supported",
                )
                .label("declare the channel at the top level"));
            } else {
                return Err(self.unexpected(
                    "`state`, `init`, `commit`, `assert`, `trans`, a variable or `}`",
                ));
            }
        }
        // DiVinE accepts an optional `;` after a process.
        self.eat_punct(";");
        Ok(proc)
    }

    fn transition(&mut self) -> P<Transition> {
        let from = self.ident()?;
        self.expect("->")?;
        let to = self.ident()?;
        self.expect("{")?;
        let mut t = Transition {
            span: from.span.to(to.span),
            from,
            to,
            guards: Vec::new(),
            sync: None,
            effects: Vec::new(),
        };
        loop {
            if self.eat_punct("}") {
                break;
            } else if self.eat_kw("guard") {
                t.guards.push(self.expr()?);
                self.expect(";")?;
            } else if self.is_kw("sync") {
                let start = self.bump().span;
                if t.sync.is_some() {
                    return Err(
                        Diagnostic::error(start, "a transition has at most one `sync`")
                            .label("second `sync`"),
                    );
                }
                let chan = self.ident()?;
                let dir = if self.eat_punct("!") {
                    let mut values = Vec::new();
                    if !self.is_punct(";") {
                        // `c!(a+1)%3` is one value, `c!(a, b)` two: try one
                        // expression first.
                        let start = self.at;
                        match self.expr() {
                            Ok(e) if self.is_punct(";") => values.push(e),
                            _ => {
                                self.at = start;
                                self.expect("(")?;
                                values = self.comma_list(Self::expr)?;
                                self.expect(")")?;
                            }
                        }
                    }
                    SyncDir::Send(values)
                } else if self.eat_punct("?") {
                    let mut lvals = Vec::new();
                    if self.eat_punct("(") {
                        lvals = self.comma_list(Self::lvalue)?;
                        self.expect(")")?;
                    } else if !self.is_punct(";") {
                        lvals.push(self.lvalue()?);
                    }
                    SyncDir::Recv(lvals)
                } else {
                    return Err(self.unexpected("`!` or `?`"));
                };
                t.sync = Some(Sync { chan, dir, span: start.to(self.prev_span()) });
                self.expect(";")?;
            } else if self.eat_kw("effect") {
                let effects = self.comma_list(|p| {
                    let lv = p.lvalue()?;
                    p.expect("=")?;
                    Ok((lv, p.expr()?))
                })?;
                t.effects.extend(effects);
                self.expect(";")?;
            } else {
                return Err(self.unexpected("`guard`, `sync`, `effect` or `}`"));
            }
        }
        Ok(t)
    }

    fn lvalue(&mut self) -> P<LValue> {
        let name = self.ident()?;
        if self.is_punct("->") {
            return Err(Diagnostic::error(
                self.span(),
                "another process's variable cannot be assigned",
            )
            .label("DVE writes only global variables and the process's own"));
        }
        let index = if self.eat_punct("[") {
            let e = self.expr()?;
            self.expect("]")?;
            Some(e)
        } else {
            None
        };
        Ok(LValue { name, index })
    }

    // ---- expressions, by precedence (lowest first) ----

    pub fn expr(&mut self) -> P<Expr> {
        self.binary(0)
    }

    fn binop(&self, level: usize) -> Option<BinOp> {
        let op = match self.peek() {
            Tok::Ident(s) => match s.as_str() {
                "imply" => BinOp::Imply,
                "or" => BinOp::Or,
                "and" => BinOp::And,
                _ => return None,
            },
            Tok::Punct(p) => match *p {
                "||" => BinOp::Or,
                "&&" => BinOp::And,
                "|" => BinOp::BitOr,
                "^" => BinOp::BitXor,
                "&" => BinOp::BitAnd,
                "==" => BinOp::Eq,
                "!=" => BinOp::Ne,
                "<" => BinOp::Lt,
                "<=" => BinOp::Le,
                ">" => BinOp::Gt,
                ">=" => BinOp::Ge,
                "<<" => BinOp::Shl,
                ">>" => BinOp::Shr,
                "+" => BinOp::Add,
                "-" => BinOp::Sub,
                "*" => BinOp::Mul,
                "/" => BinOp::Div,
                "%" => BinOp::Mod,
                _ => return None,
            },
            _ => return None,
        };
        (level_of(op) == level).then_some(op)
    }

    fn binary(&mut self, level: usize) -> P<Expr> {
        if level > MAX_LEVEL {
            return self.unary();
        }
        let mut lhs = self.binary(level + 1)?;
        while let Some(op) = self.binop(level) {
            self.bump();
            let rhs = self.binary(level + 1)?;
            let span = lhs.span().to(rhs.span());
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs), span);
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> P<Expr> {
        let start = self.span();
        let op = if self.eat_punct("-") {
            Some(UnOp::Neg)
        } else if self.eat_punct("~") {
            Some(UnOp::Compl)
        } else if self.eat_punct("!") || self.eat_kw("not") {
            Some(UnOp::Not)
        } else {
            None
        };
        if let Some(op) = op {
            let e = self.unary()?;
            let span = start.to(e.span());
            return Ok(Expr::Unary(op, Box::new(e), span));
        }
        self.primary()
    }

    fn primary(&mut self) -> P<Expr> {
        match self.peek().clone() {
            Tok::Num(n) => {
                let span = self.bump().span;
                Ok(Expr::Num(n, span))
            }
            Tok::Punct("(") => {
                self.bump();
                let e = self.expr()?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Ident(ref s) if s == "true" || s == "false" => {
                let span = self.bump().span;
                Ok(Expr::Num((s == "true") as i64, span))
            }
            Tok::Ident(_) => {
                let name = self.ident()?;
                if self.is_punct("->") && matches!(self.peek_at(1), Tok::Ident(_)) {
                    self.bump();
                    let var = self.ident()?;
                    let index = self.index()?;
                    return Ok(Expr::Remote(name, var, index));
                }
                if self.is_punct(".") {
                    self.bump();
                    let state = self.ident()?;
                    return Ok(Expr::InState(name, state));
                }
                let index = self.index()?;
                Ok(Expr::Var(name, index))
            }
            _ => Err(self.unexpected("an expression")),
        }
    }

    fn index(&mut self) -> P<Option<Box<Expr>>> {
        if self.eat_punct("[") {
            let e = self.expr()?;
            self.expect("]")?;
            Ok(Some(Box::new(e)))
        } else {
            Ok(None)
        }
    }
}

const MAX_LEVEL: usize = 10;

fn level_of(op: BinOp) -> usize {
    match op {
        BinOp::Imply => 0,
        BinOp::Or => 1,
        BinOp::And => 2,
        BinOp::BitOr => 3,
        BinOp::BitXor => 4,
        BinOp::BitAnd => 5,
        BinOp::Eq | BinOp::Ne => 6,
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 7,
        BinOp::Shl | BinOp::Shr => 8,
        BinOp::Add | BinOp::Sub => 9,
        BinOp::Mul | BinOp::Div | BinOp::Mod => 10,
    }
}
