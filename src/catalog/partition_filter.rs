//! Partition filters of shared tables: `ALTER SHARE s ADD TABLE t PARTITION (country =
//! CURRENT_RECIPIENT('country')), (region LIKE 'EU%', year >= 2024)` lets each recipient see
//! only the files whose partition values match. A file qualifies if it matches any spec; within
//! a spec every condition must hold.
//!
//! A filter is stored as written (values may name a recipient property), resolved against
//! the reading recipient's properties, then bound to the partition columns of the snapshot
//! being read. The decision rests on a file's partition values alone, which are exact (unlike
//! the stats predicate hints use), so a file outside the filter is never listed to its reader.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// Any of the specs; a spec holds when all of its conditions do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionFilter {
    pub specs: Vec<Vec<Condition>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub column: String,
    pub test: Test,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    Compare(Op, Operand),
    /// SQL `LIKE`: `%` any run of characters, `_` one character, `\` escapes; case-sensitive.
    Like(Operand),
    /// `IS NULL`, or with `true` `IS NOT NULL`.
    IsNull {
        negated: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operand {
    Literal(String),
    /// `CURRENT_RECIPIENT('key')`: the reading recipient's property.
    Recipient(String),
}

impl Op {
    pub fn parse(symbol: &str) -> Option<Op> {
        Some(match symbol {
            "=" => Op::Eq,
            "<>" | "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            _ => return None,
        })
    }

    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "<>",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }

    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Op::Eq => ordering.is_eq(),
            Op::Ne => ordering.is_ne(),
            Op::Lt => ordering.is_lt(),
            Op::Le => ordering.is_le(),
            Op::Gt => ordering.is_gt(),
            Op::Ge => ordering.is_ge(),
        }
    }
}

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Back-quotes a column name unless it is a plain word.
fn column_name(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Literal(value) => f.write_str(&quoted(value)),
            Operand::Recipient(key) => write!(f, "CURRENT_RECIPIENT({})", quoted(key)),
        }
    }
}

/// The SQL of the clause after `PARTITION`, as `SHOW ALL IN SHARE` shows it; it parses back
/// to the same filter.
impl fmt::Display for PartitionFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let specs: Vec<String> = self
            .specs
            .iter()
            .map(|spec| {
                let conditions: Vec<String> = spec
                    .iter()
                    .map(|c| {
                        let column = column_name(&c.column);
                        match &c.test {
                            Test::Compare(op, value) => format!("{column} {} {value}", op.symbol()),
                            Test::Like(pattern) => format!("{column} LIKE {pattern}"),
                            Test::IsNull { negated: false } => format!("{column} IS NULL"),
                            Test::IsNull { negated: true } => format!("{column} IS NOT NULL"),
                        }
                    })
                    .collect();
                format!("({})", conditions.join(", "))
            })
            .collect();
        f.write_str(&specs.join(", "))
    }
}

/// The partition columns of a snapshot with their Delta types.
pub struct Partitioning {
    columns: Vec<(String, String)>,
}

impl Partitioning {
    /// From a snapshot's `partitionColumns` and `schemaString`.
    pub fn new(partition_columns: &[String], schema_string: &str) -> Partitioning {
        let schema: serde_json::Value = serde_json::from_str(schema_string).unwrap_or_default();
        let type_of = |column: &str| {
            schema["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|f| f["name"].as_str() == Some(column))
                .and_then(|f| f["type"].as_str())
                .unwrap_or("string")
                .to_string()
        };
        Partitioning {
            columns: partition_columns
                .iter()
                .map(|c| (c.clone(), type_of(c)))
                .collect(),
        }
    }

    /// The column (as the table spells it) and its kind; names compare case-insensitively.
    fn find(&self, name: &str) -> Result<(&str, Kind), String> {
        self.columns
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(name))
            .map(|(c, t)| (c.as_str(), Kind::of(t)))
            .ok_or_else(|| {
                let names: Vec<&str> = self.columns.iter().map(|(c, _)| c.as_str()).collect();
                match names.as_slice() {
                    [] => format!(
                        "a partition filter may only name partition columns, and the table has none (`{name}` is not one)"
                    ),
                    names => format!(
                        "a partition filter may only name partition columns: `{name}` is not one of {}",
                        names.join(", ")
                    ),
                }
            })
    }
}

