//! Dashboard visuals computed from a data set's rows: the field wells of pie, bar, line, table
//! and KPI visuals (dimensions, date granularities, measures with their aggregations) and the
//! filter groups in scope, as the numbers QuickSight would draw.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};

/// One column of a snapshot, dictionary-encoded: each row holds a code into the distinct values.
#[derive(Debug, Clone, Default)]
pub struct Column {
    pub name: String,
    /// QuickSight's type (STRING, INTEGER, DECIMAL, DATETIME, BOOLEAN).
    pub ty: String,
    codes: Vec<u32>,
    dict: Vec<Option<String>>,
}

/// A data set's rows (a SPICE snapshot, or a live query's result), by column.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: usize,
}

impl Table {
    /// Encodes rendered rows by column.
    pub fn from_rows(columns: Vec<(String, String)>, rows: Vec<Vec<Option<String>>>) -> Table {
        let n = rows.len();
        let mut cols: Vec<Column> = columns.into_iter().map(|(name, ty)| Column { name, ty, codes: Vec::with_capacity(n), dict: Vec::new() }).collect();
        let mut seen: Vec<HashMap<Option<String>, u32>> = vec![HashMap::new(); cols.len()];
        for row in rows {
            for (i, v) in row.into_iter().enumerate().take(cols.len()) {
                let c = &mut cols[i];
                let code = match seen[i].get(&v) {
                    Some(code) => *code,
                    None => {
                        let code = c.dict.len() as u32;
                        c.dict.push(v.clone());
                        seen[i].insert(v, code);
                        code
                    }
                };
                c.codes.push(code);
            }
        }
        Table { columns: cols, rows: n }
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// A cell's value.
    pub fn value(&self, col: usize, row: usize) -> Option<&str> {
        let c = self.columns.get(col)?;
        c.dict.get(*c.codes.get(row)? as usize)?.as_deref()
    }

    /// Column names and types.
    pub fn schema(&self) -> Vec<(String, String)> {
        self.columns.iter().map(|c| (c.name.clone(), c.ty.clone())).collect()
    }

    /// Roughly the bytes it takes: codes and distinct values.
    pub fn bytes(&self) -> u64 {
        self.columns.iter().map(|c| c.codes.len() as u64 * 4 + c.dict.iter().map(|v| v.as_ref().map_or(1, |s| s.len() as u64)).sum::<u64>()).sum()
    }
}

/// The visual kinds firelocal draws.
pub const KINDS: &[&str] = &["PieChartVisual", "BarChartVisual", "LineChartVisual", "TableVisual", "KPIVisual"];

/// A visual's computed data: column headers and rows (strings and numbers).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Data {
    pub kind: String,
    pub title: Option<String>,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// One field of a field well: its column, and a date granularity or an aggregation.
#[derive(Debug, Clone)]
struct Field {
    data_set: String,
    column: String,
    granularity: Option<String>,
    aggregation: Option<String>,
}

fn field(v: &Value) -> Option<Field> {
    let (_, inner) = v.as_object()?.iter().next()?;
    let col = inner.get("Column")?;
    let aggregation = inner
        .pointer("/AggregationFunction/SimpleNumericalAggregation")
        .or_else(|| inner.get("AggregationFunction").filter(|a| a.is_string()))
        .or_else(|| inner.pointer("/AggregationFunction/SimpleNumericalAggregation"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| v.get("CategoricalMeasureField").or_else(|| v.get("DateMeasureField")).map(|m| m.get("AggregationFunction").and_then(Value::as_str).unwrap_or("COUNT").to_string()))
        .or_else(|| v.get("NumericalMeasureField").map(|_| "SUM".to_string()));
    Some(Field {
        data_set: col.get("DataSetIdentifier")?.as_str()?.to_string(),
        column: col.get("ColumnName")?.as_str()?.to_string(),
        granularity: inner.get("DateGranularity").and_then(Value::as_str).map(str::to_string),
        aggregation,
    })
}

fn fields(v: Option<&Value>) -> Vec<Field> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(field).collect()).unwrap_or_default()
}

