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
mod tests {
    use super::*;
    use serde_json::json;

    fn column(name: &str, ty: &str) -> Value {
        json!({"op": "column", "name": name, "valueType": ty})
    }

    fn literal(value: &str, ty: &str) -> Value {
        json!({"op": "literal", "value": value, "valueType": ty})
    }

    fn cmp(op: &str, name: &str, ty: &str, value: &str) -> Value {
        json!({"op": op, "children": [column(name, ty), literal(value, ty)]})
    }

    fn is_null(name: &str, ty: &str) -> Value {
        json!({"op": "isNull", "children": [column(name, ty)]})
    }

    fn not(kid: Value) -> Value {
        json!({"op": "not", "children": [kid]})
    }

    fn and(kids: Vec<Value>) -> Value {
        json!({"op": "and", "children": kids})
    }

    fn or(kids: Vec<Value>) -> Value {
        json!({"op": "or", "children": kids})
    }

    fn parse(tree: &Value) -> Predicate {
        Predicate::parse(&tree.to_string()).expect("valid predicate")
    }

    fn parts(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    }

    fn on_parts(tree: &Value, pairs: &[(&str, Option<&str>)]) -> Tri {
        let partition_values = parts(pairs);
        let file = FileFacts {
            partition_values: &partition_values,
            stats: None,
        };
        eval(&parse(tree).root, false, &file)
    }

    fn on_stats(tree: &Value, stats: &Value) -> Tri {
        let partition_values = BTreeMap::new();
        let file = FileFacts {
            partition_values: &partition_values,
            stats: Some(stats),
        };
        let result = eval(&parse(tree).root, false, &file);
        assert_eq!(parse(tree).may_match(&file), result != Tri::False);
        result
    }

    /// Stats for one column `name` over `rows` records.
    fn stats(name: &str, min: Value, max: Value, nulls: u64, rows: u64) -> Value {
        json!({
            "numRecords": rows,
            "minValues": {(name): min},
            "maxValues": {(name): max},
            "nullCount": {(name): nulls},
        })
    }

    use Tri::{False as F, True as T, Unknown as U};

    #[test]
    fn partition_int_comparisons_are_exact() {
        let p = [("year", Some("2021"))];
        let cases = [
            ("equal", "2021", T),
            ("equal", "2020", F),
            ("lessThan", "2021", F),
            ("lessThan", "2022", T),
            ("lessThanOrEqual", "2021", T),
            ("lessThanOrEqual", "2020", F),
            ("greaterThan", "2021", F),
            ("greaterThan", "2020", T),
            ("greaterThanOrEqual", "2021", T),
            ("greaterThanOrEqual", "2022", F),
        ];
        for (op, v, want) in cases {
            assert_eq!(on_parts(&cmp(op, "year", "int", v), &p), want, "{op} {v}");
        }
        // Numeric, not textual, order.
        assert_eq!(on_parts(&cmp("lessThan", "year", "long", "10000"), &p), T);
        // Literal on the left: 2022 > year.
        let tree = json!({"op": "greaterThan", "children": [literal("2022", "int"), column("year", "int")]});
        assert_eq!(on_parts(&tree, &p), T);
    }

    #[test]
    fn partition_string_and_date() {
        let p = [("country", Some("DE")), ("day", Some("2021-04-29"))];
        assert_eq!(on_parts(&cmp("equal", "country", "string", "DE"), &p), T);
        assert_eq!(on_parts(&cmp("equal", "country", "string", "FR"), &p), F);
        assert_eq!(on_parts(&cmp("lessThan", "country", "string", "E"), &p), T);
        assert_eq!(on_parts(&cmp("equal", "day", "date", "2021-04-29"), &p), T);
        assert_eq!(
            on_parts(&cmp("greaterThan", "day", "date", "2021-04-29"), &p),
            F
        );
        let range = and(vec![
            cmp("greaterThanOrEqual", "day", "date", "2021-04-01"),
            cmp("lessThan", "day", "date", "2021-05-01"),
        ]);
        assert_eq!(on_parts(&range, &p), T);
        assert_eq!(on_parts(&range, &[("day", Some("2021-05-01"))]), F);
        // Case-insensitive column names.
        assert_eq!(on_parts(&cmp("equal", "COUNTRY", "string", "DE"), &p), T);
    }