/// How partition values of a column compare.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Integer,
    Decimal,
    Boolean,
    Date,
    Timestamp,
    Text,
}

impl Kind {
    fn of(delta_type: &str) -> Kind {
        match delta_type {
            "byte" | "short" | "integer" | "long" => Kind::Integer,
            "float" | "double" => Kind::Decimal,
            t if t.starts_with("decimal") => Kind::Decimal,
            "boolean" => Kind::Boolean,
            "date" => Kind::Date,
            "timestamp" | "timestamp_ntz" => Kind::Timestamp,
            _ => Kind::Text,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Integer => "an integer",
            Kind::Decimal => "a number",
            Kind::Boolean => "true or false",
            Kind::Date => "a date (YYYY-MM-DD)",
            Kind::Timestamp => "a timestamp (YYYY-MM-DD HH:MM:SS)",
            Kind::Text => "text",
        }
    }

    /// A value as this kind orders it; `None` when it is not one.
    fn value(self, text: &str) -> Option<Value> {
        let text = text.trim_ascii();
        Some(match self {
            Kind::Integer => Value::Integer(text.parse().ok()?),
            Kind::Decimal => Value::Decimal(text.parse().ok().filter(|x: &f64| x.is_finite())?),
            Kind::Boolean => Value::Integer(match text.to_ascii_lowercase().as_str() {
                "true" => 1,
                "false" => 0,
                _ => return None,
            }),
            Kind::Date => Value::Date(NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?),
            Kind::Timestamp => Value::Timestamp(
                [
                    "%Y-%m-%d %H:%M:%S%.f",
                    "%Y-%m-%dT%H:%M:%S%.fZ",
                    "%Y-%m-%dT%H:%M:%S%.f",
                ]
                .iter()
                .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
                .or_else(|| {
                    NaiveDate::parse_from_str(text, "%Y-%m-%d")
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                })?,
            ),
            Kind::Text => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Value {
    Integer(i64),
    Decimal(f64),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
}

impl PartitionFilter {
    /// The recipient properties the filter reads.
    pub fn property_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> =
            self.specs
                .iter()
                .flatten()
                .filter_map(|c| match &c.test {
                    Test::Compare(_, Operand::Recipient(key))
                    | Test::Like(Operand::Recipient(key)) => Some(key.as_str()),
                    _ => None,
                })
                .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// Checks the filter against a table's partitioning: only its partition columns are
    /// named, and each literal is a value of its column's type.
    pub fn check(&self, partitioning: &Partitioning) -> Result<(), String> {
        for condition in self.specs.iter().flatten() {
            let (column, kind) = partitioning.find(&condition.column)?;
            if let Test::Compare(op, Operand::Literal(value)) = &condition.test
                && !matches!(op, Op::Eq | Op::Ne)
                && kind != Kind::Text
                && kind.value(value).is_none()
            {
                return Err(format!(
                    "'{value}' is not {} (the type of partition column `{column}`)",
                    kind.name()
                ));
            }
        }
        Ok(())
    }

    /// The filter with the recipient's properties in place of `CURRENT_RECIPIENT('key')`,
    /// and the keys it lacks (left in place: conditions on them hold for no file).
    fn resolve(&self, properties: &BTreeMap<String, String>) -> (PartitionFilter, Vec<String>) {
        let mut missing = Vec::new();
        let mut resolved = self.clone();
        for condition in resolved.specs.iter_mut().flatten() {
            if let Test::Compare(_, operand) | Test::Like(operand) = &mut condition.test
                && let Operand::Recipient(key) = operand
            {
                match properties.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
                    Some((_, value)) => *operand = Operand::Literal(value.clone()),
                    None if !missing.contains(key) => missing.push(key.clone()),
                    None => {}
                }
            }
        }
        (resolved, missing)
    }

    /// What a recipient with these properties reads through: the clause with its values, and
    /// the properties it lacks.
    pub fn describe_for(&self, properties: &BTreeMap<String, String>) -> String {
        let (resolved, missing) = self.resolve(properties);
        describe(&resolved, &missing)
    }

    /// The filter one recipient reads through (see [`PartitionFilter::describe_for`]), bound
    /// to the snapshot's partition columns. Fails when the filter names a column that is not
    /// (or no longer) a partition column.
    pub fn bind(
        &self,
        properties: &BTreeMap<String, String>,
        partitioning: &Partitioning,
    ) -> Result<FileFilter, String> {
        let (resolved, missing) = self.resolve(properties);
        // A property the recipient lacks is left as `CURRENT_RECIPIENT`: no value.
        let literal = |operand: &Operand| match operand {
            Operand::Literal(value) => Some(value.clone()),
            Operand::Recipient(_) => None,
        };
        let mut specs = Vec::with_capacity(resolved.specs.len());
        for spec in &resolved.specs {
            let mut bound = Vec::with_capacity(spec.len());
            for condition in spec {
                let (column, kind) = partitioning.find(&condition.column)?;
                // Values and patterns are read once here, not for every file.
                let test = match &condition.test {
                    Test::Compare(op, operand) => BoundTest::Compare(
                        *op,
                        literal(operand).map(|text| Wanted {
                            value: kind.value(&text),
                            text,
                        }),
                    ),
                    Test::Like(operand) => {
                        BoundTest::Like(literal(operand).map(|p| Pattern::compile(&p)))
                    }
                    Test::IsNull { negated } => BoundTest::IsNull(*negated),
                };
                bound.push(BoundCondition {
                    column: column.to_string(),
                    kind,
                    test,
                });
            }
            specs.push(bound);
        }
        Ok(FileFilter {
            specs,
            shown: describe(&resolved, &missing),
        })
    }
}

/// A resolved filter as text, naming the properties the recipient lacks.
fn describe(resolved: &PartitionFilter, missing: &[String]) -> String {
    if missing.is_empty() {
        return resolved.to_string();
    }
    let missing: Vec<String> = missing.iter().map(|k| quoted(k)).collect();
    format!(
        "{resolved} (the recipient has no property {}: conditions on it hold for no file)",
        missing.join(", ")
    )
}

/// A partition filter as one recipient reads through it: see [`PartitionFilter::bind`].
#[derive(Debug, Clone)]
pub struct FileFilter {
    specs: Vec<Vec<BoundCondition>>,
    /// What the ledger records of it.
    shown: String,
}

#[derive(Debug, Clone)]
struct BoundCondition {
    column: String,
    kind: Kind,
    test: BoundTest,
}

/// A value `None` is a recipient property the reader lacks: the condition never holds.
#[derive(Debug, Clone)]
enum BoundTest {
    Compare(Op, Option<Wanted>),
    Like(Option<Pattern>),
    IsNull(bool),
}

/// The value a condition compares with: as written, and as the column's type orders it.
#[derive(Debug, Clone)]
struct Wanted {
    text: String,
    value: Option<Value>,
}

impl FileFilter {
    /// Whether a file with these partition values (`None`: null) is visible.
    pub fn matches(&self, values: &BTreeMap<String, Option<String>>) -> bool {
        self.specs.iter().any(|spec| {
            spec.iter().all(|c| {
                let value = values.get(&c.column).and_then(|v| v.as_deref());
                c.holds(value)
            })
        })
    }
}

impl BoundCondition {
    fn holds(&self, value: Option<&str>) -> bool {
        match (&self.test, value) {
            (BoundTest::IsNull(negated), value) => value.is_some() == *negated,
            // SQL: a comparison with null is never true.
            (_, None) | (BoundTest::Compare(_, None) | BoundTest::Like(None), _) => false,
            (BoundTest::Like(Some(pattern)), Some(value)) => pattern.matches(value),
            (BoundTest::Compare(op, Some(wanted)), Some(value)) => {
                let ordering = match (self.kind.value(value), &wanted.value) {
                    (Some(a), Some(b)) => a.partial_cmp(b),
                    // Text, or a value not of the column's type: compared as written.
                    _ if self.kind == Kind::Text || matches!(op, Op::Eq | Op::Ne) => {
                        Some(value.cmp(wanted.text.as_str()))
                    }
                    _ => None,
                };
                ordering.is_some_and(|o| op.holds(o))
            }
        }
    }
}

/// The effective filter, as the ledger records it.
impl fmt::Display for FileFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// An SQL `LIKE` pattern without regular expressions: `%` matches any run, `_` one
/// character, `\` makes the next character literal.
#[derive(Debug, Clone)]
struct Pattern(Vec<Part>);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    Any,
    One,
    Char(char),
}

impl Pattern {
    fn compile(pattern: &str) -> Pattern {
        let mut parts = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            parts.push(match c {
                '%' => Part::Any,
                '_' => Part::One,
                '\\' => Part::Char(chars.next().unwrap_or('\\')),
                c => Part::Char(c),
            });
        }
        Pattern(parts)
    }

    /// Greedy matching with one backtrack point, the last `%` seen; positions in `value` are
    /// byte offsets on character boundaries.
    fn matches(&self, value: &str) -> bool {
        let parts = &self.0;
        let next_len = |at: usize| value[at..].chars().next().map_or(1, char::len_utf8);
        let (mut v, mut p) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while v < value.len() {
            let c = value[v..].chars().next().expect("v is below the length");
            match parts.get(p) {
                Some(Part::Any) => {
                    star = Some((p, v));
                    p += 1;
                }
                Some(Part::One) => {
                    v += c.len_utf8();
                    p += 1;
                }
                Some(Part::Char(wanted)) if *wanted == c => {
                    v += c.len_utf8();
                    p += 1;
                }
                _ => match star {
                    Some((star_p, star_v)) => {
                        p = star_p + 1;
                        v = star_v + next_len(star_v);
                        star = Some((star_p, v));
                    }
                    None => return false,
                },
            }
        }
        parts[p..].iter().all(|part| *part == Part::Any)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(specs: Vec<Vec<(&str, Test)>>) -> PartitionFilter {
        PartitionFilter {
            specs: specs
                .into_iter()
                .map(|spec| {
                    spec.into_iter()
                        .map(|(column, test)| Condition {
                            column: column.into(),
                            test,
                        })
                        .collect()
                })
                .collect(),
        }
    }

    fn like(value: &str, pattern: &str) -> bool {
        Pattern::compile(pattern).matches(value)
    }

    fn lit(value: &str) -> Operand {
        Operand::Literal(value.into())
    }

    fn partitioning() -> Partitioning {
        let schema = r#"{"type":"struct","fields":[
            {"name":"country_code","type":"string","nullable":true,"metadata":{}},
            {"name":"year","type":"integer","nullable":true,"metadata":{}},
            {"name":"day","type":"date","nullable":true,"metadata":{}},
            {"name":"amount","type":"double","nullable":true,"metadata":{}}]}"#;
        Partitioning::new(
            &["country_code".into(), "year".into(), "day".into()],
            schema,
        )
    }

