//! The function table: Trino/Athena scalar, aggregate and window functions as polars
//! expressions, with Trino's types and NULL rules. To add a function, add an arm to
//! [`scalar`] (or [`aggregate`]) that checks its arguments and builds the expression.

use polars::prelude::*;
use sqlparser::ast::Expr as SqlExpr;

use crate::error::{SqlError, SqlResult};
use crate::plan::{Planner, Typed, const_string, ms_lit};
use crate::timefmt;
use crate::types::SqlType;

const AGGREGATES: &[&str] = &[
    "count", "sum", "avg", "min", "max", "approx_distinct", "approx_percentile", "arbitrary", "any_value", "count_if", "bool_and", "bool_or",
    "every", "max_by", "min_by", "array_agg", "stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop", "geometric_mean",
];

/// Whether `name` is an aggregate function.
pub fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name)
}

fn null_of(ty: &SqlType) -> Expr {
    lit(Null {}).cast(ty.to_polars())
}

fn bad_args(name: &str, args: &[Typed], pos: (u64, u64)) -> SqlError {
    let types: Vec<String> = args.iter().map(|a| a.ty.display()).collect();
    SqlError::at("FUNCTION_NOT_FOUND", pos, format!("Unexpected parameters ({}) for function {name}", types.join(", ")))
}

/// An aggregate call; `args` entries are `None` for `*`.
pub fn aggregate(name: &str, args: Vec<Option<Typed>>, distinct: bool, filter: Option<Expr>, raw: &[Option<SqlExpr>], pos: (u64, u64)) -> SqlResult<Typed> {
    let star = args.first().is_some_and(Option::is_none);
    let args: Vec<Typed> = args.into_iter().flatten().collect();
    let filt = |e: Expr| match &filter {
        Some(f) => e.filter(f.clone()),
        None => e,
    };
    let x = |i: usize| args.get(i).cloned().ok_or_else(|| bad_args(name, &args, pos));
    let count_nonnull = |e: Expr| e.count().cast(DataType::Int64);
    Ok(match name {
        "count" if star || args.is_empty() => {
            let e = match &filter {
                Some(f) => f.clone().cast(DataType::Int64).sum().fill_null(lit(0i64)),
                None => len().cast(DataType::Int64),
            };
            Typed::new(e, SqlType::BigInt)
        }
        "count" => {
            let v = filt(x(0)?.e);
            Typed::new(if distinct { v.drop_nulls().n_unique().cast(DataType::Int64) } else { count_nonnull(v) }, SqlType::BigInt)
        }
        "approx_distinct" => Typed::new(filt(x(0)?.e).drop_nulls().n_unique().cast(DataType::Int64), SqlType::BigInt),
        "count_if" => {
            let c = x(0)?;
            if c.ty != SqlType::Boolean {
                return Err(bad_args(name, &args, pos));
            }
            Typed::new(filt(c.e).cast(DataType::Int64).sum().fill_null(lit(0i64)), SqlType::BigInt)
        }
        "sum" | "avg" | "min" | "max" | "stddev" | "stddev_samp" | "stddev_pop" | "variance" | "var_samp" | "var_pop" | "geometric_mean" => {
            let a = x(0)?;
            let numeric_only = !matches!(name, "min" | "max");
            if numeric_only && !a.ty.is_numeric() && a.ty != SqlType::Unknown && !(name == "sum" && a.ty == SqlType::IntervalDay) {
                return Err(bad_args(name, &args, pos));
            }
            if matches!(a.ty, SqlType::Array(_) | SqlType::Map(..) | SqlType::Row(_)) {
                return Err(bad_args(name, &args, pos));
            }
            let v = filt(a.e.clone());
            let v = if distinct { v.unique() } else { v };
            let nonnull = v.clone().count();
            let (e, ty) = match name {
                "sum" if a.ty.is_integer() => (v.cast(DataType::Int64).sum(), SqlType::BigInt),
                "sum" if a.ty == SqlType::Real => (v.sum(), SqlType::Real),
                "sum" if matches!(a.ty, SqlType::Decimal(..)) => (v.cast(DataType::Float64).sum(), if let SqlType::Decimal(_, s) = a.ty { SqlType::Decimal(38, s) } else { SqlType::Double }),
                "avg" if matches!(a.ty, SqlType::Decimal(..)) => (v.cast(DataType::Float64).mean(), a.ty.clone()),
                "sum" => (v.cast(DataType::Float64).sum(), SqlType::Double),
                "avg" if a.ty == SqlType::Real => (v.mean().cast(DataType::Float32), SqlType::Real),
                "avg" => (v.cast(DataType::Float64).mean(), SqlType::Double),
                "min" => (v.min(), a.ty.clone()),
                "max" => (v.max(), a.ty.clone()),
                "stddev" | "stddev_samp" => (v.cast(DataType::Float64).std(1), SqlType::Double),
                "stddev_pop" => (v.cast(DataType::Float64).std(0), SqlType::Double),
                "variance" | "var_samp" => (v.cast(DataType::Float64).var(1), SqlType::Double),
                "var_pop" => (v.cast(DataType::Float64).var(0), SqlType::Double),
                _ => (v.cast(DataType::Float64).log(lit(std::f64::consts::E)).mean().exp(), SqlType::Double),
            };
            // Trino: an aggregate over no non-NULL values is NULL (polars' sum would be 0).
            Typed::new(when(nonnull.eq(lit(0))).then(null_of(&ty)).otherwise(e), ty)
        }
        "approx_percentile" => {
            let a = x(0)?;
            if !a.ty.is_numeric() {
                return Err(bad_args(name, &args, pos));
            }
            let p = match raw.get(1).and_then(|r| r.as_ref()) {
                Some(SqlExpr::Value(v)) => v.value.to_string().parse::<f64>().map_err(|_| bad_args(name, &args, pos))?,
                _ => return Err(SqlError::unsupported("approx_percentile with a non-constant or array percentage")),
            };
            if args.len() != 2 || !(0.0..=1.0).contains(&p) {
                return Err(SqlError::at("INVALID_FUNCTION_ARGUMENT", pos, "Percentile must be between 0 and 1"));
            }
            let e = filt(a.e).quantile(lit(p), QuantileMethod::Nearest).cast(a.ty.to_polars());
            Typed::new(e, a.ty)
        }
        "arbitrary" | "any_value" => {
            let a = x(0)?;
            Typed::new(filt(a.e).drop_nulls().first(), a.ty)
        }
        "bool_and" | "every" | "bool_or" => {
            let a = x(0)?;
            if a.ty != SqlType::Boolean {
                return Err(bad_args(name, &args, pos));
            }
            let v = filt(a.e);
            let e = if name == "bool_or" { v.clone().any(true) } else { v.clone().all(true) };
            Typed::new(when(v.count().eq(lit(0))).then(null_of(&SqlType::Boolean)).otherwise(e), SqlType::Boolean)
        }
        "max_by" | "min_by" => {
            let (v, k) = (x(0)?, x(1)?);
            let desc = name == "max_by";
            let sorted = filt(v.e).sort_by([filt(k.e)], SortMultipleOptions::default().with_order_descending(desc).with_nulls_last(true));
            Typed::new(sorted.first(), v.ty)
        }
        "array_agg" => {
            let a = x(0)?;
            Typed::new(filt(a.e).implode(true), SqlType::Array(Box::new(a.ty)))
        }
        _ => return Err(SqlError::at("FUNCTION_NOT_FOUND", pos, format!("Function '{name}' not registered"))),
    })
}