    #[test]
    fn partition_timestamp_formats() {
        let eq = cmp("equal", "ts", "timestamp", "2021-04-28T12:00:00Z");
        assert_eq!(on_parts(&eq, &[("ts", Some("2021-04-28 12:00:00"))]), T);
        assert_eq!(
            on_parts(&eq, &[("ts", Some("2021-04-28 12:00:00.000001"))]),
            F
        );
        assert_eq!(
            on_parts(&eq, &[("ts", Some("2021-04-28T14:00:00+02:00"))]),
            T
        );
        let lt = cmp("lessThan", "ts", "timestamp", "2021-04-28T12:00:00.5+00:00");
        assert_eq!(on_parts(&lt, &[("ts", Some("2021-04-28 12:00:00.4"))]), T);
    }

    #[test]
    fn null_partition_values() {
        for null in [None, Some("")] {
            let p = [("country", null)];
            // Comparisons with null are unknown: keep the file.
            assert_eq!(on_parts(&cmp("equal", "country", "string", "DE"), &p), U);
            assert_eq!(
                on_parts(&not(cmp("equal", "country", "string", "DE")), &p),
                U
            );
            // isNull is exact.
            assert_eq!(on_parts(&is_null("country", "string"), &p), T);
            assert_eq!(on_parts(&not(is_null("country", "string")), &p), F);
        }
        let p = [("country", Some("DE"))];
        assert_eq!(on_parts(&is_null("country", "string"), &p), F);
        assert_eq!(on_parts(&not(is_null("country", "string")), &p), T);
    }

    #[test]
    fn boolean_logic_over_partitions() {
        let p = [("year", Some("2021")), ("country", Some("DE"))];
        let year = |v: &str| cmp("equal", "year", "int", v);
        let country = |v: &str| cmp("equal", "country", "string", v);
        assert_eq!(on_parts(&and(vec![year("2021"), country("DE")]), &p), T);
        assert_eq!(on_parts(&and(vec![year("2021"), country("FR")]), &p), F);
        assert_eq!(on_parts(&or(vec![year("2020"), country("DE")]), &p), T);
        assert_eq!(on_parts(&or(vec![year("2020"), country("FR")]), &p), F);
        // `not` over partition columns is exact in both directions.
        assert_eq!(on_parts(&not(year("2021")), &p), F);
        assert_eq!(on_parts(&not(year("2020")), &p), T);
        assert_eq!(on_parts(&not(not(year("2021"))), &p), T);
        assert_eq!(
            on_parts(&not(and(vec![year("2021"), country("FR")])), &p),
            T
        );
        assert_eq!(on_parts(&not(or(vec![year("2020"), country("DE")])), &p), F);
        // IN list as Spark sends it.
        let in_list = or(vec![year("2019"), year("2020"), year("2021")]);
        assert_eq!(on_parts(&in_list, &p), T);
        assert_eq!(on_parts(&not(in_list), &p), F);
        // One child is accepted leniently.
        assert_eq!(on_parts(&and(vec![year("2020")]), &p), F);
    }

    #[test]
    fn unknown_parts_only_decide_when_the_rest_cannot() {
        let p = [("year", Some("2021"))];
        let missing = cmp("equal", "nope", "int", "1");
        let no = cmp("equal", "year", "int", "2020");
        let yes = cmp("equal", "year", "int", "2021");
        assert_eq!(on_parts(&missing, &p), U);
        assert_eq!(on_parts(&and(vec![missing.clone(), no.clone()]), &p), F);
        assert_eq!(on_parts(&and(vec![missing.clone(), yes.clone()]), &p), U);
        assert_eq!(on_parts(&or(vec![missing.clone(), no.clone()]), &p), U);
        assert_eq!(on_parts(&or(vec![missing.clone(), yes]), &p), T);
        assert_eq!(on_parts(&not(missing), &p), U);
        // A partition value that does not parse as the type proves nothing.
        assert_eq!(on_parts(&no, &[("year", Some("abc"))]), U);
    }

    #[test]
    fn not_of_a_range_keeps_files_with_matching_rows() {
        // The known bug of another server: A in [2, 10] holds rows with A < 7.
        let tree = not(cmp("greaterThanOrEqual", "A", "int", "7"));
        assert_eq!(on_stats(&tree, &stats("A", json!(2), json!(10), 0, 5)), U);
        assert_eq!(on_stats(&tree, &stats("A", json!(7), json!(10), 0, 5)), F);
        assert_eq!(on_stats(&tree, &stats("A", json!(2), json!(6), 0, 5)), T);
        // Nulls never satisfy `not (A >= 7)` either.
        assert_eq!(on_stats(&tree, &stats("A", json!(7), json!(10), 3, 5)), F);
        let ne = not(cmp("equal", "A", "int", "7"));
        assert_eq!(on_stats(&ne, &stats("A", json!(2), json!(10), 0, 5)), U);
        assert_eq!(on_stats(&ne, &stats("A", json!(7), json!(7), 2, 5)), F);
        assert_eq!(on_stats(&ne, &stats("A", json!(8), json!(10), 0, 5)), T);
    }