    fn values(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    }

    #[test]
    fn a_file_matches_any_spec_whose_conditions_all_hold() {
        let f = filter(vec![
            vec![
                ("country_code", Test::Compare(Op::Eq, lit("FR"))),
                ("year", Test::Compare(Op::Ge, lit("2024"))),
            ],
            vec![("COUNTRY_CODE", Test::Compare(Op::Eq, lit("DE")))],
        ])
        .bind(&BTreeMap::new(), &partitioning())
        .unwrap();
        let file = |c, y| values(&[("country_code", Some(c)), ("year", Some(y))]);
        assert!(f.matches(&file("FR", "2024")));
        assert!(f.matches(&file("FR", "2031")));
        // 999 < 2024 as a number, though not as text.
        assert!(!f.matches(&file("FR", "999")));
        assert!(!f.matches(&file("FR", "2023")));
        assert!(f.matches(&file("DE", "1990")));
        assert!(!f.matches(&file("IT", "2024")));
    }

    #[test]
    fn recipient_properties_fill_in_values_and_a_missing_one_matches_nothing() {
        let f = filter(vec![vec![(
            "country_code",
            Test::Compare(Op::Eq, Operand::Recipient("country".into())),
        )]]);
        assert_eq!(f.property_keys(), ["country"]);
        let fr = BTreeMap::from([("Country".to_string(), "FR".to_string())]);
        let bound = f.bind(&fr, &partitioning()).unwrap();
        assert!(bound.matches(&values(&[("country_code", Some("FR"))])));
        assert!(!bound.matches(&values(&[("country_code", Some("DE"))])));
        assert_eq!(bound.to_string(), "(country_code = 'FR')");
        let nothing = f.bind(&BTreeMap::new(), &partitioning()).unwrap();
        assert!(!nothing.matches(&values(&[("country_code", Some("FR"))])));
        assert!(!nothing.matches(&values(&[("country_code", None)])));
        assert_eq!(
            nothing.to_string(),
            "(country_code = CURRENT_RECIPIENT('country')) (the recipient has no property 'country': conditions on it hold for no file)"
        );
    }

