//! A small Delta writer for the demo's sample tables and the benchmarks: parquet data files
//! (with stats) and JSON commits. Append, overwrite and delete-by-file only; readers of what it
//! writes are the kernel and the real Delta clients.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use delta_kernel::arrow::array::{Array, AsArray, RecordBatch};
use delta_kernel::arrow::compute;
use delta_kernel::arrow::datatypes::{
    DataType, Date32Type, Float64Type, Int32Type, Int64Type, Schema, TimeUnit,
};
use delta_kernel::parquet::arrow::ArrowWriter;
use serde_json::{Map, Value, json};

use crate::clock::now_ms;
use crate::{Error, Result};

/// An `add` action for a data file.
#[derive(Debug, Clone)]
pub struct AddFile {
    pub path: String,
    pub size: i64,
    pub partition_values: BTreeMap<String, String>,
    pub stats: Value,
}

/// Writes commits to one table directory.
pub struct TableWriter {
    root: PathBuf,
    next_version: u64,
}

fn io_error(what: &str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::internal(format!("cannot {what} {}: {e}", path.display()))
}

impl TableWriter {
    /// Creates a new table: version 0 holds the protocol and metadata (no data yet), with
    /// `configuration` as the table properties.
    pub fn create(
        root: &Path,
        name: &str,
        description: &str,
        schema: &Schema,
        partition_columns: &[&str],
        configuration: &[(&str, &str)],
    ) -> Result<Self> {
        let log = root.join("_delta_log");
        std::fs::create_dir_all(&log).map_err(|e| io_error("create", &log, e))?;
        let mut writer = TableWriter {
            root: root.to_path_buf(),
            next_version: 0,
        };
        let metadata = json!({"metaData": {
            "id": uuid::Uuid::new_v4().to_string(),
            "name": name,
            "description": description,
            "format": {"provider": "parquet", "options": {}},
            "schemaString": delta_schema(schema)?.to_string(),
            "partitionColumns": partition_columns,
            "configuration": configuration.iter().copied().collect::<BTreeMap<_, _>>(),
            "createdTime": now_ms(),
        }});
        let protocol = json!({"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}});
        writer.commit_actions("CREATE TABLE", vec![protocol, metadata])?;
        Ok(writer)
    }

    /// Writes `batch` (without partition columns) as one parquet file in the partition
    /// directory given by `partition` and returns its `add` action.
    pub fn write_file(&self, batch: &RecordBatch, partition: &[(&str, &str)]) -> Result<AddFile> {
        let dir: PathBuf = partition.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let relative = dir.join(format!(
            "part-00000-{}.snappy.parquet",
            uuid::Uuid::new_v4()
        ));
        let path = self.root.join(&relative);
        std::fs::create_dir_all(path.parent().expect("has a parent"))
            .map_err(|e| io_error("create", &path, e))?;
        let file = File::create(&path).map_err(|e| io_error("create", &path, e))?;
        let props = delta_kernel::parquet::file::properties::WriterProperties::builder()
            .set_compression(delta_kernel::parquet::basic::Compression::SNAPPY)
            .build();
        let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props))
            .map_err(|e| io_error("write", &path, e))?;
        writer
            .write(batch)
            .map_err(|e| io_error("write", &path, e))?;
        writer.close().map_err(|e| io_error("write", &path, e))?;
        let size = std::fs::metadata(&path)
            .map_err(|e| io_error("stat", &path, e))?
            .len() as i64;
        Ok(AddFile {
            path: relative.to_string_lossy().into_owned(),
            size,
            partition_values: partition
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            stats: file_stats(batch),
        })
    }

    /// Commits the adds and removes (paths of files to drop) as the next version.
    pub fn commit(
        &mut self,
        operation: &str,
        adds: &[AddFile],
        removes: &[AddFile],
    ) -> Result<u64> {
        let now = now_ms();
        let mut actions = Vec::with_capacity(adds.len() + removes.len());
        for r in removes {
            actions.push(json!({"remove": {
                "path": encode_path(&r.path), "deletionTimestamp": now, "dataChange": true,
                "extendedFileMetadata": true, "partitionValues": r.partition_values, "size": r.size,
            }}));
        }
        for a in adds {
            actions.push(json!({"add": {
                "path": encode_path(&a.path), "partitionValues": a.partition_values, "size": a.size,
                "modificationTime": now, "dataChange": true, "stats": a.stats.to_string(),
            }}));
        }
        self.commit_actions(operation, actions)
    }

