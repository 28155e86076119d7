//! The syntax tree as parsed, before names are resolved. Every node keeps
//! its span so later passes can point at it.

use crate::span::Span;

#[derive(Clone, Debug)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, Default)]
pub struct SpecFile {
    pub name: Option<Ident>,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug)]
pub enum Item {
    Const {
        name: Ident,
        value: Expr,
    },
    Type {
        name: Ident,
        ty: TypeExpr,
    },
    Fn {
        name: Ident,
        params: Vec<Param>,
        ret: TypeExpr,
        body: Expr,
    },
    Var(VarDecl),
    Init(RuleDecl),
    Rule(RuleDecl),
    Invariant {
        name: Ident,
        expr: Expr,
    },
    Reachable {
        name: Ident,
        expr: Expr,
    },
    Constraint(Expr),
    Terminal(Expr),
    Network(NetworkDecl),
    Process(ProcessDecl),
    /// `property Name: ...`: a temporal (liveness) property.
    Property(PropertyDecl),
    /// `fairness weak|strong: all | R, S;`
    Fairness(FairnessDecl),
}

/// `fair` (weak) or `fair+` (strong) in front of a rule, `on` or process.
#[derive(Clone, Copy, Debug)]
pub struct FairMark {
    pub strong: bool,
    pub span: Span,
}

/// The temporal forms are the IR's: the parser builds them as they are.
pub use crate::ir::TemporalKind;

#[derive(Clone, Debug)]
pub struct PropertyDecl {
    pub name: Ident,
    /// `forall x in T:` prefixes, outermost first: one property per binding.
    pub binders: Vec<Param>,
    pub kind: TemporalKind,
    pub p: Expr,
    /// `Q` of `P leadsto Q`.
    pub q: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct FairnessDecl {
    pub strong: bool,
    /// The rules or processes named, as one action; `None`: `all`.
    pub targets: Option<Vec<Vec<Ident>>>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeExpr,
}

#[derive(Clone, Debug)]
pub struct VarDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    pub init: Option<Expr>,
    pub durable: bool,
}

/// What kind of step a process rule becomes in an emitted implementation;
/// all check the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    Rule,
    Timeout,
    Input,
    Init,
}

#[derive(Clone, Debug)]
pub struct RuleDecl {
    pub kind: RuleKind,
    pub fair: Option<FairMark>,
    pub name: Ident,
    pub params: Vec<Param>,
    pub guard: Option<Expr>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct OnDecl {
    pub fair: Option<FairMark>,
    pub variant: Ident,
    pub fields: Vec<Ident>,
    pub from: Option<Ident>,
    pub guard: Option<Expr>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct NetworkDecl {
    pub settings: Vec<(Ident, Expr)>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct ProcessDecl {
    pub fair: Option<FairMark>,
    pub name: Ident,
    pub index: Option<Param>,
    pub vars: Vec<VarDecl>,
    pub rules: Vec<RuleDecl>,
    pub handlers: Vec<OnDecl>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TypeExpr {
    Bool(Span),
    Named(Ident),
    Range {
        lo: Box<Expr>,
        hi: Box<Expr>,
        span: Span,
    },
    Enum {
        variants: Vec<(Ident, Vec<Param>)>,
        span: Span,
    },
    Record {
        fields: Vec<Param>,
        span: Span,
    },
    Array {
        index: Box<TypeExpr>,
        elem: Box<TypeExpr>,
        span: Span,
    },
    Set {
        elem: Box<TypeExpr>,
        span: Span,
    },
    Seq {
        elem: Box<TypeExpr>,
        capacity: Box<Expr>,
        span: Span,
    },
    /// `symmetric N`: N interchangeable values (only as a `type`'s body).
    Symmetric {
        count: Box<Expr>,
        span: Span,
    },
}

impl TypeExpr {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Bool(s) => *s,
            TypeExpr::Named(i) => i.span,
            TypeExpr::Range { span, .. }
            | TypeExpr::Enum { span, .. }
            | TypeExpr::Record { span, .. }
            | TypeExpr::Array { span, .. }
            | TypeExpr::Set { span, .. }
            | TypeExpr::Seq { span, .. }
            | TypeExpr::Symmetric { span, .. } => *span,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Implies,
    In,
    Notin,
    Union,
    Inter,
    Minus,
    Subseteq,
    Range,
}

impl BinOp {
    pub fn text(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
            BinOp::Implies => "=>",
            BinOp::In => "in",
            BinOp::Notin => "notin",
            BinOp::Union => "union",
            BinOp::Inter => "inter",
            BinOp::Minus => "minus",
            BinOp::Subseteq => "subseteq",
            BinOp::Range => "..",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuantKind {
    Forall,
    Exists,
    Count,
    Sum,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Int(i64),
    Bool(bool),
    Name(String),
    SelfRef,
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    SetLit(Vec<Expr>),
    SeqLit(Vec<Expr>),
    /// `Name { f: e, .. }`, `Type.Variant { .. }`: a record or variant literal.
    Struct {
        path: Vec<Ident>,
        fields: Vec<(Ident, Expr)>,
    },
    Quant {
        kind: QuantKind,
        var: Ident,
        domain: Box<Expr>,
        body: Box<Expr>,
    },
    Call {
        func: Ident,
        args: Vec<Expr>,
    },
    Index(Box<Expr>, Box<Expr>),
    Field(Box<Expr>, Ident),
    Is(Box<Expr>, Ident),
    /// `recv.name(args)`: a method; only statements use them.
    Method {
        recv: Box<Expr>,
        name: Ident,
        args: Vec<Expr>,
    },
}

#[derive(Clone, Debug)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    Set,
    Add,
    Sub,
}

#[derive(Clone, Debug)]
pub enum StmtKind {
    Assign {
        target: Expr,
        op: AssignOp,
        value: Expr,
    },
    Let {
        name: Ident,
        value: Expr,
    },
    If {
        cond: Expr,
        then: Vec<Stmt>,
        otherwise: Vec<Stmt>,
    },
    For {
        var: Ident,
        domain: Expr,
        body: Vec<Stmt>,
    },
    Method {
        recv: Expr,
        name: Ident,
        args: Vec<Expr>,
    },
    Assert {
        cond: Expr,
        message: String,
    },
    Send {
        msg: Expr,
        dest: Expr,
    },
    Broadcast {
        msg: Expr,
        dest: Ident,
    },
    Reply {
        msg: Expr,
    },
}
