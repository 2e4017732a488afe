//! An object store that counts its requests and their failures, by store, for `/metrics`: the
//! Delta reader and the file server reach every store through it.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use delta_kernel::object_store::path::Path;
use delta_kernel::object_store::{
    CopyOptions, DynObjectStore, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use prometheus::IntCounter;

/// `inner`, counted under `store` (a kind and bucket, never a credential).
pub fn counted(store: &str, inner: Arc<DynObjectStore>) -> Arc<DynObjectStore> {
    let metrics = crate::metrics::metrics();
    Arc::new(Counted {
        inner,
        requests: metrics.store_requests.with_label_values(&[store]),
        errors: metrics.store_errors.with_label_values(&[store]),
    })
}

#[derive(Debug)]
struct Counted {
    inner: Arc<DynObjectStore>,
    requests: IntCounter,
    errors: IntCounter,
}

impl Counted {
    fn count<T>(&self, done: Result<T>) -> Result<T> {
        if failed(&done) {
            self.errors.inc();
        }
        done
    }

    fn count_stream<T: Send + 'static>(
        &self,
        stream: BoxStream<'static, Result<T>>,
    ) -> BoxStream<'static, Result<T>> {
        self.requests.inc();
        let errors = self.errors.clone();
        stream
            .map(move |item| {
                if failed(&item) {
                    errors.inc();
                }
                item
            })
            .boxed()
    }
}

/// An error other than a missing object (which readers ask about on purpose: a Delta log's
/// `_last_checkpoint`, say).
fn failed<T>(done: &Result<T>) -> bool {
    matches!(done, Err(e) if !matches!(e, delta_kernel::object_store::Error::NotFound { .. }))
}

impl fmt::Display for Counted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

#[async_trait::async_trait]
impl ObjectStore for Counted {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.requests.inc();
        self.count(self.inner.put_opts(location, payload, opts).await)
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.requests.inc();
        self.count(self.inner.put_multipart_opts(location, opts).await)
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.requests.inc();
        self.count(self.inner.get_opts(location, options).await)
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.requests.inc();
        self.count(self.inner.get_ranges(location, ranges).await)
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.count_stream(self.inner.delete_stream(locations))
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.count_stream(self.inner.list(prefix))
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.count_stream(self.inner.list_with_offset(prefix, offset))
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.requests.inc();
        self.count(self.inner.list_with_delimiter(prefix).await)
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.requests.inc();
        self.count(self.inner.copy_opts(from, to, options).await)
    }
}