/// The result type of a window function, or `None` if there is no such window function.
pub fn window_type(name: &str, args: &[Typed]) -> Option<SqlType> {
    let a0 = args.first().map(|a| a.ty.clone());
    Some(match name {
        "row_number" | "rank" | "dense_rank" | "count" => SqlType::BigInt,
        "lag" | "lead" | "first_value" | "last_value" | "min" | "max" => a0?,
        "sum" => match a0? {
            t if t.is_integer() => SqlType::BigInt,
            _ => SqlType::Double,
        },
        "avg" => SqlType::Double,
        _ => return None,
    })
}

/// How many rows a closure over several columns produces: a one-row column is a constant
/// broadcast to the others, and any empty input means no rows.
fn broadcast_height(cols: &[Column]) -> usize {
    if cols.iter().any(|c| c.is_empty()) { 0 } else { cols.iter().map(Column::len).max().unwrap_or(0) }
}

/// The row of a column of `len` rows to read for output row `i` (a one-row column is broadcast).
fn at(len: usize, i: usize) -> usize {
    if len == 1 { 0 } else { i }
}

/// Trino's integer division: truncates toward zero; a zero divisor fails the query.
pub fn trunc_div(a: Expr, b: Expr, ty: &SqlType) -> Expr {
    let out = ty.to_polars();
    let out2 = out.clone();
    a.cast(DataType::Int64).map_many(
        move |c: &mut [Column]| {
            let h = broadcast_height(c);
            let x = c[0].i64()?.clone();
            let y = c[1].cast(&DataType::Int64)?;
            let y = y.i64()?.clone();
            let mut v: Vec<Option<i64>> = Vec::with_capacity(h);
            for i in 0..h {
                v.push(match (x.get(at(x.len(), i)), y.get(at(y.len(), i))) {
                    (Some(_), Some(0)) => polars_bail!(ComputeError: "DIVISION_BY_ZERO: Division by zero"),
                    (Some(p), Some(q)) => p.checked_div(q),
                    _ => None,
                });
            }
            Int64Chunked::from_iter_options(c[0].name().clone(), v.into_iter()).into_column().cast(&out2)
        },
        &[b],
        move |_, f| Ok(Field::new(f[0].name().clone(), out.clone())),
    )
}

/// IEEE division of doubles, element by element (polars rewrites `x / constant` as a
/// multiplication by the reciprocal, which is not the same double: 700 * 0.001 != 0.7).
pub fn float_div(a: Expr, b: Expr) -> Expr {
    a.cast(DataType::Float64).map_many(
        |c: &mut [Column]| {
            let h = broadcast_height(c);
            let x = c[0].f64()?.clone();
            let y = c[1].cast(&DataType::Float64)?;
            let y = y.f64()?.clone();
            let out: Float64Chunked = (0..h).map(|i| Some(x.get(at(x.len(), i))? / y.get(at(y.len(), i))?)).collect();
            Ok(out.with_name(c[0].name().clone()).into_column())
        },
        &[b],
        |_, f| Ok(Field::new(f[0].name().clone(), DataType::Float64)),
    )
}

fn ms_of(t: &Typed) -> Expr {
    match t.ty {
        SqlType::Date => t.e.clone().cast(DataType::Datetime(TimeUnit::Milliseconds, None)).dt().timestamp(TimeUnit::Milliseconds),
        _ => t.e.clone().cast(DataType::Datetime(TimeUnit::Milliseconds, None)).dt().timestamp(TimeUnit::Milliseconds),
    }
}

/// `timestamp ± interval`, `date ± interval`.
pub fn temporal_arith(l: Typed, plus: bool, r: Typed) -> SqlResult<Typed> {
    let (t, iv) = match (&l.ty, &r.ty) {
        (a, SqlType::IntervalDay | SqlType::IntervalMonth) if a.is_temporal() => (l, r),
        (SqlType::IntervalDay | SqlType::IntervalMonth, b) if b.is_temporal() && plus => (r, l),
        _ => return Err(SqlError::new("TYPE_MISMATCH", format!("Cannot apply operator: {} {} {}", l.ty.display(), if plus { "+" } else { "-" }, r.ty.display()))),
    };
    let e = match iv.ty {
        SqlType::IntervalDay => {
            let d = iv.e.cast(DataType::Int64);
            let ms = ms_of(&t);
            let out = if plus { ms + d } else { ms - d };
            out.cast(DataType::Datetime(TimeUnit::Milliseconds, None))
        }
        _ => {
            let months = if plus { iv.e.cast(DataType::Int64) } else { lit(0i64) - iv.e.cast(DataType::Int64) };
            let by = concat_str([months.cast(DataType::String), lit("mo")], "", false);
            t.e.clone().cast(DataType::Datetime(TimeUnit::Milliseconds, None)).dt().offset_by(by)
        }
    };
    let e = if t.ty == SqlType::Date { e.cast(DataType::Date) } else { e };
    Ok(Typed::new(e, t.ty))
}