    #[test]
    fn nulls_only_match_is_null() {
        let ne = filter(vec![vec![(
            "country_code",
            Test::Compare(Op::Ne, lit("FR")),
        )]])
        .bind(&BTreeMap::new(), &partitioning())
        .unwrap();
        assert!(!ne.matches(&values(&[("country_code", None)])));
        assert!(ne.matches(&values(&[("country_code", Some("DE"))])));
        let is_null = filter(vec![vec![(
            "country_code",
            Test::IsNull { negated: false },
        )]])
        .bind(&BTreeMap::new(), &partitioning())
        .unwrap();
        assert!(is_null.matches(&values(&[("country_code", None)])));
        assert!(is_null.matches(&values(&[])));
        assert!(!is_null.matches(&values(&[("country_code", Some("FR"))])));
    }

    #[test]
    fn dates_compare_as_dates_and_like_matches_patterns() {
        let f = filter(vec![vec![
            ("day", Test::Compare(Op::Lt, lit("2024-03-01"))),
            ("country_code", Test::Like(lit("E_%"))),
        ]])
        .bind(&BTreeMap::new(), &partitioning())
        .unwrap();
        let file = |d, c| values(&[("day", Some(d)), ("country_code", Some(c))]);
        assert!(f.matches(&file("2024-02-29", "ES")));
        assert!(f.matches(&file("2024-02-29", "EE-north")));
        assert!(!f.matches(&file("2024-03-01", "ES")));
        assert!(!f.matches(&file("2024-02-01", "E")));
        assert!(like("100%", "100\\%"));
        assert!(!like("1000", "100\\%"));
        assert!(like("abc", "%"));
        assert!(like("", "%"));
        assert!(!like("abc", "a_"));
        assert!(like("banana", "%an%na"));
        assert!(like("Zürich-été", "Z_rich-%é"));
    }

