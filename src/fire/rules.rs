//! Quality rules derived from a FIRE entity: one named expectation per (column, kind), as the
//! Databricks accelerator's second generation names them (`` [`id`] NULLABLE ``,
//! `` [`currency_code`] VALUE ``, `SIZE`, `LENGTH`, `MATCH`), with a SQL-like expression and a
//! message for people. Every rule but NULLABLE lets a null through: only `required` makes a
//! column mandatory. Bounds of zero are bounds. Nested object fields get paths; array
//! elements are never checked (rules are per row).

use super::schema::{Entity, Field, Kind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    Nullable,
    Value,
    Length,
    Size,
    Match,
    /// `oneOf` of required lists: exactly one of the columns is present.
    OneOf,
    /// `dependencies`: a present column needs others.
    Dependency,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Nullable => "NULLABLE",
            RuleKind::Value => "VALUE",
            RuleKind::Length => "LENGTH",
            RuleKind::Size => "SIZE",
            RuleKind::Match => "MATCH",
            RuleKind::OneOf => "ONEOF",
            RuleKind::Dependency => "DEPENDENCY",
        }
    }
}

/// What a rule checks of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    NotNull,
    OneOf(Vec<String>),
    Range {
        min: Option<f64>,
        max: Option<f64>,
    },
    /// Characters of a string.
    Length {
        min: Option<u64>,
        max: Option<u64>,
    },
    /// Elements of an array.
    Size {
        min: Option<u64>,
        max: Option<u64>,
    },
    Pattern(String),
    /// Exactly one of these columns is not null.
    ExactlyOne(Vec<String>),
    /// When the rule's column is not null, these are not null either.
    Requires(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// `` [`col`] KIND ``.
    pub name: String,
    /// The column, with the names of the objects it is nested in first.
    pub path: Vec<String>,
    pub kind: RuleKind,
    pub check: Check,
    /// SQL-like, as a Delta Live Tables expectation would state it.
    pub expression: String,
    /// For people: "id is mandatory".
    pub message: String,
}

/// Every expectation of `entity`, in schema order.
pub fn expectations(entity: &Entity) -> Vec<Expectation> {
    let mut found = Vec::new();
    for field in &entity.fields {
        field_rules(field, &[], &mut found);
    }
    if !entity.exactly_one_of.is_empty() {
        let columns = &entity.exactly_one_of;
        let quoted: Vec<String> = columns
            .iter()
            .map(|c| quote(std::slice::from_ref(c)))
            .collect();
        found.push(Expectation {
            name: format!("[{}] ONEOF", quoted.join(", ")),
            path: vec![columns[0].clone()],
            kind: RuleKind::OneOf,
            check: Check::ExactlyOne(columns.clone()),
            expression: format!(
                "{} = 1",
                quoted
                    .iter()
                    .map(|q| format!("(CASE WHEN {q} IS NULL THEN 0 ELSE 1 END)"))
                    .collect::<Vec<_>>()
                    .join(" + ")
            ),
            message: format!("exactly one of {} must be given", columns.join(", ")),
        });
    }
    for (column, needs) in &entity.dependencies {
        let c = quote(std::slice::from_ref(column));
        let needed: Vec<String> = needs
            .iter()
            .map(|n| format!("{} IS NOT NULL", quote(std::slice::from_ref(n))))
            .collect();
        found.push(Expectation {
            name: format!("[{c}] DEPENDENCY"),
            path: vec![column.clone()],
            kind: RuleKind::Dependency,
            check: Check::Requires(needs.clone()),
            expression: format!("{c} IS NULL OR ({})", needed.join(" AND ")),
            message: format!("{column} needs {}", needs.join(", ")),
        });
    }
    found
}

fn quote(path: &[String]) -> String {
    path.iter()
        .map(|p| format!("`{}`", p.replace('`', "``")))
        .collect::<Vec<_>>()
        .join(".")
}

/// A bound as the accelerator prints it: always with a decimal point (`0.0`, `1.0`).
fn bound(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.1}")
    } else {
        x.to_string()
    }
}

/// `BETWEEN a AND b`, `>= a` or `<= b`; `None` without bounds.
fn between<T>(min: Option<T>, max: Option<T>, show: impl Fn(T) -> String) -> Option<String> {
    match (min, max) {
        (Some(a), Some(b)) => Some(format!("BETWEEN {} AND {}", show(a), show(b))),
        (Some(a), None) => Some(format!(">= {}", show(a))),
        (None, Some(b)) => Some(format!("<= {}", show(b))),
        (None, None) => None,
    }
}

/// "between 0 and 1", "at least 1", "at most 20".
fn bounds_text<T: std::fmt::Display>(min: Option<T>, max: Option<T>) -> String {
    match (min, max) {
        (Some(a), Some(b)) if a.to_string() == b.to_string() => format!("exactly {a}"),
        (Some(a), Some(b)) => format!("between {a} and {b}"),
        (Some(a), None) => format!("at least {a}"),
        (None, Some(b)) => format!("at most {b}"),
        (None, None) => String::new(),
    }
}

