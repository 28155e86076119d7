//! The syntax tree of a DVE file, as written.

use model::Span;

#[derive(Clone, Debug)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntTy {
    /// `byte`: 0..255.
    Byte,
    /// `int`: DiVinE's 16-bit signed integer.
    Int,
}

impl IntTy {
    pub fn bounds(self) -> (i64, i64) {
        match self {
            IntTy::Byte => (0, 255),
            IntTy::Int => (-32768, 32767),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    /// `~`: bitwise complement.
    Compl,
    /// `not`, `!`.
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Imply,
    Or,
    And,
    BitOr,
    BitXor,
    BitAnd,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Shl,
    Shr,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Clone, Debug)]
pub enum Expr {
    Num(i64, Span),
    /// A variable or constant, maybe indexed: `x`, `a[i]`.
    Var(Ident, Option<Box<Expr>>),
    /// Another process's variable: `P->x`, `P->a[i]`.
    Remote(Ident, Ident, Option<Box<Expr>>),
    /// Whether a process is in a state: `P.S`.
    InState(Ident, Ident),
    Unary(UnOp, Box<Expr>, Span),
    Binary(BinOp, Box<Expr>, Box<Expr>, Span),
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Num(_, s) | Expr::Unary(_, _, s) | Expr::Binary(_, _, _, s) => *s,
            Expr::Var(n, i) => i.as_ref().map_or(n.span, |i| n.span.to(i.span())),
            Expr::Remote(p, v, i) => i
                .as_ref()
                .map_or(p.span.to(v.span), |i| p.span.to(i.span())),
            Expr::InState(p, s) => p.span.to(s.span),
        }
    }
}

#[derive(Clone, Debug)]
pub enum Init {
    Scalar(Expr),
    List(Vec<Expr>, Span),
}

#[derive(Clone, Debug)]
pub struct VarDecl {
    pub is_const: bool,
    pub ty: IntTy,
    pub name: Ident,
    /// `[N]`: an array of N elements.
    pub size: Option<Expr>,
    pub init: Option<Init>,
}

#[derive(Clone, Debug)]
pub struct ChanDecl {
    pub name: Ident,
    /// `{byte, int}`: the types of the values a message carries.
    pub types: Vec<IntTy>,
    /// `[N]`: a buffer of N messages; none or 0 is a rendezvous.
    pub size: Option<Expr>,
}

#[derive(Clone, Debug)]
pub struct LValue {
    pub name: Ident,
    pub index: Option<Expr>,
}

impl LValue {
    pub fn span(&self) -> Span {
        self.index
            .as_ref()
            .map_or(self.name.span, |i| self.name.span.to(i.span()))
    }
}

#[derive(Clone, Debug)]
pub enum SyncDir {
    /// `c!` / `c!e` / `c!(e1, e2)`.
    Send(Vec<Expr>),
    /// `c?` / `c?x` / `c?(x, y)`.
    Recv(Vec<LValue>),
}

#[derive(Clone, Debug)]
pub struct Sync {
    pub chan: Ident,
    pub dir: SyncDir,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Transition {
    pub from: Ident,
    pub to: Ident,
    pub guards: Vec<Expr>,
    pub sync: Option<Sync>,
    pub effects: Vec<(LValue, Expr)>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Process {
    pub name: Ident,
    pub decls: Vec<VarDecl>,
    pub states: Vec<Ident>,
    pub init: Option<Ident>,
    pub commits: Vec<Ident>,
    pub asserts: Vec<(Ident, Expr)>,
    pub trans: Vec<Transition>,
}

#[derive(Clone, Debug)]
pub struct System {
    pub decls: Vec<VarDecl>,
    pub chans: Vec<ChanDecl>,
    pub processes: Vec<Process>,
    /// `system async;` (false) or `system sync;` (true), with its span.
    pub kind: Option<(bool, Span)>,
    /// `system async property P;`: the property process.
    pub property: Option<Ident>,
}
