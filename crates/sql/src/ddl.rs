//! Statement classification and Hive DDL. SELECT-like statements go to the planner
//! (sqlparser); Athena's Hive DDL (`CREATE EXTERNAL TABLE ... ROW FORMAT SERDE ...`, `MSCK
//! REPAIR TABLE`, `ALTER TABLE ADD PARTITION`, `SHOW ...`) is parsed here by hand, since its
//! types (`struct<a:int>`) and clauses are Hive's, not ANSI SQL's.

use std::collections::BTreeMap;

use crate::catalog::{ColumnDef, TableDef, serde_names as sn};
use crate::error::{SqlError, SqlResult};
use crate::types::SqlType;

/// A possibly qualified table name (`db.t`, `"awsdatacatalog"."db"."t"`), lower-cased.
#[derive(Debug, Clone, PartialEq)]
pub struct TableName {
    pub database: Option<String>,
    pub name: String,
}

/// `PARTITION (k='v', ...) [LOCATION '...']`.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionSpec {
    pub values: Vec<(String, String)>,
    pub location: Option<String>,
}

/// One statement, classified.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// SELECT, WITH, VALUES, or a parenthesised query: run by the planner.
    Query(String),
    CreateDatabase { name: String, if_not_exists: bool, comment: Option<String>, location: Option<String>, properties: BTreeMap<String, String> },
    DropDatabase { name: String, if_exists: bool, cascade: bool },
    CreateTable { table: TableDef, db: Option<String>, if_not_exists: bool },
    /// `CREATE TABLE t WITH (...) AS SELECT ...`.
    Ctas { name: TableName, properties: BTreeMap<String, String>, query: String, if_not_exists: bool },
    CreateView { name: TableName, or_replace: bool, query: String },
    DropTable { name: TableName, if_exists: bool },
    DropView { name: TableName, if_exists: bool },
    MsckRepair { name: TableName },
    AddPartitions { name: TableName, if_not_exists: bool, partitions: Vec<PartitionSpec> },
    DropPartitions { name: TableName, if_exists: bool, partitions: Vec<PartitionSpec> },
    ShowDatabases { like: Option<String> },
    ShowTables { db: Option<String>, pattern: Option<String> },
    ShowViews { db: Option<String> },
    ShowPartitions { name: TableName },
    ShowColumns { name: TableName },
    ShowCreateTable { name: TableName, view: bool },
    Describe { name: TableName },
}