/// A visual's kind, id, title and field wells: (dimensions, measures, unaggregated columns).
fn wells(visual: &Value) -> Option<(String, String, Option<String>, Vec<Field>, Vec<Field>, Vec<Field>)> {
    let (kind, body) = visual.as_object()?.iter().next()?;
    let id = body.get("VisualId")?.as_str()?.to_string();
    let title = body.pointer("/Title/FormatText/PlainText").and_then(Value::as_str).map(str::to_string);
    let fw = body.pointer("/ChartConfiguration/FieldWells").cloned().unwrap_or_default();
    let (dims, measures, raw) = match kind.as_str() {
        "PieChartVisual" => {
            let w = fw.get("PieChartAggregatedFieldWells");
            (fields(w.and_then(|w| w.get("Category"))), fields(w.and_then(|w| w.get("Values"))), Vec::new())
        }
        "BarChartVisual" | "LineChartVisual" => {
            let w = fw.get(if kind == "BarChartVisual" { "BarChartAggregatedFieldWells" } else { "LineChartAggregatedFieldWells" });
            let mut d = fields(w.and_then(|w| w.get("Category")));
            d.extend(fields(w.and_then(|w| w.get("Colors"))));
            (d, fields(w.and_then(|w| w.get("Values"))), Vec::new())
        }
        "TableVisual" => match (fw.get("TableAggregatedFieldWells"), fw.get("TableUnaggregatedFieldWells")) {
            (Some(w), _) => (fields(w.get("GroupBy")), fields(w.get("Values")), Vec::new()),
            (None, Some(w)) => {
                let raw = w.get("Values").and_then(Value::as_array).map(|a| a.iter().filter_map(|f| {
                    let c = f.get("Column")?;
                    Some(Field { data_set: c.get("DataSetIdentifier")?.as_str()?.into(), column: c.get("ColumnName")?.as_str()?.into(), granularity: None, aggregation: None })
                }).collect()).unwrap_or_default();
                (Vec::new(), Vec::new(), raw)
            }
            _ => (Vec::new(), Vec::new(), Vec::new()),
        },
        "KPIVisual" => {
            // KPIFieldWells is FieldWells itself (Values, TargetValues, TrendGroups).
            let w = Some(fw.get("KPIFieldWells").unwrap_or(&fw));
            let mut m = fields(w.and_then(|w| w.get("Values")));
            m.extend(fields(w.and_then(|w| w.get("TargetValues"))));
            (Vec::new(), m, Vec::new())
        }
        _ => return Some((kind.clone(), id, title, Vec::new(), Vec::new(), Vec::new())),
    };
    Some((kind.clone(), id, title, dims, measures, raw))
}

/// Every visual of a definition: (sheet id, visual JSON).
pub fn visuals(definition: &Value) -> Vec<(String, Value)> {
    definition
        .get("Sheets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|s| {
            let sheet = s.get("SheetId").and_then(Value::as_str).unwrap_or_default().to_string();
            s.get("Visuals").and_then(Value::as_array).cloned().unwrap_or_default().into_iter().map(move |v| (sheet.clone(), v))
        })
        .collect()
}

/// The id of a visual.
pub fn visual_id(v: &Value) -> Option<String> {
    v.as_object()?.values().next()?.get("VisualId")?.as_str().map(str::to_string)
}