/// CAST / TRY_CAST with Trino's rules (doubles round to integers, text parses dates and
/// timestamps, a failed CAST fails the query).
pub fn cast(x: Typed, ty: &SqlType, try_: bool) -> SqlResult<Typed> {
    use SqlType as T;
    if &x.ty == ty {
        return Ok(x);
    }
    let strict = !try_;
    let e = match (&x.ty, ty) {
        (T::Unknown, _) => null_of(ty),
        (T::Varchar, T::Date | T::Timestamp | T::TimestampTz) => parse_text_time(x.e, ty, strict),
        (T::Varchar, t) if t.is_integer() || matches!(t, T::Double | T::Real | T::Decimal(..) | T::Boolean) => {
            let trimmed = x.e.str().strip_chars(lit(Null {}));
            let target = if t.is_integer() { DataType::Float64 } else { ty.to_polars() };
            let parsed = if t.is_integer() {
                // "12" → 12, "1.5" fails like Trino.
                let as_int = trimmed.clone().cast(DataType::Int64);
                if strict { trimmed.strict_cast(DataType::Int64).cast(ty.to_polars()) } else { as_int.cast(ty.to_polars()) }
            } else if matches!(t, T::Boolean) {
                let l = trimmed.str().to_lowercase();
                when(l.clone().eq(lit("true"))).then(lit(true)).when(l.clone().eq(lit("false"))).then(lit(false)).otherwise(lit(Null {}).cast(DataType::Boolean))
            } else if strict {
                trimmed.strict_cast(target)
            } else {
                trimmed.cast(target)
            };
            parsed
        }
        (f, t) if matches!(f, T::Double | T::Real | T::Decimal(..)) && t.is_integer() => x.e.round(0, RoundMode::HalfAwayFromZero).cast(ty.to_polars()),
        (f, T::Varchar) if matches!(f, T::Double | T::Real) => {
            let t = x.ty.clone();
            x.e.map(move |c| render_floats(c, &t), |_, f| Ok(Field::new(f.name().clone(), DataType::String)))
        }
        (T::Timestamp | T::TimestampTz, T::Varchar) => x.e.dt().strftime("%Y-%m-%d %H:%M:%S%.3f"),
        (T::Date, T::Varchar) => x.e.dt().strftime("%Y-%m-%d"),
        (T::Boolean, T::Varchar) => when(x.e.clone()).then(lit("true")).otherwise(when(x.e.is_null()).then(lit(Null {}).cast(DataType::String)).otherwise(lit("false"))),
        (T::Json, T::Varchar) => x.e,
        (T::Varchar, T::Json) => x.e,
        (a, b) if a.is_numeric() && (b.is_numeric() || *b == T::Varchar) => x.e.cast(ty.to_polars()),
        (T::Boolean, b) if b.is_numeric() => x.e.cast(ty.to_polars()),
        (a, T::Boolean) if a.is_numeric() => x.e.neq(lit(0)),
        (T::Timestamp | T::TimestampTz, T::Date) => x.e.cast(DataType::Date),
        (T::Date, T::Timestamp | T::TimestampTz) => x.e.cast(ty.to_polars()),
        (T::Timestamp, T::TimestampTz) | (T::TimestampTz, T::Timestamp) => x.e,
        (T::Array(_), T::Array(_)) => x.e.cast(ty.to_polars()),
        _ => return Err(SqlError::new("TYPE_MISMATCH", format!("Cannot cast {} to {}", x.ty.display(), ty.display()))),
    };
    Ok(Typed::new(e, ty.clone()))
}

/// Doubles as Trino's CAST(... AS varchar) and Athena's results print them.
fn render_floats(c: Column, _ty: &SqlType) -> PolarsResult<Column> {
    let f = c.cast(&DataType::Float64)?;
    let ca = f.f64()?;
    let out: StringChunked = ca.iter().map(|v| v.map(crate::render::java_double)).collect();
    Ok(out.with_name(c.name().clone()).into_column())
}

/// Text → date / timestamp with Athena's accepted forms.
fn parse_text_time(e: Expr, ty: &SqlType, strict: bool) -> Expr {
    let date = *ty == SqlType::Date;
    let out_ty = ty.to_polars();
    let out_ty2 = out_ty.clone();
    e.map(
        move |c| {
            let ca = c.str()?;
            if date {
                let mut v = Vec::with_capacity(ca.len());
                for s in ca.iter() {
                    v.push(match s {
                        None => None,
                        Some(s) => match timefmt::parse_date(s).filter(|_| s.trim().len() <= 10) {
                            Some(d) => Some(d),
                            None if strict => polars_bail!(ComputeError: "INVALID_CAST_ARGUMENT: Value cannot be cast to date: {s}"),
                            None => None,
                        },
                    });
                }
                Ok(Int32Chunked::from_iter_options(c.name().clone(), v.into_iter()).into_date().into_column())
            } else {
                let mut v = Vec::with_capacity(ca.len());
                for s in ca.iter() {
                    v.push(match s {
                        None => None,
                        Some(s) => match timefmt::parse_timestamp(s) {
                            Some(d) => Some(d),
                            None if strict => polars_bail!(ComputeError: "INVALID_CAST_ARGUMENT: Value cannot be cast to timestamp: {s}"),
                            None => None,
                        },
                    });
                }
                Ok(Int64Chunked::from_iter_options(c.name().clone(), v.into_iter()).into_datetime(TimeUnit::Milliseconds, None).into_column())
            }
        },
        move |_, f| Ok(Field::new(f.name().clone(), out_ty2.clone())),
    )
    .cast(out_ty)
}

/// EXTRACT(unit FROM x) and the year()/month()/... functions.
pub fn extract(unit: &str, x: Typed) -> SqlResult<Typed> {
    if !x.ty.is_temporal() {
        return Err(SqlError::new("TYPE_MISMATCH", format!("Cannot extract {unit} from {}", x.ty.display())));
    }
    let dt = x.e.clone().dt();
    let e = match unit {
        "year" => dt.year(),
        "quarter" => dt.quarter(),
        "month" => dt.month(),
        "week" | "week_of_year" => dt.week(),
        "day" | "day_of_month" => dt.day(),
        "day_of_week" | "dow" => dt.weekday(),
        "day_of_year" | "doy" => dt.ordinal_day(),
        "hour" if x.ty != SqlType::Date => dt.hour(),
        "minute" if x.ty != SqlType::Date => dt.minute(),
        "second" if x.ty != SqlType::Date => dt.second(),
        "millisecond" if x.ty != SqlType::Date => dt.millisecond(),
        "year_of_week" | "yow" => dt.iso_year(),
        _ => return Err(SqlError::new("FUNCTION_NOT_FOUND", format!("Cannot extract {unit} from {}", x.ty.display()))),
    };
    Ok(Typed::new(e.cast(DataType::Int64), SqlType::BigInt))
}