impl Statement {
    /// Athena's StatementType and SubstatementType.
    pub fn statement_type(&self) -> (&'static str, &'static str) {
        use Statement::*;
        match self {
            Query(_) => ("DML", "SELECT"),
            Ctas { .. } => ("DDL", "CREATE_TABLE_AS_SELECT"),
            CreateDatabase { .. } => ("DDL", "CREATE_DATABASE"),
            DropDatabase { .. } => ("DDL", "DROP_DATABASE"),
            CreateTable { .. } => ("DDL", "CREATE_TABLE"),
            CreateView { .. } => ("DDL", "CREATE_VIEW"),
            DropTable { .. } => ("DDL", "DROP_TABLE"),
            DropView { .. } => ("DDL", "DROP_VIEW"),
            MsckRepair { .. } => ("DDL", "MSCK_REPAIR_TABLE"),
            AddPartitions { .. } => ("DDL", "ALTER_TABLE_ADD_PARTITION"),
            DropPartitions { .. } => ("DDL", "ALTER_TABLE_DROP_PARTITION"),
            ShowDatabases { .. } => ("UTILITY", "SHOW_DATABASES"),
            ShowTables { .. } => ("UTILITY", "SHOW_TABLES"),
            ShowViews { .. } => ("UTILITY", "SHOW_VIEWS"),
            ShowPartitions { .. } => ("UTILITY", "SHOW_PARTITIONS"),
            ShowColumns { .. } => ("UTILITY", "SHOW_COLUMNS"),
            ShowCreateTable { .. } => ("UTILITY", "SHOW_CREATE_TABLE"),
            Describe { .. } => ("UTILITY", "DESCRIBE_TABLE"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    /// A quoted identifier ("x" or `x`): never a keyword.
    Quoted(String),
    Str(String),
    Num(String),
    Punct(char),
}

fn tokenize(sql: &str) -> SqlResult<Vec<Tok>> {
    let b: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && b.get(i + 1) == Some(&'-') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && b.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match b.get(i) {
                    None => return Err(SqlError::syntax("unterminated string literal")),
                    Some('\\') if i + 1 < b.len() => {
                        s.push(match b[i + 1] {
                            'n' => '\n',
                            't' => '\t',
                            c => c,
                        });
                        i += 2;
                    }
                    Some('\'') if b.get(i + 1) == Some(&'\'') => {
                        s.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(&c) => {
                        s.push(c);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(s));
        } else if c == '"' || c == '`' {
            let end = b[i + 1..].iter().position(|&x| x == c).ok_or_else(|| SqlError::syntax("unterminated quoted identifier"))? + i + 1;
            out.push(Tok::Quoted(b[i + 1..end].iter().collect::<String>().to_ascii_lowercase()));
            i = end + 1;
        } else if c.is_ascii_digit() {
            let st = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == '.') {
                i += 1;
            }
            out.push(Tok::Num(b[st..i].iter().collect()));
        } else if c.is_alphanumeric() || c == '_' {
            let st = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_' || b[i] == '$') {
                i += 1;
            }
            out.push(Tok::Word(b[st..i].iter().collect()));
        } else {
            out.push(Tok::Punct(c));
            i += 1;
        }
    }
    Ok(out)
}

struct P {
    t: Vec<Tok>,
    i: usize,
}

impl P {
    fn peek_kw(&self, k: &str) -> bool {
        matches!(self.t.get(self.i), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }
    fn kw(&mut self, k: &str) -> bool {
        if self.peek_kw(k) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn kws(&mut self, ks: &[&str]) -> bool {
        let save = self.i;
        for k in ks {
            if !self.kw(k) {
                self.i = save;
                return false;
            }
        }
        true
    }
    fn expect_kw(&mut self, k: &str) -> SqlResult<()> {
        if self.kw(k) { Ok(()) } else { Err(self.unexpected(&format!("'{k}'"))) }
    }
    fn punct(&mut self, c: char) -> bool {
        if self.t.get(self.i) == Some(&Tok::Punct(c)) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect_punct(&mut self, c: char) -> SqlResult<()> {
        if self.punct(c) { Ok(()) } else { Err(self.unexpected(&format!("'{c}'"))) }
    }
    fn unexpected(&self, wanted: &str) -> SqlError {
        let got = match self.t.get(self.i) {
            None => "end of input".to_string(),
            Some(Tok::Word(w) | Tok::Quoted(w) | Tok::Num(w)) => format!("'{w}'"),
            Some(Tok::Str(s)) => format!("'{s}'"),
            Some(Tok::Punct(c)) => format!("'{c}'"),
        };
        SqlError::syntax(format!("mismatched input {got}. Expecting: {wanted}"))
    }
    fn ident(&mut self) -> SqlResult<String> {
        match self.t.get(self.i) {
            Some(Tok::Word(w)) => {
                self.i += 1;
                Ok(w.to_ascii_lowercase())
            }
            Some(Tok::Quoted(w)) => {
                self.i += 1;
                Ok(w.clone())
            }
            _ => Err(self.unexpected("an identifier")),
        }
    }
    fn string(&mut self) -> SqlResult<String> {
        match self.t.get(self.i) {
            Some(Tok::Str(s)) => {
                self.i += 1;
                Ok(s.clone())
            }
            _ => Err(self.unexpected("a string literal")),
        }
    }
    fn table_name(&mut self) -> SqlResult<TableName> {
        let mut parts = vec![self.ident()?];
        while self.punct('.') {
            parts.push(self.ident()?);
        }
        if parts.len() == 3 && parts[0] == "awsdatacatalog" {
            parts.remove(0);
        }
        match parts.len() {
            1 => Ok(TableName { database: None, name: parts.remove(0) }),
            2 => Ok(TableName { name: parts.remove(1), database: Some(parts.remove(0)) }),
            _ => Err(SqlError::syntax(format!("Invalid table name '{}'", parts.join(".")))),
        }
    }
    fn done(&self) -> SqlResult<()> {
        let mut i = self.i;
        while self.t.get(i) == Some(&Tok::Punct(';')) {
            i += 1;
        }
        if i < self.t.len() { Err(P { t: self.t.clone(), i }.unexpected("end of statement")) } else { Ok(()) }
    }
    /// `('k'='v', ...)`.
    fn props(&mut self) -> SqlResult<BTreeMap<String, String>> {
        self.expect_punct('(')?;
        let mut m = BTreeMap::new();
        loop {
            let k = match self.t.get(self.i) {
                Some(Tok::Str(s)) => {
                    self.i += 1;
                    s.clone()
                }
                _ => self.ident()?,
            };
            self.expect_punct('=')?;
            // ARRAY['a','b'] in CTAS WITH (partitioned_by = ARRAY['dt']).
            if self.peek_kw("array") {
                self.i += 1;
                self.expect_punct('[')?;
                let mut items = Vec::new();
                while !self.punct(']') {
                    items.push(self.string()?);
                    self.punct(',');
                }
                m.insert(k.to_ascii_lowercase(), items.join(","));
                if !self.punct(',') {
                    break;
                }
                continue;
            }
            let v = match self.t.get(self.i) {
                Some(Tok::Str(s)) => s.clone(),
                Some(Tok::Num(n)) => n.clone(),
                Some(Tok::Word(w)) => w.clone(),
                _ => return Err(self.unexpected("a property value")),
            };
            self.i += 1;
            m.insert(k, v);
            if !self.punct(',') {
                break;
            }
        }
        self.expect_punct(')')?;
        Ok(m)
    }
    /// A Hive type, re-assembled from tokens up to `,` or `)` at depth 0 or COMMENT.
    fn hive_type(&mut self) -> SqlResult<String> {
        let mut s = String::new();
        let mut depth = 0i32;
        loop {
            match self.t.get(self.i) {
                None => break,
                Some(Tok::Punct(c @ ('<' | '('))) => {
                    depth += 1;
                    s.push(*c);
                }
                Some(Tok::Punct(c @ ('>' | ')'))) => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                    s.push(*c);
                }
                Some(Tok::Punct(',')) if depth == 0 => break,
                Some(Tok::Word(w)) if depth == 0 && w.eq_ignore_ascii_case("comment") => break,
                Some(Tok::Punct(c)) => s.push(*c),
                Some(Tok::Word(w) | Tok::Num(w)) => {
                    if s.ends_with(|c: char| c.is_alphanumeric()) {
                        s.push(' ');
                    }
                    s.push_str(&w.to_ascii_lowercase());
                }
                Some(Tok::Quoted(w)) => s.push_str(w),
                Some(Tok::Str(_)) => return Err(self.unexpected("a type")),
            }
            self.i += 1;
        }
        SqlType::parse_hive(&s)?;
        Ok(s)
    }
    fn columns(&mut self) -> SqlResult<Vec<ColumnDef>> {
        self.expect_punct('(')?;
        let mut cols = Vec::new();
        loop {
            let name = self.ident()?;
            let type_name = self.hive_type()?;
            let comment = if self.kw("comment") { Some(self.string()?) } else { None };
            cols.push(ColumnDef { name, type_name, comment });
            if !self.punct(',') {
                break;
            }
        }
        self.expect_punct(')')?;
        Ok(cols)
    }
    fn partition_spec(&mut self) -> SqlResult<PartitionSpec> {
        self.expect_kw("partition")?;
        self.expect_punct('(')?;
        let mut values = Vec::new();
        loop {
            let k = self.ident()?;
            self.expect_punct('=')?;
            let v = match self.t.get(self.i) {
                Some(Tok::Str(s) | Tok::Num(s)) => s.clone(),
                _ => return Err(self.unexpected("a partition value")),
            };
            self.i += 1;
            values.push((k, v));
            if !self.punct(',') {
                break;
            }
        }
        self.expect_punct(')')?;
        let location = if self.kw("location") { Some(self.string()?) } else { None };
        Ok(PartitionSpec { values, location })
    }
}

/// The text after the keyword at token `i`: the SELECT of a view or CTAS. Found by searching
/// the source for the `AS` that starts the query.
fn query_after_as(sql: &str) -> SqlResult<String> {
    let bytes = sql.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i + 2 < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'-' && bytes[i + 1] == b'-' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            None if c == b'/' && bytes[i + 1] == b'*' => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
                continue;
            }
            None if c == b'\'' || c == b'"' || c == b'`' => quote = Some(c),
            None if bytes[i..i + 2].eq_ignore_ascii_case(b"as")
                && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric() && bytes[i - 1] != b'_' && bytes[i - 1] < 0x80)
                && !bytes[i + 2].is_ascii_alphanumeric()
                && bytes[i + 2] != b'_'
                && bytes[i + 2] < 0x80 =>
            {
                let rest = sql[i + 2..].trim_start();
                let head = rest.to_ascii_lowercase();
                if head.starts_with("select") || head.starts_with("with") || head.starts_with('(') || head.starts_with("values") {
                    return Ok(rest.trim_end().trim_end_matches(';').to_string());
                }
            }
            None => {}
        }
        i += 1;
    }
    Err(SqlError::syntax("expected AS followed by a query"))
}

