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
    if text.contains("conversion from") && text.contains("failed") || text.contains("strict") && text.contains("cast") {
        return SqlError::new("INVALID_CAST_ARGUMENT", first_line(&text));
    }
    if text.contains("division by zero") {
        return SqlError::new("DIVISION_BY_ZERO", "Division by zero");
    }
    SqlError::new("GENERIC_INTERNAL_ERROR", first_line(&text))
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}

/// The result of an engine call.
pub type SqlResult<T> = Result<T, SqlError>;
