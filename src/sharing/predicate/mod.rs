//! Evaluator for Delta Sharing `jsonPredicateHints`, used to skip data files.
//!
//! Filtering is best effort: clients re-apply every predicate, so the only hard rule is that a
//! file which could hold a matching row is never dropped. Whatever cannot be proven keeps the
//! file, and a malformed hint disables filtering instead of failing the request.
//!
//! Evaluation is three-valued per file: `False` means no row can satisfy the predicate, `True`
//! means every row does, `Unknown` keeps the file. `not` is pushed down to the leaves (De Morgan,
//! flipped comparisons) rather than applied to a per-file result, because "not (some rows may
//! match)" is not "no rows match".

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::Value;

/// Same limits as the reference server: beyond them the hint is ignored. serde_json's own limit
/// of 128 nested JSON values (two per node: the object and its `children`) rejects trees deeper
/// than about 63 nodes first, which also just disables filtering.
const MAX_JSON_LEN: usize = 1 << 20;
const MAX_DEPTH: usize = 100;

/// Delta writes timestamp stats with millisecond precision, truncating microseconds, so the real
/// maximum may be up to this much above the recorded one.
const TIMESTAMP_MAX_SLACK_MICROS: i64 = 999;

/// A parsed predicate hint; `None` from `parse` means: do not filter at all.
pub struct Predicate {
    root: Node,
}

/// What the evaluator may know about one data file.
pub struct FileFacts<'a> {
    /// Logical partition column name -> value (None = null), for partitioned tables.
    pub partition_values: &'a BTreeMap<String, Option<String>>,
    /// The file's parsed stats JSON, if it has any.
    pub stats: Option<&'a Value>,
}

impl Predicate {
    /// Parses the jsonPredicateHints string; None when it is malformed or too large/deep.
    pub fn parse(json: &str) -> Option<Predicate> {
        if json.len() > MAX_JSON_LEN {
            return None;
        }
        let value: Value = serde_json::from_str(json).ok()?;
        Some(Predicate {
            root: parse_node(&value, 1)?,
        })
    }

    /// True when evaluating needs the file stats (some referenced column is not in `partition_columns`).
    pub fn needs_stats(&self, partition_columns: &[String]) -> bool {
        let mut columns = Vec::new();
        self.root.columns(&mut columns);
        columns
            .iter()
            .any(|c| find_key(partition_columns.iter().map(|p| (p, &())), &c.name).is_none())
    }

    /// Checks the hint's types against the table schema (`schemaString`): stats of a column
    /// whose type differs from the hint's `valueType` (a cast, in Spark's terms) are not used.
    pub fn bind_schema(&mut self, schema_string: &str) {
        let mut types = Vec::new();
        if let Ok(schema) = serde_json::from_str::<Value>(schema_string) {
            collect_field_types(&schema, "", &mut types);
        }
        let mut columns = Vec::new();
        self.root.columns_mut(&mut columns);
        for column in columns {
            let delta_type = find_key(types.iter().map(|(k, v)| (k, v)), &column.name);
            column.stats_comparable = delta_type.is_some_and(|t| column.ty.matches_delta_type(t));
        }
    }

    /// False only when the file certainly holds no row matching the predicate.
    pub fn may_match(&self, file: &FileFacts<'_>) -> bool {
        eval(&self.root, false, file) != Tri::False
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Tri {
    True,
    False,
    Unknown,
}

impl Tri {
    /// The proof of `False` wins: both can only hold together for an empty file.
    fn from(false_if: bool, true_if: bool) -> Tri {
        if false_if {
            Tri::False
        } else if true_if {
            Tri::True
        } else {
            Tri::Unknown
        }
    }
}

enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    IsNull(Column),
    Cmp(Op, Leaf, Leaf),
}

enum Leaf {
    Column(Column),
    Literal(Val),
}

struct Column {
    name: String,
    ty: Ty,
    /// Whether the column's min/max stats may be compared as `ty`: only when the table
    /// schema gives the column a type of the same kind (see [`Predicate::bind_schema`]).
    /// Stats of another type order differently (`"10" < "7"` as text) and would drop files.
    stats_comparable: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Ty {
    Bool,
    /// `int` and `long`.
    Int,
    Float,
    Double,
    Str,
    Date,
    Timestamp,
}

impl Ty {
    fn parse(name: &str) -> Option<Ty> {
        Some(match name {
            "bool" => Ty::Bool,
            "int" | "long" => Ty::Int,
            "float" => Ty::Float,
            "double" => Ty::Double,
            "string" => Ty::Str,
            "date" => Ty::Date,
            "timestamp" => Ty::Timestamp,
            _ => return None,
        })
    }

