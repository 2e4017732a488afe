//! Checking rows against an entity's rules, a column at a time: each rule turns one Arrow
//! column into a mask of failing rows in a tight loop; a row passes when no rule failed it.
//! Before any row, the table's columns are checked against the entity: a required column that
//! is missing, or a column whose type cannot hold the FIRE type, is a schema-level error.
//! Data files are read a batch at a time (bounded memory); rows a deletion vector removed do
//! not count.

use std::collections::HashSet;
use std::ops::ControlFlow;

use delta_kernel::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, StructArray};
use delta_kernel::arrow::compute::cast;
use delta_kernel::arrow::datatypes::{DataType, Float64Type, Schema};
use delta_kernel::arrow::util::display::array_value_to_string;
use delta_kernel::parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder;
use futures_util::StreamExt as _;

use super::rules::{Check, Expectation, expectations};
use super::schema::{Entity, Field, Kind};
use crate::delta::{DataFile, DeltaLog, Snapshot};
use crate::storage::{Location, StoredFile, block_on};
use crate::{Error, Result};

/// Failing rows kept per rule, as examples.
pub const SAMPLES_PER_RULE: usize = 20;

/// One failing row: where it is and the value that failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sample {
    /// Row within the data file (after none are skipped: deleted rows are not counted).
    pub row: u64,
    pub file: String,
    /// The failing value as text; `None` for a null.
    pub value: Option<String>,
}

/// What a set of rows came to.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    pub rows: u64,
    pub passing: u64,
    /// Failing rows per rule, in rule order.
    pub failures: Vec<u64>,
    pub samples: Vec<Vec<Sample>>,
}

impl Tally {
    pub fn new(rules: usize) -> Self {
        Tally {
            failures: vec![0; rules],
            samples: vec![Vec::new(); rules],
            ..Tally::default()
        }
    }

    /// Adds another tally of the same rules (another file).
    pub fn add(&mut self, other: &Tally) {
        self.rows += other.rows;
        self.passing += other.passing;
        for (i, n) in other.failures.iter().enumerate() {
            self.failures[i] += n;
            let room = SAMPLES_PER_RULE.saturating_sub(self.samples[i].len());
            self.samples[i].extend(other.samples[i].iter().take(room).cloned());
        }
    }
}

/// The rules of an entity, ready to check batches.
pub struct Validator {
    pub rules: Vec<Expectation>,
    /// Per rule, what its check needs prepared once rather than per batch.
    prepared: Vec<Prepared>,
}

/// A rule's compiled pattern or set of allowed values.
enum Prepared {
    Nothing,
    Pattern(regex::Regex),
    Allowed(HashSet<String>),
}