    /// Commits raw actions (a new `protocol` or `metaData`, say) as the next version.
    pub fn commit_actions(&mut self, operation: &str, actions: Vec<Value>) -> Result<u64> {
        let version = self.next_version;
        let path = self
            .root
            .join("_delta_log")
            .join(format!("{version:020}.json"));
        let mut text = json!({"commitInfo": {"timestamp": now_ms(), "operation": operation, "engineInfo": concat!("fireshare/", env!("CARGO_PKG_VERSION"))}}).to_string();
        text.push('\n');
        for action in actions {
            text.push_str(&action.to_string());
            text.push('\n');
        }
        // create_new: a commit is never overwritten (Delta's mutual exclusion on the log).
        let mut file = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| io_error("write commit", &path, e))?;
        file.write_all(text.as_bytes())
            .map_err(|e| io_error("write commit", &path, e))?;
        file.sync_all()
            .map_err(|e| io_error("write commit", &path, e))?;
        self.next_version += 1;
        Ok(version)
    }
}

/// Paths in the log are URIs relative to the table root.
fn encode_path(path: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'=');
    percent_encoding::utf8_percent_encode(path, KEEP).to_string()
}

/// The Delta `schemaString` of an Arrow schema (the types the writer supports).
fn delta_schema(schema: &Schema) -> Result<Value> {
    let fields = schema
        .fields()
        .iter()
        .map(|f| {
            let data_type = delta_type(f.data_type())?;
            Ok(json!({"name": f.name(), "type": data_type, "nullable": f.is_nullable(), "metadata": {}}))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(json!({"type": "struct", "fields": fields}))
}

fn delta_type(data_type: &DataType) -> Result<Value> {
    Ok(match data_type {
        DataType::Int64 => json!("long"),
        DataType::Int32 => json!("integer"),
        DataType::Float64 => json!("double"),
        DataType::Boolean => json!("boolean"),
        DataType::Utf8 => json!("string"),
        DataType::Date32 => json!("date"),
        DataType::Timestamp(TimeUnit::Microsecond, Some(_)) => json!("timestamp"),
        DataType::Decimal128(p, s) => json!(format!("decimal({p},{s})")),
        DataType::List(item) => json!({
            "type": "array",
            "elementType": delta_type(item.data_type())?,
            "containsNull": item.is_nullable(),
        }),
        other => {
            return Err(Error::internal(format!(
                "the demo writer cannot store {other}"
            )));
        }
    })
}

/// `numRecords`, `minValues`, `maxValues`, `nullCount` for the columns whose min/max the
/// predicate evaluator uses.
fn file_stats(batch: &RecordBatch) -> Value {
    let (mut min, mut max, mut nulls) = (Map::new(), Map::new(), Map::new());
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        nulls.insert(field.name().clone(), json!(column.null_count()));
        let range = match field.data_type() {
            DataType::Int64 => {
                let a = column.as_primitive::<Int64Type>();
                compute::min(a)
                    .zip(compute::max(a))
                    .map(|(l, h)| (json!(l), json!(h)))
            }
            DataType::Int32 => {
                let a = column.as_primitive::<Int32Type>();
                compute::min(a)
                    .zip(compute::max(a))
                    .map(|(l, h)| (json!(l), json!(h)))
            }
            DataType::Float64 => {
                let a = column.as_primitive::<Float64Type>();
                compute::min(a)
                    .zip(compute::max(a))
                    .map(|(l, h)| (json!(l), json!(h)))
            }
            DataType::Utf8 => {
                let a = column.as_string::<i32>();
                compute::min_string(a)
                    .zip(compute::max_string(a))
                    .map(|(l, h)| (json!(l), json!(h)))
            }
            DataType::Date32 => {
                let a = column.as_primitive::<Date32Type>();
                let day = |d: i32| {
                    chrono::DateTime::from_timestamp(d as i64 * 86_400, 0)
                        .map(|t| t.format("%Y-%m-%d").to_string())
                };
                compute::min(a)
                    .zip(compute::max(a))
                    .map(|(l, h)| (json!(day(l)), json!(day(h))))
            }
            _ => None,
        };
        if let Some((l, h)) = range {
            min.insert(field.name().clone(), l);
            max.insert(field.name().clone(), h);
        }
    }
    json!({"numRecords": batch.num_rows(), "minValues": min, "maxValues": max, "nullCount": nulls})
}
