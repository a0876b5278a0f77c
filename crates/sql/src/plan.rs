//! The planner: walks sqlparser's AST of a Trino/Athena query and builds a polars lazy plan with
//! Trino's semantics. Names resolve through a [`Scope`] (qualifier, name → a unique internal
//! column), every expression carries its SQL type ([`Typed`]) so that operators can check and
//! coerce as Trino does, aggregation rewrites the select list against the GROUP BY keys, and
//! window functions are computed over frames sorted by their partition and order keys.

use std::collections::{HashMap, HashSet};

use polars::prelude::*;
use sqlparser::ast::{
    self as ast, BinaryOperator as Bin, Expr as SqlExpr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, JoinConstraint,
    JoinOperator, LimitClause, ObjectName, ObjectNamePart, OrderByKind, Query, Select, SelectItem, SetExpr, SetOperator, SetQuantifier,
    TableFactor, TableWithJoins, UnaryOperator, Value as SqlValue, WindowFrameBound, WindowFrameUnits, WindowType,
};

use crate::Context;
use crate::catalog::{PartitionDef, TableDef, split_s3};
use crate::error::{SqlError, SqlResult, from_polars};
use crate::scan::{self, FileRef, Projection};
use crate::types::SqlType;

/// An expression and its SQL type.
#[derive(Clone)]
pub struct Typed {
    pub e: Expr,
    pub ty: SqlType,
}

impl Typed {
    pub fn new(e: Expr, ty: SqlType) -> Typed {
        Typed { e, ty }
    }
    /// Cast to `ty` (no-op when already of that type).
    pub fn to(self, ty: &SqlType) -> Typed {
        if &self.ty == ty {
            return self;
        }
        Typed { e: self.e.cast(ty.to_polars()), ty: ty.clone() }
    }
}

/// A column visible to expressions.
#[derive(Clone, Debug)]
struct ScopeCol {
    qual: Option<String>,
    name: String,
    internal: String,
    ty: SqlType,
}

#[derive(Clone, Debug, Default)]
pub struct Scope {
    cols: Vec<ScopeCol>,
}

/// A planned relation: a frame and the names its columns are known by.
struct Rel {
    lf: LazyFrame,
    scope: Scope,
}

/// A planned query: a frame whose columns (internal names) are the query's output columns.
#[derive(Clone)]
pub struct Planned {
    pub lf: LazyFrame,
    pub cols: Vec<OutCol>,
}

#[derive(Clone, Debug)]
pub struct OutCol {
    pub name: String,
    pub ty: SqlType,
    pub internal: String,
}

/// Post-aggregation state: the GROUP BY keys and the aggregates collected so far.
struct AggState {
    /// (translated key, internal name, type, the key's SQL text in lower case).
    keys: Vec<(Expr, String, SqlType, String)>,
    aggs: Vec<Expr>,
}

/// A window function call found in a select list.
struct WindowReq {
    name: String,
    func: String,
    args: Vec<Typed>,
    partition: Vec<Expr>,
    order: Vec<(Expr, bool, bool)>,
    rows_frame: bool,
    /// `ROWS BETWEEN n PRECEDING AND CURRENT ROW`.
    preceding: Option<i64>,
    raw_args: Vec<SqlExpr>,
}

/// What an expression may contain where it is being translated.
pub struct Cx<'s> {
    scope: &'s Scope,
    agg: Option<&'s mut AggState>,
    win: Option<&'s mut Vec<WindowReq>>,
}

impl<'s> Cx<'s> {
    fn row(scope: &'s Scope) -> Cx<'s> {
        Cx { scope, agg: None, win: None }
    }
}

/// Plans and runs one query.
pub struct Planner<'a> {
    pub ctx: &'a dyn Context,
    db: String,
    counter: usize,
    ctes: Vec<HashMap<String, Planned>>,
    /// Identifiers named anywhere in the query (lower case): the columns worth reading.
    mentioned: HashSet<String>,
    read_all: bool,
    pub bytes_scanned: u64,
    pub now_ms: i64,
    view_depth: usize,
}

fn pos_of(i: &ast::Ident) -> (u64, u64) {
    (i.span.start.line, i.span.start.column)
}

fn lower(i: &ast::Ident) -> String {
    i.value.to_ascii_lowercase()
}

pub fn object_parts(n: &ObjectName) -> Vec<ast::Ident> {
    n.0.iter()
        .filter_map(|p| match p {
            ObjectNamePart::Identifier(i) => Some(i.clone()),
            _ => None,
        })
        .collect()
}

fn null_lit() -> Expr {
    lit(Null {})
}

fn conjuncts(e: &SqlExpr, out: &mut Vec<SqlExpr>) {
    match e {
        SqlExpr::BinaryOp { left, op: Bin::And, right } => {
            conjuncts(left, out);
            conjuncts(right, out);
        }
        SqlExpr::Nested(x) => conjuncts(x, out),
        e => out.push(e.clone()),
    }
}

/// Whether an expression contains an aggregate call outside any window.
fn has_aggregate(e: &SqlExpr) -> bool {
    let mut found = false;
    walk(e, &mut |x| {
        if let SqlExpr::Function(f) = x
            && f.over.is_none()
            && crate::func::is_aggregate(&f.name.to_string().to_ascii_lowercase())
        {
            found = true;
        }
    });
    found
}

/// Calls `f` on every expression node (not descending into subqueries or window specs).
fn walk(e: &SqlExpr, f: &mut dyn FnMut(&SqlExpr)) {
    f(e);
    match e {
        SqlExpr::BinaryOp { left, right, .. } | SqlExpr::IsDistinctFrom(left, right) | SqlExpr::IsNotDistinctFrom(left, right) => {
            walk(left, f);
            walk(right, f);
        }
        SqlExpr::UnaryOp { expr, .. }
        | SqlExpr::Nested(expr)
        | SqlExpr::IsNull(expr)
        | SqlExpr::IsNotNull(expr)
        | SqlExpr::IsTrue(expr)
        | SqlExpr::IsFalse(expr)
        | SqlExpr::IsNotTrue(expr)
        | SqlExpr::IsNotFalse(expr)
        | SqlExpr::Cast { expr, .. }
        | SqlExpr::Extract { expr, .. }
        | SqlExpr::AtTimeZone { timestamp: expr, .. } => walk(expr, f),
        SqlExpr::Between { expr, low, high, .. } => {
            walk(expr, f);
            walk(low, f);
            walk(high, f);
        }
        SqlExpr::Like { expr, pattern, .. } | SqlExpr::ILike { expr, pattern, .. } => {
            walk(expr, f);
            walk(pattern, f);
        }
        SqlExpr::In { expr, target: ast::InTarget::List(list), .. } => {
            walk(expr, f);
            list.iter().for_each(|x| walk(x, f));
        }
        SqlExpr::In { expr, .. } => walk(expr, f),
        SqlExpr::Case { operand, conditions, else_result, .. } => {
            if let Some(o) = operand {
                walk(o, f);
            }
            for c in conditions {
                walk(&c.condition, f);
                walk(&c.result, f);
            }
            if let Some(e) = else_result {
                walk(e, f);
            }
        }
        SqlExpr::Function(func) => {
            if func.over.is_none()
                && let FunctionArguments::List(l) = &func.args
            {
                for a in &l.args {
                    if let FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) = a {
                        walk(x, f);
                    }
                }
            }
        }
        SqlExpr::Substring { expr, substring_from, substring_for, .. } => {
            walk(expr, f);
            if let Some(x) = substring_from {
                walk(x, f);
            }
            if let Some(x) = substring_for {
                walk(x, f);
            }
        }
        SqlExpr::Trim { expr, .. } => walk(expr, f),
        SqlExpr::CompoundFieldAccess { root, .. } => walk(root, f),
        _ => {}
    }
}

/// The function call arguments as expressions; `*` becomes `None`.
pub fn fn_args(f: &ast::Function) -> SqlResult<(Vec<Option<SqlExpr>>, bool)> {
    match &f.args {
        FunctionArguments::None => Ok((vec![], false)),
        FunctionArguments::Subquery(_) => Err(SqlError::unsupported("Subquery function arguments")),
        FunctionArguments::List(l) => {
            let distinct = matches!(l.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct));
            let mut out = Vec::new();
            for a in &l.args {
                match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => out.push(Some(e.clone())),
                    FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => out.push(None),
                    _ => return Err(SqlError::unsupported(format!("The argument form in {f}"))),
                }
            }
            if !l.clauses.is_empty() {
                return Err(SqlError::unsupported(format!("Clauses inside {}(...)", f.name)));
            }
            Ok((out, distinct))
        }
    }
}