impl Validator {
    pub fn new(entity: &Entity) -> Result<Self> {
        let rules = expectations(entity);
        let prepared = rules
            .iter()
            .map(|rule| match &rule.check {
                Check::Pattern(p) => regex::Regex::new(p).map(Prepared::Pattern).map_err(|e| {
                    Error::invalid(format!("{}: the pattern does not compile: {e}", rule.name))
                }),
                Check::OneOf(values) => Ok(Prepared::Allowed(values.iter().cloned().collect())),
                _ => Ok(Prepared::Nothing),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Validator { rules, prepared })
    }

    /// Checks `batch` (rows `first_row..` of `file`) and adds what it found to `tally`.
    /// `keep` says which rows count (deletion vectors); `None` keeps all.
    pub fn check(
        &self,
        batch: &RecordBatch,
        file: &str,
        first_row: u64,
        keep: Option<&[bool]>,
        tally: &mut Tally,
    ) {
        let n = batch.num_rows();
        let kept = |i: usize| keep.is_none_or(|k| k.get(i).copied().unwrap_or(true));
        let mut failed = vec![false; n];
        for (index, rule) in self.rules.iter().enumerate() {
            let column = column(batch, &rule.path);
            let mask = self.failing(index, rule, batch, column.as_ref());
            for i in (0..n).filter(|&i| mask[i] && kept(i)) {
                failed[i] = true;
                tally.failures[index] += 1;
                if tally.samples[index].len() < SAMPLES_PER_RULE {
                    tally.samples[index].push(Sample {
                        row: first_row + i as u64,
                        file: file.to_string(),
                        // A missing column reads as null, as the rules see it.
                        value: column
                            .as_ref()
                            .filter(|c| !c.is_null(i))
                            .and_then(|c| array_value_to_string(c, i).ok()),
                    });
                }
            }
        }
        let counted = (0..n).filter(|&i| kept(i));
        let (rows, passing) = counted.fold((0, 0), |(r, p), i| (r + 1, p + u64::from(!failed[i])));
        tally.rows += rows;
        tally.passing += passing;
    }

    /// Which rows of `batch` rule `index` fails; `array` is the rule's column.
    fn failing(
        &self,
        index: usize,
        rule: &Expectation,
        batch: &RecordBatch,
        array: Option<&ArrayRef>,
    ) -> Vec<bool> {
        let n = batch.num_rows();
        let present = |name: &String| column(batch, &rule.path_to(name)).map(|c| non_null(&c, n));
        let Some(array) = array else {
            // An absent column is all nulls.
            return match &rule.check {
                Check::NotNull => vec![true; n],
                Check::ExactlyOne(columns) => exactly_one(columns.iter().map(present), n),
                _ => vec![false; n],
            };
        };
        let nulls = |i: usize| array.is_null(i);
        match &rule.check {
            Check::NotNull => (0..n).map(nulls).collect(),
            Check::OneOf(_) => {
                let Prepared::Allowed(allowed) = &self.prepared[index] else {
                    unreachable!("prepared in new")
                };
                strings(array, n, |s| !allowed.contains(s))
            }
            Check::Length { min, max } => strings(array, n, |s| {
                let chars = s.chars().count() as u64;
                min.is_some_and(|m| chars < m) || max.is_some_and(|m| chars > m)
            }),
            Check::Pattern(_) => {
                let Prepared::Pattern(regex) = &self.prepared[index] else {
                    unreachable!("compiled in new")
                };
                strings(array, n, |s| !regex.is_match(s))
            }
            Check::Range { min, max } => match cast(array, &DataType::Float64) {
                Ok(numbers) => numbers
                    .as_primitive::<Float64Type>()
                    .iter()
                    .map(|x| {
                        x.is_some_and(|x| min.is_some_and(|m| x < m) || max.is_some_and(|m| x > m))
                    })
                    .collect(),
                Err(_) => vec![false; n],
            },
            Check::Size { min, max } => {
                let too = |len: u64| min.is_some_and(|m| len < m) || max.is_some_and(|m| len > m);
                if let Some(list) = array.as_list_opt::<i32>() {
                    (0..n)
                        .map(|i| !list.is_null(i) && too(list.value_length(i) as u64))
                        .collect()
                } else if let Some(list) = array.as_list_opt::<i64>() {
                    (0..n)
                        .map(|i| !list.is_null(i) && too(list.value_length(i) as u64))
                        .collect()
                } else {
                    vec![false; n]
                }
            }
            Check::ExactlyOne(columns) => exactly_one(columns.iter().map(present), n),
            Check::Requires(needed) => {
                let needed: Vec<Option<Vec<bool>>> = needed.iter().map(present).collect();
                (0..n)
                    .map(|i| !nulls(i) && needed.iter().any(|p| !p.as_ref().is_some_and(|p| p[i])))
                    .collect()
            }
        }
    }
}

impl Expectation {
    /// The path of a sibling column of this rule's column.
    fn path_to(&self, name: &str) -> Vec<String> {
        let mut path = self.path[..self.path.len() - 1].to_vec();
        path.push(name.to_string());
        path
    }
}

/// Rows where exactly one of the columns (`None`: absent) is not null fail when it is not so.
fn exactly_one(columns: impl Iterator<Item = Option<Vec<bool>>>, n: usize) -> Vec<bool> {
    let mut present = vec![0u32; n];
    for column in columns.flatten() {
        for (count, here) in present.iter_mut().zip(column) {
            *count += u32::from(here);
        }
    }
    present.into_iter().map(|c| c != 1).collect()
}

fn non_null(array: &ArrayRef, n: usize) -> Vec<bool> {
    (0..n).map(|i| !array.is_null(i)).collect()
}

/// `fails` on each non-null value as text; a column that is not text fails nothing here (its
/// type was checked against the entity before).
fn strings(array: &ArrayRef, n: usize, fails: impl Fn(&str) -> bool) -> Vec<bool> {
    let Ok(text) = cast(array, &DataType::Utf8) else {
        return vec![false; n];
    };
    text.as_string::<i32>()
        .iter()
        .map(|value| value.is_some_and(&fails))
        .collect()
}

/// The column at `path` (a struct's children below its name), with the struct's nulls
/// carried down; `None` when absent.
fn column(batch: &RecordBatch, path: &[String]) -> Option<ArrayRef> {
    let mut current = batch.column_by_name(&path[0])?.clone();
    for name in &path[1..] {
        let parent: &StructArray = current.as_struct_opt()?;
        let child = parent.column_by_name(name)?.clone();
        current = match parent.nulls() {
            // A null parent makes its children null too.
            Some(nulls) => {
                let merged =
                    delta_kernel::arrow::buffer::NullBuffer::union(Some(nulls), child.nulls());
                delta_kernel::arrow::array::make_array(
                    child.to_data().into_builder().nulls(merged).build().ok()?,
                )
            }
            None => child,
        };
    }
    Some(current)
}

/// What stops a table's rows from being checked at all: required columns missing and
/// columns whose type cannot hold the FIRE type.
pub fn schema_errors(entity: &Entity, schema: &Schema) -> Vec<String> {
    let mut errors = Vec::new();
    for field in &entity.fields {
        match schema.field_with_name(&field.name) {
            Err(_) if field.required => {
                errors.push(format!("required column {} is missing", field.name))
            }
            Err(_) => {}
            Ok(column) => type_errors(field, column.data_type(), &field.name, &mut errors),
        }
    }
    errors
}

fn type_errors(field: &Field, data_type: &DataType, path: &str, errors: &mut Vec<String>) {
    use DataType::*;
    let fits = match field.kind {
        Kind::String => matches!(data_type, Utf8 | LargeUtf8 | Utf8View),
        Kind::DateTime => matches!(
            data_type,
            Timestamp(_, _) | Date32 | Date64 | Utf8 | LargeUtf8 | Utf8View
        ),
        // FIRE money is minor units in 64 bits: a narrower column cannot hold it.
        Kind::Integer if field.monetary => matches!(data_type, Int64),
        Kind::Integer => matches!(data_type, Int8 | Int16 | Int32 | Int64),
        Kind::Number => matches!(data_type, Float32 | Float64 | Decimal128(_, _)),
        Kind::Boolean => matches!(data_type, Boolean),
        Kind::Array => matches!(data_type, List(_) | LargeList(_)),
        Kind::Object => matches!(data_type, Struct(_)),
    };
    if !fits {
        errors.push(format!(
            "column {path} is {data_type}, which cannot hold FIRE {:?}{}",
            field.kind,
            if field.monetary {
                " (64-bit money)"
            } else {
                ""
            }
        ));
        return;
    }
    if let Struct(children) = data_type {
        for child in &field.fields {
            match children.iter().find(|c| c.name() == &child.name) {
                None if child.required => {
                    errors.push(format!("required column {path}.{} is missing", child.name))
                }
                None => {}
                Some(c) => type_errors(
                    child,
                    c.data_type(),
                    &format!("{path}.{}", child.name),
                    errors,
                ),
            }
        }
    }
}

/// What a table version's rows came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub version: u64,
    pub tally: Tally,
    /// Problems with the table's columns: when there is any, no row passes.
    pub schema_errors: Vec<String>,
    /// Files read (the others' results were known).
    pub files_read: u64,
}

