//! A data file of a table, read by parquet's async reader through the table's object store:
//! the footer first, then each row group's column chunks in a few coalesced ranges, whatever
//! the store.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use delta_kernel::object_store::path::Path as ObjectPath;
use delta_kernel::object_store::{DynObjectStore, ObjectStore as _, ObjectStoreExt as _};
use delta_kernel::parquet::arrow::arrow_reader::ArrowReaderOptions;
use delta_kernel::parquet::arrow::async_reader::AsyncFileReader;
use delta_kernel::parquet::errors::ParquetError;
use delta_kernel::parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;

use super::Location;
use crate::Result;

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
}

fn parquet_error(e: delta_kernel::object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(e))
}

impl AsyncFileReader for StoredFile {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, Result<Bytes, ParquetError>> {
        async move {
            let bytes = self.objects.get_range(&self.path, range).await;
            bytes.map_err(parquet_error)
        }
        .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, Result<Vec<Bytes>, ParquetError>> {
        async move {
            let bytes = self.objects.get_ranges(&self.path, &ranges).await;
            bytes.map_err(parquet_error)
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, Result<Arc<ParquetMetaData>, ParquetError>> {
        async move {
            let size = self.size;
            let metadata = ParquetMetaDataReader::new()
                .with_arrow_reader_options(options)
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}
