//! Table scans: reads a table's objects (NDJSON through JsonSerDe semantics, gzip or not;
//! delimited text; OpenCSV; Parquet) into a polars frame, in parallel, one file per task.
//! Only the columns a query names are decoded, and partition columns come from the partition.
//!
//! JsonSerDe semantics: keys match columns case-insensitively (unless `case.insensitive` is
//! `false`), `mapping.<col>` renames, missing keys are NULL, extra keys are ignored, values are
//! coerced to the declared type (NULL when they cannot be), and a line that is not a JSON object
//! fails the query unless `ignore.malformed.json` is `true` (then the row is all NULL).

use std::fmt;
use std::io::Read;

use polars::prelude::*;
use rayon::prelude::*;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use crate::Context;
use crate::catalog::{Format, TableDef};
use crate::error::{SqlError, SqlResult};
use crate::timefmt;
use crate::types::SqlType;

/// One object to read and the partition it belongs to.
#[derive(Debug, Clone)]
pub struct FileRef {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    /// The object's ETag: cached columns are valid only for the same bytes.
    pub etag: String,
    /// The partition's values, in partition-key order (empty for unpartitioned tables).
    pub partition: Vec<String>,
}

/// What to read: the table's data columns that the query needs, by name and type.
pub struct Projection {
    pub columns: Vec<(String, SqlType)>,
    pub partition_keys: Vec<(String, SqlType)>,
    /// Which partition keys the query names (the others are not materialised).
    pub partition_wanted: Vec<bool>,
}

/// Reads `files` of `table` into one frame with the projected data columns, then the partition keys.
pub fn read_table(ctx: &dyn Context, table: &TableDef, proj: &Projection, files: &[FileRef]) -> SqlResult<DataFrame> {
    let format = table.format();
    if let Format::Unsupported(s) = &format {
        return Err(SqlError::unsupported(format!("Tables with SerDe '{s}'")));
    }
    let opts = Options::of(table, proj);
    let cache = ctx.scan_cache();
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    let signature = format!("{:?}|{:?}|{:?}|{}", table.format(), table.serde_params, table.params.get("skip.header.line.count"), names.join(","));
    let frames: Vec<SqlResult<DataFrame>> = files
        .par_iter()
        .map(|f| {
            if ctx.cancelled() {
                return Err(SqlError::new("USER_CANCELLED", "Query was cancelled by the user"));
            }
            let keys: Vec<String> = proj.columns.iter().map(|(n, t)| cache_key(f, &signature, n, t)).collect();
            let rows_key = cache_key(f, &signature, "#rows", &SqlType::BigInt);
            if let Some(df) = cache.and_then(|c| c.frame(&keys, &rows_key, proj)) {
                return add_partition_columns(df, proj, &f.partition);
            }
            let bytes = ctx.get_object(&f.bucket, &f.key).map_err(|e| SqlError::new("HIVE_CANNOT_OPEN_SPLIT", format!("Error opening Hive split s3://{}/{}: {e}", f.bucket, f.key)))?;
            let df = read_one(&format, &opts, proj, &bytes, &f.key)?;
            if let Some(c) = cache {
                c.store(&keys, &rows_key, &df);
            }
            add_partition_columns(df, proj, &f.partition)
        })
        .collect();
    let mut frames = frames.into_iter().collect::<SqlResult<Vec<_>>>()?;
    if frames.is_empty() {
        return empty_frame(proj);
    }
    let mut out = frames.remove(0);
    for f in frames {
        out.vstack_mut_owned(f).map_err(crate::error::from_polars)?;
    }
    Ok(out)
}

fn cache_key(f: &FileRef, signature: &str, column: &str, ty: &SqlType) -> String {
    format!("{}\u{0}{}\u{0}{}\u{0}{}\u{0}{signature}\u{0}{column}\u{0}{}", f.bucket, f.key, f.etag, f.size, ty.display())
}

/// Columns decoded from objects, kept between queries: keyed by the object's bucket, key, ETag
/// and size, the table's format settings, and the column's name and type, so an entry is only
/// ever used for the very bytes and decoding it came from. Least recently used entries go first
/// once `capacity` bytes are held.
pub struct ScanCache {
    inner: std::sync::Mutex<CacheInner>,
    capacity: usize,
}

#[derive(Default)]
struct CacheInner {
    entries: std::collections::HashMap<String, (Series, usize, u64)>,
    bytes: usize,
    tick: u64,
}

impl ScanCache {
    /// A cache holding at most `capacity` bytes of decoded columns.
    pub fn new(capacity: usize) -> ScanCache {
        ScanCache { inner: std::sync::Mutex::new(CacheInner::default()), capacity }
    }