/// Checks a definition against the data sets it declares (identifier → column names and
/// types): every visual of a supported kind, every field's data set declared and column present.
pub fn validate(definition: &Value, data_sets: &HashMap<String, Vec<(String, String)>>) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for (sheet, v) in visuals(definition) {
        let Some((kind, id, _, dims, measures, raw)) = wells(&v) else { return Err(format!("Sheet {sheet}: a visual is malformed (it needs a VisualId)")) };
        if !seen.insert(id.clone()) {
            return Err(format!("Visual id {id} is used twice"));
        }
        if !KINDS.contains(&kind.as_str()) {
            return Err(format!("Visual {id}: {kind} is not supported by firelocal's QuickSight (PieChartVisual, BarChartVisual, LineChartVisual, TableVisual and KPIVisual are)"));
        }
        for f in dims.iter().chain(&measures).chain(&raw) {
            let Some(cols) = data_sets.get(&f.data_set) else {
                return Err(format!("Visual {id}: the data set identifier {} is not declared in DataSetIdentifierDeclarations", f.data_set));
            };
            if !cols.iter().any(|(c, _)| *c == f.column) {
                return Err(format!("Visual {id}: the field {} refers to the column {}, which the data set {} does not have", f.column, f.column, f.data_set));
            }
        }
        if let Some(agg) = measures.iter().filter_map(|m| m.aggregation.as_deref()).find(|a| !["COUNT", "DISTINCT_COUNT", "SUM", "AVERAGE", "MIN", "MAX"].contains(a)) {
            return Err(format!("Visual {id}: the aggregation {agg} is not supported (COUNT, DISTINCT_COUNT, SUM, AVERAGE, MIN, MAX are)"));
        }
    }
    Ok(())
}

/// The data set identifier a visual reads.
pub fn data_set_of(visual: &Value) -> Option<String> {
    let (_, _, _, d, m, r) = wells(visual)?;
    d.iter().chain(&m).chain(&r).map(|f| f.data_set.clone()).next()
}

fn num(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok()
}

fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9e15 { json!(x as i64) } else { json!((x * 1e6).round() / 1e6) }
}

/// Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Truncates a rendered timestamp (`2024-03-05 14:02:11.000`) to a DateGranularity.
fn truncate(ts: &str, granularity: &str) -> String {
    let part = |a: usize, b: usize| ts.get(a..b).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let (y, mo, d, h, mi) = (part(0, 4), part(5, 7).max(1), part(8, 10).max(1), part(11, 13), part(14, 16));
    let (y, mo, d, h, mi) = match granularity {
        "YEAR" => (y, 1, 1, 0, 0),
        "QUARTER" => (y, (mo - 1) / 3 * 3 + 1, 1, 0, 0),
        "MONTH" => (y, mo, 1, 0, 0),
        "WEEK" => {
            // QuickSight's weeks start on Sunday.
            let days = days_from_civil(y, mo, d);
            let start = days - (days + 4).rem_euclid(7);
            let (y, m, d) = civil_from_days(start);
            (y, m, d, 0, 0)
        }
        "HOUR" => (y, mo, d, h, 0),
        "MINUTE" => (y, mo, d, h, mi),
        _ => (y, mo, d, 0, 0),
    };
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:00.000")
}

/// The column a filter reads, in `table`.
fn filter_column(filter: &Value, table: &Table) -> Option<usize> {
    let (_, f) = filter.as_object()?.iter().next()?;
    table.index(f.pointer("/Column/ColumnName")?.as_str()?)
}