/// `array[i]` (1-based) and `map[key]`.
pub fn subscript(t: Typed, i: Typed) -> SqlResult<Typed> {
    subscript_with(t, i, false)
}

fn subscript_with(t: Typed, i: Typed, null_out_of_range: bool) -> SqlResult<Typed> {
    match &t.ty {
        SqlType::Array(inner) => {
            if !i.ty.is_integer() {
                return Err(SqlError::new("TYPE_MISMATCH", "Array subscript must be an integer"));
            }
            // 1-based; 0 (and, for [], negatives) is out of range; element_at counts negatives from the end.
            let i = i.e.cast(DataType::Int64);
            let idx = if null_out_of_range {
                when(i.clone().gt(lit(0i64))).then(i.clone() - lit(1i64)).when(i.clone().lt(lit(0i64))).then(i).otherwise(lit(i64::MAX))
            } else {
                when(i.clone().gt(lit(0i64))).then(i - lit(1i64)).otherwise(lit(i64::MAX))
            };
            Ok(Typed::new(t.e.list().get(idx, null_out_of_range), (**inner).clone()))
        }
        SqlType::Map(k, v) => map_get(t.clone(), i.to(k), v),
        SqlType::Row(_) => Err(SqlError::unsupported("Row subscripts; use row.field")),
        other => Err(SqlError::new("TYPE_MISMATCH", format!("Cannot subscript {}", other.display()))),
    }
}

fn map_get(m: Typed, key: Typed, vty: &SqlType) -> SqlResult<Typed> {
    let out = vty.to_polars();
    let out2 = out.clone();
    let e = m.e.map_many(
        move |cols: &mut [Column]| {
            let maps = cols[0].list()?.clone();
            let keys = cols[1].cast(&DataType::String)?;
            let keys = keys.str()?.clone();
            let n = broadcast_height(cols);
            let mut vals: Vec<Option<AnyValue<'static>>> = Vec::with_capacity(n);
            for row in 0..n {
                let k = keys.get(at(keys.len(), row));
                let entry = maps.get_as_series(at(maps.len(), row));
                let mut found = None;
                if let (Some(k), Some(entry)) = (k, entry) {
                    let st = entry.struct_()?;
                    let fields = st.fields_as_series();
                    if fields.len() == 2 {
                        let ks = fields[0].cast(&DataType::String)?;
                        let ks = ks.str()?;
                        for (j, kk) in ks.iter().enumerate() {
                            if kk == Some(k) {
                                found = Some(fields[1].get(j)?.into_static());
                                break;
                            }
                        }
                    }
                }
                vals.push(found);
            }
            let av: Vec<AnyValue<'static>> = vals.into_iter().map(|v| v.unwrap_or(AnyValue::Null)).collect();
            Ok(Series::from_any_values_and_dtype("".into(), &av, &out2, false)?.into_column())
        },
        &[key.e],
        move |_, f| Ok(Field::new(f[0].name().clone(), out.clone())),
    );
    Ok(Typed::new(e, vty.clone()))
}

fn unit_arg(raw: &[SqlExpr], i: usize, name: &str) -> SqlResult<String> {
    raw.get(i).and_then(const_string).map(|s| s.to_ascii_lowercase()).ok_or_else(|| SqlError::new("INVALID_FUNCTION_ARGUMENT", format!("{name}: the unit must be a string literal")))
}

fn trunc_every(unit: &str) -> Option<&'static str> {
    Some(match unit {
        "millisecond" => "1ms",
        "second" => "1s",
        "minute" => "1m",
        "hour" => "1h",
        "day" => "1d",
        "week" => "1w",
        "month" => "1mo",
        "quarter" => "1q",
        "year" => "1y",
        _ => return None,
    })
}

fn unit_ms(unit: &str) -> Option<i64> {
    Some(match unit {
        "millisecond" => 1,
        "second" => 1000,
        "minute" => 60_000,
        "hour" => 3_600_000,
        "day" => 86_400_000,
        "week" => 7 * 86_400_000,
        _ => return None,
    })
}

/// MySQL-style format (date_format, date_parse) → chrono's strftime.
pub fn mysql_format(f: &str) -> SqlResult<String> {
    let mut out = String::new();
    let mut it = f.chars();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(n) = it.next() else { break };
        out.push_str(match n {
            'Y' => "%Y",
            'y' => "%y",
            'm' => "%m",
            'c' => "%-m",
            'd' => "%d",
            'e' => "%-d",
            'H' => "%H",
            'k' => "%-H",
            'h' | 'I' => "%I",
            'l' => "%-I",
            'i' => "%M",
            's' | 'S' => "%S",
            'f' => "%6f",
            'p' => "%p",
            'T' => "%H:%M:%S",
            'r' => "%I:%M:%S %p",
            'a' => "%a",
            'b' => "%b",
            'M' => "%B",
            'W' => "%A",
            'j' => "%j",
            '%' => "%%",
            other => return Err(SqlError::unsupported(format!("Date format specifier %{other}"))),
        });
    }
    Ok(out)
}