impl<'a> Planner<'a> {
    pub fn new(ctx: &'a dyn Context, db: &str, sql: &str, now_ms: i64) -> Planner<'a> {
        let mut mentioned = HashSet::new();
        // Quoted identifiers ("user-agent", `a.b`) count whole.
        for q in ['"', '`'] {
            for (i, part) in sql.split(q).enumerate() {
                if i % 2 == 1 {
                    mentioned.insert(part.to_ascii_lowercase());
                }
            }
        }
        let mut word = String::new();
        for c in sql.chars().chain(std::iter::once(' ')) {
            if c.is_alphanumeric() || c == '_' {
                word.push(c.to_ascii_lowercase());
            } else if !word.is_empty() {
                mentioned.insert(std::mem::take(&mut word));
            }
        }
        // A `*` other than count(*)'s means some select list may want every column.
        let compact: String = sql.chars().filter(|c| !c.is_whitespace()).collect();
        let read_all = compact.replace("(*)", "").contains('*');
        Planner { ctx, db: db.to_string(), counter: 0, ctes: vec![], mentioned, read_all, bytes_scanned: 0, now_ms, view_depth: 0 }
    }

    fn fresh(&mut self) -> String {
        self.counter += 1;
        format!("__c{}", self.counter)
    }

    // ------------------------------------------------------------------ queries

    /// Plans a query (WITH, body, ORDER BY, LIMIT/OFFSET).
    pub fn query(&mut self, q: &Query) -> SqlResult<Planned> {
        if q.fetch.is_some() || !q.locks.is_empty() || q.for_clause.is_some() {
            return Err(SqlError::unsupported("FETCH / FOR clauses"));
        }
        let pushed = if let Some(with) = &q.with {
            if with.recursive {
                return Err(SqlError::unsupported("WITH RECURSIVE"));
            }
            self.ctes.push(HashMap::new());
            for cte in &with.cte_tables {
                let mut p = self.query(&cte.query)?;
                rename_by_alias(&mut p, &cte.alias)?;
                if let Some(m) = self.ctes.last_mut() {
                    m.insert(lower(&cte.alias.name), p);
                }
            }
            true
        } else {
            false
        };
        let out = match q.body.as_ref() {
            SetExpr::Select(s) => self.select(s, q.order_by.as_ref(), q.limit_clause.as_ref()),
            body => {
                let p = self.set_expr(body)?;
                self.order_outputs(p, q.order_by.as_ref(), q.limit_clause.as_ref())
            }
        };
        if pushed {
            self.ctes.pop();
        }
        out
    }

    fn set_expr(&mut self, s: &SetExpr) -> SqlResult<Planned> {
        match s {
            SetExpr::Select(sel) => self.select(sel, None, None),
            SetExpr::Query(q) => self.query(q),
            SetExpr::Values(v) => self.values(v),
            SetExpr::SetOperation { left, op, set_quantifier, right } => {
                let l = self.set_expr(left)?;
                let r = self.set_expr(right)?;
                if l.cols.len() != r.cols.len() {
                    return Err(SqlError::new("TYPE_MISMATCH", format!("{op} query has different number of fields: {}, {}", l.cols.len(), r.cols.len())));
                }
                let mut cols = Vec::new();
                let (mut le, mut re) = (Vec::new(), Vec::new());
                for (a, b) in l.cols.iter().zip(&r.cols) {
                    let ty = SqlType::common(&a.ty, &b.ty).ok_or_else(|| {
                        SqlError::new("TYPE_MISMATCH", format!("column types of {op} do not match: {} and {}", a.ty.display(), b.ty.display()))
                    })?;
                    let name = self.fresh();
                    le.push(Typed::new(col(a.internal.as_str()), a.ty.clone()).to(&ty).e.alias(name.as_str()));
                    re.push(Typed::new(col(b.internal.as_str()), b.ty.clone()).to(&ty).e.alias(name.as_str()));
                    cols.push(OutCol { name: a.name.clone(), ty, internal: name });
                }
                let (lf, rf) = (l.lf.select(le), r.lf.select(re));
                let distinct = !matches!(set_quantifier, SetQuantifier::All);
                let keys: Vec<Expr> = cols.iter().map(|c| col(c.internal.as_str())).collect();
                let lf = match op {
                    SetOperator::Union => concat(vec![lf, rf], UnionArgs { rechunk: false, parallel: true, ..Default::default() }).map_err(from_polars)?,
                    SetOperator::Intersect | SetOperator::Except => {
                        let how = if *op == SetOperator::Intersect { JoinType::Semi } else { JoinType::Anti };
                        lf.join(rf, keys.clone(), keys, { let mut a = JoinArgs::new(how); a.nulls_equal = true; a })
                    }
                    SetOperator::Minus => return Err(SqlError::unsupported("MINUS")),
                };
                let lf = if distinct { lf.unique_stable(None, UniqueKeepStrategy::Any) } else { lf };
                Ok(Planned { lf, cols })
            }
            _ => Err(SqlError::unsupported("This kind of query body")),
        }
    }

    fn values(&mut self, v: &ast::Values) -> SqlResult<Planned> {
        let empty = Scope::default();
        let mut frames = Vec::new();
        let mut cols: Vec<OutCol> = Vec::new();
        for row in &v.rows {
            let mut exprs = Vec::new();
            for (i, e) in row.content.iter().enumerate() {
                let t = self.expr(e, &mut Cx::row(&empty))?;
                if cols.len() <= i {
                    let internal = self.fresh();
                    cols.push(OutCol { name: format!("_col{i}"), ty: t.ty.clone(), internal });
                } else if let Some(c) = SqlType::common(&cols[i].ty, &t.ty) {
                    cols[i].ty = c;
                }
                exprs.push(t);
            }
            frames.push(exprs);
        }
        let lfs = frames
            .into_iter()
            .map(|row| {
                let sel: Vec<Expr> = row.into_iter().zip(&cols).map(|(t, c)| t.to(&c.ty).e.alias(c.internal.as_str())).collect();
                unit_frame().select(sel)
            })
            .collect::<Vec<_>>();
        let lf = concat(lfs, UnionArgs::default()).map_err(from_polars)?;
        Ok(Planned { lf, cols })
    }

    /// ORDER BY / LIMIT over a query's outputs (set operations, VALUES).
    fn order_outputs(&mut self, p: Planned, order: Option<&ast::OrderBy>, limit: Option<&LimitClause>) -> SqlResult<Planned> {
        let scope = Scope { cols: p.cols.iter().map(|c| ScopeCol { qual: None, name: c.name.clone(), internal: c.internal.clone(), ty: c.ty.clone() }).collect() };
        let mut lf = p.lf;
        if let Some(ob) = order {
            let OrderByKind::Expressions(items) = &ob.kind else { return Err(SqlError::unsupported("ORDER BY ALL")) };
            let mut keys = Vec::new();
            let mut opts = (Vec::new(), Vec::new());
            for it in items {
                let e = match ordinal(&it.expr) {
                    Some(n) => col(p.cols.get(n.wrapping_sub(1)).ok_or_else(|| SqlError::new("INVALID_COLUMN_REFERENCE", format!("ORDER BY position {n} is not in select list")))?.internal.as_str()),
                    None => self.expr(&it.expr, &mut Cx::row(&scope))?.e,
                };
                let desc = matches!(it.options.sort, Some(ast::OrderBySort::Desc));
                keys.push(e);
                opts.0.push(desc);
                opts.1.push(!it.options.nulls_first.unwrap_or(false));
            }
            lf = lf.sort_by_exprs(keys, SortMultipleOptions::default().with_order_descending_multi(opts.0).with_nulls_last_multi(opts.1).with_maintain_order(true));
        }
        lf = self.apply_limit(lf, limit)?;
        Ok(Planned { lf, cols: p.cols })
    }

    fn apply_limit(&mut self, lf: LazyFrame, limit: Option<&LimitClause>) -> SqlResult<LazyFrame> {
        let Some(l) = limit else { return Ok(lf) };
        let (n, off) = match l {
            LimitClause::LimitOffset { limit, offset, limit_by } => {
                if !limit_by.is_empty() {
                    return Err(SqlError::unsupported("LIMIT BY"));
                }
                (limit.as_ref().map(const_int).transpose()?, offset.as_ref().map(|o| const_int(&o.value)).transpose()?)
            }
            LimitClause::OffsetCommaLimit { offset, limit } => (Some(const_int(limit)?), Some(const_int(offset)?)),
        };
        let off = off.unwrap_or(0);
        if off < 0 || n.is_some_and(|n| n < 0) {
            return Err(SqlError::syntax("LIMIT and OFFSET must not be negative"));
        }
        Ok(match n {
            Some(n) => lf.slice(off, n.min(IdxSize::MAX as i64) as IdxSize),
            None if off > 0 => lf.slice(off, IdxSize::MAX),
            None => lf,
        })
    }

    // ------------------------------------------------------------------ SELECT

    fn select(&mut self, s: &Select, order: Option<&ast::OrderBy>, limit: Option<&LimitClause>) -> SqlResult<Planned> {
        if s.top.is_some() || s.into.is_some() || !s.lateral_views.is_empty() || s.qualify.is_some() || !s.named_window.is_empty() {
            return Err(SqlError::unsupported("TOP / INTO / LATERAL VIEW / QUALIFY / WINDOW clauses"));
        }
        let mut where_parts = Vec::new();
        if let Some(w) = &s.selection {
            conjuncts(w, &mut where_parts);
        }
        // FROM
        let mut rel = self.from_rel(&s.from, &where_parts)?;
        // WHERE: correlated EXISTS conjuncts become semi/anti joins; the rest is a filter.
        if s.selection.is_some() {
            let mut plain = Vec::new();
            for c in where_parts.iter() {
                if let SqlExpr::Exists { subquery, negated } = c
                    && let Some((inner, outer_keys, inner_keys)) = self.decorrelate(subquery, &rel.scope)?
                {
                    let how = if *negated { JoinType::Anti } else { JoinType::Semi };
                    rel.lf = rel.lf.join(inner, outer_keys, inner_keys, JoinArgs::new(how));
                    continue;
                }
                plain.push(c.clone());
            }
            if let Some(w) = plain.into_iter().reduce(|a, b| SqlExpr::BinaryOp { left: Box::new(a), op: Bin::And, right: Box::new(b) }) {
                if has_aggregate(&w) {
                    return Err(SqlError::new("EXPRESSION_NOT_SCALAR", "WHERE clause cannot contain aggregations, window functions or grouping operations"));
                }
                let t = self.expr(&w, &mut Cx::row(&rel.scope))?;
                expect_bool(&t, "WHERE clause")?;
                rel.lf = rel.lf.filter(t.e);
            }
        }
        // Select list, expanded.
        let mut items: Vec<(String, Option<SqlExpr>, Option<ScopeCol>)> = Vec::new();
        for (i, it) in s.projection.iter().enumerate() {
            match it {
                SelectItem::UnnamedExpr(e) => items.push((default_name(e, i), Some(e.clone()), None)),
                SelectItem::ExprWithAlias { expr, alias } => items.push((lower(alias), Some(expr.clone()), None)),
                SelectItem::Wildcard(_) => {
                    for c in rel.scope.cols.iter().filter(|c| !c.name.starts_with("__")) {
                        items.push((c.name.clone(), None, Some(c.clone())));
                    }
                }
                SelectItem::QualifiedWildcard(kind, _) => {
                    let q = match kind {
                        ast::SelectItemQualifiedWildcardKind::ObjectName(n) => object_parts(n).last().map(lower).unwrap_or_default(),
                        _ => return Err(SqlError::unsupported("This wildcard")),
                    };
                    let cols: Vec<ScopeCol> = rel.scope.cols.iter().filter(|c| c.qual.as_deref() == Some(q.as_str())).cloned().collect();
                    if cols.is_empty() {
                        return Err(SqlError::new("TABLE_NOT_FOUND", format!("Table '{q}' not found")));
                    }
                    items.extend(cols.into_iter().map(|c| (c.name.clone(), None, Some(c))));
                }
                _ => return Err(SqlError::unsupported("This select item")),
            }
        }
        let group_exprs: Vec<SqlExpr> = match &s.group_by {
            GroupByExpr::Expressions(es, mods) if mods.is_empty() => es.clone(),
            GroupByExpr::All(_) => return Err(SqlError::unsupported("GROUP BY ALL")),
            _ => return Err(SqlError::unsupported("GROUP BY modifiers (ROLLUP, CUBE)")),
        };
        if group_exprs.iter().any(|e| matches!(e, SqlExpr::GroupingSets(_) | SqlExpr::Cube(_) | SqlExpr::Rollup(_))) {
            return Err(SqlError::unsupported("GROUPING SETS, CUBE and ROLLUP"));
        }
        let order_items: Vec<ast::OrderByExpr> = match order.map(|o| &o.kind) {
            Some(OrderByKind::Expressions(v)) => v.clone(),
            Some(OrderByKind::All(_)) => return Err(SqlError::unsupported("ORDER BY ALL")),
            None => vec![],
        };
        let aggregated = !group_exprs.is_empty()
            || items.iter().any(|(_, e, _)| e.as_ref().is_some_and(has_aggregate))
            || s.having.as_ref().is_some_and(has_aggregate)
            || s.having.is_some()
            || order_items.iter().any(|o| has_aggregate(&o.expr));
        let pre_scope = rel.scope.clone();
        let mut wins: Vec<WindowReq> = Vec::new();
        let mut agg_state = AggState { keys: vec![], aggs: vec![] };
        if aggregated {
            for g in &group_exprs {
                let e = match ordinal(g) {
                    Some(n) => match items.get(n.wrapping_sub(1)) {
                        Some((_, Some(e), _)) => e.clone(),
                        Some((_, None, Some(c))) => SqlExpr::Identifier(ast::Ident::new(c.name.clone())),
                        _ => return Err(SqlError::new("INVALID_COLUMN_REFERENCE", format!("GROUP BY position {n} is not in select list"))),
                    },
                    None => g.clone(),
                };
                if has_aggregate(&e) {
                    return Err(SqlError::new("EXPRESSION_NOT_SCALAR", format!("GROUP BY clause cannot contain aggregations or window functions: {e}")));
                }
                let t = self.expr(&e, &mut Cx::row(&pre_scope))?;
                let name = self.fresh();
                agg_state.keys.push((t.e, name, t.ty, e.to_string().to_ascii_lowercase()));
            }
        }
        // Translate outputs, HAVING and ORDER BY in the select's mode.
        let mut outs: Vec<(OutCol, Expr)> = Vec::new();
        let mut having: Option<Expr> = None;
        let mut sort_keys: Vec<(Expr, bool, bool)> = Vec::new();
        {
            let mut cx = Cx { scope: &pre_scope, agg: aggregated.then_some(&mut agg_state), win: Some(&mut wins) };
            for (name, e, direct) in &items {
                let t = match (e, direct) {
                    (Some(e), _) => self.expr(e, &mut cx)?,
                    (None, Some(c)) => {
                        if aggregated {
                            self.expr(&SqlExpr::CompoundIdentifier(vec![ast::Ident::new(c.qual.clone().unwrap_or_default()), ast::Ident::new(c.name.clone())]), &mut cx)
                                .or_else(|_| self.expr(&SqlExpr::Identifier(ast::Ident::new(c.name.clone())), &mut cx))?
                        } else {
                            Typed::new(col(c.internal.as_str()), c.ty.clone())
                        }
                    }
                    _ => return Err(SqlError::syntax("bad select item")),
                };
                let internal = self.fresh();
                outs.push((OutCol { name: name.clone(), ty: t.ty.clone(), internal: internal.clone() }, t.e));
            }
            if let Some(h) = &s.having {
                let t = self.expr(h, &mut cx)?;
                expect_bool(&t, "HAVING clause")?;
                having = Some(t.e);
            }
            for it in &order_items {
                let desc = matches!(it.options.sort, Some(ast::OrderBySort::Desc));
                let nulls_last = !it.options.nulls_first.unwrap_or(false);
                if let Some(n) = ordinal(&it.expr) {
                    let c = outs.get(n.wrapping_sub(1)).ok_or_else(|| SqlError::new("INVALID_COLUMN_REFERENCE", format!("ORDER BY position {n} is not in select list")))?;
                    sort_keys.push((col(c.0.internal.as_str()), desc, nulls_last));
                    continue;
                }
                if let SqlExpr::Identifier(id) = &it.expr {
                    let n = lower(id);
                    let hits: Vec<&(OutCol, Expr)> = outs.iter().filter(|(c, _)| c.name == n).collect();
                    if hits.len() == 1 && items.iter().any(|(name, _, _)| name == &n) {
                        sort_keys.push((col(hits[0].0.internal.as_str()), desc, nulls_last));
                        continue;
                    }
                }
                if s.distinct.is_some() {
                    // With DISTINCT, ORDER BY must name outputs: match by expression.
                    let t = self.expr(&it.expr, &mut cx)?;
                    match outs.iter().find(|(_, e)| *e == t.e) {
                        Some((c, _)) => sort_keys.push((col(c.internal.as_str()), desc, nulls_last)),
                        None => return Err(SqlError::new("EXPRESSION_NOT_IN_DISTINCT", "For SELECT DISTINCT, ORDER BY expressions must appear in select list")),
                    }
                    continue;
                }
                let t = self.expr(&it.expr, &mut cx)?;
                sort_keys.push((t.e, desc, nulls_last));
            }
        }
        let mut lf = rel.lf;
        if aggregated {
            let aggs = std::mem::take(&mut agg_state.aggs);
            if agg_state.keys.is_empty() {
                lf = if aggs.is_empty() { lf.select([len().alias("__rows")]) } else { lf.select(aggs) };
            } else {
                let keys: Vec<Expr> = agg_state.keys.iter().map(|(e, n, _, _)| e.clone().alias(n.as_str())).collect();
                lf = lf.group_by(keys).agg(aggs);
            }
            if let Some(h) = having {
                lf = lf.filter(h);
            }
        }
        if !wins.is_empty() {
            lf = self.windows(lf, wins)?;
        }
        // Project outputs plus hidden sort keys, then DISTINCT, sort, limit, and drop the hidden.
        let mut sel: Vec<Expr> = outs.iter().map(|(c, e)| e.clone().alias(c.internal.as_str())).collect();
        let mut sort_cols = Vec::new();
        for (e, desc, nl) in sort_keys {
            match outs.iter().find(|(c, _)| e == col(c.internal.as_str())) {
                Some((c, _)) => sort_cols.push((c.internal.clone(), desc, nl)),
                None => {
                    let n = self.fresh();
                    sel.push(e.alias(n.as_str()));
                    sort_cols.push((n, desc, nl));
                }
            }
        }
        lf = lf.select(sel);
        if s.distinct.is_some() {
            if let Some(ast::Distinct::On(_)) = &s.distinct {
                return Err(SqlError::unsupported("DISTINCT ON"));
            }
            let subset: Vec<PlSmallStr> = outs.iter().map(|(c, _)| c.internal.as_str().into()).collect();
            lf = lf.unique_stable(Some(polars::prelude::Selector::ByName { names: subset.into(), strict: true }), UniqueKeepStrategy::Any);
        }
        if !sort_cols.is_empty() {
            let by: Vec<Expr> = sort_cols.iter().map(|(n, _, _)| col(n.as_str())).collect();
            let desc: Vec<bool> = sort_cols.iter().map(|(_, d, _)| *d).collect();
            let nl: Vec<bool> = sort_cols.iter().map(|(_, _, n)| *n).collect();
            lf = lf.sort_by_exprs(by, SortMultipleOptions::default().with_order_descending_multi(desc).with_nulls_last_multi(nl).with_maintain_order(true));
        }
        lf = self.apply_limit(lf, limit)?;
        let cols: Vec<OutCol> = outs.into_iter().map(|(c, _)| c).collect();
        let lf = lf.select(cols.iter().map(|c| col(c.internal.as_str())).collect::<Vec<_>>());
        Ok(Planned { lf, cols })
    }

    /// The relation of a FROM list (comma-separated items are cross joined).
    fn from_rel(&mut self, from: &[TableWithJoins], preds: &[SqlExpr]) -> SqlResult<Rel> {
        if from.is_empty() {
            return Ok(Rel { lf: unit_frame(), scope: Scope::default() });
        }
        let mut it = from.iter();
        let mut r = self.table_with_joins(it.next().ok_or_else(|| SqlError::syntax("empty FROM"))?, preds)?;
        for twj in it {
            let right = self.table_with_joins(twj, preds)?;
            r = Rel { lf: r.lf.cross_join(right.lf, None), scope: merge(r.scope, right.scope) };
        }
        Ok(r)
    }

    /// `EXISTS (SELECT ... FROM inner WHERE inner.a = outer.b AND ...)` as the inner keys that
    /// exist: (inner frame of keys, outer key expressions, inner key expressions). `None` when
    /// the subquery is not correlated by equalities alone (it is then planned as it stands).
    fn decorrelate(&mut self, q: &Query, outer: &Scope) -> SqlResult<Option<(LazyFrame, Vec<Expr>, Vec<Expr>)>> {
        let SetExpr::Select(s) = q.body.as_ref() else { return Ok(None) };
        if q.with.is_some() || q.order_by.is_some() || s.having.is_some() || !matches!(&s.group_by, GroupByExpr::Expressions(g, _) if g.is_empty()) {
            return Ok(None);
        }
        let Some(w) = &s.selection else { return Ok(None) };
        let mut parts = Vec::new();
        conjuncts(w, &mut parts);
        let inner = self.from_rel(&s.from, &[])?;
        let (mut filters, mut ok, mut ik) = (Vec::new(), Vec::new(), Vec::new());
        for p in &parts {
            if let Ok(t) = self.expr(p, &mut Cx::row(&inner.scope)) {
                filters.push(t.e);
                continue;
            }
            let SqlExpr::BinaryOp { left, op: Bin::Eq, right } = p else { return Ok(None) };
            let pair = match (self.expr(left, &mut Cx::row(&inner.scope)), self.expr(right, &mut Cx::row(outer))) {
                (Ok(i), Ok(o)) => (i, o),
                _ => match (self.expr(right, &mut Cx::row(&inner.scope)), self.expr(left, &mut Cx::row(outer))) {
                    (Ok(i), Ok(o)) => (i, o),
                    _ => return Ok(None),
                },
            };
            let ty = SqlType::common(&pair.0.ty, &pair.1.ty).ok_or_else(|| SqlError::new("TYPE_MISMATCH", format!("Cannot apply operator: {} = {}", pair.1.ty.display(), pair.0.ty.display())))?;
            ik.push(pair.0.to(&ty).e);
            ok.push(pair.1.to(&ty).e);
        }
        if ok.is_empty() {
            return Ok(None);
        }
        let mut lf = inner.lf;
        for f in filters {
            lf = lf.filter(f);
        }
        let names: Vec<String> = ik.iter().map(|_| self.fresh()).collect();
        let lf = lf.select(ik.into_iter().zip(&names).map(|(e, n)| e.alias(n.as_str())).collect::<Vec<_>>());
        Ok(Some((lf, ok, names.iter().map(|n| col(n.as_str())).collect())))
    }

    /// Computes window functions: per distinct (partition, order), sort then `over`.
    fn windows(&mut self, mut lf: LazyFrame, wins: Vec<WindowReq>) -> SqlResult<LazyFrame> {
        for w in wins {
            // Materialise keys as columns so that sorting and peer detection can name them.
            let mut key_cols = Vec::new();
            let mut with = Vec::new();
            for p in &w.partition {
                let n = self.fresh();
                with.push(p.clone().alias(n.as_str()));
                key_cols.push(n);
            }
            let mut order_cols = Vec::new();
            for (o, desc, nl) in &w.order {
                let n = self.fresh();
                with.push(o.clone().alias(n.as_str()));
                order_cols.push((n, *desc, *nl));
            }
            if !with.is_empty() {
                lf = lf.with_columns(with);
            }
            let mut by: Vec<Expr> = key_cols.iter().map(|n| col(n.as_str())).collect();
            let mut desc = vec![false; key_cols.len()];
            let mut nl = vec![true; key_cols.len()];
            for (n, d, l) in &order_cols {
                by.push(col(n.as_str()));
                desc.push(*d);
                nl.push(*l);
            }
            if !by.is_empty() {
                lf = lf.sort_by_exprs(by, SortMultipleOptions::default().with_order_descending_multi(desc).with_nulls_last_multi(nl).with_maintain_order(true));
            }
            let part: Vec<Expr> = key_cols.iter().map(|n| col(n.as_str())).collect();
            let over = |e: Expr| -> SqlResult<Expr> { if part.is_empty() { Ok(e) } else { e.over(part.clone()).map_err(from_polars) } };
            let rn = over(int_range(lit(0i64), len().cast(DataType::Int64), 1, DataType::Int64) + lit(1i64))?;
            let rn_name = self.fresh();
            lf = lf.with_column(rn.alias(rn_name.as_str()));
            let rn = col(rn_name.as_str());
            // Peer groups: a new group starts at the first row or where any order key changes.
            let peer_new = order_cols.iter().fold(rn.clone().eq(lit(1i64)), |acc, (n, _, _)| acc.or(col(n.as_str()).neq_missing(col(n.as_str()).shift(lit(1i64)))));
            let peer_name = self.fresh();
            lf = lf.with_column(over(peer_new)?.alias(peer_name.as_str()));
            let peer_new = col(peer_name.as_str());
            let dense_name = self.fresh();
            lf = lf.with_column(over(peer_new.clone().cast(DataType::Int64).cum_sum(false))?.alias(dense_name.as_str()));
            let dense = col(dense_name.as_str());
            let arg = |i: usize| -> SqlResult<Typed> { w.args.get(i).cloned().ok_or_else(|| SqlError::new("FUNCTION_NOT_FOUND", format!("{} needs an argument", w.func))) };
            let int_arg = |i: usize, d: i64| -> SqlResult<i64> { w.raw_args.get(i).map(const_int).unwrap_or(Ok(d)) };
            let has_order = !order_cols.is_empty();
            // Running aggregates take the value at the last peer (RANGE frame) unless ROWS:
            // the running value is materialised first, then spread over its peer group.
            let mut pending: Vec<Expr> = Vec::new();
            let mut peers = |e: Expr, planner: &mut Self| -> SqlResult<Expr> {
                if w.rows_frame || !has_order {
                    return Ok(e);
                }
                let tmp = planner.fresh();
                pending.push(e.alias(tmp.as_str()));
                let mut p = part.clone();
                p.push(dense.clone());
                col(tmp.as_str()).last().over(p).map_err(from_polars)
            };
            if let Some(n) = w.preceding
                && !matches!(w.func.as_str(), "sum" | "avg" | "count")
            {
                let _ = n;
                return Err(SqlError::unsupported(format!("{} over a ROWS n PRECEDING frame", w.func)));
            }
            let e = match w.func.as_str() {
                "row_number" => rn.clone(),
                "rank" => over(when(peer_new.clone()).then(rn.clone()).otherwise(lit(0i64)).cum_max(false))?,
                "dense_rank" => dense.clone(),
                "lag" | "lead" => {
                    let x = arg(0)?;
                    let n = int_arg(1, 1)?;
                    let shift = if w.func == "lag" { n } else { -n };
                    let shifted = over(x.e.clone().shift(lit(shift)))?;
                    match w.args.get(2) {
                        Some(d) => {
                            let inside = if w.func == "lag" { rn.clone().gt(lit(n)) } else { (rn.clone() + lit(n)).lt_eq(over(len().cast(DataType::Int64))?) };
                            when(inside).then(shifted).otherwise(d.clone().to(&x.ty).e)
                        }
                        None => shifted,
                    }
                }
                "first_value" => over(arg(0)?.e.first())?,
                "last_value" if !has_order => over(arg(0)?.e.last())?,
                "last_value" => peers(arg(0)?.e, self)?,
                "count" if w.args.is_empty() => match w.preceding {
                    Some(n) => when(rn.clone().gt(lit(n + 1))).then(lit(n + 1)).otherwise(rn.clone()),
                    None if has_order => peers(rn.clone(), self)?,
                    None => over(len().cast(DataType::Int64))?,
                },
                "count" => {
                    let x = arg(0)?.e.is_not_null().cast(DataType::Int64);
                    match w.preceding {
                        Some(n) => {
                            let c = over(x.cum_sum(false))?;
                            c.clone() - over(c.shift(lit(n + 1)))?.fill_null(lit(0i64))
                        }
                        None if has_order => peers(over(x.cum_sum(false))?, self)?,
                        None => over(x.sum())?,
                    }
                }
                "sum" | "avg" | "min" | "max" => {
                    let x = arg(0)?;
                    let x = if w.func == "avg" || x.ty.is_integer() && w.func == "sum" { x.clone().to(if w.func == "avg" { &SqlType::Double } else { &SqlType::BigInt }) } else { x };
                    if let Some(n) = w.preceding {
                        // Sliding sums: running sum minus the running sum n+1 rows back.
                        let slide = |e: Expr| -> SqlResult<Expr> {
                            let run = over(e.cum_sum(false))?;
                            Ok(run.clone() - over(run.shift(lit(n + 1)))?.fill_null(lit(0)))
                        };
                        let cnt = slide(x.e.clone().is_not_null().cast(DataType::Int64))?;
                        let sum = slide(x.e.clone().fill_null(lit(0)))?;
                        let v = if w.func == "avg" { sum / cnt.clone().cast(DataType::Float64) } else { sum };
                        when(cnt.eq(lit(0i64))).then(null_lit()).otherwise(v)
                    } else if has_order {
                        let cnt = over(x.e.clone().is_not_null().cast(DataType::Int64).cum_sum(false))?;
                        let run = match w.func.as_str() {
                            "sum" => over(x.e.clone().fill_null(lit(0)).cum_sum(false))?,
                            "avg" => over(x.e.clone().fill_null(lit(0)).cum_sum(false))? / cnt.clone().cast(DataType::Float64),
                            "min" => over(x.e.clone().cum_min(false))?,
                            _ => over(x.e.clone().cum_max(false))?,
                        };
                        peers(when(cnt.eq(lit(0i64))).then(null_lit()).otherwise(run), self)?
                    } else {
                        let a = match w.func.as_str() {
                            "sum" => when(x.e.clone().count().eq(lit(0))).then(null_lit()).otherwise(x.e.clone().sum()),
                            "avg" => x.e.clone().mean(),
                            "min" => x.e.clone().min(),
                            _ => x.e.clone().max(),
                        };
                        over(a)?
                    }
                }
                f => return Err(SqlError::unsupported(format!("Window function {f}"))),
            };
            if !pending.is_empty() {
                lf = lf.with_columns(pending);
            }
            lf = lf.with_column(e.alias(w.name.as_str()));
        }
        Ok(lf)
    }

    // ------------------------------------------------------------------ FROM

    fn table_with_joins(&mut self, t: &TableWithJoins, preds: &[SqlExpr]) -> SqlResult<Rel> {
        // A table that a RIGHT or FULL join null-extends cannot be pruned by WHERE conditions
        // (`WHERE a.dt IS NULL` would keep nothing).
        let nullable_left = t.joins.iter().any(|j| matches!(j.join_operator, JoinOperator::Right(_) | JoinOperator::RightOuter(_) | JoinOperator::FullOuter(_)));
        let mut rel = self.factor(&t.relation, if nullable_left { &[] } else { preds })?;
        for j in &t.joins {
            if let TableFactor::UNNEST { alias, array_exprs, with_offset, with_ordinality, .. } = &j.relation {
                if !matches!(j.join_operator, JoinOperator::CrossJoin(_) | JoinOperator::Join(JoinConstraint::None) | JoinOperator::Inner(JoinConstraint::None)) {
                    return Err(SqlError::unsupported("UNNEST outside CROSS JOIN"));
                }
                if *with_offset || *with_ordinality || array_exprs.len() != 1 {
                    return Err(SqlError::unsupported("UNNEST of several arrays or WITH ORDINALITY"));
                }
                rel = self.unnest(rel, &array_exprs[0], alias.as_ref())?;
                continue;
            }
            let inner_like = matches!(j.join_operator, JoinOperator::Inner(_) | JoinOperator::Join(_) | JoinOperator::CrossJoin(_));
            let right = self.factor(&j.relation, if inner_like { preds } else { &[] })?;
            rel = self.join(rel, right, &j.join_operator)?;
        }
        Ok(rel)
    }

    fn unnest(&mut self, rel: Rel, e: &SqlExpr, alias: Option<&ast::TableAlias>) -> SqlResult<Rel> {
        let t = self.expr(e, &mut Cx::row(&rel.scope))?;
        let qual = alias.map(|a| lower(&a.name));
        let names: Vec<String> = alias.map(|a| a.columns.iter().map(|c| lower(&c.name)).collect()).unwrap_or_default();
        let tmp = self.fresh();
        let mut lf = rel.lf.with_column(t.e.alias(tmp.as_str())).explode(
            polars::prelude::Selector::ByName { names: vec![PlSmallStr::from(tmp.as_str())].into(), strict: true },
            ExplodeOptions { empty_as_null: false, keep_nulls: false },
        );
        let mut scope = rel.scope;
        let fields: Vec<(String, SqlType, Expr)> = match &t.ty {
            SqlType::Array(inner) => match inner.as_ref() {
                SqlType::Row(fs) if names.len() != 1 || fs.len() == 1 => fs.iter().map(|(n, ft)| (n.clone(), ft.clone(), col(tmp.as_str()).struct_().field_by_name(n))).collect(),
                it => vec![("_col0".into(), it.clone(), col(tmp.as_str()))],
            },
            SqlType::Map(k, v) => vec![
                ("key".into(), (**k).clone(), col(tmp.as_str()).struct_().field_by_name("key")),
                ("value".into(), (**v).clone(), col(tmp.as_str()).struct_().field_by_name("value")),
            ],
            other => return Err(SqlError::new("TYPE_MISMATCH", format!("Cannot unnest type: {}", other.display()))),
        };
        if !names.is_empty() && names.len() != fields.len() {
            return Err(SqlError::new("MISMATCHED_COLUMN_ALIASES", format!("Column alias list has {} entries but UNNEST has {} columns", names.len(), fields.len())));
        }
        let mut with = Vec::new();
        for (i, (n, ty, ex)) in fields.into_iter().enumerate() {
            let internal = self.fresh();
            with.push(ex.alias(internal.as_str()));
            scope.cols.push(ScopeCol { qual: qual.clone(), name: names.get(i).cloned().unwrap_or(n), internal, ty });
        }
        lf = lf.with_columns(with);
        Ok(Rel { lf, scope })
    }

    fn join(&mut self, left: Rel, right: Rel, op: &JoinOperator) -> SqlResult<Rel> {
        let (how, c) = match op {
            JoinOperator::Inner(c) | JoinOperator::Join(c) => (JoinType::Inner, c),
            JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (JoinType::Left, c),
            JoinOperator::Right(c) | JoinOperator::RightOuter(c) => (JoinType::Right, c),
            JoinOperator::FullOuter(c) => (JoinType::Full, c),
            JoinOperator::CrossJoin(_) => {
                return Ok(Rel { lf: left.lf.cross_join(right.lf, None), scope: merge(left.scope, right.scope) });
            }
            _ => return Err(SqlError::unsupported("This join type")),
        };
        let mut on = Vec::new();
        match c {
            JoinConstraint::On(e) => conjuncts(e, &mut on),
            JoinConstraint::Using(cols) => {
                for n in cols {
                    let id = object_parts(n).last().cloned().ok_or_else(|| SqlError::syntax("USING"))?;
                    on.push(SqlExpr::BinaryOp { left: Box::new(SqlExpr::Identifier(id.clone())), op: Bin::Eq, right: Box::new(SqlExpr::Identifier(id)) });
                }
            }
            JoinConstraint::None => {}
            JoinConstraint::Natural | JoinConstraint::UsingAlias(..) => return Err(SqlError::unsupported("NATURAL JOIN / USING ... AS")),
        }
        let using = matches!(c, JoinConstraint::Using(_));
        let both = merge(left.scope.clone(), right.scope.clone());
        let (mut lk, mut rk) = (Vec::new(), Vec::new());
        let (mut residual, mut right_only, mut left_only) = (Vec::new(), Vec::new(), Vec::new());
        for p in on {
            if let SqlExpr::BinaryOp { left: a, op: Bin::Eq, right: b } = &p {
                let la = self.expr(a, &mut Cx::row(&left.scope));
                let rb = self.expr(b, &mut Cx::row(&right.scope));
                let pair = match (la, rb) {
                    (Ok(x), Ok(y)) => Some((x, y)),
                    _ if !using => match (self.expr(b, &mut Cx::row(&left.scope)), self.expr(a, &mut Cx::row(&right.scope))) {
                        (Ok(x), Ok(y)) => Some((x, y)),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some((x, y)) = pair {
                    let ty = SqlType::common(&x.ty, &y.ty).ok_or_else(|| SqlError::new("TYPE_MISMATCH", format!("Cannot apply operator: {} = {}", x.ty.display(), y.ty.display())))?;
                    lk.push(x.to(&ty).e);
                    rk.push(y.to(&ty).e);
                    continue;
                }
            }
            if self.expr(&p, &mut Cx::row(&right.scope)).is_ok() {
                right_only.push(p);
            } else if self.expr(&p, &mut Cx::row(&left.scope)).is_ok() {
                left_only.push(p);
            } else {
                residual.push(p);
            }
        }
        let (mut llf, mut rlf) = (left.lf, right.lf);
        let mut post = Vec::new();
        for p in right_only {
            let t = self.expr(&p, &mut Cx::row(&right.scope))?;
            match how {
                JoinType::Inner | JoinType::Left => rlf = rlf.filter(t.e),
                _ => residual.push(p),
            }
        }
        for p in left_only {
            let t = self.expr(&p, &mut Cx::row(&left.scope))?;
            match how {
                JoinType::Inner | JoinType::Right => llf = llf.filter(t.e),
                _ => residual.push(p),
            }
        }
        for p in residual {
            if how != JoinType::Inner {
                return Err(SqlError::unsupported(format!("Outer join conditions other than equalities between the two sides ({p})")));
            }
            let t = self.expr(&p, &mut Cx::row(&both))?;
            expect_bool(&t, "JOIN condition")?;
            post.push(t.e);
        }
        let mut lf = if lk.is_empty() {
            if how != JoinType::Inner {
                return Err(SqlError::unsupported("Outer joins without an equality condition"));
            }
            llf.cross_join(rlf, None)
        } else {
            llf.join(rlf, lk, rk, JoinArgs::new(how.clone()).with_coalesce(JoinCoalesce::KeepColumns))
        };
        for p in post {
            lf = lf.filter(p);
        }
        let mut both = both;
        if let JoinConstraint::Using(cols) = c {
            // USING (k): k is one column, from the side that is never null-extended.
            let names: Vec<String> = cols.iter().filter_map(|n| object_parts(n).last().map(lower)).collect();
            let n_left = left.scope.cols.len();
            let drop_right = how != JoinType::Right;
            let mut i = 0;
            both.cols.retain(|col| {
                let from_right = i >= n_left;
                i += 1;
                !(names.contains(&col.name) && from_right == drop_right)
            });
            if how == JoinType::Full {
                return Err(SqlError::unsupported("FULL JOIN ... USING"));
            }
        }
        Ok(Rel { lf, scope: both })
    }

    fn factor(&mut self, f: &TableFactor, preds: &[SqlExpr]) -> SqlResult<Rel> {
        match f {
            TableFactor::Table { name, alias, args, .. } => {
                if args.is_some() {
                    return Err(SqlError::unsupported("Table functions"));
                }
                let parts = object_parts(name);
                let qual = alias.as_ref().map(|a| lower(&a.name)).or_else(|| parts.last().map(lower));
                if parts.len() == 1 {
                    let n = lower(&parts[0]);
                    if let Some(p) = self.ctes.iter().rev().find_map(|m| m.get(&n)).cloned() {
                        return self.rel_of(p, qual, alias.as_ref());
                    }
                }
                self.table(&parts, qual, alias.as_ref(), preds)
            }
            TableFactor::Derived { subquery, alias, lateral, .. } => {
                if *lateral {
                    return Err(SqlError::unsupported("LATERAL subqueries"));
                }
                let p = self.query(subquery)?;
                self.rel_of(p, alias.as_ref().map(|a| lower(&a.name)), alias.as_ref())
            }
            TableFactor::UNNEST { alias, array_exprs, .. } if array_exprs.len() == 1 => self.unnest(Rel { lf: unit_frame(), scope: Scope::default() }, &array_exprs[0], alias.as_ref()),
            TableFactor::NestedJoin { table_with_joins, alias } => {
                let r = self.table_with_joins(table_with_joins, preds)?;
                if let Some(a) = alias {
                    let q = lower(&a.name);
                    let scope = Scope { cols: r.scope.cols.into_iter().map(|c| ScopeCol { qual: Some(q.clone()), ..c }).collect() };
                    return Ok(Rel { lf: r.lf, scope });
                }
                Ok(r)
            }
            _ => Err(SqlError::unsupported(format!("FROM item {f}"))),
        }
    }

    /// A planned query used as a relation: its columns get fresh internal names.
    fn rel_of(&mut self, mut p: Planned, qual: Option<String>, alias: Option<&ast::TableAlias>) -> SqlResult<Rel> {
        if let Some(a) = alias {
            rename_by_alias(&mut p, a)?;
        }
        let mut sel = Vec::new();
        let mut scope = Scope::default();
        for c in &p.cols {
            let n = self.fresh();
            sel.push(col(c.internal.as_str()).alias(n.as_str()));
            scope.cols.push(ScopeCol { qual: qual.clone(), name: c.name.clone(), internal: n, ty: c.ty.clone() });
        }
        let lf = if sel.is_empty() { p.lf } else { p.lf.select(sel) };
        Ok(Rel { lf, scope })
    }

    /// Resolves a catalog table or view and scans it.
    fn table(&mut self, parts: &[ast::Ident], qual: Option<String>, alias: Option<&ast::TableAlias>, preds: &[SqlExpr]) -> SqlResult<Rel> {
        let names: Vec<String> = parts.iter().map(lower).collect();
        let pos = parts.first().map(pos_of).unwrap_or((0, 0));
        let (catalog, db, tname) = match names.as_slice() {
            [t] => ("awsdatacatalog".to_string(), self.db.clone(), t.clone()),
            [d, t] => ("awsdatacatalog".to_string(), d.clone(), t.clone()),
            [c, d, t] => (c.clone(), d.clone(), t.clone()),
            _ => return Err(SqlError::at("SYNTAX_ERROR", pos, "Too many dots in table name")),
        };
        if catalog != "awsdatacatalog" {
            return Err(SqlError::at("CATALOG_NOT_FOUND", pos, format!("Catalog '{catalog}' does not exist")));
        }
        if !self.ctx.database_exists(&db) {
            return Err(SqlError::at("SCHEMA_NOT_FOUND", pos, format!("Schema '{db}' does not exist")));
        }
        let Some(t) = self.ctx.table(&db, &tname).map_err(|e| SqlError::new("HIVE_METASTORE_ERROR", e))? else {
            return Err(SqlError::at("TABLE_NOT_FOUND", pos, format!("Table '{catalog}.{db}.{tname}' does not exist")));
        };
        if t.is_view() {
            let sql = t.view_sql.clone().unwrap_or_default();
            if self.view_depth > 16 {
                return Err(SqlError::new("VIEW_IS_RECURSIVE", format!("View is recursive: {db}.{tname}")));
            }
            let q = parse_query(&sql)?;
            let saved = std::mem::replace(&mut self.db, db.clone());
            let saved_ctes = std::mem::take(&mut self.ctes);
            self.view_depth += 1;
            let view_planner = Planner::new(self.ctx, &db, &sql, self.now_ms);
            let (for_view, for_view_all) = (view_planner.mentioned, view_planner.read_all);
            self.mentioned.extend(for_view);
            self.read_all |= for_view_all;
            let p = self.query(&q);
            self.view_depth -= 1;
            self.db = saved;
            self.ctes = saved_ctes;
            return self.rel_of(p?, qual, alias);
        }
        let mut cols = Vec::new();
        for c in &t.columns {
            cols.push((c.name.clone(), c.sql_type()?));
        }
        let mut pkeys = Vec::new();
        for c in &t.partition_keys {
            pkeys.push((c.name.clone(), c.sql_type()?));
        }
        let wanted: Vec<(String, SqlType)> = cols.iter().filter(|(n, _)| self.read_all || self.mentioned.contains(n)).cloned().collect();
        let files = self.files(&t, &pkeys, qual.as_deref(), preds)?;
        self.bytes_scanned += files.iter().map(|f| f.size).sum::<u64>();
        let pwanted: Vec<bool> = pkeys.iter().map(|(n, _)| self.read_all || self.mentioned.contains(n)).collect();
        let proj = Projection { columns: wanted.clone(), partition_keys: pkeys.clone(), partition_wanted: pwanted.clone() };
        let df = scan::read_table(self.ctx, &t, &proj, &files)?;
        let mut p = Planned { lf: df.lazy(), cols: vec![] };
        // Columns in table order; those not read are NULL placeholders (never referenced).
        let mut sel = Vec::new();
        for (n, ty) in cols.iter().chain(pkeys.iter()) {
            let internal = self.fresh();
            let read = wanted.iter().any(|(w, _)| w == n) || pkeys.iter().zip(&pwanted).any(|((k, _), w)| *w && k == n);
            sel.push(if read { col(n.as_str()) } else { null_lit().cast(ty.to_polars()) }.alias(internal.as_str()));
            p.cols.push(OutCol { name: n.clone(), ty: ty.clone(), internal });
        }
        p.lf = p.lf.select(sel);
        let mut scope = Scope::default();
        for c in p.cols {
            scope.cols.push(ScopeCol { qual: qual.clone(), name: c.name, internal: c.internal, ty: c.ty });
        }
        if let Some(a) = alias
            && !a.columns.is_empty()
        {
            if a.columns.len() != scope.cols.len() {
                return Err(SqlError::new("MISMATCHED_COLUMN_ALIASES", "Column alias list does not match the table's columns"));
            }
            for (c, n) in scope.cols.iter_mut().zip(&a.columns) {
                c.name = lower(&n.name);
            }
        }
        Ok(Rel { lf: p.lf, scope })
    }

    /// The objects to read: the table location, or the partitions that survive the WHERE
    /// predicates that only name partition columns.
    fn files(&mut self, t: &TableDef, pkeys: &[(String, SqlType)], qual: Option<&str>, preds: &[SqlExpr]) -> SqlResult<Vec<FileRef>> {
        let mut locations: Vec<(String, Vec<String>)> = Vec::new();
        if pkeys.is_empty() {
            locations.push((t.location.clone(), vec![]));
        } else {
            let parts: Vec<PartitionDef> = if crate::projection::enabled(t) {
                crate::projection::partitions(t, pkeys, preds, qual, self.now_ms)?
            } else {
                self.ctx.partitions(&t.database, &t.name).map_err(|e| SqlError::new("HIVE_METASTORE_ERROR", e))?
            };
            let keep = self.prune(&parts, pkeys, qual, preds)?;
            for (p, k) in parts.into_iter().zip(keep) {
                if k {
                    locations.push((p.location, p.values));
                }
            }
        }
        let mut files = Vec::new();
        for (loc, values) in locations {
            let Some((bucket, prefix)) = split_s3(&loc) else { continue };
            let prefix = if prefix.is_empty() || prefix.ends_with('/') { prefix.to_string() } else { format!("{prefix}/") };
            let objs = self.ctx.list_objects(bucket, &prefix).map_err(|e| SqlError::new("HIVE_FILESYSTEM_ERROR", e))?;
            for o in objs {
                let last = o.key.rsplit('/').next().unwrap_or("");
                if o.key.ends_with('/') || last.starts_with('_') || last.starts_with('.') || o.key.ends_with("_$folder$") || o.size == 0 {
                    continue;
                }
                files.push(FileRef { bucket: bucket.to_string(), key: o.key, size: o.size, etag: o.etag, partition: values.clone() });
            }
        }
        Ok(files)
    }

    /// Which partitions satisfy a whole boolean expression over partition keys (Glue's
    /// GetPartitions `Expression`); fails if the expression names anything else.
    pub fn filter_partitions(&mut self, parts: &[PartitionDef], pkeys: &[(String, SqlType)], e: &SqlExpr) -> SqlResult<Vec<bool>> {
        let scope = Scope { cols: pkeys.iter().map(|(n, ty)| ScopeCol { qual: None, name: n.clone(), internal: n.clone(), ty: ty.clone() }).collect() };
        let t = self.expr(e, &mut Cx::row(&scope))?;
        expect_bool(&t, "Expression")?;
        self.prune(parts, pkeys, None, std::slice::from_ref(e))
    }

    /// Which partitions satisfy the predicates that name only partition columns.
    fn prune(&mut self, parts: &[PartitionDef], pkeys: &[(String, SqlType)], qual: Option<&str>, preds: &[SqlExpr]) -> SqlResult<Vec<bool>> {
        if parts.is_empty() || preds.is_empty() {
            return Ok(vec![true; parts.len()]);
        }
        let scope = Scope {
            cols: pkeys.iter().map(|(n, ty)| ScopeCol { qual: qual.map(str::to_string), name: n.clone(), internal: n.clone(), ty: ty.clone() }).collect(),
        };
        let mut usable = Vec::new();
        for p in preds {
            let mut has_sub = false;
            walk(p, &mut |x| has_sub |= matches!(x, SqlExpr::Subquery(_) | SqlExpr::Exists { .. } | SqlExpr::In { target: ast::InTarget::Subquery(_), .. }));
            if has_sub || has_aggregate(p) {
                continue;
            }
            if let Ok(t) = self.expr(p, &mut Cx::row(&scope)) {
                usable.push(t.e);
            }
        }
        if usable.is_empty() {
            return Ok(vec![true; parts.len()]);
        }
        let mut cols = Vec::new();
        for (i, (n, ty)) in pkeys.iter().enumerate() {
            let mut b = scan::Builder::new(ty);
            for p in parts {
                match p.values.get(i) {
                    Some(v) if v != "__HIVE_DEFAULT_PARTITION__" => b.push_str(v, ty),
                    _ => b.push_null(),
                }
            }
            cols.push(Column::from(b.finish(n, ty)?));
        }
        let idx = "__partition_index";
        cols.push(Column::new(idx.into(), (0..parts.len() as u32).collect::<Vec<_>>()));
        let df = DataFrame::new_infer_height(cols).map_err(from_polars)?;
        let pred = usable.into_iter().reduce(|a, b| a.and(b)).unwrap_or(lit(true));
        let kept = df.lazy().filter(pred).select([col(idx)]).collect().map_err(from_polars)?;
        let mut keep = vec![false; parts.len()];
        if let Ok(c) = kept.column(idx).and_then(|c| c.u32().cloned()) {
            for i in c.iter().flatten() {
                keep[i as usize] = true;
            }
        }
        Ok(keep)
    }

    // ------------------------------------------------------------------ names

    fn resolve(&self, scope: &Scope, parts: &[ast::Ident]) -> SqlResult<Typed> {
        let names: Vec<String> = parts.iter().map(lower).collect();
        let pos = parts.first().map(pos_of).unwrap_or((0, 0));
        let find = |qual: Option<&str>, name: &str| -> Vec<&ScopeCol> { scope.cols.iter().filter(|c| c.name == name && (qual.is_none() || c.qual.as_deref() == qual)).collect() };
        // column | table.column | column.field... | table.column.field...
        let attempts: Vec<(Option<&str>, &str, &[String])> = match names.as_slice() {
            [c] => vec![(None, c.as_str(), &[])],
            [a, rest @ ..] => {
                let mut v = vec![(Some(a.as_str()), rest[0].as_str(), &rest[1..])];
                v.push((None, a.as_str(), rest));
                if names.len() >= 3 {
                    v.insert(0, (Some(names[1].as_str()), names[2].as_str(), &names[3..]));
                }
                v
            }
            [] => return Err(SqlError::syntax("empty identifier")),
        };
        for (q, n, fields) in attempts {
            let hits = find(q, n);
            if hits.len() > 1 {
                return Err(SqlError::at("AMBIGUOUS_NAME", pos, format!("Column '{}' is ambiguous", names.join("."))));
            }
            if let Some(c) = hits.first() {
                let mut t = Typed::new(col(c.internal.as_str()), c.ty.clone());
                for f in fields {
                    t = field_access(t, f, pos)?;
                }
                return Ok(t);
            }
        }
        Err(SqlError::at("COLUMN_NOT_FOUND", pos, format!("Column '{}' cannot be resolved or requester is not authorized to access requested resources", names.join("."))))
    }

    // ------------------------------------------------------------------ expressions

    /// Translates an expression in a context.
    pub fn expr(&mut self, e: &SqlExpr, cx: &mut Cx<'_>) -> SqlResult<Typed> {
        if cx.agg.is_some() && !is_const(e) {
            // A GROUP BY key, or a sub-expression of one?
            let text = e.to_string().to_ascii_lowercase();
            if let Some(agg) = cx.agg.as_ref()
                && let Some((_, name, ty, _)) = agg.keys.iter().find(|k| k.3 == text)
            {
                return Ok(Typed::new(col(name.as_str()), ty.clone()));
            }
            let mut plain = Cx::row(cx.scope);
            let no_sub = !matches!(e, SqlExpr::Subquery(_) | SqlExpr::Exists { .. } | SqlExpr::In { target: ast::InTarget::Subquery(_), .. });
            if no_sub
                && !has_aggregate(e)
                && let Ok(t) = self.expr(e, &mut plain)
                && let Some(agg) = cx.agg.as_ref()
                && let Some((_, name, ty, _)) = agg.keys.iter().find(|k| k.0 == t.e)
            {
                return Ok(Typed::new(col(name.as_str()), ty.clone()));
            }
        }
        match e {
            SqlExpr::Identifier(id) => self.column(cx, std::slice::from_ref(id)),
            SqlExpr::CompoundIdentifier(ids) => self.column(cx, ids),
            SqlExpr::Nested(x) => self.expr(x, cx),
            SqlExpr::Value(v) => literal(&v.value),
            SqlExpr::TypedString(ts) => {
                let text = match &ts.value.value {
                    SqlValue::SingleQuotedString(s) => s.clone(),
                    v => v.to_string(),
                };
                let ty = sql_data_type(&ts.data_type)?;
                typed_literal(&text, &ty)
            }
            SqlExpr::Interval(iv) => interval(iv),
            SqlExpr::BinaryOp { left, op, right } => {
                let l = self.expr(left, cx)?;
                let r = self.expr(right, cx)?;
                binary(l, op, r)
            }
            SqlExpr::UnaryOp { op, expr } => {
                let x = self.expr(expr, cx)?;
                match op {
                    UnaryOperator::Not => {
                        expect_bool(&x, "NOT")?;
                        Ok(Typed::new(x.e.not(), SqlType::Boolean))
                    }
                    UnaryOperator::Minus => {
                        if !x.ty.is_numeric() {
                            return Err(SqlError::new("TYPE_MISMATCH", format!("Cannot negate {}", x.ty.display())));
                        }
                        Ok(Typed::new(lit(0).cast(x.ty.to_polars()) - x.e, x.ty))
                    }
                    UnaryOperator::Plus => Ok(x),
                    o => Err(SqlError::unsupported(format!("Operator {o}"))),
                }
            }
            SqlExpr::IsNull(x) => Ok(Typed::new(self.expr(x, cx)?.e.is_null(), SqlType::Boolean)),
            SqlExpr::IsNotNull(x) => Ok(Typed::new(self.expr(x, cx)?.e.is_not_null(), SqlType::Boolean)),
            SqlExpr::IsTrue(x) => Ok(Typed::new(self.expr(x, cx)?.e.eq_missing(lit(true)), SqlType::Boolean)),
            SqlExpr::IsFalse(x) => Ok(Typed::new(self.expr(x, cx)?.e.eq_missing(lit(false)), SqlType::Boolean)),
            SqlExpr::IsNotTrue(x) => Ok(Typed::new(self.expr(x, cx)?.e.eq_missing(lit(true)).not(), SqlType::Boolean)),
            SqlExpr::IsNotFalse(x) => Ok(Typed::new(self.expr(x, cx)?.e.eq_missing(lit(false)).not(), SqlType::Boolean)),
            SqlExpr::IsDistinctFrom(a, b) | SqlExpr::IsNotDistinctFrom(a, b) => {
                let (l, r) = (self.expr(a, cx)?, self.expr(b, cx)?);
                let (l, r) = coerce_pair(l, r, "IS DISTINCT FROM")?;
                let same = l.e.eq_missing(r.e);
                Ok(Typed::new(if matches!(e, SqlExpr::IsDistinctFrom(..)) { same.not() } else { same }, SqlType::Boolean))
            }
            SqlExpr::Between { expr, negated, low, high } => {
                let x = self.expr(expr, cx)?;
                let lo = self.expr(low, cx)?;
                let hi = self.expr(high, cx)?;
                let a = binary(x.clone(), &Bin::GtEq, lo)?;
                let b = binary(x, &Bin::LtEq, hi)?;
                let both = a.e.and(b.e);
                Ok(Typed::new(if *negated { both.not() } else { both }, SqlType::Boolean))
            }
            SqlExpr::In { expr, target, negated, .. } => {
                let x = self.expr(expr, cx)?;
                let res = match target {
                    ast::InTarget::List(list) => {
                        let mut acc: Option<Expr> = None;
                        for it in list {
                            let v = self.expr(it, cx)?;
                            let eq = binary(x.clone(), &Bin::Eq, v)?.e;
                            acc = Some(match acc {
                                None => eq,
                                Some(a) => a.or(eq),
                            });
                        }
                        acc.unwrap_or(lit(false))
                    }
                    ast::InTarget::Subquery(q) => {
                        let (vals, ty) = self.subquery_column(q)?;
                        let ty2 = SqlType::common(&x.ty, &ty).ok_or_else(|| SqlError::new("TYPE_MISMATCH", format!("value and result of subquery must be of the same type for IN expression: {} vs {}", x.ty.display(), ty.display())))?;
                        let vals = vals.cast(&ty2.to_polars()).map_err(from_polars)?;
                        let has_null = vals.null_count() > 0;
                        let vals = vals.drop_nulls();
                        let empty = vals.is_empty();
                        let found = x.clone().to(&ty2).e.is_in(lit(vals).implode(false), false);
                        // x IN (..., NULL) is NULL rather than false when x is not found.
                        let found = if has_null { when(found.clone()).then(lit(true)).otherwise(null_lit().cast(DataType::Boolean)) } else { found };
                        if empty && !has_null {
                            // x IN (empty) is FALSE even for a NULL x.
                            lit(false)
                        } else {
                            when(x.e.is_null()).then(null_lit().cast(DataType::Boolean)).otherwise(found)
                        }
                    }
                    _ => return Err(SqlError::unsupported("This IN form")),
                };
                Ok(Typed::new(if *negated { res.not() } else { res }, SqlType::Boolean))
            }
            SqlExpr::Like { negated, expr, pattern, escape_char, any } | SqlExpr::ILike { negated, expr, pattern, escape_char, any } => {
                if *any {
                    return Err(SqlError::unsupported("LIKE ANY"));
                }
                let ci = matches!(e, SqlExpr::ILike { .. });
                let x = self.expr(expr, cx)?;
                if x.ty != SqlType::Varchar && x.ty != SqlType::Unknown {
                    return Err(SqlError::new("TYPE_MISMATCH", format!("Left side of LIKE expression must evaluate to a varchar (actual: {})", x.ty.display())));
                }
                let pat = const_string(pattern).ok_or_else(|| SqlError::unsupported("LIKE with a non-constant pattern"))?;
                let esc = match escape_char.as_deref() {
                    Some(e) => Some(const_string(e).and_then(|s| s.chars().next()).ok_or_else(|| SqlError::syntax("ESCAPE must be a character"))?),
                    None => None,
                };
                let m = like(x.e, &pat, esc, ci);
                Ok(Typed::new(if *negated { m.not() } else { m }, SqlType::Boolean))
            }
            SqlExpr::Case { operand, conditions, else_result, .. } => {
                let op = operand.as_ref().map(|o| self.expr(o, cx)).transpose()?;
                let mut conds = Vec::new();
                let mut results = Vec::new();
                for w in conditions {
                    let c = self.expr(&w.condition, cx)?;
                    let c = match &op {
                        Some(o) => binary(o.clone(), &Bin::Eq, c)?,
                        None => {
                            expect_bool(&c, "CASE WHEN")?;
                            c
                        }
                    };
                    conds.push(c.e);
                    results.push(self.expr(&w.result, cx)?);
                }
                let els = else_result.as_ref().map(|x| self.expr(x, cx)).transpose()?;
                let mut ty = SqlType::Unknown;
                for r in results.iter().chain(els.iter()) {
                    ty = SqlType::common(&ty, &r.ty).ok_or_else(|| SqlError::new("TYPE_MISMATCH", format!("All CASE results must be the same type: {}, {}", ty.display(), r.ty.display())))?;
                }
                let otherwise = els.map(|x| x.to(&ty).e).unwrap_or_else(|| null_lit().cast(ty.to_polars()));
                let mut pairs: Vec<(Expr, Expr)> = conds.into_iter().zip(results).map(|(c, r)| (c, r.to(&ty).e)).collect();
                if pairs.is_empty() {
                    return Err(SqlError::syntax("CASE without WHEN"));
                }
                let (c0, r0) = pairs.remove(0);
                if pairs.is_empty() {
                    return Ok(Typed::new(when(c0).then(r0).otherwise(otherwise), ty));
                }
                let (c1, r1) = pairs.remove(0);
                let mut chain = when(c0).then(r0).when(c1).then(r1);
                for (c, r) in pairs {
                    chain = chain.when(c).then(r);
                }
                Ok(Typed::new(chain.otherwise(otherwise), ty))
            }
            SqlExpr::Cast { kind, expr, data_type, format } => {
                if format.is_some() {
                    return Err(SqlError::unsupported("CAST ... FORMAT"));
                }
                let x = self.expr(expr, cx)?;
                let ty = sql_data_type(data_type)?;
                let try_ = matches!(kind, ast::CastKind::TryCast | ast::CastKind::SafeCast);
                crate::func::cast(x, &ty, try_)
            }
            SqlExpr::Extract { field, expr, .. } => {
                let x = self.expr(expr, cx)?;
                let unit = field.to_string().to_ascii_lowercase();
                crate::func::extract(&unit, x)
            }
            SqlExpr::Substring { expr, substring_from, substring_for, .. } => {
                let mut args = vec![self.expr(expr, cx)?];
                if let Some(f) = substring_from {
                    args.push(self.expr(f, cx)?);
                }
                if let Some(f) = substring_for {
                    args.push(self.expr(f, cx)?);
                }
                crate::func::scalar(self, "substr", args, &[], (0, 0))
            }
            SqlExpr::Trim { expr, trim_where, trim_what, trim_characters } => {
                if trim_what.is_some() || trim_characters.is_some() {
                    return Err(SqlError::unsupported("TRIM with characters"));
                }
                let name = match trim_where {
                    Some(ast::TrimWhereField::Leading) => "ltrim",
                    Some(ast::TrimWhereField::Trailing) => "rtrim",
                    _ => "trim",
                };
                let x = self.expr(expr, cx)?;
                crate::func::scalar(self, name, vec![x], &[], (0, 0))
            }
            SqlExpr::AtTimeZone { timestamp, time_zone } => {
                let x = self.expr(timestamp, cx)?;
                match const_string(time_zone).as_deref() {
                    Some("UTC") | Some("utc") | Some("Etc/UTC") | Some("+00:00") => Ok(Typed::new(x.e, SqlType::TimestampTz)),
                    _ => Err(SqlError::unsupported("AT TIME ZONE other than 'UTC'")),
                }
            }
            SqlExpr::Ceil { expr, field } | SqlExpr::Floor { expr, field } => {
                if !matches!(field, ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime)) {
                    return Err(SqlError::unsupported("CEIL/FLOOR with a unit or scale"));
                }
                let x = self.expr(expr, cx)?;
                crate::func::scalar(self, if matches!(e, SqlExpr::Ceil { .. }) { "ceil" } else { "floor" }, vec![x], &[], (0, 0))
            }
            SqlExpr::Position { expr, r#in } => {
                let (s, sub) = (self.expr(r#in, cx)?, expr.as_ref().clone());
                let t = self.expr(&sub, cx)?;
                crate::func::scalar(self, "strpos", vec![s, t], &[SqlExpr::Value(ast::Value::Null.into()), sub], (0, 0))
            }
            SqlExpr::Subquery(q) => self.scalar_subquery(q),
            SqlExpr::Exists { subquery, negated } => {
                let p = self.query(subquery)?;
                let n = p.lf.limit(1).collect().map_err(from_polars)?.height();
                Ok(Typed::new(lit((n > 0) != *negated), SqlType::Boolean))
            }
            SqlExpr::Array(arr) => {
                let items = arr.elem.iter().map(|x| self.expr(x, cx)).collect::<SqlResult<Vec<_>>>()?;
                let mut ty = SqlType::Unknown;
                for t in &items {
                    ty = SqlType::common(&ty, &t.ty).ok_or_else(|| SqlError::new("TYPE_MISMATCH", "ARRAY elements must have the same type"))?;
                }
                let exprs: Vec<Expr> = items.into_iter().map(|t| t.to(&ty).e).collect();
                Ok(Typed::new(concat_list(exprs).map_err(from_polars)?, SqlType::Array(Box::new(ty))))
            }
            SqlExpr::CompoundFieldAccess { root, access_chain } => {
                let mut t = self.expr(root, cx)?;
                for a in access_chain {
                    t = match a {
                        ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => {
                            let i = self.expr(index, cx)?;
                            crate::func::subscript(t, i)?
                        }
                        ast::AccessExpr::Dot(SqlExpr::Identifier(id)) => field_access(t, &lower(id), pos_of(id))?,
                        _ => return Err(SqlError::unsupported("This field access")),
                    };
                }
                Ok(t)
            }
            SqlExpr::Function(f) => self.function(f, cx),
            SqlExpr::Wildcard(_) | SqlExpr::QualifiedWildcard(..) => Err(SqlError::syntax("'*' is only allowed in SELECT lists and count(*)")),
            other => Err(SqlError::unsupported(format!("Expression {other}"))),
        }
    }

    fn column(&mut self, cx: &mut Cx<'_>, parts: &[ast::Ident]) -> SqlResult<Typed> {
        let t = self.resolve(cx.scope, parts)?;
        if cx.agg.is_some() {
            let names: Vec<String> = parts.iter().map(lower).collect();
            let pos = parts.first().map(pos_of).unwrap_or((0, 0));
            return Err(SqlError::at("EXPRESSION_NOT_AGGREGATE", pos, format!("'{}' must be an aggregate expression or appear in GROUP BY clause", names.join("."))));
        }
        Ok(t)
    }

    fn scalar_subquery(&mut self, q: &Query) -> SqlResult<Typed> {
        let p = self.query(q)?;
        if p.cols.len() != 1 {
            return Err(SqlError::new("SYNTAX_ERROR", "Multiple columns returned by subquery are not yet supported"));
        }
        let df = p.lf.limit(2).collect().map_err(from_polars)?;
        if df.height() > 1 {
            return Err(SqlError::new("SUBQUERY_MULTIPLE_ROWS", "Scalar sub-query has returned multiple rows"));
        }
        let ty = p.cols[0].ty.clone();
        if df.height() == 0 {
            return Ok(Typed::new(null_lit().cast(ty.to_polars()), ty));
        }
        let s = df.columns()[0].as_materialized_series().clone();
        Ok(Typed::new(lit(s).first(), ty))
    }

    fn subquery_column(&mut self, q: &Query) -> SqlResult<(Series, SqlType)> {
        let p = self.query(q)?;
        if p.cols.len() != 1 {
            return Err(SqlError::new("SYNTAX_ERROR", "Multiple columns returned by subquery are not yet supported"));
        }
        let df = p.lf.collect().map_err(from_polars)?;
        Ok((df.columns()[0].as_materialized_series().clone(), p.cols[0].ty.clone()))
    }

    fn function(&mut self, f: &ast::Function, cx: &mut Cx<'_>) -> SqlResult<Typed> {
        let parts = object_parts(&f.name);
        let name = parts.last().map(lower).unwrap_or_default();
        let pos = parts.first().map(pos_of).unwrap_or((0, 0));
        let (args, distinct) = fn_args(f)?;
        if let Some(over) = &f.over {
            let WindowType::WindowSpec(spec) = over else { return Err(SqlError::unsupported("Named windows")) };
            if cx.win.is_none() {
                return Err(SqlError::at("NESTED_WINDOW", pos, "Window functions are not allowed here"));
            }
            let mut preceding = None;
            let rows_frame = match &spec.window_frame {
                None => false,
                Some(fr) => {
                    let to_current = matches!(fr.end_bound, None | Some(WindowFrameBound::CurrentRow));
                    match &fr.start_bound {
                        WindowFrameBound::Preceding(None) if to_current => {}
                        WindowFrameBound::Preceding(Some(n)) if to_current && fr.units == WindowFrameUnits::Rows => preceding = Some(const_int(n)?),
                        WindowFrameBound::CurrentRow if to_current && fr.units == WindowFrameUnits::Rows => preceding = Some(0),
                        _ => return Err(SqlError::unsupported("Window frames other than ROWS/RANGE from UNBOUNDED (or n) PRECEDING to CURRENT ROW")),
                    }
                    fr.units == WindowFrameUnits::Rows
                }
            };
            let mut inner = Cx { scope: cx.scope, agg: cx.agg.as_deref_mut(), win: None };
            let mut targs = Vec::new();
            let mut raw = Vec::new();
            for a in args.iter().flatten() {
                targs.push(self.expr(a, &mut inner)?);
                raw.push(a.clone());
            }
            let partition = spec.partition_by.iter().map(|p| self.expr(p, &mut inner).map(|t| t.e)).collect::<SqlResult<Vec<_>>>()?;
            let mut order = Vec::new();
            for o in &spec.order_by {
                let t = self.expr(&o.expr, &mut inner)?;
                order.push((t.e, matches!(o.options.sort, Some(ast::OrderBySort::Desc)), !o.options.nulls_first.unwrap_or(false)));
            }
            if distinct {
                return Err(SqlError::unsupported("DISTINCT in window functions"));
            }
            let ty = crate::func::window_type(&name, &targs).ok_or_else(|| SqlError::at("FUNCTION_NOT_FOUND", pos, format!("Function '{name}' not registered")))?;
            let out = self.fresh();
            if let Some(w) = cx.win.as_deref_mut() {
                w.push(WindowReq { name: out.clone(), func: name, args: targs, partition, order, rows_frame, preceding, raw_args: raw });
            }
            return Ok(Typed::new(col(out.as_str()), ty));
        }
        if crate::func::is_aggregate(&name) {
            let Some(agg) = cx.agg.as_deref_mut() else {
                return Err(SqlError::at("EXPRESSION_NOT_AGGREGATE", pos, format!("Aggregate function {name} is not allowed here")));
            };
            let scope = cx.scope;
            let mut targs = Vec::new();
            for a in &args {
                match a {
                    Some(x) => {
                        if has_aggregate(x) {
                            return Err(SqlError::at("NESTED_AGGREGATION", pos, format!("Cannot nest aggregations inside aggregation '{name}'")));
                        }
                        targs.push(Some(self.expr(x, &mut Cx::row(scope))?));
                    }
                    None => targs.push(None),
                }
            }
            let filter = match &f.filter {
                Some(fl) => Some(self.expr(fl, &mut Cx::row(scope))?.e),
                None => None,
            };
            let t = crate::func::aggregate(&name, targs, distinct, filter, &args, pos)?;
            let out = self.fresh();
            agg.aggs.push(t.e.alias(out.as_str()));
            return Ok(Typed::new(col(out.as_str()), t.ty));
        }
        if distinct {
            return Err(SqlError::at("SYNTAX_ERROR", pos, format!("DISTINCT is not supported for non-aggregation functions ({name})")));
        }
        let mut targs = Vec::new();
        let mut raw = Vec::new();
        for a in &args {
            let Some(x) = a else { return Err(SqlError::at("SYNTAX_ERROR", pos, format!("'*' is not a valid argument of {name}"))) };
            raw.push(x.clone());
            // Unit arguments ('day', 'hour') stay raw; everything is still translated.
            targs.push(self.expr(x, cx)?);
        }
        crate::func::scalar(self, &name, targs, &raw, pos)
    }
}

/// A frame with one row and no meaningful column (for SELECT without FROM).
fn unit_frame() -> LazyFrame {
    DataFrame::new(1, vec![]).unwrap_or_default().lazy()
}

fn merge(mut a: Scope, b: Scope) -> Scope {
    a.cols.extend(b.cols);
    a
}

fn rename_by_alias(p: &mut Planned, a: &ast::TableAlias) -> SqlResult<()> {
    if a.columns.is_empty() {
        return Ok(());
    }
    if a.columns.len() != p.cols.len() {
        return Err(SqlError::new("MISMATCHED_COLUMN_ALIASES", format!("Column alias list has {} entries but '{}' has {} columns", a.columns.len(), a.name.value, p.cols.len())));
    }
    for (c, n) in p.cols.iter_mut().zip(&a.columns) {
        c.name = lower(&n.name);
    }
    Ok(())
}

fn default_name(e: &SqlExpr, i: usize) -> String {
    match e {
        SqlExpr::Identifier(id) => lower(id),
        SqlExpr::CompoundIdentifier(ids) => ids.last().map(lower).unwrap_or_default(),
        SqlExpr::CompoundFieldAccess { access_chain, .. } => match access_chain.last() {
            Some(ast::AccessExpr::Dot(SqlExpr::Identifier(id))) => lower(id),
            _ => format!("_col{i}"),
        },
        _ => format!("_col{i}"),
    }
}

fn ordinal(e: &SqlExpr) -> Option<usize> {
    match e {
        SqlExpr::Value(v) => match &v.value {
            SqlValue::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

fn is_const(e: &SqlExpr) -> bool {
    matches!(e, SqlExpr::Value(_) | SqlExpr::TypedString(_) | SqlExpr::Interval(_))
}

fn const_int(e: &SqlExpr) -> SqlResult<i64> {
    match e {
        SqlExpr::Value(v) => match &v.value {
            SqlValue::Number(n, _) => n.parse().map_err(|_| SqlError::syntax(format!("Invalid number {n}"))),
            _ => Err(SqlError::syntax(format!("Expected a number, got {v}"))),
        },
        SqlExpr::UnaryOp { op: UnaryOperator::Minus, expr } => Ok(-const_int(expr)?),
        other => Err(SqlError::unsupported(format!("Non-constant {other} here"))),
    }
}

/// A string literal's text.
pub fn const_string(e: &SqlExpr) -> Option<String> {
    match e {
        SqlExpr::Value(v) => match &v.value {
            SqlValue::SingleQuotedString(s) | SqlValue::EscapedStringLiteral(s) | SqlValue::NationalStringLiteral(s) => Some(s.clone()),
            _ => None,
        },
        SqlExpr::Nested(x) => const_string(x),
        _ => None,
    }
}

fn expect_bool(t: &Typed, what: &str) -> SqlResult<()> {
    if matches!(t.ty, SqlType::Boolean | SqlType::Unknown) {
        Ok(())
    } else {
        Err(SqlError::new("TYPE_MISMATCH", format!("{what} must evaluate to a boolean: actual type {}", t.ty.display())))
    }
}

fn field_access(t: Typed, field: &str, pos: (u64, u64)) -> SqlResult<Typed> {
    match &t.ty {
        SqlType::Row(fs) => {
            let (n, ty) = fs.iter().find(|(n, _)| n.eq_ignore_ascii_case(field)).ok_or_else(|| SqlError::at("COLUMN_NOT_FOUND", pos, format!("Column '{field}' cannot be resolved")))?;
            Ok(Typed::new(t.e.struct_().field_by_name(n), ty.clone()))
        }
        other => Err(SqlError::at("TYPE_MISMATCH", pos, format!("Expression of type {} has no field '{field}'", other.display()))),
    }
}

fn literal(v: &SqlValue) -> SqlResult<Typed> {
    Ok(match v {
        SqlValue::Number(n, _) => {
            if n.contains(['.', 'e', 'E']) {
                Typed::new(lit(n.parse::<f64>().map_err(|_| SqlError::syntax(format!("Invalid numeric literal {n}")))?), SqlType::Double)
            } else {
                match n.parse::<i64>() {
                    Ok(i) if i32::try_from(i).is_ok() => Typed::new(lit(i as i32), SqlType::Integer),
                    Ok(i) => Typed::new(lit(i), SqlType::BigInt),
                    Err(_) => return Err(SqlError::new("NUMERIC_VALUE_OUT_OF_RANGE", format!("Invalid numeric literal: {n}"))),
                }
            }
        }
        SqlValue::SingleQuotedString(s) | SqlValue::EscapedStringLiteral(s) | SqlValue::NationalStringLiteral(s) => Typed::new(lit(s.clone()), SqlType::Varchar),
        SqlValue::Boolean(b) => Typed::new(lit(*b), SqlType::Boolean),
        SqlValue::Null => Typed::new(null_lit(), SqlType::Unknown),
        SqlValue::Placeholder(p) => return Err(SqlError::new("INVALID_PARAMETER_USAGE", format!("Incorrect number of parameters: no value for {p}"))),
        SqlValue::DoubleQuotedString(s) => return Err(SqlError::new("COLUMN_NOT_FOUND", format!("Column '{s}' cannot be resolved"))),
        other => return Err(SqlError::unsupported(format!("Literal {other}"))),
    })
}

/// `DATE '...'`, `TIMESTAMP '...'` and other typed literals.
pub fn typed_literal(text: &str, ty: &SqlType) -> SqlResult<Typed> {
    let bad = || SqlError::new("INVALID_LITERAL", format!("'{text}' is not a valid {} literal", ty.display()));
    Ok(match ty {
        SqlType::Date => Typed::new(lit(crate::timefmt::parse_date(text).ok_or_else(bad)?).cast(DataType::Date), SqlType::Date),
        SqlType::Timestamp | SqlType::TimestampTz => Typed::new(ms_lit(crate::timefmt::parse_timestamp(text).ok_or_else(bad)?), ty.clone()),
        other => crate::func::cast(Typed::new(lit(text.to_string()), SqlType::Varchar), other, false)?,
    })
}

/// A timestamp literal from epoch milliseconds.
pub fn ms_lit(ms: i64) -> Expr {
    lit(ms).cast(DataType::Datetime(TimeUnit::Milliseconds, None))
}

fn interval(iv: &ast::Interval) -> SqlResult<Typed> {
    let text = const_string(&iv.value).or_else(|| if let SqlExpr::Value(v) = iv.value.as_ref() { Some(v.value.to_string()) } else { None }).ok_or_else(|| SqlError::unsupported("Non-constant INTERVAL"))?;
    let n: i64 = text.trim().parse().map_err(|_| SqlError::unsupported(format!("INTERVAL '{text}'")))?;
    let unit = iv.leading_field.as_ref().map(|f| f.to_string().to_ascii_lowercase()).unwrap_or_else(|| "day".into());
    if iv.last_field.is_some() {
        return Err(SqlError::unsupported("INTERVAL ranges"));
    }
    let ms = match unit.trim_end_matches('s') {
        "second" => 1000,
        "minute" => 60_000,
        "hour" => 3_600_000,
        "day" => 86_400_000,
        "week" => 7 * 86_400_000,
        "month" => return Ok(Typed::new(lit(n as i32), SqlType::IntervalMonth)),
        "year" => return Ok(Typed::new(lit((n * 12) as i32), SqlType::IntervalMonth)),
        u => return Err(SqlError::unsupported(format!("INTERVAL unit {u}"))),
    };
    Ok(Typed::new(lit(n * ms).cast(DataType::Duration(TimeUnit::Milliseconds)), SqlType::IntervalDay))
}

/// Brings two operands to their common type, or fails as Trino does.
fn coerce_pair(l: Typed, r: Typed, op: &str) -> SqlResult<(Typed, Typed)> {
    let ty = SqlType::common(&l.ty, &r.ty).ok_or_else(|| SqlError::new("TYPE_MISMATCH", format!("Cannot apply operator: {} {op} {}", l.ty.display(), r.ty.display())))?;
    Ok((l.to(&ty), r.to(&ty)))
}

fn binary(l: Typed, op: &Bin, r: Typed) -> SqlResult<Typed> {
    use SqlType as T;
    let sym = op.to_string();
    match op {
        Bin::Eq | Bin::NotEq | Bin::Lt | Bin::LtEq | Bin::Gt | Bin::GtEq => {
            let (l, r) = coerce_pair(l, r, &sym)?;
            if matches!(l.ty, T::Map(..) | T::Row(_)) && !matches!(op, Bin::Eq | Bin::NotEq) {
                return Err(SqlError::new("TYPE_MISMATCH", format!("Cannot apply operator: {} {sym} {}", l.ty.display(), r.ty.display())));
            }
            let e = match op {
                Bin::Eq => l.e.eq(r.e),
                Bin::NotEq => l.e.neq(r.e),
                Bin::Lt => l.e.lt(r.e),
                Bin::LtEq => l.e.lt_eq(r.e),
                Bin::Gt => l.e.gt(r.e),
                _ => l.e.gt_eq(r.e),
            };
            Ok(Typed::new(e, T::Boolean))
        }
        Bin::And | Bin::Or => {
            expect_bool(&l, &sym)?;
            expect_bool(&r, &sym)?;
            let (a, b) = (l.e.cast(DataType::Boolean), r.e.cast(DataType::Boolean));
            Ok(Typed::new(if *op == Bin::And { a.and(b) } else { a.or(b) }, T::Boolean))
        }
        Bin::StringConcat => {
            if let (T::Array(_), _) | (_, T::Array(_)) = (&l.ty, &r.ty) {
                return Err(SqlError::unsupported("|| on arrays"));
            }
            for t in [&l, &r] {
                if !matches!(t.ty, T::Varchar | T::Unknown) {
                    return Err(SqlError::new("TYPE_MISMATCH", format!("Cannot apply operator: {} || {}", l.ty.display(), r.ty.display())));
                }
            }
            Ok(Typed::new(concat_str([l.e.cast(DataType::String), r.e.cast(DataType::String)], "", false), T::Varchar))
        }
        Bin::Plus | Bin::Minus if l.ty.is_temporal() || r.ty.is_temporal() => crate::func::temporal_arith(l, *op == Bin::Plus, r),
        Bin::Plus | Bin::Minus | Bin::Multiply | Bin::Divide | Bin::Modulo => {
            if !(l.ty.is_numeric() || l.ty == T::Unknown) || !(r.ty.is_numeric() || r.ty == T::Unknown) {
                return Err(SqlError::new("TYPE_MISMATCH", format!("Cannot apply operator: {} {sym} {}", l.ty.display(), r.ty.display())));
            }
            let (l, r) = coerce_pair(l, r, &sym)?;
            let ty = if l.ty == T::Unknown { T::Integer } else { l.ty.clone() };
            let int = ty.is_integer();
            let e = match op {
                Bin::Plus => l.e + r.e,
                Bin::Minus => l.e - r.e,
                Bin::Multiply => l.e * r.e,
                Bin::Divide if int => crate::func::trunc_div(l.e, r.e, &ty),
                Bin::Divide => crate::func::float_div(l.e, r.e),
                _ if int => {
                    let q = crate::func::trunc_div(l.e.clone(), r.e.clone(), &ty);
                    l.e - r.e * q
                }
                _ => {
                    let (a, b) = (l.e.cast(DataType::Float64), r.e.cast(DataType::Float64));
                    a.clone() - b.clone() * (a / b).cast(DataType::Int64).cast(DataType::Float64)
                }
            };
            let e = if int { e.cast(ty.to_polars()) } else { e };
            Ok(Typed::new(e, if int { ty } else if ty == T::Real { T::Real } else { T::Double }))
        }
        o => Err(SqlError::unsupported(format!("Operator {o}"))),
    }
}

/// SQL LIKE as polars string matching (fast paths for prefix/suffix/contains).
fn like(x: Expr, pat: &str, esc: Option<char>, ci: bool) -> Expr {
    let mut re = String::from(if ci { "(?s)(?i)^" } else { "(?s)^" });
    let mut plain = String::new();
    let mut simple = true;
    let mut chars = pat.chars().peekable();
    let mut tokens: Vec<Option<char>> = Vec::new(); // None = %, Some('\0') = _, else literal
    while let Some(c) = chars.next() {
        if Some(c) == esc {
            if let Some(n) = chars.next() {
                tokens.push(Some(n));
            }
            continue;
        }
        match c {
            '%' => tokens.push(None),
            '_' => tokens.push(Some('\u{0}')),
            c => tokens.push(Some(c)),
        }
    }
    for t in &tokens {
        match t {
            None => re.push_str(".*"),
            Some('\u{0}') => {
                re.push('.');
                simple = false;
            }
            Some(c) => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    if !ci && simple {
        let inner: Vec<&Option<char>> = tokens.iter().collect();
        let pct = |i: usize| inner.get(i).is_some_and(|t| t.is_none());
        let n = inner.len();
        let mids = inner.iter().skip(1).take(n.saturating_sub(2)).all(|t| t.is_some());
        let text: String = tokens.iter().flatten().collect();
        plain.push_str(&text);
        if n >= 2 && pct(0) && pct(n - 1) && mids {
            return x.str().contains_literal(lit(plain));
        }
        if n >= 1 && pct(n - 1) && tokens[..n - 1].iter().all(Option::is_some) {
            return x.str().starts_with(lit(plain));
        }
        if n >= 1 && pct(0) && tokens[1..].iter().all(Option::is_some) {
            return x.str().ends_with(lit(plain));
        }
        if tokens.iter().all(Option::is_some) {
            return x.eq(lit(plain));
        }
    }
    x.str().contains(lit(re), true)
}

/// sqlparser's data types as SQL types.
pub fn sql_data_type(d: &ast::DataType) -> SqlResult<SqlType> {
    use ast::DataType as D;
    Ok(match d {
        D::Varchar(_) | D::Char(_) | D::String(_) | D::Text | D::CharVarying(_) | D::Character(_) | D::CharacterVarying(_) | D::Nvarchar(_) => SqlType::Varchar,
        D::Int(_) | D::Integer(_) | D::Int32 | D::Int4(_) => SqlType::Integer,
        D::BigInt(_) | D::Int64 | D::Int8(_) => SqlType::BigInt,
        D::SmallInt(_) | D::Int16 | D::Int2(_) => SqlType::SmallInt,
        D::TinyInt(_) => SqlType::TinyInt,
        D::Double(_) | D::DoublePrecision | D::Float64 | D::Float8 => SqlType::Double,
        D::Real | D::Float(_) | D::Float4 | D::Float32 => SqlType::Real,
        D::Boolean | D::Bool => SqlType::Boolean,
        D::Date => SqlType::Date,
        D::Timestamp(_, tz) => match tz {
            ast::TimezoneInfo::WithTimeZone | ast::TimezoneInfo::Tz => SqlType::TimestampTz,
            _ => SqlType::Timestamp,
        },
        D::Decimal(info) | D::Numeric(info) | D::Dec(info) => match info {
            ast::ExactNumberInfo::PrecisionAndScale(p, s) => SqlType::Decimal(*p as u8, *s as u8),
            ast::ExactNumberInfo::Precision(p) => SqlType::Decimal(*p as u8, 0),
            ast::ExactNumberInfo::None => SqlType::Decimal(38, 0),
        },
        D::JSON => SqlType::Json,
        D::Array(ast::ArrayElemTypeDef::AngleBracket(t) | ast::ArrayElemTypeDef::SquareBracket(t, _) | ast::ArrayElemTypeDef::Parenthesis(t)) => SqlType::Array(Box::new(sql_data_type(t)?)),
        D::Custom(name, args) => {
            let n = name.to_string().to_ascii_lowercase();
            let text = if args.is_empty() { n.clone() } else { format!("{n}({})", args.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(",")) };
            SqlType::parse_hive(&text).map_err(|_| SqlError::new("TYPE_NOT_FOUND", format!("Unknown type: {text}")))?
        }
        other => return Err(SqlError::new("TYPE_NOT_FOUND", format!("Unknown type: {other}"))),
    })
}

/// sqlparser's message in Trino's words: `line 1:8: mismatched input 'x'. Expecting: ...`.
fn trino_syntax_error(m: &str) -> SqlError {
    let m = m.strip_prefix("sql parser error: ").unwrap_or(m);
    let (body, pos) = match m.rsplit_once(" at Line: ") {
        Some((b, p)) => {
            let mut it = p.split(", Column: ");
            let l = it.next().and_then(|x| x.trim().parse::<u64>().ok()).unwrap_or(1);
            let c = it.next().and_then(|x| x.trim().parse::<u64>().ok()).unwrap_or(1);
            (b, (l, c))
        }
        None => (m, (1, 1)),
    };
    let text = match body.strip_prefix("Expected: ").and_then(|r| r.split_once(", found: ")) {
        Some((want, found)) => {
            let found = if found == "EOF" { "<EOF>".to_string() } else { found.to_string() };
            format!("mismatched input '{found}'. Expecting: {want}")
        }
        None => body.to_string(),
    };
    SqlError::at("SYNTAX_ERROR", pos, text)
}

/// Deeply nested or very long operator chains are refused before parsing: the planner (and
/// dropping the tree) recurse once per level.
fn check_complexity(sql: &str) -> SqlResult<()> {
    const MAX: usize = 2000;
    let (mut depth, mut max_depth, mut ops) = (0usize, 0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut word = String::new();
    for c in sql.chars().chain(std::iter::once(' ')) {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            word.push(c.to_ascii_lowercase());
            continue;
        }
        if word == "and" || word == "or" {
            ops += 1;
        }
        word.clear();
        match c {
            '\'' | '"' => quote = Some(c),
            '(' => {
                depth += 1;
                max_depth = max_depth.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            '+' | '-' | '*' | '/' | '%' | '|' | '=' | '<' | '>' => ops += 1,
            _ => {}
        }
    }
    if max_depth > 200 || ops > MAX * 5 {
        return Err(SqlError::new("QUERY_TOO_COMPLEX", "Query is too complex for firelocal's Athena engine (nesting or operator count)"));
    }
    Ok(())
}

/// Parses a single query with the dialect closest to Trino's.
pub fn parse_query(sql: &str) -> SqlResult<Box<Query>> {
    use sqlparser::tokenizer::{Token, Tokenizer};
    let dialect = sqlparser::dialect::GenericDialect {};
    // Trino takes OFFSET before LIMIT only.
    if let Ok(toks) = Tokenizer::new(&dialect, sql).tokenize_with_location() {
        let words: Vec<&sqlparser::tokenizer::TokenWithSpan> = toks.iter().filter(|t| !matches!(t.token, Token::Whitespace(_))).collect();
        for w in words.windows(3) {
            if let (Token::Word(a), Token::Number(..), Token::Word(b)) = (&w[0].token, &w[1].token, &w[2].token)
                && a.value.eq_ignore_ascii_case("limit")
                && b.value.eq_ignore_ascii_case("offset")
            {
                let p = w[2].span.start;
                return Err(SqlError::at("SYNTAX_ERROR", (p.line, p.column), format!("mismatched input '{}'. Expecting: <EOF>", b.value)));
            }
        }
    }
    check_complexity(sql)?;
    let mut stmts = sqlparser::parser::Parser::parse_sql(&dialect, sql).map_err(|e| trino_syntax_error(&e.to_string()))?;
    if stmts.len() != 1 {
        return Err(SqlError::syntax("Expected exactly one statement"));
    }
    match stmts.remove(0) {
        ast::Statement::Query(q) => Ok(q),
        other => Err(SqlError::unsupported(format!("Statement {}", other.to_string().split_whitespace().next().unwrap_or("")))),
    }
}
