//! A data file of a table, read in ranges through the table's object store: parquet's readers
//! fetch the footer and the column chunks they need, whatever the store.

use std::io::Read;
use std::sync::Arc;

use bytes::Bytes;
use delta_kernel::object_store::path::Path as ObjectPath;
use delta_kernel::object_store::{DynObjectStore, ObjectStoreExt as _};
use delta_kernel::parquet::errors::ParquetError;
use delta_kernel::parquet::file::reader::{ChunkReader, Length};

use super::{Location, block_on};
use crate::Result;

/// What a reader positioned mid-file fetches at a time (page headers are read this way; page
/// data comes in one exact range).
const READ_AHEAD: u64 = 64 * 1024;

#[derive(Clone)]
pub struct StoredFile {
    objects: Arc<DynObjectStore>,
    path: ObjectPath,
    size: u64,
}

impl StoredFile {
    /// The file at `relative` (decoded, relative to the table root) of `size` bytes.
    pub fn open(location: &Location, relative: &str, size: i64) -> Result<StoredFile> {
        Ok(StoredFile {
            objects: location.store.objects.clone(),
            path: location.object_path(relative)?,
            size: u64::try_from(size).unwrap_or(0),
        })
    }

    fn range(&self, start: u64, end: u64) -> Result<Bytes, ParquetError> {
        block_on(self.objects.get_range(&self.path, start..end))
            .map_err(|e| ParquetError::External(Box::new(e)))
    }
}

impl Length for StoredFile {
    fn len(&self) -> u64 {
        self.size
    }
}

impl ChunkReader for StoredFile {
    type T = Sequential;

    fn get_read(&self, start: u64) -> Result<Sequential, ParquetError> {
        Ok(Sequential {
            file: self.clone(),
            position: start,
            buffer: Bytes::new(),
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> Result<Bytes, ParquetError> {
        self.range(start, start + length as u64)
    }
}

/// Reads a file onward from a position, fetching `READ_AHEAD` bytes at a time.
pub struct Sequential {
    file: StoredFile,
    position: u64,
    buffer: Bytes,
}

impl Read for Sequential {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.buffer.is_empty() && self.position < self.file.size {
            let end = (self.position + READ_AHEAD).min(self.file.size);
            self.buffer = self
                .file
                .range(self.position, end)
                .map_err(std::io::Error::other)?;
            self.position = end;
        }
        let n = out.len().min(self.buffer.len());
        out[..n].copy_from_slice(&self.buffer.split_to(n));
        Ok(n)
    }
}