/// Whether a value passes one filter (a CategoryFilter, NumericRangeFilter, NumericEqualityFilter
/// or TimeRangeFilter; others pass everything).
fn passes(filter: &Value, v: Option<&str>) -> bool {
    let Some((kind, f)) = filter.as_object().and_then(|o| o.iter().next()) else { return true };
    let v = v.map(str::to_string);
    match kind.as_str() {
        "CategoryFilter" => {
            let cfg = f.get("Configuration").cloned().unwrap_or_default();
            if let Some(list) = cfg.get("FilterListConfiguration") {
                if list.get("SelectAllOptions").and_then(Value::as_str) == Some("FILTER_ALL_VALUES") {
                    return true;
                }
                let values: Vec<&str> = list.get("CategoryValues").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
                let hit = v.as_deref().is_some_and(|x| values.contains(&x));
                return match list.get("MatchOperator").and_then(Value::as_str) {
                    Some("DOES_NOT_CONTAIN") | Some("DOES_NOT_EQUAL") => !hit,
                    _ => hit,
                };
            }
            if let Some(custom) = cfg.get("CustomFilterConfiguration") {
                let want = custom.get("CategoryValue").and_then(Value::as_str).unwrap_or_default();
                let x = v.unwrap_or_default();
                return match custom.get("MatchOperator").and_then(Value::as_str).unwrap_or("EQUALS") {
                    "DOES_NOT_EQUAL" => x != want,
                    "CONTAINS" => x.contains(want),
                    "DOES_NOT_CONTAIN" => !x.contains(want),
                    "STARTS_WITH" => x.starts_with(want),
                    "ENDS_WITH" => x.ends_with(want),
                    _ => x == want,
                };
            }
            true
        }
        "NumericRangeFilter" => {
            let Some(x) = v.as_deref().and_then(num) else { return false };
            let bound = |k: &str| f.pointer(&format!("/{k}/StaticValue")).and_then(Value::as_f64);
            let inc = |k: &str| f.get(k).and_then(Value::as_bool).unwrap_or(true);
            bound("RangeMinimum").is_none_or(|m| if inc("IncludeMinimum") { x >= m } else { x > m }) && bound("RangeMaximum").is_none_or(|m| if inc("IncludeMaximum") { x <= m } else { x < m })
        }
        "NumericEqualityFilter" => {
            let (Some(x), Some(want)) = (v.as_deref().and_then(num), f.get("Value").and_then(Value::as_f64)) else { return false };
            (x == want) != (f.get("MatchOperator").and_then(Value::as_str) == Some("DOES_NOT_EQUAL"))
        }
        "TimeRangeFilter" => {
            let Some(x) = v else { return false };
            let bound = |k: &str| f.pointer(&format!("/{k}/StaticValue")).and_then(|b| match b {
                Value::Number(n) => n.as_f64().and_then(|s| aws_smithy_types::DateTime::from_secs(s as i64).fmt(aws_smithy_types::date_time::Format::DateTime).ok()).map(|t| t.replace('T', " ").trim_end_matches('Z').to_string()),
                Value::String(s) => Some(s.replace('T', " ").trim_end_matches('Z').to_string()),
                _ => None,
            });
            let inc = |k: &str| f.get(k).and_then(Value::as_bool).unwrap_or(true);
            bound("RangeMinimumValue").is_none_or(|m| if inc("IncludeMinimum") { x.as_str() >= m.as_str() } else { x.as_str() > m.as_str() })
                && bound("RangeMaximumValue").is_none_or(|m| if inc("IncludeMaximum") { x.as_str() <= m.as_str() } else { x.as_str() < m.as_str() })
        }
        _ => true,
    }
}

/// The filters of `definition` that apply to `visual_id` on `sheet_id`.
fn filters_for(definition: &Value, sheet_id: &str, visual_id: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for g in definition.get("FilterGroups").and_then(Value::as_array).into_iter().flatten() {
        if g.get("Status").and_then(Value::as_str) == Some("DISABLED") {
            continue;
        }
        let scoped = g.pointer("/ScopeConfiguration/SelectedSheets/SheetVisualScopingConfigurations").and_then(Value::as_array).is_none_or(|scopes| {
            scopes.iter().any(|s| {
                s.get("SheetId").and_then(Value::as_str) == Some(sheet_id)
                    && (s.get("Scope").and_then(Value::as_str) != Some("SELECTED_VISUALS") || s.get("VisualIds").and_then(Value::as_array).is_some_and(|v| v.iter().any(|x| x.as_str() == Some(visual_id))))
            })
        }) || g.pointer("/ScopeConfiguration/AllSheets").is_some();
        if scoped {
            out.extend(g.get("Filters").and_then(Value::as_array).cloned().unwrap_or_default());
        }
    }
    out
}

/// One measure's running aggregate over a group.
#[derive(Default)]
struct Acc {
    count: u64,
    numbers: u64,
    sum: f64,
    min: f64,
    max: f64,
    distinct: Option<std::collections::HashSet<u32>>,
}

impl Acc {
    fn new(agg: &str) -> Acc {
        Acc { min: f64::INFINITY, max: f64::NEG_INFINITY, distinct: (agg == "DISTINCT_COUNT").then(Default::default), ..Default::default() }
    }