    /// Whether a Delta column of `delta_type` holds values ordered like this type.
    fn matches_delta_type(self, delta_type: &str) -> bool {
        matches!(
            (self, delta_type),
            (Ty::Bool, "boolean")
                | (Ty::Int, "byte" | "short" | "integer" | "long")
                | (Ty::Float | Ty::Double, "float" | "double")
                | (Ty::Str, "string")
                | (Ty::Date, "date")
                | (Ty::Timestamp, "timestamp" | "timestamp_ntz")
        )
    }

    /// Types whose values can be compared with each other.
    fn class(self) -> Ty {
        match self {
            Ty::Double => Ty::Float,
            ty => ty,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Val {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Date(NaiveDate),
    /// Microseconds since the epoch, UTC.
    Timestamp(i64),
}

/// `None` for NaN and for values of different types: neither proves anything.
fn compare(a: &Val, b: &Val) -> Option<Ordering> {
    match (a, b) {
        (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
        (Val::Int(a), Val::Int(b)) => Some(a.cmp(b)),
        (Val::Float(a), Val::Float(b)) => a.partial_cmp(b),
        (Val::Str(a), Val::Str(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (Val::Date(a), Val::Date(b)) => Some(a.cmp(b)),
        (Val::Timestamp(a), Val::Timestamp(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Eq,
    /// Only produced by negating `equal`.
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn parse(name: &str) -> Option<Op> {
        Some(match name {
            "equal" => Op::Eq,
            "lessThan" => Op::Lt,
            "lessThanOrEqual" => Op::Le,
            "greaterThan" => Op::Gt,
            "greaterThanOrEqual" => Op::Ge,
            _ => return None,
        })
    }

    /// `not (a op b)` for non-null operands; with a null operand both sides are null, which
    /// matches no row either way.
    fn negate(self) -> Op {
        match self {
            Op::Eq => Op::Ne,
            Op::Ne => Op::Eq,
            Op::Lt => Op::Ge,
            Op::Le => Op::Gt,
            Op::Gt => Op::Le,
            Op::Ge => Op::Lt,
        }
    }

    /// The same comparison with its operands swapped (`5 < a` is `a > 5`).
    fn mirror(self) -> Op {
        match self {
            Op::Lt => Op::Gt,
            Op::Le => Op::Ge,
            Op::Gt => Op::Lt,
            Op::Ge => Op::Le,
            op => op,
        }
    }
}

fn parse_node(v: &Value, depth: usize) -> Option<Node> {
    if depth > MAX_DEPTH {
        return None;
    }
    let kids: &[Value] = match v.get("children") {
        None => &[],
        Some(Value::Array(kids)) => kids,
        Some(_) => return None,
    };
    let op = v.get("op")?.as_str()?;
    Some(match (op, kids) {
        // The spec wants two or more children; one is harmless.
        ("and" | "or", [_, ..]) => {
            let nodes = kids
                .iter()
                .map(|k| parse_node(k, depth + 1))
                .collect::<Option<Vec<_>>>()?;
            if op == "and" {
                Node::And(nodes)
            } else {
                Node::Or(nodes)
            }
        }
        ("not", [kid]) => Node::Not(Box::new(parse_node(kid, depth + 1)?)),
        ("isNull", [kid]) => match parse_leaf(kid, depth + 1)? {
            (Leaf::Column(c), _) => Node::IsNull(c),
            _ => return None,
        },
        (_, [left, right]) => {
            let op = Op::parse(op)?;
            let (left, left_ty) = parse_leaf(left, depth + 1)?;
            let (right, right_ty) = parse_leaf(right, depth + 1)?;
            if left_ty.class() != right_ty.class() {
                return None;
            }
            Node::Cmp(op, left, right)
        }
        _ => return None,
    })
}

fn parse_leaf(v: &Value, depth: usize) -> Option<(Leaf, Ty)> {
    if depth > MAX_DEPTH {
        return None;
    }
    let ty = Ty::parse(v.get("valueType")?.as_str()?)?;
    match v.get("op")?.as_str()? {
        "column" => {
            let name = v.get("name")?.as_str()?;
            if name.is_empty() {
                return None;
            }
            let name = name.to_owned();
            Some((
                Leaf::Column(Column {
                    name,
                    ty,
                    stats_comparable: true,
                }),
                ty,
            ))
        }
        // The spec sends literals as strings; accept bare JSON numbers and booleans too.
        "literal" => Some((
            Leaf::Literal(parse_text(ty, &json_text(v.get("value")?)?)?),
            ty,
        )),
        _ => None,
    }
}

/// Parses a literal, partition value or stats value rendered as text.
fn parse_text(ty: Ty, s: &str) -> Option<Val> {
    Some(match ty {
        Ty::Bool => match s.to_ascii_lowercase().as_str() {
            "true" => Val::Bool(true),
            "false" => Val::Bool(false),
            _ => return None,
        },
        Ty::Int => Val::Int(s.parse().ok()?),
        // A float literal compares at single precision, as Spark does.
        Ty::Float => Val::Float(s.parse::<f32>().ok()?.into()),
        Ty::Double => Val::Float(s.parse().ok()?),
        Ty::Str => Val::Str(s.to_owned()),
        Ty::Date => Val::Date(NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?),
        Ty::Timestamp => Val::Timestamp(parse_timestamp(s)?),
    })
}

fn parse_timestamp(s: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_micros());
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.timestamp_micros());
    }
    // Delta partition values (`YYYY-MM-DD HH:MM:SS[.ffffff]`) carry no zone and are UTC.
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.and_utc().timestamp_micros())
}

/// The least and greatest value a column value written as `s` may be. A float column's text
/// may stand for a single or a double precision number (a hint may cast a float column to
/// double), so take both readings.
fn text_bounds(ty: Ty, s: &str) -> Option<(Val, Val)> {
    if ty.class() == Ty::Float {
        let double: f64 = s.parse().ok()?;
        let single: f64 = s.parse::<f32>().ok()?.into();
        return Some((
            Val::Float(double.min(single)),
            Val::Float(double.max(single)),
        ));
    }
    let v = parse_text(ty, s)?;
    Some((v.clone(), v))
}

fn json_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Exact name first, else the only case-insensitive match (Spark resolves columns that way).
fn find_key<'m, V: 'm>(
    entries: impl Iterator<Item = (&'m String, &'m V)>,
    name: &str,
) -> Option<&'m V> {
    let lower = name.to_lowercase();
    let (mut found, mut ambiguous) = (None, false);
    for (key, value) in entries {
        if key == name {
            return Some(value);
        }
        if key.to_lowercase() == lower {
            ambiguous |= found.is_some();
            found = Some(value);
        }
    }
    if ambiguous { None } else { found }
}

/// `name` in a stats object; `a.b` is field `b` of struct `a` unless a key `a.b` exists.
fn lookup<'v>(obj: Option<&'v Value>, name: &str) -> Option<&'v Value> {
    let map = obj?.as_object()?;
    if let Some(v) = find_key(map.iter(), name) {
        return Some(v);
    }
    let (head, rest) = name.split_once('.')?;
    lookup(find_key(map.iter(), head), rest)
}

/// What one file says about the values of one column.
struct Bounds {
    min: Option<Val>,
    max: Option<Val>,
    /// A string max in stats may be a truncated prefix of the real maximum.
    max_is_prefix: bool,
    no_nulls: bool,
    all_null: bool,
}

impl FileFacts<'_> {
    fn bounds(&self, col: &Column) -> Option<Bounds> {
        if let Some(value) = find_key(self.partition_values.iter(), &col.name) {
            // Delta also writes a null partition value as an empty string.
            let Some(text) = value.as_deref().filter(|s| !s.is_empty()) else {
                return Some(Bounds {
                    min: None,
                    max: None,
                    max_is_prefix: false,
                    no_nulls: false,
                    all_null: true,
                });
            };
            let (min, max) = text_bounds(col.ty, text)?;
            return Some(Bounds {
                min: Some(min),
                max: Some(max),
                max_is_prefix: false,
                no_nulls: true,
                all_null: false,
            });
        }
        if !col.stats_comparable {
            return None;
        }
        let stats = self.stats?;
        let min = lookup(stats.get("minValues"), &col.name);
        let max = lookup(stats.get("maxValues"), &col.name);
        let nulls = lookup(stats.get("nullCount"), &col.name);
        if min.is_none() && max.is_none() && nulls.is_none() {
            return None;
        }
        let bound = |v: Option<&Value>| text_bounds(col.ty, &json_text(v?)?);
        let max = bound(max).map(|(_, max)| match max {
            Val::Timestamp(t) => Val::Timestamp(t.saturating_add(TIMESTAMP_MAX_SLACK_MICROS)),
            max => max,
        });
        let nulls = nulls.and_then(Value::as_u64);
        let rows = stats.get("numRecords").and_then(Value::as_u64);
        Some(Bounds {
            min: bound(min).map(|(min, _)| min),
            max,
            max_is_prefix: col.ty == Ty::Str,
            no_nulls: nulls == Some(0),
            all_null: nulls.is_some() && nulls == rows,
        })
    }
}

impl Bounds {
    fn is_null(&self, negated: bool) -> Tri {
        if negated {
            Tri::from(self.all_null, self.no_nulls)
        } else {
            Tri::from(self.no_nulls, self.all_null)
        }
    }

