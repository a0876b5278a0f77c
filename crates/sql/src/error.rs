//! The engine's one error type: an Athena error name (`COLUMN_NOT_FOUND`, `TABLE_NOT_FOUND`...),
//! a message, and where in the query text it happened. Rendered the way Athena reports a failed
//! query's `StateChangeReason`: `COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved`.

use std::fmt;

/// A failed statement.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlError {
    /// Trino/Athena error name, e.g. `SYNTAX_ERROR`.
    pub code: &'static str,
    pub message: String,
    /// 1-based line and column in the query text, when known.
    pub pos: Option<(u64, u64)>,
}

impl SqlError {
    /// An error without a position.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        SqlError { code, message: message.into(), pos: None }
    }

    /// An error at a position (ignored when the parser gave none).
    pub fn at(code: &'static str, pos: (u64, u64), message: impl Into<String>) -> Self {
        SqlError { code, message: message.into(), pos: (pos.0 > 0).then_some(pos) }
    }

    /// `SYNTAX_ERROR`.
    pub fn syntax(message: impl Into<String>) -> Self {
        SqlError::new("SYNTAX_ERROR", message)
    }

    /// `NOT_SUPPORTED`: valid Athena SQL that firelocal does not execute.
    pub fn unsupported(message: impl Into<String>) -> Self {
        SqlError::new("NOT_SUPPORTED", format!("{} (not supported by firelocal's Athena engine)", message.into()))
    }

    /// Whether the user's query (rather than the engine) is at fault: Athena's ErrorCategory 2.
    pub fn is_user_error(&self) -> bool {
        !matches!(self.code, "GENERIC_INTERNAL_ERROR")
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some((l, c)) => write!(f, "{}: line {l}:{c}: {}", self.code, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

impl std::error::Error for SqlError {}

/// Maps an execution error from polars to the Athena error a user would see.
pub fn from_polars(e: polars::prelude::PolarsError) -> SqlError {
    let text = e.to_string();
    for code in ["DIVISION_BY_ZERO", "INVALID_CAST_ARGUMENT", "INVALID_FUNCTION_ARGUMENT"] {
        if let Some(i) = text.find(code) {
            let rest = text[i + code.len()..].trim_start_matches(':').trim();
            return SqlError::new(code, first_line(rest));
        }
    }
    if text.contains("conversion from") && text.contains("failed") {
        // polars: conversion from `str` to `i64` failed in column '...' for N out of M values: ["x", ...]
        let value = text.split("[\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("");
        let target = text.split(" to `").nth(1).and_then(|r| r.split('`').next()).unwrap_or("the target type");
        let target = match target {
            "i8" => "TINYINT",
            "i16" => "SMALLINT",
            "i32" => "INT",
            "i64" => "BIGINT",
            "f32" => "REAL",
            "f64" => "DOUBLE",
            "bool" => "BOOLEAN",
            t => t,
        };
        return SqlError::new("INVALID_CAST_ARGUMENT", format!("Cannot cast '{value}' to {target}"));
    }
    if text.contains("out of bounds") {
        return SqlError::new("INVALID_FUNCTION_ARGUMENT", "Array subscript must be less than or equal to array length");
    }
    SqlError::new("GENERIC_INTERNAL_ERROR", first_line(&text))
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}

/// The result of an engine call.
pub type SqlResult<T> = Result<T, SqlError>;