impl Report {
    /// Passing rows over all rows; 0 with schema errors; 1 for an empty table (nothing fails).
    pub fn pass_rate(&self) -> f64 {
        if !self.schema_errors.is_empty() {
            0.0
        } else if self.tally.rows == 0 {
            1.0
        } else {
            self.tally.passing as f64 / self.tally.rows as f64
        }
    }
}

/// Results of files validated before, so that a version reads only the files added since.
pub trait FileResults {
    fn get(&mut self, file: &DataFile) -> Result<Option<Tally>>;
    fn put(&mut self, file: &DataFile, tally: &Tally) -> Result<()>;
}

/// No memory of earlier files: every file is read.
pub struct ReadAll;

impl FileResults for ReadAll {
    fn get(&mut self, _: &DataFile) -> Result<Option<Tally>> {
        Ok(None)
    }
    fn put(&mut self, _: &DataFile, _: &Tally) -> Result<()> {
        Ok(())
    }
}

/// How far a validation is, after each data file.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub files_done: usize,
    pub files: usize,
    pub rows: u64,
}

/// Reads every data file of `snapshot` not in `known` (rows removed by deletion vectors left
/// out; partition values put back as columns) and checks its rows against `validator`.
pub fn validate_snapshot(
    delta: &DeltaLog,
    location: &Location,
    snapshot: &Snapshot,
    entity: &Entity,
    validator: &Validator,
    known: &mut dyn FileResults,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report> {
    let schema = snapshot.arrow_schema()?;
    let mut report = Report {
        version: snapshot.version(),
        tally: Tally::new(validator.rules.len()),
        schema_errors: schema_errors(entity, &schema),
        files_read: 0,
    };
    if !report.schema_errors.is_empty() {
        return Ok(report);
    }
    let mut files = Vec::new();
    delta.for_each_file(snapshot, |file| {
        files.push(file.clone().into_owned());
        ControlFlow::Continue(())
    })?;
    for (done, file) in files.iter().enumerate() {
        let tally = match known.get(file)? {
            Some(tally) => tally,
            None => {
                let tally = validate_file(delta, location, &schema, file, validator)?;
                known.put(file, &tally)?;
                report.files_read += 1;
                tally
            }
        };
        report.tally.add(&tally);
        progress(Progress {
            files_done: done + 1,
            files: files.len(),
            rows: report.tally.rows,
        });
    }
    Ok(report)
}

/// The tally of one data file.
fn validate_file(
    delta: &DeltaLog,
    location: &Location,
    schema: &Schema,
    file: &DataFile,
    validator: &Validator,
) -> Result<Tally> {
    let unreadable = |e: &dyn std::fmt::Display| {
        Error::malformed(format!("cannot read data file {}: {e}", file.path))
    };
    let opened = StoredFile::open(location, &file.path, file.size)?;
    let mut stream = block_on(ParquetRecordBatchStreamBuilder::new(opened))
        .map_err(|e| unreadable(&e))?
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| unreadable(&e))?;
    let reader = std::iter::from_fn(|| block_on(stream.next()));
    let deleted = match &file.deletion_vector {
        Some(dv) => delta.deleted_rows(location, dv)?,
        None => Vec::new(),
    };
    let mut tally = Tally::new(validator.rules.len());
    let mut first_row = 0u64;
    for batch in reader {
        let batch = with_partition_values(batch.map_err(|e| unreadable(&e))?, schema, file)?;
        let n = batch.num_rows() as u64;
        let keep: Option<Vec<bool>> = (!deleted.is_empty()).then(|| {
            (first_row..first_row + n)
                .map(|row| deleted.binary_search(&row).is_err())
                .collect()
        });
        validator.check(&batch, &file.path, first_row, keep.as_deref(), &mut tally);
        first_row += n;
    }
    Ok(tally)
}