    /// The file's projected columns, if every one (and its row count) is cached.
    fn frame(&self, keys: &[String], rows_key: &str, proj: &Projection) -> Option<DataFrame> {
        let mut g = self.inner.lock().ok()?;
        g.tick += 1;
        let tick = g.tick;
        let rows = g.entries.get_mut(rows_key).map(|e| {
            e.2 = tick;
            e.0.u64().ok().and_then(|c| c.get(0)).unwrap_or(0) as usize
        })?;
        let mut cols = Vec::with_capacity(keys.len());
        for (k, (n, _)) in keys.iter().zip(&proj.columns) {
            let e = g.entries.get_mut(k)?;
            e.2 = tick;
            cols.push(Column::from(e.0.clone().with_name(n.as_str().into())));
        }
        DataFrame::new(rows, cols).ok()
    }

    /// Keeps a decoded file's columns.
    fn store(&self, keys: &[String], rows_key: &str, df: &DataFrame) {
        let Ok(mut g) = self.inner.lock() else { return };
        let put = |g: &mut CacheInner, k: &str, s: Series| {
            let size = s.estimated_size() + k.len();
            if size > self.capacity {
                return;
            }
            g.tick += 1;
            let t = g.tick;
            if let Some(old) = g.entries.insert(k.to_string(), (s, size, t)) {
                g.bytes -= old.1;
            }
            g.bytes += size;
            while g.bytes > self.capacity {
                let Some(victim) = g.entries.iter().min_by_key(|(_, v)| v.2).map(|(k, _)| k.clone()) else { break };
                if let Some(v) = g.entries.remove(&victim) {
                    g.bytes -= v.1;
                }
            }
        };
        put(&mut g, rows_key, Series::new("rows".into(), [df.height() as u64]));
        for (k, c) in keys.iter().zip(df.columns()) {
            put(&mut g, k, c.as_materialized_series().clone());
        }
    }
}

/// A frame with the projection's schema and no rows.
pub fn empty_frame(proj: &Projection) -> SqlResult<DataFrame> {
    let keys = proj.partition_keys.iter().zip(&proj.partition_wanted).filter(|(_, w)| **w).map(|(k, _)| k);
    let cols: Vec<Column> = proj.columns.iter().chain(keys).map(|(n, t)| Column::full_null(n.as_str().into(), 0, &t.to_polars())).collect();
    DataFrame::new_infer_height(cols).map_err(crate::error::from_polars)
}

fn add_partition_columns(mut df: DataFrame, proj: &Projection, values: &[String]) -> SqlResult<DataFrame> {
    let h = df.height();
    for (i, (name, ty)) in proj.partition_keys.iter().enumerate() {
        if !proj.partition_wanted.get(i).copied().unwrap_or(true) {
            continue;
        }
        let v = values.get(i).map(String::as_str);
        let mut b = Builder::new(ty);
        match v {
            Some(s) if s != "__HIVE_DEFAULT_PARTITION__" => b.push_str(s, ty),
            _ => b.push_null(),
        }
        let one = b.finish(name, ty)?;
        let col = Column::new_scalar(name.as_str().into(), Scalar::new(ty.to_polars(), one.get(0).map_err(crate::error::from_polars)?.into_static()), h);
        df.with_column(col).map_err(crate::error::from_polars)?;
    }
    Ok(df)
}

/// Table-level decoding options.
struct Options {
    /// For each projected column: the JSON key it reads (lower-cased unless case-sensitive).
    json_keys: Vec<String>,
    case_insensitive: bool,
    ignore_malformed: bool,
    /// For text formats: the projected columns' positions among the table's columns.
    positions: Vec<usize>,
    field_delim: char,
    null_format: String,
    skip_header: usize,
    csv_sep: char,
    csv_quote: char,
    csv_escape: char,
}

impl Options {
    fn of(t: &TableDef, proj: &Projection) -> Options {
        let sp = |k: &str| t.serde_params.get(k).map(String::as_str);
        let case_insensitive = sp("case.insensitive").is_none_or(|v| !v.eq_ignore_ascii_case("false"));
        let json_keys = proj
            .columns
            .iter()
            .map(|(n, _)| {
                let k = sp(&format!("mapping.{n}")).map(str::to_string).unwrap_or_else(|| n.clone());
                if case_insensitive { k.to_ascii_lowercase() } else { k }
            })
            .collect();
        let positions = proj.columns.iter().map(|(n, _)| t.columns.iter().position(|c| &c.name == n).unwrap_or(usize::MAX)).collect();
        let ch = |k: &str, d: char| sp(k).and_then(|s| s.chars().next()).unwrap_or(d);
        Options {
            json_keys,
            case_insensitive,
            ignore_malformed: sp("ignore.malformed.json").is_some_and(|v| v.eq_ignore_ascii_case("true")),
            positions,
            field_delim: sp("field.delim").or(sp("serialization.format")).and_then(|s| s.chars().next()).unwrap_or('\u{1}'),
            null_format: sp("serialization.null.format").unwrap_or("\\N").to_string(),
            skip_header: t.params.get("skip.header.line.count").and_then(|v| v.parse().ok()).unwrap_or(0),
            csv_sep: ch("separatorChar", ','),
            csv_quote: ch("quoteChar", '"'),
            csv_escape: ch("escapeChar", '\\'),
        }
    }
}