/// Joda-style format (parse_datetime, format_datetime) → chrono's strftime.
pub fn joda_format(f: &str) -> SqlResult<String> {
    let mut out = String::new();
    for t in timefmt::joda_tokens(f) {
        let (c, n) = match t {
            timefmt::JodaToken::Literal(l) => {
                out.push_str(&l.replace('%', "%%"));
                continue;
            }
            timefmt::JodaToken::Field(c, n) => (c, n),
        };
        out.push_str(match (c, n) {
            ('y' | 'Y', 2) => "%y",
            ('y' | 'Y', _) => "%Y",
            ('M', 1) => "%-m",
            ('M', 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', 1) => "%-d",
            ('d', _) => "%d",
            ('H', 1) => "%-H",
            ('H', _) => "%H",
            ('h', _) => "%I",
            ('m', _) => "%M",
            ('s', _) => "%S",
            ('S', 1..=3) => "%3f",
            ('S', _) => "%6f",
            ('a', _) => "%p",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            ('D', _) => "%j",
            ('Z', _) => "%z",
            _ => return Err(SqlError::unsupported(format!("Joda pattern letter {c}"))),
        });
    }
    Ok(out)
}

/// Calls a scalar function.
pub fn scalar(p: &mut Planner<'_>, name: &str, args: Vec<Typed>, raw: &[SqlExpr], pos: (u64, u64)) -> SqlResult<Typed> {
    use SqlType as T;
    let n = args.len();
    let a = |i: usize| -> SqlResult<Typed> { args.get(i).cloned().ok_or_else(|| bad_args(name, &args, pos)) };
    let need = |lo: usize, hi: usize| -> SqlResult<()> { if n < lo || n > hi { Err(bad_args(name, &args, pos)) } else { Ok(()) } };
    let text = |i: usize| -> SqlResult<Expr> {
        let t = a(i)?;
        match t.ty {
            T::Varchar | T::Json | T::Unknown => Ok(t.e.cast(DataType::String)),
            _ => Err(bad_args(name, &args, pos)),
        }
    };
    let int = |i: usize| -> SqlResult<Expr> {
        let t = a(i)?;
        if t.ty.is_integer() || t.ty == T::Unknown { Ok(t.e.cast(DataType::Int64)) } else { Err(bad_args(name, &args, pos)) }
    };
    let num = |i: usize| -> SqlResult<Typed> {
        let t = a(i)?;
        if t.ty.is_numeric() || t.ty == T::Unknown { Ok(t) } else { Err(bad_args(name, &args, pos)) }
    };
    let temporal = |i: usize| -> SqlResult<Typed> {
        let t = a(i)?;
        if t.ty.is_temporal() { Ok(t) } else { Err(bad_args(name, &args, pos)) }
    };
    let lit_str = |i: usize| -> SqlResult<String> { raw.get(i).and_then(const_string).ok_or_else(|| SqlError::unsupported(format!("{name} with a non-constant argument {}", i + 1))) };
    let vchar = |e: Expr| Typed::new(e, T::Varchar);
    let big = |e: Expr| Typed::new(e.cast(DataType::Int64), T::BigInt);
    let boolean = |e: Expr| Typed::new(e, T::Boolean);
    Ok(match name {
        // --- conditional
        "coalesce" => {
            if n == 0 {
                return Err(bad_args(name, &args, pos));
            }
            let mut ty = T::Unknown;
            for t in &args {
                ty = T::common(&ty, &t.ty).ok_or_else(|| bad_args(name, &args, pos))?;
            }
            let es: Vec<Expr> = args.iter().map(|t| t.clone().to(&ty).e).collect();
            Typed::new(coalesce(&es), ty)
        }
        "nullif" => {
            need(2, 2)?;
            let (x, y) = (a(0)?, a(1)?);
            let ty = T::common(&x.ty, &y.ty).ok_or_else(|| bad_args(name, &args, pos))?;
            let (xe, ye) = (x.clone().to(&ty).e, y.to(&ty).e);
            Typed::new(when(xe.clone().eq(ye)).then(null_of(&x.ty)).otherwise(x.e.clone()), x.ty)
        }
        "if" => {
            need(2, 3)?;
            let c = a(0)?;
            if !matches!(c.ty, T::Boolean | T::Unknown) {
                return Err(bad_args(name, &args, pos));
            }
            let t = a(1)?;
            let f = if n == 3 { a(2)? } else { Typed::new(lit(Null {}), T::Unknown) };
            let ty = T::common(&t.ty, &f.ty).ok_or_else(|| bad_args(name, &args, pos))?;
            Typed::new(when(c.e.fill_null(lit(false))).then(t.to(&ty).e).otherwise(f.to(&ty).e), ty)
        }
        "greatest" | "least" => {
            let mut ty = T::Unknown;
            for t in &args {
                ty = T::common(&ty, &t.ty).ok_or_else(|| bad_args(name, &args, pos))?;
            }
            let es: Vec<Expr> = args.iter().map(|t| t.clone().to(&ty).e).collect();
            let any_null = es.iter().map(|e| e.clone().is_null()).reduce(|a, b| a.or(b)).unwrap_or(lit(false));
            let m = if name == "greatest" { polars::lazy::dsl::max_horizontal(es.clone()) } else { polars::lazy::dsl::min_horizontal(es.clone()) }.map_err(crate::error::from_polars)?;
            Typed::new(when(any_null).then(null_of(&ty)).otherwise(m), ty)
        }
        "try" => a(0)?,
        "typeof" => vchar(lit(a(0)?.ty.display())),
        // --- strings
        "lower" => vchar(text(0)?.str().to_lowercase()),
        "upper" => vchar(text(0)?.str().to_uppercase()),
        "trim" | "btrim" => vchar(text(0)?.str().strip_chars(lit(Null {}))),
        "ltrim" => vchar(text(0)?.str().strip_chars_start(lit(Null {}))),
        "rtrim" => vchar(text(0)?.str().strip_chars_end(lit(Null {}))),
        "length" | "char_length" | "character_length" => big(text(0)?.str().len_chars()),
        "concat" => {
            if n < 1 {
                return Err(bad_args(name, &args, pos));
            }
            if args.iter().all(|t| matches!(t.ty, T::Array(_))) {
                return Err(SqlError::unsupported("concat of arrays"));
            }
            let es = (0..n).map(text).collect::<SqlResult<Vec<_>>>()?;
            vchar(concat_str(es, "", false))
        }
        "substr" | "substring" => {
            need(2, 3)?;
            let mut rest = vec![int(1)?];
            if n == 3 {
                rest.push(int(2)?);
            }
            vchar(text(0)?.map_many(
                |c: &mut [Column]| {
                    let h = broadcast_height(c);
                    let s = c[0].str()?.clone();
                    let st = c[1].i64()?.clone();
                    let ln = if c.len() > 2 { Some(c[2].i64()?.clone()) } else { None };
                            let out: StringChunked = (0..h)
                        .map(|i| {
                            let text = s.get(at(s.len(), i))?;
                            let start = st.get(at(st.len(), i))?;
                            let length = match &ln {
                                Some(l) => Some(l.get(at(l.len(), i))?),
                                None => None,
                            };
                            Some(trino_substr(text, start, length))
                        })
                        .collect();
                    Ok(out.with_name(c[0].name().clone()).into_column())
                },
                &rest,
                |_, f| Ok(Field::new(f[0].name().clone(), DataType::String)),
            ))
        }
        "reverse" => vchar(text(0)?.map(|c| map_strings(c, |s| Some(s.chars().rev().collect())), |_, f| Ok(Field::new(f.name().clone(), DataType::String)))),
        "lpad" | "rpad" => {
            need(3, 3)?;
            let size = raw.get(1).and_then(|r| r.to_string().parse::<usize>().ok()).ok_or_else(|| SqlError::unsupported(format!("{name} with a non-constant size")))?;
            let fill = lit_str(2)?;
            if fill.is_empty() {
                return Err(SqlError::at("INVALID_FUNCTION_ARGUMENT", pos, "Padding string must not be empty"));
            }
            if size > 1 << 20 {
                return Err(SqlError::at("INVALID_FUNCTION_ARGUMENT", pos, "Target length is too large for firelocal (at most 1048576)"));
            }
            let left = name == "lpad";
            vchar(text(0)?.map(move |c| map_strings(c, |s| Some(pad(s, size, &fill, left))), |_, f| Ok(Field::new(f.name().clone(), DataType::String))))
        }
        "replace" => {
            need(2, 3)?;
            let to = if n == 3 { lit_str(2)? } else { String::new() };
            vchar(text(0)?.str().replace_all(lit(lit_str(1)?), lit(to), true))
        }
        "strpos" | "position" => {
            need(2, 2)?;
            let needle = lit_str(1)?;
            let e = text(0)?.map(
                move |c| {
                    let ca = c.str()?;
                    let out: Int64Chunked = ca.iter().map(|s| s.map(|s| s.find(needle.as_str()).map_or(0, |b| s[..b].chars().count() as i64 + 1))).collect();
                    Ok(out.with_name(c.name().clone()).into_column())
                },
                |_, f| Ok(Field::new(f.name().clone(), DataType::Int64)),
            );
            Typed::new(e, T::BigInt)
        }
        "starts_with" => boolean(text(0)?.str().starts_with(text(1)?)),
        "ends_with" => boolean(text(0)?.str().ends_with(text(1)?)),
        "split" => {
            need(2, 2)?;
            Typed::new(text(0)?.str().split(lit(lit_str(1)?)), T::Array(Box::new(T::Varchar)))
        }
        "split_part" => {
            need(3, 3)?;
            let parts = text(0)?.str().split(lit(lit_str(1)?));
            let i = int(2)?;
            vchar(parts.list().get(when(i.clone().gt(lit(0i64))).then(i - lit(1i64)).otherwise(lit(i64::MAX)), true))
        }
        "regexp_like" => {
            need(2, 2)?;
            let re = lit_str(1)?;
            regex::Regex::new(&re).map_err(|e| SqlError::at("INVALID_FUNCTION_ARGUMENT", pos, format!("Invalid regular expression: {e}")))?;
            boolean(text(0)?.str().contains(lit(re), true))
        }
        "regexp_extract" => {
            need(2, 3)?;
            let re = lit_str(1)?;
            regex::Regex::new(&re).map_err(|e| SqlError::at("INVALID_FUNCTION_ARGUMENT", pos, format!("Invalid regular expression: {e}")))?;
            let g = if n == 3 { raw.get(2).and_then(|r| r.to_string().parse::<usize>().ok()).ok_or_else(|| SqlError::unsupported("regexp_extract with a non-constant group"))? } else { 0 };
            vchar(text(0)?.str().extract(lit(re), g))
        }
        "regexp_extract_all" => {
            need(2, 2)?;
            Typed::new(text(0)?.str().extract_all(lit(lit_str(1)?)), T::Array(Box::new(T::Varchar)))
        }
        "regexp_replace" => {
            need(2, 3)?;
            let to = if n == 3 { lit_str(2)? } else { String::new() };
            vchar(text(0)?.str().replace_all(lit(lit_str(1)?), lit(to), false))
        }
        "url_extract_host" | "url_extract_path" | "url_extract_query" | "url_extract_protocol" | "url_extract_parameter" => {
            let which = name.trim_start_matches("url_extract_").to_string();
            let param = if which == "parameter" { Some(lit_str(1)?) } else { None };
            vchar(text(0)?.map(move |c| map_strings(c, |s| url_part(s, &which, param.as_deref())), |_, f| Ok(Field::new(f.name().clone(), DataType::String))))
        }
        "json_extract_scalar" | "json_extract" => {
            need(2, 2)?;
            let path = crate::render::JsonPath::parse(&lit_str(1)?).map_err(|e| SqlError::at("INVALID_FUNCTION_ARGUMENT", pos, e))?;
            let scalar = name == "json_extract_scalar";
            let e = text(0)?.map(move |c| map_strings(c, |s| path.extract(s, scalar)), |_, f| Ok(Field::new(f.name().clone(), DataType::String)));
            Typed::new(e, if scalar { T::Varchar } else { T::Json })
        }
        "json_parse" | "json_format" => Typed::new(text(0)?, if name == "json_parse" { T::Json } else { T::Varchar }),
        "json_array_length" => {
            let e = text(0)?.map(
                |c| {
                    let ca = c.str()?;
                    let out: Int64Chunked = ca.iter().map(|s| s.and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok()).and_then(|v| v.as_array().map(|a| a.len() as i64))).collect();
                    Ok(out.with_name(c.name().clone()).into_column())
                },
                |_, f| Ok(Field::new(f.name().clone(), DataType::Int64)),
            );
            Typed::new(e, T::BigInt)
        }
        // --- arrays and maps
        "cardinality" => match a(0)?.ty {
            T::Array(_) | T::Map(..) => big(a(0)?.e.list().len()),
            _ => return Err(bad_args(name, &args, pos)),
        },
        "contains" => match a(0)?.ty {
            T::Array(inner) => {
                let x = a(1)?.to(&inner);
                boolean(a(0)?.e.list().contains(x.e, true))
            }
            _ => return Err(bad_args(name, &args, pos)),
        },
        "element_at" => {
            need(2, 2)?;
            let arr = a(0)?;
            match &arr.ty {
                T::Array(_) | T::Map(..) => subscript_with(arr, a(1)?, true)?,
                _ => return Err(bad_args(name, &args, pos)),
            }
        }
        "array_join" => {
            need(2, 3)?;
            let arr = a(0)?;
            if !matches!(arr.ty, T::Array(_)) {
                return Err(bad_args(name, &args, pos));
            }
            vchar(arr.e.cast(DataType::List(Box::new(DataType::String))).list().join(lit(lit_str(1)?), true))
        }
        "array_max" | "array_min" => match a(0)?.ty {
            T::Array(inner) => Typed::new(if name == "array_max" { a(0)?.e.list().max() } else { a(0)?.e.list().min() }, *inner),
            _ => return Err(bad_args(name, &args, pos)),
        },
        "array_sort" => {
            let arr = a(0)?;
            Typed::new(arr.e.list().sort(SortOptions::default().with_nulls_last(true)), arr.ty)
        }
        "map_keys" | "map_values" => match a(0)?.ty {
            T::Map(k, v) => {
                let field = if name == "map_keys" { "key" } else { "value" };
                let inner = if name == "map_keys" { *k } else { *v };
                let out = T::Array(Box::new(inner));
                let dt = out.to_polars();
                let e = a(0)?.e.map(
                    move |c| {
                        let l = c.list()?;
                        let mut items: Vec<Option<Series>> = Vec::with_capacity(l.len());
                        for i in 0..l.len() {
                            items.push(match l.get_as_series(i) {
                                Some(s) => Some(s.struct_()?.field_by_name(field)?),
                                None => None,
                            });
                        }
                        Ok(ListChunked::from_iter(items).with_name(c.name().clone()).into_column())
                    },
                    move |_, f| Ok(Field::new(f.name().clone(), dt.clone())),
                );
                Typed::new(e, out)
            }
            _ => return Err(bad_args(name, &args, pos)),
        },
        // --- math
        "abs" => {
            let x = num(0)?;
            Typed::new(x.e.abs(), x.ty)
        }
        "round" => {
            need(1, 2)?;
            let x = num(0)?;
            let d = if n == 2 { raw.get(1).map(|r| r.to_string().parse::<u32>()).transpose().map_err(|_| SqlError::unsupported("round with a non-constant or negative scale"))?.unwrap_or(0) } else { 0 };
            if x.ty.is_integer() {
                x
            } else {
                Typed::new(x.e.round(d, RoundMode::HalfAwayFromZero), x.ty)
            }
        }
        "ceil" | "ceiling" | "floor" => {
            let x = num(0)?;
            if x.ty.is_integer() {
                x
            } else {
                Typed::new(if name == "floor" { x.e.floor() } else { x.e.ceil() }, x.ty)
            }
        }
        "truncate" => {
            let x = num(0)?;
            Typed::new(x.e.cast(DataType::Float64).cast(DataType::Int64).cast(DataType::Float64), T::Double)
        }
        "sqrt" | "cbrt" | "exp" | "ln" | "log10" | "log2" => {
            let x = num(0)?.e.cast(DataType::Float64);
            let e = match name {
                "sqrt" => x.sqrt(),
                "cbrt" => x.cbrt(),
                "exp" => x.exp(),
                "ln" => x.log(lit(std::f64::consts::E)),
                "log10" => x.log(lit(10.0)),
                _ => x.log(lit(2.0)),
            };
            Typed::new(e, T::Double)
        }
        "log" => {
            need(2, 2)?;
            Typed::new(num(1)?.e.cast(DataType::Float64).log(num(0)?.e.cast(DataType::Float64)), T::Double)
        }
        "power" | "pow" => {
            need(2, 2)?;
            Typed::new(num(0)?.e.cast(DataType::Float64).pow(num(1)?.e.cast(DataType::Float64)), T::Double)
        }
        "mod" => {
            need(2, 2)?;
            let (x, y) = (num(0)?, num(1)?);
            let ty = T::common(&x.ty, &y.ty).ok_or_else(|| bad_args(name, &args, pos))?;
            if ty.is_integer() {
                let q = trunc_div(x.e.clone(), y.e.clone(), &ty);
                Typed::new((x.e - y.e * q).cast(ty.to_polars()), ty)
            } else {
                let (a1, b1) = (x.e.cast(DataType::Float64), y.e.cast(DataType::Float64));
                Typed::new(a1.clone() - b1.clone() * (a1 / b1).cast(DataType::Int64).cast(DataType::Float64), T::Double)
            }
        }
        "sign" => {
            let x = num(0)?;
            let z = lit(0).cast(x.ty.to_polars());
            Typed::new(when(x.e.clone().gt(z.clone())).then(lit(1)).when(x.e.clone().lt(z)).then(lit(-1)).otherwise(lit(0)).cast(x.ty.to_polars()), x.ty)
        }
        "pi" => Typed::new(lit(std::f64::consts::PI), T::Double),
        "is_nan" => boolean(num(0)?.e.cast(DataType::Float64).is_nan()),
        // --- dates and times
        "current_date" => Typed::new(lit(p.now_ms.div_euclid(86_400_000) as i32).cast(DataType::Date), T::Date),
        "current_timestamp" | "now" => Typed::new(ms_lit(p.now_ms), T::TimestampTz),
        "localtimestamp" => Typed::new(ms_lit(p.now_ms), T::Timestamp),
        "year" | "quarter" | "month" | "week" | "week_of_year" | "day" | "day_of_month" | "day_of_week" | "dow" | "day_of_year" | "doy" | "hour" | "minute" | "second" | "millisecond" | "year_of_week" | "yow" => {
            need(1, 1)?;
            extract(name, temporal(0)?)?
        }
        "date" => {
            need(1, 1)?;
            cast(a(0)?, &T::Date, false)?
        }
        "date_trunc" => {
            need(2, 2)?;
            let unit = unit_arg(raw, 0, name)?;
            let every = trunc_every(&unit).ok_or_else(|| SqlError::at("INVALID_FUNCTION_ARGUMENT", pos, format!("'{unit}' is not a valid Timestamp field")))?;
            let x = temporal(1)?;
            Typed::new(x.e.dt().truncate(lit(every)), x.ty)
        }
        "date_add" => {
            need(3, 3)?;
            let unit = unit_arg(raw, 0, name)?;
            let amount = int(1)?;
            let x = temporal(2)?;
            let suffix = match unit.as_str() {
                "millisecond" => "ms",
                "second" => "s",
                "minute" => "m",
                "hour" => "h",
                "day" => "d",
                "week" => "w",
                "month" => "mo",
                "quarter" => "q",
                "year" => "y",
                _ => return Err(SqlError::at("INVALID_FUNCTION_ARGUMENT", pos, format!("'{unit}' is not a valid Timestamp field"))),
            };
            let by = concat_str([amount.cast(DataType::String), lit(suffix)], "", false);
            let e = if x.ty == T::Date { x.e.cast(DataType::Datetime(TimeUnit::Milliseconds, None)).dt().offset_by(by).cast(DataType::Date) } else { x.e.dt().offset_by(by) };
            Typed::new(e, x.ty)
        }
        "date_diff" => {
            need(3, 3)?;
            let unit = unit_arg(raw, 0, name)?;
            let (x, y) = (temporal(1)?, temporal(2)?);
            let (xa, ya) = (ms_of(&x), ms_of(&y));
            if let Some(u) = unit_ms(&unit) {
                big(trunc_div(ya - xa, lit(u), &T::BigInt))
            } else {
                let months_per = match unit.as_str() {
                    "month" => 1,
                    "quarter" => 3,
                    "year" => 12,
                    _ => return Err(SqlError::at("INVALID_FUNCTION_ARGUMENT", pos, format!("'{unit}' is not a valid Timestamp field"))),
                };
                let dx = x.e.clone().cast(DataType::Datetime(TimeUnit::Milliseconds, None));
                let dy = y.e.clone().cast(DataType::Datetime(TimeUnit::Milliseconds, None));
                let ym = |d: Expr| d.clone().dt().year().cast(DataType::Int64) * lit(12i64) + d.dt().month().cast(DataType::Int64);
                let within = |d: Expr| d.clone().dt().timestamp(TimeUnit::Milliseconds) - d.dt().truncate(lit("1mo")).dt().timestamp(TimeUnit::Milliseconds);
                let raw_m = ym(dy.clone()) - ym(dx.clone());
                let (wx, wy) = (within(dx), within(dy));
                let adj = when(raw_m.clone().gt(lit(0i64)).and(wy.clone().lt(wx.clone())))
                    .then(raw_m.clone() - lit(1i64))
                    .when(raw_m.clone().lt(lit(0i64)).and(wy.gt(wx)))
                    .then(raw_m.clone() + lit(1i64))
                    .otherwise(raw_m);
                big(trunc_div(adj, lit(months_per as i64), &T::BigInt))
            }
        }
        "date_format" | "format_datetime" => {
            need(2, 2)?;
            let x = temporal(0)?;
            let f = lit_str(1)?;
            let fmt = if name == "date_format" { mysql_format(&f)? } else { joda_format(&f)? };
            vchar(x.e.cast(DataType::Datetime(TimeUnit::Milliseconds, None)).dt().strftime(&fmt))
        }
        "date_parse" | "parse_datetime" => {
            need(2, 2)?;
            let f = lit_str(1)?;
            let fmt = if name == "date_parse" { mysql_format(&f)? } else { joda_format(&f)? };
            let opts = StrptimeOptions { format: Some(fmt.into()), strict: true, exact: true, cache: true };
            let e = text(0)?.str().to_datetime(Some(TimeUnit::Milliseconds), None, opts, lit("raise"));
            Typed::new(e, if name == "date_parse" { T::Timestamp } else { T::TimestampTz })
        }
        "from_iso8601_timestamp" => Typed::new(parse_text_time(text(0)?, &T::Timestamp, true), T::TimestampTz),
        "from_iso8601_date" => Typed::new(parse_text_time(text(0)?, &T::Date, true), T::Date),
        "to_iso8601" => {
            let x = temporal(0)?;
            let fmt = if x.ty == T::Date { "%Y-%m-%d" } else { "%Y-%m-%dT%H:%M:%S%.3fZ" };
            vchar(x.e.dt().strftime(fmt))
        }
        "to_unixtime" => Typed::new(float_div(ms_of(&temporal(0)?), lit(1000.0)), T::Double),
        "from_unixtime" => {
            need(1, 1)?;
            let x = num(0)?;
            let ms = (x.e.cast(DataType::Float64) * lit(1000.0)).round(0, RoundMode::HalfAwayFromZero).cast(DataType::Int64);
            Typed::new(ms.cast(DataType::Datetime(TimeUnit::Milliseconds, None)), T::TimestampTz)
        }
        "from_unixtime_millis" => Typed::new(int(0)?.cast(DataType::Datetime(TimeUnit::Milliseconds, None)), T::TimestampTz),
        "to_milliseconds" => big(a(0)?.e),
        _ => return Err(SqlError::at("FUNCTION_NOT_FOUND", pos, format!("Function '{name}' not registered"))),
    })
}