    #[test]
    fn stats_of_another_type_than_the_hint_are_not_used() {
        let schema = r#"{"type":"struct","fields":[
            {"name":"id","type":"long","nullable":true,"metadata":{}},
            {"name":"code","type":"string","nullable":true,"metadata":{}},
            {"name":"s","type":{"type":"struct","fields":[{"name":"n","type":"integer","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}}]}"#;
        let stats_id = json!({"numRecords": 3, "minValues": {"id": 5, "code": "1", "s": {"n": 5}},
                              "maxValues": {"id": 10, "code": "9", "s": {"n": 10}}, "nullCount": {"id": 0, "code": 0}});
        let check = |tree: Value| {
            let mut p = parse(&tree);
            p.bind_schema(schema);
            let parts = BTreeMap::new();
            p.may_match(&FileFacts {
                partition_values: &parts,
                stats: Some(&stats_id),
            })
        };
        // CAST(id AS STRING) = '7': "10" < "7" as text, yet id 7 may be there.
        assert!(check(cmp("equal", "id", "string", "7")));
        // CAST(code AS INT) = 10: code "10" sorts between "1" and "9".
        assert!(check(cmp("equal", "code", "int", "10")));
        // Matching types still prune, nested fields included.
        assert!(!check(cmp("equal", "id", "long", "11")));
        assert!(!check(cmp("greaterThan", "s.n", "int", "10")));
        // Columns missing from the schema are never pruned on.
        assert!(check(cmp("equal", "nope", "long", "11")));
    }

    #[test]
    fn long_stats() {
        let s = stats("id", json!(10), json!(20), 0, 100);
        let cases = [
            ("equal", "9", F),
            ("equal", "10", U),
            ("equal", "21", F),
            ("lessThan", "10", F),
            ("lessThan", "11", U),
            ("lessThan", "21", T),
            ("lessThanOrEqual", "9", F),
            ("lessThanOrEqual", "10", U),
            ("lessThanOrEqual", "20", T),
            ("greaterThan", "20", F),
            ("greaterThan", "19", U),
            ("greaterThan", "9", T),
            ("greaterThanOrEqual", "21", F),
            ("greaterThanOrEqual", "20", U),
            ("greaterThanOrEqual", "10", T),
        ];
        for (op, v, want) in cases {
            assert_eq!(on_stats(&cmp(op, "id", "long", v), &s), want, "{op} {v}");
        }
        // Every row equal only without nulls.
        let point = cmp("equal", "id", "long", "5");
        assert_eq!(on_stats(&point, &stats("id", json!(5), json!(5), 0, 3)), T);
        assert_eq!(on_stats(&point, &stats("id", json!(5), json!(5), 1, 3)), U);
        // Nulls never satisfy a comparison, so they do not hold a file back.
        let lt = cmp("lessThan", "id", "long", "10");
        assert_eq!(on_stats(&lt, &stats("id", json!(10), json!(20), 7, 100)), F);
    }

    #[test]
    fn double_stats() {
        let s = stats("x", json!(-1.5), json!(2.25), 0, 10);
        assert_eq!(on_stats(&cmp("lessThan", "x", "double", "-1.5"), &s), F);
        assert_eq!(on_stats(&cmp("lessThan", "x", "double", "-1.4"), &s), U);
        assert_eq!(on_stats(&cmp("greaterThan", "x", "double", "2.25"), &s), F);
        assert_eq!(
            on_stats(&cmp("greaterThanOrEqual", "x", "double", "2.5"), &s),
            F
        );
        assert_eq!(on_stats(&cmp("equal", "x", "double", "3"), &s), F);
        assert_eq!(
            on_stats(&cmp("lessThanOrEqual", "x", "double", "2.25"), &s),
            T
        );
        // NaN proves nothing.
        assert_eq!(on_stats(&cmp("equal", "x", "double", "NaN"), &s), U);
        assert_eq!(
            on_stats(
                &cmp("greaterThan", "x", "double", "3"),
                &stats("x", json!(1), json!("NaN"), 0, 3)
            ),
            U
        );
        // A float column cast to double: stats text 0.1 may stand for 0.1f32 > 0.1f64.
        let cast = cmp("greaterThan", "x", "double", "0.1000000001");
        assert_eq!(
            on_stats(&cast, &stats("x", json!(0.0), json!(0.1), 0, 3)),
            U
        );
        assert_eq!(on_parts(&cast, &[("x", Some("0.1"))]), U);
        // A float literal compares at single precision.
        let float = cmp("equal", "x", "float", "0.1");
        assert_eq!(on_parts(&float, &[("x", Some("0.1"))]), U);
        assert_eq!(on_parts(&float, &[("x", Some("0.2"))]), F);
    }

    #[test]
    fn string_stats_with_truncated_max() {
        let s = stats("name", json!("bob"), json!("mike"), 0, 10);
        assert_eq!(on_stats(&cmp("equal", "name", "string", "alice"), &s), F);
        assert_eq!(on_stats(&cmp("lessThan", "name", "string", "bob"), &s), F);
        assert_eq!(
            on_stats(&cmp("lessThanOrEqual", "name", "string", "bob"), &s),
            U
        );
        assert_eq!(on_stats(&cmp("equal", "name", "string", "zed"), &s), F);
        assert_eq!(
            on_stats(&cmp("greaterThan", "name", "string", "zed"), &s),
            F
        );
        assert_eq!(
            on_stats(&cmp("greaterThanOrEqual", "name", "string", "n"), &s),
            F
        );
        // "mike" may be a truncated "mikey...": values extending the max may exist.
        assert_eq!(on_stats(&cmp("equal", "name", "string", "mikey"), &s), U);
        assert_eq!(
            on_stats(&cmp("greaterThan", "name", "string", "mike"), &s),
            U
        );
        assert_eq!(
            on_stats(&cmp("greaterThanOrEqual", "name", "string", "mikez"), &s),
            U
        );
        assert_eq!(on_stats(&cmp("equal", "name", "string", "mike"), &s), U);
        // Nor is min == max a proof that every value is equal.
        let point = stats("name", json!("ab"), json!("ab"), 0, 3);
        assert_eq!(
            on_stats(&not(cmp("equal", "name", "string", "ab")), &point),
            U
        );
        assert_eq!(on_stats(&cmp("equal", "name", "string", "abc"), &point), U);
        // Byte order: "Z" < "a".
        assert_eq!(on_stats(&cmp("lessThan", "name", "string", "Z"), &s), F);
    }

    #[test]
    fn date_and_timestamp_stats() {
        let d = stats("day", json!("2021-04-01"), json!("2021-04-30"), 0, 10);
        assert_eq!(
            on_stats(&cmp("lessThan", "day", "date", "2021-04-01"), &d),
            F
        );
        assert_eq!(
            on_stats(&cmp("greaterThan", "day", "date", "2021-04-30"), &d),
            F
        );
        assert_eq!(on_stats(&cmp("equal", "day", "date", "2021-04-15"), &d), U);
        assert_eq!(
            on_stats(&cmp("lessThan", "day", "date", "2021-05-01"), &d),
            T
        );

        let t = stats(
            "ts",
            json!("2021-04-28T12:00:00.000Z"),
            json!("2021-04-28T14:00:00.000+02:00"),
            0,
            10,
        );
        let ts = |op: &str, v: &str| on_stats(&cmp(op, "ts", "timestamp", v), &t);
        assert_eq!(ts("lessThan", "2021-04-28T12:00:00Z"), F);
        assert_eq!(ts("lessThan", "2021-04-28T12:00:00.000001Z"), U);
        assert_eq!(ts("greaterThan", "2021-04-28T12:00:01Z"), F);
        assert_eq!(ts("equal", "2021-04-28T11:59:59.999999Z"), F);
        // The max is truncated to milliseconds: 12:00:00.000999 may be present.
        assert_eq!(ts("greaterThan", "2021-04-28T12:00:00.000500Z"), U);
        assert_eq!(ts("greaterThanOrEqual", "2021-04-28T12:00:00.000999Z"), U);
        assert_eq!(ts("greaterThanOrEqual", "2021-04-28T12:00:00.001Z"), F);
    }

    #[test]
    fn is_null_from_stats() {
        let tree = is_null("x", "long");
        let not_null = not(is_null("x", "long"));
        let none = stats("x", json!(1), json!(2), 0, 10);
        let some = stats("x", json!(1), json!(2), 4, 10);
        let all = json!({"numRecords": 10, "nullCount": {"x": 10}});
        assert_eq!(on_stats(&tree, &none), F);
        assert_eq!(on_stats(&tree, &some), U);
        assert_eq!(on_stats(&tree, &all), T);
        assert_eq!(on_stats(&not_null, &none), T);
        assert_eq!(on_stats(&not_null, &some), U);
        assert_eq!(on_stats(&not_null, &all), F);
        // Comparisons on an all-null column have no bounds and keep the file.
        assert_eq!(on_stats(&cmp("equal", "x", "long", "1"), &all), U);
        // No null count: unknown.
        let bare = json!({"numRecords": 10, "minValues": {"x": 1}, "maxValues": {"x": 2}});
        assert_eq!(on_stats(&tree, &bare), U);
        assert_eq!(on_stats(&not_null, &bare), U);
    }

    #[test]
    fn nested_and_case_insensitive_stats_columns() {
        let s = json!({
            "numRecords": 3,
            "minValues": {"a": {"b": 5}, "a.c": 1, "Mixed": 1},
            "maxValues": {"a": {"b": 9}, "a.c": 2, "Mixed": 2},
            "nullCount": {"a": {"b": 0}, "a.c": 0, "Mixed": 0},
        });
        assert_eq!(on_stats(&cmp("lessThan", "a.b", "int", "5"), &s), F);
        assert_eq!(on_stats(&cmp("lessThan", "a.b", "int", "6"), &s), U);
        assert_eq!(on_stats(&cmp("greaterThan", "A.B", "int", "9"), &s), F);
        assert_eq!(on_stats(&cmp("greaterThan", "a.c", "int", "2"), &s), F);
        assert_eq!(on_stats(&cmp("equal", "mixed", "int", "3"), &s), F);
        // A struct is not a value.
        assert_eq!(on_stats(&cmp("equal", "a", "int", "3"), &s), U);
        // An exact match wins; ambiguous case-insensitive names decide nothing.
        let twice =
            json!({"numRecords": 1, "minValues": {"X": 1, "x": 5}, "maxValues": {"X": 1, "x": 5}});
        assert_eq!(on_stats(&cmp("equal", "x", "int", "1"), &twice), F);
        assert_eq!(on_stats(&cmp("equal", "X", "int", "5"), &twice), F);
        let ambiguous = json!({"numRecords": 1, "minValues": {"AB": 1, "Ab": 5}, "maxValues": {"AB": 1, "Ab": 5}});
        assert_eq!(on_stats(&cmp("equal", "ab", "int", "3"), &ambiguous), U);
    }

    #[test]
    fn missing_or_unusable_stats_keep_the_file() {
        let tree = cmp("equal", "id", "long", "1");
        let none = BTreeMap::new();
        let file = FileFacts {
            partition_values: &none,
            stats: None,
        };
        assert!(parse(&tree).may_match(&file));
        // Unknown column.
        assert_eq!(
            on_stats(&tree, &stats("other", json!(5), json!(9), 0, 3)),
            U
        );
        // Stats values that do not parse as the type.
        assert_eq!(
            on_stats(&tree, &stats("id", json!("x"), json!("y"), 0, 3)),
            U
        );
        assert_eq!(
            on_stats(&tree, &stats("id", json!(null), json!(2.5), 0, 3)),
            U
        );
        // Either bound alone still proves what it can.
        let only_min = json!({"numRecords": 3, "minValues": {"id": 5}});
        assert_eq!(on_stats(&tree, &only_min), F);
    }

    #[test]
    fn needs_stats() {
        let cols = vec!["Year".to_string()];
        assert!(!parse(&cmp("equal", "year", "int", "1")).needs_stats(&cols));
        let mixed = and(vec![
            cmp("equal", "year", "int", "1"),
            not(is_null("id", "long")),
        ]);
        assert!(parse(&mixed).needs_stats(&cols));
        assert!(parse(&mixed).needs_stats(&[]));
    }

    #[test]
    fn malformed_hints_disable_filtering() {
        let year = cmp("equal", "year", "int", "1");
        let bad = [
            "".to_string(),
            "not json".to_string(),
            "[]".to_string(),
            "\"equal\"".to_string(),
            json!({"op": "xor", "children": [year.clone(), year.clone()]}).to_string(),
            json!({"op": "and", "children": []}).to_string(),
            json!({"op": "and", "children": year.clone()}).to_string(),
            json!({"op": "not", "children": [year.clone(), year.clone()]}).to_string(),
            json!({"op": "equal", "children": [column("year", "int")]}).to_string(),
            json!({"op": "equal", "children": [column("year", "int"), year.clone()]}).to_string(),
            json!({"op": "isNull", "children": [literal("1", "int")]}).to_string(),
            cmp("equal", "year", "decimal", "1").to_string(),
            cmp("equal", "year", "int", "one").to_string(),
            cmp("equal", "year", "date", "2021-13-01").to_string(),
            cmp("equal", "year", "timestamp", "yesterday").to_string(),
            cmp("equal", "", "int", "1").to_string(),
            // Type mismatch between the two sides.
            json!({"op": "equal", "children": [column("year", "int"), literal("1", "string")]})
                .to_string(),
            json!({"op": "equal", "children": [column("year", "date"), literal("2021-01-01T00:00:00Z", "timestamp")]})
                .to_string(),
            json!({"op": "column", "name": "flag", "valueType": "bool"}).to_string(),
        ];
        for json in bad {
            assert!(Predicate::parse(&json).is_none(), "{json}");
        }
        // Compatible widths mix.
        let mixed =
            json!({"op": "equal", "children": [column("x", "float"), literal("1", "double")]});
        assert!(Predicate::parse(&mixed.to_string()).is_some());
        let mixed = json!({"op": "equal", "children": [column("x", "int"), literal("1", "long")]});
        assert!(Predicate::parse(&mixed.to_string()).is_some());
        // Bare JSON numbers as literal values are accepted.
        let bare = json!({"op": "equal", "children": [column("x", "int"), {"op": "literal", "value": 3, "valueType": "int"}]});
        assert_eq!(on_parts(&bare, &[("x", Some("3"))]), T);
        let flag =
            json!({"op": "equal", "children": [column("b", "bool"), literal("true", "bool")]});
        assert_eq!(on_parts(&flag, &[("b", Some("false"))]), F);
    }

    #[test]
    fn depth_and_size_limits() {
        // `not` nodes wrapping one comparison: depth = nots + 2 (comparison and its leaves).
        // Checked on the tree itself: serde_json's own limit of 128 nested JSON values (two per
        // node, object and `children` array) already rejects such texts at about 63 nodes.
        let nested = |nots: usize| (0..nots).fold(cmp("equal", "x", "int", "1"), |t, _| not(t));
        assert!(parse_node(&nested(98), 1).is_some());
        assert!(parse_node(&nested(99), 1).is_none());
        assert!(Predicate::parse(&nested(60).to_string()).is_some());
        assert!(Predicate::parse(&nested(98).to_string()).is_none());

        let big = or(vec![cmp("equal", "x", "string", &"a".repeat(1000)); 1100]);
        let json = big.to_string();
        assert!(json.len() > MAX_JSON_LEN);
        assert!(Predicate::parse(&json).is_none());
        let fits = or(vec![cmp("equal", "x", "string", &"a".repeat(1000)); 900]);
        let json = fits.to_string();
        assert!(json.len() > 1_000_000 && json.len() <= MAX_JSON_LEN);
        assert!(Predicate::parse(&json).is_some());
    }

    #[test]
    fn reference_example() {
        let json = r#"{"op":"and","children":[{"op":"equal","children":[{"op":"column","name":"hireDate","valueType":"date"},{"op":"literal","value":"2021-04-29","valueType":"date"}]},{"op":"lessThan","children":[{"op":"column","name":"id","valueType":"int"},{"op":"literal","value":"25","valueType":"int"}]}]}"#;
        let p = Predicate::parse(json).unwrap();
        let hit = parts(&[("hireDate", Some("2021-04-29"))]);
        let miss = parts(&[("hireDate", Some("2021-04-30"))]);
        let ids = stats("id", json!(30), json!(40), 0, 10);
        let file = |pv, stats| FileFacts {
            partition_values: pv,
            stats,
        };
        assert!(p.needs_stats(&["hireDate".to_string()]));
        assert!(p.may_match(&file(&hit, None)));
        assert!(!p.may_match(&file(&miss, None)));
        assert!(!p.may_match(&file(&hit, Some(&ids))));
    }
}