    /// `column op v` over the file. Comparisons with null match no row, but like the reference
    /// server we keep such files (missing min/max gives `Unknown`).
    fn compare(&self, op: Op, v: &Val) -> Tri {
        let min = self.min.as_ref().and_then(|m| compare(m, v));
        let max = self.max.as_ref().and_then(|m| compare(m, v));
        let min_gt = min == Some(Ordering::Greater);
        let min_ge = matches!(min, Some(Ordering::Greater | Ordering::Equal));
        // Whether every value is < v, and <= v. A truncated string max only bounds the values
        // that do not start with it: `v` above the max must not extend it.
        let (all_lt, all_le) = match (&self.max, v) {
            (Some(Val::Str(m)), Val::Str(s)) if self.max_is_prefix => {
                let below = max == Some(Ordering::Less) && !s.starts_with(m.as_str());
                (below, below)
            }
            _ => (
                max == Some(Ordering::Less),
                matches!(max, Some(Ordering::Less | Ordering::Equal)),
            ),
        };
        let point =
            !self.max_is_prefix && min == Some(Ordering::Equal) && max == Some(Ordering::Equal);
        let n = self.no_nulls;
        match op {
            Op::Eq => Tri::from(min_gt || all_lt, point && n),
            Op::Ne => Tri::from(point, (min_gt || all_lt) && n),
            Op::Lt => Tri::from(min_ge, all_lt && n),
            Op::Le => Tri::from(min_gt, all_le && n),
            Op::Gt => Tri::from(all_le, min_gt && n),
            Op::Ge => Tri::from(all_lt, min_ge && n),
        }
    }
}

/// `(path, primitive type)` of every field of a Delta schema; struct fields as `a.b`.
fn collect_field_types(schema: &Value, prefix: &str, out: &mut Vec<(String, String)>) {
    for field in schema["fields"].as_array().into_iter().flatten() {
        let Some(name) = field["name"].as_str() else {
            continue;
        };
        let path = format!("{prefix}{name}");
        match &field["type"] {
            Value::String(t) => out.push((path, t.clone())),
            nested if nested["type"] == "struct" => {
                collect_field_types(nested, &format!("{path}."), out)
            }
            _ => {}
        }
    }
}

impl Node {
    fn columns_mut<'n>(&'n mut self, out: &mut Vec<&'n mut Column>) {
        match self {
            Node::And(kids) | Node::Or(kids) => kids.iter_mut().for_each(|k| k.columns_mut(out)),
            Node::Not(kid) => kid.columns_mut(out),
            Node::IsNull(c) => out.push(c),
            Node::Cmp(_, left, right) => {
                for leaf in [left, right] {
                    if let Leaf::Column(c) = leaf {
                        out.push(c);
                    }
                }
            }
        }
    }