/// Trino's substr: 1-based, negative starts count from the end, out of range gives ''.
fn trino_substr(s: &str, start: i64, length: Option<i64>) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len() as i64;
    if start == 0 || start > n || -start > n || length.is_some_and(|l| l <= 0) {
        return String::new();
    }
    let from = if start > 0 { start - 1 } else { n + start };
    let to = match length {
        Some(l) => from.saturating_add(l).min(n),
        None => n,
    };
    chars[from as usize..to as usize].iter().collect()
}

/// lpad / rpad: to exactly `size` characters, cycling `fill`.
fn pad(s: &str, size: usize, fill: &str, left: bool) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() >= size {
        return chars[..size].iter().collect();
    }
    let padding: String = fill.chars().cycle().take(size - chars.len()).collect();
    if left { format!("{padding}{s}") } else { format!("{s}{padding}") }
}

fn map_strings(c: Column, f: impl Fn(&str) -> Option<String>) -> PolarsResult<Column> {
    let ca = c.str()?;
    let out: StringChunked = ca.iter().map(|s| s.and_then(&f)).collect();
    Ok(out.with_name(c.name().clone()).into_column())
}

fn url_part(url: &str, which: &str, param: Option<&str>) -> Option<String> {
    let (proto, rest) = url.split_once("://")?;
    let (hostport, path_q) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => match rest.find('?') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        },
    };
    let path_q = path_q.split('#').next().unwrap_or("");
    let (path, query) = path_q.split_once('?').unwrap_or((path_q, ""));
    match which {
        "protocol" => Some(proto.to_string()),
        "host" => Some(hostport.rsplit('@').next().unwrap_or(hostport).split(':').next().unwrap_or("").to_string()),
        "path" => Some(path.to_string()),
        "query" => Some(query.to_string()),
        _ => query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (Some(k) == param).then(|| v.to_string())
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_convert() {
        assert_eq!(mysql_format("%Y-%m-%d %H:%i:%s").ok().as_deref(), Some("%Y-%m-%d %H:%M:%S"));
        assert_eq!(joda_format("yyyy-MM-dd'T'HH:mm:ss.SSS").ok().as_deref(), Some("%Y-%m-%dT%H:%M:%S.%3f"));
        assert!(mysql_format("%Q").is_err());
    }

    #[test]
    fn url_parts() {
        let u = "https://ex.com:8080/a/b?x=1&y=2#f";
        assert_eq!(url_part(u, "host", None).as_deref(), Some("ex.com"));
        assert_eq!(url_part(u, "path", None).as_deref(), Some("/a/b"));
        assert_eq!(url_part(u, "parameter", Some("y")).as_deref(), Some("2"));
    }
}