/// "at least 1 element", "between 2 and 5 elements": `bounds_text` with its noun, which
/// agrees with the last number said.
fn count_text(min: Option<u64>, max: Option<u64>, noun: &str) -> String {
    let plural = if max.or(min) == Some(1) { "" } else { "s" };
    format!("{} {noun}{plural}", bounds_text(min, max))
}

fn field_rules(field: &Field, parents: &[String], found: &mut Vec<Expectation>) {
    let mut path = parents.to_vec();
    path.push(field.name.clone());
    let c = quote(&path);
    let label = path.join(".");
    let mut push = |kind: RuleKind, check: Check, expression: String, message: String| {
        found.push(Expectation {
            name: format!("[{c}] {}", kind.as_str()),
            path: path.clone(),
            kind,
            check,
            expression,
            message,
        })
    };
    if field.required {
        push(
            RuleKind::Nullable,
            Check::NotNull,
            format!("{c} IS NOT NULL"),
            format!("{label} is mandatory"),
        );
    }
    match field.kind {
        Kind::String | Kind::DateTime => {
            if let Some(values) = &field.enumeration {
                let listed: Vec<String> = values
                    .iter()
                    .map(|v| format!("'{}'", v.replace('\'', "''")))
                    .collect();
                push(
                    RuleKind::Value,
                    Check::OneOf(values.clone()),
                    format!("{c} IS NULL OR {c} IN ({})", listed.join(", ")),
                    format!("{label} must be one of {} values", values.len()),
                );
            }
            if let Some(test) = between(field.min_length, field.max_length, |n| n.to_string()) {
                push(
                    RuleKind::Length,
                    Check::Length {
                        min: field.min_length,
                        max: field.max_length,
                    },
                    format!("{c} IS NULL OR LENGTH({c}) {test}"),
                    format!(
                        "{label} must be {} long",
                        count_text(field.min_length, field.max_length, "character")
                    ),
                );
            }
            if let Some(pattern) = &field.pattern {
                push(
                    RuleKind::Match,
                    Check::Pattern(pattern.clone()),
                    format!("{c} IS NULL OR {c} RLIKE '{}'", pattern.replace('\'', "''")),
                    format!("{label} must match {pattern}"),
                );
            }
        }
        Kind::Integer | Kind::Number => {
            if let Some(test) = between(field.minimum, field.maximum, bound) {
                push(
                    RuleKind::Value,
                    Check::Range {
                        min: field.minimum,
                        max: field.maximum,
                    },
                    format!("{c} IS NULL OR {c} {test}"),
                    format!(
                        "{label} must be {}",
                        bounds_text(field.minimum, field.maximum)
                    ),
                );
            }
        }
        Kind::Array => {
            if let Some(test) = between(field.min_items, field.max_items, |n| n.to_string()) {
                push(
                    RuleKind::Size,
                    Check::Size {
                        min: field.min_items,
                        max: field.max_items,
                    },
                    format!("{c} IS NULL OR SIZE({c}) {test}"),
                    format!(
                        "{label} must hold {}",
                        count_text(field.min_items, field.max_items, "element")
                    ),
                );
            }
        }
        Kind::Object => {
            for child in &field.fields {
                field_rules(child, &path, found);
            }
        }
        Kind::Boolean => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fire::schema::SchemaDir;

    #[test]
    fn zero_bounds_are_bounds_and_print_as_floats() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("t.json"),
            r#"{"type": "object", "required": ["id"], "properties": {
                "id": {"type": "string"},
                "charge": {"type": "integer", "minimum": 0},
                "pd": {"type": "number", "minimum": 0.0, "maximum": 1.0},
                "isin": {"type": "string", "minLength": 12, "maxLength": 12},
                "ids": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                "who": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
            }}"#,
        )
        .unwrap();
        let entity = SchemaDir::new(dir.path()).entity("t").unwrap();
        let rules: Vec<(String, String, String)> = expectations(&entity)
            .into_iter()
            .map(|e| (e.name, e.expression, e.message))
            .collect();
        let expected = [
            ("[`id`] NULLABLE", "`id` IS NOT NULL", "id is mandatory"),
            (
                "[`charge`] VALUE",
                "`charge` IS NULL OR `charge` >= 0.0",
                "charge must be at least 0",
            ),
            (
                "[`pd`] VALUE",
                "`pd` IS NULL OR `pd` BETWEEN 0.0 AND 1.0",
                "pd must be between 0 and 1",
            ),
            (
                "[`isin`] LENGTH",
                "`isin` IS NULL OR LENGTH(`isin`) BETWEEN 12 AND 12",
                "isin must be exactly 12 characters long",
            ),
            (
                "[`ids`] SIZE",
                "`ids` IS NULL OR SIZE(`ids`) >= 1",
                "ids must hold at least 1 element",
            ),
            (
                "[`who`.`name`] NULLABLE",
                "`who`.`name` IS NOT NULL",
                "who.name is mandatory",
            ),
        ];
        let expected: Vec<(String, String, String)> = expected
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect();
        assert_eq!(rules, expected);
    }
}
