//! Athena's column types: parsed from Hive DDL (`array<struct<a:string>>`), named as Athena
//! names them in results (`varchar`, `bigint`, `row`...), and mapped to polars dtypes.

use polars::prelude::{DataType, Field, TimeUnit};

use crate::error::{SqlError, SqlResult};

/// A SQL type as Athena (Trino) knows it.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlType {
    Boolean,
    TinyInt,
    SmallInt,
    Integer,
    BigInt,
    Real,
    Double,
    /// Precision and scale; executed as double, rendered with `scale` digits.
    Decimal(u8, u8),
    Varchar,
    Date,
    Timestamp,
    /// `timestamp(3) with time zone`, always UTC here.
    TimestampTz,
    /// Day-to-second (milliseconds) or year-to-month intervals, only as operands.
    IntervalDay,
    IntervalMonth,
    Array(Box<SqlType>),
    Map(Box<SqlType>, Box<SqlType>),
    Row(Vec<(String, SqlType)>),
    /// JSON text (`json_extract`), rendered as compact JSON.
    Json,
    /// The type of a bare NULL.
    Unknown,
}

impl SqlType {
    /// Parses a Hive DDL type (`string`, `int`, `decimal(10,2)`, `array<string>`,
    /// `map<string,int>`, `struct<a:int,b:string>`), case-insensitively.
    pub fn parse_hive(s: &str) -> SqlResult<SqlType> {
        if s.bytes().filter(|&c| c == b'<').count() > 32 {
            return Err(SqlError::new("INVALID_COLUMN_TYPE", "Type nesting is too deep (at most 32 levels)"));
        }
        let mut p = TypeParser { s: s.as_bytes(), i: 0, src: s };
        let t = p.parse()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(p.err());
        }
        Ok(t)
    }

    /// The type name Athena reports in `ColumnInfo.Type`.
    pub fn athena_name(&self) -> &'static str {
        use SqlType::*;
        match self {
            Boolean => "boolean",
            TinyInt => "tinyint",
            SmallInt => "smallint",
            Integer => "integer",
            BigInt => "bigint",
            Real => "float",
            Double => "double",
            Decimal(..) => "decimal",
            Varchar => "varchar",
            Date => "date",
            Timestamp => "timestamp",
            TimestampTz => "timestamp with time zone",
            IntervalDay => "interval day to second",
            IntervalMonth => "interval year to month",
            Array(_) => "array",
            Map(..) => "map",
            Row(_) => "row",
            Json => "json",
            Unknown => "unknown",
        }
    }

    /// The Hive DDL spelling (`string`, `int`, `array<string>`), as Glue stores column types.
    pub fn hive_name(&self) -> String {
        use SqlType::*;
        match self {
            Varchar | Json | Unknown => "string".into(),
            Integer => "int".into(),
            Real => "float".into(),
            Decimal(p, s) => format!("decimal({p},{s})"),
            Timestamp | TimestampTz => "timestamp".into(),
            IntervalDay | IntervalMonth => "string".into(),
            Array(t) => format!("array<{}>", t.hive_name()),
            Map(k, v) => format!("map<{},{}>", k.hive_name(), v.hive_name()),
            Row(fs) => format!("struct<{}>", fs.iter().map(|(n, t)| format!("{n}:{}", t.hive_name())).collect::<Vec<_>>().join(",")),
            t => t.athena_name().to_string(),
        }
    }

    /// The Trino spelling used in messages: `varchar`, `array(varchar)`, `timestamp(3)`.
    pub fn display(&self) -> String {
        use SqlType::*;
        match self {
            Decimal(p, s) => format!("decimal({p},{s})"),
            Timestamp => "timestamp(3)".into(),
            TimestampTz => "timestamp(3) with time zone".into(),
            Array(t) => format!("array({})", t.display()),
            Map(k, v) => format!("map({}, {})", k.display(), v.display()),
            Row(fs) => format!("row({})", fs.iter().map(|(n, t)| format!("{n} {}", t.display())).collect::<Vec<_>>().join(", ")),
            t => t.athena_name().to_string(),
        }
    }

    /// Athena's `ColumnInfo.Precision` and `Scale` for this type.
    pub fn precision_scale(&self) -> (i64, i64) {
        use SqlType::*;
        match self {
            Varchar => (2147483647, 0),
            TinyInt => (3, 0),
            SmallInt => (5, 0),
            Integer => (10, 0),
            BigInt => (19, 0),
            Real => (7, 0),
            Double => (17, 0),
            Decimal(p, s) => (*p as i64, *s as i64),
            Timestamp | TimestampTz => (3, 0),
            _ => (0, 0),
        }
    }

    /// The polars dtype values of this type are held in.
    pub fn to_polars(&self) -> DataType {
        use SqlType::*;
        match self {
            Boolean => DataType::Boolean,
            TinyInt => DataType::Int8,
            SmallInt => DataType::Int16,
            Integer => DataType::Int32,
            BigInt => DataType::Int64,
            Real => DataType::Float32,
            Double | Decimal(..) => DataType::Float64,
            Varchar | Json => DataType::String,
            Date => DataType::Date,
            Timestamp | TimestampTz => DataType::Datetime(TimeUnit::Milliseconds, None),
            IntervalDay => DataType::Duration(TimeUnit::Milliseconds),
            IntervalMonth => DataType::Int32,
            Array(t) => DataType::List(Box::new(t.to_polars())),
            Map(k, v) => DataType::List(Box::new(DataType::Struct(vec![Field::new("key".into(), k.to_polars()), Field::new("value".into(), v.to_polars())]))),
            Row(fs) => DataType::Struct(fs.iter().map(|(n, t)| Field::new(n.as_str().into(), t.to_polars())).collect()),
            Unknown => DataType::Null,
        }
    }

    /// The SQL type of a polars dtype (for values whose type the planner did not track).
    pub fn from_polars(dt: &DataType) -> SqlType {
        use SqlType::*;
        match dt {
            DataType::Boolean => Boolean,
            DataType::Int8 => TinyInt,
            DataType::Int16 => SmallInt,
            DataType::Int32 | DataType::UInt8 | DataType::UInt16 => Integer,
            DataType::Int64 | DataType::UInt32 | DataType::UInt64 => BigInt,
            DataType::Float32 => Real,
            DataType::Float64 => Double,
            DataType::String => Varchar,
            DataType::Date => Date,
            DataType::Datetime(..) => Timestamp,
            DataType::Duration(_) => IntervalDay,
            DataType::List(t) => Array(Box::new(SqlType::from_polars(t))),
            DataType::Struct(fs) => Row(fs.iter().map(|f| (f.name().to_string(), SqlType::from_polars(f.dtype()))).collect()),
            DataType::Null => Unknown,
            _ => Varchar,
        }
    }

    pub fn is_integer(&self) -> bool {
        matches!(self, SqlType::TinyInt | SqlType::SmallInt | SqlType::Integer | SqlType::BigInt)
    }

    pub fn is_numeric(&self) -> bool {
        self.is_integer() || matches!(self, SqlType::Real | SqlType::Double | SqlType::Decimal(..))
    }

    pub fn is_temporal(&self) -> bool {
        matches!(self, SqlType::Date | SqlType::Timestamp | SqlType::TimestampTz)
    }

    /// The common type two operands are compared or combined in, if any (Trino's implicit
    /// coercions: integers widen, integers and decimals go to double, date goes to timestamp).
    pub fn common(a: &SqlType, b: &SqlType) -> Option<SqlType> {
        use SqlType::*;
        if a == b {
            return Some(a.clone());
        }
        match (a, b) {
            (Unknown, t) | (t, Unknown) => Some(t.clone()),
            (x, y) if x.is_integer() && y.is_integer() => Some(if rank(x) >= rank(y) { x.clone() } else { y.clone() }),
            (x, y) if x.is_numeric() && y.is_numeric() => Some(Double),
            (Date, Timestamp) | (Timestamp, Date) => Some(Timestamp),
            (Timestamp, TimestampTz) | (TimestampTz, Timestamp) | (Date, TimestampTz) | (TimestampTz, Date) => Some(TimestampTz),
            (Array(x), Array(y)) => SqlType::common(x, y).map(|t| Array(Box::new(t))),
            _ => None,
        }
    }
}