    /// One row's value: its dictionary code, whether it is non-null, and its number if it is one.
    fn add(&mut self, code: u32, present: bool, number: Option<f64>) {
        if !present {
            return;
        }
        self.count += 1;
        if let Some(d) = &mut self.distinct {
            d.insert(code);
        }
        if let Some(x) = number {
            self.numbers += 1;
            self.sum += x;
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
    }

    fn value(&self, agg: &str) -> Value {
        match agg {
            "COUNT" => json!(self.count),
            "DISTINCT_COUNT" => json!(self.distinct.as_ref().map_or(0, |d| d.len())),
            "AVERAGE" if self.numbers > 0 => number(self.sum / self.numbers as f64),
            "MIN" if self.numbers > 0 => number(self.min),
            "MAX" if self.numbers > 0 => number(self.max),
            "SUM" => number(self.sum),
            _ => Value::Null,
        }
    }
}

/// Computes one visual over a data set's rows, its filters applied. Filters, date granularities
/// and numbers are worked out once per distinct value; rows are then only codes.
pub fn compute(definition: &Value, sheet_id: &str, visual: &Value, table: &Table) -> Result<Data, String> {
    let (kind, id, title, dims, measures, raw) = wells(visual).ok_or("the visual is malformed")?;
    let col = |f: &Field| table.index(&f.column).ok_or_else(|| format!("the column {} is not in the data set", f.column));
    // Per filter: its column and which of that column's distinct values pass.
    let masks: Vec<(usize, Vec<bool>)> = filters_for(definition, sheet_id, &id)
        .iter()
        .filter_map(|f| {
            let c = filter_column(f, table)?;
            Some((c, table.columns[c].dict.iter().map(|v| passes(f, v.as_deref())).collect()))
        })
        .collect();
    let keep = |row: usize| masks.iter().all(|(c, pass)| pass[table.columns[*c].codes[row] as usize]);
    if !raw.is_empty() {
        let idx: Vec<usize> = raw.iter().map(col).collect::<Result<_, _>>()?;
        return Ok(Data {
            kind,
            title,
            columns: raw.iter().map(|f| f.column.clone()).collect(),
            rows: (0..table.rows).filter(|r| keep(*r)).map(|r| idx.iter().map(|i| table.value(*i, r).map_or(Value::Null, |v| Value::String(v.to_string()))).collect()).collect(),
        });
    }
    let dim_idx: Vec<usize> = dims.iter().map(col).collect::<Result<_, _>>()?;
    let measure_idx: Vec<usize> = measures.iter().map(col).collect::<Result<_, _>>()?;
    let aggs: Vec<&str> = measures.iter().map(|m| m.aggregation.as_deref().unwrap_or("SUM")).collect();
    // Per dimension: each distinct value's group label (after its date granularity), as an id.
    let mut labels: Vec<Vec<String>> = Vec::new();
    let mut label_of: Vec<Vec<u32>> = Vec::new();
    for (d, c) in dims.iter().zip(&dim_idx) {
        let mut names: Vec<String> = Vec::new();
        let mut ids: HashMap<String, u32> = HashMap::new();
        let of: Vec<u32> = table.columns[*c]
            .dict
            .iter()
            .map(|v| {
                let v = v.as_deref().unwrap_or("");
                let label = match &d.granularity {
                    Some(g) if !v.is_empty() => truncate(v, g),
                    _ => v.to_string(),
                };
                *ids.entry(label.clone()).or_insert_with(|| {
                    names.push(label);
                    names.len() as u32 - 1
                })
            })
            .collect();
        labels.push(names);
        label_of.push(of);
    }
    let numbers: Vec<Vec<Option<f64>>> = measure_idx.iter().map(|c| table.columns[*c].dict.iter().map(|v| v.as_deref().and_then(num)).collect()).collect();
    let mut groups: HashMap<Vec<u32>, Vec<Acc>> = HashMap::new();
    let mut single: Vec<Option<Vec<Acc>>> = if dims.len() == 1 { (0..labels[0].len()).map(|_| None).collect() } else { Vec::new() };
    for row in (0..table.rows).filter(|r| keep(*r)) {
        let accs = if dims.len() == 1 {
            let g = label_of[0][table.columns[dim_idx[0]].codes[row] as usize] as usize;
            single[g].get_or_insert_with(|| aggs.iter().map(|a| Acc::new(a)).collect())
        } else {
            let key: Vec<u32> = dim_idx.iter().zip(&label_of).map(|(c, of)| of[table.columns[*c].codes[row] as usize]).collect();
            groups.entry(key).or_insert_with(|| aggs.iter().map(|a| Acc::new(a)).collect())
        };
        for (m, acc) in accs.iter_mut().enumerate() {
            let code = table.columns[measure_idx[m]].codes[row];
            acc.add(code, table.columns[measure_idx[m]].dict[code as usize].is_some(), numbers[m][code as usize]);
        }
    }
    if dims.len() == 1 {
        groups = single.into_iter().enumerate().filter_map(|(g, a)| a.map(|a| (vec![g as u32], a))).collect();
    }
    if dims.is_empty() && groups.is_empty() {
        groups.insert(Vec::new(), aggs.iter().map(|a| Acc::new(a)).collect());
    }
    let rows: Vec<Vec<Value>> = groups
        .into_iter()
        .map(|(key, accs)| key.iter().enumerate().map(|(d, k)| Value::String(labels[d][*k as usize].clone())).chain(accs.iter().zip(&aggs).map(|(a, g)| a.value(g))).collect())
        .collect();
    Ok(finish(kind, title, &dims, &measures, rows))
}

/// Orders grouped rows as QuickSight draws them (pies and bars by value, then label; the rest by
/// their dimensions) and adds a pie's percentages.
fn finish(kind: String, title: Option<String>, dims: &[Field], measures: &[Field], mut out: Vec<Vec<Value>>) -> Data {
    let mut columns: Vec<String> = dims.iter().map(|d| d.column.clone()).collect();
    columns.extend(measures.iter().map(|m| m.column.clone()));
    let value_at = dims.len();
    let key = |r: &Vec<Value>| r[..value_at].iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect::<Vec<_>>();
    match kind.as_str() {
        "PieChartVisual" | "BarChartVisual" => out.sort_by(|a, b| {
            let (x, y) = (a.get(value_at).and_then(Value::as_f64).unwrap_or(0.0), b.get(value_at).and_then(Value::as_f64).unwrap_or(0.0));
            y.partial_cmp(&x).unwrap_or(std::cmp::Ordering::Equal).then_with(|| key(a).cmp(&key(b)))
        }),
        _ => out.sort_by_key(key),
    }
    if kind == "PieChartVisual" {
        let total: f64 = out.iter().filter_map(|r| r.get(value_at).and_then(Value::as_f64)).sum();
        for r in &mut out {
            let share = r.get(value_at).and_then(Value::as_f64).unwrap_or(0.0);
            r.push(if total > 0.0 { json!((share / total * 10_000.0).round() / 100.0) } else { json!(0) });
        }
        columns.push("percent".into());
    }
    Data { kind, title, columns, rows: out }
}

/// For a data set queried live: the visual as one aggregating SQL query over the data set's
/// query (dimensions grouped, measures aggregated, filters as WHERE), so Athena's engine does
/// the work. `None` when the visual or a filter has no SQL form here (then rows are read).
pub fn pushdown(definition: &Value, sheet_id: &str, visual: &Value, data_set_sql: &str) -> Option<(String, Box<dyn Fn(Vec<Vec<Option<String>>>) -> Data>)> {
    let (kind, id, title, dims, measures, raw) = wells(visual)?;
    if !raw.is_empty() || measures.is_empty() {
        return None;
    }
    let q = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
    let lit = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let mut select = Vec::new();
    for d in &dims {
        select.push(match d.granularity.as_deref() {
            None => format!("CAST({} AS varchar)", q(&d.column)),
            Some(g @ ("YEAR" | "QUARTER" | "MONTH" | "DAY" | "HOUR" | "MINUTE")) => format!("CAST(date_trunc('{}', {}) AS varchar)", g.to_ascii_lowercase(), q(&d.column)),
            Some(_) => return None,
        });
    }
    for m in &measures {
        let c = q(&m.column);
        select.push(match m.aggregation.as_deref().unwrap_or("SUM") {
            "COUNT" => format!("count({c})"),
            "DISTINCT_COUNT" => format!("count(DISTINCT {c})"),
            "SUM" => format!("sum(TRY_CAST({c} AS double))"),
            "AVERAGE" => format!("avg(TRY_CAST({c} AS double))"),
            "MIN" => format!("min(TRY_CAST({c} AS double))"),
            "MAX" => format!("max(TRY_CAST({c} AS double))"),
            _ => return None,
        });
    }
    let mut wheres = Vec::new();
    for f in filters_for(definition, sheet_id, &id) {
        let (k, body) = f.as_object()?.iter().next()?;
        let c = q(body.pointer("/Column/ColumnName")?.as_str()?);
        wheres.push(match k.as_str() {
            "CategoryFilter" => {
                let list = body.pointer("/Configuration/FilterListConfiguration")?;
                if list.get("SelectAllOptions").and_then(Value::as_str) == Some("FILTER_ALL_VALUES") {
                    continue;
                }
                let values: Vec<String> = list.get("CategoryValues")?.as_array()?.iter().filter_map(Value::as_str).map(lit).collect();
                let not = matches!(list.get("MatchOperator").and_then(Value::as_str), Some("DOES_NOT_CONTAIN" | "DOES_NOT_EQUAL"));
                if values.is_empty() {
                    (if not { "TRUE" } else { "FALSE" }).to_string()
                } else {
                    format!("CAST({c} AS varchar) {}IN ({})", if not { "NOT " } else { "" }, values.join(", "))
                }
            }
            "NumericRangeFilter" => {
                let mut parts = vec![format!("{c} IS NOT NULL")];
                if let Some(m) = body.pointer("/RangeMinimum/StaticValue").and_then(Value::as_f64) {
                    parts.push(format!("{c} {} {m}", if body.get("IncludeMinimum").and_then(Value::as_bool).unwrap_or(true) { ">=" } else { ">" }));
                }
                if let Some(m) = body.pointer("/RangeMaximum/StaticValue").and_then(Value::as_f64) {
                    parts.push(format!("{c} {} {m}", if body.get("IncludeMaximum").and_then(Value::as_bool).unwrap_or(true) { "<=" } else { "<" }));
                }
                parts.join(" AND ")
            }
            _ => return None,
        });
    }
    let group: Vec<String> = (1..=dims.len()).map(|i| i.to_string()).collect();
    let sql = format!(
        "SELECT {} FROM ({data_set_sql}) AS firelocal_visual{}{}",
        select.join(", "),
        if wheres.is_empty() { String::new() } else { format!(" WHERE {}", wheres.join(" AND ")) },
        if group.is_empty() { String::new() } else { format!(" GROUP BY {}", group.join(", ")) }
    );
    let n_dims = dims.len();
    let rebuild = move |rows: Vec<Vec<Option<String>>>| {
        let out = rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .enumerate()
                    .map(|(i, v)| match (i < n_dims, v) {
                        (true, v) => Value::String(v.unwrap_or_default()),
                        (false, Some(v)) => num(&v).map(number).unwrap_or(Value::Null),
                        (false, None) => Value::Null,
                    })
                    .collect()
            })
            .collect();
        finish(kind.clone(), title.clone(), &dims, &measures, out)
    };
    Some((sql, Box::new(rebuild)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let rows = [("nav", "3", "2024-03-05 10:00:00.000"), ("nav", "5", "2024-03-06 11:00:00.000"), ("search", "1", "2024-04-01 09:00:00.000"), ("cart", "7", "2024-04-02 09:00:00.000")];
        Table::from_rows(
            vec![("element".into(), "STRING".into()), ("spent".into(), "INTEGER".into()), ("at".into(), "DATETIME".into())],
            rows.iter().map(|(a, b, c)| vec![Some(a.to_string()), Some(b.to_string()), Some(c.to_string())]).collect(),
        )
    }

    fn dim(c: &str) -> Value {
        json!({"CategoricalDimensionField": {"FieldId": c, "Column": {"DataSetIdentifier": "clicks", "ColumnName": c}}})
    }

    #[test]
    fn pie_bar_line_kpi_and_filters() {
        let pie = json!({"PieChartVisual": {"VisualId": "pie", "ChartConfiguration": {"FieldWells": {"PieChartAggregatedFieldWells": {
            "Category": [dim("element")], "Values": [{"CategoricalMeasureField": {"FieldId": "n", "Column": {"DataSetIdentifier": "clicks", "ColumnName": "element"}, "AggregationFunction": "COUNT"}}]}}}}});
        let def = json!({"Sheets": [{"SheetId": "s", "Visuals": [pie.clone()]}]});
        let d = compute(&def, "s", &pie, &table()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.columns, vec!["element", "element", "percent"]);
        assert_eq!(d.rows, vec![vec![json!("nav"), json!(2), json!(50.0)], vec![json!("cart"), json!(1), json!(25.0)], vec![json!("search"), json!(1), json!(25.0)]]);
        let line = json!({"LineChartVisual": {"VisualId": "line", "ChartConfiguration": {"FieldWells": {"LineChartAggregatedFieldWells": {
            "Category": [{"DateDimensionField": {"FieldId": "at", "Column": {"DataSetIdentifier": "clicks", "ColumnName": "at"}, "DateGranularity": "MONTH"}}],
            "Values": [{"NumericalMeasureField": {"FieldId": "s", "Column": {"DataSetIdentifier": "clicks", "ColumnName": "spent"}, "AggregationFunction": {"SimpleNumericalAggregation": "AVERAGE"}}}]}}}}});
        let d = compute(&def, "s", &line, &table()).unwrap_or_default();
        assert_eq!(d.rows, vec![vec![json!("2024-03-01 00:00:00.000"), json!(4)], vec![json!("2024-04-01 00:00:00.000"), json!(4)]]);
        let filtered = json!({"Sheets": [], "FilterGroups": [{"FilterGroupId": "g", "Filters": [{"NumericRangeFilter": {"FilterId": "f", "Column": {"DataSetIdentifier": "clicks", "ColumnName": "spent"}, "RangeMinimum": {"StaticValue": 3}, "NullOption": "NON_NULLS_ONLY"}}],
            "ScopeConfiguration": {"SelectedSheets": {"SheetVisualScopingConfigurations": [{"SheetId": "s", "Scope": "ALL_VISUALS"}]}}}]});
        let kpi = json!({"KPIVisual": {"VisualId": "k", "ChartConfiguration": {"FieldWells": {"Values": [{"NumericalMeasureField": {"FieldId": "s", "Column": {"DataSetIdentifier": "clicks", "ColumnName": "spent"}, "AggregationFunction": {"SimpleNumericalAggregation": "SUM"}}}]}}}});
        assert_eq!(compute(&filtered, "s", &kpi, &table()).unwrap_or_default().rows, vec![vec![json!(15)]]);
        assert_eq!(compute(&def, "s", &kpi, &table()).unwrap_or_default().rows, vec![vec![json!(16)]]);
        let cols: HashMap<String, Vec<(String, String)>> = HashMap::from([("clicks".to_string(), table().schema())]);
        assert!(validate(&def, &cols).is_ok());
        let bad = json!({"Sheets": [{"SheetId": "s", "Visuals": [{"PieChartVisual": {"VisualId": "p2", "ChartConfiguration": {"FieldWells": {"PieChartAggregatedFieldWells": {"Category": [dim("nope")]}}}}}]}]});
        assert!(validate(&bad, &cols).is_err_and(|e| e.contains("p2") && e.contains("nope")));
        assert_eq!(truncate("2024-03-06 11:00:00.000", "WEEK"), "2024-03-03 00:00:00.000");
    }
}