/// Rows read per batch: bounded memory whatever the file size.
const BATCH_ROWS: usize = 64 * 1024;

/// Partition columns are not in the data files: put each back, typed as the table says.
fn with_partition_values(
    batch: RecordBatch,
    schema: &Schema,
    file: &DataFile,
) -> Result<RecordBatch> {
    if file.partition_values.is_empty() {
        return Ok(batch);
    }
    let n = batch.num_rows();
    let mut fields: Vec<_> = batch.schema().fields().iter().cloned().collect();
    let mut columns = batch.columns().to_vec();
    for (name, value) in file.partition_values.iter() {
        if batch.column_by_name(name).is_some() {
            continue;
        }
        let Ok(field) = schema.field_with_name(name) else {
            continue;
        };
        let text: ArrayRef = std::sync::Arc::new(StringArray::from_iter(std::iter::repeat_n(
            value.as_deref(),
            n,
        )));
        let typed = cast(&text, field.data_type()).map_err(|e| {
            Error::malformed(format!(
                "partition value {name}={value:?} of {}: {e}",
                file.path
            ))
        })?;
        fields.push(std::sync::Arc::new(field.clone()));
        columns.push(typed);
    }
    RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), columns)
        .map_err(|e| Error::internal(format!("cannot add partition columns: {e}")))
}