fn rank(t: &SqlType) -> u8 {
    match t {
        SqlType::TinyInt => 1,
        SqlType::SmallInt => 2,
        SqlType::Integer => 3,
        _ => 4,
    }
}

struct TypeParser<'a> {
    s: &'a [u8],
    i: usize,
    src: &'a str,
}

impl TypeParser<'_> {
    fn err(&self) -> SqlError {
        SqlError::new("INVALID_COLUMN_TYPE", format!("Unknown or invalid type '{}'", self.src))
    }
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn word(&mut self) -> String {
        self.ws();
        let st = self.i;
        while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_') {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[st..self.i]).to_ascii_lowercase()
    }
    fn name(&mut self) -> SqlResult<String> {
        self.ws();
        if self.s.get(self.i) == Some(&b'`') {
            let st = self.i + 1;
            let end = self.s[st..].iter().position(|&c| c == b'`').ok_or_else(|| self.err())? + st;
            self.i = end + 1;
            return Ok(String::from_utf8_lossy(&self.s[st..end]).to_ascii_lowercase());
        }
        let w = self.word();
        if w.is_empty() { Err(self.err()) } else { Ok(w) }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) -> SqlResult<()> {
        if self.eat(c) { Ok(()) } else { Err(self.err()) }
    }
    fn num(&mut self) -> SqlResult<u8> {
        self.word().parse().map_err(|_| self.err())
    }
    fn parse(&mut self) -> SqlResult<SqlType> {
        use SqlType::*;
        let w = self.word();
        Ok(match w.as_str() {
            "string" => Varchar,
            "varchar" | "char" => {
                if self.eat(b'(') {
                    self.num()?;
                    self.expect(b')')?;
                }
                Varchar
            }
            "boolean" => Boolean,
            "tinyint" => TinyInt,
            "smallint" => SmallInt,
            "int" | "integer" => Integer,
            "bigint" => BigInt,
            "float" | "real" => Real,
            "double" => Double,
            "date" => Date,
            "timestamp" => Timestamp,
            "decimal" => {
                let (mut p, mut s) = (10, 0);
                if self.eat(b'(') {
                    p = self.num()?;
                    if self.eat(b',') {
                        s = self.num()?;
                    }
                    self.expect(b')')?;
                }
                Decimal(p, s)
            }
            "array" => {
                self.expect(b'<')?;
                let t = self.parse()?;
                self.expect(b'>')?;
                Array(Box::new(t))
            }
            "map" => {
                self.expect(b'<')?;
                let k = self.parse()?;
                self.expect(b',')?;
                let v = self.parse()?;
                self.expect(b'>')?;
                Map(Box::new(k), Box::new(v))
            }
            "struct" => {
                self.expect(b'<')?;
                let mut fs = Vec::new();
                loop {
                    let n = self.name()?;
                    self.expect(b':')?;
                    fs.push((n, self.parse()?));
                    if !self.eat(b',') {
                        break;
                    }
                }
                self.expect(b'>')?;
                Row(fs)
            }
            _ => return Err(self.err()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hive_types() {
        assert_eq!(SqlType::parse_hive("STRING").ok(), Some(SqlType::Varchar));
        assert_eq!(SqlType::parse_hive("decimal(10, 2)").ok(), Some(SqlType::Decimal(10, 2)));
        let t = SqlType::parse_hive("array<struct<a:int,`B`:map<string,bigint>>>").ok();
        let want = SqlType::Array(Box::new(SqlType::Row(vec![
            ("a".into(), SqlType::Integer),
            ("b".into(), SqlType::Map(Box::new(SqlType::Varchar), Box::new(SqlType::BigInt))),
        ])));
        assert_eq!(t, Some(want));
        assert!(SqlType::parse_hive("array<string").is_err());
        assert!(SqlType::parse_hive("blob").is_err());
    }

    #[test]
    fn coercions_follow_trino() {
        use SqlType::*;
        assert_eq!(SqlType::common(&Integer, &BigInt), Some(BigInt));
        assert_eq!(SqlType::common(&Integer, &Double), Some(Double));
        assert_eq!(SqlType::common(&Date, &Timestamp), Some(Timestamp));
        assert_eq!(SqlType::common(&Varchar, &Timestamp), None);
    }
}