fn decompress<'a>(bytes: &'a [u8], key: &str) -> SqlResult<std::borrow::Cow<'a, [u8]>> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(bytes.len() * 4);
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| SqlError::new("HIVE_CURSOR_ERROR", format!("Error reading gzip object {key}: {e}")))?;
        return Ok(out.into());
    }
    Ok(bytes.into())
}

fn read_one(format: &Format, o: &Options, proj: &Projection, raw: &[u8], key: &str) -> SqlResult<DataFrame> {
    if *format == Format::Parquet {
        return read_parquet(raw, proj, key);
    }
    let data = decompress(raw, key)?;
    let mut builders: Vec<Builder> = proj.columns.iter().map(|(_, t)| Builder::new(t)).collect();
    let mut lines = Lines { data: &data, pos: 0 }.skip(o.skip_header);
    let mut rows = 0usize;
    match format {
        Format::Json => {
            let mut slots: Vec<Option<Value>> = vec![None; proj.columns.len()];
            let mut spans: Vec<Option<(usize, usize)>> = vec![None; proj.columns.len()];
            let keys: Vec<&[u8]> = o.json_keys.iter().map(|k| k.as_bytes()).collect();
            let mut shape = Shape::default();
            for line in lines.by_ref() {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                // Fast path: find the wanted values' spans without building the object.
                spans.iter_mut().for_each(|s| *s = None);
                rows += 1;
                if fast_line(line, &keys, o.case_insensitive, &mut spans, &mut shape).is_some() {
                    for ((b, span), (_, ty)) in builders.iter_mut().zip(&spans).zip(&proj.columns) {
                        match span {
                            Some((st, en)) => b.push_raw(&line[*st..*en], ty),
                            None => b.push_null(),
                        }
                    }
                    continue;
                }
                slots.iter_mut().for_each(|s| *s = None);
                let mut de = serde_json::Deserializer::from_slice(line);
                let parsed = LineSeed { keys: &o.json_keys, ci: o.case_insensitive, slots: &mut slots }.deserialize(&mut de).and_then(|_| de.end());
                if let Err(e) = parsed {
                    if o.ignore_malformed {
                        builders.iter_mut().for_each(Builder::push_null);
                        continue;
                    }
                    let text = String::from_utf8_lossy(&line[..line.len().min(200)]).into_owned();
                    return Err(SqlError::new("HIVE_CURSOR_ERROR", format!("Row is not a valid JSON Object - JSONException: {e} (object s3 key {key}): {text}")));
                }
                for ((b, slot), (_, ty)) in builders.iter_mut().zip(slots.iter_mut()).zip(&proj.columns) {
                    b.push_json(slot.take(), ty);
                }
            }
        }
        Format::Delimited | Format::OpenCsv => {
            let csv = *format == Format::OpenCsv;
            let mut fields: Vec<String> = Vec::new();
            for line in lines {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.is_empty() {
                    continue;
                }
                rows += 1;
                let text = String::from_utf8_lossy(line);
                fields.clear();
                if csv {
                    split_csv(&text, o.csv_sep, o.csv_quote, o.csv_escape, &mut fields);
                } else {
                    fields.extend(text.split(o.field_delim).map(str::to_string));
                }
                for ((b, &pos), (_, ty)) in builders.iter_mut().zip(&o.positions).zip(&proj.columns) {
                    match fields.get(pos) {
                        Some(f) if !csv && *f == o.null_format => b.push_null(),
                        Some(f) if f.is_empty() && !matches!(ty, SqlType::Varchar) => b.push_null(),
                        Some(f) => b.push_str(f, ty),
                        None => b.push_null(),
                    }
                }
            }
        }
        Format::Parquet | Format::Unsupported(_) => {}
    }
    let cols = builders
        .into_iter()
        .zip(&proj.columns)
        .map(|(b, (n, t))| b.finish(n, t).map(Column::from))
        .collect::<SqlResult<Vec<_>>>()?;
    if cols.is_empty() {
        // No data column needed (count(*), partition columns only): keep the row count.
        return DataFrame::new(rows, vec![]).map_err(crate::error::from_polars);
    }
    DataFrame::new_infer_height(cols).map_err(crate::error::from_polars)
}