/// Classifies and parses one statement.
pub fn parse_statement(sql: &str) -> SqlResult<Statement> {
    let toks = tokenize(sql)?;
    let mut p = P { t: toks, i: 0 };
    if p.t.is_empty() {
        return Err(SqlError::at("SYNTAX_ERROR", (1, 1), "mismatched input '<EOF>'. Expecting: statement"));
    }
    if p.peek_kw("select") || p.peek_kw("with") || p.peek_kw("values") || p.t[0] == Tok::Punct('(') {
        return Ok(Statement::Query(sql.trim().trim_end_matches(';').to_string()));
    }
    if p.kw("create") {
        let or_replace = p.kws(&["or", "replace"]);
        if p.kw("database") || p.kw("schema") {
            let if_not_exists = p.kws(&["if", "not", "exists"]);
            let name = p.ident()?;
            let (mut comment, mut location, mut properties) = (None, None, BTreeMap::new());
            loop {
                if p.kw("comment") {
                    comment = Some(p.string()?);
                } else if p.kw("location") {
                    location = Some(p.string()?);
                } else if p.kws(&["with", "dbproperties"]) {
                    properties = p.props()?;
                } else {
                    break;
                }
            }
            p.done()?;
            return Ok(Statement::CreateDatabase { name, if_not_exists, comment, location, properties });
        }
        if p.kw("view") {
            let name = p.table_name()?;
            return Ok(Statement::CreateView { name, or_replace, query: query_after_as(sql)? });
        }
        let external = p.kw("external");
        p.expect_kw("table")?;
        let if_not_exists = p.kws(&["if", "not", "exists"]);
        let name = p.table_name()?;
        if !external && (p.peek_kw("with") || p.peek_kw("as")) {
            let properties = if p.kw("with") { p.props()? } else { BTreeMap::new() };
            return Ok(Statement::Ctas { name, properties, query: query_after_as(sql)?, if_not_exists });
        }
        return create_table(&mut p, name, if_not_exists);
    }
    if p.kw("drop") {
        if p.kw("database") || p.kw("schema") {
            let if_exists = p.kws(&["if", "exists"]);
            let name = p.ident()?;
            let cascade = p.kw("cascade");
            p.kw("restrict");
            p.done()?;
            return Ok(Statement::DropDatabase { name, if_exists, cascade });
        }
        let view = p.kw("view");
        if !view {
            p.expect_kw("table")?;
        }
        let if_exists = p.kws(&["if", "exists"]);
        let name = p.table_name()?;
        p.done()?;
        return Ok(if view { Statement::DropView { name, if_exists } } else { Statement::DropTable { name, if_exists } });
    }
    if p.kw("msck") {
        p.expect_kw("repair")?;
        p.expect_kw("table")?;
        let name = p.table_name()?;
        p.done()?;
        return Ok(Statement::MsckRepair { name });
    }
    if p.kw("alter") {
        p.expect_kw("table")?;
        let name = p.table_name()?;
        if p.kw("add") {
            let if_not_exists = p.kws(&["if", "not", "exists"]);
            let mut partitions = vec![p.partition_spec()?];
            while p.peek_kw("partition") {
                partitions.push(p.partition_spec()?);
            }
            p.done()?;
            return Ok(Statement::AddPartitions { name, if_not_exists, partitions });
        }
        if p.kw("drop") {
            let if_exists = p.kws(&["if", "exists"]);
            let mut partitions = vec![p.partition_spec()?];
            while p.punct(',') {
                partitions.push(p.partition_spec()?);
            }
            p.done()?;
            return Ok(Statement::DropPartitions { name, if_exists, partitions });
        }
        return Err(SqlError::unsupported("This ALTER TABLE form"));
    }
    if p.kw("show") {
        if p.kw("databases") || p.kw("schemas") {
            let like = if p.kw("like") { Some(p.string()?) } else { None };
            p.done()?;
            return Ok(Statement::ShowDatabases { like });
        }
        if p.kw("tables") {
            let db = if p.kw("in") || p.kw("from") { Some(p.ident()?) } else { None };
            p.kw("like");
            let pattern = if matches!(p.t.get(p.i), Some(Tok::Str(_))) { Some(p.string()?) } else { None };
            p.done()?;
            return Ok(Statement::ShowTables { db, pattern });
        }
        if p.kw("views") {
            let db = if p.kw("in") || p.kw("from") { Some(p.ident()?) } else { None };
            p.done()?;
            return Ok(Statement::ShowViews { db });
        }
        if p.kw("partitions") {
            let name = p.table_name()?;
            p.done()?;
            return Ok(Statement::ShowPartitions { name });
        }
        if p.kw("columns") {
            if !(p.kw("in") || p.kw("from")) {
                return Err(p.unexpected("IN or FROM"));
            }
            let mut name = p.table_name()?;
            if p.kw("in") || p.kw("from") {
                name.database = Some(p.ident()?);
            }
            p.done()?;
            return Ok(Statement::ShowColumns { name });
        }
        if p.kw("create") {
            let view = p.kw("view");
            if !view {
                p.expect_kw("table")?;
            }
            let name = p.table_name()?;
            p.done()?;
            return Ok(Statement::ShowCreateTable { name, view });
        }
        return Err(SqlError::unsupported("This SHOW statement"));
    }
    if p.kw("describe") || p.kw("desc") {
        if !p.kw("formatted") {
            p.kw("extended");
        }
        let name = p.table_name()?;
        p.done()?;
        return Ok(Statement::Describe { name });
    }
    let original = match &p.t[0] {
        Tok::Word(w) => w.clone(),
        _ => String::new(),
    };
    let first = original.to_ascii_uppercase();
    match first.as_str() {
        "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "EXPLAIN" | "UNLOAD" | "VACUUM" | "OPTIMIZE" | "PREPARE" | "EXECUTE" => {
            Err(SqlError::unsupported(format!("{first} statements")))
        }
        _ => Err(SqlError::at("SYNTAX_ERROR", (1, 1), format!("mismatched input '{original}'. Expecting: ALTER, CREATE, DESCRIBE, DROP, MSCK, SELECT, SHOW, WITH"))),
    }
}