    #[test]
    fn only_partition_columns_and_values_of_their_type_are_accepted() {
        let amount = filter(vec![vec![("amount", Test::Compare(Op::Eq, lit("1")))]]);
        let error = amount.check(&partitioning()).unwrap_err();
        assert!(
            error.contains("`amount` is not one of country_code, year, day"),
            "{error}"
        );
        assert!(amount.bind(&BTreeMap::new(), &partitioning()).is_err());
        let bad_year = filter(vec![vec![("year", Test::Compare(Op::Gt, lit("soon")))]]);
        let error = bad_year.check(&partitioning()).unwrap_err();
        assert!(error.contains("not an integer"), "{error}");
    }

    #[test]
    fn the_clause_prints_as_sql() {
        let f = filter(vec![
            vec![
                (
                    "country_code",
                    Test::Compare(Op::Eq, Operand::Recipient("country".into())),
                ),
                ("year", Test::Compare(Op::Ne, lit("2020"))),
            ],
            vec![("odd name", Test::IsNull { negated: true })],
        ]);
        assert_eq!(
            f.to_string(),
            "(country_code = CURRENT_RECIPIENT('country'), year <> '2020'), (`odd name` IS NOT NULL)"
        );
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(serde_json::from_str::<PartitionFilter>(&json).unwrap(), f);
    }
}