fn read_parquet(raw: &[u8], proj: &Projection, key: &str) -> SqlResult<DataFrame> {
    let df = ParquetReader::new(std::io::Cursor::new(raw.to_vec()))
        .finish()
        .map_err(|e| SqlError::new("HIVE_CURSOR_ERROR", format!("Can not read Parquet object {key}: {e}")))?;
    let h = df.height();
    let mut cols = Vec::new();
    for (name, ty) in &proj.columns {
        let found = df.columns().iter().find(|c| c.name().eq_ignore_ascii_case(name));
        let c = match found {
            Some(c) => c.cast(&ty.to_polars()).map_err(|e| SqlError::new("HIVE_BAD_DATA", format!("Column {name} of {key}: {e}")))?.with_name(name.as_str().into()),
            None => Column::full_null(name.as_str().into(), h, &ty.to_polars()),
        };
        cols.push(c);
    }
    if cols.is_empty() {
        return DataFrame::new(h, vec![]).map_err(crate::error::from_polars);
    }
    DataFrame::new_infer_height(cols).map_err(crate::error::from_polars)
}

/// The lines of a text object (as `split(b'\n')` would give them), found with memchr.
struct Lines<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.data.get(self.pos..)?;
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                self.pos += i + 1;
                Some(&rest[..i])
            }
            None => {
                self.pos = self.data.len() + 1;
                Some(rest)
            }
        }
    }
}

/// OpenCSVSerde's split: separator, quote and escape characters.
fn split_csv(line: &str, sep: char, quote: char, esc: char, out: &mut Vec<String>) {
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == esc && esc != quote {
            if let Some(n) = chars.next() {
                cur.push(n);
            }
        } else if c == quote {
            if quoted && chars.peek() == Some(&quote) {
                cur.push(quote);
                chars.next();
            } else {
                quoted = !quoted;
            }
        } else if c == sep && !quoted {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
}

/// The index of the first byte at or after `i` that is not JSON whitespace.
#[inline(always)]
fn ws(line: &[u8], mut i: usize) -> usize {
    while let Some(c) = line.get(i) {
        if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            break;
        }
        i += 1;
    }
    i
}

/// The keys of the previous line, in order, with the wanted key each one is: lines of one
/// object mostly share their keys and order, so a key is recognised by comparing it with the
/// previous line's key at the same place instead of searching for its closing quote.
#[derive(Default)]
struct Shape {
    /// The keys' bytes, one after another.
    bytes: Vec<u8>,
    /// Each key: its end in `bytes` (it starts where the previous one ends) and its slot.
    keys: Vec<(usize, Option<usize>)>,
}

impl Shape {
    /// The `n`-th key of the previous line, if `line` has it at `i` (a quoted string without
    /// escapes): its end past the closing quote, and its slot.
    #[inline]
    fn predict(&self, line: &[u8], i: usize, n: usize) -> Option<(usize, Option<usize>)> {
        let &(end, slot) = self.keys.get(n)?;
        let start = if n == 0 { 0 } else { self.keys[n - 1].0 };
        let key = &self.bytes[start..end];
        let rest = line.get(i + 1..)?;
        (rest.starts_with(key) && rest.get(key.len()) == Some(&b'"')).then_some((i + 2 + key.len(), slot))
    }

    /// Records that this line's `n`-th key is `key` (forgetting the keys after it).
    fn learn(&mut self, n: usize, key: &[u8], slot: Option<usize>) {
        self.keys.truncate(n);
        self.bytes.truncate(self.keys.last().map_or(0, |k| k.0));
        self.bytes.extend_from_slice(key);
        self.keys.push((self.bytes.len(), slot));
    }
}

/// Finds, in one NDJSON line, the byte spans of the values of `keys` (first occurrence wins)
/// without building anything. `None` when the line is not a plain object this scanner reads
/// (escaped keys, malformed text): the caller then parses the line with serde_json. The whole
/// line is still checked, so a malformed line is never read as good.
fn fast_line(line: &[u8], keys: &[&[u8]], ci: bool, spans: &mut [Option<(usize, usize)>], shape: &mut Shape) -> Option<()> {
    let n = line.len();
    let mut i = ws(line, 0);
    if line.get(i) != Some(&b'{') {
        return None;
    }
    i = ws(line, i + 1);
    if line.get(i) == Some(&b'}') {
        return (ws(line, i + 1) == n).then_some(());
    }
    let mut nth = 0;
    loop {
        if line.get(i) != Some(&b'"') {
            return None;
        }
        let (kend, slot) = match shape.predict(line, i, nth) {
            Some(known) => known,
            None => {
                let (kend, escaped) = skip_string(line, i)?;
                if escaped {
                    return None;
                }
                let key = &line[i + 1..kend - 1];
                let slot = keys.iter().position(|k| k.len() == key.len() && if ci { k.eq_ignore_ascii_case(key) } else { *k == key });
                shape.learn(nth, key, slot);
                (kend, slot)
            }
        };
        nth += 1;
        i = ws(line, kend);
        if line.get(i) != Some(&b':') {
            return None;
        }
        let vstart = ws(line, i + 1);
        let vend = skip_value(line, vstart)?;
        if let Some(s) = slot
            && spans[s].is_none()
        {
            spans[s] = Some((vstart, vend));
        }
        i = ws(line, vend);
        match line.get(i) {
            Some(b',') => i = ws(line, i + 1),
            Some(b'}') => return (ws(line, i + 1) == n).then_some(()),
            _ => return None,
        }
    }
}