fn create_table(p: &mut P, name: TableName, if_not_exists: bool) -> SqlResult<Statement> {
    let columns = p.columns()?;
    let mut t = TableDef {
        database: name.database.clone().unwrap_or_default(),
        name: name.name.clone(),
        columns,
        table_type: "EXTERNAL_TABLE".into(),
        ..Default::default()
    };
    t.params.insert("EXTERNAL".into(), "TRUE".into());
    let mut stored: Option<String> = None;
    let mut delimited: BTreeMap<String, String> = BTreeMap::new();
    let mut serde: Option<String> = None;
    loop {
        if p.kw("comment") {
            t.comment = Some(p.string()?);
        } else if p.kws(&["partitioned", "by"]) {
            t.partition_keys = p.columns()?;
        } else if p.kws(&["clustered", "by"]) {
            return Err(SqlError::unsupported("CLUSTERED BY (bucketed tables)"));
        } else if p.kws(&["row", "format"]) {
            if p.kw("serde") {
                serde = Some(p.string()?);
                if p.kws(&["with", "serdeproperties"]) {
                    t.serde_params = p.props()?;
                }
            } else {
                p.expect_kw("delimited")?;
                loop {
                    if p.kws(&["fields", "terminated", "by"]) {
                        delimited.insert("field.delim".into(), p.string()?);
                        if p.kws(&["escaped", "by"]) {
                            delimited.insert("escape.delim".into(), p.string()?);
                        }
                    } else if p.kws(&["collection", "items", "terminated", "by"]) {
                        delimited.insert("collection.delim".into(), p.string()?);
                    } else if p.kws(&["map", "keys", "terminated", "by"]) {
                        delimited.insert("mapkey.delim".into(), p.string()?);
                    } else if p.kws(&["lines", "terminated", "by"]) {
                        delimited.insert("line.delim".into(), p.string()?);
                    } else if p.kws(&["null", "defined", "as"]) {
                        delimited.insert("serialization.null.format".into(), p.string()?);
                    } else {
                        break;
                    }
                }
            }
        } else if p.kws(&["stored", "as"]) {
            if p.kw("inputformat") {
                t.input_format = p.string()?;
                p.expect_kw("outputformat")?;
                t.output_format = p.string()?;
            } else {
                stored = Some(p.ident()?.to_ascii_uppercase());
            }
        } else if p.kw("location") {
            t.location = p.string()?;
        } else if p.kw("tblproperties") {
            t.params.extend(p.props()?);
        } else {
            break;
        }
    }
    p.done()?;
    match stored.as_deref() {
        Some("PARQUET") => {
            t.serde = serde.unwrap_or_else(|| sn::PARQUET.into());
            t.input_format = sn::PARQUET_INPUT.into();
            t.output_format = sn::PARQUET_OUTPUT.into();
        }
        Some("TEXTFILE") | None => {
            t.serde = serde.unwrap_or_else(|| sn::LAZY_SIMPLE.into());
            if t.input_format.is_empty() {
                t.input_format = sn::TEXT_INPUT.into();
                t.output_format = sn::TEXT_OUTPUT.into();
            }
        }
        Some(other) => return Err(SqlError::unsupported(format!("STORED AS {other}"))),
    }
    if !delimited.is_empty() {
        if !delimited.contains_key("serialization.format")
            && let Some(d) = delimited.get("field.delim").cloned()
        {
            delimited.insert("serialization.format".into(), d);
        }
        t.serde_params.extend(delimited);
    }
    if t.location.is_empty() {
        return Err(SqlError::new("SYNTAX_ERROR", "External tables need a LOCATION (s3://bucket/prefix/)"));
    }
    if crate::catalog::split_s3(&t.location).is_none() {
        return Err(SqlError::new("SYNTAX_ERROR", format!("Invalid LOCATION '{}': expected s3://bucket/prefix/", t.location)));
    }
    Ok(Statement::CreateTable { db: name.database, table: t, if_not_exists })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seed_table() {
        let sql = "CREATE EXTERNAL TABLE IF NOT EXISTS clicks.events (\n  element_clicked STRING COMMENT 'what',\n  time_spent INT,\n  source_menu string,\n  created_at timestamp,\n  props struct<a:int, b:array<string>>\n)\nPARTITIONED BY (dt string)\nROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\nWITH SERDEPROPERTIES ('ignore.malformed.json' = 'true', 'mapping.ts'='timestamp')\nLOCATION 's3://bucket/events/'\nTBLPROPERTIES ('has_encrypted_data'='false');";
        let Ok(Statement::CreateTable { table, db, if_not_exists }) = parse_statement(sql) else { panic!("not a create table") };
        assert!(if_not_exists);
        assert_eq!(db.as_deref(), Some("clicks"));
        assert_eq!(table.name, "events");
        assert_eq!(table.columns.len(), 5);
        assert_eq!(table.columns[0].comment.as_deref(), Some("what"));
        assert_eq!(table.columns[4].type_name, "struct<a:int,b:array<string>>");
        assert_eq!(table.partition_keys[0].name, "dt");
        assert_eq!(table.serde, sn::OPENX_JSON);
        assert_eq!(table.serde_params.get("ignore.malformed.json").map(String::as_str), Some("true"));
        assert_eq!(table.params.get("has_encrypted_data").map(String::as_str), Some("false"));
        assert_eq!(table.location, "s3://bucket/events/");
    }

    #[test]
    fn classifies_statements() {
        assert!(matches!(parse_statement(" select 1"), Ok(Statement::Query(_))));
        assert!(matches!(parse_statement("MSCK REPAIR TABLE db.t;"), Ok(Statement::MsckRepair { .. })));
        let add = parse_statement("ALTER TABLE t ADD IF NOT EXISTS PARTITION (dt='2023-01-01') LOCATION 's3://b/x/' PARTITION (dt='2023-01-02')");
        let Ok(Statement::AddPartitions { partitions, if_not_exists: true, .. }) = add else { panic!("{add:?}") };
        assert_eq!(partitions.len(), 2);
        assert_eq!(partitions[0].location.as_deref(), Some("s3://b/x/"));
        let ctas = parse_statement("CREATE TABLE x WITH (format='PARQUET', external_location='s3://b/o/', partitioned_by=ARRAY['dt']) AS SELECT a AS b FROM t");
        let Ok(Statement::Ctas { properties, query, .. }) = ctas else { panic!("{ctas:?}") };
        assert_eq!(properties.get("partitioned_by").map(String::as_str), Some("dt"));
        assert_eq!(query, "SELECT a AS b FROM t");
        assert!(matches!(parse_statement("CREATE OR REPLACE VIEW v AS SELECT 1"), Ok(Statement::CreateView { or_replace: true, .. })));
        let v = parse_statement("CREATE VIEW vüe -- don't – comment\nAS SELECT 1");
        assert!(matches!(&v, Ok(Statement::CreateView { query, .. }) if query == "SELECT 1"), "{v:?}");
        assert!(matches!(parse_statement("SHOW TABLES IN db 'cl*'"), Ok(Statement::ShowTables { .. })));
        assert!(matches!(parse_statement("DESCRIBE db.t"), Ok(Statement::Describe { .. })));
        assert!(parse_statement("INSERT INTO t VALUES (1)").is_err_and(|e| e.code == "NOT_SUPPORTED"));
        assert!(parse_statement("CREATE EXTERNAL TABLE t (a blob) LOCATION 's3://b/'").is_err());
    }
}