    fn columns<'n>(&'n self, out: &mut Vec<&'n Column>) {
        match self {
            Node::And(kids) | Node::Or(kids) => kids.iter().for_each(|k| k.columns(out)),
            Node::Not(kid) => kid.columns(out),
            Node::IsNull(c) => out.push(c),
            Node::Cmp(_, left, right) => {
                for leaf in [left, right] {
                    if let Leaf::Column(c) = leaf {
                        out.push(c);
                    }
                }
            }
        }
    }
}

/// Evaluates `node`, or `not node` when `negated`, pushing the negation down to the leaves.
fn eval(node: &Node, negated: bool, file: &FileFacts<'_>) -> Tri {
    match node {
        Node::And(kids) | Node::Or(kids) => {
            let results = kids.iter().map(|k| eval(k, negated, file));
            // De Morgan: `not (a and b)` is `not a or not b`.
            if matches!(node, Node::And(_)) != negated {
                all(results)
            } else {
                any(results)
            }
        }
        Node::Not(kid) => eval(kid, !negated, file),
        Node::IsNull(c) => file.bounds(c).map_or(Tri::Unknown, |b| b.is_null(negated)),
        Node::Cmp(op, left, right) => {
            let op = if negated { op.negate() } else { *op };
            match (left, right) {
                (Leaf::Column(c), Leaf::Literal(v)) => {
                    file.bounds(c).map_or(Tri::Unknown, |b| b.compare(op, v))
                }
                (Leaf::Literal(v), Leaf::Column(c)) => file
                    .bounds(c)
                    .map_or(Tri::Unknown, |b| b.compare(op.mirror(), v)),
                // Column-to-column and constant comparisons are not worth proving anything.
                _ => Tri::Unknown,
            }
        }
    }
}

fn all(results: impl Iterator<Item = Tri>) -> Tri {
    let mut acc = Tri::True;
    for r in results {
        match r {
            Tri::False => return Tri::False,
            Tri::Unknown => acc = Tri::Unknown,
            Tri::True => {}
        }
    }
    acc
}

fn any(results: impl Iterator<Item = Tri>) -> Tri {
    let mut acc = Tri::False;
    for r in results {
        match r {
            Tri::True => return Tri::True,
            Tri::Unknown => acc = Tri::Unknown,
            Tri::False => {}
        }
    }
    acc
}

#[cfg(test)]
mod tests;