/// The end of the JSON value starting at `i`.
fn skip_value(line: &[u8], i: usize) -> Option<usize> {
    match *line.get(i)? {
        b'"' => skip_string(line, i).map(|(end, _)| end),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < line.len() {
                match line[j] {
                    b'"' => {
                        j = skip_string(line, j)?.0;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        c => {
            let rest = &line[i..];
            let len = match c {
                b't' if rest.starts_with(b"true") => 4,
                b'f' if rest.starts_with(b"false") => 5,
                b'n' if rest.starts_with(b"null") => 4,
                _ => rest.iter().position(|c| !(c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.' | b'e' | b'E'))).unwrap_or(rest.len()),
            };
            // A scalar ends where a delimiter or whitespace starts.
            match rest.get(len) {
                _ if len == 0 => None,
                None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') => Some(i + len),
                Some(_) => None,
            }
        }
    }
}

/// The first quote or backslash in `s`, eight bytes at a time: the strings of a clickstream line are
/// short, where a memchr call costs more than it saves.
#[inline]
fn find_quote_or_escape(s: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut chunks = s.chunks_exact(8);
    let mut base = 0;
    for c in &mut chunks {
        let mut a = [0u8; 8];
        a.copy_from_slice(c);
        let w = u64::from_le_bytes(a);
        let q = w ^ (LO * b'"' as u64);
        let e = w ^ (LO * b'\\' as u64);
        // The lowest flagged byte of each mask is a true match (the classic has-zero-byte test).
        let m = (q.wrapping_sub(LO) & !q & HI) | (e.wrapping_sub(LO) & !e & HI);
        if m != 0 {
            return Some(base + (m.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks.remainder().iter().position(|&c| c == b'"' || c == b'\\').map(|i| base + i)
}

/// The end (past the closing quote) of the JSON string starting at `i`, and whether it has
/// escapes.
fn skip_string(line: &[u8], i: usize) -> Option<(usize, bool)> {
    let mut j = i + 1;
    let mut escaped = false;
    loop {
        let k = find_quote_or_escape(line.get(j..)?)? + j;
        if line[k] == b'"' {
            return Some((k + 1, escaped));
        }
        escaped = true;
        j = k + 2;
    }
}

/// Deserializes one JSON object line, keeping only the values of wanted keys.
struct LineSeed<'a> {
    keys: &'a [String],
    ci: bool,
    slots: &'a mut [Option<Value>],
}

impl<'de> DeserializeSeed<'de> for LineSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LineSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(idx) = map.next_key_seed(KeySeed { keys: self.keys, ci: self.ci })? {
            match idx {
                // The first occurrence of a key wins, as with JsonSerDe.
                Some(i) if self.slots[i].is_none() => self.slots[i] = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct KeySeed<'a> {
    keys: &'a [String],
    ci: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.keys.iter().position(|k| if self.ci { k.eq_ignore_ascii_case(v) } else { k == v }))
    }
}

/// A column under construction, typed by its SQL type.
pub enum Builder {
    Bool(Vec<Option<bool>>),
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Str(StringChunkedBuilder),
    Date(Vec<Option<i32>>),
    Ts(Vec<Option<i64>>),
    Nested(Vec<Option<Value>>),
}

impl Builder {
    pub fn new(ty: &SqlType) -> Builder {
        use SqlType::*;
        match ty {
            Boolean => Builder::Bool(Vec::new()),
            t if t.is_integer() => Builder::Int(Vec::new()),
            Real | Double | Decimal(..) => Builder::Float(Vec::new()),
            Date => Builder::Date(Vec::new()),
            Timestamp | TimestampTz => Builder::Ts(Vec::new()),
            Array(_) | Map(..) | Row(_) => Builder::Nested(Vec::new()),
            _ => Builder::Str(StringChunkedBuilder::new(PlSmallStr::EMPTY, 1024)),
        }
    }

    pub fn push_null(&mut self) {
        match self {
            Builder::Bool(v) => v.push(None),
            Builder::Int(v) => v.push(None),
            Builder::Float(v) => v.push(None),
            Builder::Str(v) => v.append_null(),
            Builder::Date(v) => v.push(None),
            Builder::Ts(v) => v.push(None),
            Builder::Nested(v) => v.push(None),
        }
    }

    /// A text value (delimited files, partition values, JSON strings), coerced to the type.
    pub fn push_str(&mut self, s: &str, _ty: &SqlType) {
        match self {
            Builder::Bool(v) => v.push(parse_bool(s)),
            Builder::Int(v) => v.push(s.trim().parse::<i64>().ok().or_else(|| s.trim().parse::<f64>().ok().filter(|f| f.fract() == 0.0).map(|f| f as i64))),
            Builder::Float(v) => v.push(s.trim().parse().ok()),
            Builder::Str(v) => v.append_value(s),
            Builder::Date(v) => v.push(timefmt::parse_date(s)),
            Builder::Ts(v) => v.push(timefmt::parse_timestamp(s).or_else(|| s.trim().parse::<i64>().ok())),
            Builder::Nested(v) => v.push(serde_json::from_str(s).ok()),
        }
    }

    /// A JSON value's raw text (from the fast path), coerced like [`Builder::push_json`].
    pub fn push_raw(&mut self, raw: &[u8], ty: &SqlType) {
        match raw.first() {
            None => self.push_null(),
            Some(b'"') if !raw.contains(&b'\\') => match std::str::from_utf8(&raw[1..raw.len().saturating_sub(1)]) {
                Ok(s) => {
                    if let Builder::Nested(v) = self {
                        v.push(Some(Value::String(s.to_string())));
                    } else {
                        self.push_str(s, ty);
                    }
                }
                Err(_) => self.push_null(),
            },
            Some(b'n') => self.push_null(),
            Some(b't' | b'f') if !matches!(self, Builder::Nested(_)) => match self {
                Builder::Bool(v) => v.push(Some(raw[0] == b't')),
                Builder::Str(v) => v.append_value(if raw[0] == b't' { "true" } else { "false" }),
                b => b.push_null(),
            },
            Some(c) if (c.is_ascii_digit() || *c == b'-') && !matches!(self, Builder::Nested(_)) => {
                let text = std::str::from_utf8(raw).unwrap_or("");
                match self {
                    Builder::Int(v) => v.push(text.parse::<i64>().ok().or_else(|| text.parse::<f64>().ok().filter(|f| f.fract() == 0.0).map(|f| f as i64))),
                    Builder::Float(v) => v.push(text.parse().ok()),
                    Builder::Str(v) => v.append_value(text),
                    Builder::Ts(v) => v.push(text.parse::<i64>().ok()),
                    b => b.push_null(),
                }
            }
            _ => self.push_json(serde_json::from_slice(raw).ok(), ty),
        }
    }

    /// A JSON value, coerced to the column's type as JsonSerDe does.
    pub fn push_json(&mut self, val: Option<Value>, ty: &SqlType) {
        let Some(val) = val.filter(|v| !v.is_null()) else {
            return self.push_null();
        };
        match (self, val) {
            (Builder::Nested(v), x) => v.push(Some(x)),
            (b, Value::String(s)) => b.push_str(&s, ty),
            (Builder::Bool(v), Value::Bool(x)) => v.push(Some(x)),
            (Builder::Int(v), Value::Number(n)) => v.push(n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))),
            (Builder::Float(v), Value::Number(n)) => v.push(n.as_f64()),
            (Builder::Str(v), x) => v.append_value(x.to_string()),
            (Builder::Ts(v), Value::Number(n)) => v.push(n.as_i64()),
            (b, _) => b.push_null(),
        }
    }

    /// The finished column, in the type's polars dtype.
    pub fn finish(self, name: &str, ty: &SqlType) -> SqlResult<Series> {
        let n: PlSmallStr = name.into();
        let s = match self {
            Builder::Bool(v) => Series::new(n, v),
            Builder::Int(v) => Series::new(n, v),
            Builder::Float(v) => Series::new(n, v),
            Builder::Str(v) => v.finish().with_name(n).into_series(),
            Builder::Date(v) => Int32Chunked::from_iter_options(n, v.into_iter()).into_date().into_series(),
            Builder::Ts(v) => Int64Chunked::from_iter_options(n, v.into_iter()).into_datetime(TimeUnit::Milliseconds, None).into_series(),
            Builder::Nested(v) => return nested_series(name, v.into_iter().map(|x| x.map(std::borrow::Cow::Owned)).collect(), ty),
        };
        s.cast(&ty.to_polars()).map_err(crate::error::from_polars)
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        x if x.eq_ignore_ascii_case("true") => Some(true),
        x if x.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Builds a list / struct column from JSON values, recursively.
fn nested_series(name: &str, vals: Vec<Option<std::borrow::Cow<'_, Value>>>, ty: &SqlType) -> SqlResult<Series> {
    let err = crate::error::from_polars;
    match ty {
        SqlType::Array(inner) => {
            let mut lists: Vec<Option<Series>> = Vec::with_capacity(vals.len());
            for v in vals {
                lists.push(match v.as_deref() {
                    Some(Value::Array(items)) => Some(nested_or_leaf("", items.iter().map(|x| Some(std::borrow::Cow::Borrowed(x))).collect(), inner)?),
                    _ => None,
                });
            }
            let ca = ListChunked::from_iter(lists).with_name(name.into());
            ca.into_series().cast(&ty.to_polars()).map_err(err)
        }
        SqlType::Map(k, v) => {
            let mut lists: Vec<Option<Series>> = Vec::with_capacity(vals.len());
            for x in vals {
                lists.push(match x.as_deref() {
                    Some(Value::Object(m)) => {
                        let mut keys: Vec<&String> = m.keys().collect();
                        keys.sort();
                        let ks = nested_or_leaf("key", keys.iter().map(|s| Some(std::borrow::Cow::Owned(Value::String((*s).clone())))).collect(), k)?;
                        let vs = nested_or_leaf("value", keys.iter().map(|s| m.get(*s).map(std::borrow::Cow::Borrowed)).collect(), v)?;
                        Some(StructChunked::from_series("".into(), ks.len(), [ks, vs].iter()).map_err(err)?.into_series())
                    }
                    _ => None,
                });
            }
            let ca = ListChunked::from_iter(lists).with_name(name.into());
            ca.into_series().cast(&ty.to_polars()).map_err(err)
        }
        SqlType::Row(fields) => {
            let len = vals.len();
            let mut cols = Vec::new();
            for (fname, fty) in fields {
                let sub = vals
                    .iter()
                    .map(|v| match v.as_deref() {
                        Some(Value::Object(m)) => m.iter().find(|(k, _)| k.eq_ignore_ascii_case(fname)).map(|(_, x)| std::borrow::Cow::Owned(x.clone())),
                        _ => None,
                    })
                    .collect();
                cols.push(nested_or_leaf(fname, sub, fty)?);
            }
            let validity: Vec<bool> = vals.iter().map(|v| matches!(v.as_deref(), Some(Value::Object(_)))).collect();
            let ca = StructChunked::from_series(name.into(), len, cols.iter()).map_err(err)?.with_outer_validity(Some(validity.into_iter().collect()));
            Ok(ca.into_series())
        }
        _ => nested_or_leaf(name, vals, ty),
    }
}

fn nested_or_leaf(name: &str, vals: Vec<Option<std::borrow::Cow<'_, Value>>>, ty: &SqlType) -> SqlResult<Series> {
    if matches!(ty, SqlType::Array(_) | SqlType::Map(..) | SqlType::Row(_)) {
        return nested_series(name, vals, ty);
    }
    let mut b = Builder::new(ty);
    for v in vals {
        b.push_json(v.map(|c| c.into_owned()), ty);
    }
    b.finish(name, ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proj(cols: &[(&str, &str)]) -> Projection {
        Projection { columns: cols.iter().map(|(n, t)| (n.to_string(), SqlType::parse_hive(t).unwrap_or(SqlType::Varchar))).collect(), partition_keys: vec![], partition_wanted: vec![] }
    }

    #[test]
    fn jsonserde_semantics() {
        let t = TableDef { serde: crate::catalog::serde_names::OPENX_JSON.into(), ..Default::default() };
        let p = proj(&[("a", "int"), ("b", "string"), ("ts", "timestamp"), ("tags", "array<string>")]);
        let o = Options::of(&t, &p);
        let data = b"{\"A\": 1, \"b\": \"x\", \"ts\": \"2023-11-16 10:00:00\", \"tags\": [\"p\",\"q\"], \"extra\": {\"z\": 1}}\n{\"a\": \"7\"}\n\n{\"a\": 2.0, \"b\": 5}\n";
        let df = read_one(&Format::Json, &o, &p, data, "k");
        let df = df.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(df.height(), 3);
        let a: Vec<Option<i32>> = df.column("a").and_then(|c| c.i32().map(|x| x.iter().collect())).unwrap_or_default();
        assert_eq!(a, vec![Some(1), Some(7), Some(2)]);
        let b: Vec<Option<String>> = df.column("b").and_then(|c| c.str().map(|x| x.iter().map(|s| s.map(str::to_string)).collect())).unwrap_or_default();
        assert_eq!(b, vec![Some("x".into()), None, Some("5".into())]);
        assert!(read_one(&Format::Json, &o, &p, b"not json\n", "k").is_err_and(|e| e.code == "HIVE_CURSOR_ERROR"));
    }

    #[test]
    fn fast_scanner_finds_values_and_refuses_what_it_cannot_read() {
        let keys: Vec<&[u8]> = vec![b"a", b"b"];
        let mut spans = vec![None; 2];
        let line = br#"{"long_key_with_escapes_\"here\"_and_more": "x\"y", "B": [1, {"a": 2}], "a": "it's \"quoted\" and rather long, longer than the short loop"}"#;
        assert!(fast_line(line, &keys, true, &mut spans, &mut Shape::default()).is_none(), "escaped keys go to serde_json");
        let line = br#"{"k": "v\"x, still the string \\", "B": [1, {"a": 2}], "a" : "q"}"#;
        spans = vec![None; 2];
        assert!(fast_line(line, &keys, true, &mut spans, &mut Shape::default()).is_some());
        let (s0, e0) = spans[0].unwrap_or_default();
        assert_eq!(&line[s0..e0], br#""q""#);
        let (s1, e1) = spans[1].unwrap_or_default();
        assert_eq!(&line[s1..e1], br#"[1, {"a": 2}]"#);
        for bad in [&br#"{"a": 1,}"#[..], br#"{"a" 1}"#, br#"{"a": tru}"#, br#"{"a": "unterminated}"#, br#"{"a": 1} x"#, b"[1]"] {
            assert!(fast_line(bad, &keys, true, &mut vec![None; 2], &mut Shape::default()).is_none(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn the_previous_lines_keys_speed_up_the_next_but_never_decide_it() {
        let keys: Vec<&[u8]> = vec![b"a", b"bc"];
        let mut shape = Shape::default();
        let lines: [(&[u8], Option<(&[u8], &[u8])>); 5] = [
            (br#"{"a": 1, "bc": "x", "z": 0}"#, Some((b"1", br#""x""#))),
            (br#"{"a": 2, "bc": "y", "z": 0}"#, Some((b"2", br#""y""#))),
            // Another order, a longer key that starts like a known one, a missing key.
            (br#"{"bcd": 5, "bc": "w", "a": 3}"#, Some((b"3", br#""w""#))),
            (br#"{"z": 0, "a": 4}"#, Some((b"4", b""))),
            (br#"{"a\u0041": 1, "a": 5}"#, None),
        ];
        for (line, want) in lines {
            let mut spans = vec![None; 2];
            let got = fast_line(line, &keys, true, &mut spans, &mut shape).map(|_| spans.iter().map(|s| s.map_or(&b""[..], |(a, b)| &line[a..b])).collect::<Vec<_>>());
            assert_eq!(got, want.map(|(a, b)| vec![a, b]), "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn lines_split_like_split() {
        for data in [&b"a\nb\n"[..], b"a\n\nb", b"", b"\n", b"x"] {
            let ours: Vec<&[u8]> = Lines { data, pos: 0 }.collect();
            let theirs: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
            assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn csv_split() {
        let mut out = Vec::new();
        split_csv(r#"a,"b,c","d""e",\,x"#, ',', '"', '\\', &mut out);
        assert_eq!(out, vec!["a", "b,c", "d\"e", ",x"]);
    }

    /// Decoding speed of the NDJSON scan over clickstream lines like the Athena benchmark's
    /// (`cargo test --release -p firelocal-sql scan_speed -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn scan_speed() {
        let mut seed = 7u64;
        let mut rnd = |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let elements = ["buy_now", "add_to_cart", "view_product", "search", "checkout", "wishlist", "share", "review"];
        let mut data = Vec::new();
        for _ in 0..35_714 {
            let line = format!(
                r#"{{"event_id": "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", "session_id": "s-{:06}", "user_id": {}, "element_clicked": "{}", "source_menu": "home", "page": "/products/{}", "time_spent": {}, "price": {}.{:02}, "is_mobile": {}, "created_at": "2023-11-1{} {:02}:{:02}:{:02}", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0"}}"#,
                rnd(1 << 32), rnd(1 << 16), rnd(1 << 12), rnd(1 << 12), rnd(1 << 48), rnd(50_000), rnd(20_000), elements[rnd(8) as usize], rnd(5000), rnd(60_000) + 1, rnd(500), rnd(100), rnd(2) == 0, rnd(7), rnd(24), rnd(60), rnd(60)
            );
            data.extend_from_slice(line.as_bytes());
            data.push(b'\n');
        }
        let t = TableDef { serde: crate::catalog::serde_names::OPENX_JSON.into(), ..Default::default() };
        for cols in [&[][..], &[("element_clicked", "string"), ("time_spent", "int")][..], &[("created_at", "timestamp"), ("session_id", "string"), ("element_clicked", "string")][..]] {
            let p = proj(cols);
            let o = Options::of(&t, &p);
            let mut best = f64::MAX;
            let iterations = std::env::var("SCAN_SPEED_ITERATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(15);
            for _ in 0..iterations {
                let started = std::time::Instant::now();
                let df = read_one(&Format::Json, &o, &p, &data, "k").unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(df.height(), 35_714);
                best = best.min(started.elapsed().as_secs_f64());
            }
            println!("{:?}: {:.1} ms for {:.1} MB = {:.0} MB/s", cols.iter().map(|c| c.0).collect::<Vec<_>>(), best * 1e3, data.len() as f64 / 1e6, data.len() as f64 / 1e6 / best);
        }
    }
}
