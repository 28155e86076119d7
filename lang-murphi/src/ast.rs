//! The syntax tree of a Murphi model, as written (Rumur's grammar).

use model::Span;

#[derive(Clone, Debug)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TypeExpr {
    /// A declared type, or `boolean`.
    Named(Ident),
    Range(Box<Expr>, Box<Expr>, Span),
    Enum(Vec<Ident>, Span),
    Record(Vec<(Ident, TypeExpr)>, Span),
    Array(Box<TypeExpr>, Box<TypeExpr>, Span),
    Scalarset(Box<Expr>, Span),
    Union(Vec<TypeExpr>, Span),
}

impl TypeExpr {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named(i) => i.span,
            TypeExpr::Range(_, _, s)
            | TypeExpr::Enum(_, s)
            | TypeExpr::Record(_, s)
            | TypeExpr::Array(_, _, s)
            | TypeExpr::Scalarset(_, s)
            | TypeExpr::Union(_, s) => *s,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
    Plus,
    /// `~`: bitwise complement.
    Bnot,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Implies,
    /// `||`, `∨`: logical.
    Or,
    /// `&&`, `∧`: logical.
    And,
    /// `|`: logical on booleans, bitwise on integers.
    Pipe,
    Xor,
    /// `&`: logical on booleans, bitwise on integers.
    Amp,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    Shl,
    Shr,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Clone, Debug)]
pub enum Quantifier {
    /// `i : T`
    Type(Ident, TypeExpr),
    /// `i := a to b [by c]`
    Range(Ident, Expr, Expr, Option<Expr>),
}

impl Quantifier {
    pub fn name(&self) -> &Ident {
        match self {
            Quantifier::Type(i, _) | Quantifier::Range(i, ..) => i,
        }
    }
}

#[derive(Clone, Debug)]
pub enum Expr {
    /// Wider than the IR's integers: Rumur takes 64-bit unsigned literals.
    Num(i128, Span),
    Id(Ident),
    Field(Box<Expr>, Ident, Span),
    Index(Box<Expr>, Box<Expr>, Span),
    Call(Ident, Vec<Expr>, Span),
    Unary(UnOp, Box<Expr>, Span),
    Binary(BinOp, Box<Expr>, Box<Expr>, Span),
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>, Span),
    Forall(Box<Quantifier>, Box<Expr>, Span),
    Exists(Box<Quantifier>, Box<Expr>, Span),
    IsUndefined(Box<Expr>, Span),
    IsMember(Box<Expr>, Box<TypeExpr>, Span),
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Num(_, s)
            | Expr::Field(_, _, s)
            | Expr::Index(_, _, s)
            | Expr::Call(_, _, s)
            | Expr::Unary(_, _, s)
            | Expr::Binary(_, _, _, s)
            | Expr::Ternary(_, _, _, s)
            | Expr::Forall(_, _, s)
            | Expr::Exists(_, _, s)
            | Expr::IsUndefined(_, s)
            | Expr::IsMember(_, _, s) => *s,
            Expr::Id(i) => i.span,
        }
    }
}

#[derive(Clone, Debug)]
pub enum Decl {
    Const(Ident, Expr),
    Type(Ident, TypeExpr),
    Var(Ident, TypeExpr),
}

/// What a property (a rule or a statement) claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// `assert`, `invariant`.
    Assert,
    Assume,
    Cover,
    Liveness,
}

#[derive(Clone, Debug)]
pub enum Stmt {
    Assign(Expr, Expr, Span),
    /// `if` / `elsif` clauses (`None`: `else`).
    If(Vec<(Option<Expr>, Vec<Stmt>)>, Span),
    /// Cases (an empty list of values: `else`).
    Switch(Expr, Vec<(Vec<Expr>, Vec<Stmt>)>, Span),
    For(Quantifier, Vec<Stmt>, Span),
    While(Expr, Vec<Stmt>, Span),
    Alias(Vec<(Ident, Expr)>, Vec<Stmt>, Span),
    Call(Ident, Vec<Expr>, Span),
    Clear(Expr, Span),
    Undefine(Expr, Span),
    Error(String, Span),
    Property(Category, Option<String>, Expr, Span),
    Put(Option<Expr>, Span),
    Return(Option<Expr>, Span),
}

impl Stmt {
    pub fn span(&self) -> Span {
        match self {
            Stmt::Assign(_, _, sp)
            | Stmt::If(_, sp)
            | Stmt::Switch(_, _, sp)
            | Stmt::For(_, _, sp)
            | Stmt::While(_, _, sp)
            | Stmt::Alias(_, _, sp)
            | Stmt::Call(_, _, sp)
            | Stmt::Clear(_, sp)
            | Stmt::Undefine(_, sp)
            | Stmt::Error(_, sp)
            | Stmt::Property(_, _, _, sp)
            | Stmt::Put(_, sp)
            | Stmt::Return(_, sp) => *sp,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Param {
    /// `var`: the argument is a variable the procedure may write.
    pub by_ref: bool,
    pub name: Ident,
    pub ty: TypeExpr,
}

/// A `procedure`, or a `function` (with a return type).
#[derive(Clone, Debug)]
pub struct Function {
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: Option<TypeExpr>,
    pub decls: Vec<Decl>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum Rule {
    Simple {
        name: Option<String>,
        guard: Option<Expr>,
        decls: Vec<Decl>,
        body: Vec<Stmt>,
        span: Span,
    },
    Start {
        name: Option<String>,
        decls: Vec<Decl>,
        body: Vec<Stmt>,
        span: Span,
    },
    Property {
        category: Category,
        name: Option<String>,
        expr: Expr,
        span: Span,
    },
    Ruleset(Vec<Quantifier>, Vec<Rule>, Span),
    Alias(Vec<(Ident, Expr)>, Vec<Rule>, Span),
}

#[derive(Clone, Debug)]
pub enum Node {
    Decl(Decl),
    Function(Function),
    Rule(Rule),
}

#[derive(Clone, Debug, Default)]
pub struct Program {
    pub nodes: Vec<Node>,
}
